module.exports = { ...require('../../jest.preset.cjs')({ keepDynamicImport: true }), displayName: 'demo', testTimeout: 600000 };
