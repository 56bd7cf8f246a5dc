import { describe, expect, it } from 'vitest';
import type { Effect, StepResult } from '../../src/engine/types.js';
import { changeFromStep, type StepContext } from '../../src/services/effects.js';

const now = new Date('2030-01-01T08:00:00.000Z');
const context: StepContext = {
  before: null,
  instanceId: 'i1',
  tenantId: 'default',
  definitionId: 'd:1',
  businessKey: 'PEC-7',
  now,
  actor: 'mario',
};
const task = {
  kind: 'user',
  name: null,
  assignee: null,
  candidateUsers: [],
  candidateOffices: ['protocollo'],
  dueAt: null,
  priority: 50,
  formKey: null,
} as const;

const step = (effects: Effect[]): StepResult => ({
  state: { status: 'active', variables: {} },
  effects,
});

describe('changeFromStep', () => {
  it('turns effects into rows with global ids and one outbox row per external effect', () => {
    const change = changeFromStep(
      context,
      step([
        { type: 'createTask', taskRef: 't1', elementId: 'review', task },
        {
          type: 'scheduleTimer',
          timerRef: 'tm1',
          elementId: 'deadline',
          dueAt: '2030-01-02T08:00:00.000Z',
        },
        {
          type: 'invokeConnector',
          jobRef: 'j1',
          elementId: 'notify',
          connectorType: 'email',
          input: { to: 'a@b.it' },
        },
        { type: 'history', event: 'processStarted', elementId: null, elementType: null },
      ]),
    );
    expect(change.expectedVersion).toBeNull();
    expect(change.instance).toMatchObject({
      id: 'i1',
      version: 1,
      businessKey: 'PEC-7',
      startedAt: now,
    });
    expect(change.tasksCreated.map((t) => [t.id, t.candidateOffices])).toEqual([
      ['i1:t1', ['protocollo']],
    ]);
    expect(change.subscriptionsCreated).toEqual([
      expect.objectContaining({ id: 'i1:tm1', kind: 'timer' }),
    ]);
    expect(change.outbox.map((o) => [o.kind, o.idempotencyKey])).toEqual([
      ['scheduleTimer', 'scheduleTimer:i1:tm1:1'],
      ['invokeConnector', 'invokeConnector:i1:j1:1'],
    ]);
    expect(change.history).toHaveLength(1);
  });

  it('writes neither a task nor a wait that the same step opened and closed', () => {
    const change = changeFromStep(
      context,
      step([
        { type: 'createTask', taskRef: 't1', elementId: 'review', task },
        { type: 'createTask', taskRef: 't2', elementId: 'sign', task },
        {
          type: 'subscribe',
          subscriptionRef: 's1',
          elementId: 'reply',
          messageName: 'pec.reply',
          correlationKey: 'k',
        },
        { type: 'cancelTask', taskRef: 't1' },
        { type: 'unsubscribe', subscriptionRef: 's1' },
        { type: 'ended', status: 'terminated' },
      ]),
    );
    expect(change.tasksCreated.map((t) => t.id)).toEqual(['i1:t2']);
    expect(change.tasksClosed).toEqual([]);
    expect(change.subscriptionsCreated).toEqual([]);
    expect(change.subscriptionsRemoved).toEqual([]);
    expect(change.instance).toMatchObject({ status: 'terminated', endedAt: now });
  });
});
