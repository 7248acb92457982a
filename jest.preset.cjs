// Shared jest settings for every project. Tests run TypeScript through @swc/jest (type-checking
// is the separate `typecheck` target). Workspace packages resolve to their sources, so a test
// never needs a prior build.
const path = require('node:path');

const root = __dirname;

/**
 * @param {{ keepDynamicImport?: boolean }} [options] keepDynamicImport leaves `import()` as a real
 *   dynamic import, needed for ESM-only dependencies (itk-wasm); jest must then run with
 *   NODE_OPTIONS=--experimental-vm-modules.
 */
module.exports = function jestPreset(options = {}) {
  return {
    testEnvironment: 'node',
    testMatch: ['<rootDir>/test/**/*.test.ts'],
    transform: {
      '^.+\\.ts$': [
        '@swc/jest',
        {
          jsc: { parser: { syntax: 'typescript' }, target: 'es2022' },
          module: { type: 'commonjs', ignoreDynamic: Boolean(options.keepDynamicImport) },
        },
      ],
    },
    moduleNameMapper: {
      // Apps that other apps import (the CLI's commands) resolve to their sources too.
      '^@swinmm/(finetune|pretrain)$': path.join(root, 'apps/$1/src/index.ts'),
      '^@swinmm/([a-z0-9-]+)$': path.join(root, 'packages/$1/src/index.ts'),
      // Subpath exports (e.g. '@swinmm/transforms/tensor') map to src/<subpath>/index.ts.
      '^@swinmm/([a-z0-9-]+)/([a-z0-9-]+)$': path.join(root, 'packages/$1/src/$2/index.ts'),
      '^(\\.{1,2}/.*)\\.js$': '$1',
    },
    testTimeout: 120000,
  };
};
