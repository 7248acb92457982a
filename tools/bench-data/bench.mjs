// Read speed of @swinmm/data: how long readVolume takes on real volumes, median of 5, with the
// peak memory of the process. Run from the repository root after building the package:
//   npx nx run data:build && node tools/bench-data/bench.mjs [more volume paths …]
// The bundled ITK T1 (data/itk) is always measured; pass e.g. the Colin27 ch2.nii.gz as an
// argument. Each file is measured in a fresh child process so that its peak RSS is its own.
// Prints one JSON object per file. (The transforms session adds the preprocessing part.)
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

async function measure(path) {
  const { readVolume, checkImageFile } = await import('../../packages/data/dist/index.js');
  const { readImageNode } = await import('@itk-wasm/image-io');
  const ms = (t) => +(performance.now() - t).toFixed(1);
  // The first read also loads and compiles itk-wasm's NIfTI/NRRD/… pipelines.
  let t = performance.now();
  const first = await readVolume(path);
  const cold = ms(t);
  const read = [];
  const readCpu = [];
  const itkOnly = [];
  const checkOnly = [];
  for (let i = 0; i < REPEATS; i++) {
    t = performance.now();
    const c0 = process.cpuUsage();
    await readVolume(path);
    read.push(ms(t));
    // CPU time of this process (user + system): less sensitive to other jobs than wall time.
    const c = process.cpuUsage(c0);
    readCpu.push(+((c.user + c.system) / 1000).toFixed(1));
    t = performance.now();
    await readImageNode(path);
    itkOnly.push(ms(t));
    t = performance.now();
    await checkImageFile(path);
    checkOnly.push(ms(t));
  }
  const usage = process.resourceUsage();
  let min = Infinity;
  let max = -Infinity;
  for (const v of first.data) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    file: path,
    shape: first.shape,
    spacing: first.spacing,
    voxels: first.data.length,
    value_range: [min, max],
    cold_first_read_ms: cold,
    readVolume_median_ms: median(read),
    readVolume_ms: read,
    readVolume_cpu_median_ms: median(readCpu),
    itk_wasm_readImageNode_median_ms: median(itkOnly),
    file_check_median_ms: median(checkOnly),
    peak_rss_mb: +(usage.maxRSS / 1024).toFixed(1),
    heap_used_mb: +(process.memoryUsage().heapUsed / 2 ** 20).toFixed(1),
    node: process.version,
    // Timings on a shared machine are only comparable at a similar load.
    load_average_1min: +loadavg()[0].toFixed(2),
    cpus: cpus().length,
  };
}

if (process.argv[2] === '--one') {
  console.log(JSON.stringify(await measure(process.argv[3])));
} else {
  const files = [resolve(here, '../../data/itk/KmeansTest_T1UCharRaw.nii.gz'), ...process.argv.slice(2).map((p) => resolve(p))];
  for (const f of files) {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--one', f], { encoding: 'utf8' });
    if (child.status !== 0) {
      console.error(`bench failed on ${f}:\n${child.stderr}`);
      process.exitCode = 1;
      continue;
    }
    const line = child.stdout.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    console.log(JSON.stringify(JSON.parse(line), null, 1));
  }
}
