// Where a NIfTI header's sform and qform disagree, the volume gets the affine nibabel reports
// (`get_best_affine`: the sform when sform_code > 0, else the qform), because MONAI reads NIfTI
// through nibabel. Expected values are worked out by hand from the header fields below.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { readLabel, readVolume, readVolumeInfo } from '../src/index.js';
import { ITK_T1, tempDir } from './helpers.js';

// The ITK T1 header: qform_code 2 with quatern (b, c, d) = (0, 0.707107, 0.707107), pixdim 2 2 3,
// qfac 1, qoffset (0, −254, 0); sform_code 1 with srow = [−2 0 0 0; 0 0 3 −254; 0 2 0 0].
const raw = gunzipSync(readFileSync(ITK_T1));

function variant(edit: (h: Buffer) => void): Buffer {
  const out = Buffer.from(raw);
  edit(out);
  return out;
}

function rounded(m: number[][]): number[][] {
  return m.map((r) => r.map((v) => Math.round(v * 1e4) / 1e4 + 0));
}

describe('NIfTI geometry follows nibabel', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  it('uses the sform when sform_code > 0, even when the qform says otherwise', async () => {
    // Move the sform origin to (10, −244, 5); the qform still says (0, −254, 0).
    const p = join(tmp.dir, 'sform.nii');
    writeFileSync(p, variant((h) => {
      h.writeFloatLE(10, 280 + 12);
      h.writeFloatLE(-244, 296 + 12);
      h.writeFloatLE(5, 312 + 12);
    }));
    const v = await readVolume(p);
    expect(rounded(v.affine)).toEqual([
      [-2, 0, 0, 10],
      [0, 0, 3, -244],
      [0, 2, 0, 5],
      [0, 0, 0, 1],
    ]);
    expect(rounded((await readVolumeInfo(p)).affine)).toEqual(rounded(v.affine));
  });

  it('uses the qform when sform_code is 0', async () => {
    // sform_code 0 and a garbage sform; qoffset moved to (5, −250, 7).
    const p = join(tmp.dir, 'qform.nii');
    writeFileSync(p, variant((h) => {
      h.writeInt16LE(0, 254);
      for (let i = 0; i < 12; i++) h.writeFloatLE(9, 280 + 4 * i);
      h.writeFloatLE(5, 268);
      h.writeFloatLE(-250, 272);
      h.writeFloatLE(7, 276);
    }));
    // nibabel: b = 0, c = d = 0.70710677 as stored (float32, bytes 260 and 264; just under 1/√2), so
    // a = √(1 − c² − d²) ≈ 1.2e-4 is not 0, and with b = 0 the rotation matrix is
    // [[a² − 2c², −2ac, 2ac], [2ac, a², 2c²], [−2ac, 2c², a²]]; affine = R · diag(2, 2, 3·qfac) + qoffset
    // with qfac = pixdim[0] = 1. (ITK snaps this to an exact permutation; nibabel, and we, do not.)
    const c = raw.readFloatLE(260);
    expect(raw.readFloatLE(256)).toBe(0);
    expect(raw.readFloatLE(264)).toBe(c);
    const a = Math.sqrt(1 - 2 * c * c);
    const expected = [
      [(a * a - 2 * c * c) * 2, -2 * a * c * 2, 2 * a * c * 3, 5],
      [2 * a * c * 2, a * a * 2, 2 * c * c * 3, -250],
      [-2 * a * c * 2, 2 * c * c * 2, a * a * 3, 7],
      [0, 0, 0, 1],
    ];
    expect(a).toBeGreaterThan(1e-4);
    const v = await readLabel(p);
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(v.affine[i][j]).toBeCloseTo(expected[i][j], 9);
  });

  it('falls back to nibabel’s base affine when neither form is set', async () => {
    const p = join(tmp.dir, 'none.nii');
    writeFileSync(p, variant((h) => {
      h.writeInt16LE(0, 252);
      h.writeInt16LE(0, 254);
    }));
    // get_base_affine: diag(−2, 2, 3), centred: x offset (128−1)/2·2 = 127, y −127, z −(62−1)/2·3 = −91.5.
    const v = await readVolume(p);
    expect(rounded(v.affine)).toEqual([
      [-2, 0, 0, 127],
      [0, 2, 0, -127],
      [0, 0, 3, -91.5],
      [0, 0, 0, 1],
    ]);
  });
});
