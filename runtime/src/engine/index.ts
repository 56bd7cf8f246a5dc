/**
 * The pure BPMN engine: `compile` a diagram once per deployed definition, then `step` each
 * instance from wait state to wait state. See types.ts for the contract with the shell.
 */
export { compile, type CompileOptions, type CompileResult } from './model/compile.js';
export { awaitsJob, step } from './execution/step.js';
export { pectrackDescriptor } from './model/pectrack-descriptor.js';
export type { ExecutableProcess } from './model/graph.js';
export * from './types.js';
