// keepDynamicImport: the real-data test reads NIfTI files through @swinmm/data, which loads the
// ESM-only itk-wasm with a dynamic import (jest then needs NODE_OPTIONS=--experimental-vm-modules).
module.exports = { ...require('../../jest.preset.cjs')({ keepDynamicImport: true }), displayName: 'transforms' };
