/**
 * The DynamoDB state of every source (keys in keys.ts): the source item — cursor, lease, last
 * successful poll, cooldowns — and one record per event. Every change is a conditional write:
 * the lease and the checkpoint are conditioned on the lease owner, a claim on the record not
 * existing, every later transition on the claimant still owning it. A lost race shows up as a
 * `false`/`'exists'` answer, never as a second delivery. Other DynamoDB errors are thrown.
 *
 * Costs, by design: taking the lease 1 write (it also returns the state: no read), a new event
 * 1 write to claim + 1 to mark, the end of an invocation 1 write. An empty poll writes nothing.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
  type NativeAttributeValue,
} from '@aws-sdk/lib-dynamodb';
import { awsClientConfig } from '../aws-clients';
import type { Channel } from '../notify/port';
import type { QrEvent } from '../qrmenu/event';
import { TABLE_SCHEMA, duePk, eventKey, eventSk, sourceStateKey } from './keys';

/** What the poller remembers about a source between invocations. */
export interface SourceState {
  /** Hash of the newest event up to which every event is durably recorded. */
  readonly cursor?: string;
  /** When the cursor's event was first seen (epoch ms): the server forgets it one retention later. */
  readonly cursorAt?: number;
  readonly lastSuccessAt?: number;
  /** Last poll with `hash=none`. */
  readonly lastNoneAt?: number;
  /** When the backlog found at the first poll was recorded; absent = the source was never polled. */
  readonly baselineAt?: number;
  /** `cooldownKey(table, code)` → epoch ms until which repeats are suppressed. */
  readonly cooldowns: Readonly<Record<string, number>>;
}

export type LeaseResult =
  | { readonly acquired: true; readonly state: SourceState }
  | { readonly acquired: false; readonly holder?: string; readonly leaseUntil?: number };

export type EventStatus = 'claimed' | 'retry' | 'delivered' | 'failed' | 'suppressed' | 'baseline';

/** What a lookup of already-recorded events returns per hash. */
export interface RecordedEvent {
  readonly status: EventStatus;
  readonly firstSeenAt: number;
}

/** An event record that still needs work (in the `due` index). */
export interface DueEvent {
  readonly hash: string;
  readonly status: 'claimed' | 'retry';
  readonly dueAt: number;
  readonly attempts: number;
}

/** A record taken over for another delivery attempt. */
export interface ClaimedRecord {
  readonly event: QrEvent;
  readonly firstSeenAt: number;
  /** Including the attempt about to be made. */
  readonly attempts: number;
  readonly doneChannels: readonly Channel[];
}

export interface StateStoreOptions {
  readonly tableName: string;
  /** Default: a client configured from the environment (AWS_ENDPOINT_URL_DYNAMODB works). */
  readonly client?: DynamoDBClient;
}

/** Records are cut to fit well under DynamoDB's 400 KB item limit. */
const MAX_STORED_EVENT_BYTES = 100_000;

