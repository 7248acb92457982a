module.exports = { ...require('../../jest.preset.cjs')({ keepDynamicImport: true }), displayName: 'finetune', testTimeout: 600000 };
