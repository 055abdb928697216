/**
 * Stream helpers both protocols share: a handler registered with its caps;
 * one length-prefixed message read with a byte cap, a timeout and a signal;
 * resets; reading and writing with real backpressure.
 */
export { abortStream, abortStreamOn, asError, type StreamDeadline, withDeadline } from './abort.js'
export { type BoundedSourceOptions, boundedSource } from './bounded-source.js'
export { sendWithBackpressure } from './drain.js'
export {
  handleProtocol,
  type OnFailed,
  type ProtocolHost,
  type Register,
  type StreamCaps,
} from './handler.js'
export { type ReadOneOptions, readOne } from './read-one.js'
