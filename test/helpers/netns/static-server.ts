import { createReadStream, statSync } from 'node:fs'
import { createServer } from 'node:http'
import { join, normalize } from 'node:path'

/*
 * A tiny read-only HTTP file server, run as its own process inside a test
 * host (`ip netns exec NS node static-server.js ROOT PORT`): the scenario's
 * "internet" web server for binaries and the apt repository. Prints
 * `listening` once bound, then `ADDRESS METHOD PATH` for every request (who
 * asked: the scenarios check no cluster machine did).
 */

const [root, port] = process.argv.slice(2)
if (root === undefined || port === undefined) {
  process.stderr.write('usage: static-server.js ROOT PORT\n')
  process.exit(2)
}
const server = createServer((req, res) => {
  process.stdout.write(`${req.socket.remoteAddress} ${req.method} ${req.url}\n`)
  const path = normalize(decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname))
  if (path.split('/').includes('..')) return void res.writeHead(404).end()
  const file = join(root, path)
  let size: number
  try {
    const st = statSync(file)
    if (!st.isFile()) return void res.writeHead(404).end()
    size = st.size
  } catch {
    return void res.writeHead(404).end()
  }
  res.writeHead(200, { 'content-length': size })
  if (req.method === 'HEAD') return void res.end()
  createReadStream(file).pipe(res)
})
server.listen(Number(port), '0.0.0.0', () => process.stdout.write('listening\n'))
process.once('SIGTERM', () => server.close(() => process.exit(0)))
