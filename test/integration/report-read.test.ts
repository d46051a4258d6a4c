/**
 * Reading a day for the report against DynamoDB Local (lambda/report/read.ts): one Query per page
 * on the base table, only the source's event records first seen within the day (not the day
 * before or after, not another source, not the source's own state item), every page followed,
 * the projection limited to what the stats need, malformed items skipped and counted — and what a
 * typical day costs, 31 days of records kept, as DynamoDB Local reports the consumed capacity.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RECORD_ATTR, EVENT_STATUS } from '../../lambda/domain/record';
import { localDay } from '../../lambda/report/day';
import { dayQueryInput, readDayRecords, REPORT_ATTRIBUTES } from '../../lambda/report/read';
import { eventKey, sourceStateKey, TABLE_SCHEMA } from '../../lambda/state/keys';
import { countingDynamoDbClient, freshTable } from '../support/harness';
import { putItems, putRecords, type StoredRecord } from './report-records';

const db = countingDynamoDbClient();
const doc = db.client;
const DAY = localDay('2026-03-12', 'Europe/Moscow');
const HOUR = 3_600_000;
let table: string;

let n = 0;
function stored(sourceId: string, at: number, overrides: Partial<StoredRecord> = {}): StoredRecord {
  n += 1;
  const hash = `0x${randomUUID().slice(0, 8)}`;
  return {
    sourceId,
    recordId: hash,
    hash,
    status: EVENT_STATUS.delivered,
    code: 'waiter_call',
    table: String((n % 12) + 1),
    firstSeenAt: at,
    needsAck: true,
    escalatedAt: [],
    sentAt: { sns: at + 700, email: at + 900 },
    ...overrides,
  };
}

beforeAll(async () => {
  table = await freshTable();
});

afterAll(() => {
  db.admin.destroy();
});

describe('reading one day of a source', () => {
  it('returns exactly the records first seen within the day, over every page', async () => {
    const inDay = [
      stored('lenina', DAY.start, { ackAt: DAY.start + 42_000, ackBy: 'Иван', ackById: '1001' }),
      ...Array.from({ length: 120 }, (_, i) => stored('lenina', DAY.start + 10 * HOUR + i * 60_000)),
      stored('lenina', DAY.end - 1, { escalatedAt: [DAY.end + 120_000, DAY.end + 300_000] }),
      // A reused hash gets the record id hash@<ms>.
      {
        ...stored('lenina', DAY.start + 12 * HOUR),
        recordId: `0xabcdef01@${DAY.start + 12 * HOUR}`,
        hash: '0xabcdef01',
      },
    ];
    const outside = [
      stored('lenina', DAY.start - 1),
      stored('lenina', DAY.end),
      stored('lenina', DAY.start - 5 * 86_400_000),
      stored('other', DAY.start + 12 * HOUR),
    ];
    await putRecords(db.admin, table, [...inDay, ...outside]);
    await putItems(db.admin, table, [
      { ...sourceStateKey('lenina'), cursor: '0x1', [RECORD_ATTR.firstSeenAt]: DAY.start },
    ]);

    db.counts.clear();
    const read = await readDayRecords({
      db: doc,
      tableName: table,
      sourceId: 'lenina',
      start: DAY.start,
      end: DAY.end,
      pageSize: 25,
    });
    expect(read.records.map((r) => r.recordId).sort()).toEqual(inDay.map((r) => r.recordId).sort());
    expect(read.skipped).toBe(0);
    // Every event record of the source is read (and billed), the state item is not.
    expect(read.scanned).toBe(inDay.length + 3);
    expect(read.pages).toBe(Math.ceil((inDay.length + 3) / 25) + ((inDay.length + 3) % 25 === 0 ? 1 : 0));
    expect([...db.counts]).toEqual([['Query', read.pages]]);

    const first = read.records.find((r) => r.firstSeenAt === DAY.start)!;
    expect(first).toMatchObject({ needsAck: true, ackAt: DAY.start + 42_000, ackBy: 'Иван', ackById: '1001' });
    expect(first.sentAt).toEqual({ sns: DAY.start + 700, email: DAY.start + 900 });
    const last = read.records.find((r) => r.firstSeenAt === DAY.end - 1)!;
    expect(last.escalatedAt).toEqual([DAY.end + 120_000, DAY.end + 300_000]);
    const reused = read.records.find((r) => r.hash === '0xabcdef01')!;
    expect(reused.recordId).toBe(`0xabcdef01@${DAY.start + 12 * HOUR}`);
  });

  it('projects only the attributes the report needs, named from RECORD_ATTR', async () => {
    const input = dayQueryInput({ tableName: table, sourceId: 'lenina', start: DAY.start, end: DAY.end });
    const projected = input.ProjectionExpression.split(', ').map((p) => input.ExpressionAttributeNames[p]);
    expect(projected).toEqual([...REPORT_ATTRIBUTES]);
    expect(projected).not.toContain(RECORD_ATTR.event);
    expect(input.ExpressionAttributeNames['#pk']).toBe(TABLE_SCHEMA.partitionKey);
    expect(input.ConsistentRead).toBe(false);
    expect(input).not.toHaveProperty('IndexName');
  });

  it('skips and counts an item it cannot read as a record, and still reads the rest', async () => {
    const source = `broken-${randomUUID().slice(0, 6)}`;
    const good = stored(source, DAY.start + 9 * HOUR);
    await putRecords(db.admin, table, [good]);
    await putItems(db.admin, table, [
      // No hash: not a record of the report's shape.
      { ...eventKey(source, 'nohash'), [RECORD_ATTR.firstSeenAt]: DAY.start + 9 * HOUR },
      // firstSeenAt as a string: the filter (a number range) leaves it out.
      { ...eventKey(source, 'text-time'), [RECORD_ATTR.hash]: '0x1', [RECORD_ATTR.firstSeenAt]: 'yesterday' },
    ]);
    const read = await readDayRecords({ db: doc, tableName: table, sourceId: source, start: DAY.start, end: DAY.end });
    expect(read.records.map((r) => r.recordId)).toEqual([good.recordId]);
    expect(read.skipped).toBe(1);
  });
});

describe('what reading a day costs', () => {
  it('a typical day (150 calls), 31 days of records kept: every kept record is read, ≈ item size / 8 KB in RCUs', {
    timeout: 120_000,
  }, async () => {
    const source = `typical-${randomUUID().slice(0, 6)}`;
    const perDay = 150;
    const records = Array.from({ length: 31 }, (_, d) =>
      Array.from({ length: perDay }, (_, i) =>
        stored(source, DAY.start - d * 86_400_000 + 10 * HOUR + i * 5 * 60_000, {
          ackAt: DAY.start - d * 86_400_000 + 10 * HOUR + i * 5 * 60_000 + 40_000,
          ackBy: 'Мария',
          ackById: '1002',
          sentAt: { sns: 1, email: 2, 'telegram:-1001234567890': 3 },
          eventBytes: 700,
        }),
      ),
    ).flat();
    await putRecords(db.admin, table, records);
    const read = await readDayRecords({ db: doc, tableName: table, sourceId: source, start: DAY.start, end: DAY.end });
    expect(read.records).toHaveLength(perDay);
    expect(read.scanned).toBe(31 * perDay);
    // ≈ 1.1 KB per record as stored: 4,650 records ≈ 5 MB; eventually consistent = 0.5 RCU per 4 KB.
    expect(read.consumedRcu).toBeGreaterThan(300);
    expect(read.consumedRcu).toBeLessThan(1_500);
    console.log(
      `report read cost: ${read.scanned} records read in ${read.pages} pages for ${read.records.length} of the day: ` +
        `${read.consumedRcu} RCUs`,
    );
  });
});
