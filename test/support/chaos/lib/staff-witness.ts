/**
 * What the staff-loop kind watches and where it injects faults, at the ports of the loop:
 *   Trace          one sequence over the run: every claim of an escalation step (escalate, take-over,
 *                  a deferred send's re-check), every acknowledgement write, every send attempt and what
 *                  the Telegram emulator really got from it (its message count per chat before and after);
 *   tracedStore    the real StateStore, each step claim and acknowledgement numbered as it starts and answers;
 *   tracedDeliverer  the real deliverer (its `attendance` kept synchronous), each attempt numbered and
 *                  measured at the emulator, with an optional hold while it is under way (a slow send);
 *   StaffFaultyDynamoDb  the DynamoDB client to DynamoDB Local with a seeded error / late / slow fault on
 *                  any call, its kinds named finely enough for the staff loop (escalate, acknowledge, bot lease…).
 * The judge (staff-judge.ts) reads only the Trace, the emulator and the DynamoDB records.
 */
import type { Deliverer, DeliveryRequest, DeliveryResult } from '../../../../lambda/domain/delivery';
import type { AckOutcome, PressAnswer, StaffBot, StaffPress } from '../../../../lambda/domain/ports';
import type { ClaimedRecord } from '../../../../lambda/domain/record';
import type { DynamoDb } from '../../../../lambda/state/dynamodb';
import type { StateStore } from '../../../../lambda/state/store';
import { type DynamoFault, faultInjectingDynamoDb } from '../../faulty-dynamodb';
import type { ManualClock } from '../../harness';

export interface StepClaim {
  readonly recordId: string;
  readonly phase: number;
  readonly owner: string;
  readonly via: string;
  /** Sequence numbers: the write was sent at `reqSeq` and answered at `ansSeq`; its condition ran between. */
  readonly reqSeq: number;
  readonly ansSeq: number;
}

export interface AckWrite {
  readonly recordId: string;
  readonly pressId: string;
  readonly reqSeq: number;
  readonly ansSeq: number;
  /** What the store answered; `error` = no answer (it may have been applied). */
  readonly outcome: AckOutcome['outcome'] | 'error';
}

export interface SendAttempt {
  readonly recordId: string;
  readonly hash: string;
  readonly phase: number;
  readonly owner: string;
  readonly startSeq: number;
  readonly endSeq: number;
  readonly at: number;
  /** Messages of this call the emulator received in the attempt's chat during the attempt. */
  readonly reached: number;
}

export interface PressAnswerSeen {
  readonly pressId: string;
  readonly byId: string;
  readonly recordId: string | undefined;
  readonly answer: PressAnswer;
}

export class Trace {
  #seq = 0;
  readonly claims: StepClaim[] = [];
  readonly acks: AckWrite[] = [];
  readonly attempts: SendAttempt[] = [];
  /** Answers the presser surely saw (answerCallbackQuery answered). */
  readonly answers: PressAnswerSeen[] = [];
  /** Presses the staff bot returned, in the order read (a press read again appears again). */
  readonly read: StaffPress[] = [];

  next(): number {
    this.#seq += 1;
    return this.#seq;
  }
}

/** The store, its step claims and acknowledgements written into the trace. */
export function tracedStore(store: StateStore, trace: Trace): StateStore {
  const claim = (recordId: string, owner: string, via: string, reqSeq: number, got: ClaimedRecord | undefined) => {
    if (got !== undefined && got.phase > 0)
      trace.claims.push({ recordId, phase: got.phase, owner, via, reqSeq, ansSeq: trace.next() });
  };
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...a: unknown[]) => Promise<unknown>;
      if (property === 'escalate' || property === 'takeOver') {
        return async (...args: unknown[]) => {
          const reqSeq = trace.next();
          try {
            const got = (await method.apply(target, args)) as ClaimedRecord | undefined;
            claim(String(args[1]), String(args[2]), property, reqSeq, got);
            return got;
          } catch (error) {
            // Unanswered: it may have been applied (then its retry finds it as its own, later).
            const expectPhase = (args[3] as { expectPhase?: number }).expectPhase;
            if (property === 'escalate' && expectPhase !== undefined)
              trace.claims.push({
                recordId: String(args[1]),
                phase: expectPhase + 1,
                owner: String(args[2]),
                via: 'escalate (unanswered)',
                reqSeq,
                ansSeq: trace.next(),
              });
            throw error;
          }
        };
      }
      if (property === 'confirmStep') {
        return async (...args: unknown[]) => {
          const reqSeq = trace.next();
          const got = await method.apply(target, args);
          const phase = (args[3] as { phase: number }).phase;
          if (got === 'confirmed')
            trace.claims.push({
              recordId: String(args[1]),
              phase,
              owner: String(args[2]),
              via: 'confirmStep',
              reqSeq,
              ansSeq: trace.next(),
            });
          return got;
        };
      }
      if (property === 'acknowledge') {
        return async (...args: unknown[]) => {
          const reqSeq = trace.next();
          const recordId = String(args[1]);
          const pressId = (args[2] as { pressId: string }).pressId;
          try {
            const got = (await method.apply(target, args)) as AckOutcome;
            trace.acks.push({ recordId, pressId, reqSeq, ansSeq: trace.next(), outcome: got.outcome });
            return got;
          } catch (error) {
            trace.acks.push({ recordId, pressId, reqSeq, ansSeq: trace.next(), outcome: 'error' });
            throw error;
          }
        };
      }
      return method.bind(target);
    },
  });
}

