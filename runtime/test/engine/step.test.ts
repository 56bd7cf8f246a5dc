import { describe, expect, it } from 'vitest';
import { CommandRejected, step, type InstanceState } from '../../src/engine/index.js';
import { compileProcess, diagram, fixture, flows, NOW } from './helpers.js';

function rejection(run: () => unknown): CommandRejected {
  try {
    run();
  } catch (error) {
    if (error instanceof CommandRejected) return error;
    throw error;
  }
  throw new Error('expected the command to be rejected');
}

describe('step', () => {
  it('is pure: same input, same output, and the input state is left untouched', async () => {
    const process = await compileProcess(fixture('simple-approval.bpmn'));
    const started = step(
      process,
      null,
      { type: 'start', variables: { amount: 1 }, businessKey: 'PEC-1' },
      NOW,
    );
    const before = JSON.stringify(started.state);
    const command = { type: 'completeTask', taskRef: 't2', variables: { approved: true } } as const;
    const first = step(process, started.state, command, NOW);
    const second = step(process, started.state, command, NOW);
    expect(JSON.stringify(started.state)).toBe(before);
    expect(second).toEqual(first);
    expect(first.state.status).toBe('completed');
    expect(started.state.variables).toEqual({ amount: 1 });
  });

  it('keeps the waiting state small and JSON-shaped', async () => {
    const process = await compileProcess(fixture('simple-approval.bpmn'));
    const { state, effects } = step(
      process,
      null,
      { type: 'start', variables: {}, businessKey: 'PEC-1' },
      NOW,
    );
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(state).toEqual({
      status: 'active',
      variables: {},
      seq: 2,
      tokens: [
        {
          id: 1,
          scope: 0,
          el: 'review',
          via: 'to-review',
          wait: { k: 'task', ref: 't2' },
          timers: null,
        },
      ],
    });
    expect(effects[0]).toEqual({
      type: 'history',
      event: 'processStarted',
      elementId: 'simple-approval',
      elementType: 'process',
      data: { businessKey: 'PEC-1' },
    });
  });

  it('rejects commands that do not fit the instance, with a code', async () => {
    const process = await compileProcess(fixture('simple-approval.bpmn'));
    const { state } = step(process, null, { type: 'start', variables: {} }, NOW);
    expect(rejection(() => step(process, state, { type: 'start', variables: {} }, NOW)).code).toBe(
      'invalid-command',
    );
    expect(rejection(() => step(process, null, { type: 'cancel', reason: 'x' }, NOW)).code).toBe(
      'invalid-command',
    );
    const unknown = rejection(() =>
      step(process, state, { type: 'completeTask', taskRef: 't99', variables: {} }, NOW),
    );
    expect([unknown.code, unknown.message]).toEqual([
      'unknown-ref',
      'task t99 is not open in this instance',
    ]);
    expect(
      rejection(() => step(process, state, { type: 'triggerTimer', timerRef: 'tm1' }, NOW)).code,
    ).toBe('unknown-ref');
    expect(
      rejection(() =>
        step(process, state, { type: 'connectorResult', jobRef: 'j1', ok: true, output: {} }, NOW),
      ).code,
    ).toBe('unknown-ref');
    const badVariables = {
      type: 'completeTask',
      taskRef: 't2',
      variables: [1],
    } as unknown as Parameters<typeof step>[2];
    expect(rejection(() => step(process, state, badVariables, NOW)).message).toBe(
      'variables must be an object of name → value',
    );
    const ended: InstanceState = { ...state, status: 'completed' };
    expect(
      rejection(() =>
        step(process, ended, { type: 'completeTask', taskRef: 't2', variables: {} }, NOW),
      ).code,
    ).toBe('instance-ended');
  });

  it('refuses a command that would loop forever without a wait state', async () => {
    const loop = await compileProcess(
      diagram(
        `<bpmn:startEvent id="start" /><bpmn:task id="a" /><bpmn:task id="b" />${flows('start>a', 'a>b', 'b>a')}`,
      ),
    );
    const error = rejection(() => step(loop, null, { type: 'start', variables: {} }, NOW));
    expect(error.code).toBe('invalid-command');
    expect(error.message).toMatch(/the process loops at (a|b) without reaching a wait state/);
  });

  it('ends a token on an element without outgoing flows (implicit end)', async () => {
    const implicit = await compileProcess(
      diagram(`<bpmn:startEvent id="start" /><bpmn:task id="last" />${flows('start>last')}`),
    );
    const { state, effects } = step(implicit, null, { type: 'start', variables: {} }, NOW);
    expect(state.status).toBe('completed');
    expect(effects.at(-1)).toEqual({ type: 'ended', status: 'completed' });
  });
});
