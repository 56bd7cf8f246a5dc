/**
 * Micro-benchmark of the pure engine (no database): start → user task → complete → exclusive
 * gateway → end, with the state going through JSON between the two steps as it does in the
 * store. Run: `npx tsx runtime/test/engine/bench-step.ts`.
 */
import { readFileSync } from 'node:fs';
import { compile, step, type Effect, type ExecutableProcess } from '../../src/engine/index.js';

const WARM_UP = 20_000;
const INSTANCES = 100_000;

async function load(xml: string): Promise<ExecutableProcess> {
  const result = await compile(xml);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.processes[0]!;
}

function runInstance(process: ExecutableProcess, index: number, now: Date): number {
  const started = step(
    process,
    null,
    { type: 'start', variables: { amount: index, urgency: index % 3 } },
    now,
  );
  const task = started.effects.find(
    (effect): effect is Extract<Effect, { type: 'createTask' }> => effect.type === 'createTask',
  )!;
  const stored = JSON.stringify(started.state);
  step(
    process,
    JSON.parse(stored),
    { type: 'completeTask', taskRef: task.taskRef, variables: { approved: index % 2 === 0 } },
    now,
  );
  return stored.length;
}

function measure(label: string, process: ExecutableProcess): void {
  const now = new Date();
  for (let index = 0; index < WARM_UP; index += 1) runInstance(process, index, now);
  let stateBytes = 0;
  const started = performance.now();
  for (let index = 0; index < INSTANCES; index += 1) stateBytes = runInstance(process, index, now);
  const seconds = (performance.now() - started) / 1000;
  const rate = Math.round(INSTANCES / seconds);
  const micros = ((seconds * 1e6) / INSTANCES).toFixed(1);
  console.log(
    `${label}: ${rate} instances/s, ${micros} µs/instance, waiting state ${stateBytes} bytes`,
  );
}

const xml = readFileSync(new URL('../fixtures/bpmn/simple-approval.bpmn', import.meta.url), 'utf8');
measure('engine simple-approval (=approved = true)', await load(xml));
measure(
  'engine simple-approval (=approved and urgency >= 0, FEEL over few distinct values)',
  await load(xml.replace('=approved = true', '=approved and urgency &gt;= 0')),
);
measure(
  'engine simple-approval (=approved and amount >= 0, FEEL over a new value every time)',
  await load(xml.replace('=approved = true', '=approved and amount &gt;= 0')),
);
