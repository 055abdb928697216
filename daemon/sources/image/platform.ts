/** A platform as an OCI index states it (`platform` of a descriptor, `os`/`architecture` of a config). */
export interface Platform {
  os: string
  architecture: string
  variant?: string
}

/** `os/arch[/variant]` → its parts (the requirements schema has checked the shape). */
export function parsePlatform(text: string): Platform {
  const [os, architecture, variant] = text.split('/')
  return normalise({ os, architecture, variant })
}

/** `linux/arm64/v8` (`unknown` for a missing part: an index's attestation entries). */
export function formatPlatform(platform: Partial<Platform> | undefined): string {
  const os = platform?.os || 'unknown'
  const architecture = platform?.architecture || 'unknown'
  return platform?.variant ? `${os}/${architecture}/${platform.variant}` : `${os}/${architecture}`
}

/** Spellings that name the same architecture, and the variant an architecture has when none is said. */
const ARCH_ALIASES: Record<string, string> = { x86_64: 'amd64', 'x86-64': 'amd64', aarch64: 'arm64' }
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', arm: 'v7' }

function normalise(platform: Platform): Platform {
  const architecture = ARCH_ALIASES[platform.architecture] ?? platform.architecture
  const variant = platform.variant || DEFAULT_VARIANT[architecture]
  return { os: platform.os, architecture, ...(variant === undefined ? {} : { variant }) }
}

/**
 * Whether an index's `candidate` serves `wanted`: same os and architecture,
 * and the same variant once both are normalised (arm64 means arm64/v8, as
 * docker reads it).
 */
export function platformMatches(wanted: Platform, candidate: Partial<Platform> | undefined): boolean {
  if (candidate?.os === undefined || candidate.architecture === undefined) return false
  const a = normalise(wanted)
  const b = normalise({ os: candidate.os, architecture: candidate.architecture, variant: candidate.variant })
  return a.os === b.os && a.architecture === b.architecture && a.variant === b.variant
}
