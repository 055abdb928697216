/** The route modules of the serving port, in the order they are registered. */
import { fileRoutes } from './files.js'
import type { ServeRoutes } from './index.js'
import { statusRoutes } from './status/routes.js'

export const SERVE_ROUTES: ServeRoutes[] = [fileRoutes, statusRoutes]
