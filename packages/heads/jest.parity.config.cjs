// Full-size parity runs that are too heavy for the default test target on the 2-core CPU
// machines (`npx nx run heads:parity`); same settings, other folder, no timeout worth speaking of.
module.exports = { ...require('../../jest.preset.cjs')(), displayName: 'heads-parity', testMatch: ['<rootDir>/parity/**/*.parity.ts'], testTimeout: 4 * 3600 * 1000 };
