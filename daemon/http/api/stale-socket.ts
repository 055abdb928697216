import { lstat, unlink } from 'node:fs/promises'
import { connect } from 'node:net'
import { FerryError } from '../../../store/index.js'

/** How long a listening socket has to accept a connection before it counts as gone. */
const PROBE_MS = 1000

/** Whether a process accepts connections on the unix socket at `path` now. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const socket = connect(path)
    const done = (alive: boolean) => {
      socket.destroy()
      resolve(alive)
    }
    socket.setTimeout(PROBE_MS, () => done(true))
    socket.once('connect', () => done(true))
    socket.once('error', (err: NodeJS.ErrnoException) => {
      socket.destroy()
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') resolve(false)
      else reject(err)
    })
  })
}

/**
 * Removes the socket file a crashed daemon left at `path`, so that a new one
 * can listen there. Refuses (ERR_STORE_LOCKED) when a process still answers
 * on it, and (ERR_INVALID_ARGUMENT) when the path is something else than a socket.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (info === undefined) return
  if (!info.isSocket()) {
    throw new FerryError('ERR_INVALID_ARGUMENT', `${path} exists and is not a socket: not removing it`)
  }
  if (await answers(path)) {
    throw new FerryError('ERR_STORE_LOCKED', `another ferry daemon answers on ${path}`)
  }
  await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'ENOENT') throw err
  })
}
