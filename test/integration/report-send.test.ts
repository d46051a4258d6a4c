/**
 * The daily report end to end over real peers: records in DynamoDB Local, `sendDailyReport` and the
 * report Lambda's handler reading them and sending through the SES emulator, whose `GET /store` is
 * read back (subject, sender, recipient, both bodies). The day is the one before the injected
 * "now" in the config's time zone, or the one the invocation names; the production wiring is built
 * from the environment the stack sets (config JSON, table name). Sending to nobody fails loudly
 * (a fake SES at the wire refusing every address with SES's XML error: the emulator refuses nobody).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { RUNTIME_ENV } from '../../lambda/config/runtime';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { sealConfig } from '../../lambda/config/sealed';
import { EVENT_STATUS } from '../../lambda/domain/record';
import { localDay } from '../../lambda/report/day';
import { createDefaultReportHandler, createReportHandler, requestedDay } from '../../lambda/report/handler';
import { buildDailyReport, sendDailyReport } from '../../lambda/report/send';
import { createSesClient } from '../../lambda/notify/ses';
import { FAKE_AWS, fakeWire, xmlError } from '../support/wire';
import { countingDynamoDbClient, freshTable, RecordingLog } from '../support/harness';
import { putRecords, type StoredRecord } from './report-records';

const emulators = inject('emulators');
const run = randomUUID().slice(0, 8);
const RESTAURANT = `Пиццерия ${run}`;
const db = countingDynamoDbClient();
const ses = createSesClient();
const HOUR = 3_600_000;
const DAY = localDay('2026-03-12', 'Europe/Moscow');
/** 09:00 in Moscow on the 13th: when the report of the 12th goes out. */
const NINE_AM = Date.parse('2026-03-13T09:00:00+03:00');
let table: string;

const config = parseAlertsConfig({
  name: 'pizzeria',
  locale: 'ru',
  timeZone: 'Europe/Moscow',
  sources: [{ id: `lenina-${run}`, name: RESTAURANT, url: 'http://127.0.0.1:9', allowPlainHttp: true }],
  zones: { hall: ['1-12'] },
  email: { from: `Пиццерия <alerts-${run}@pizzeria.example>`, replyTo: ['office@pizzeria.example'] },
  report: { to: [`manager-${run}@pizzeria.example`] },
});
const sourceId = config.sources[0]!.id;

interface StoredEmail {
  from: string;
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
}

async function emailsOfThisRun(): Promise<StoredEmail[]> {
  const response = await fetch(`${emulators.ses}/store`, { signal: AbortSignal.timeout(5_000) });
  const store = (await response.json()) as { emails: StoredEmail[] } | StoredEmail[];
  return (Array.isArray(store) ? store : store.emails).filter((e) => e.subject.includes(RESTAURANT));
}

function stored(at: number, overrides: Partial<StoredRecord> = {}): StoredRecord {
  const hash = `0x${randomUUID().slice(0, 8)}`;
  return {
    sourceId,
    recordId: hash,
    hash,
    status: EVENT_STATUS.delivered,
    code: 'waiter_call',
    table: '6',
    firstSeenAt: at,
    needsAck: true,
    escalatedAt: [],
    sentAt: { sns: at + 500 },
    ...overrides,
  };
}

beforeAll(async () => {
  table = await freshTable();
  const at = DAY.start + 13 * HOUR;
  await putRecords(db.admin, table, [
    stored(at, { ackAt: at + 42_000, ackBy: 'Иван', ackById: '1001' }),
    stored(at + HOUR, { table: '<b>7</b>', code: 'bill_request', escalatedAt: [at + HOUR + 120_000] }),
    stored(at + 2 * HOUR, { needsAck: false, code: 'new_order' }),
    // The day before and the day after: other reports.
    stored(DAY.start - HOUR),
    stored(DAY.end + HOUR, { ackAt: DAY.end + HOUR + 5_000, ackBy: 'Мария', ackById: '1002' }),
  ]);
});

afterAll(() => {
  db.admin.destroy();
});

