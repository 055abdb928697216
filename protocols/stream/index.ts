/** Stream reading and writing with real backpressure, for both protocols. */
export { type BoundedSourceOptions, boundedSource } from './bounded-source.js'
export { sendWithBackpressure } from './drain.js'
