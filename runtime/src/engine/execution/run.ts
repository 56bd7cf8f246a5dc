import { behaviours } from '../behaviours/index.js';
import { evaluateExpression } from '../expressions/evaluate.js';
import {
  firstFiring,
  nextFiring,
  type TimerFiring,
  type TimerOutcome,
} from '../expressions/timer.js';
import type { ExecutableProcess, FlowNode, TimerDefinition } from '../model/graph.js';
import { selectFlows, type IncidentType } from './flow-selection.js';
import { CommandRejected, type ConnectorJob, type Effect, type Variables } from '../types.js';
import {
  ROOT_SCOPE,
  type BoundaryTimer,
  type EngineState,
  type IncidentPhase,
  type IncidentWait,
  type Token,
  type Wait,
} from './state.js';

type Action = 'enter' | 'leave';

/** A diagram that loops without reaching a wait state would otherwise never return. */
const MAX_ACTIONS_PER_STEP = 10_000;

/**
 * One step of one instance: a working copy of the state, the queue of token moves still to
 * make, and the effects produced so far. The input state is never mutated: arrays are copied
 * and tokens, being immutable, are replaced.
 */
export class Run {
  readonly effects: Effect[] = [];
  status: EngineState['status'];
  variables: Variables;
  private tokens: Token[];
  private seq: number;
  private readonly queue: { action: Action; tokenId: number }[] = [];
  private actions = 0;

  constructor(
    readonly process: ExecutableProcess,
    state: EngineState,
    readonly now: Date,
  ) {
    this.status = state.status;
    this.variables = state.variables;
    this.tokens = state.tokens.slice();
    this.seq = state.seq;
  }

  toState(): EngineState {
    return { status: this.status, variables: this.variables, seq: this.seq, tokens: this.tokens };
  }

  node(token: Token): FlowNode {
    return this.process.nodes.get(token.el)!;
  }

  ref(prefix: string): string {
    this.seq += 1;
    return `${prefix}${this.seq}`;
  }

  /** The next job of each connector call an incident retry repeats, by token: see ConnectorJob. */
  private readonly repeatedCalls = new Map<number, ConnectorJob>();

  repeatCall(token: Token, job: ConnectorJob): void {
    this.repeatedCalls.set(token.id, job);
  }

  /** The job for a token's connector call: the repeated call's next one, else a new call's. */
  connectorJob(token: Token): ConnectorJob {
    const repeated = this.repeatedCalls.get(token.id);
    this.repeatedCalls.delete(token.id);
    return repeated ?? { jobRef: this.ref('j') };
  }

  emit(effect: Effect): void {
    this.effects.push(effect);
  }

  history(
    event: Extract<Effect, { type: 'history' }>['event'],
    node: FlowNode | null,
    data?: Variables,
  ): void {
    const effect: Effect = {
      type: 'history',
      event,
      elementId: node === null ? this.process.id : node.id,
      elementType: node === null ? 'process' : node.type,
    };
    if (data !== undefined) effect.data = data;
    this.effects.push(effect);
  }

  mergeVariables(changes: Variables): void {
    if (Object.keys(changes).length === 0) return;
    this.variables = { ...this.variables, ...changes };
    this.history('variablesChanged', null, changes);
  }

  // Tokens ------------------------------------------------------------------------------------

  find(predicate: (token: Token) => boolean): Token | undefined {
    return this.tokens.find(predicate);
  }

  tokensIn(scope: number): Token[] {
    return this.tokens.filter((token) => token.scope === scope);
  }

  createToken(scope: number, el: string, via: string | null): Token {
    this.seq += 1;
    const token: Token = { id: this.seq, scope, el, via, wait: null, timers: null };
    this.tokens.push(token);
    return token;
  }

  /** Replaces the stored token (not the caller's copy, which may be stale) with a changed one. */
  update(token: Token, changes: Partial<Omit<Token, 'id'>>): Token {
    const index = this.tokens.findIndex((candidate) => candidate.id === token.id);
    const next: Token = { ...this.tokens[index]!, ...changes };
    this.tokens[index] = next;
    return next;
  }

