/**
 * itk-wasm pipelines are Emscripten programs: when one fails it sets `process.exitCode` to its
 * status before throwing, so a Node process that caught and handled the error still exits with
 * 1. Every call into itk-wasm goes through {@link keepExitCode}, which puts the value back.
 *
 * @module
 */

/** Runs `job` and restores `process.exitCode` to what it was before, whatever the outcome. */
export async function keepExitCode<T>(job: () => Promise<T>): Promise<T> {
  const hasProcess = typeof process !== 'undefined';
  const before = hasProcess ? process.exitCode : undefined;
  try {
    return await job();
  } finally {
    if (hasProcess) process.exitCode = before;
  }
}
