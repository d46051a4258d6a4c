/**
 * The four DynamoDB operations the state store and the report call — UpdateItem, PutItem, Query,
 * BatchGetItem — spoken as the JSON 1.0 protocol (aws/json-call.ts) over one signed endpoint
 * (aws/endpoint.ts), with plain values in and out like the SDK's document client: inputs are
 * marshalled and answers unmarshalled by `@aws-sdk/util-dynamodb` (`removeUndefinedValues`).
 * It replaces `@aws-sdk/client-dynamodb` + `lib-dynamodb` (≈ 36 KiB and most of @smithy/core in
 * the Lambda's bundle). A refused condition is a {@link ConditionalCheckFailed} carrying the
 * item as it is (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`); every other error is the
 * endpoint's `AwsCallError` (name, status, fault) or the network's. Retries are the endpoint's:
 * throttling, 5xx, timeouts and network errors, `maxAttempts` in all.
 */
import { marshall, type NativeAttributeValue, unmarshall } from '@aws-sdk/util-dynamodb';
import { AwsCallError, AwsEndpoint, type EndpointOptions } from '../aws/endpoint';
import { DYNAMODB, jsonPost } from '../aws/json-call';

export type { NativeAttributeValue } from '@aws-sdk/util-dynamodb';

/** Plain attribute values by name: an item, a key, the `:placeholders` of an expression. */
export type PlainItem = Record<string, NativeAttributeValue>;

/** The expression parts every operation may carry. */
export interface ExpressionParts {
  readonly ExpressionAttributeNames?: Record<string, string>;
  readonly ExpressionAttributeValues?: PlainItem;
}

export interface UpdateInput extends ExpressionParts {
  readonly TableName: string;
  readonly Key: PlainItem;
  readonly UpdateExpression: string;
  readonly ConditionExpression?: string;
  readonly ReturnValues?: 'NONE' | 'ALL_OLD' | 'UPDATED_OLD' | 'ALL_NEW' | 'UPDATED_NEW';
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}

export interface PutInput extends ExpressionParts {
  readonly TableName: string;
  readonly Item: PlainItem;
  readonly ConditionExpression?: string;
  readonly ReturnValuesOnConditionCheckFailure?: 'ALL_OLD' | 'NONE';
}

export interface QueryInput extends ExpressionParts {
  readonly TableName: string;
  readonly IndexName?: string;
  readonly KeyConditionExpression: string;
  readonly FilterExpression?: string;
  readonly ProjectionExpression?: string;
  readonly ExclusiveStartKey?: PlainItem;
  readonly ScanIndexForward?: boolean;
  readonly ConsistentRead?: boolean;
  readonly Limit?: number;
  readonly ReturnConsumedCapacity?: ConsumedCapacityMode;
}

export type ConsumedCapacityMode = 'INDEXES' | 'TOTAL' | 'NONE';

/** What a Query answered, values plain. */
export interface QueryOutput {
  readonly Items: PlainItem[];
  readonly LastEvaluatedKey?: PlainItem;
  /** Items read before the filter. */
  readonly ScannedCount?: number;
  readonly ConsumedCapacity?: { readonly CapacityUnits?: number };
}

export interface BatchGetInput {
  readonly TableName: string;
  readonly Keys: readonly PlainItem[];
  readonly ConsistentRead?: boolean;
  readonly ProjectionExpression?: string;
  readonly ExpressionAttributeNames?: Record<string, string>;
}

/** The condition was false: nothing was written. `item` is the item as it is (empty when there is none). */
export class ConditionalCheckFailed extends Error {
  override readonly name = 'ConditionalCheckFailedException';
  constructor(
    readonly item: PlainItem,
    message: string,
  ) {
    super(message);
  }
}

/** One call's options: its deadline, retries included. */
export interface CallOptions {
  readonly abortSignal?: AbortSignal;
}

export interface DynamoDbOptions extends EndpointOptions {
  /**
   * Ask every call for its consumed capacity (`ReturnConsumedCapacity`), unless the call sets
   * it: the bench uses INDEXES to price the writes its GSI adds. Default: not asked.
   */
  readonly returnConsumedCapacity?: ConsumedCapacityMode;
}

/** The DynamoDB action (and IAM action, `dynamodb:<it>`) behind each method: all this client can call. */
export const DYNAMODB_ACTION_OF = {
  update: 'UpdateItem',
  put: 'PutItem',
  query: 'Query',
  batchGet: 'BatchGetItem',
} as const;

/** A page is ≤ 1 MB of stored data, larger as JSON on the wire; a BatchGetItem up to 16 MB. */
const MAX_ANSWER_BYTES = 20 * 1_048_576;

