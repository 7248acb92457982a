// Runs a TypeScript entry point straight from the workspace sources, with no build, as native ESM
// (like the built packages): hooks.mjs compiles .ts on load with @swc/core (a root
// devDependency) and resolves `@swinmm/<name>` to packages/<name>/src or apps/<name>/src. Top-level
// await, dynamic import() of workspace packages and ESM-only dependencies (itk-wasm) all work.
// Usage: node tools/run-ts/run-ts.cjs <entry.ts> [args…]
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const nodeModule = require('node:module');

const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error('usage: node tools/run-ts/run-ts.cjs <entry.ts> [args…]');
  process.exit(2);
}
if (typeof nodeModule.register !== 'function') {
  console.error(`run-ts: Node ${process.version} has no module.register(); Node 20.6 or later is needed`);
  process.exit(2);
}
nodeModule.register('./hooks.mjs', pathToFileURL(__filename));
const entry = path.resolve(script);
process.argv = [process.argv[0], entry, ...args];
import(pathToFileURL(entry).href).catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