export class StateStore {
  readonly #db: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: StateStoreOptions) {
    this.#table = options.tableName;
    const client = options.client ?? new DynamoDBClient(awsClientConfig({ maxAttempts: 4 }));
    this.#db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** Take (or renew) the source's lease until `until`; the state comes back with it. */
  async acquireLease(sourceId: string, owner: string, now: number, until: number): Promise<LeaseResult> {
    try {
      const out = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: sourceStateKey(sourceId),
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ConditionExpression: 'attribute_not_exists(leaseUntil) OR leaseUntil < :now OR leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner, ':until': until, ':now': now },
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return { acquired: true, state: toSourceState(out.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const old = error.Item ? unmarshallLoose(error.Item) : {};
      return {
        acquired: false,
        ...(typeof old.leaseOwner === 'string' ? { holder: old.leaseOwner } : {}),
        ...(typeof old.leaseUntil === 'number' ? { leaseUntil: old.leaseUntil } : {}),
      };
    }
  }

  /**
   * Save the source state, only while `owner` still holds the lease; `release` gives the lease up.
   * Returns false when the lease was lost (another poller took over: nothing is overwritten).
   */
  async saveCheckpoint(
    sourceId: string,
    owner: string,
    state: SourceState,
    options: { release: boolean },
  ): Promise<boolean> {
    // Every name goes through #aliases: `cursor` is one of DynamoDB's reserved words.
    const names: Record<string, string> = { '#leaseOwner': 'leaseOwner', '#cooldowns': 'cooldowns' };
    const values: Record<string, NativeAttributeValue> = { ':owner': owner, ':cooldowns': state.cooldowns };
    const set = ['#cooldowns = :cooldowns'];
    const remove: string[] = [];
    if (options.release) {
      names['#leaseUntil'] = 'leaseUntil';
      remove.push('#leaseOwner', '#leaseUntil');
    }
    for (const field of ['cursor', 'cursorAt', 'lastSuccessAt', 'lastNoneAt', 'baselineAt'] as const) {
      const value = state[field];
      names[`#${field}`] = field;
      if (value === undefined) remove.push(`#${field}`);
      else {
        set.push(`#${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: sourceStateKey(sourceId),
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: '#leaseOwner = :owner',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Which of these hashes already have a record (strongly consistent reads, 100 keys a request). */
  async findRecorded(sourceId: string, hashes: readonly string[]): Promise<Map<string, RecordedEvent>> {
    const found = new Map<string, RecordedEvent>();
    const unique = [...new Set(hashes)];
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, NativeAttributeValue>[] | undefined = unique
        .slice(i, i + 100)
        .map((h) => eventKey(sourceId, h));
      for (let round = 0; keys && keys.length > 0; round += 1) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** round, 1_000)));
        if (round > 8) throw new Error(`DynamoDB kept ${keys.length} keys unprocessed in BatchGetItem`);
        const out: BatchGetCommandOutput = await this.#db.send(
          new BatchGetCommand({
            RequestItems: {
              [this.#table]: {
                Keys: keys,
                ConsistentRead: true,
                ProjectionExpression: '#sk, #status, firstSeenAt',
                ExpressionAttributeNames: { '#sk': TABLE_SCHEMA.sortKey, '#status': 'status' },
              },
            },
          }),
        );
        for (const item of out.Responses?.[this.#table] ?? []) {
          found.set(String(item.sk).slice(eventSk('').length), {
            status: item.status as EventStatus,
            firstSeenAt: Number(item.firstSeenAt),
          });
        }
        keys = out.UnprocessedKeys?.[this.#table]?.Keys;
      }
    }
    return found;
  }

  /**
   * Claim a new event for delivery: the record is created only if none exists. Until it is marked,
   * it sits in the `due` index, due when the claim times out (a crashed claimant's event is retried).
   */
  async claimEvent(
    sourceId: string,
    event: QrEvent,
    claim: { owner: string; now: number; claimTimeoutMs: number; ttlSeconds: number },
  ): Promise<'claimed' | 'exists'> {
    return this.#create(sourceId, event, claim.now, claim.ttlSeconds, {
      status: 'claimed',
      owner: claim.owner,
      attempts: 1,
      [TABLE_SCHEMA.dueIndex.partitionKey]: duePk(sourceId),
      [TABLE_SCHEMA.dueIndex.sortKey]: claim.now + claim.claimTimeoutMs,
    });
  }

  /** Record an event that is not to be sent: the first run's backlog, or a repeat inside the cooldown. */
  async recordSeen(
    sourceId: string,
    event: QrEvent,
    status: 'baseline' | 'suppressed',
    at: { now: number; ttlSeconds: number },
  ): Promise<'recorded' | 'exists'> {
    const result = await this.#create(sourceId, event, at.now, at.ttlSeconds, { status, attempts: 0 });
    return result === 'claimed' ? 'recorded' : 'exists';
  }

  async #create(
    sourceId: string,
    event: QrEvent,
    now: number,
    ttlSeconds: number,
    fields: Record<string, NativeAttributeValue>,
  ): Promise<'claimed' | 'exists'> {
    try {
      await this.#db.send(
        new PutCommand({
          TableName: this.#table,
          Item: {
            ...eventKey(sourceId, event.hash),
            ...fields,
            code: event.code,
            table: event.tableName,
            firstSeenAt: now,
            event: serializeEvent(event),
            [TABLE_SCHEMA.ttlAttribute]: Math.ceil(now / 1000) + ttlSeconds,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return 'claimed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'exists';
      throw error;
    }
  }

  /** claimed → delivered; false if `owner` no longer holds the claim. */
  async markDelivered(
    sourceId: string,
    hash: string,
    owner: string,
    done: { now: number; channels: readonly Channel[] },
  ): Promise<boolean> {
    return this.#transition(
      sourceId,
      hash,
      owner,
      'SET #status = :delivered, deliveredAt = :now, doneChannels = :channels REMOVE duePk, dueAt',
      {
        ':delivered': 'delivered',
        ':now': done.now,
        ':channels': [...done.channels],
      },
    );
  }

  /** claimed → retry at `dueAt`, remembering the channels already done. */
  async markRetry(
    sourceId: string,
    hash: string,
    owner: string,
    retry: { dueAt: number; errorKind: string; error: string; doneChannels: readonly Channel[] },
  ): Promise<boolean> {
    return this.#transition(
      sourceId,
      hash,
      owner,
      'SET #status = :retry, dueAt = :dueAt, lastErrorKind = :kind, lastError = :error, doneChannels = :channels',
      {
        ':retry': 'retry',
        ':dueAt': retry.dueAt,
        ':kind': retry.errorKind,
        ':error': retry.error,
        ':channels': [...retry.doneChannels],
      },
    );
  }

  /** claimed → failed for good (attempts exhausted, or an error no retry can fix). */
  async markFailed(
    sourceId: string,
    hash: string,
    owner: string,
    failure: { now: number; errorKind: string; error: string; doneChannels: readonly Channel[] },
  ): Promise<boolean> {
    return this.#transition(
      sourceId,
      hash,
      owner,
      'SET #status = :failed, failedAt = :now, lastErrorKind = :kind, lastError = :error, doneChannels = :channels REMOVE duePk, dueAt',
      {
        ':failed': 'failed',
        ':now': failure.now,
        ':kind': failure.errorKind,
        ':error': failure.error,
        ':channels': [...failure.doneChannels],
      },
    );
  }

  async #transition(
    sourceId: string,
    hash: string,
    owner: string,
    update: string,
    values: Record<string, NativeAttributeValue>,
  ): Promise<boolean> {
    try {
      await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: eventKey(sourceId, hash),
          UpdateExpression: update,
          ConditionExpression: '#status = :claimed AND #owner = :owner',
          ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
          ExpressionAttributeValues: { ...values, ':claimed': 'claimed', ':owner': owner },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** Every record of the source that still needs work, soonest first (the sparse `due` index). */
  async listDue(sourceId: string): Promise<DueEvent[]> {
    const due: DueEvent[] = [];
    let start: Record<string, NativeAttributeValue> | undefined;
    do {
      const out: QueryCommandOutput = await this.#db.send(
        new QueryCommand({
          TableName: this.#table,
          IndexName: TABLE_SCHEMA.dueIndex.name,
          KeyConditionExpression: '#duePk = :duePk',
          ExpressionAttributeNames: {
            '#duePk': TABLE_SCHEMA.dueIndex.partitionKey,
            '#status': 'status',
            '#sk': TABLE_SCHEMA.sortKey,
          },
          ExpressionAttributeValues: { ':duePk': duePk(sourceId) },
          ProjectionExpression: '#sk, #status, dueAt, attempts',
          ExclusiveStartKey: start,
        }),
      );
      for (const item of out.Items ?? []) {
        due.push({
          hash: String(item.sk).slice(eventSk('').length),
          status: item.status === 'retry' ? 'retry' : 'claimed',
          dueAt: Number(item.dueAt),
          attempts: Number(item.attempts ?? 1),
        });
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return due;
  }

  /**
   * Take over a due record for another attempt: only if it is still due and nobody took it since
   * (`attempts` unchanged). The claim times out again after `claimTimeoutMs`.
   */
  async takeOver(
    sourceId: string,
    hash: string,
    owner: string,
    take: { now: number; claimTimeoutMs: number; expectAttempts: number },
  ): Promise<ClaimedRecord | undefined> {
    try {
      const out = await this.#db.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: eventKey(sourceId, hash),
          UpdateExpression:
            'SET #status = :claimed, #owner = :owner, claimedAt = :now, dueAt = :dueAt, attempts = attempts + :one',
          ConditionExpression: '#status IN (:claimed, :retry) AND dueAt <= :now AND attempts = :attempts',
          ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner' },
          ExpressionAttributeValues: {
            ':claimed': 'claimed',
            ':retry': 'retry',
            ':owner': owner,
            ':now': take.now,
            ':dueAt': take.now + take.claimTimeoutMs,
            ':one': 1,
            ':attempts': take.expectAttempts,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      const item = out.Attributes ?? {};
      return {
        event: deserializeEvent(String(item.event)),
        firstSeenAt: Number(item.firstSeenAt),
        attempts: Number(item.attempts),
        doneChannels: Array.isArray(item.doneChannels) ? (item.doneChannels as Channel[]) : [],
      };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }
}

/** The event as stored for later retries; oversized server objects are dropped, largest first. */
export function serializeEvent(event: QrEvent): string {
  const fits = (value: QrEvent): string | undefined => {
    try {
      const text = JSON.stringify(value);
      return Buffer.byteLength(text) <= MAX_STORED_EVENT_BYTES ? text : undefined;
    } catch {
      return undefined; // not serialisable (e.g. nested too deep): try a smaller form
    }
  };
  return (
    fits(event) ??
    fits({ ...event, raw: { hash: event.hash, dropped: 'too large to store' } }) ??
    JSON.stringify({
      ...event,
      raw: { hash: event.hash },
      invoice: null,
      order: null,
      placeholders: [...event.placeholders, 'invoice', 'order'],
    })
  );
}

export function deserializeEvent(text: string): QrEvent {
  return JSON.parse(text) as QrEvent;
}

function toSourceState(item: Record<string, NativeAttributeValue>): SourceState {
  const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);
  return {
    ...(typeof item.cursor === 'string' ? { cursor: item.cursor } : {}),
    ...(num(item.cursorAt) !== undefined ? { cursorAt: num(item.cursorAt) } : {}),
    ...(num(item.lastSuccessAt) !== undefined ? { lastSuccessAt: num(item.lastSuccessAt) } : {}),
    ...(num(item.lastNoneAt) !== undefined ? { lastNoneAt: num(item.lastNoneAt) } : {}),
    ...(num(item.baselineAt) !== undefined ? { baselineAt: num(item.baselineAt) } : {}),
    cooldowns: isNumberRecord(item.cooldowns) ? item.cooldowns : {},
  };
}

function isNumberRecord(value: unknown): value is Record<string, number> {
  return typeof value === 'object' && value !== null && Object.values(value).every((v) => typeof v === 'number');
}

/** The item of a ConditionalCheckFailed error, low-level or not; only a few scalar fields are needed. */
function unmarshallLoose(item: Record<string, unknown>): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const [key, value] of Object.entries(item)) {
    if (typeof value === 'string' || typeof value === 'number') out[key] = value;
    else if (typeof value === 'object' && value !== null) {
      const { S, N } = value as { S?: string; N?: string };
      if (S !== undefined) out[key] = S;
      else if (N !== undefined) out[key] = Number(N);
    }
  }
  return out;
}
