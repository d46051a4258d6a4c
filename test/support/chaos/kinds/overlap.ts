/**
 * The `overlap` kind: two scheduled invocations whose pollers overlap on one source.
 * Invocation A (lease until its hard end, start + 90 s, as the handler takes it) has a slow last
 * tick — SES takes seconds per e-mail — that runs past the start of invocation B a minute later.
 * B finds the lease held, waits for it, takes it at A's hard end and retries A's unmarked claims.
 *   timeout-kill  A is killed at its hard end, as Lambda kills a function at its timeout; its
 *                 store and deliverer refuse every call from then on;
 *   lost-lease    nothing kills A (a long-lived process): it keeps delivering after B took the
 *                 lease, its marks and its checkpoint are refused.
 * The two run concurrently against the same table and server; the manual clock moves with A's
 * slow deliveries and B's schedule. Two clean invocations then drain retries. Interleavings
 * depend on I/O timing; what is judged (no loss, duplicates only where explained) must hold for any.
 */
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import type { Deliverer, DeliveryRequest } from '../../../../lambda/domain/delivery';
import { MAX_RUN_MS as STOP_AFTER_MS } from '../../../../lambda/handler';
import type { SourcePoller } from '../../../../lambda/poller/source-poller';
import { StateStore } from '../../../../lambda/state/store';
import { createSimulator } from '../../../../local/simulator';
import { MortalProcess } from '../../crash-points';
import { ManualClock, RecordingDeliverer, SimulatedCrash, freshTable, makePoller, seededRandom } from '../../harness';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { HARD_END_MS, INTERVAL_MS, SCHEDULE_MS } from '../lib/minutes';
import { serverChaos } from '../lib/server-chaos';
import {
  describeError,
  explainer,
  judgeCopies,
  recordStatuses,
  type RunOutcome,
  sortUndelivered,
} from '../lib/verdict';

export type OverlapVariant = 'timeout-kill' | 'lost-lease';

