/**
 * Runs every task at once (each given a signal that stops it); on the first
 * failure the others are stopped, and all settle before that first failure
 * is thrown, so nothing is still writing to the store when the caller cleans
 * up. Returns the results in the tasks' order.
 */
export async function allOrNothing<T>(
  tasks: Array<(signal: AbortSignal) => Promise<T>>,
  signal?: AbortSignal,
): Promise<T[]> {
  const stop = new AbortController()
  const combined = signal === undefined ? stop.signal : AbortSignal.any([signal, stop.signal])
  let first: { reason: unknown } | undefined
  const settled = await Promise.allSettled(
    tasks.map((task) =>
      Promise.resolve()
        .then(() => task(combined))
        .catch((reason: unknown) => {
          first ??= { reason }
          stop.abort(reason)
          throw reason
        }),
    ),
  )
  if (first !== undefined) throw first.reason
  return settled.map((result) => (result as PromiseFulfilledResult<T>).value)
}