const MARSHALL = { removeUndefinedValues: true, convertClassInstanceToMap: false } as const;

export class DynamoDb {
  readonly #endpoint: AwsEndpoint;
  readonly #capacity: ConsumedCapacityMode | undefined;

  constructor(options: DynamoDbOptions = {}) {
    this.#endpoint = new AwsEndpoint(DYNAMODB, { maxAnswerBytes: MAX_ANSWER_BYTES, ...options });
    this.#capacity = options.returnConsumedCapacity;
  }

  async update(input: UpdateInput, call?: CallOptions): Promise<{ Attributes?: PlainItem }> {
    const { Key, ExpressionAttributeValues, ...rest } = input;
    const out = await this.#call(
      DYNAMODB_ACTION_OF.update,
      { ...rest, Key: toWire(Key), ...values(ExpressionAttributeValues) },
      call,
    );
    return out.Attributes === undefined ? {} : { Attributes: fromWire(out.Attributes) };
  }

  async put(input: PutInput, call?: CallOptions): Promise<void> {
    const { Item, ExpressionAttributeValues, ...rest } = input;
    await this.#call(
      DYNAMODB_ACTION_OF.put,
      { ...rest, Item: toWire(Item), ...values(ExpressionAttributeValues) },
      call,
    );
  }

  async query(input: QueryInput, call?: CallOptions): Promise<QueryOutput> {
    const { ExclusiveStartKey, ExpressionAttributeValues, ...rest } = input;
    const out = await this.#call(
      DYNAMODB_ACTION_OF.query,
      {
        ...rest,
        ...(ExclusiveStartKey !== undefined && { ExclusiveStartKey: toWire(ExclusiveStartKey) }),
        ...values(ExpressionAttributeValues),
      },
      call,
    );
    return {
      Items: listOf(out.Items).map(fromWire),
      ...(out.LastEvaluatedKey !== undefined && { LastEvaluatedKey: fromWire(out.LastEvaluatedKey) }),
      ...(typeof out.ScannedCount === 'number' && { ScannedCount: out.ScannedCount }),
      ...(isObject(out.ConsumedCapacity) && {
        ConsumedCapacity: out.ConsumedCapacity as QueryOutput['ConsumedCapacity'],
      }),
    };
  }

  /** One BatchGetItem on one table: the items found, and the keys DynamoDB left unprocessed (to ask again). */
  async batchGet(
    input: BatchGetInput,
    call?: CallOptions,
  ): Promise<{ Items: PlainItem[]; UnprocessedKeys: PlainItem[] }> {
    const { TableName, Keys, ...rest } = input;
    const out = await this.#call(
      DYNAMODB_ACTION_OF.batchGet,
      { RequestItems: { [TableName]: { ...rest, Keys: Keys.map(toWire) } } },
      call,
    );
    const responses = (out.Responses ?? {}) as Record<string, unknown>;
    const unprocessed = (out.UnprocessedKeys ?? {}) as Record<string, { Keys?: unknown } | undefined>;
    return {
      Items: listOf(responses[TableName]).map(fromWire),
      UnprocessedKeys: listOf(unprocessed[TableName]?.Keys).map(fromWire),
    };
  }

  async #call(
    action: string,
    input: Record<string, unknown>,
    call: CallOptions = {},
  ): Promise<Record<string, unknown>> {
    const asked = this.#capacity !== undefined && input.ReturnConsumedCapacity === undefined;
    try {
      return await jsonPost(
        this.#endpoint,
        DYNAMODB,
        action,
        asked ? { ...input, ReturnConsumedCapacity: this.#capacity } : input,
        call,
      );
    } catch (error) {
      if (error instanceof AwsCallError && error.name === 'ConditionalCheckFailedException') {
        const item = error.details.Item;
        throw new ConditionalCheckFailed(item === undefined ? {} : fromWire(item), error.message);
      }
      throw error;
    }
  }
}

function values(placeholders: PlainItem | undefined): { ExpressionAttributeValues?: unknown } {
  return placeholders === undefined ? {} : { ExpressionAttributeValues: toWire(placeholders) };
}

function toWire(item: PlainItem): unknown {
  return marshall(item, MARSHALL);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function fromWire(item: unknown): PlainItem {
  if (!isObject(item))
    throw new AwsCallError('MalformedAnswer', 'DynamoDB answered an item that is not an object', 200, 1);
  return unmarshall(item as Parameters<typeof unmarshall>[0]);
}

function listOf(value: unknown): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value))
    throw new AwsCallError('MalformedAnswer', 'DynamoDB answered a list that is not a list', 200, 1);
  return value;
}
