/*
 * `npm run bench -- serve-registry` (issue 15): one image layer (a blob of
 * BENCH_SERVE_MIB MiB, default 128) fetched with curl from `ferry daemon
 * --serve` (`/v2/…/blobs/<digest>`, from the store's blocks, verified) and
 * from Debian's docker-registry (distribution, from a plain file) holding
 * the same blob; interleaved runs (BENCH_SERVE_RUNS each, default 9),
 * medians. Everything on 127.0.0.1.
 */
import { execFile } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { ferry } from '../test/helpers/cli.js'
import { spawnServingDaemon } from '../test/helpers/ferry-daemon.js'
import { writeOciLayout } from '../test/helpers/services/oci-layout.js'
import { pushLayout, startRegistry } from '../test/helpers/services/registry.js'
import { median } from './measure.js'
import { withTempDir } from './temp.js'

const run = promisify(execFile)
const MiB = 1024 * 1024
const SIZE_MIB = Number(process.env.BENCH_SERVE_MIB ?? 128)
const RUNS = Number(process.env.BENCH_SERVE_RUNS ?? 9)

function log(message: string): void {
  process.stderr.write(`bench serve-registry: ${message}\n`)
}

/** `curl -o /dev/null` of `url`: seconds; an answer of another size than `bytes` is an error. */
async function fetchOnce(url: string, bytes: number): Promise<number> {
  const { stdout } = await run('curl', [
    '-sS',
    '--fail',
    '-o',
    '/dev/null',
    '-w',
    '%{time_total} %{size_download}',
    url,
  ])
  const [seconds, size] = stdout.split(' ').map(Number)
  if (size !== bytes) throw new Error(`${url}: ${size} bytes, not ${bytes}`)
  return seconds
}

export async function serveRegistryBench(): Promise<void> {
  const stops: Array<() => Promise<void> | void> = []
  const t = { teardown: (fn: () => Promise<void> | void) => void stops.push(fn) }
  await withTempDir('ferry-bench-serve-', async (work) => {
    try {
      // One layer of three random files: gzip leaves random bytes their size.
      const built = await writeOciLayout(join(work, 'layout'), '1', {
        platforms: ['linux/amd64'],
        layers: 1,
        layerBytes: Math.floor((SIZE_MIB * MiB) / 3),
      })
      const layer = built.platforms.get('linux/amd64')!.layers[0]
      built.blobs.clear()
      const registry = await startRegistry(t, join(work, 'registry'))
      await pushLayout(registry, join(work, 'layout'), '1', 'bench/big')
      const store = join(work, 'store')
      await ferry(['init', '--store', store])
      const requirements = join(work, 'image.yaml')
      await writeFile(
        requirements,
        `module: bench\nversion: "1"\nimages:\n  - ref: ${registry.host}/bench/big:1\n`,
      )
      const download = await ferry([
        'download',
        requirements,
        '--name',
        'bench',
        '--version',
        '1',
        '--store',
        store,
      ])
      if (download.code !== 0) throw new Error(`ferry download: ${download.stderr}`)
      const serving = await spawnServingDaemon(store, [], { t })
      const urls: Array<[string, string]> = [
        ['ferry --serve', `${serving.url}/v2/bench/big/blobs/${layer.digest}`],
        ['docker-registry', `${registry.url}/v2/bench/big/blobs/${layer.digest}`],
      ]
      log(`blob ${layer.digest}, ${(layer.size / MiB).toFixed(1)} MiB, ${RUNS} runs each, interleaved`)
      const times = new Map<string, number[]>(urls.map(([name]) => [name, []]))
      for (let i = 0; i < RUNS; i++)
        for (const [name, url] of urls) times.get(name)!.push(await fetchOnce(url, layer.size))
      const speed = (name: string) => layer.size / MiB / median(times.get(name)!)
      for (const [name] of urls)
        process.stdout.write(
          `${name.padEnd(16)} median ${median(times.get(name)!).toFixed(3)} s  ${speed(name).toFixed(0)} MiB/s  (runs: ${times
            .get(name)!
            .map((s) => s.toFixed(3))
            .join(' ')})\n`,
        )
      process.stdout.write(
        `ferry / docker-registry: ${(speed(urls[0][0]) / speed(urls[1][0])).toFixed(2)}x\n`,
      )
    } finally {
      for (const stop of stops.reverse()) await stop()
    }
  })
}
