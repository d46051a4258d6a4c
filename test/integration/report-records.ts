/**
 * For the report's integration tests: writes event records into DynamoDB Local as the poller's
 * store leaves them (key from `eventKey`, attributes named by RECORD_ATTR, an `event` JSON of a
 * realistic size, a TTL), from a typed value, so the tests need not wait for the poller's
 * acknowledgement and escalation code to fill `needsAck`, `ackAt`, `sentAt` and `escalatedAt`.
 * BatchWriteItem, 25 at a time, retrying what DynamoDB hands back unprocessed.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RECORD_ATTR } from '../../lambda/domain/record';
import type { ReportRecord } from '../../lambda/report/stats';
import { eventKey } from '../../lambda/state/keys';

export interface StoredRecord extends ReportRecord {
  readonly sourceId: string;
  /** Bytes of the event JSON kept on the record (the store keeps the event for retries). */
  readonly eventBytes?: number;
  readonly phase?: number;
}

/** The item the store would hold for a record. */
export function recordItem(record: StoredRecord): Record<string, unknown> {
  const event = JSON.stringify({
    hash: record.hash,
    code: record.code,
    table: 1_000_000,
    table_repr: { id: 1_000_000, name: record.table, max_guests: 6 },
    pad: 'x'.repeat(Math.max(0, (record.eventBytes ?? 600) - 120)),
  });
  return {
    ...eventKey(record.sourceId, record.recordId),
    [RECORD_ATTR.hash]: record.hash,
    [RECORD_ATTR.status]: record.status,
    [RECORD_ATTR.code]: record.code,
    [RECORD_ATTR.table]: record.table,
    [RECORD_ATTR.firstSeenAt]: record.firstSeenAt,
    [RECORD_ATTR.attempts]: 1,
    [RECORD_ATTR.event]: event,
    [RECORD_ATTR.expiresAt]: Math.floor(record.firstSeenAt / 1000) + 31 * 86_400,
    [RECORD_ATTR.phase]: record.phase ?? record.escalatedAt.length,
    [RECORD_ATTR.needsAck]: record.needsAck,
    [RECORD_ATTR.sentAt]: record.sentAt,
    [RECORD_ATTR.doneChannels]: Object.keys(record.sentAt),
    ...(record.ackAt !== undefined && { [RECORD_ATTR.ackAt]: record.ackAt }),
    ...(record.ackBy !== undefined && { [RECORD_ATTR.ackBy]: record.ackBy }),
    // Telegram user ids are numbers.
    ...(record.ackById !== undefined && { [RECORD_ATTR.ackById]: Number(record.ackById) }),
    ...(record.escalatedAt.length > 0 && { [RECORD_ATTR.escalatedAt]: [...record.escalatedAt] }),
  };
}

/** Write items (records or anything else) into the table. */
export async function putItems(client: DynamoDBClient, tableName: string, items: Record<string, unknown>[]) {
  const db = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  for (let i = 0; i < items.length; i += 25) {
    let requests = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
    for (let round = 0; requests.length > 0; round += 1) {
      if (round > 20) throw new Error('DynamoDB Local keeps leaving writes unprocessed');
      const out = await db.send(new BatchWriteCommand({ RequestItems: { [tableName]: requests } }));
      requests = (out.UnprocessedItems?.[tableName] ?? []) as typeof requests;
    }
  }
}

export async function putRecords(client: DynamoDBClient, tableName: string, records: readonly StoredRecord[]) {
  await putItems(client, tableName, records.map(recordItem));
}