describe('sendDailyReport', () => {
  it('sends the report of the day before "now" to report.to, through SES', async () => {
    const log = new RecordingLog();
    const sent = await sendDailyReport({ config, tableName: table, db: db.client, ses, now: NINE_AM, log });
    expect(sent.day).toBe('2026-03-12');
    expect(sent.recipients).toEqual([`manager-${run}@pizzeria.example`]);
    expect(sent.messageIds).toHaveLength(1);
    expect(sent.stats.totals).toMatchObject({ calls: 3, attendance: 2, acknowledged: 1, unanswered: 1, escalated: 1 });
    expect(sent.read).toMatchObject({ records: 3, scanned: 5, pages: 1, skipped: 0 });

    const [email, ...more] = await emailsOfThisRun();
    expect(more).toEqual([]);
    expect(email!.subject).toBe(`Отчёт за 12 марта: 3 вызова, без ответа 1 — ${RESTAURANT}`);
    expect(email!.destination.to).toEqual([`manager-${run}@pizzeria.example`]);
    expect(email!.from).toContain(`alerts-${run}@pizzeria.example`);
    expect(email!.body.html).toContain('id="calls-per-hour-');
    expect(email!.body.html).toContain('&lt;b&gt;7&lt;/b&gt;');
    expect(email!.body.html).not.toContain('<b>7</b>');
    expect(email!.body.text).toContain('Вызовов: 3');
    expect(log.lines.some((e) => e.message === 'daily report sent')).toBe(true);
  });

  it('builds the report of a day it is asked for, without sending', async () => {
    const built = await buildDailyReport({ config, tableName: table, db: db.client, now: NINE_AM, day: '2026-03-13' });
    expect(built.day).toBe('2026-03-13');
    expect(built.stats.totals).toMatchObject({ calls: 1, acknowledged: 1, medianMs: 5_000 });
  });

  it('refuses a config without a report, and a day that is not one', async () => {
    const { report: _, ...withoutReport } = config;
    await expect(
      sendDailyReport({ config: { ...withoutReport }, tableName: table, db: db.client, ses, now: NINE_AM }),
    ).rejects.toThrow(/report: is not set/);
    await expect(
      sendDailyReport({ config, tableName: table, db: db.client, ses, now: NINE_AM, day: '2026-02-30' }),
    ).rejects.toThrow(/is not a date/);
  });

  it('fails when SES refuses every recipient, naming them', async () => {
    const wire = fakeWire(() =>
      xmlError(
        'MessageRejected',
        `Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: manager-${run}@pizzeria.example`,
      ),
    );
    const refusing = createSesClient({ ...FAKE_AWS, requestHandler: wire });
    await expect(
      sendDailyReport({ config, tableName: table, db: db.client, ses: refusing, now: NINE_AM }),
    ).rejects.toThrow(new RegExp(`sent to nobody.*manager-${run}@pizzeria\\.example`));
    expect(wire.destinations()).toEqual([[`manager-${run}@pizzeria.example`]]);
  });
});

describe('the report Lambda handler', () => {
  it('reports on the day before its clock, or on the day the event names', async () => {
    const handler = createReportHandler({
      config,
      tableName: table,
      db: db.client,
      ses,
      log: new RecordingLog(),
      clock: { now: () => NINE_AM + 86_400_000 },
    });
    const yesterday = await handler({});
    expect(yesterday).toMatchObject({ day: '2026-03-13', recipients: 1, refused: 0, totals: { calls: 1 } });
    const again = await handler({ day: '2026-03-12' });
    expect(again).toMatchObject({ day: '2026-03-12', recipients: 1, totals: { calls: 3, unanswered: 1 } });
    expect(again.htmlBytes).toBeGreaterThan(5_000);
    expect(again.read.consumedRcu).toBeGreaterThan(0);
  });

  it('reads the day an invocation asks for, and refuses one that is not a date', () => {
    expect(requestedDay(undefined)).toBeUndefined();
    expect(requestedDay({})).toBeUndefined();
    expect(requestedDay({ 'detail-type': 'Scheduled Event' })).toBeUndefined();
    expect(requestedDay({ day: '2026-03-12' })).toBe('2026-03-12');
    expect(() => requestedDay({ day: '12.03.2026' })).toThrow(/is not a date/);
    expect(() => requestedDay({ day: 20260312 })).toThrow(/is not a date/);
  });

  it('is wired from the environment the stack sets: the config JSON and the table name', async () => {
    const env = {
      ...process.env,
      [RUNTIME_ENV.configJson]: JSON.stringify(sealConfig(config)),
      [RUNTIME_ENV.stateTable]: table,
    };
    const handler = createDefaultReportHandler(env);
    const before = (await emailsOfThisRun()).length;
    const summary = await handler({ day: '2026-03-12' });
    expect(summary.totals.calls).toBe(3);
    expect((await emailsOfThisRun()).length).toBe(before + 1);
    expect(() => createDefaultReportHandler({ ...env, [RUNTIME_ENV.stateTable]: '' })).toThrow(/STATE_TABLE_NAME/);
  });
});
