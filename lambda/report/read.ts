/**
 * Reading one day of event records for the report: per source ONE DynamoDB Query on the base
 * table (`pk = src#<id>`, `sk begins_with evt#`), filtered to the records first seen within the
 * day and projected to the attributes stats.ts needs, page after page. Key and attribute names
 * come from lambda/state/keys.ts and lambda/domain/record.ts; nothing is typed inline.
 *
 * Cost: a Query is billed for every item it reads in the partition before the filter (the sort
 * key is the event hash, not a time), i.e. for all of a source's records still kept (`report.
 * keepDays`), at 4 KB per read unit, halved for an eventually consistent read (the report needs no
 * strong consistency). The consumed capacity is returned so the handler can log it; the README
 * gives the figures for a typical day. Items that are not event records of the report's shape
 * (a malformed one) are skipped and counted, never a reason to fail the report.
 */
import type { DynamoDb, NativeAttributeValue } from '../state/dynamodb';
import { RECORD_ATTR } from '../domain/record';
import { EVENT_SK_PREFIX, sourcePk, TABLE_SCHEMA } from '../state/keys';
import type { ReportRecord } from './stats';

/** The attributes the report projects (besides the keys), by their names in RECORD_ATTR. */
export const REPORT_ATTRIBUTES = [
  RECORD_ATTR.sk,
  RECORD_ATTR.hash,
  RECORD_ATTR.status,
  RECORD_ATTR.code,
  RECORD_ATTR.table,
  RECORD_ATTR.firstSeenAt,
  RECORD_ATTR.needsAck,
  RECORD_ATTR.ackAt,
  RECORD_ATTR.ackBy,
  RECORD_ATTR.ackById,
  RECORD_ATTR.escalatedAt,
  RECORD_ATTR.sentAt,
] as const;

export interface ReadDayOptions {
  readonly db: DynamoDb;
  readonly tableName: string;
  readonly sourceId: string;
  /** First instant of the day (epoch ms, included). */
  readonly start: number;
  /** First instant of the next day (epoch ms, excluded). */
  readonly end: number;
  /** Items per page (DynamoDB's own limit is 1 MB a page). Default: none. */
  readonly pageSize?: number;
  readonly abortSignal?: AbortSignal;
}

export interface DayRecords {
  readonly records: ReportRecord[];
  /** Read capacity units the Query consumed, as DynamoDB reported them (0 where it reports none). */
  readonly consumedRcu: number;
  /** Items DynamoDB read (before the filter): what the read is billed for. */
  readonly scanned: number;
  readonly pages: number;
  /** Items within the day that were not readable as event records. */
  readonly skipped: number;
}

/** The Query of one page: built from the names of keys.ts and record.ts only. */
export function dayQueryInput(options: Omit<ReadDayOptions, 'db' | 'abortSignal'>, startKey?: Record<string, unknown>) {
  const names: Record<string, string> = {
    '#pk': TABLE_SCHEMA.partitionKey,
    '#sk': TABLE_SCHEMA.sortKey,
    '#seen': RECORD_ATTR.firstSeenAt,
  };
  const projected = REPORT_ATTRIBUTES.map((attribute, i) => {
    names[`#a${i}`] = attribute;
    return `#a${i}`;
  });
  return {
    TableName: options.tableName,
    KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :evt)',
    FilterExpression: '#seen >= :start AND #seen < :end',
    ProjectionExpression: projected.join(', '),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: {
      ':pk': sourcePk(options.sourceId),
      ':evt': EVENT_SK_PREFIX,
      ':start': options.start,
      ':end': options.end,
    },
    ConsistentRead: false,
    ReturnConsumedCapacity: 'TOTAL' as const,
    ...(options.pageSize !== undefined && { Limit: options.pageSize }),
    ...(startKey !== undefined && { ExclusiveStartKey: startKey }),
  };
}

/** Every record of one source first seen in [start, end). */
export async function readDayRecords(options: ReadDayOptions): Promise<DayRecords> {
  const records: ReportRecord[] = [];
  let consumedRcu = 0;
  let scanned = 0;
  let pages = 0;
  let skipped = 0;
  let startKey: Record<string, unknown> | undefined;
  do {
    const page = await options.db.query(dayQueryInput(options, startKey), {
      ...(options.abortSignal && { abortSignal: options.abortSignal }),
    });
    pages += 1;
    scanned += page.ScannedCount ?? 0;
    consumedRcu += page.ConsumedCapacity?.CapacityUnits ?? 0;
    for (const item of page.Items) {
      const record = toReportRecord(item);
      if (record) records.push(record);
      else skipped += 1;
    }
    startKey = page.LastEvaluatedKey;
  } while (startKey !== undefined);
  return { records, consumedRcu, scanned, pages, skipped };
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : isNumber(value) ? String(value) : undefined;

/** One item as the report reads it; undefined when it lacks what every record has. */
export function toReportRecord(item: Record<string, NativeAttributeValue>): ReportRecord | undefined {
  const sk = item[RECORD_ATTR.sk];
  const firstSeenAt = item[RECORD_ATTR.firstSeenAt];
  const hash = text(item[RECORD_ATTR.hash]);
  if (typeof sk !== 'string' || !sk.startsWith(EVENT_SK_PREFIX) || !isNumber(firstSeenAt) || hash === undefined)
    return undefined;
  const ackAt = item[RECORD_ATTR.ackAt];
  const ackBy = text(item[RECORD_ATTR.ackBy]);
  const ackById = text(item[RECORD_ATTR.ackById]);
  const escalated = item[RECORD_ATTR.escalatedAt];
  const sent = item[RECORD_ATTR.sentAt];
  const sentAt: Record<string, number> = {};
  if (sent !== null && typeof sent === 'object' && !Array.isArray(sent) && !(sent instanceof Set)) {
    for (const [channel, at] of Object.entries(sent as Record<string, unknown>)) if (isNumber(at)) sentAt[channel] = at;
  }
  return {
    recordId: sk.slice(EVENT_SK_PREFIX.length),
    hash,
    status: text(item[RECORD_ATTR.status]) ?? '',
    code: text(item[RECORD_ATTR.code]) ?? '',
    table: text(item[RECORD_ATTR.table]) ?? '',
    firstSeenAt,
    needsAck: item[RECORD_ATTR.needsAck] === true,
    ...(isNumber(ackAt) && { ackAt }),
    ...(isNumber(ackAt) && ackBy !== undefined && { ackBy }),
    ...(isNumber(ackAt) && ackById !== undefined && { ackById }),
    // A list by the record protocol; a number set is read alike.
    escalatedAt: (Array.isArray(escalated) ? escalated : escalated instanceof Set ? [...escalated] : [])
      .filter(isNumber)
      .sort((a, b) => a - b),
    sentAt,
  };
}
