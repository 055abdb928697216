import { execFileSync } from 'node:child_process'

/**
 * Parses TOML with Python's tomllib (a TOML 1.0 parser; no TOML library is
 * among ferry's dependencies): the value as JSON, or an Error with Python's
 * message when the text is not TOML.
 */
export function parseToml(text: string): Record<string, unknown> {
  const out = execFileSync(
    'python3',
    ['-c', 'import json, sys, tomllib; print(json.dumps(tomllib.loads(sys.stdin.read())))'],
    { input: text, encoding: 'utf8', timeout: 10_000, stdio: ['pipe', 'pipe', 'pipe'] },
  )
  return JSON.parse(out) as Record<string, unknown>
}