  wait(token: Token, wait: Wait): Token {
    return this.update(token, { wait });
  }

  remove(token: Token): void {
    this.tokens = this.tokens.filter((candidate) => candidate.id !== token.id);
  }

  // The agenda --------------------------------------------------------------------------------

  schedule(action: Action, token: Token): void {
    this.queue.push({ action, tokenId: token.id });
  }

  /** Moves tokens until every one of them waits. */
  drain(): void {
    for (;;) {
      while (this.queue.length > 0) {
        const { action, tokenId } = this.queue.shift()!;
        const token = this.tokens.find((candidate) => candidate.id === tokenId);
        if (token !== undefined) this.perform(action, token);
      }
      if (!this.process.hasInclusiveJoins || !this.releaseInclusiveJoins()) return;
    }
  }

  private perform(action: Action, token: Token): void {
    this.actions += 1;
    if (this.actions > MAX_ACTIONS_PER_STEP) {
      throw new CommandRejected(
        'invalid-command',
        `the process loops at ${token.el} without reaching a wait state`,
      );
    }
    if (action === 'enter') this.enter(token);
    else this.leave(token);
  }

  private enter(token: Token): void {
    this.history('elementStarted', this.node(token));
    this.activate(token);
  }

  /** Arms the activity's boundary timers, then runs its behaviour. */
  activate(token: Token): void {
    const node = this.node(token);
    if (node.boundaryTimerIds.length > 0) {
      const timers = this.armBoundaryTimers(token, node);
      if (timers === null) return;
      token = this.update(token, { timers });
    }
    this.execute(token);
  }

  execute(token: Token): void {
    const node = this.node(token);
    behaviours[node.kind].execute(this, token, node);
  }

  private armBoundaryTimers(token: Token, node: FlowNode): BoundaryTimer[] | null {
    const firings: [FlowNode, TimerFiring][] = [];
    for (const boundaryId of node.boundaryTimerIds) {
      const boundary = this.process.nodes.get(boundaryId)!;
      const firing = this.planTimer(boundary.timer!);
      if (!firing.ok) {
        this.raiseIncident(
          token,
          'expression',
          `timer of ${boundaryId}: ${firing.message}`,
          'activate',
        );
        return null;
      }
      firings.push([boundary, firing.firing]);
    }
    return firings.map(([boundary, firing]) => this.scheduleTimer(boundary, firing));
  }

  planTimer(timer: TimerDefinition): TimerOutcome {
    const value = evaluateExpression(timer.value, this.variables);
    return value.ok ? firstFiring(timer.kind, value.value, this.now) : value;
  }

  scheduleTimer(node: FlowNode, firing: TimerFiring): BoundaryTimer {
    const ref = this.ref('tm');
    this.emit({ type: 'scheduleTimer', timerRef: ref, elementId: node.id, dueAt: firing.dueAt });
    return {
      ref,
      el: node.id,
      dueAt: firing.dueAt,
      remaining: firing.remaining,
      period: firing.period,
    };
  }

  /** A non-interrupting cycle re-arms after each firing until exhausted. */
  rearmBoundaryTimer(token: Token, fired: BoundaryTimer): Token {
    const next = nextFiring(fired);
    const others = token.timers!.filter((timer) => timer.ref !== fired.ref);
    const boundary = this.process.nodes.get(fired.el)!;
    const timers = next === null ? others : [...others, this.scheduleTimer(boundary, next)];
    return this.update(token, { timers: timers.length === 0 ? null : timers });
  }

  // Leaving an element ------------------------------------------------------------------------

  /** Completes the token's element and moves it along the flows its conditions select. */
  leave(token: Token): void {
    const node = this.node(token);
    const selection = selectFlows(node, this.variables);
    if (!selection.ok) {
      this.raiseIncident(token, selection.type, selection.message, 'leave');
      return;
    }
    this.history('elementCompleted', node);
    this.disarmBoundaryTimers(token);
    const [first, ...others] = selection.flows;
    if (first === undefined) {
      this.consume(token);
      return;
    }
    this.schedule(
      'enter',
      this.update(token, { el: first.target, via: first.id, wait: null, timers: null }),
    );
    for (const flow of others)
      this.schedule('enter', this.createToken(token.scope, flow.target, flow.id));
  }

