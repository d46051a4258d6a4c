/**
 * The DynamoDB table: its key schema and every item's key, in one place.
 *
 *   pk            sk             item
 *   src#<id>      state          the source: cursor, lease, last successful poll, cooldowns
 *   src#<id>      evt#<hash>     one event: claimed → delivered / retry / failed / suppressed / baseline
 *
 * Event records that still need work (claimed, or waiting for a retry) also carry
 * `duePk = due#<id>` and `dueAt` (epoch ms), which puts them in the sparse `due` index; the
 * attributes are removed once the event is done, so the index holds only pending work.
 * Everything but the source item expires through TTL on `expiresAt` (epoch seconds).
 */

export const TABLE_SCHEMA = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAt',
  dueIndex: { name: 'due', partitionKey: 'duePk', sortKey: 'dueAt' },
} as const;

export const sourcePk = (sourceId: string): string => `src#${sourceId}`;
export const SOURCE_STATE_SK = 'state';
export const EVENT_SK_PREFIX = 'evt#';
export const eventSk = (hash: string): string => `${EVENT_SK_PREFIX}${hash}`;
export const duePk = (sourceId: string): string => `due#${sourceId}`;

export const sourceStateKey = (sourceId: string) => ({ pk: sourcePk(sourceId), sk: SOURCE_STATE_SK });
export const eventKey = (sourceId: string, hash: string) => ({ pk: sourcePk(sourceId), sk: eventSk(hash) });
