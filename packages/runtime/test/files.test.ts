import { mkdtemp, readdir, readFile, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@swinmm/runtime/files';

describe('writeFileAtomic', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'swinmm-files-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes bytes and strings, creating missing folders, and leaves no temporary file', async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await writeFileAtomic(join(dir, 'a', 'b', 'w.bin'), bytes);
    await writeFileAtomic(join(dir, 'a', 'note.txt'), 'µ-text\n');
    expect(new Uint8Array(await readFile(join(dir, 'a', 'b', 'w.bin')))).toEqual(bytes);
    expect(await readFile(join(dir, 'a', 'note.txt'), 'utf8')).toBe('µ-text\n');
    expect((await readdir(join(dir, 'a'))).sort()).toEqual(['b', 'note.txt']);
    expect(await readdir(join(dir, 'a', 'b'))).toEqual(['w.bin']);
  });

  it('replaces an existing file whole', async () => {
    const file = join(dir, 'metrics.csv');
    await writeFileAtomic(file, 'old contents that are longer than the new ones\n');
    await writeFileAtomic(file, 'new\n');
    expect(await readFile(file, 'utf8')).toBe('new\n');
    expect(await readdir(dir)).toEqual(['metrics.csv']);
  });

  it('when the final rename fails, rethrows, removes the temporary file and keeps what was there', async () => {
    // A non-empty folder under the target name: the rename over it fails (EISDIR/ENOTEMPTY).
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'keep.txt'), 'kept');
    await expect(writeFileAtomic(target, 'x')).rejects.toThrow(/taken/);
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readFile(join(target, 'keep.txt'), 'utf8')).toBe('kept');
  });

  it('concurrent writers of one target never share a temporary file; one complete version wins', async () => {
    const file = join(dir, 'race.txt');
    const versions = Array.from({ length: 8 }, (_, i) => `${String(i).repeat(10_000)}\n`);
    await Promise.all(versions.map((v) => writeFileAtomic(file, v)));
    expect(versions).toContain(await readFile(file, 'utf8'));
    expect(await readdir(dir)).toEqual(['race.txt']);
  });
});
