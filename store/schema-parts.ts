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

/** A number of seconds above zero. */
export const positiveSeconds = v.pipe(
  v.number('must be a number of seconds'),
  v.gtValue(0, 'must be more than 0 seconds'),
)
