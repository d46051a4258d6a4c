/**
 * The DynamoDB state store: the source item (lease + saved state) and the event records, behind
 * the ports of lambda/domain/ports.ts. Every key comes from keys.ts and every expression is built
 * from the attribute names and the transition table of lambda/domain/record.ts — the record
 * protocol lives there, this file only speaks it to DynamoDB.
 *
 * Every change is a conditional write. A refused condition returns the item as it is
 * (`ReturnValuesOnConditionCheckFailure`), so a write of ours that was applied but answered too
 * late (a timeout, then the endpoint's retry) is recognised as done instead of as a lost race.
 * Each call has its own deadline (`callTimeoutMs`), so a slow table cannot hold a tick past its end.
 * Costs: a new event 1 write to claim + 1 to mark; an invocation 1 to take the lease + 1 to save.
 */
import { isDeepStrictEqual } from 'node:util';
import { ConditionalCheckFailed, DynamoDb, type NativeAttributeValue } from './dynamodb';
import {
  ACKNOWLEDGE_RULE,
  appliedByUs,
  type ClaimedRecord,
  type DueRecord,
  EVENT_STATUS,
  type EventStatus,
  type KnownRecord,
  RECORD_ATTR,
  TERMINAL_STATUSES,
  TRANSITIONS,
  type Transition,
  type TransitionRule,
} from '../domain/record';
import {
  type CreateOutcome,
  type EventStore,
  type LeaseResult,
  type MarkDelivered,
  type MarkFailed,
  type MarkRetry,
  type NewRecord,
  type Acknowledgement,
  type AckOutcome,
  type AcknowledgedCall,
  type BotStore,
  type QuotaService,
  type SendSlotStore,
  type SlotRequest,
  type SlotReservation,
  RecordRejectedError,
  type SentFacts,
  type SourceStore,
} from '../domain/ports';
import { EMPTY_SOURCE_STATE, type QueuedEvent, type SourceState } from '../domain/source-state';
import type { Channel } from '../domain/delivery';
import type { QrEvent } from '../domain/event';
import {
  BOT_ATTR,
  botKey,
  duePk,
  EVENT_SK_PREFIX,
  eventKey,
  RATE_ATTR,
  rateKey,
  SOURCE_ATTR,
  sourceStateKey,
  TABLE_SCHEMA,
} from './keys';

export interface StateStoreOptions {
  readonly tableName: string;
  /** Default: a client configured from the environment (AWS_ENDPOINT_URL_DYNAMODB works), 3 attempts a call. */
  readonly client?: DynamoDb;
  /** Deadline of one store call, its retries included. Default 5 000 ms. */
  readonly callTimeoutMs?: number;
}

/** The longest server strings a record keeps beside the event JSON (they are what staff see anyway). */
export const STORED_LIMITS = { code: 100, table: 200, eventBytes: 100_000 } as const;

export class StateStore implements SourceStore, EventStore, BotStore, SendSlotStore {
  readonly #db: DynamoDb;
  readonly #table: string;
  readonly #timeoutMs: number;

  constructor(options: StateStoreOptions) {
    this.#table = options.tableName;
    this.#timeoutMs = options.callTimeoutMs ?? 5_000;
    this.#db = options.client ?? new DynamoDb({ maxAttempts: 3 });
  }

  // --- the source item ---------------------------------------------------------------------