export interface TracedDelivererOptions {
  readonly trace: Trace;
  readonly owner: string;
  readonly clock: ManualClock;
  /** Messages of the call with this table in the chat of `phase`, as the emulator has them now. */
  readonly count: (table: string, phase: number) => Promise<number>;
  /** Run while the attempt is under way (before the real send): a slow send. */
  readonly hold?: (request: DeliveryRequest) => Promise<void>;
}

/** The real deliverer, each attempt traced and measured at the emulator (`attendance` stays synchronous). */
export function tracedDeliverer(real: Deliverer, o: TracedDelivererOptions): Deliverer {
  return {
    ...(real.attendance ? { attendance: real.attendance.bind(real) } : {}),
    async deliver(request): Promise<DeliveryResult> {
      const phase = request.phase ?? 0;
      const table = request.event.tableName;
      const before = await o.count(table, phase);
      const startSeq = o.trace.next();
      await o.hold?.(request);
      const result = await real.deliver(request);
      const endSeq = o.trace.next();
      const reached = (await o.count(table, phase)) - before;
      o.trace.attempts.push({
        recordId: request.recordId ?? request.event.hash,
        hash: request.event.hash,
        phase,
        owner: o.owner,
        startSeq,
        endSeq,
        at: o.clock.now(),
        reached,
      });
      return result;
    },
  };
}

/** The staff bot, what it read and every answer that reached the presser traced; `fault` may break a read. */
export function tracedStaffBot(
  real: StaffBot,
  trace: Trace,
  options: {
    /** Before a read: throw to fail it ('before'), or let it happen and lose its answer ('after'). */
    readonly readFault?: () => 'before' | 'after' | undefined;
    /** Crash points of the press side: called after each step of a press; throws to die. */
    readonly passed?: (point: 'read' | 'edited' | 'answered') => void;
  } = {},
): StaffBot {
  return {
    async nextPresses(offset, waitSeconds) {
      const fault = options.readFault?.();
      if (fault === 'before') throw new Error('getUpdates failed (injected: connection refused)');
      const batch = await real.nextPresses(offset, waitSeconds);
      if (fault === 'after') throw new Error('getUpdates answered too late (injected: the updates were read)');
      trace.read.push(...batch.presses);
      options.passed?.('read');
      return batch;
    },
    async showAcknowledged(...args) {
      const shown = await real.showAcknowledged(...args);
      options.passed?.('edited');
      return shown;
    },
    async answer(press, answer) {
      await real.answer(press, answer);
      trace.answers.push({ pressId: press.id, byId: press.by.id, recordId: press.call?.recordId, answer });
      options.passed?.('answered');
    },
  };
}

// --- DynamoDB faults ---------------------------------------------------------------------------

export const STAFF_CALL_KINDS = [
  'source lease',
  'checkpoint',
  'lookup',
  'claim',
  'mark',
  'take-over',
  'escalate',
  'step re-check',
  'stand-down',
  'acknowledge',
  'bot lease',
  'bot offset',
  'due list',
  'other',
] as const;
export type StaffCallKind = (typeof STAFF_CALL_KINDS)[number];
export type StaffDynamoFault = DynamoFault;

const plain = (value: unknown) => (typeof value === 'object' && value !== null ? (value as { S?: string }).S : value);

/** Which of the store's calls an action is (by its key, update expression and values at the wire). */
export function staffCallKind(action: string, input: Record<string, unknown>): StaffCallKind {
  if (action === 'PutItem') return 'claim';
  if (action === 'BatchGetItem' || action === 'GetItem') return 'lookup';
  if (action === 'Query') return 'due list';
  if (action !== 'UpdateItem') return 'other';
  const key = input.Key as Record<string, unknown> | undefined;
  const pk = String(plain(key?.pk) ?? '');
  const update = String(input.UpdateExpression ?? '');
  const names = Object.values((input.ExpressionAttributeNames as Record<string, string> | undefined) ?? {});
  const values = (input.ExpressionAttributeValues as Record<string, unknown> | undefined) ?? {};
  if (pk.startsWith('bot#')) return update.includes('#leaseUntil = ') ? 'bot lease' : 'bot offset';
  if (plain(key?.sk) === 'state') return update.includes('#leaseUntil = ') ? 'source lease' : 'checkpoint';
  if (update.includes('#ackAt = ')) return 'acknowledge';
  if (':expectPhase' in values) return 'escalate';
  if (':confirmPhase' in values) return 'step re-check';
  if (':standDownPhase' in values) return 'stand-down';
  if (plain(values[':to']) === 'claimed') return 'take-over';
  return names.includes('status') || update.includes('#status') ? 'mark' : 'other';
}

export class StaffFaultyDynamoDb {
  chooser: ((kind: StaffCallKind) => StaffDynamoFault | undefined) | undefined;
  readonly injected: { kind: StaffCallKind; fault: StaffDynamoFault['kind'] }[] = [];
  readonly calls = new Map<StaffCallKind, number>();
  readonly client: DynamoDb;

  constructor(clock: ManualClock) {
    this.client = faultInjectingDynamoDb({
      kindOf: (call) => staffCallKind(call.action, call.input),
      pick: (kind) => {
        this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1);
        const fault = this.chooser?.(kind);
        if (fault !== undefined) this.injected.push({ kind, fault: fault.kind });
        return fault;
      },
      clock,
    });
  }
}
