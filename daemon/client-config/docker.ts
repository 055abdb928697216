/**
 * dockerd's settings for the serving port: `registry-mirrors` (dockerd asks
 * a mirror only for docker.io images: `docker pull busybox:1.36` unchanged),
 * `insecure-registries` for plain HTTP (or an unverified certificate), the
 * CA in `certs.d`, and the token as a `docker login` entry of the docker CLI
 * (dockerd sends no credentials to a mirror: only pulls by HOST:PORT/NAME
 * carry it).
 */
import { type ClientConfigFile, type ClientConfigInput, PUBLIC, SECRET } from './file.js'

/** The files of `--for docker`. */
export function dockerConfig(input: ClientConfigInput): ClientConfigFile[] {
  const { endpoint, token, ca, skipVerify } = input
  const insecure = !endpoint.tls || skipVerify === true
  const daemon = {
    'registry-mirrors': [endpoint.origin],
    ...(insecure ? { 'insecure-registries': [endpoint.host] } : {}),
  }
  const files: ClientConfigFile[] = [
    {
      path: '/etc/docker/daemon.json',
      content: `${JSON.stringify(daemon, null, 2)}\n`,
      mode: PUBLIC,
      about:
        'dockerd: merge into an existing daemon.json, then `systemctl restart docker`; docker.io images by their own names, others by ' +
        `${endpoint.host}/NAME:TAG`,
    },
  ]
  if (ca !== undefined && endpoint.tls)
    files.push({
      path: `/etc/docker/certs.d/${endpoint.host}/ca.crt`,
      content: ca.endsWith('\n') ? ca : `${ca}\n`,
      mode: PUBLIC,
      about: `dockerd trusts the serving port's certificate for ${endpoint.host} (read on each pull, no restart)`,
    })
  if (token !== undefined)
    files.push({
      path: '/root/.docker/config.json',
      content: `${JSON.stringify({ auths: { [endpoint.host]: { auth: Buffer.from(`ferry:${token}`).toString('base64') } } }, null, 2)}\n`,
      mode: SECRET,
      about:
        `the docker CLI's login to ${endpoint.host} (as \`docker login\` writes it; merge into an existing one): ` +
        `pulls by ${endpoint.host}/NAME carry the token, pulls through registry-mirrors do not (use --serve-allow for them)`,
    })
  return files
}