  async acquireLease(sourceId: string, owner: string, now: number, until: number): Promise<LeaseResult> {
    const e = new Expressions();
    const [ownerName, untilName] = [e.name(SOURCE_ATTR.leaseOwner), e.name(SOURCE_ATTR.leaseUntil)];
    try {
      const out = await this.#db.update(
        {
          TableName: this.#table,
          Key: sourceStateKey(sourceId),
          UpdateExpression: `SET ${ownerName} = ${e.value('owner', owner)}, ${untilName} = ${e.value('until', until)}`,
          ConditionExpression: `attribute_not_exists(${untilName}) OR ${untilName} < ${e.value('now', now)} OR ${ownerName} = :owner`,
          ...e.build(),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return { acquired: true, state: toSourceState(out.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
      const old = error.item;
      return {
        acquired: false,
        ...(typeof old[SOURCE_ATTR.leaseOwner] === 'string' ? { holder: old[SOURCE_ATTR.leaseOwner] as string } : {}),
        ...(typeof old[SOURCE_ATTR.leaseUntil] === 'number'
          ? { leaseUntil: old[SOURCE_ATTR.leaseUntil] as number }
          : {}),
      };
    }
  }

  async saveState(
    sourceId: string,
    owner: string,
    state: SourceState,
    options: { release: boolean },
  ): Promise<boolean> {
    const e = new Expressions();
    const set: string[] = [];
    const remove: string[] = [];
    const written = fromSourceState(state);
    for (const [attribute, value] of Object.entries(written)) {
      if (value === undefined) remove.push(e.name(attribute));
      else set.push(`${e.name(attribute)} = ${e.value(attribute, value)}`);
    }
    if (options.release) remove.push(e.name(SOURCE_ATTR.leaseOwner), e.name(SOURCE_ATTR.leaseUntil));
    try {
      await this.#db.update(
        {
          TableName: this.#table,
          Key: sourceStateKey(sourceId),
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: `${e.name(SOURCE_ATTR.leaseOwner)} = ${e.value('owner', owner)}`,
          ...e.build(),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailed) return options.release && showsOurRelease(error.item, written);
      throw error;
    }
  }

  // --- event records -----------------------------------------------------------------------

  async findRecorded(sourceId: string, recordIds: readonly string[]): Promise<Map<string, KnownRecord>> {
    const found = new Map<string, KnownRecord>();
    const unique = [...new Set(recordIds)];
    const e = new Expressions();
    const projection = [
      RECORD_ATTR.sk,
      RECORD_ATTR.hash,
      RECORD_ATTR.status,
      RECORD_ATTR.owner,
      RECORD_ATTR.attempts,
      RECORD_ATTR.firstSeenAt,
      RECORD_ATTR.code,
      RECORD_ATTR.table,
      RECORD_ATTR.dueAt,
      RECORD_ATTR.phase,
    ]
      .map((a) => e.name(a))
      .join(', ');
    for (let i = 0; i < unique.length; i += 100) {
      let keys: Record<string, NativeAttributeValue>[] | undefined = unique
        .slice(i, i + 100)
        .map((id) => eventKey(sourceId, id));
      for (let round = 0; keys && keys.length > 0; round += 1) {
        if (round > 8) throw new Error(`DynamoDB kept ${keys.length} keys unprocessed in BatchGetItem`);
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** round, 1_000)));
        const out = await this.#db.batchGet(
          {
            TableName: this.#table,
            Keys: keys,
            ConsistentRead: true,
            ProjectionExpression: projection,
            ExpressionAttributeNames: e.build().ExpressionAttributeNames,
          },
          this.#call(),
        );
        for (const item of out.Items) {
          const known = toKnownRecord(item);
          found.set(known.recordId, known);
        }
        keys = out.UnprocessedKeys;
      }
    }
    return found;
  }

  async create(sourceId: string, record: NewRecord): Promise<CreateOutcome> {
    const transition: Transition = record.status === EVENT_STATUS.claimed ? 'claim' : 'recordSeen';
    const e = new Expressions();
    const item: Record<string, NativeAttributeValue> = {
      ...eventKey(sourceId, record.recordId),
      [RECORD_ATTR.hash]: record.event.hash,
      [RECORD_ATTR.status]: record.status,
      [RECORD_ATTR.owner]: record.owner,
      [RECORD_ATTR.attempts]: record.status === EVENT_STATUS.claimed ? 1 : 0,
      [RECORD_ATTR.firstSeenAt]: record.now,
      [RECORD_ATTR.code]: clipText(record.event.code, STORED_LIMITS.code),
      [RECORD_ATTR.table]: clipText(record.event.tableName, STORED_LIMITS.table),
      [RECORD_ATTR.event]: serializeEvent(record.event),
      [RECORD_ATTR.doneChannels]: [],
      [RECORD_ATTR.suppressedBy]: record.suppressedBy,
      [RECORD_ATTR.phase]: 0,
      [RECORD_ATTR.needsAck]: record.needsAck === true,
      [RECORD_ATTR.messages]: {},
      [RECORD_ATTR.sentAt]: {},
      [TABLE_SCHEMA.ttlAttribute]: Math.ceil(record.now / 1000) + record.ttlSeconds,
      ...(record.status === EVENT_STATUS.claimed
        ? {
            [RECORD_ATTR.duePk]: duePk(sourceId),
            [RECORD_ATTR.dueAt]: record.dueAt ?? record.now,
            [RECORD_ATTR.claimedAt]: record.now,
          }
        : {}),
    };
    let condition = `attribute_not_exists(${e.name(RECORD_ATTR.pk)})`;
    if (record.replaces !== undefined) {
      condition += ` OR (${e.name(RECORD_ATTR.firstSeenAt)} = ${e.value('replaces', record.replaces)} AND ${e.name(RECORD_ATTR.status)} IN (${e.values('terminal', TERMINAL_STATUSES)}))`;
    }
    try {
      await this.#db.put(
        {
          TableName: this.#table,
          Item: item,
          ConditionExpression: condition,
          ...e.build(),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return 'created';
    } catch (error) {
      if (error instanceof ConditionalCheckFailed) {
        const current = error.item;
        const intent = { owner: record.owner, status: record.status, firstSeenAt: record.now };
        return appliedByUs(transition, recordFacts(current), intent) ? 'created' : 'exists';
      }
      if (isValidationError(error)) throw new RecordRejectedError(`DynamoDB refused the record: ${describe(error)}`);
      throw error;
    }
  }

  markDelivered(sourceId: string, recordId: string, owner: string, done: MarkDelivered): Promise<boolean> {
    return this.#transition(sourceId, recordId, owner, 'markDelivered', (e) => ({
      set: [
        e.assign(RECORD_ATTR.deliveredAt, done.now),
        e.assign(RECORD_ATTR.doneChannels, [...done.channels]),
        ...sentClauses(e, done, done.now),
        ...(done.phase > 0
          ? [
              `${e.name(RECORD_ATTR.escalatedAt)} = list_append(if_not_exists(${e.name(RECORD_ATTR.escalatedAt)}, ${e.value('none', [])}), ${e.value('step', [done.now])})`,
            ]
          : []),
        ...(done.escalateAt !== undefined ? [e.assign(RECORD_ATTR.dueAt, done.escalateAt)] : []),
      ],
      // Done for good: the event's JSON was kept only for retries and escalations; the report needs none of it.
      remove: done.escalateAt !== undefined ? [] : [RECORD_ATTR.duePk, RECORD_ATTR.dueAt, RECORD_ATTR.event],
    }));
  }

  markRetry(sourceId: string, recordId: string, owner: string, retry: MarkRetry): Promise<boolean> {
    return this.#transition(sourceId, recordId, owner, 'markRetry', (e) => ({
      set: [
        e.assign(RECORD_ATTR.dueAt, retry.dueAt),
        e.assign(RECORD_ATTR.lastErrorKind, retry.errorKind),
        e.assign(RECORD_ATTR.lastError, clipText(retry.error, 1_000)),
        e.assign(RECORD_ATTR.doneChannels, [...retry.doneChannels]),
        ...sentClauses(e, retry, retry.now),
      ],
      remove: [],
    }));
  }

  markFailed(sourceId: string, recordId: string, owner: string, failure: MarkFailed): Promise<boolean> {
    return this.#transition(sourceId, recordId, owner, 'markFailed', (e) => ({
      set: [
        e.assign(RECORD_ATTR.failedAt, failure.now),
        e.assign(RECORD_ATTR.lastErrorKind, failure.errorKind),
        e.assign(RECORD_ATTR.lastError, clipText(failure.error, 1_000)),
        e.assign(RECORD_ATTR.doneChannels, [...failure.doneChannels]),
      ],
      remove: [RECORD_ATTR.duePk, RECORD_ATTR.dueAt, RECORD_ATTR.event],
    }));
  }

  async listDue(sourceId: string): Promise<DueRecord[]> {
    const due: DueRecord[] = [];
    const e = new Expressions();
    const keyCondition = `${e.name(TABLE_SCHEMA.dueIndex.partitionKey)} = ${e.value('duePk', duePk(sourceId))}`;
    const projection = [RECORD_ATTR.sk, RECORD_ATTR.dueAt, RECORD_ATTR.attempts, RECORD_ATTR.status, RECORD_ATTR.phase]
      .map((a) => e.name(a))
      .join(', ');
    let start: Record<string, NativeAttributeValue> | undefined;
    do {
      const out = await this.#db.query(
        {
          TableName: this.#table,
          IndexName: TABLE_SCHEMA.dueIndex.name,
          KeyConditionExpression: keyCondition,
          ProjectionExpression: projection,
          ...e.build(),
          ExclusiveStartKey: start,
        },
        this.#call(),
      );
      for (const item of out.Items ?? []) {
        due.push({
          recordId: recordIdOfSk(item[RECORD_ATTR.sk]),
          dueAt: Number(item[RECORD_ATTR.dueAt]),
          attempts: Number(item[RECORD_ATTR.attempts] ?? 1),
          status: (item[RECORD_ATTR.status] as EventStatus | undefined) ?? EVENT_STATUS.claimed,
          phase: Number(item[RECORD_ATTR.phase] ?? 0),
        });
      }
      start = out.LastEvaluatedKey;
    } while (start);
    return due;
  }

  async takeOver(
    sourceId: string,
    recordId: string,
    owner: string,
    take: { now: number; claimTimeoutMs: number; expectAttempts: number },
  ): Promise<ClaimedRecord | undefined> {
    return this.#claimExisting(sourceId, recordId, owner, 'takeOver', take, take.expectAttempts);
  }

  async release(
    sourceId: string,
    recordId: string,
    owner: string,
    release: { now: number; expectAttempts: number },
  ): Promise<boolean> {
    const rule: TransitionRule = TRANSITIONS.release;
    const e = new Expressions();
    try {
      await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `SET ${e.name(RECORD_ATTR.dueAt)} = ${e.value('dueAt', release.now)}`,
          ConditionExpression:
            `${ruleCondition(e, rule, { owner })} AND ` +
            `${e.name(RECORD_ATTR.attempts)} = ${e.value('expect', release.expectAttempts)}`,
          ...e.build(),
        },
        this.#call(),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailed) return false;
      throw error;
    }
  }

  async revive(
    sourceId: string,
    recordId: string,
    owner: string,
    take: { now: number; claimTimeoutMs: number },
  ): Promise<ClaimedRecord | undefined> {
    return this.#claimExisting(sourceId, recordId, owner, 'revive', take, undefined);
  }

  async escalate(
    sourceId: string,
    recordId: string,
    owner: string,
    take: { now: number; claimTimeoutMs: number; expectPhase: number },
  ): Promise<ClaimedRecord | undefined> {
    const rule: TransitionRule = TRANSITIONS.escalate;
    const e = new Expressions();
    const set = [
      e.assign(RECORD_ATTR.status, EVENT_STATUS.claimed),
      e.assign(RECORD_ATTR.owner, owner),
      e.assign(RECORD_ATTR.claimedAt, take.now),
      `${e.name(RECORD_ATTR.dueAt)} = ${e.value('claimDue', take.now + take.claimTimeoutMs)}`,
      e.assign(RECORD_ATTR.attempts, 1),
      e.assign(RECORD_ATTR.phase, take.expectPhase + 1),
      e.assign(RECORD_ATTR.phaseAt, take.now),
      e.assign(RECORD_ATTR.doneChannels, []),
    ];
    const condition =
      `${ruleCondition(e, rule, { now: take.now })} AND ${e.name(RECORD_ATTR.phase)} = ${e.value('expectPhase', take.expectPhase)}` +
      ` AND attribute_not_exists(${e.name(RECORD_ATTR.ackAt)})`;
    try {
      const out = await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: condition,
          ...e.build(),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return toClaimedRecord(recordId, out.Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
      const current = error.item;
      const facts = recordFacts(current);
      if (
        facts.status === EVENT_STATUS.claimed &&
        facts.owner === owner &&
        current[RECORD_ATTR.phase] === take.expectPhase + 1
      ) {
        return toClaimedRecord(recordId, current); // our own escalation, answered late
      }
      if (
        current[RECORD_ATTR.ackAt] !== undefined &&
        facts.status === EVENT_STATUS.delivered &&
        current[RECORD_ATTR.duePk]
      ) {
        await this.#leaveDueIndex(sourceId, recordId); // acknowledged: nothing is due any more
      }
      return undefined;
    }
  }

  /** An acknowledged, delivered record leaves the due index (its escalation is off). */
  async #leaveDueIndex(sourceId: string, recordId: string): Promise<void> {
    const e = new Expressions();
    try {
      await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `REMOVE ${e.name(RECORD_ATTR.duePk)}, ${e.name(RECORD_ATTR.dueAt)}`,
          ConditionExpression: `attribute_exists(${e.name(RECORD_ATTR.ackAt)}) AND ${e.name(RECORD_ATTR.status)} = ${e.value('delivered', EVENT_STATUS.delivered)}`,
          ...e.build(),
        },
        this.#call(),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
    }
  }

  async acknowledge(sourceId: string, recordId: string, press: Acknowledgement): Promise<AckOutcome> {
    const e = new Expressions();
    const set = [
      e.assign(RECORD_ATTR.ackAt, press.at),
      e.assign(RECORD_ATTR.ackBy, clipText(press.by, 100)),
      e.assign(RECORD_ATTR.ackById, press.byId),
      e.assign(RECORD_ATTR.ackPress, press.pressId),
    ];
    const condition =
      `attribute_exists(${e.name(RECORD_ATTR.pk)}) AND ${e.name(RECORD_ATTR.needsAck)} = ${e.value('yes', ACKNOWLEDGE_RULE.needsAck)}` +
      ` AND attribute_not_exists(${e.name(RECORD_ATTR.ackAt)})`;
    try {
      const out = await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `SET ${set.join(', ')}`,
          ConditionExpression: condition,
          ...e.build(),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return { outcome: 'acknowledged', call: toAcknowledgedCall(out.Attributes ?? {}) };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
      const current = error.item;
      if (current[RECORD_ATTR.needsAck] !== true || typeof current[RECORD_ATTR.ackAt] !== 'number')
        return { outcome: 'unknown' };
      const ours = current[RECORD_ATTR.ackPress] === press.pressId;
      return { outcome: ours ? 'repeated' : 'taken', call: toAcknowledgedCall(current) };
    }
  }

  // --- the bot's item ----------------------------------------------------------------------

  async acquireBotLease(
    bot: string,
    owner: string,
    now: number,
    until: number,
  ): Promise<{ acquired: boolean; offset?: number }> {
    const e = new Expressions();
    const [ownerName, untilName] = [e.name(SOURCE_ATTR.leaseOwner), e.name(SOURCE_ATTR.leaseUntil)];
    try {
      const out = await this.#db.update(
        {
          TableName: this.#table,
          Key: botKey(bot),
          UpdateExpression: `SET ${ownerName} = ${e.value('owner', owner)}, ${untilName} = ${e.value('until', until)}`,
          ConditionExpression: `attribute_not_exists(${untilName}) OR ${untilName} < ${e.value('now', now)} OR ${ownerName} = :owner`,
          ...e.build(),
          ReturnValues: 'ALL_NEW',
        },
        this.#call(),
      );
      const offset = out.Attributes?.[BOT_ATTR.offset];
      return { acquired: true, ...(typeof offset === 'number' ? { offset } : {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailed) return { acquired: false };
      throw error;
    }
  }

  async saveBotOffset(bot: string, owner: string, offset: number, options: { release: boolean }): Promise<boolean> {
    const e = new Expressions();
    const remove = options.release
      ? ` REMOVE ${e.name(SOURCE_ATTR.leaseOwner)}, ${e.name(SOURCE_ATTR.leaseUntil)}`
      : '';
    try {
      await this.#db.update(
        {
          TableName: this.#table,
          Key: botKey(bot),
          UpdateExpression: `SET ${e.assign(BOT_ATTR.offset, offset)}${remove}`,
          ConditionExpression: `${e.name(SOURCE_ATTR.leaseOwner)} = ${e.value('owner', owner)}`,
          ...e.build(),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailed)
        return options.release && showsOurRelease(error.item, { [BOT_ATTR.offset]: offset });
      throw error;
    }
  }

  // --- the shared send slots -------------------------------------------------------------

  async reserveSendSlots(service: QuotaService, request: SlotRequest): Promise<SlotReservation> {
    const e = new Expressions();
    const next = e.name(RATE_ATTR.next);
    const from = e.value('from', request.from);
    const ttl = e.assign(TABLE_SCHEMA.ttlAttribute, Math.ceil(request.expiresAt / 1000));
    const write =
      request.mode === 'claim'
        ? {
            UpdateExpression: `SET ${next} = ${e.value('next', request.from + request.slots)}, ${ttl}`,
            ConditionExpression: `attribute_not_exists(${next}) OR ${next} <= ${from}`,
          }
        : {
            UpdateExpression: `SET ${next} = ${next} + ${e.value('slots', request.slots)}, ${ttl}`,
            ConditionExpression: `${next} BETWEEN ${from} AND ${e.value('latestFirst', request.latestFirst)}`,
          };
    try {
      const out = await this.#db.update(
        {
          TableName: this.#table,
          Key: rateKey(service),
          ...write,
          ...e.build(),
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      const stored = out.Attributes?.[RATE_ATTR.next];
      // An answer without the pointer: the claim's own value (the append's cannot be known).
      if (typeof stored === 'number') return { reserved: true, next: stored };
      if (request.mode === 'claim') return { reserved: true, next: request.from + request.slots };
      throw new Error('the slot pointer was moved but its new value was not returned');
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
      const stored = error.item?.[RATE_ATTR.next];
      return typeof stored === 'number' && Number.isFinite(stored)
        ? { reserved: false, next: stored }
        : { reserved: false };
    }
  }

  // --- building the writes -----------------------------------------------------------------

  /** claimed → delivered / retry / failed, only by the claimant. */
  async #transition(
    sourceId: string,
    recordId: string,
    owner: string,
    transition: 'markDelivered' | 'markRetry' | 'markFailed',
    build: (e: Expressions) => { set: string[]; remove: readonly string[] },
  ): Promise<boolean> {
    const rule: TransitionRule = TRANSITIONS[transition];
    const e = new Expressions();
    const change = build(e);
    const set = [`${e.name(RECORD_ATTR.status)} = ${e.value('to', rule.to[0]!)}`, ...change.set];
    const remove = change.remove.map((a) => e.name(a));
    try {
      await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: ruleCondition(e, rule, { owner }),
          ...e.build(),
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailed) {
        return appliedByUs(transition, recordFacts(error.item), { owner });
      }
      throw error;
    }
  }

  /** retry|claimed → claimed (take-over) or suppressed → claimed (revive): one more attempt, ours. */
  async #claimExisting(
    sourceId: string,
    recordId: string,
    owner: string,
    transition: 'takeOver' | 'revive',
    take: { now: number; claimTimeoutMs: number },
    expectAttempts: number | undefined,
  ): Promise<ClaimedRecord | undefined> {
    const rule: TransitionRule = TRANSITIONS[transition];
    const e = new Expressions();
    const set = [
      `${e.name(RECORD_ATTR.status)} = ${e.value('to', EVENT_STATUS.claimed)}`,
      `${e.name(RECORD_ATTR.owner)} = ${e.value('owner', owner)}`,
      `${e.name(RECORD_ATTR.claimedAt)} = ${e.value('now', take.now)}`,
      `${e.name(RECORD_ATTR.dueAt)} = ${e.value('dueAt', take.now + take.claimTimeoutMs)}`,
      `${e.name(RECORD_ATTR.duePk)} = ${e.value('duePk', duePk(sourceId))}`,
      `${e.name(RECORD_ATTR.attempts)} = ${e.name(RECORD_ATTR.attempts)} + ${e.value('one', 1)}`,
    ];
    try {
      const out = await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `SET ${set.join(', ')}`,
          // An escalation step is taken over only while nobody has acknowledged the call (finding F6).
          ConditionExpression:
            ruleCondition(e, rule, {
              now: take.now,
              ...(expectAttempts !== undefined ? { attempts: expectAttempts } : {}),
            }) +
            (transition === 'takeOver'
              ? ` AND (${e.name(RECORD_ATTR.phase)} = ${e.value('alertPhase', 0)} OR attribute_not_exists(${e.name(RECORD_ATTR.ackAt)}))`
              : ''),
          ...e.build(),
          ReturnValues: 'ALL_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        },
        this.#call(),
      );
      return toClaimedRecord(recordId, out.Attributes ?? {});
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
      const current = error.item;
      const attempts = expectAttempts === undefined ? undefined : expectAttempts + 1;
      const intent = { owner, ...(attempts !== undefined ? { attempts } : {}) };
      if (appliedByUs(transition, recordFacts(current), intent)) return toClaimedRecord(recordId, current);
      const phase = Number(current[RECORD_ATTR.phase] ?? 0);
      if (phase > 0 && current[RECORD_ATTR.ackAt] !== undefined)
        await this.#standDown(sourceId, recordId, phase, take.now);
      return undefined;
    }
  }

  /** An escalation step left pending when the call was acknowledged: done, never sent, out of the due index. */
  async #standDown(sourceId: string, recordId: string, phase: number, now: number): Promise<void> {
    const rule: TransitionRule = TRANSITIONS.standDown;
    const e = new Expressions();
    const remove = [RECORD_ATTR.duePk, RECORD_ATTR.dueAt, RECORD_ATTR.event].map((a) => e.name(a)).join(', ');
    try {
      await this.#db.update(
        {
          TableName: this.#table,
          Key: eventKey(sourceId, recordId),
          UpdateExpression: `SET ${e.name(RECORD_ATTR.status)} = ${e.value('to', rule.to[0]!)} REMOVE ${remove}`,
          ConditionExpression:
            `${ruleCondition(e, rule, { now })} AND ${e.name(RECORD_ATTR.phase)} = ${e.value('standDownPhase', phase)}` +
            ` AND attribute_exists(${e.name(RECORD_ATTR.ackAt)})`,
          ...e.build(),
        },
        this.#call(),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailed)) throw error;
    }
  }

  /** Options of every call: its own deadline, retries included. */
  #call(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.#timeoutMs) };
  }
}

