/*
 * `npm run bench -- serve` (issue 15): ferry's serving port against what a
 * repository would run instead, on 127.0.0.1, in interleaved runs:
 *
 * - one blob (about BENCH_SERVE_MIB, default 1 GiB) to one client (`curl -o
 *   /dev/null`): from ferry's `/v2/`, from Debian's `docker-registry`
 *   serving the same blob from its filesystem storage, and from nginx
 *   serving the blob's file with sendfile (the near-limit);
 * - 50 clients at once pulling every blob of a 256 MiB image (BENCH_SERVE_IMAGE_MIB; each blob
 *   hashed and checked against its digest as it arrives): aggregate MiB/s
 *   from ferry and from docker-registry, and the ferry daemon's peak RSS;
 * - `Packages` of a 2,000-package head: generated, then cached.
 *
 * The images are pushed to docker-registry with skopeo and downloaded into a
 * ferry store with `ferry download`, so both serve the same bytes.
 */
import { availableParallelism } from 'node:os'
import { join } from 'node:path'
import { table } from '../cli/output.js'
import { spawnServingDaemon } from '../test/helpers/ferry-daemon.js'
import type { Teardown } from '../test/helpers/store.js'
import { FERRY_ENV, ferryJson, withDaemonLaunchEnv } from './ferry.js'
import { machineFacts, measured, median, requireProgram } from './measure.js'
import { machineCpuSeconds, peakRssKiB } from './proc.js'
import { pullRound } from './serve-clients.js'
import { verifiedRead } from './serve-floor.js'
import { PACKAGES, packagesTimes } from './serve-packages.js'
import { type PushedImage, pushedImage, startNginx } from './serve-setup.js'
import { withTempDir } from './temp.js'

const MiB = 1024 * 1024
const RUNS = Number(process.env.BENCH_SERVE_RUNS ?? 3)
const CLIENTS = 50
const DAEMON_RSS_GOAL_MIB = 200
const PACKAGES_GOAL_MS = 1000

function log(message: string): void {
  process.stderr.write(`bench serve: ${message}\n`)
}

/** `curl -s -o /dev/null URL` under GNU time: wall seconds, and the CPU seconds of the whole machine meanwhile (server and client). */
async function curlRun(url: string): Promise<{ seconds: number; cpu: number }> {
  const before = await machineCpuSeconds()
  const run = await measured('curl', ['-sS', '-f', '-o', '/dev/null', url])
  return { seconds: run.wallSeconds, cpu: (await machineCpuSeconds()) - before }
}

const rate = (bytes: number, seconds: number) => bytes / MiB / seconds

