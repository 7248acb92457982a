/**
 * A minimal PNG encoder (8-bit RGB; deflate and CRC-32 from `node:zlib`, Node ≥ 20.15) and a
 * slice renderer that overlays a label map on an image slice, for a quick look at a prediction
 * without any viewer.
 *
 * @module
 */
import { crc32, deflateSync } from 'node:zlib';

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes an RGB image (`rgb` holds `width·height·3` bytes, rows top to bottom) as a PNG file.
 */
export function encodePng(width: number, height: number, rgb: Uint8Array): Uint8Array {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`encodePng: width and height must be positive integers, found ${width}×${height}`);
  }
  if (rgb.length !== width * height * 3) throw new RangeError(`encodePng: expected ${width * height * 3} bytes (${width}×${height} RGB), found ${rgb.length}`);
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0; // filter type None: the image is small, zlib does the rest
    raw.set(rgb.subarray(y * width * 3, (y + 1) * width * 3), y * (1 + width * 3) + 1);
  }
  const header = new Uint8Array(13);
  const hv = new DataView(header.buffer);
  hv.setUint32(0, width);
  hv.setUint32(4, height);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  const signature = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const parts = [signature, chunk('IHDR', header), chunk('IDAT', new Uint8Array(deflateSync(raw))), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Distinct colours for labels 1, 2, … (label 0 is left transparent). */
export const LABEL_COLORS: readonly (readonly [number, number, number])[] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212],
  [0, 128, 128],
  [220, 190, 255],
  [170, 110, 40],
  [255, 250, 200],
  [128, 0, 0],
  [170, 255, 195],
];

/** A volume as the overlay needs it: `[x][y][z]` values, z fastest. */
export interface SliceSource {
  data: ArrayLike<number>;
  shape: readonly [number, number, number] | readonly number[];
  spacing?: readonly number[];
}

/** Options of {@link overlaySlicePng}. */
export interface OverlayOptions {
  /** Axial slice index (default: the middle slice). */
  z?: number;
  /** Opacity of label colours (default 0.45). */
  alpha?: number;
  /** Integer zoom factor for small volumes (default: so the short side is ≥ 256 pixels, at most 8). */
  zoom?: number;
}

/**
 * Renders axial slice `z` of `image` (grey, scaled between its 1st and 99th percentile) with
 * `labels` blended on top, RAS-oriented as radiologists look at it (anterior up, patient's right
 * on the left of the picture), and encodes it as PNG. Non-square voxels are not rescaled.
 */
export function overlaySlicePng(image: SliceSource, labels: SliceSource | null, options: OverlayOptions = {}): Uint8Array {
  const [nx, ny, nz] = image.shape as readonly number[];
  if (labels && (labels.shape[0] !== nx || labels.shape[1] !== ny || labels.shape[2] !== nz)) {
    throw new RangeError(`overlaySlicePng: the label map is ${labels.shape.join('×')} but the image is ${nx}×${ny}×${nz}`);
  }
  const z = options.z ?? Math.floor(nz / 2);
  if (!Number.isInteger(z) || z < 0 || z >= nz) throw new RangeError(`overlaySlicePng: slice z=${z} is outside 0…${nz - 1}`);
  const values = new Float32Array(nx * ny);
  for (let x = 0; x < nx; x++) for (let y = 0; y < ny; y++) values[x * ny + y] = image.data[(x * ny + y) * nz + z];
  const sorted = Float32Array.from(values).sort();
  const lo = sorted[Math.floor(0.01 * (sorted.length - 1))];
  const hi = sorted[Math.ceil(0.99 * (sorted.length - 1))];
  const range = hi > lo ? hi - lo : 1;
  const alpha = options.alpha ?? 0.45;
  const zoom = options.zoom ?? Math.max(1, Math.min(8, Math.ceil(256 / Math.min(nx, ny))));
  const W = nx * zoom;
  const H = ny * zoom;
  const rgb = new Uint8Array(W * H * 3);
  for (let row = 0; row < H; row++) {
    // RAS: y grows anteriorly, so the top row is the largest y; x grows to the patient's left,
    // which radiological convention draws on the right, so x is drawn right to left.
    const y = ny - 1 - Math.floor(row / zoom);
    for (let col = 0; col < W; col++) {
      const x = nx - 1 - Math.floor(col / zoom);
      const g = Math.max(0, Math.min(255, Math.round(((values[x * ny + y] - lo) / range) * 255)));
      let r = g, gr = g, b = g;
      if (labels) {
        const l = labels.data[(x * ny + y) * nz + z];
        if (l > 0) {
          const c = LABEL_COLORS[(l - 1) % LABEL_COLORS.length];
          r = Math.round((1 - alpha) * g + alpha * c[0]);
          gr = Math.round((1 - alpha) * g + alpha * c[1]);
          b = Math.round((1 - alpha) * g + alpha * c[2]);
        }
      }
      const o = (row * W + col) * 3;
      rgb[o] = r;
      rgb[o + 1] = gr;
      rgb[o + 2] = b;
    }
  }
  return encodePng(W, H, rgb);
}
