// Runs a TypeScript tool script straight from the workspace sources, without a build: .ts files
// are compiled on load with @swc/core (a root devDependency), `@swinmm/<pkg>` resolves to
// packages/<pkg>/src/index.ts and `./x.js` imports resolve to `./x.ts`, as in jest and tsc.
// Usage: node tools/weights/run-ts.cjs <script.ts> [args…]
const Module = require('node:module');
const fs = require('node:fs');
const path = require('node:path');
const swc = require('@swc/core');

const root = path.resolve(__dirname, '../..');
const originalResolve = Module._resolveFilename;
Module._resolveFilename = function resolve(request, parent, ...rest) {
  const pkg = /^@swinmm\/([a-z0-9-]+)$/.exec(request);
  if (pkg) {
    const src = path.join(root, 'packages', pkg[1], 'src', 'index.ts');
    if (fs.existsSync(src)) return src;
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
    module: { type: 'commonjs' },
  });
  module._compile(code, filename);
};

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node tools/weights/run-ts.cjs <script.ts> [args…]');
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(script), ...args];
require(path.resolve(script));
