/**
 * A seeded crash scenario: a run of scheduled invocations against the simulator and DynamoDB
 * Local in which a poller dies at random step boundaries — after the fetch, after a claim, after a
 * delivery (before its mark), after a mark, before the state is saved — and the next invocation
 * takes over. A dead poller is dead: from the moment it crashes, its store and deliverer refuse
 * every call, as a killed process would make none. Used by the crash test and `npm run chaos`.
 *
 * The outcome lists, per event, how often it was delivered, and which events fell in the one
 * window where a duplicate is allowed (a crash between delivering and marking).
 */
import type { Simulator } from '../../local/simulator';
import type { Log } from '../../lambda/domain/ports';
import type { PollerSettings } from '../../lambda/poller/source-poller';
import type { StateStore } from '../../lambda/state/store';
import { CRASH_POINTS, type CrashPlan, type CrashPoint, MortalProcess } from './crash-points';
import { type ManualClock, RecordingDeliverer, SimulatedCrash, makePoller, seededRandom } from './harness';

export const CRASH_STEPS: readonly CrashPoint[] = CRASH_POINTS;

export interface CrashScenarioOptions {
  readonly seed: number;
  readonly clock: ManualClock;
  readonly sim: Simulator;
  readonly store: StateStore;
  readonly token: string;
  /** Invocations with chaos (a clean first one and clean draining ones are added). Default 8. */
  readonly invocations?: number;
  /** Chance that an invocation (not following a crashed one) crashes. Default 0.7. */
  readonly crashChance?: number;
  /** Hook to vary the server between ticks (restarts, unknown-hash modes, faults). */
  readonly beforeTick?: (context: { random: () => number; invocation: number; tick: number }) => void;
  /** Make the deliverer fail some of the time. Default: never. */
  readonly deliveryFaultChance?: number;
  readonly settings?: Partial<PollerSettings>;
  /** Where the pollers log (e.g. for a token scan). Default: a RecordingLog per poller, dropped. */
  readonly log?: Log;
}

export interface CrashScenarioOutcome {
  readonly seed: number;
  /** Every event the simulator queued during the run, and when. */
  readonly injected: readonly { hash: string; at: number }[];
  readonly deliveredCount: ReadonlyMap<string, number>;
  /** Events that were delivered but not marked when their poller died: the window where a duplicate is allowed. */
  readonly duplicateWindow: ReadonlySet<string>;
  readonly crashes: readonly { invocation: number; step: CrashPoint | 'killed' }[];
  /** Errors other than the simulated crashes. */
  readonly unexpected: readonly unknown[];
}

const INTERVAL_MS = 10_000;
const TICKS_PER_INVOCATION = 5;
const INVOCATION_MS = 60_000;

export async function runCrashScenario(options: CrashScenarioOptions): Promise<CrashScenarioOutcome> {
  const { clock, sim } = options;
  const random = seededRandom(options.seed);
  const deliverer = new RecordingDeliverer();
  const injected: { hash: string; at: number }[] = [];
  const duplicateWindow = new Set<string>();
  const crashes: { invocation: number; step: CrashPoint | 'killed' }[] = [];
  const unexpected: unknown[] = [];
  const chaos = options.invocations ?? 8;
  let crashedLast = true; // the first (baseline) invocation is clean

  for (let invocation = 0; invocation < chaos + 4; invocation += 1) {
    const chaotic = invocation > 0 && invocation <= chaos;
    const start = clock.now();
    let plan: CrashPlan | undefined;
    if (chaotic && !crashedLast && random() < (options.crashChance ?? 0.7)) {
      const point = CRASH_STEPS[Math.floor(random() * CRASH_STEPS.length)]!;
      plan = { point, occurrence: point === 'before-checkpoint' ? 1 : 1 + Math.floor(random() * 3) };
    }
    const process = new MortalProcess(plan);
    deliverer.failing = {};
    const poller = makePoller(
      { clock, sim, store: options.store, token: options.token },
      {
        owner: `inv${invocation}`,
        store: process.store(options.store),
        deliverer: process.deliverer(deliverer),
        wrapFetch: (fetch) => process.fetch(fetch),
        ...(options.settings ? { settings: options.settings } : {}),
        ...(options.log ? { log: options.log } : {}),
      },
    );
    const leaseUntil = start + INVOCATION_MS - 5_000;
    try {
      if (await poller.begin(leaseUntil)) {
        for (let tick = 0; tick < TICKS_PER_INVOCATION && !process.dead; tick += 1) {
          if (chaotic) {
            options.beforeTick?.({ random, invocation, tick });
            const count = Math.floor(random() * 4);
            for (let i = 0; i < count; i += 1) injected.push({ hash: sim.inject().hash, at: clock.now() });
            const faultChance = options.deliveryFaultChance ?? 0;
            deliverer.failing =
              random() < faultChance ? (random() < 0.5 ? { sns: 'transient' } : { email: 'throttled' }) : {};
          } else deliverer.failing = {};
          await poller.tick(leaseUntil);
          clock.advance(INTERVAL_MS);
        }
        if (!process.dead) await poller.end();
      }
    } catch (error) {
      if (!(error instanceof SimulatedCrash)) unexpected.push(error);
    }
    for (const hash of process.window) duplicateWindow.add(hash);
    if (process.crashed) crashes.push({ invocation, step: process.crashed.point });
    crashedLast = process.dead;
    clock.t = start + INVOCATION_MS;
  }

  const deliveredCount = new Map<string, number>();
  for (const d of deliverer.deliveries) {
    if (d.channels.includes('sns')) deliveredCount.set(d.hash, (deliveredCount.get(d.hash) ?? 0) + 1);
  }
  return { seed: options.seed, injected, deliveredCount, duplicateWindow, crashes, unexpected };
}

/** Lost events (never delivered) and duplicates outside the allowed window. */
export function judgeScenario(outcome: CrashScenarioOutcome): {
  lost: string[];
  unexplainedDuplicates: string[];
  windowDuplicates: string[];
} {
  const lost = outcome.injected.filter((e) => (outcome.deliveredCount.get(e.hash) ?? 0) === 0).map((e) => e.hash);
  const duplicates = [...outcome.deliveredCount].filter(([, n]) => n > 1).map(([hash]) => hash);
  return {
    lost,
    unexplainedDuplicates: duplicates.filter((h) => !outcome.duplicateWindow.has(h)),
    windowDuplicates: duplicates.filter((h) => outcome.duplicateWindow.has(h)),
  };
}
