/**
 * `@swinmm/runtime/files`: writing output files so that nothing is ever left half-written.
 *
 * Checkpoints, exported weights, metrics tables and plots are all written through
 * {@link writeFileAtomic}. A crash, a full disk or a killed process then leaves either the old
 * file or the new one under the target name, never a truncated mix; readers that poll a run
 * folder never see a partial file. This entry point is Node-only and loads no tfjs module.
 *
 * @example
 * ```ts
 * import { writeFileAtomic } from '@swinmm/runtime/files';
 * await writeFileAtomic('runs/demo/metrics.csv', 'case,class,dice\n');
 * ```
 *
 * @packageDocumentation
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';

/**
 * Writes `contents` to `file` atomically.
 *
 * The bytes go to a hidden temporary file in the target's own folder (so that the final rename
 * stays on one file system, where POSIX makes it atomic), are flushed to disk, and the temporary
 * file is then renamed over `file`. Missing parent folders are created. If anything fails, the
 * temporary file is removed and the error is rethrown; an existing `file` is left untouched.
 *
 * @param file Destination path.
 * @param contents Bytes, or a string written as UTF-8.
 */
export async function writeFileAtomic(file: string, contents: Uint8Array | string): Promise<void> {
  const dir = path.dirname(file);
  await fs.mkdir(dir, { recursive: true });
  // pid + random suffix: two writers of the same target (two processes, or two calls in flight)
  // never share a temporary file.
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, file);
  } catch (error) {
    await fs.rm(tmp, { force: true });
    throw error;
  }
}
