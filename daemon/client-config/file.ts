/** One file a cluster machine needs: where it goes there, what it holds, its mode. */
export interface ClientConfigFile {
  /** Its absolute path on the cluster machine (`/etc/docker/daemon.json`); `--out DIR` writes it at DIR + path. */
  path: string
  content: string
  /** Its file mode: 0600 for files holding the token, else 0644. */
  mode: number
  /** What it is for and how to install it, one line. */
  about: string
}

/** What every generator is given: everything already read and checked. */
export interface ClientConfigInput {
  endpoint: import('./endpoint.js').ServeEndpoint
  /** The serving port's token (`--serve-token`), if it has one. */
  token?: string
  /** A CA certificate (PEM) the serving port's TLS certificate chains to, when not in the system's store. */
  ca?: string
  /** Accept the serving port's certificate unverified (a self-signed one without its CA). */
  skipVerify?: boolean
}

/** Mode of a file that holds a secret. */
export const SECRET = 0o600
/** Mode of every other file. */
export const PUBLIC = 0o644

/** Text ending with one newline. */
export const lines = (...text: string[]): string => `${text.join('\n')}\n`