  // Ending tokens and scopes ------------------------------------------------------------------

  /** The token ends here; its scope completes when it was the last one. */
  consume(token: Token): void {
    this.remove(token);
    if (!this.tokens.some((candidate) => candidate.scope === token.scope))
      this.completeScope(token.scope);
  }

  /** A terminate end event: every other token of the scope is cancelled, then the scope completes. */
  terminateScope(token: Token): void {
    for (const other of this.tokensIn(token.scope)) if (other.id !== token.id) this.cancel(other);
    this.consume(token);
  }

  private completeScope(scope: number): void {
    if (scope === ROOT_SCOPE) {
      this.status = 'completed';
      this.history('processCompleted', null);
      this.emit({ type: 'ended', status: 'completed' });
      return;
    }
    const owner = this.find((candidate) => candidate.id === scope)!;
    this.schedule('leave', this.update(owner, { wait: null }));
  }

  /** Withdraws a token and everything it waits on: tasks, timers, subscriptions, inner scopes. */
  cancel(token: Token): void {
    const wait = token.wait;
    if (wait?.k === 'task') this.emit({ type: 'cancelTask', taskRef: wait.ref });
    else if (wait?.k === 'timer') this.emit({ type: 'cancelTimer', timerRef: wait.ref });
    else if (wait?.k === 'message') this.emit({ type: 'unsubscribe', subscriptionRef: wait.ref });
    else if (wait?.k === 'incident') this.emit({ type: 'incidentResolved', incidentRef: wait.ref });
    else if (wait?.k === 'scope') for (const inner of this.tokensIn(token.id)) this.cancel(inner);
    this.disarmBoundaryTimers(token);
    this.history('elementCancelled', this.node(token));
    this.remove(token);
  }

  private disarmBoundaryTimers(token: Token): void {
    for (const timer of token.timers ?? []) this.emit({ type: 'cancelTimer', timerRef: timer.ref });
  }

  cancelInstance(reason: string): void {
    for (const token of this.tokensIn(ROOT_SCOPE)) this.cancel(token);
    this.status = 'terminated';
    this.history('processTerminated', null, { reason });
    this.emit({ type: 'ended', status: 'terminated' });
  }

  // Incidents ---------------------------------------------------------------------------------

  raiseIncident(
    token: Token,
    type: IncidentType,
    message: string,
    phase: IncidentPhase,
    keep: Pick<IncidentWait, 'output' | 'jobRef' | 'retries'> = {},
  ): void {
    const ref = this.ref('i');
    this.wait(token, { k: 'incident', ref, phase, ...keep });
    this.emit({
      type: 'incident',
      incidentRef: ref,
      elementId: token.el,
      incidentType: type,
      message,
    });
  }

  // Joins -------------------------------------------------------------------------------------

  /**
   * Fires every inclusive join that no other token of its scope can still reach. Runs after the
   * agenda empties, because any token ending or moving may be what a join was waiting for.
   */
  private releaseInclusiveJoins(): boolean {
    for (const waiting of this.tokens) {
      if (waiting.wait?.k !== 'join' || this.node(waiting).kind !== 'inclusiveGateway') continue;
      const blocked = this.tokens.some(
        (other) =>
          other.scope === waiting.scope &&
          !(other.el === waiting.el && other.wait?.k === 'join') &&
          this.node(other).reachableJoins.has(waiting.el),
      );
      if (!blocked) {
        this.mergeJoin(
          waiting,
          this.tokens.filter(
            (other) =>
              other.scope === waiting.scope && other.el === waiting.el && other.wait?.k === 'join',
          ),
        );
        return true;
      }
    }
    return false;
  }

  /** Replaces the arrivals at a join by one token that leaves the gateway. */
  mergeJoin(survivor: Token, arrivals: readonly Token[]): void {
    for (const arrival of arrivals) if (arrival.id !== survivor.id) this.remove(arrival);
    this.schedule('leave', this.update(survivor, { wait: null }));
  }
}
