/** The route modules of the serving port, in the order they are registered. */
import { aptRoutes } from './apt/index.js'
import { fileRoutes } from './files.js'
import type { ServeRoutes } from './index.js'
import { registryRoutes } from './registry/index.js'
import { statusRoutes } from './status/routes.js'

export const SERVE_ROUTES: ServeRoutes[] = [fileRoutes, registryRoutes, aptRoutes, statusRoutes]
