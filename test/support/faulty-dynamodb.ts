/**
 * Fault injection at the DynamoDB boundary: a client (pointed at DynamoDB Local) whose calls of a
 * chosen kind fail before they are sent, answer slowly, or are applied and then answer with an
 * error — the answer that arrives after the caller gave up. Injected at the wire (the client's
 * request handler, test/support/wire.ts), so the store's own handling (conditions, returned
 * items, retries) and the client's decoding of an error answer are what is tested.
 *
 *   kinds   lease, checkpoint, lookup, claim, mark, take-over, release, due-list (from the command and its input)
 *   faults  error   throttled before reaching the table (nothing applied): DynamoDB's 400 answer
 *           late    applied, then a timeout is thrown to the caller
 *           slow    the manual clock moves `ms` while the call is under way, then it succeeds
 */
import { Readable } from 'node:stream';
import { HttpResponse } from '@smithy/core/transport';
import { RECORD_ATTR } from '../../lambda/domain/record';
import { DynamoDb } from '../../lambda/state/dynamodb';
import type { ManualClock } from './harness';
import { interceptingHandler, readBody, type WireCall } from './wire';

export const CALL_KINDS = [
  'lease',
  'checkpoint',
  'lookup',
  'claim',
  'mark',
  'take-over',
  'release',
  'due-list',
] as const;
export type CallKind = (typeof CALL_KINDS)[number];
export type DynamoFault = { kind: 'error' } | { kind: 'late' } | { kind: 'slow'; ms: number };

/** A fault drawn at random: `error` 40 %, `late` 30 %, `slow` 30 % (the clock moving `slowMs` from … to). */
export function randomFault(random: () => number, slowMs: readonly [number, number]): DynamoFault {
  const roll = random();
  if (roll < 0.4) return { kind: 'error' };
  if (roll < 0.7) return { kind: 'late' };
  return { kind: 'slow', ms: slowMs[0] + Math.floor(random() * (slowMs[1] - slowMs[0])) };
}

/** Which of the store's calls an action ("UpdateItem") with its input is. */
export function callKind(action: string, input: Record<string, unknown>): CallKind | undefined {
  if (action === 'PutItem') return 'claim';
  if (action === 'BatchGetItem') return 'lookup';
  if (action === 'Query') return 'due-list';
  if (action !== 'UpdateItem') return undefined;
  // Values are marshalled at the wire ({ S: "state" }); plain ones are accepted too.
  const plain = (value: unknown) => (typeof value === 'object' && value !== null ? (value as { S?: string }).S : value);
  const key = input.Key as Record<string, unknown> | undefined;
  if (String(plain(key?.pk)).startsWith('rate#')) return undefined; // a shared send-slot pointer, not a source's
  if (plain(key?.sk) === 'state')
    return String(input.UpdateExpression).includes('#leaseUntil = ') ? 'lease' : 'checkpoint';
  // The end-of-run release sets the due time alone (StateStore.release).
  if (String(input.UpdateExpression) === `SET #${RECORD_ATTR.dueAt} = :dueAt`) return 'release';
  const to = plain((input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':to']);
  return to === 'claimed' ? 'take-over' : 'mark';
}

export class FaultyDynamoDb {
  /** Faults to apply, in order, to the next calls of each kind. */
  readonly next = new Map<CallKind, DynamoFault[]>();
  /** Or a fault drawn for every call: `(kind) => fault | undefined`. */
  chooser: ((kind: CallKind) => DynamoFault | undefined) | undefined;
  /** What was injected, by kind and fault. */
  readonly injected: { kind: CallKind; fault: DynamoFault['kind'] }[] = [];
  readonly calls = new Map<CallKind, number>();
  /** The store's client: one attempt per call, so that every injected fault reaches the store. */
  readonly client: DynamoDb;

  constructor(clock?: ManualClock) {
    this.client = faultInjectingDynamoDb({
      kindOf: (call) => callKind(call.action, call.input),
      pick: (kind) => {
        this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1);
        const fault = this.next.get(kind)?.shift() ?? this.chooser?.(kind);
        if (fault !== undefined) this.injected.push({ kind, fault: fault.kind });
        return fault;
      },
      ...(clock && { clock }),
    });
  }

  /** Queue faults for the next calls of a kind. */
  failNext(kind: CallKind, ...faults: DynamoFault[]): void {
    this.next.set(kind, [...(this.next.get(kind) ?? []), ...faults]);
  }
}

/**
 * A store client (one attempt per call, so every fault reaches the store) whose calls are
 * classified by `kindOf` and given the fault `pick` returns for their kind (or none).
 */
export function faultInjectingDynamoDb<K>(options: {
  readonly kindOf: (call: WireCall) => K | undefined;
  readonly pick: (kind: K) => DynamoFault | undefined;
  /** The manual clock a `slow` fault moves. */
  readonly clock?: Pick<ManualClock, 'advance'>;
}): DynamoDb {
  return new DynamoDb({
    maxAttempts: 1,
    requestHandler: interceptingHandler(async (call, send) => {
      const kind = options.kindOf(call);
      const fault = kind === undefined ? undefined : options.pick(kind);
      if (fault === undefined) return send();
      if (fault.kind === 'error') return { response: throttled() };
      if (fault.kind === 'slow') {
        options.clock?.advance(fault.ms);
        return send();
      }
      await readBody((await send()).response);
      throw timedOut();
    }),
  });
}

/** DynamoDB's answer to a throttled request: nothing was applied. */
function throttled(): HttpResponse {
  const body = JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message: 'Rate of requests exceeds the allowed throughput (injected)',
  });
  return new HttpResponse({
    statusCode: 400,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: Readable.from([Buffer.from(body)]),
  });
}

function timedOut(): Error {
  const error = new Error('the answer did not arrive in time (injected; the write was applied)');
  error.name = 'TimeoutError';
  return error;
}
