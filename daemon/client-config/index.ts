/**
 * `ferry client-config --for docker|containerd|apt`: the settings that make a
 * cluster machine take images and packages from the serving port
 * (`ferry daemon --serve`). Pure functions of what the command read: the
 * serving URL, the head, the token, the CA, the apt key; they return the
 * files with their paths on the cluster machine, and write nothing.
 */
import { FerryError } from '../../store/index.js'
import { type AptConfigInput, aptConfig } from './apt.js'
import { containerdConfig } from './containerd.js'
import { dockerConfig } from './docker.js'
import { parseServeUrl } from './endpoint.js'
import type { ClientConfigFile } from './file.js'

export { APT_CA, APT_KEYRING, aptConfig, aptPath } from './apt.js'
export { CERTS_D, containerdConfig } from './containerd.js'
export { dockerConfig } from './docker.js'
export { parseServeUrl, type ServeEndpoint } from './endpoint.js'
export type { ClientConfigFile, ClientConfigInput } from './file.js'

/** The kinds of cluster machine configuration ferry writes. */
export const CLIENT_TARGETS = ['docker', 'containerd', 'apt'] as const
export type ClientTarget = (typeof CLIENT_TARGETS)[number]

/** Everything `ferry client-config` was given, read but not yet checked. */
export interface ClientConfigRequest {
  target: string
  url: string
  /** apt: the head whose repository to use (`NAME` or `NAME@VERSION`). */
  head?: string
  /** apt: the repository key, armored. */
  key?: string
  token?: string
  ca?: string
  skipVerify?: boolean
  /** containerd: the registries ferry stands in for (default docker.io). */
  mirrors?: string[]
}

const invalid = (flag: string, message: string, details: Record<string, unknown> = {}) =>
  new FerryError('ERR_INVALID_ARGUMENT', `${flag} ${message}`, { details: { flag, ...details } })

/** Whether `text` names a client-config target. */
export function isClientTarget(text: string): text is ClientTarget {
  return (CLIENT_TARGETS as readonly string[]).includes(text)
}

/** Checks `--for`; ERR_INVALID_ARGUMENT lists the targets. */
export function checkTarget(text: string): ClientTarget {
  if (!isClientTarget(text))
    throw invalid('--for', `${text}: expected one of ${CLIENT_TARGETS.join(', ')}`, { value: text })
  return text
}

/** Checks `--head` for apt: one head name, optionally `@VERSION`, as `/apt/HEAD/` takes it. */
export function checkHead(head: string | undefined): string {
  if (head === undefined || head === '')
    throw invalid('--head', 'is needed for --for apt: the apt repository is per head (/apt/HEAD/)')
  if (/[\s/\u0000-\u001f\u007f]/.test(head) || head.startsWith('@') || head.endsWith('@'))
    throw invalid(
      '--head',
      `${JSON.stringify(head)}: expected a head name (or NAME@VERSION), no spaces or /`,
      {
        value: head,
      },
    )
  return head
}

/** A registry host for `--mirror` (docker.io for Docker Hub's other spellings). */
export function checkMirror(text: string): string {
  const host = text.trim().toLowerCase()
  if (['index.docker.io', 'registry-1.docker.io'].includes(host)) return 'docker.io'
  if (!/^[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::[0-9]{1,5})?$/.test(host))
    throw invalid('--mirror', `${text}: expected a registry host (docker.io, quay.io, reg.example:5000)`, {
      value: text,
    })
  return host
}

/** Checks the token as the daemon does (`--serve-token`): one word. */
export function checkToken(token: string | undefined, flag = '--token-file'): string | undefined {
  if (token === undefined) return undefined
  const word = token.trim()
  if (word === '' || /\s/.test(word))
    throw invalid(flag, `must hold one token (no spaces), not ${word === '' ? 'nothing' : 'several words'}`)
  return word
}

/** Checks a request and makes its files. ERR_INVALID_ARGUMENT names the flag at fault. */
export function clientConfig(request: ClientConfigRequest): ClientConfigFile[] {
  const target = checkTarget(request.target)
  const input = {
    endpoint: parseServeUrl(request.url),
    token: checkToken(request.token),
    ca: request.ca,
    skipVerify: request.skipVerify,
  }
  if (input.ca !== undefined && !input.ca.includes('-----BEGIN CERTIFICATE-----'))
    throw invalid('--ca', 'is not a PEM certificate (-----BEGIN CERTIFICATE-----)')
  if ((input.ca !== undefined || input.skipVerify === true) && !input.endpoint.tls)
    throw invalid(
      input.ca !== undefined ? '--ca' : '--skip-verify',
      `is for an https:// --url, not ${request.url}`,
    )
  if (request.head !== undefined && target !== 'apt') throw invalid('--head', 'is for --for apt')
  if (request.mirrors !== undefined && request.mirrors.length > 0 && target !== 'containerd')
    throw invalid('--mirror', `is for --for containerd (dockerd mirrors docker.io only)`)
  switch (target) {
    case 'docker':
      return dockerConfig(input)
    case 'containerd':
      return containerdConfig(
        input,
        request.mirrors === undefined || request.mirrors.length === 0
          ? undefined
          : request.mirrors.map(checkMirror),
      )
    case 'apt': {
      const head = checkHead(request.head)
      if (request.key === undefined || !request.key.includes('BEGIN PGP PUBLIC KEY BLOCK'))
        throw invalid('--key', 'is not an ASCII-armored OpenPGP public key (ferry apt-key prints one)')
      return aptConfig({ ...input, head, key: request.key } satisfies AptConfigInput)
    }
  }
}