// --- expressions -------------------------------------------------------------------------------

/** Collects `#name` and `:value` placeholders for one command. */
class Expressions {
  readonly #names: Record<string, string> = {};
  readonly #values: Record<string, NativeAttributeValue> = {};

  name(attribute: string): string {
    const placeholder = `#${attribute}`;
    this.#names[placeholder] = attribute;
    return placeholder;
  }

  /** A placeholder for any name (a map key such as `telegram:-1001`), numbered. */
  key(name: string): string {
    const placeholder = `#k${Object.keys(this.#names).length}`;
    this.#names[placeholder] = name;
    return placeholder;
  }

  /** `#attribute = :attribute`. */
  assign(attribute: string, value: NativeAttributeValue): string {
    return `${this.name(attribute)} = ${this.value(attribute, value)}`;
  }

  value(key: string, value: NativeAttributeValue): string {
    const placeholder = `:${key}`;
    this.#values[placeholder] = value;
    return placeholder;
  }

  values(key: string, values: readonly NativeAttributeValue[]): string {
    return values.map((v, i) => this.value(`${key}${i}`, v)).join(', ');
  }

  build(): {
    ExpressionAttributeNames: Record<string, string>;
    ExpressionAttributeValues?: Record<string, NativeAttributeValue>;
  } {
    return {
      ExpressionAttributeNames: { ...this.#names },
      ...(Object.keys(this.#values).length > 0 ? { ExpressionAttributeValues: { ...this.#values } } : {}),
    };
  }
}

/** Message ids of the sends of an attempt, and the first-sent time of channels sent now (phase 0). */
function sentClauses(e: Expressions, sent: SentFacts, now: number): string[] {
  const clauses: string[] = [];
  for (const [key, id] of Object.entries(sent.messages ?? {})) {
    clauses.push(`${e.name(RECORD_ATTR.messages)}.${e.key(key)} = ${e.value(`m${clauses.length}`, id)}`);
  }
  for (const channel of sent.sentChannels ?? []) {
    const path = `${e.name(RECORD_ATTR.sentAt)}.${e.key(channel)}`;
    clauses.push(`${path} = if_not_exists(${path}, ${e.value('sentNow', now)})`);
  }
  return clauses;
}

/** The condition a transition rule stands for. */
function ruleCondition(
  e: Expressions,
  rule: TransitionRule,
  context: { owner?: string; now?: number; attempts?: number },
): string {
  const parts: string[] = [];
  if (rule.from !== 'absent') parts.push(`${e.name(RECORD_ATTR.status)} IN (${e.values('from', rule.from)})`);
  if (rule.claimantOnly) parts.push(`${e.name(RECORD_ATTR.owner)} = ${e.value('owner', context.owner ?? '')}`);
  if (rule.whenDue) {
    parts.push(`${e.name(RECORD_ATTR.dueAt)} <= ${e.value('now', context.now ?? 0)}`);
    if (context.attempts !== undefined)
      parts.push(`${e.name(RECORD_ATTR.attempts)} = ${e.value('expect', context.attempts)}`);
  }
  return parts.join(' AND ');
}

// --- items ⇄ values ----------------------------------------------------------------------------

function recordIdOfSk(sk: unknown): string {
  return String(sk).slice(EVENT_SK_PREFIX.length);
}

function recordFacts(item: Record<string, unknown>) {
  return {
    ...(typeof item[RECORD_ATTR.status] === 'string' ? { status: item[RECORD_ATTR.status] as EventStatus } : {}),
    ...(typeof item[RECORD_ATTR.owner] === 'string' ? { owner: item[RECORD_ATTR.owner] as string } : {}),
    ...(typeof item[RECORD_ATTR.attempts] === 'number' ? { attempts: item[RECORD_ATTR.attempts] as number } : {}),
    ...(typeof item[RECORD_ATTR.firstSeenAt] === 'number'
      ? { firstSeenAt: item[RECORD_ATTR.firstSeenAt] as number }
      : {}),
  };
}

function toKnownRecord(item: Record<string, NativeAttributeValue>): KnownRecord {
  const recordId = recordIdOfSk(item[RECORD_ATTR.sk]);
  return {
    recordId,
    hash: typeof item[RECORD_ATTR.hash] === 'string' ? item[RECORD_ATTR.hash] : recordId,
    status: item[RECORD_ATTR.status] as EventStatus,
    ...(typeof item[RECORD_ATTR.owner] === 'string' ? { owner: item[RECORD_ATTR.owner] } : {}),
    attempts: Number(item[RECORD_ATTR.attempts] ?? 0),
    firstSeenAt: Number(item[RECORD_ATTR.firstSeenAt]),
    code: String(item[RECORD_ATTR.code] ?? ''),
    table: String(item[RECORD_ATTR.table] ?? ''),
    ...(typeof item[RECORD_ATTR.dueAt] === 'number' ? { dueAt: item[RECORD_ATTR.dueAt] } : {}),
    phase: Number(item[RECORD_ATTR.phase] ?? 0),
  };
}

function toClaimedRecord(recordId: string, item: Record<string, unknown>): ClaimedRecord {
  return {
    recordId,
    event: deserializeEvent(String(item[RECORD_ATTR.event])),
    firstSeenAt: Number(item[RECORD_ATTR.firstSeenAt]),
    attempts: Number(item[RECORD_ATTR.attempts]),
    doneChannels: Array.isArray(item[RECORD_ATTR.doneChannels]) ? (item[RECORD_ATTR.doneChannels] as Channel[]) : [],
    phase: Number(item[RECORD_ATTR.phase] ?? 0),
    phaseAt: Number(item[RECORD_ATTR.phaseAt] ?? item[RECORD_ATTR.firstSeenAt]),
    needsAck: item[RECORD_ATTR.needsAck] === true,
    messages: stringRecord(item[RECORD_ATTR.messages]),
  };
}

function toAcknowledgedCall(item: Record<string, unknown>): AcknowledgedCall {
  return {
    hash: String(item[RECORD_ATTR.hash] ?? ''),
    code: String(item[RECORD_ATTR.code] ?? ''),
    table: String(item[RECORD_ATTR.table] ?? ''),
    firstSeenAt: Number(item[RECORD_ATTR.firstSeenAt]),
    ackAt: Number(item[RECORD_ATTR.ackAt]),
    ackBy: String(item[RECORD_ATTR.ackBy] ?? ''),
    messages: stringRecord(item[RECORD_ATTR.messages]),
  };
}

function stringRecord(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

/** The saved state as source-item attributes (undefined = remove the attribute). */
function fromSourceState(state: SourceState): Record<string, NativeAttributeValue> {
  return {
    [SOURCE_ATTR.cursor]: state.cursor,
    [SOURCE_ATTR.cursorAt]: state.cursorAt,
    [SOURCE_ATTR.lastSuccessAt]: state.lastSuccessAt,
    [SOURCE_ATTR.lastNoneAt]: state.lastNoneAt,
    [SOURCE_ATTR.baselineAt]: state.baselineAt,
    [SOURCE_ATTR.cooldowns]: state.cooldowns,
    [SOURCE_ATTR.queue]: state.queue
      ? { at: state.queue.at, events: state.queue.events.map((e) => [...e]) }
      : undefined,
    [SOURCE_ATTR.gone]: state.gone,
    [SOURCE_ATTR.aliases]: state.aliases,
    [SOURCE_ATTR.learnt]: state.learnt,
    [SOURCE_ATTR.reconcile]: state.reconcile,
    [SOURCE_ATTR.held]: state.held,
    [SOURCE_ATTR.poisoned]: state.poisoned,
  };
}

/** Lenient: an item written by an older version (cooldowns as bare numbers) still reads. */
export function toSourceState(item: Record<string, NativeAttributeValue>): SourceState {
  const num = (value: unknown): number | undefined =>
    typeof value === 'number' && Number.isFinite(value) ? value : undefined;
  const record = (value: unknown): Record<string, unknown> =>
    typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  const numbers = (value: unknown): Record<string, number> =>
    Object.fromEntries(
      Object.entries(record(value)).filter((entry): entry is [string, number] => num(entry[1]) !== undefined),
    );
  const cooldowns = Object.fromEntries(
    Object.entries(record(item[SOURCE_ATTR.cooldowns])).flatMap(([key, value]) => {
      if (num(value) !== undefined) return [[key, { until: value as number, hash: '' }]];
      const c = record(value);
      return num(c.until) !== undefined ? [[key, { until: c.until as number, hash: String(c.hash ?? '') }]] : [];
    }),
  );
  const queue = record(item[SOURCE_ATTR.queue]);
  // [hash, first seen, last seen, queued after]; an older item's [hash, first seen] reads as first seen throughout.
  const queueEvents = Array.isArray(queue.events)
    ? queue.events.flatMap((e): QueuedEvent[] => {
        if (!Array.isArray(e) || typeof e[0] !== 'string' || num(e[1]) === undefined) return [];
        const first = e[1] as number;
        return [[e[0], first, num(e[2]) ?? first, num(e[3]) ?? first]];
      })
    : undefined;
  const learnt = record(item[SOURCE_ATTR.learnt]);
  const reconcile = record(item[SOURCE_ATTR.reconcile]);
  const held = Object.fromEntries(
    Object.entries(record(item[SOURCE_ATTR.held])).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : []]),
  );
  const state: SourceState = {
    ...EMPTY_SOURCE_STATE,
    ...(typeof item[SOURCE_ATTR.cursor] === 'string' ? { cursor: item[SOURCE_ATTR.cursor] } : {}),
    ...(num(item[SOURCE_ATTR.cursorAt]) !== undefined ? { cursorAt: num(item[SOURCE_ATTR.cursorAt]) } : {}),
    ...(num(item[SOURCE_ATTR.lastSuccessAt]) !== undefined
      ? { lastSuccessAt: num(item[SOURCE_ATTR.lastSuccessAt]) }
      : {}),
    ...(num(item[SOURCE_ATTR.lastNoneAt]) !== undefined ? { lastNoneAt: num(item[SOURCE_ATTR.lastNoneAt]) } : {}),
    ...(num(item[SOURCE_ATTR.baselineAt]) !== undefined ? { baselineAt: num(item[SOURCE_ATTR.baselineAt]) } : {}),
    cooldowns,
    ...(queueEvents && num(queue.at) !== undefined ? { queue: { at: queue.at as number, events: queueEvents } } : {}),
    gone: numbers(item[SOURCE_ATTR.gone]),
    aliases: numbers(item[SOURCE_ATTR.aliases]),
    learnt: {
      ...(num(learnt.retentionMs) !== undefined ? { retentionMs: learnt.retentionMs as number } : {}),
      ...(num(learnt.longestSeenMs) !== undefined ? { longestSeenMs: learnt.longestSeenMs as number } : {}),
    },
    ...(num(reconcile.failures) !== undefined && num(reconcile.nextAt) !== undefined
      ? { reconcile: { failures: reconcile.failures as number, nextAt: reconcile.nextAt as number } }
      : {}),
    held,
    poisoned: numbers(item[SOURCE_ATTR.poisoned]),
  };
  return state;
}

/**
 * A save-and-release refused because the lease is gone: was it our own write, applied but answered
 * too late (then retried)? Yes when nobody holds the lease and the item holds exactly what we wrote.
 */
function showsOurRelease(item: Record<string, unknown>, written: Record<string, NativeAttributeValue>): boolean {
  if (item[SOURCE_ATTR.leaseOwner] !== undefined || item[SOURCE_ATTR.leaseUntil] !== undefined) return false;
  return Object.entries(written).every(([attribute, value]) => isDeepStrictEqual(item[attribute], value));
}

function isValidationError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'ValidationException' || error.name === 'ItemCollectionSizeLimitExceededException')
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** At most `max` UTF-16 units, never splitting a surrogate pair. */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = /[\uD800-\uDBFF]/.test(text[max - 1] ?? '') ? max - 1 : max;
  return `${text.slice(0, cut - 1)}…`;
}

