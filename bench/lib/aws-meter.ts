/**
 * Counts and times every AWS SDK call a client makes, with a middleware at the `initialize`
 * step (once per logical call, retries included): the command, when it started and ended,
 * whether it succeeded, DynamoDB's consumed capacity (asked for with ReturnConsumedCapacity,
 * so GSI writes show up) and the number of SES recipients. SES and SNS have no SDK client
 * (lambda/aws/query-call.ts): {@link AwsMeter.requestHandler} meters them at the wire instead,
 * one record per request (their `send` profile makes one attempt per call). A label set with
 * `withLabel` (AsyncLocalStorage) follows the call: the bench labels each delivery with its event hash.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CLIENT_DEFAULTS, keptConnections } from '../../lambda/aws/clients';
import type { RequestHandler } from '../../lambda/aws/endpoint';

export type MeteredService = 'dynamodb' | 'ses' | 'sns';

export interface CallRecord {
  readonly service: MeteredService;
  /** e.g. 'PutItemCommand', 'PublishCommand'. */
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

type Args = { input: Record<string, unknown> };
type Handler = (args: Args) => Promise<{ output: Record<string, unknown> }>;
type Middleware = (next: Handler, context: { commandName?: string }) => Handler;
interface WithMiddlewareStack {
  readonly middlewareStack: unknown;
}

export class AwsMeter {
  readonly calls: CallRecord[] = [];
  readonly #label = new AsyncLocalStorage<string>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Meter every call of this client from now on. */
  attach<C extends WithMiddlewareStack>(client: C, service: MeteredService): C {
    const middleware: Middleware = (next, context) => async (args) => {
      const command = String(context.commandName ?? 'unknown');
      if (service === 'dynamodb' && DYNAMODB_ITEM_COMMANDS.has(command)) args.input.ReturnConsumedCapacity = 'INDEXES';
      const startedAt = this.#now();
      const label = this.#label.getStore();
      const base = {
        service,
        command,
        startedAt,
        ...(label !== undefined ? { label } : {}),
        ...recipientsOf(service, args.input),
      };
      try {
        const result = await next(args);
        const capacity = capacityOf(result.output.ConsumedCapacity);
        this.calls.push({
          ...base,
          endedAt: this.#now(),
          ok: true,
          ...(capacity !== undefined ? { capacityUnits: capacity } : {}),
        });
        return result;
      } catch (error) {
        this.calls.push({ ...base, endedAt: this.#now(), ok: false });
        throw error;
      }
    };
    (client.middlewareStack as { add(m: Middleware, o: { step: 'initialize'; name: string }): void }).add(middleware, {
      step: 'initialize',
      name: `benchMeter-${service}`,
    });
    return client;
  }

  /**
   * A request handler for an SES or SNS endpoint that meters each request it sends: the command
   * is `<Action>Command` ("SendEmailCommand", "PublishCommand"), as the SDK names them.
   */
  requestHandler(service: Exclude<MeteredService, 'dynamodb'>): RequestHandler {
    const inner = new NodeHttpHandler({
      connectionTimeout: CLIENT_DEFAULTS.send.connectionTimeoutMs,
      throwOnRequestTimeout: true,
      ...keptConnections(),
    });
    return {
      handle: async (request, options) => {
        const params = new URLSearchParams(typeof request.body === 'string' ? request.body : '');
        const startedAt = this.#now();
        const label = this.#label.getStore();
        const recipients = [...params.keys()].filter((k) =>
          /^Destination\.(To|Cc|Bcc)Addresses\.member\.\d+$/.test(k),
        ).length;
        const base = {
          service,
          command: `${params.get('Action') ?? 'unknown'}Command`,
          startedAt,
          ...(label !== undefined ? { label } : {}),
          ...(service === 'ses' ? { recipients } : {}),
        };
        try {
          const answer = await inner.handle(request, options);
          this.calls.push({ ...base, endedAt: this.#now(), ok: answer.response.statusCode < 300 });
          return answer;
        } catch (error) {
          this.calls.push({ ...base, endedAt: this.#now(), ok: false });
          throw error;
        }
      },
    };
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

function recipientsOf(service: MeteredService, input: Record<string, unknown>): { recipients?: number } {
  if (service !== 'ses') return {};
  const d = (input.Destination ?? {}) as { ToAddresses?: unknown[]; CcAddresses?: unknown[]; BccAddresses?: unknown[] };
  return { recipients: (d.ToAddresses?.length ?? 0) + (d.CcAddresses?.length ?? 0) + (d.BccAddresses?.length ?? 0) };
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
