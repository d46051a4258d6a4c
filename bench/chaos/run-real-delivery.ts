/**
 * The `real-delivery` kind: like the crash kind (a poller dies at a random step boundary, the
 * next scheduled invocation takes over, the server misbehaves between ticks), but deliveries go
 * through the real `createDeliverer` to the SES and SNS emulators, and during some ticks SES,
 * SNS or both are unreachable (their endpoint is a closed port): real SDK errors, real retries,
 * real classification. Both channels are judged: an event must reach SNS and its e-mail must go
 * out, each at most once outside the crash window.
 */
import { createSimulator, type UnknownHashMode } from '../../local/simulator';
import { StateStore } from '../../lambda/state/store';
import { CRASH_STEPS } from '../../test/support/crash-scenario';
import { type CrashPlan, type CrashPoint, MortalProcess } from '../../test/support/crash-points';
import { ManualClock, SimulatedCrash, freshTable, makePoller, seededRandom } from '../../test/support/harness';
import { benchConfig } from '../lib/wiring';
import { CountingDeliverer, deliverersWithOutages, type Outage } from './deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv } from './env';
import { serverChaos } from './server-chaos';
import { classifyUndelivered, describeError, judge, type RunOutcome } from './verdict';

const SOURCE_ID = 'pizzeria';
const INTERVAL_MS = 10_000;
const TICKS = 5;
const INVOCATION_MS = 60_000;
const CHAOTIC_INVOCATIONS = 5;
const DRAINING_INVOCATIONS = 4;
/** Per tick: SES down 8 %, SNS down 7 %, both 5 %. */
const OUTAGES: readonly (readonly [Outage, number])[] = [
  ['ses', 0.08],
  ['sns', 0.07],
  ['both', 0.05],
];

export async function runRealDeliveryKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 13 + 5);
  const mode = (['all', 'empty', 'error'] as const)[Math.floor(random() * 3)] as UnknownHashMode;
  const clock = new ManualClock(CLOCK_START);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed, unknownHash: mode });
  try {
    const store = new StateStore({ tableName: await freshTable(env.ddb), client: env.ddb });
    const chaos = serverChaos(sim, mode);
    const outages = deliverersWithOutages(
      benchConfig([{ id: SOURCE_ID, url: sim.url }], 10),
      env.topicArn,
      env.deadEndpoint,
    );
    const counting = new CountingDeliverer(outages.deliverer);
    const injected: string[] = [];
    const crashWindow = new Set<string>();
    const crashes: (CrashPoint | 'killed')[] = [];
    const unexpected: string[] = [];
    const outageTicks = { ses: 0, sns: 0, both: 0 };
    let crashedLast = true; // the first (baseline) invocation is clean

    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      const chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const start = clock.now();
      let plan: CrashPlan | undefined;
      if (chaotic && !crashedLast && random() < 0.6) {
        const point = CRASH_STEPS[Math.floor(random() * CRASH_STEPS.length)]!;
        plan = { point, occurrence: point === 'before-checkpoint' ? 1 : 1 + Math.floor(random() * 3) };
      }
      const process = new MortalProcess(plan);
      const poller = makePoller(
        { clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID },
        {
          owner: `inv${invocation}`,
          store: process.store(store),
          deliverer: process.deliverer(counting),
          wrapFetch: (fetch) => process.fetch(fetch),
          log: env.log,
        },
      );
      const leaseUntil = start + INVOCATION_MS - 5_000;
      try {
        if (await poller.begin(leaseUntil)) {
          for (let tick = 0; tick < TICKS && !process.dead; tick += 1) {
            let outage: Outage = 'none';
            if (chaotic) {
              chaos.beforeTick(random);
              const count = Math.floor(random() * 4);
              for (let i = 0; i < count; i += 1) injected.push(sim.inject().hash);
              let roll = random();
              for (const [o, share] of OUTAGES) {
                if (roll < share) {
                  outage = o;
                  break;
                }
                roll -= share;
              }
              if (outage !== 'none') outageTicks[outage] += 1;
            }
            outages.setOutage(outage);
            await poller.tick(leaseUntil);
            clock.advance(INTERVAL_MS);
          }
          if (!process.dead) await poller.end();
        }
      } catch (error) {
        if (!(error instanceof SimulatedCrash)) unexpected.push(describeError(error));
      }
      for (const hash of process.window) crashWindow.add(hash);
      if (process.crashed) crashes.push(process.crashed.point);
      outages.setOutage('none');
      crashedLast = process.dead;
      clock.t = start + INVOCATION_MS;
    }

    // Judged on SNS (every event is published) and on e-mail (every event reaches the log mailbox).
    const copiesOf = (h: string) => {
      const sns = counting.sent.sns.get(h) ?? 0;
      const email = counting.sent.email.get(h) ?? 0;
      return sns > 0 && email > 0 ? Math.max(sns, email) : 0;
    };
    const copies = new Map(injected.map((h) => [h, copiesOf(h)]));
    const never = injected.filter((h) => copies.get(h) === 0);
    const classified = await classifyUndelivered(store, SOURCE_ID, never, chaos.dropped);
    const verdict = judge({ injected, copies, crashWindow, acknowledged: env.log.mayBeSentTwice(), ...classified });
    const c = chaos.counts;
    return {
      kind: 'real-delivery',
      variant: `unknown-hash ${mode}`,
      seed,
      events: injected.length,
      ...verdict,
      unexpected,
      crashes,
      server: {
        restartsKeep: c.persistingRestarts,
        restartsForget: c.forgetfulRestarts,
        faults: c.faults,
        modes: [...chaos.modesSeen],
      },
      details: `outage ticks ses ${outageTicks.ses}, sns ${outageTicks.sns}, both ${outageTicks.both}; server: ${c.persistingRestarts}+${c.forgetfulRestarts} restarts, ${c.faults} faulty answers`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
