/**
 * Fault injection at the DynamoDB boundary: a client (pointed at DynamoDB Local) whose calls of a
 * chosen kind fail before they are sent, answer slowly, or are applied and then answer with an
 * error — the answer that arrives after the caller gave up. Middleware on the real client, so the
 * store's own handling (conditions, returned items, retries) is what is tested.
 *
 *   kinds   lease, checkpoint, lookup, claim, mark, take-over, release, due-list (from the command and its input)
 *   faults  error   throttled before reaching the table (nothing applied)
 *           late    applied, then a timeout is thrown to the caller
 *           slow    the manual clock moves `ms` while the call is under way, then it succeeds
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RECORD_ATTR } from '../../lambda/domain/record';
import type { ManualClock } from './harness';

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

/** Which of the store's calls a command is. */
export function callKind(command: string, input: Record<string, unknown>): CallKind | undefined {
  if (command === 'PutItemCommand') return 'claim';
  if (command === 'BatchGetItemCommand') return 'lookup';
  if (command === 'QueryCommand') return 'due-list';
  if (command !== 'UpdateItemCommand') return undefined;
  // The document client's input may still be plain values here, or already marshalled.
  const plain = (value: unknown) => (typeof value === 'object' && value !== null ? (value as { S?: string }).S : value);
  const key = input.Key as Record<string, unknown> | undefined;
  if (plain(key?.sk) === 'state')
    return String(input.UpdateExpression).includes('#leaseUntil = ') ? 'lease' : 'checkpoint';
  // The end-of-run release sets the due time alone (StateStore.release).
  if (String(input.UpdateExpression) === `SET #${RECORD_ATTR.dueAt} = :dueAt`) return 'release';
  const to = plain((input.ExpressionAttributeValues as Record<string, unknown> | undefined)?.[':to']);
  return to === 'claimed' ? 'take-over' : 'mark';
}

export class FaultyDynamoDb {
  readonly client = new DynamoDBClient({ maxAttempts: 1 });
  /** Faults to apply, in order, to the next calls of each kind. */
  readonly next = new Map<CallKind, DynamoFault[]>();
  /** Or a fault drawn for every call: `(kind) => fault | undefined`. */
  chooser: ((kind: CallKind) => DynamoFault | undefined) | undefined;
  /** What was injected, by kind and fault. */
  readonly injected: { kind: CallKind; fault: DynamoFault['kind'] }[] = [];
  readonly calls = new Map<CallKind, number>();

  constructor(private readonly clock?: ManualClock) {
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const kind = callKind(String(context.commandName), (args.input ?? {}) as Record<string, unknown>);
        if (kind === undefined) return next(args);
        this.calls.set(kind, (this.calls.get(kind) ?? 0) + 1);
        const fault = this.next.get(kind)?.shift() ?? this.chooser?.(kind);
        if (fault === undefined) return next(args);
        this.injected.push({ kind, fault: fault.kind });
        if (fault.kind === 'error') throw throttled();
        if (fault.kind === 'slow') {
          this.clock?.advance(fault.ms);
          return next(args);
        }
        await next(args);
        throw timedOut();
      },
      { step: 'initialize', name: 'injectFaults' },
    );
  }

  /** Queue faults for the next calls of a kind. */
  failNext(kind: CallKind, ...faults: DynamoFault[]): void {
    this.next.set(kind, [...(this.next.get(kind) ?? []), ...faults]);
  }
}

function throttled(): Error {
  const error = new Error('Rate of requests exceeds the allowed throughput (injected)');
  error.name = 'ProvisionedThroughputExceededException';
  return Object.assign(error, { $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

function timedOut(): Error {
  const error = new Error('the answer did not arrive in time (injected; the write was applied)');
  error.name = 'TimeoutError';
  return error;
}
