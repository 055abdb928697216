import { isAbsolute } from 'node:path'
import * as v from 'valibot'
import { nonEmptyText, trueOrFalse } from '../../../store/index.js'
import type { CallOptions, Operations } from '../../ops/operations.js'
import { OPERATION_NAMES as NAMES } from './wire.js'

/** One `POST /api/NAME` operation: how its JSON body is checked and what it runs. */
export interface ApiRoute {
  schema: v.GenericSchema
  /** Answers NDJSON: progress lines, then the result. Short operations answer one JSON value. */
  long: boolean
  run(args: unknown, options: CallOptions): Promise<unknown>
}

/** Builds a route whose `run` gets the body as its schema parsed it. */
export function apiRoute<S extends v.GenericSchema>(
  schema: S,
  long: boolean,
  run: (args: v.InferOutput<S>, options: CallOptions) => Promise<unknown>,
): ApiRoute {
  return { schema, long, run: (args, options) => run(args as v.InferOutput<S>, options) }
}

const none = v.strictObject({})
const absolutePath = v.pipe(
  nonEmptyText,
  v.check(
    isAbsolute,
    'must be an absolute path (the daemon does not share the working directory of the CLI)',
  ),
)
const positiveInt = v.pipe(
  v.number('must be a number'),
  v.integer('must be an integer'),
  v.minValue(1, 'must be positive'),
)
const ref = v.strictObject({ ref: nonEmptyText })
/** A non-empty list of absolute paths, each a `what`. */
const absolutePaths = (what: string) =>
  v.pipe(v.array(absolutePath, 'must be a list'), v.minLength(1, `name at least one ${what}`))
/** The fields of a release to publish (`bom build`, `download`). */
const release = {
  name: nonEmptyText,
  version: nonEmptyText,
  seq: v.optional(positiveInt),
  allowDowngrade: v.optional(trueOrFalse),
}

/** The routes of every {@link Operations} method but `cat`, by operation name. */
export function operationRoutes(ops: Operations): Record<string, ApiRoute> {
  return {
    [NAMES.heads]: apiRoute(none, false, () => ops.heads()),
    [NAMES.entries]: apiRoute(ref, false, (args) => ops.entries(args)),
    [NAMES.buildBom]: apiRoute(
      v.strictObject({ files: absolutePaths('requirements file'), ...release }),
      true,
      (args, options) => ops.buildBom(args, options),
    ),
    [NAMES.download]: apiRoute(
      v.strictObject({
        paths: absolutePaths('requirements file or folder'),
        ...release,
        jobs: v.optional(positiveInt),
        platform: v.optional(nonEmptyText),
        registriesFile: v.optional(absolutePath),
        aptSourcesFile: v.optional(absolutePath),
        dockerHost: v.optional(nonEmptyText),
      }),
      true,
      (args, options) => ops.download(args, options),
    ),
    [NAMES.load]: apiRoute(
      v.strictObject({
        image: nonEmptyText,
        platform: v.optional(nonEmptyText),
        dockerHost: v.optional(nonEmptyText),
      }),
      true,
      (args, options) => ops.load(args, options),
    ),
    [NAMES.verify]: apiRoute(v.strictObject({ ref: v.optional(nonEmptyText) }), true, (args, options) =>
      ops.verify(args, options),
    ),
    [NAMES.gc]: apiRoute(none, true, (_args, options) => ops.gc(options)),
    [NAMES.storeStatus]: apiRoute(none, false, () => ops.storeStatus()),
    [NAMES.keyShow]: apiRoute(none, false, () => ops.keyShow()),
    [NAMES.aptKey]: apiRoute(none, false, () => ops.aptKey()),
    [NAMES.trustAdd]: apiRoute(
      v.strictObject({ key: nonEmptyText, note: v.optional(v.string('must be a string')) }),
      false,
      (args) => ops.trustAdd(args),
    ),
    [NAMES.trustList]: apiRoute(none, false, () => ops.trustList()),
    [NAMES.trustRemove]: apiRoute(v.strictObject({ key: nonEmptyText }), false, (args) =>
      ops.trustRemove(args),
    ),
    [NAMES.exportArchive]: apiRoute(
      v.strictObject({
        heads: v.pipe(v.array(nonEmptyText, 'must be a list'), v.minLength(1, 'name at least one head')),
        base: v.optional(v.array(nonEmptyText, 'must be a list')),
        out: absolutePath,
        force: v.optional(trueOrFalse),
        splitBytes: v.optional(positiveInt),
        patches: v.optional(trueOrFalse),
        deltaLevel: v.optional(v.pipe(positiveInt, v.maxValue(19, 'must be at most 19'))),
        self: v.optional(trueOrFalse),
      }),
      true,
      (args, options) => ops.exportArchive(args, options),
    ),
    [NAMES.importArchive]: apiRoute(
      v.strictObject({ file: absolutePath, allowDowngrade: v.optional(trueOrFalse) }),
      true,
      (args, options) => ops.importArchive(args, options),
    ),
    [NAMES.inventory]: apiRoute(none, false, () => ops.inventory()),
  }
}
