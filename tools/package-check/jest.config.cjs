module.exports = { ...require('../../jest.preset.cjs')(), displayName: 'package-check', testTimeout: 600000 };
