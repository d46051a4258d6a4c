/**
 * An HTTP proxy on loopback in front of an emulator that records every request it passes on: the
 * AWS operation (the `X-Amz-Target` header of JSON protocols, the `Action` field of the Query
 * protocol), when the answer ended, its status, the event's hash for SNS `Publish`, the items
 * of a DynamoDB batch and the sort key of a single-item DynamoDB call. The scale bench points the bundled handler (which it cannot instrument) at
 * these proxies to time each publish and count DynamoDB requests from outside.
 */
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TABLE_SCHEMA } from '../../lambda/state/keys';

export interface ProxiedCall {
  /** "Publish", "DynamoDB_20120810.UpdateItem", … */
  readonly operation: string;
  readonly endedAt: number;
  /** When the whole request had reached the proxy (endedAt − startedAt: the emulator's answer time, proxy included). */
  readonly startedAt: number;
  readonly status: number;
  /** SNS Publish: the event's hash. */
  readonly hash?: string;
  /** DynamoDB BatchGetItem / BatchWriteItem: the items asked for or written. */
  readonly items?: number;
  /** DynamoDB GetItem / PutItem / UpdateItem / DeleteItem: the sort key of its item (SOURCE_STATE_SK for a source's). */
  readonly sortKey?: string;
  /** The same calls: the partition key of its item. */
  readonly partitionKey?: string;
}

/**
 * The event hash of a Query-protocol SNS Publish body: the `hash` of the JSON envelope in the
 * `default` key of a `MessageStructure=json` message (lambda/core/sns-message.ts).
 */
export function publishedHash(form: URLSearchParams): string | undefined {
  try {
    const message = JSON.parse(form.get('Message') ?? '') as { default?: string };
    const envelope = JSON.parse(message.default ?? '') as { hash?: unknown };
    return typeof envelope.hash === 'string' ? envelope.hash : undefined;
  } catch {
    return undefined;
  }
}

/** The sort key (a string) of a single-item DynamoDB request body (JSON protocol): its `Key`'s, or its `Item`'s. */
export function itemSortKey(body: string): string | undefined {
  return itemKeyPart(body, TABLE_SCHEMA.sortKey);
}

/** The partition key of a single-item request body, the same way (`rate#ses` for a quota's shared send slots). */
export function itemPartitionKey(body: string): string | undefined {
  return itemKeyPart(body, TABLE_SCHEMA.partitionKey);
}

function itemKeyPart(body: string, attribute: string): string | undefined {
  type Item = Record<string, { S?: unknown } | undefined>;
  try {
    const input = JSON.parse(body) as { Key?: Item; Item?: Item };
    const value = (input.Key ?? input.Item)?.[attribute]?.S;
    return typeof value === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Items of a DynamoDB batch request body (JSON protocol), or undefined for other operations. */
export function batchItems(operation: string, body: string): number | undefined {
  if (!operation.endsWith('BatchGetItem') && !operation.endsWith('BatchWriteItem')) return undefined;
  const request = JSON.parse(body) as { RequestItems?: Record<string, { Keys?: unknown[] } | unknown[]> };
  let items = 0;
  for (const entry of Object.values(request.RequestItems ?? {}))
    items += Array.isArray(entry) ? entry.length : (entry.Keys?.length ?? 0);
  return items;
}

export class RecordingProxy {
  readonly calls: ProxiedCall[] = [];
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  readonly #server = createServer((req, res) => this.#forward(req, res));

  private constructor(readonly target: URL) {}

  static async start(target: string): Promise<RecordingProxy> {
    const proxy = new RecordingProxy(new URL(target));
    proxy.#server.listen(0, '127.0.0.1');
    await once(proxy.#server, 'listening');
    return proxy;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /** Counts of the recorded calls per operation. */
  countByOperation(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const call of this.calls) counts[call.operation] = (counts[call.operation] ?? 0) + 1;
    return counts;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    this.#server.close();
    this.#agent.destroy();
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const startedAt = Date.now();
      const body = Buffer.concat(chunks);
      const target = req.headers['x-amz-target'];
      const form = typeof target === 'string' ? undefined : new URLSearchParams(body.toString('utf8'));
      const operation = typeof target === 'string' ? target : (form?.get('Action') ?? 'unknown');
      const hash = operation === 'Publish' && form ? publishedHash(form) : undefined;
      const items = form ? undefined : batchItems(operation, body.toString('utf8'));
      const single = !form && items === undefined;
      const sortKey = single ? itemSortKey(body.toString('utf8')) : undefined;
      const partitionKey = single ? itemPartitionKey(body.toString('utf8')) : undefined;
      const upstream = request(
        {
          host: this.target.hostname,
          port: this.target.port,
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: this.target.host },
          agent: this.#agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on('end', () =>
            this.calls.push({
              operation,
              endedAt: Date.now(),
              startedAt,
              status: answer.statusCode ?? 0,
              ...(hash !== undefined ? { hash } : {}),
              ...(items !== undefined ? { items } : {}),
              ...(sortKey !== undefined ? { sortKey } : {}),
              ...(partitionKey !== undefined ? { partitionKey } : {}),
            }),
          );
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  }
}
