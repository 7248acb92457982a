// Shared test helpers: temporary folders and the independent NIfTI reader (nifti-reader-js).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The bundled ITK demo volume and its k-means labels (data/itk at the workspace root). */
export const ITK_T1 = resolve(__dirname, '../../../data/itk/KmeansTest_T1UCharRaw.nii.gz');
export const ITK_LABELS = resolve(__dirname, '../../../data/itk/KmeansTest_T1KmeansPrelimSegmentation.nii.gz');

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'swinmm-data-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

type NiftiModule = typeof import('nifti-reader-js');

/** nifti-reader-js is ESM only; jest runs with --experimental-vm-modules so a real import() works. */
export async function niftiReader(): Promise<NiftiModule> {
  return import('nifti-reader-js');
}

/** Header and raw voxel bytes of a .nii/.nii.gz read by nifti-reader-js (not by our code). */
export async function readNiftiIndependently(path: string) {
  const nifti = await niftiReader();
  let buf: ArrayBuffer = new Uint8Array(readFileSync(path)).buffer;
  if (nifti.isCompressed(buf)) buf = nifti.decompress(buf) as ArrayBuffer;
  if (!nifti.isNIFTI(buf)) throw new Error(`${path} is not NIfTI for nifti-reader-js`);
  const header = nifti.readHeader(buf);
  const image = nifti.readImage(header, buf);
  // nifti-reader-js's own `affine` prefers the qform whenever qform_code > sform_code, unlike
  // nibabel, so the sform rows are read straight from the header bytes (NIfTI-1: 3×4 float32 at 280).
  const view = new DataView(buf);
  const little = view.getInt32(0, true) === 348;
  const srow = [0, 1, 2].map((r) => [0, 1, 2, 3].map((c) => view.getFloat32(280 + 16 * r + 4 * c, little)));
  return { nifti, header, image, srow };
}
