/**
 * The `oversize` kind: a normal stream of guest calls with, now and then (at most one per tick),
 * an event no DynamoDB item can hold as sent — a table name of 50–150 k Cyrillic characters, an
 * invoice of 200–600 KB, a code of 20 k characters, or all three. Each must be delivered (its
 * record capped: the stored code and table within the store's limits) and every normal call on
 * time: out within one polling interval of entering the queue, even while the big events make
 * the whole-queue (`hash=none`) answer larger than the client accepts. Half the runs deliver
 * through the real deliverer to the SES and SNS emulators (the rendering meets the giants too).
 */
import { createDeliverer } from '../../../../lambda/notify/deliverer';
import { STORED_LIMITS, StateStore } from '../../../../lambda/state/store';
import { METRIC } from '../../../../lambda/domain/metrics';
import { createSimulator, type SimEventInput } from '../../../../local/simulator';
import { ManualClock, RecordingDeliverer, RecordingMetrics, freshTable, seededRandom } from '../../harness';
import { chaosConfig } from '../lib/config';
import { CountingDeliverer } from '../lib/deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { INTERVAL_MS, SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { explainer, judgeCopies, type RunOutcome, sortUndelivered } from '../lib/verdict';
import { Lives, mortalPoller } from '../lib/lives';

const CHAOTIC_INVOCATIONS = 7;
const DRAINING_INVOCATIONS = 2;
const CYRILLIC = 'абвгдеёжзийклмнопрстуфхцчшщъыьэюяАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЭЮЯ ';
type Giant = 'table' | 'invoice' | 'code' | 'all';

function text(random: () => number, alphabet: string, length: number): string {
  const out: string[] = [];
  for (let i = 0; i < length; i += 1) out.push(alphabet[Math.floor(random() * alphabet.length)]!);
  return out.join('');
}

/**
 * What an oversize event fixes; the simulator generates the rest. At most ≈ 450 KB of JSON each:
 * two in one answer still fit the client's 1 MiB (polling.maxResponseBytes), which is a limit of
 * its own, not what this kind is about.
 */
function giant(random: () => number, kind: Giant): Partial<SimEventInput> {
  const between = (min: number, max: number) => min + Math.floor(random() * (max - min));
  const table = (min: number, max: number) => text(random, CYRILLIC, between(min, max));
  const code = () => `waiter_call_${text(random, 'abcdefghijklmnopqrstuvwxyz_', 20_000)}`;
  const invoice = (min: number, max: number) => {
    const items = Math.ceil(between(min, max) / 420);
    return {
      id: Math.floor(random() * 1e9),
      currency: 'RUB',
      items: Array.from({ length: items }, (_, i) => ({
        n: i + 1,
        name: text(random, CYRILLIC, 190),
        price: Math.round(random() * 100_000) / 100,
        qty: 1 + Math.floor(random() * 4),
      })),
    };
  };
  if (kind === 'table') return { tableName: table(50_000, 150_000) };
  if (kind === 'code') return { code: code() };
  if (kind === 'invoice') return { code: 'bill_request', invoice: invoice(200_000, 420_000) };
  return { tableName: table(50_000, 80_000), code: code(), invoice: invoice(100_000, 250_000) };
}

export async function runOversizeKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 19 + 7);
  const real = random() < 0.5;
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const metrics = new RecordingMetrics();
    const inner = real
      ? createDeliverer({ config: chaosConfig(sim.url), topicArn: env.topicArn })
      : new RecordingDeliverer();
    const counting = new CountingDeliverer(inner, { now: clock.now });
    const lives = new Lives();
    const events: { id: string; hash: string; at: number; giant?: Giant }[] = [];
    const giants: Record<Giant, number> = { table: 0, invoice: 0, code: 0, all: 0 };
    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      const chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const process = lives.spawn();
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer: counting,
        log,
        metrics,
      });
      await invoke({
        poller,
        timeline,
        log,
        start: CLOCK_START + invocation * SCHEDULE_MS,
        beforeTick: () => {
          if (!chaotic) return;
          const normal = Math.floor(random() * 3);
          for (let i = 0; i < normal; i += 1) {
            const e = sim.inject();
            events.push({ id: e.hash, hash: e.hash, at: clock.now() });
          }
          if (random() < 0.3) {
            const kind = (['table', 'invoice', 'code', 'all'] as const)[Math.floor(random() * 4)]!;
            giants[kind] += 1;
            const e = sim.inject(giant(random, kind));
            events.push({ id: e.hash, hash: e.hash, at: clock.now(), giant: kind });
          }
        },
      });
      lives.reap(process);
    }

    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => counting.copies(id, channel as 'sns' | 'email'),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const problems: string[] = [];
    let lateNormal = 0;
    let slowestGiant = 0;
    for (const e of events) {
      const done = counting.doneAt(e.id);
      if (done === undefined) continue;
      if (e.giant) slowestGiant = Math.max(slowestGiant, done - e.at);
      else if (done - e.at > INTERVAL_MS) {
        lateNormal += 1;
        problems.push(`${e.id} (a normal call) went out ${Math.round((done - e.at) / 1000)} s after it was queued`);
      }
    }
    const big = events.filter((e) => e.giant);
    const records = await store.findRecorded(
      SOURCE_ID,
      big.map((e) => e.hash),
    );
    for (const e of big) {
      const r = records.get(e.hash);
      if (r && (r.table.length > STORED_LIMITS.table || r.code.length > STORED_LIMITS.code))
        problems.push(
          `${e.id}: its record keeps a table of ${r.table.length} and a code of ${r.code.length} characters`,
        );
    }
    const poisoned = metrics.get(METRIC.poisonEvents);
    return {
      kind: 'oversize',
      variant: real ? 'real deliverer' : 'recording deliverer',
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) => ({
        lost: `${events.find((x) => x.id === e.id)?.giant ? `an oversize event (${events.find((x) => x.id === e.id)?.giant})` : 'a normal call'} not delivered on both channels${counting.failures.has(e.id) ? `: ${counting.failures.get(e.id)![0]!.slice(0, 160)}` : ''}`,
      })),
      problems,
      unexpected: [],
      crashes: lives.crashes,
      faults: { 'oversize events': giants },
      figures: {
        'normal calls late': lateNormal,
        'hash=none answers refused': metrics.get(METRIC.reconcileFailures),
        'poison events': poisoned,
        'state errors': metrics.get(METRIC.stateErrors),
      },
      details: `${big.length} oversize (table ${giants.table}, invoice ${giants.invoice}, code ${giants.code}, all ${giants.all}), slowest ${Math.round(slowestGiant / 1000)} s; ${metrics.get(METRIC.reconcileFailures)} hash=none polls failed`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
