// Runs a TypeScript entry point straight from the workspace sources, with no build: .ts files are
// compiled on load with @swc/core (a root devDependency); `@swinmm/<name>` resolves to
// packages/<name>/src/index.ts or apps/<name>/src/index.ts (and `@swinmm/<name>/<sub>` to
// src/<sub>/index.ts), `./x.js` to `./x.ts`, as in tsc and jest. Dynamic `import()` is kept as a
// real import, because itk-wasm (image I/O) is ESM only.
// Usage: node tools/bench-finetune/run-ts.cjs <entry.ts> [args…]
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  const pkg = /^@swinmm\/([a-z0-9-]+)(?:\/([a-z0-9-]+))?$/.exec(request);
  if (pkg) {
    for (const dir of ['packages', 'apps']) {
      const src = path.join(root, dir, pkg[1], 'src', ...(pkg[2] ? [pkg[2]] : []), 'index.ts');
      if (fs.existsSync(src)) return src;
    }
  }
  if (request.startsWith('.') && request.endsWith('.js') && parent && parent.filename && parent.filename.endsWith('.ts')) {
    const ts = path.resolve(path.dirname(parent.filename), request.slice(0, -3) + '.ts');
    if (fs.existsSync(ts)) return ts;
  }
  return originalResolve.call(this, request, parent, ...rest);
};
Module._extensions['.ts'] = function compile(module, filename) {
  const { code } = swc.transformSync(fs.readFileSync(filename, 'utf8'), {
    filename,
    jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
    module: { type: 'commonjs', ignoreDynamic: true },
  });
  module._compile(code, filename);
};

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node tools/bench-finetune/run-ts.cjs <entry.ts> [args…]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(script), ...args];
require(path.resolve(script));
