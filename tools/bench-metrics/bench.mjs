// Speed of @swinmm/metrics on a CT-sized label map (default 512×512×300, 0.8×0.8×2.5 mm).
// Run from the repository root after building the package:
//   npx nx run metrics:build && node tools/bench-metrics/bench.mjs [x y z] [classes]
// It times (1) the exact distance transform of one full-size volume and (2) a whole
// evaluateSegmentation (Dice, HD95, HD, ASD, ASSD, NSD for every class) of a prediction that
// differs from the ground truth by shifted and dilated ellipsoids, and prints JSON.
// With `--label <file>` it evaluates a real label map (any format @swinmm/data reads; build it
// first with `npx nx run data:build`) against itself shifted by one voxel along x instead.
import { evaluateSegmentation, squaredDistanceToFeatures } from '../../packages/metrics/dist/index.js';

const labelAt = process.argv.indexOf('--label');
if (labelAt > 0) {
  const path = process.argv[labelAt + 1];
  const { readLabel } = await import('../../packages/data/dist/index.js');
  const gt = await readLabel(path);
  const [sx, sy, sz] = gt.shape;
  const shifted = new gt.data.constructor(gt.data.length);
  shifted.set(gt.data.subarray(0, (sx - 1) * sy * sz), sy * sz);
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const report = evaluateSegmentation({ data: shifted, shape: gt.shape, spacing: gt.spacing }, gt, { nsdTolerance: 1 });
  console.log(
    JSON.stringify(
      {
        file: path,
        shape: gt.shape,
        spacing: gt.spacing,
        classes: report.classes.length,
        evaluate_all_metrics_wall_s: +((performance.now() - t0) / 1000).toFixed(3),
        evaluate_all_metrics_cpu_s: +(process.cpuUsage(cpu0).user / 1e6).toFixed(3),
        mean: report.mean,
        node: process.version,
      },
      null,
      1,
    ),
  );
  process.exit(0);
}

const args = process.argv.slice(2).map(Number);
const [nx, ny, nz] = args.length >= 3 ? args.slice(0, 3) : [512, 512, 300];
const classes = args[3] ?? 8;
const spacing = [0.8, 0.8, 2.5];
const n = nx * ny * nz;

/** Nested/scattered ellipsoids: label k inside ellipsoid k (later labels win). */
function labelMap(shift, grow) {
  const out = new Uint8Array(n);
  for (let k = 1; k <= classes; k++) {
    const c = [nx * (0.3 + 0.4 * ((k * 37) % 11) / 11) + shift, ny * (0.3 + 0.4 * ((k * 53) % 7) / 7), nz * (0.3 + 0.4 * ((k * 17) % 5) / 5)];
    const r = [nx * (0.06 + 0.02 * (k % 3)) + grow, ny * (0.05 + 0.02 * (k % 4)) + grow, nz * (0.08 + 0.03 * (k % 2)) + grow];
    const x0 = Math.max(0, Math.floor(c[0] - r[0])), x1 = Math.min(nx - 1, Math.ceil(c[0] + r[0]));
    const y0 = Math.max(0, Math.floor(c[1] - r[1])), y1 = Math.min(ny - 1, Math.ceil(c[1] + r[1]));
    const z0 = Math.max(0, Math.floor(c[2] - r[2])), z1 = Math.min(nz - 1, Math.ceil(c[2] + r[2]));
    for (let x = x0; x <= x1; x++) for (let y = y0; y <= y1; y++) for (let z = z0; z <= z1; z++) {
      const e = ((x - c[0]) / r[0]) ** 2 + ((y - c[1]) / r[1]) ** 2 + ((z - c[2]) / r[2]) ** 2;
      if (e <= 1) out[(x * ny + y) * nz + z] = k;
    }
  }
  return out;
}

const gt = labelMap(0, 0);
const pred = labelMap(3, 2);

const feature = new Uint8Array(n);
for (let i = 0; i < n; i += 104729) feature[i] = 1; // sparse features: the worst case for the envelope
// Two runs into the same output: the first includes JIT warm-up and the page faults of a fresh
// 300 MB array, the second is the steady state.
const edtOut = new Float32Array(n);
const edtRuns = [];
for (let r = 0; r < 2; r++) {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  squaredDistanceToFeatures(feature, [nx, ny, nz], spacing, edtOut);
  edtRuns.push({ wall: (performance.now() - t0) / 1000, cpu: process.cpuUsage(cpu0).user / 1e6 });
}

let t = performance.now();
let cpu = process.cpuUsage();
const report = evaluateSegmentation({ data: pred, shape: [nx, ny, nz], spacing }, { data: gt, shape: [nx, ny, nz], spacing }, { nsdTolerance: 2 });
const evalSeconds = (performance.now() - t) / 1000;
const evalCpu = process.cpuUsage(cpu).user / 1e6;

console.log(
  JSON.stringify(
    {
      shape: [nx, ny, nz],
      voxels: n,
      classes,
      edt_full_volume_cold: { wall_s: +edtRuns[0].wall.toFixed(3), cpu_s: +edtRuns[0].cpu.toFixed(3), cpu_ns_per_voxel: +((edtRuns[0].cpu * 1e9) / n).toFixed(1) },
      edt_full_volume_warm: { wall_s: +edtRuns[1].wall.toFixed(3), cpu_s: +edtRuns[1].cpu.toFixed(3), cpu_ns_per_voxel: +((edtRuns[1].cpu * 1e9) / n).toFixed(1) },
      evaluate_all_metrics_wall_s: +evalSeconds.toFixed(3),
      evaluate_all_metrics_cpu_s: +evalCpu.toFixed(3),
      mean: report.mean,
      node: process.version,
    },
    null,
    1,
  ),
);
