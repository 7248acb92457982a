/**
 * The version `swinmm --version` prints. Kept in step with this app's package.json by a test
 * (reading package.json at run time would need `import.meta`, which the test runner's CommonJS
 * transform does not provide).
 */
export const CLI_VERSION = '0.1.0';
