/**
 * DICOM series folders through `@itk-wasm/dicom` (GDCM compiled to WebAssembly; works offline).
 * Slices are sorted by position, rescale slope/intercept applied (CT values in HU).
 *
 * @module
 */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Image } from 'itk-wasm';
import { keepExitCode } from './exit-code.js';
import { DataFileError } from './file-check.js';
import { volumeFromItkImage, type ReadVolumeOptions } from './io.js';
import type { Volume } from './volume.js';

type DicomIo = typeof import('@itk-wasm/dicom');
let dicomIo: Promise<DicomIo> | undefined;

function loadDicomIo(): Promise<DicomIo> {
  dicomIo ??= import('@itk-wasm/dicom');
  return dicomIo;
}

/** The files of a DICOM series folder (every plain file, not hidden, not DICOMDIR), sorted by name. */
async function seriesFiles(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    throw new DataFileError(dir, `cannot list the DICOM folder (${(err as Error).message})`);
  }
  const files: string[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || name.toUpperCase() === 'DICOMDIR') continue;
    const path = join(dir, name);
    if ((await stat(path)).isFile()) files.push(path);
  }
  if (files.length === 0) throw new DataFileError(dir, 'expected DICOM files in this folder, found none');
  return files;
}

/**
 * Reads a folder holding one DICOM series as a float32 {@link Volume} (`[x][y][z]` = column, row,
 * slice, with RAS geometry as MONAI's ITKReader gives it). The folder should hold one series only.
 */
export async function readDicomSeries(dir: string, options: ReadVolumeOptions = {}): Promise<Volume<Float32Array>> {
  const files = await seriesFiles(dir);
  const io = await loadDicomIo();
  let image: Image;
  try {
    ({ outputImage: image } = await keepExitCode(() => io.readImageDicomFileSeriesNode({ inputImages: files })));
  } catch (err) {
    const why = err instanceof Error ? err.message : typeof err === 'number' ? `itk-wasm pipeline exception (code ${err})` : String(err);
    throw new DataFileError(dir, `@itk-wasm/dicom could not read the series of ${files.length} file(s) (${why})`);
  }
  return volumeFromItkImage(image, dir, options);
}
