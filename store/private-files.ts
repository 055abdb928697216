import { isMainThread } from 'node:worker_threads'

/**
 * While a store is open in this process, files and folders are created
 * private to its user (umask 077): LevelDB makes its tables, logs and
 * manifests itself, in background threads, at any time, and packs are
 * appended to and created as the store works. The process's own umask comes
 * back when the last store closes, so files a command writes for others
 * afterwards (client configs, bundles) keep their modes. Worker threads
 * cannot change the umask, and open no store.
 */
let holds = 0
let saved: number | undefined

/** Takes a hold on umask 077 (set at the first hold); release it once. */
export function holdPrivateFiles(): () => void {
  if (!isMainThread) return () => {}
  if (holds++ === 0) {
    saved = process.umask(0o077)
    process.umask(saved | 0o077)
  }
  let released = false
  return () => {
    if (released) return
    released = true
    if (--holds === 0 && saved !== undefined) {
      process.umask(saved)
      saved = undefined
    }
  }
}
