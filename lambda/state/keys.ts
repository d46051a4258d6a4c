/**
 * The DynamoDB table: its key schema, every item's key, and the source item's attribute names.
 *
 *   pk            sk                item
 *   src#<id>      state             the source: lease, cursor, queue knowledge, cooldowns (SOURCE_ATTR)
 *   src#<id>      evt#<record id>   one event record (attributes and lifecycle: lambda/domain/record.ts)
 *   bot#<name>    state             a chat bot's update reader: lease, offset (BOT_ATTR)
 *   rate#<quota>  slots             the slot pointer the shards share for `ses` or `sns` (RATE_ATTR)
 *
 * Event records that still need work carry `duePk = due#<id>` and `dueAt` (epoch ms), which puts
 * them in the sparse `due` index; the attributes are removed once the event is done, so the index
 * holds only pending work. Everything but the source item expires through TTL on `expiresAt`.
 */
import { RECORD_ATTR } from '../domain/record';

export const TABLE_SCHEMA = {
  partitionKey: RECORD_ATTR.pk,
  sortKey: RECORD_ATTR.sk,
  ttlAttribute: RECORD_ATTR.expiresAt,
  dueIndex: { name: 'due', partitionKey: RECORD_ATTR.duePk, sortKey: RECORD_ATTR.dueAt },
} as const;

/** Attributes of the source item (`src#<id>` / `state`); its shape is `SourceState` (domain/source-state.ts). */
export const SOURCE_ATTR = {
  leaseOwner: 'leaseOwner',
  leaseUntil: 'leaseUntil',
  cursor: 'cursor',
  cursorAt: 'cursorAt',
  lastSuccessAt: 'lastSuccessAt',
  lastNoneAt: 'lastNoneAt',
  baselineAt: 'baselineAt',
  cooldowns: 'cooldowns',
  queue: 'queue',
  gone: 'gone',
  aliases: 'aliases',
  learnt: 'learnt',
  reconcile: 'reconcile',
  held: 'held',
  poisoned: 'poisoned',
} as const;

/** Attributes of a bot's item (`bot#<name>` / `state`): the lease (as a source's) and the update offset. */
export const BOT_ATTR = { offset: 'offset' } as const;

/** Attributes of a quota's slot item (`rate#<quota>` / `slots`): the next slot no shard has been given (domain/ports.ts). */
export const RATE_ATTR = { next: 'next' } as const;

export const sourcePk = (sourceId: string): string => `src#${sourceId}`;
export const botKey = (bot: string) => ({
  [TABLE_SCHEMA.partitionKey]: `bot#${bot}`,
  [TABLE_SCHEMA.sortKey]: SOURCE_STATE_SK,
});
export const RATE_SLOTS_SK = 'slots';
export const rateKey = (quota: string) => ({
  [TABLE_SCHEMA.partitionKey]: `rate#${quota}`,
  [TABLE_SCHEMA.sortKey]: RATE_SLOTS_SK,
});
export const SOURCE_STATE_SK = 'state';
export const EVENT_SK_PREFIX = 'evt#';
export const eventSk = (recordId: string): string => `${EVENT_SK_PREFIX}${recordId}`;
export const duePk = (sourceId: string): string => `due#${sourceId}`;

export const sourceStateKey = (sourceId: string) => ({
  [TABLE_SCHEMA.partitionKey]: sourcePk(sourceId),
  [TABLE_SCHEMA.sortKey]: SOURCE_STATE_SK,
});
export const eventKey = (sourceId: string, recordId: string) => ({
  [TABLE_SCHEMA.partitionKey]: sourcePk(sourceId),
  [TABLE_SCHEMA.sortKey]: eventSk(recordId),
});
