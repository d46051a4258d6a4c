/**
 * The `crash` kind: test/support/crash-scenario.ts's seeded run of invocations in which a poller
 * dies at a random step boundary and the next invocation takes over, with the server misbehaving
 * between ticks (restarts, unknown-hash modes, faulty answers: server-chaos.ts), a shorter server
 * retention than the poller assumes in half the runs (so the cursor is forgotten behind its
 * back), and the deliverer failing part of the time (transient SNS, throttled SES).
 * Its pollers log into the suite's log, so these runs' lines are in the token scan too.
 */
import { createSimulator, type UnknownHashMode } from '../../local/simulator';
import { StateStore } from '../../lambda/state/store';
import { judgeScenario, runCrashScenario } from '../../test/support/crash-scenario';
import { ManualClock, freshTable, seededRandom } from '../../test/support/harness';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv } from './env';
import { serverChaos } from './server-chaos';
import { classifyUndelivered, describeError, judge, type RunOutcome } from './verdict';

const SOURCE_ID = 'pizzeria';

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
    const store = new StateStore({ tableName: await freshTable(env.ddb), client: env.ddb });
    const chaos = serverChaos(sim, mode);
    const outcome = await runCrashScenario({
      seed,
      clock,
      sim,
      store,
      token: CHAOS_TOKEN,
      invocations: 6,
      deliveryFaultChance: 0.3,
      log: env.log,
      beforeTick: ({ random: r }) => chaos.beforeTick(r),
    });
    const base = judgeScenario(outcome);
    const verdict = judge({
      injected: outcome.injected.map((e) => e.hash),
      copies: outcome.deliveredCount,
      crashWindow: outcome.duplicateWindow,
      acknowledged: new Set(),
      ...(await classifyUndelivered(store, SOURCE_ID, base.lost, chaos.dropped)),
    });
    const c = chaos.counts;
    return {
      kind: 'crash',
      variant: `retention ${shortRetention ? 120 : 300} s`,
      seed,
      events: outcome.injected.length,
      ...verdict,
      unexpected: outcome.unexpected.map(describeError),
      server: {
        restartsKeep: chaos.counts.persistingRestarts,
        restartsForget: chaos.counts.forgetfulRestarts,
        faults: chaos.counts.faults,
        modes: [...chaos.modesSeen],
      },
      crashes: outcome.crashes.map((x) => x.step),
      details: `server: ${c.persistingRestarts}+${c.forgetfulRestarts} restarts (keep+forget), modes ${[...chaos.modesSeen].join('/')}, ${c.faults} faulty answers`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
