import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

/**
 * A full garbage collection, or undefined where V8 will not give one. The
 * flag only lets a new context see `gc`; nothing else changes.
 */
function fullCollection(): (() => void) | undefined {
  try {
    setFlagsFromString('--expose-gc')
    const gc: unknown = runInNewContext('gc')
    return typeof gc === 'function' ? (gc as () => void) : undefined
  } catch {
    return undefined
  }
}

let collect: (() => void) | undefined | null = null
let since = 0

/** Collect after this many bytes of dropped buffers. */
const EVERY = 8 * 1024 * 1024

/**
 * Notes that this thread has just dropped `bytes` of buffers (a patch's
 * target and base), and collects once 8 MiB have piled up. Patches go
 * through megabytes of short-lived buffers outside the JavaScript heap,
 * which V8 only collects after about 64 MiB more of them, per thread: with
 * the patch threads that is a third of an export's peak memory, garbage.
 */
export function dropped(bytes: number): void {
  since += bytes
  if (since < EVERY) return
  since = 0
  if (collect === null) collect = fullCollection()
  collect?.()
}