/**
 * The event as stored for later retries, always under `STORED_LIMITS.eventBytes`: oversized server
 * objects are dropped first, then the server's own object, then long strings are clipped.
 */
export function serializeEvent(event: QrEvent): string {
  const fits = (value: QrEvent): string | undefined => {
    try {
      const text = JSON.stringify(value);
      return Buffer.byteLength(text) <= STORED_LIMITS.eventBytes ? text : undefined;
    } catch {
      return undefined; // not serialisable (e.g. nested too deep): try a smaller form
    }
  };
  const placeholders = [...new Set([...event.placeholders, 'invoice', 'order'])];
  return (
    fits(event) ??
    fits({ ...event, raw: { hash: event.hash, dropped: 'too large to store' } }) ??
    fits({ ...event, raw: { hash: event.hash }, invoice: null, order: null, placeholders }) ??
    JSON.stringify({
      ...event,
      code: clipText(event.code, STORED_LIMITS.code),
      tableName: clipText(event.tableName, STORED_LIMITS.table),
      tableId: typeof event.tableId === 'string' ? clipText(event.tableId, STORED_LIMITS.table) : event.tableId,
      raw: { hash: event.hash },
      invoice: null,
      order: null,
      placeholders: [...new Set([...placeholders, 'table_repr.name'])],
    })
  );
}

export function deserializeEvent(text: string): QrEvent {
  return JSON.parse(text) as QrEvent;
}
