/**
 * Counts and times every AWS request our clients send, at the wire (the endpoint's request
 * handler, test/support/wire.ts; one record per attempt, as AWS bills them): the command, when it
 * started and ended, whether it succeeded, DynamoDB's consumed capacity (the store's client is
 * made with `returnConsumedCapacity: 'INDEXES'`, so GSI writes show up) and the number of SES
 * recipients. A label set with `withLabel` (AsyncLocalStorage) follows the call: the bench labels
 * each delivery with its event hash.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CLIENT_DEFAULTS } from '../../lambda/aws/clients';
import { type RequestHandler, sharedHandler } from '../../lambda/aws/endpoint';
import { interceptingHandler, readBody } from '../../test/support/wire';

export type MeteredService = 'dynamodb' | 'ses' | 'sns';

export interface CallRecord {
  readonly service: MeteredService;
  /** The action with the SDK's suffix: 'PutItemCommand', 'PublishCommand'. */
  readonly command: string;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly ok: boolean;
  /** The label active when the call was made (an event hash), if any. */
  readonly label?: string;
  /** DynamoDB: capacity units consumed, table and indexes together. */
  readonly capacityUnits?: number;
  /** SES: To + Cc + Bcc addresses of the message. */
  readonly recipients?: number;
}

const DYNAMODB_WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'BatchWriteItemCommand',
  'TransactWriteItemsCommand',
]);
const DYNAMODB_ITEM_COMMANDS = new Set([
  ...DYNAMODB_WRITES,
  'GetItemCommand',
  'BatchGetItemCommand',
  'QueryCommand',
  'ScanCommand',
  'TransactGetItemsCommand',
]);

export function isDynamoDbWrite(record: CallRecord): boolean {
  return record.service === 'dynamodb' && DYNAMODB_WRITES.has(record.command);
}

export function isDynamoDbRead(record: CallRecord): boolean {
  return (
    record.service === 'dynamodb' && DYNAMODB_ITEM_COMMANDS.has(record.command) && !DYNAMODB_WRITES.has(record.command)
  );
}

export class AwsMeter {
  readonly calls: CallRecord[] = [];
  readonly #label = new AsyncLocalStorage<string>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * A request handler for a client of `service` that meters every request it sends, over the
   * shared handler its client would use (SES and SNS: the `send` profile's connect timeout).
   */
  handler(service: MeteredService): RequestHandler {
    const connect =
      service === 'dynamodb' ? CLIENT_DEFAULTS.connectionTimeoutMs : CLIENT_DEFAULTS.send.connectionTimeoutMs;
    return interceptingHandler(async (call, send) => {
      const command = `${call.action}Command`;
      const startedAt = this.#now();
      const label = this.#label.getStore();
      const base = {
        service,
        command,
        startedAt,
        ...(label !== undefined ? { label } : {}),
        ...recipientsOf(service, call.input),
      };
      try {
        const { text, response } = await readBody((await send()).response);
        const capacity = service === 'dynamodb' ? capacityOf(parsed(text).ConsumedCapacity) : undefined;
        this.calls.push({
          ...base,
          endedAt: this.#now(),
          ok: response.statusCode < 300,
          ...(capacity !== undefined ? { capacityUnits: capacity } : {}),
        });
        return { response };
      } catch (error) {
        this.calls.push({ ...base, endedAt: this.#now(), ok: false });
        throw error;
      }
    }, sharedHandler(connect));
  }

  /** Run `work` with every call it makes labelled. */
  withLabel<T>(label: string, work: () => Promise<T>): Promise<T> {
    return this.#label.run(label, work);
  }

  /** A position in the record, for `since`. */
  mark(): number {
    return this.calls.length;
  }

  since(mark: number): CallRecord[] {
    return this.calls.slice(mark);
  }
}

/** SES: the form's `Destination.{To,Cc,Bcc}Addresses.member.N` fields. */
function recipientsOf(service: MeteredService, input: Record<string, unknown>): { recipients?: number } {
  if (service !== 'ses') return {};
  return {
    recipients: Object.keys(input).filter((k) => /^Destination\.(To|Cc|Bcc)Addresses\.member\.\d+$/.test(k)).length,
  };
}

function parsed(text: string): Record<string, unknown> {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** Sum of CapacityUnits (one object, or a list for batch calls). */
function capacityOf(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const list = Array.isArray(value) ? value : [value];
  return list.reduce((sum: number, c) => sum + Number((c as { CapacityUnits?: number }).CapacityUnits ?? 0), 0);
}

export interface CallSummary {
  readonly dynamoDbWrites: number;
  readonly dynamoDbReads: number;
  readonly writeCapacityUnits: number;
  readonly readCapacityUnits: number;
  readonly sesCalls: number;
  readonly sesRecipients: number;
  readonly snsCalls: number;
  readonly failed: number;
  readonly byCommand: Readonly<Record<string, number>>;
}

export function summarizeCalls(calls: readonly CallRecord[]): CallSummary {
  const byCommand: Record<string, number> = {};
  for (const c of calls) byCommand[`${c.service}:${c.command}`] = (byCommand[`${c.service}:${c.command}`] ?? 0) + 1;
  const sum = (pick: (c: CallRecord) => boolean, value: (c: CallRecord) => number) =>
    calls.filter(pick).reduce((s, c) => s + value(c), 0);
  return {
    dynamoDbWrites: calls.filter(isDynamoDbWrite).length,
    dynamoDbReads: calls.filter(isDynamoDbRead).length,
    writeCapacityUnits: sum(isDynamoDbWrite, (c) => c.capacityUnits ?? 0),
    readCapacityUnits: sum(isDynamoDbRead, (c) => c.capacityUnits ?? 0),
    sesCalls: calls.filter((c) => c.service === 'ses').length,
    sesRecipients: sum(
      (c) => c.service === 'ses' && c.ok,
      (c) => c.recipients ?? 0,
    ),
    snsCalls: calls.filter((c) => c.service === 'sns').length,
    failed: calls.filter((c) => !c.ok).length,
    byCommand,
  };
}
