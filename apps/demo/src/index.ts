/**
 * `@swinmm/demo`: the end-to-end SwinMM demo on the bundled ITK T1 MRI ({@link runDemo}), run by
 * `npm run demo` and `swinmm demo`.
 *
 * @packageDocumentation
 */
export { runDemo, type DemoOptions, type DemoResult } from './demo.js';
