/**
 * Error classes. Every problem with an input file is one of these, so that callers (and the fuzz
 * test) can tell "this file is bad" from a bug in the reader.
 *
 * @module
 */

/** Base class of every error raised because a weights file is malformed, unsafe or unsupported. */
export class WeightsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsFormatError';
  }
}

/** The zip container is malformed (truncated, bad signatures, unsupported compression…). */
export class ZipFormatError extends WeightsFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'ZipFormatError';
  }
}

/** The pickle stream is malformed or uses an opcode the reader does not implement. */
export class PickleFormatError extends WeightsFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'PickleFormatError';
  }
}

/**
 * The pickle refers to a Python global outside the allow-list. Nothing is ever executed; the
 * global is refused when the pickle names it.
 */
export class UnsafePickleError extends WeightsFormatError {
  /** The refused global as `module.name`. */
  readonly global: string;
  constructor(global: string, message: string) {
    super(message);
    this.name = 'UnsafePickleError';
    this.global = global;
  }
}

/** The checkpoint's structure is not what a PyTorch checkpoint should be (bad storage, tensor…). */
export class TorchCheckpointError extends WeightsFormatError {
  constructor(message: string) {
    super(message);
    this.name = 'TorchCheckpointError';
  }
}
