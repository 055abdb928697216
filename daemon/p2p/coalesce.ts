/**
 * Wraps `work` so that calls never overlap: a call while it runs is answered
 * by one more run right after (however many calls came meanwhile), since
 * that run sees every change they were made for. `stopped()` ends the reruns.
 */
export function coalesce(
  work: () => Promise<void>,
  stopped: () => boolean = () => false,
): () => Promise<void> {
  let running: Promise<void> | undefined
  let again = false
  return () => {
    if (running !== undefined) {
      again = true
      return running
    }
    const loop = async () => {
      do {
        again = false
        await work()
      } while (again && !stopped())
    }
    running = loop().finally(() => {
      running = undefined
    })
    return running
  }
}
