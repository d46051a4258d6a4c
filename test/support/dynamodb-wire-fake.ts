/**
 * A DynamoDB that answers at the wire from a script, for tests of the exact calls the store
 * makes: `on('UpdateItem').resolves({ Attributes: … })` / `.rejectsOnce(refused(item))`, then
 * `calls('UpdateItem')[0]` is the input as sent, its keys and values unmarshalled back to plain
 * values. The store's client (lambda/state/dynamodb.ts) signs, encodes and decodes as it would
 * against AWS; only the answer is scripted. An action with no script answers `{}`.
 */
import { Readable } from 'node:stream';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { HttpResponse } from '@smithy/core/transport';
import type { RequestHandler } from '../../lambda/aws/endpoint';
import { DynamoDb } from '../../lambda/state/dynamodb';
import { decodeCall } from './wire';

/** An error answer: DynamoDB's `__type`, its message and other fields (already on the wire). */
export interface ErrorAnswer {
  readonly type: string;
  readonly message: string;
  readonly status?: number;
  readonly fields?: Record<string, unknown>;
}

/** DynamoDB refusing a condition, returning the item as it is (ReturnValuesOnConditionCheckFailure). */
export function refused(item: Record<string, unknown>): ErrorAnswer {
  return {
    type: 'ConditionalCheckFailedException',
    message: 'The conditional request failed',
    fields: { Item: marshall(item) },
  };
}

export function awsError(type: string, message: string, status = 400): ErrorAnswer {
  return { type, message, status };
}

type Answer = { ok: Record<string, unknown> } | { error: ErrorAnswer };

const PLAIN_ITEMS = ['Item', 'Key', 'ExpressionAttributeValues', 'ExclusiveStartKey'] as const;

export class DynamoDbWireFake {
  readonly #once = new Map<string, Answer[]>();
  readonly #always = new Map<string, Answer>();
  readonly #calls: { action: string; input: Record<string, unknown> }[] = [];
  readonly client: DynamoDb;

  constructor() {
    const handler: RequestHandler = {
      handle: async (request) => {
        const { action, input } = decodeCall(request);
        this.#calls.push({ action, input });
        const answer = this.#once.get(action)?.shift() ?? this.#always.get(action) ?? { ok: {} };
        return { response: respond(answer) };
      },
    };
    this.client = new DynamoDb({
      region: 'eu-central-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      endpoint: 'http://127.0.0.1:1',
      maxAttempts: 1,
      requestHandler: handler,
    });
  }

  on(action: string) {
    const chain = {
      /** Answers every call (after the `…Once` ones) with this output; values plain. */
      resolves: (output: Record<string, unknown>) => this.#set(chain, action, { ok: wireOutput(output) }),
      resolvesOnce: (output: Record<string, unknown>) => this.#queue(chain, action, { ok: wireOutput(output) }),
      rejects: (error: ErrorAnswer) => this.#set(chain, action, { error }),
      rejectsOnce: (error: ErrorAnswer) => this.#queue(chain, action, { error }),
    };
    return chain;
  }

  /** The inputs of the calls of one action, in order, with items, keys and values plain. */
  calls(action: string): Record<string, unknown>[] {
    return this.#calls.filter((c) => c.action === action).map((c) => plainInput(c.input));
  }

  reset(): void {
    this.#once.clear();
    this.#always.clear();
    this.#calls.length = 0;
  }

  #set<C>(chain: C, action: string, answer: Answer): C {
    this.#always.set(action, answer);
    return chain;
  }

  #queue<C>(chain: C, action: string, answer: Answer): C {
    this.#once.set(action, [...(this.#once.get(action) ?? []), answer]);
    return chain;
  }
}

function respond(answer: Answer): HttpResponse {
  const [status, body] =
    'ok' in answer
      ? [200, answer.ok]
      : [
          answer.error.status ?? 400,
          {
            __type: `com.amazonaws.dynamodb.v20120810#${answer.error.type}`,
            message: answer.error.message,
            ...answer.error.fields,
          },
        ];
  return new HttpResponse({
    statusCode: status,
    headers: { 'content-type': 'application/x-amz-json-1.0' },
    body: Readable.from([Buffer.from(JSON.stringify(body))]),
  });
}

/** An output given with plain values, as DynamoDB puts it on the wire. */
function wireOutput(output: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...output };
  if (output.Attributes) out.Attributes = marshall(output.Attributes as Record<string, unknown>);
  if (output.Items) out.Items = (output.Items as Record<string, unknown>[]).map((i) => marshall(i));
  if (output.Responses) {
    out.Responses = Object.fromEntries(
      Object.entries(output.Responses as Record<string, Record<string, unknown>[]>).map(([t, items]) => [
        t,
        items.map((i) => marshall(i)),
      ]),
    );
  }
  return out;
}

function plainInput(input: Record<string, unknown>): Record<string, unknown> {
  const plain: Record<string, unknown> = { ...input };
  for (const name of PLAIN_ITEMS) {
    if (input[name] !== undefined) plain[name] = unmarshall(input[name] as Parameters<typeof unmarshall>[0]);
  }
  if (input.RequestItems) {
    plain.RequestItems = Object.fromEntries(
      Object.entries(input.RequestItems as Record<string, { Keys: Parameters<typeof unmarshall>[0][] }>).map(
        ([table, request]) => [table, { ...request, Keys: request.Keys.map((k) => unmarshall(k)) }],
      ),
    );
  }
  return plain;
}
