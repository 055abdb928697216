import test from 'ava'
import {
  formatPlatform,
  parsePlatform,
  platformMatches,
} from '../../../../../daemon/sources/image/platform.js'

test('platforms match on os, architecture and normalised variant', (t) => {
  const amd64 = parsePlatform('linux/amd64')
  t.true(platformMatches(amd64, { os: 'linux', architecture: 'amd64' }))
  t.true(platformMatches(amd64, { os: 'linux', architecture: 'x86_64' }))
  t.false(platformMatches(amd64, { os: 'linux', architecture: 'arm64' }))
  t.false(platformMatches(amd64, { os: 'windows', architecture: 'amd64' }))
  const arm64 = parsePlatform('linux/arm64')
  t.true(platformMatches(arm64, { os: 'linux', architecture: 'arm64', variant: 'v8' }))
  t.true(platformMatches(arm64, { os: 'linux', architecture: 'arm64' }))
  t.true(platformMatches(parsePlatform('linux/arm64/v8'), { os: 'linux', architecture: 'aarch64' }))
  t.false(platformMatches(parsePlatform('linux/arm/v6'), { os: 'linux', architecture: 'arm', variant: 'v7' }))
  t.true(platformMatches(parsePlatform('linux/arm'), { os: 'linux', architecture: 'arm', variant: 'v7' }))
  t.false(platformMatches(amd64, undefined))
  t.false(platformMatches(amd64, { os: 'unknown' }))
})

test('platforms print as os/arch[/variant], unknown for what an attestation lacks', (t) => {
  t.is(formatPlatform({ os: 'linux', architecture: 'amd64' }), 'linux/amd64')
  t.is(formatPlatform({ os: 'linux', architecture: 'arm64', variant: 'v8' }), 'linux/arm64/v8')
  t.is(formatPlatform(undefined), 'unknown/unknown')
})
