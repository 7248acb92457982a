// Module hooks of run-ts.cjs (registered with node:module register(), so they run on Node's
// loader thread). Every module is loaded as native ESM, as the built packages are: `.ts` files
// are compiled on load with @swc/core (types stripped, nothing else changed), `@swinmm/<name>`
// (and `@swinmm/<name>/<sub>`) resolves to the workspace sources instead of the unbuilt dist, and
// a `./x.js` import from a `.ts` file resolves to `./x.ts` as in tsc. Static imports, dynamic
// `import()` and ESM-only dependencies (itk-wasm) therefore all take the same path and share one
// instance of each module.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);
const swc = require('@swc/core');
const root = fileURLToPath(new URL('../..', import.meta.url));

/** The source file of a workspace package specifier, or null. */
function workspaceSource(specifier) {
  const m = /^@swinmm\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(specifier);
  if (!m) return null;
  for (const dir of ['packages', 'apps']) {
    const src = join(root, dir, m[1], 'src', ...(m[2] ? [m[2]] : []), 'index.ts');
    if (existsSync(src)) return src;
  }
  return null;
}

export async function resolve(specifier, context, nextResolve) {
  const src = workspaceSource(specifier);
  if (src) return { url: pathToFileURL(src).href, shortCircuit: true };
  if (/^\.{1,2}\//.test(specifier) && specifier.endsWith('.js') && context.parentURL && context.parentURL.endsWith('.ts')) {
    const url = new URL(specifier.slice(0, -3) + '.ts', context.parentURL);
    if (existsSync(fileURLToPath(url))) return { url: url.href, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}

export async function load(url, context, nextLoad) {
  if (url.startsWith('file:') && url.endsWith('.ts')) {
    const filename = fileURLToPath(url);
    const { code } = await swc.transform(await readFile(filename, 'utf8'), {
      filename,
      jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
      module: { type: 'es6' },
      sourceMaps: 'inline',
    });
    return { format: 'module', source: code, shortCircuit: true };
  }
  return nextLoad(url, context);
}
