/**
 * The `crash` kind: test/support/crash-scenario.ts's seeded run of invocations in which a poller
 * dies at a random step boundary and the next invocation takes over, with the server misbehaving
 * between ticks (restarts, unknown-hash modes, faulty answers: server-chaos.ts), a shorter server
 * retention than the poller assumes in half the runs (so the cursor is forgotten behind its
 * back), and the deliverer failing part of the time (transient SNS, throttled SES). Judged on
 * SNS; a copy beyond the first is explained only by the deliver→mark window of a death.
 */
import { createSimulator, type UnknownHashMode } from '../../../../local/simulator';
import { StateStore } from '../../../../lambda/state/store';
import { runCrashScenario } from '../../crash-scenario';
import { ManualClock, freshTable, seededRandom } from '../../harness';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { serverChaos } from '../lib/server-chaos';
import {
  describeError,
  judgeCopies,
  recordStatuses,
  type RunOutcome,
  sortUndelivered,
  type Explanation,
} from '../lib/verdict';

export async function runCrashKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 7 + 1);
  const shortRetention = random() < 0.5;
  const mode = (['all', 'empty', 'error'] as const)[Math.floor(random() * 3)] as UnknownHashMode;
  const clock = new ManualClock(CLOCK_START);
  const sim = await createSimulator({
    token: CHAOS_TOKEN,
    tls: false,
    now: clock.now,
    seed,
    unknownHash: mode,
    retentionSeconds: shortRetention ? 120 : 300,
  });
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const chaos = serverChaos(sim, mode);
    const outcome = await runCrashScenario({
      seed,
      clock,
      sim,
      store,
      token: CHAOS_TOKEN,
      invocations: 6,
      deliveryFaultChance: 0.3,
      log: env.log.forRun(),
      beforeTick: ({ random: r }) => chaos.beforeTick(r),
    });
    const events = outcome.injected.map((e) => ({ id: e.hash, hash: e.hash }));
    const judged = judgeCopies(
      events,
      ['sns'],
      (id) => outcome.deliveredCount.get(id) ?? 0,
      (hash) => (outcome.duplicateWindow.has(hash) ? ['deliver→mark crash window' as Explanation] : []),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const c = chaos.counts;
    return {
      kind: 'crash',
      variant: `retention ${shortRetention ? 120 : 300} s`,
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) => {
        if (chaos.dropped.has(e.hash) && !statuses.has(e.hash)) return 'dropped by server';
        if (statuses.get(e.hash) === 'failed') return 'given up';
        return { lost: `never delivered (record ${statuses.get(e.hash) ?? 'absent'})` };
      }),
      problems: [],
      unexpected: outcome.unexpected.map(describeError),
      crashes: outcome.crashes.map((x) => x.step),
      faults: {},
      figures: {
        'restarts keeping the queue': c.persistingRestarts,
        'restarts forgetting it': c.forgetfulRestarts,
        'faulty answers': c.faults,
      },
      details: `server: ${c.persistingRestarts}+${c.forgetfulRestarts} restarts (keep+forget), modes ${[...chaos.modesSeen].join('/')}, ${c.faults} faulty answers`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
