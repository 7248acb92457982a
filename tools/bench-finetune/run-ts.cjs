// Kept so that commands naming this path (apps/demo/project.json, apps/demo/README.md) keep
// working: the runner itself is tools/run-ts/run-ts.cjs.
require('../run-ts/run-ts.cjs');
