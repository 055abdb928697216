/** The registry source: images over the Registry API v2. */
export { type ImageReference, parseReference } from '../image/reference.js'
export { loadRegistryAccess, type RegistryAccess } from './registries-file.js'
export { RegistrySource, type RegistrySourceOptions } from './source.js'
export type { HttpFactory, RegistryHttp } from './transport.js'
