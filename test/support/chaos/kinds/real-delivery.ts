/**
 * The `real-delivery` kind: like the crash kind (a poller dies at a random step boundary, the
 * next scheduled invocation takes over, the server misbehaves between ticks), but deliveries go
 * through the real `createDeliverer` to the SES and SNS emulators, and during some ticks SES,
 * SNS or both are unreachable (their endpoint is a closed port): real SDK errors, real retries,
 * real classification. Both channels are judged: an event must reach SNS and its e-mail must go
 * out, each once but where a death's deliver→mark window or the poll cycle's own
 * `mayBeSentTwice` line explains another copy.
 */
import { createSimulator, type UnknownHashMode } from '../../../../local/simulator';
import { StateStore } from '../../../../lambda/state/store';
import { ManualClock, SimulatedCrash, freshTable, seededRandom } from '../../harness';
import { chaosConfig } from '../lib/config';
import { CountingDeliverer, deliverersWithOutages, type Outage } from '../lib/deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller, planCrash } from '../lib/lives';
import { serverChaos } from '../lib/server-chaos';
import {
  describeError,
  explainer,
  judgeCopies,
  recordStatuses,
  type RunOutcome,
  sortUndelivered,
} from '../lib/verdict';

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
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const chaos = serverChaos(sim, mode);
    const outages = deliverersWithOutages(chaosConfig(sim.url), env.topicArn, env.deadEndpoint);
    const counting = new CountingDeliverer(outages.deliverer);
    const injected: string[] = [];
    const lives = new Lives();
    const unexpected: string[] = [];
    const outageTicks = { ses: 0, sns: 0, both: 0 };
    let crashedLast = true; // the first (baseline) invocation is clean

    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      const chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const start = clock.now();
      const process = lives.spawn(chaotic && !crashedLast ? planCrash(random, 0.6) : undefined);
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer: counting,
        log,
      });
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
      outages.setOutage('none');
      crashedLast = lives.reap(process);
      clock.t = start + INVOCATION_MS;
    }

    const events = injected.map((hash) => ({ id: hash, hash }));
    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => counting.copies(id, channel as 'sns' | 'email'),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const c = chaos.counts;
    return {
      kind: 'real-delivery',
      variant: `unknown-hash ${mode}`,
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) => {
        if (chaos.dropped.has(e.hash) && !statuses.has(e.hash)) return 'dropped by server';
        if (statuses.get(e.hash) === 'failed') return 'given up';
        return { lost: `not delivered on both channels (record ${statuses.get(e.hash) ?? 'absent'})` };
      }),
      problems: [],
      unexpected,
      crashes: lives.crashes,
      faults: {},
      figures: {
        'restarts keeping the queue': c.persistingRestarts,
        'restarts forgetting it': c.forgetfulRestarts,
        'faulty answers': c.faults,
        'outage ticks': outageTicks.ses + outageTicks.sns + outageTicks.both,
      },
      details: `outage ticks ses ${outageTicks.ses}, sns ${outageTicks.sns}, both ${outageTicks.both}; server: ${c.persistingRestarts}+${c.forgetfulRestarts} restarts, ${c.faults} faulty answers`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
