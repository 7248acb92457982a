// Speed of read + SwinMM fine-tuning preprocessing (@swinmm/data + @swinmm/transforms) on real
// volumes, median of 5 after one warm-up, with the peak memory of the process. Each image/label
// pair runs in a fresh child process so that its peak RSS is its own. Run from the repository
// root after building the packages:
//   npx nx run-many -t build -p data transforms runtime
//   node tools/bench-data/preprocess.mjs                       # the bundled ITK T1 + k-means labels
//   node tools/bench-data/preprocess.mjs ../shared/data/mricron/ch2.nii.gz:../shared/data/mricron/aal.nii.gz
// An argument is `image[:label]`; without a label the image's foreground (> 0) stands in for it.
// Steps (SPEC.md §7.5): read → Orientation RAS → Spacing 1.5×1.5×2 mm (bilinear image, nearest
// label) → ScaleIntensityRange(−175, 250 → 0, 1, clip) → RandCropByPosNegLabel (4 × 64³, pos 1,
// neg 1, image threshold 0) → RandFlip ×3 (p 0.2) → RandRotate90 (p 0.2) → RandScaleIntensity /
// RandShiftIntensity (0.1, p 0.1). Prints one JSON object per pair.
import { spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const REPEATS = 5;

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function measure(imagePath, labelPath) {
  const data = await import('../../packages/data/dist/index.js');
  const tx = await import('../../packages/transforms/dist/index.js');
  const { Rng } = await import('../../packages/runtime/dist/index.js');
  const ms = (t) => +(performance.now() - t).toFixed(1);
  const deterministic = tx.finetuneDeterministicSteps().map((step) => tx.compose(step));
  const random = tx.compose(...tx.finetuneRandomSteps());
  const names = ['read', 'orientation', 'spacing', 'scaleIntensityRange', 'random_crops_and_augmentation', 'total'];
  const times = Object.fromEntries(names.map((n) => [n, []]));
  let last;
  for (let rep = 0; rep <= REPEATS; rep++) {
    const t0 = performance.now();
    let t = t0;
    const image = await data.readVolume(imagePath);
    const label = labelPath ? await data.readLabel(labelPath) : data.withData(image, Uint8Array.from(image.data, (v) => (v > 0 ? 1 : 0)));
    const tRead = ms(t);
    let sample = { image, label };
    const stepTimes = [];
    for (const step of deterministic) {
      t = performance.now();
      sample = step(sample)[0];
      stepTimes.push(ms(t));
    }
    t = performance.now();
    const crops = random(sample, Rng.fromSeed(rep));
    const tRandom = ms(t);
    const total = ms(t0);
    if (rep > 0) {
      // rep 0 warms up itk-wasm's pipelines and the JIT.
      times.read.push(tRead);
      times.orientation.push(stepTimes[0]);
      times.spacing.push(stepTimes[1]);
      times.scaleIntensityRange.push(stepTimes[2]);
      times.random_crops_and_augmentation.push(tRandom);
      times.total.push(total);
    }
    last = { input: image, resampled: sample.image, crops };
  }
  const usage = process.resourceUsage();
  return {
    image: imagePath,
    label: labelPath ?? '(image > 0)',
    input_shape: last.input.shape,
    input_spacing: last.input.spacing.map((s) => +s.toFixed(4)),
    resampled_shape: last.resampled.shape,
    crops: last.crops.map((c) => c.image.shape),
    median_ms: Object.fromEntries(names.map((n) => [n, median(times[n])])),
    all_ms: times,
    peak_rss_mb: +(usage.maxRSS / 1024).toFixed(1),
    node: process.version,
    // Timings on a shared machine are only comparable at a similar load.
    load_average_1min: +loadavg()[0].toFixed(2),
    cpus: cpus().length,
  };
}

if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await measure(process.argv[3], process.argv[4] || undefined)));
} else {
  const pairs = [
    [resolve(here, '../../data/itk/KmeansTest_T1UCharRaw.nii.gz'), resolve(here, '../../data/itk/KmeansTest_T1KmeansPrelimSegmentation.nii.gz')],
    ...process.argv.slice(2).map((arg) => {
      const [img, lab] = arg.split(':');
      return [resolve(img), lab ? resolve(lab) : ''];
    }),
  ];
  for (const [img, lab] of pairs) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', img, lab], { encoding: 'utf8', maxBuffer: 1 << 24 });
    if (child.status !== 0) {
      console.error(`preprocess bench failed on ${img}:\n${child.stderr}`);
      process.exitCode = 1;
      continue;
    }
    const line = child.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    console.log(JSON.stringify(JSON.parse(line), null, 1));
  }
}
