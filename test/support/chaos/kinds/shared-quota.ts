/**
 * The `shared-quota` kind: two restaurants in two shards, polled side by side each tick, deliver
 * through the real `createDeliverer` to the SES and SNS emulators with the send quotas shared in
 * the state table's slot pointer (lambda/notify/pacing/shared-pacer.ts) at a low rate (4 e-mails and 4 SMS a
 * second for both: 1 a second each of its own, a pool of 2), so that the shards take turns on the
 * pool's pointer. A seeded share (15–35 %) of
 * the writes to that item fail (`error`), are applied and then answered with an error (`late`), or
 * are slow (`slow`: the manual clock moves 0.2–1.5 s), and pollers die at step boundaries as in the
 * crash kind. Judged on both channels of both restaurants: nothing lost, a copy beyond the first
 * only where a death's window or a `mayBeSentTwice` line explains it; and a run of more than
 * 12 events must have drawn on the pool (the own shares were really too small).
 *
 * On the manual clock a pacer's sleep moves time for everyone at once, so a write under way while
 * the other shard's pacer sleeps looks slow: most runs fall back to the share many times, and so
 * switch between the shared slots and the share, which is the path under test here.
 */
import type { AlertsConfig } from '../../../../lambda/config/schema';
import { createDeliverer } from '../../../../lambda/notify/deliverer';
import { StateStore } from '../../../../lambda/state/store';
import { createSimulator, type Simulator } from '../../../../local/simulator';
import { faultInjectingDynamoDb, randomFault } from '../../faulty-dynamodb';
import { ManualClock, SimulatedCrash, freshTable, seededRandom } from '../../harness';
import { chaosConfig } from '../lib/config';
import { CountingDeliverer } from '../lib/deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller, planCrash } from '../lib/lives';
import {
  describeError,
  explainer,
  judgeCopies,
  recordStatuses,
  type RunOutcome,
  sortUndelivered,
} from '../lib/verdict';

const SECOND_SOURCE = 'sushi';
const INTERVAL_MS = 10_000;
const TICKS = 5;
const INVOCATION_MS = 60_000;
const CHAOTIC_INVOCATIONS = 5;
const DRAINING_INVOCATIONS = 4;
const RATE = 4;

/** The chaos restaurant in shard 0 and a second one in shard 1, both quotas at RATE a second. */
function twoShardConfig(first: Simulator, second: Simulator): AlertsConfig {
  const base = chaosConfig(first.url);
  const pizzeria = base.sources[0]!;
  return {
    ...base,
    sources: [
      { ...pizzeria, shard: 0 },
      { ...pizzeria, id: SECOND_SOURCE, name: 'Суши (chaos)', url: second.url, shard: 1 },
    ],
    delivery: { ...base.delivery, sesPerSecond: RATE, snsPerSecond: RATE },
  };
}

