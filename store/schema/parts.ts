import * as v from 'valibot'

/**
 * Schema pieces shared by every input ferry validates (requirements files,
 * the daemon's config, API bodies), so that the same mistake reads the same
 * everywhere.
 */

/** A string with at least one character. */
export const nonEmptyText = v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'))

/** `true` or `false`. */
export const trueOrFalse = v.boolean('must be true or false')

/** A zstd level for patches: 1 (fast) to 19 (smallest). */
export const deltaLevel = v.pipe(
  v.number('must be a number'),
  v.integer('must be a whole number from 1 to 19'),
  v.minValue(1, 'must be a whole number from 1 to 19'),
  v.maxValue(19, 'must be a whole number from 1 to 19'),
)

/** Most seconds a timeout may be: node runs a longer timer (over 2^31 - 1 ms) after 1 ms instead. */
export const MAX_TIMEOUT_SECONDS = 86_400

/** A timeout in seconds: above zero, at most a day. */
export const timeoutSeconds = v.pipe(
  v.number('must be a number of seconds'),
  v.gtValue(0, 'must be more than 0 seconds'),
  v.maxValue(MAX_TIMEOUT_SECONDS, `must be at most ${MAX_TIMEOUT_SECONDS} seconds (a day)`),
)
