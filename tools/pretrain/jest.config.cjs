// Runs the pre-training tool scripts (*.tool.ts) through jest, which resolves the workspace
// sources, the '@swinmm/<pkg>/<subpath>' entry points, the apps and the ESM-only itk-wasm the same
// way the tests do. Usage: see README.md.
module.exports = {
  ...require('../../jest.preset.cjs')({ keepDynamicImport: true }),
  rootDir: __dirname,
  displayName: 'pretrain-tools',
  testMatch: ['<rootDir>/*.tool.ts'],
  testTimeout: 24 * 3600 * 1000,
};