export async function runSharedQuotaKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 19 + 3);
  const share = 0.15 + random() * 0.2;
  const clock = new ManualClock(CLOCK_START);
  const sims = [
    await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed }),
    await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed: seed + 7_919 }),
  ] as const;
  const sourceIds = [SOURCE_ID, SECOND_SOURCE] as const;
  try {
    const tableName = await freshTable();
    const store = new StateStore({ tableName, client: env.ddb });
    const faults = { error: 0, late: 0, slow: 0 };
    let chaotic = false;
    let poolWrites = 0;
    const windows = new StateStore({
      tableName,
      client: faultInjectingDynamoDb({
        kindOf: (call) => (call.action === 'UpdateItem' ? 'window' : undefined),
        pick: () => {
          poolWrites += 1;
          if (!chaotic || random() >= share) return undefined;
          const fault = randomFault(random, [200, 1_500]);
          faults[fault.kind] += 1;
          return fault;
        },
        clock,
      }),
    });
    const config = twoShardConfig(...sims);
    const fallbacks: string[] = [];
    let deferred = 0;
    const counting = sourceIds.map(() => {
      const real = createDeliverer({
        config,
        topicArn: env.topicArn,
        clock,
        sendSlots: windows,
        onPacingFallback: (message) => fallbacks.push(message),
      });
      return new CountingDeliverer({
        deliver: async (request) => {
          const result = await real.deliver(request);
          deferred += result.channels.filter((c) => !c.ok && c.deferred === true).length;
          return result;
        },
      });
    });
    const log = env.log.forRun();
    const lives = new Lives();
    const injected: { source: number; hash: string }[] = [];
    const unexpected: string[] = [];
    let crashedLast = true; // the first (baseline) invocation is clean

    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const start = clock.now();
      const leaseUntil = start + INVOCATION_MS - 5_000;
      const mayCrash = chaotic && !crashedLast;
      const shards = sourceIds.map((sourceId, k) => {
        const process = lives.spawn(mayCrash ? planCrash(random, 0.3) : undefined);
        const poller = mortalPoller({ clock, sim: sims[k]!, store, token: CHAOS_TOKEN, sourceId }, process, {
          owner: `inv${invocation}-shard${k}`,
          deliverer: counting[k]!,
          log,
        });
        return { process, poller, running: false };
      });
      const guarded = async (work: () => Promise<unknown>, k: number) => {
        try {
          await work();
        } catch (error) {
          if (!(error instanceof SimulatedCrash)) unexpected.push(`shard ${k}: ${describeError(error)}`);
        }
      };
      await Promise.all(
        shards.map((s, k) =>
          guarded(async () => {
            s.running = await s.poller.begin(leaseUntil);
          }, k),
        ),
      );
      for (let tick = 0; tick < TICKS; tick += 1) {
        if (chaotic) {
          for (const [k, sim] of sims.entries()) {
            const count = Math.floor(random() * 5);
            for (let i = 0; i < count; i += 1) injected.push({ source: k, hash: sim.inject().hash });
          }
        }
        await Promise.all(
          shards.map((s, k) =>
            s.running && !s.process.dead ? guarded(() => s.poller.tick(leaseUntil), k) : undefined,
          ),
        );
        clock.advance(INTERVAL_MS);
      }
      await Promise.all(
        shards.map((s, k) => (s.running && !s.process.dead ? guarded(() => s.poller.end(), k) : undefined)),
      );
      crashedLast = shards.map((s) => lives.reap(s.process)).some(Boolean);
      clock.t = Math.max(clock.t, start + INVOCATION_MS);
    }

    const events = injected.map((e) => ({ id: `${e.source}:${e.hash}`, hash: e.hash, source: e.source }));
    const sourceOf = new Map(events.map((e) => [e.id, e.source]));
    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => counting[sourceOf.get(id)!]!.copies(id.slice(id.indexOf(':') + 1), channel as 'sns' | 'email'),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const statuses = new Map<string, string>();
    for (const [k, sourceId] of sourceIds.entries()) {
      const mine = judged.undelivered.filter((e) => sourceOf.get(e.id) === k);
      for (const [hash, status] of await recordStatuses(
        store,
        sourceId,
        mine.map((e) => e.hash),
      ))
        statuses.set(`${k}:${hash}`, status);
    }
    const problems: string[] = [];
    if (poolWrites === 0 && events.length > 3 * RATE)
      problems.push(`the pool was never written in ${events.length} events at ${RATE}/s: nothing was shared`);
    return {
      kind: 'shared-quota',
      variant: `slot-write faults ${Math.round(share * 100)} %`,
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) =>
        statuses.get(e.id) === 'failed'
          ? 'given up'
          : { lost: `not delivered on both channels (record ${statuses.get(e.id) ?? 'absent'})` },
      ),
      problems,
      unexpected,
      crashes: lives.crashes,
      faults: {},
      figures: {
        'pool writes': poolWrites,
        'slot-write faults': faults.error + faults.late + faults.slow,
        'fallbacks to the share': fallbacks.length,
        'sends deferred by pacing': deferred,
      },
      details: `${poolWrites} pool writes, slot-write faults error ${faults.error}, late ${faults.late}, slow ${faults.slow}; ${fallbacks.length} fallbacks to the share; ${deferred} sends deferred`,
      ms: performance.now() - started,
    };
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
}
