/** A runtime on a fresh test database, torn down (and the database dropped) after the suite. */
import { afterAll, beforeAll } from 'vitest';
import { createRuntime, type Runtime, type RuntimeOptions } from '../../src/runtime.js';
import type { TestDatabase } from './databases.js';

export function useRuntime(
  database: TestDatabase,
  options: RuntimeOptions = {},
  started = false,
): () => Runtime {
  let runtime: Runtime | undefined;
  let drop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    const created = await database.create();
    drop = created.drop;
    runtime = await createRuntime(created.config, options);
    if (started) await runtime.start();
  });
  afterAll(async () => {
    await runtime?.stop();
    await drop?.();
  });
  return () => {
    if (!runtime) throw new Error('the runtime is not ready');
    return runtime;
  };
}