export async function serveBench(): Promise<void> {
  await requireProgram('nginx', ['-v'], 'apt-get install -y nginx-light')
  await requireProgram('skopeo', ['--version'], 'apt-get install -y skopeo')
  const mib = Number(process.env.BENCH_SERVE_MIB ?? 1024)
  const imageMib = Number(process.env.BENCH_SERVE_IMAGE_MIB ?? 256)
  const teardowns: Array<() => Promise<void> | void> = []
  const t: Teardown = { teardown: (fn) => void teardowns.push(fn) }
  try {
    await withTempDir('ferry-bench-serve-', async (work) => {
      const store = join(work, 'store')
      await ferryJson(['init', '--store', store])
      log(`building and pushing a one-layer image of ~${mib} MiB and a 4-layer image of ${imageMib} MiB`)
      const big = await pushedImage(t, work, store, 'big', { layers: 1, bytes: mib * MiB })
      const many = await pushedImage(
        t,
        work,
        store,
        'many',
        { layers: 4, bytes: imageMib * MiB },
        big.registry,
      )
      const nginx = await startNginx(t, join(work, 'nginx'), join(big.layout, 'blobs'))
      const bigBlob = big.blobs.reduce((a, b) => (a.size >= b.size ? a : b))
      const verify = await verifiedRead(store, bigBlob.digest)
      log(
        `reading and verifying the blob alone (no sending): ${verify.seconds.toFixed(2)} s, ${verify.cpu.toFixed(2)} CPU s`,
      )
      const { daemon, url } = await spawnServingDaemon(store, [], { t, env: withDaemonLaunchEnv(FERRY_ENV) })

      const blob = bigBlob
      const paths = {
        ferry: `${url}/v2/${big.name}/blobs/${blob.digest}`,
        registry: `${big.registry.url}/v2/${big.name}/blobs/${blob.digest}`,
        nginx: `${nginx.url}/sha256/${blob.digest.slice(7)}`,
      }
      // Every source checked once (not timed): the same bytes.
      for (const [who, base] of [
        ['ferry', url],
        ['registry', big.registry.url],
      ] as const) {
        const check = await pullRound(base, big.name, [blob], 1)
        if (check.wrong > 0) throw new Error(`${who} served a blob that does not match its digest`)
      }
      const one: Record<keyof typeof paths, number[]> = { ferry: [], registry: [], nginx: [] }
      const registryCpu: number[] = []
      for (let i = 1; i <= RUNS; i++) {
        for (const who of ['ferry', 'registry', 'nginx'] as const) {
          const run = await curlRun(paths[who])
          one[who].push(run.seconds)
          if (who === 'registry') registryCpu.push(run.cpu)
        }
        log(
          `one blob ${i}/${RUNS}: ferry ${one.ferry[i - 1].toFixed(2)} s, registry ${one.registry[i - 1].toFixed(2)} s, nginx ${one.nginx[i - 1].toFixed(2)} s`,
        )
      }

      const rounds = { ferry: [] as number[], registry: [] as number[] }
      // CPU seconds a GiB of the machine besides the clients (this process): the server's, mostly.
      const serverCpu = { ferry: [] as number[], registry: [] as number[] }
      let wrong = 0
      for (let i = 1; i <= RUNS; i++) {
        for (const [who, base] of [
          ['ferry', url],
          ['registry', many.registry.url],
        ] as const) {
          const machineBefore = await machineCpuSeconds()
          const ownBefore = process.cpuUsage()
          const round = await pullRound(base, many.name, many.blobs, CLIENTS)
          const own = process.cpuUsage(ownBefore)
          const others = (await machineCpuSeconds()) - machineBefore - (own.user + own.system) / 1e6
          wrong += round.wrong
          rounds[who].push(rate(round.bytes, round.seconds))
          serverCpu[who].push(others / (round.bytes / 2 ** 30))
        }
        log(
          `${CLIENTS} clients ${i}/${RUNS}: ferry ${rounds.ferry[i - 1].toFixed(0)} MiB/s, registry ${rounds.registry[i - 1].toFixed(0)} MiB/s`,
        )
      }
      const rss = ((await peakRssKiB(daemon.pid)) ?? Number.NaN) / 1024
      await daemon.stop()
      const apt = await packagesTimes(work)
      log(
        `Packages of ${PACKAGES} packages: ${apt.firstMs.toFixed(0)} ms generated, ${apt.cachedMs.toFixed(1)} ms cached`,
      )

      const blobMiB = blob.size / MiB
      const oneRate = (who: keyof typeof one) => blobMiB / median(one[who])
      const ferryOne = oneRate('ferry')
      const ferryMany = median(rounds.ferry)
      const verdict = (x: number, goal: number) =>
        `${x.toFixed(2)} (≥ ${goal.toFixed(1)}: ${x >= goal ? 'met' : 'NOT met'})`
      const rows = [
        ['case', 'ferry', 'docker-registry', 'nginx (sendfile)', 'ferry / registry', 'ferry / nginx'],
        [
          `one ${blobMiB.toFixed(0)} MiB blob, one client`,
          `${ferryOne.toFixed(0)} MiB/s`,
          `${oneRate('registry').toFixed(0)} MiB/s`,
          `${oneRate('nginx').toFixed(0)} MiB/s`,
          verdict(ferryOne / oneRate('registry'), 1.0),
          verdict(ferryOne / oneRate('nginx'), 0.5),
        ],
        [
          `${CLIENTS} clients, ${(many.bytes / MiB).toFixed(0)} MiB image each`,
          `${ferryMany.toFixed(0)} MiB/s`,
          `${median(rounds.registry).toFixed(0)} MiB/s`,
          '',
          verdict(ferryMany / median(rounds.registry), 1.0),
          '',
        ],
      ]
      const machine = machineFacts()
      process.stdout.write(
        `ferry serve benchmark, ${machine.date}: ${machine.cpus} CPUs (${machine.cpuModel}), node ${machine.node}, ${RUNS} interleaved runs each, medians\n`,
      )
      process.stdout.write(`${table(rows)}\n`)
      // The least ferry can take: the registry's run (server and curl) plus reading and verifying, over the cores.
      const leastSeconds = (median(registryCpu) + verify.cpu) / availableParallelism()
      const floorRate = blobMiB / leastSeconds
      process.stdout.write(
        `${CLIENTS} clients: CPU seconds a GiB besides the clients' own: ferry ${median(serverCpu.ferry).toFixed(2)}, docker-registry ${median(serverCpu.registry).toFixed(2)} (ferry verifies every block it sends; the registry sends its files as they are)\n`,
      )
      process.stdout.write(
        `floor, one client: the registry's run uses ${median(registryCpu).toFixed(2)} CPU s (server and curl), reading and verifying the blob ${verify.cpu.toFixed(2)} more (${verify.seconds.toFixed(2)} s alone); over ${availableParallelism()} cores ferry needs at least ${leastSeconds.toFixed(2)} s: ${floorRate.toFixed(0)} MiB/s, at best ${(floorRate / oneRate('registry')).toFixed(2)}× docker-registry\n`,
      )
      process.stdout.write(
        `ferry daemon peak RSS (VmHWM, serving only): ${rss.toFixed(0)} MiB (≤ ${DAEMON_RSS_GOAL_MIB}: ${rss <= DAEMON_RSS_GOAL_MIB ? 'met' : 'NOT met'}); blobs that did not match their digest: ${wrong}\n`,
      )
      const aptVerdict = apt.firstMs <= PACKAGES_GOAL_MS ? 'met' : 'NOT met'
      process.stdout.write(
        `Packages of a ${PACKAGES}-package head (${(apt.bytes / 1024).toFixed(0)} KiB): generated in ${apt.firstMs.toFixed(0)} ms (≤ ${PACKAGES_GOAL_MS}: ${aptVerdict}), then ${apt.cachedMs.toFixed(1)} ms from the cache\n`,
      )
      process.stdout.write(
        `BENCH_JSON ${JSON.stringify({ bench: 'serve', machine, runs: RUNS, clients: CLIENTS, one, rounds, serverCpu, daemonPeakRssMiB: rss, wrong, apt, verify, registryCpu })}\n`,
      )
    })
  } finally {
    for (const fn of teardowns.reverse()) await fn()
  }
}

export type { PushedImage }
