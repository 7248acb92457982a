module.exports = { ...require('../../jest.preset.cjs')({ keepDynamicImport: true }), displayName: 'pretrain' };
