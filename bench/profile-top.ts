/*
 * `npm run bench -- profile-top FILE.cpuprofile... [N]`: the N functions
 * (default 25) with the most self time in V8 CPU profiles (node --cpu-prof,
 * one file a thread), so that profile figures quoted in RESULTS.md come from
 * a command in the repository. Time is wall time sampled on the thread:
 * a function the thread was descheduled in counts too.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'

interface ProfileNode {
  id: number
  callFrame: { functionName: string; url: string; lineNumber: number }
}

interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

/** Self milliseconds by `function file:line`, largest first. */
export function selfTimes(profile: CpuProfile): Array<[string, number]> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame
    if (frame === undefined) return
    const file = frame.url.split('/').slice(-2).join('/')
    const key = `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber}`
    totals.set(key, (totals.get(key) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000)
  })
  return [...totals].sort((a, b) => b[1] - a[1])
}

export async function profileTopBench(): Promise<void> {
  const args = process.argv.slice(3)
  const count = /^\d+$/.test(args.at(-1) ?? '') ? Number(args.pop()) : 25
  if (args.length === 0) throw new Error('usage: npm run bench -- profile-top FILE.cpuprofile... [N]')
  for (const file of args) {
    const times = selfTimes(JSON.parse(await readFile(file, 'utf8')) as CpuProfile)
    const total = times.reduce((sum, [, ms]) => sum + ms, 0)
    process.stdout.write(`${basename(file)}: ${total.toFixed(0)} ms sampled\n`)
    for (const [name, ms] of times.slice(0, count))
      process.stdout.write(`${ms.toFixed(0).padStart(8)}  ${name}\n`)
  }
}
