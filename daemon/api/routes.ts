import { isAbsolute } from 'node:path'
import { z } from 'zod'
import type { CallOptions, Operations } from './operations.js'
import { OPERATION_NAMES as NAMES } from './wire.js'

/** One `POST /api/NAME` operation: how its JSON body is checked and what it runs. */
export interface ApiRoute {
  schema: z.ZodType
  /** Answers NDJSON: progress lines, then the result. Short operations answer one JSON value. */
  long: boolean
  run(args: unknown, options: CallOptions): Promise<unknown>
}

/** Builds a route whose `run` gets the body as its schema parsed it. */
export function apiRoute<S extends z.ZodType>(
  schema: S,
  long: boolean,
  run: (args: z.output<S>, options: CallOptions) => Promise<unknown>,
): ApiRoute {
  return { schema, long, run: (args, options) => run(args as z.output<S>, options) }
}

const none = z.strictObject({})
const text = z.string().min(1, 'must not be empty')
const absolutePath = text.refine(
  isAbsolute,
  'must be an absolute path (the daemon does not share the working directory of the CLI)',
)
const positiveInt = z.number().int().positive()
const ref = z.strictObject({ ref: text })

/** The routes of every {@link Operations} method but `cat`, by operation name. */
export function operationRoutes(ops: Operations): Record<string, ApiRoute> {
  return {
    [NAMES.heads]: apiRoute(none, false, () => ops.heads()),
    [NAMES.entries]: apiRoute(ref, false, (args) => ops.entries(args)),
    [NAMES.buildBom]: apiRoute(
      z.strictObject({
        files: z.array(absolutePath).min(1, 'name at least one requirements file'),
        name: text,
        version: text,
        seq: positiveInt.optional(),
        allowDowngrade: z.boolean().optional(),
      }),
      true,
      (args, options) => ops.buildBom(args, options),
    ),
    [NAMES.verify]: apiRoute(z.strictObject({ ref: text.optional() }), true, (args, options) =>
      ops.verify(args, options),
    ),
    [NAMES.gc]: apiRoute(none, true, (_args, options) => ops.gc(options)),
    [NAMES.storeStatus]: apiRoute(none, false, () => ops.storeStatus()),
    [NAMES.keyShow]: apiRoute(none, false, () => ops.keyShow()),
    [NAMES.trustAdd]: apiRoute(z.strictObject({ key: text, note: z.string().optional() }), false, (args) =>
      ops.trustAdd(args),
    ),
    [NAMES.trustList]: apiRoute(none, false, () => ops.trustList()),
    [NAMES.trustRemove]: apiRoute(z.strictObject({ key: text }), false, (args) => ops.trustRemove(args)),
    [NAMES.exportArchive]: apiRoute(
      z.strictObject({
        heads: z.array(text).min(1, 'name at least one head'),
        base: z.array(text).optional(),
        out: absolutePath,
        splitBytes: positiveInt.optional(),
      }),
      true,
      (args, options) => ops.exportArchive(args, options),
    ),
    [NAMES.importArchive]: apiRoute(
      z.strictObject({ file: absolutePath, allowDowngrade: z.boolean().optional() }),
      true,
      (args, options) => ops.importArchive(args, options),
    ),
    [NAMES.inventory]: apiRoute(none, false, () => ops.inventory()),
  }
}
