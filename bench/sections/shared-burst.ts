/**
 * Shared burst: the send quota paced for all shards together, in real time on DynamoDB Local and
 * the SES emulator. A 500-restaurant deployment has 20 shards; one deliverer per shard (as 20
 * concurrent invocations would have), each with its own share of half the quota and one pool
 * item in the state table for the other half. Shard 0 gets a burst of 140 calls while every
 * other shard sends 3 at the same instant: what shard 0's burst takes against the least its own
 * share and the pool allow, the busiest second at the wire over all shards (against the quota),
 * what it cost in conditional writes, and what the burst would take at an equal share.
 *
 *   shared-burst: shards=20 sends=197 burst_ms=… bound_ms=… at_share_ms=… busiest_second=… of 14 writes_per_send=… fallbacks=0
 */
import { parseAlertsConfig } from '../../lambda/config/schema';
import { shardCount } from '../../lambda/config/shards';
import type { QrEvent } from '../../lambda/domain/event';
import { createDeliverer, quotaBoundBurstMs } from '../../lambda/notify/deliverer';
import { createSesClient } from '../../lambda/notify/ses';
import { DynamoDb } from '../../lambda/state/dynamodb';
import { StateStore } from '../../lambda/state/store';
import { AwsMeter } from '../lib/aws-meter';
import type { BenchStack } from '../lib/bench-stack';

export interface SharedBurstResult {
  readonly shards: number;
  readonly sesPerSecond: number;
  /** E-mails sent (one recipient each): the burst in shard 0 and the others' few. */
  readonly sends: number;
  readonly burstSends: number;
  /** Shard 0's first send to its last. */
  readonly burstMs: number;
  /** The least time its own share and the whole pool allow for them (`quotaBoundBurstMs`, shared). */
  readonly boundMs: number;
  /**
   * The least time for every e-mail of the run (the burst and the others', all asked for at once)
   * through the whole quota: the shards take the pool in turn, so the burst cannot end before it.
   * Absent before 2026-12-03.
   */
  readonly allBoundMs?: number;
  /** What shard 0's burst would take at an equal share of the quota (the pacing before the pool). */
  readonly atShareMs: number;
  /** Most e-mails whose request started in any one second, at the wire (the goal: ≤ the rate). */
  readonly busiestSecond: number;
  /** UpdateItem calls on the pool item, refused ones included, per e-mail sent, and their write units. */
  readonly writesPerSend: number;
  readonly refusedWrites: number;
  readonly writeUnitsPerSend: number;
  /** Times a shard fell back to its share (DynamoDB Local never fails: 0). */
  readonly fallbacks: number;
  readonly failedSends: number;
}

const SHARDS = 20;
const BURST = 140;
const OTHERS_EACH = 3;

export async function measureSharedBurst(stack: BenchStack): Promise<SharedBurstResult> {
  const meter = new AwsMeter();
  const config = parseAlertsConfig({
    sources: Array.from({ length: SHARDS }, (_, k) => ({ id: `r${k}`, url: `https://qr${k}.example`, shard: k })),
    routes: [{ name: 'hall', email: ['hall@bench.example'] }],
    email: { from: 'alerts@bench.example' },
    delivery: { cooldownSeconds: 0 },
  });
  const shards = shardCount(config);
  const store = new StateStore({
    tableName: await stack.newTable(),
    client: new DynamoDb({
      maxAttempts: 3,
      returnConsumedCapacity: 'TOTAL',
      requestHandler: meter.handler('dynamodb'),
    }),
  });
  const ses = createSesClient({ requestHandler: meter.handler('ses') });
  let fallbacks = 0;
  const deliverers = Array.from({ length: shards }, () =>
    createDeliverer({
      config,
      ses,
      sendSlots: store,
      onPacingFallback: (m) => {
        fallbacks += 1;
        if (process.env.SB_DEBUG) console.error(m);
      },
    }),
  );
  const event = (n: number): QrEvent => ({
    hash: `0x${n.toString(16)}`,
    code: 'waiter_call',
    tableId: n,
    tableName: String(n % 100),
    invoice: null,
    order: null,
    raw: {},
    placeholders: [],
  });
  const mark = meter.mark();
  const now = Date.now();
  const asks = deliverers.flatMap((deliverer, k) =>
    Array.from({ length: k === 0 ? BURST : OTHERS_EACH }, (_, i) =>
      meter.withLabel(`r${k}`, () =>
        deliverer.deliver({ sourceId: `r${k}`, sourceName: `R${k}`, event: event(k * 1_000 + i), firstSeenAt: now }),
      ),
    ),
  );
  const results = await Promise.all(asks);
  const calls = meter.since(mark);
  const sends = calls.filter((c) => c.service === 'ses' && c.command === 'SendEmailCommand');
  const starts = sends.map((c) => c.startedAt).sort((a, b) => a - b);
  const burst = sends.filter((c) => c.label === 'r0').map((c) => c.startedAt);
  const busiest = Math.max(...starts.map((s) => starts.filter((o) => o >= s && o < s + 1_000).length));
  const writes = calls.filter((c) => c.service === 'dynamodb' && c.command === 'UpdateItemCommand');
  const okSends = sends.filter((c) => c.ok).length;
  return {
    shards,
    sesPerSecond: config.delivery.sesPerSecond,
    sends: okSends,
    burstSends: BURST,
    burstMs: Math.max(...burst) - Math.min(...burst),
    boundMs: quotaBoundBurstMs(config, { emailRecipients: BURST, smsMessages: 0 }, { shared: true }),
    allBoundMs: quotaBoundBurstMs(config, { emailRecipients: okSends, smsMessages: 0 }, { shared: true }),
    atShareMs: quotaBoundBurstMs(config, { emailRecipients: BURST, smsMessages: 0 }),
    busiestSecond: busiest,
    writesPerSend: writes.length / Math.max(1, okSends),
    refusedWrites: writes.filter((c) => !c.ok).length,
    writeUnitsPerSend: writes.reduce((n, c) => n + (c.capacityUnits ?? 0), 0) / Math.max(1, okSends),
    fallbacks,
    failedSends: results.flatMap((r) => r.channels).filter((c) => !c.ok).length,
  };
}

/** The one line this section prints. */
export function sharedBurstLine(r: SharedBurstResult): string {
  return (
    `shared-burst: shards=${r.shards} sends=${r.sends} burst_ms=${Math.round(r.burstMs)} bound_ms=${r.boundMs} ` +
    `at_share_ms=${Math.round(r.atShareMs)} busiest_second=${r.busiestSecond} of ${r.sesPerSecond} ` +
    `writes_per_send=${r.writesPerSend.toFixed(2)} refused_writes=${r.refusedWrites} wcu_per_send=${r.writeUnitsPerSend.toFixed(2)} ` +
    `fallbacks=${r.fallbacks} failed=${r.failedSends}`
  );
}