export async function runOverlapKind(env: ChaosEnv, seed: number, variant: OverlapVariant): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 31 + 3);
  const clock = new ManualClock(CLOCK_START);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  const unexpected: string[] = [];
  const swallow = (error: unknown) => {
    if (!(error instanceof SimulatedCrash)) unexpected.push(describeError(error));
  };
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const chaos = serverChaos(sim, 'all', {
      restartChance: 0.05,
      forgetfulShare: 0.3,
      modeChangeChance: 0.05,
      faultChance: 0.05,
    });
    const recording = new RecordingDeliverer();
    const injected: string[] = [];
    const inject = (count: number) => {
      for (let i = 0; i < count; i += 1) injected.push(sim.inject().hash);
    };
    const kit = { clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID };
    const log = env.log.forRun();
    const clean = (owner: string) => makePoller(kit, { owner, deliverer: recording, log });

    // Baseline: the source's first poll records the (empty) backlog.
    await runClean(clean('baseline'), clock, 1);
    clock.t = CLOCK_START + SCHEDULE_MS;

    // Invocation A.
    const aStart = clock.now();
    const aHardEnd = aStart + HARD_END_MS;
    const aDead = () => variant === 'timeout-kill' && clock.now() >= aHardEnd;
    const crashWindow = new Set<string>();
    const slow = { on: false, ms: 4_000 + Math.floor(random() * 6_000) };
    const aProcess = new MortalProcess(undefined, aDead);
    const slowDeliverer: Deliverer = {
      async deliver(request: DeliveryRequest) {
        if (slow.on) {
          clock.advance(slow.ms);
          await yieldToLoop();
        }
        return recording.deliver(request);
      },
    };
    const a = makePoller(kit, {
      owner: 'A',
      store: aProcess.store(store),
      deliverer: aProcess.deliverer(slowDeliverer),
      wrapFetch: (fetch) => aProcess.fetch(fetch),
      log: log.until(() => aProcess.dead),
      settings: { concurrency: 2 },
    });
    let aKilled = false;
    let aLastTickEnd: number | undefined;
    const aRun = (async () => {
      try {
        if (!(await a.begin(aHardEnd))) throw new Error('A did not get the lease');
        for (let slot = 0; slot * INTERVAL_MS < STOP_AFTER_MS; slot += 1) {
          clock.t = aStart + slot * INTERVAL_MS;
          chaos.beforeTick(random);
          const last = (slot + 1) * INTERVAL_MS >= STOP_AFTER_MS;
          inject(last ? 8 + Math.floor(random() * 7) : Math.floor(random() * 4));
          recording.failing = random() < 0.15 ? { sns: 'transient' } : {};
          slow.on = last;
          await a.tick(Math.max(aStart + STOP_AFTER_MS, clock.now() + INTERVAL_MS));
        }
        slow.on = false;
        aLastTickEnd = clock.now() - aStart;
        await a.end();
      } catch (error) {
        if (error instanceof SimulatedCrash) aKilled = true;
        swallow(error);
      }
    })();
    let aSettled = false;
    void aRun.then(() => (aSettled = true));

    // Invocation B, a minute after A: its schedule follows the clock A's slow deliveries move.
    const bStart = aStart + SCHEDULE_MS;
    const b = makePoller(kit, { owner: 'B', deliverer: recording, log });
    const bRun = (async () => {
      let began = false;
      for (let at = bStart; at < bStart + STOP_AFTER_MS; at += INTERVAL_MS) {
        while (clock.now() < at) {
          if (aSettled) clock.t = at;
          else await yieldToLoop();
        }
        try {
          if (!began) {
            began = true;
            await b.begin(bStart + HARD_END_MS);
          }
          await b.tick(Math.max(bStart + STOP_AFTER_MS, clock.now() + INTERVAL_MS));
        } catch (error) {
          swallow(error);
        }
      }
      try {
        await b.end();
      } catch (error) {
        swallow(error);
      }
    })();
    await Promise.all([aRun, bRun]);
    for (const hash of aProcess.window) crashWindow.add(hash);
    aKilled ||= aProcess.dead;
    recording.failing = {};

    // Two clean invocations drain retries and timed-out claims.
    for (const k of [3, 4]) {
      clock.t = aStart + k * SCHEDULE_MS;
      await runClean(clean(`drain${k}`), clock, 5).catch(swallow);
    }

    const events = injected.map((hash) => ({ id: hash, hash }));
    const judged = judgeCopies(
      events,
      ['sns'],
      (id) => recording.count(id, 'sns'),
      explainer([crashWindow], log.mayBeSentTwice()),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    return {
      kind: 'overlap',
      variant,
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) => {
        if (chaos.dropped.has(e.hash) && !statuses.has(e.hash)) return 'dropped by server';
        if (statuses.get(e.hash) === 'failed') return 'given up';
        return { lost: `never delivered (record ${statuses.get(e.hash) ?? 'absent'})` };
      }),
      problems: [],
      unexpected,
      faults: {},
      figures: {
        'restarts keeping the queue': chaos.counts.persistingRestarts,
        'restarts forgetting it': chaos.counts.forgetfulRestarts,
        'faulty answers': chaos.counts.faults,
        'pollers killed at their timeout': aKilled ? 1 : 0,
      },
      crashes: aKilled ? ['A killed at timeout'] : [],
      details: `SES ${slow.ms} ms per e-mail in A's last tick, ${aLastTickEnd === undefined ? 'A killed' : `which ended at +${Math.round(aLastTickEnd / 1000)} s`}; server: ${chaos.counts.persistingRestarts}+${chaos.counts.forgetfulRestarts} restarts, ${chaos.counts.faults} faulty answers`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}

/** An invocation with nothing in the way: begin, `ticks` ticks 10 s apart, end. */
async function runClean(poller: SourcePoller, clock: ManualClock, ticks: number): Promise<void> {
  const start = clock.now();
  if (!(await poller.begin(start + HARD_END_MS))) throw new Error('a clean invocation did not get the lease');
  for (let i = 0; i < ticks; i += 1) {
    clock.t = start + i * INTERVAL_MS;
    await poller.tick(start + STOP_AFTER_MS);
  }
  await poller.end();
}
