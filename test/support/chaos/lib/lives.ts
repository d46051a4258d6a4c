/**
 * The processes of a chaos run: each invocation is a `MortalProcess` (test/support/crash-points.ts)
 * that may die at a planned step boundary — after a fetch, a claim, a delivery (before its mark),
 * a mark, or as the final save starts. Its poller is wired as the handler wires one, through ports
 * that refuse every call once it is dead, and its log and operator channel fall silent then too.
 * `Lives` keeps what the judge needs: the deliver→mark window of every death, and the deaths.
 */
import type { Deliverer } from '../../../../lambda/domain/delivery';
import type { EventStore, FeedEntry, Log, OpsNotifier, SourceStore } from '../../../../lambda/domain/ports';
import type { PollerSettings, SourcePoller } from '../../../../lambda/poller/source-poller';
import { type CrashPlan, CRASH_POINTS, MortalProcess } from '../../crash-points';
import { makePoller, type PollerKit, type RecordingMetrics } from '../../harness';

/** A crash plan with chance `chance`: a random step boundary, passed 1–3 times first. */
export function planCrash(random: () => number, chance: number): CrashPlan | undefined {
  if (random() >= chance) return undefined;
  const point = CRASH_POINTS[Math.floor(random() * CRASH_POINTS.length)]!;
  return { point, occurrence: point === 'before-checkpoint' ? 1 : 1 + Math.floor(random() * 3) };
}

export class Lives {
  /** Hashes delivered but unmarked at each death (one set per dead process). */
  readonly windows: ReadonlySet<string>[] = [];
  readonly crashes: string[] = [];
  #last: MortalProcess | undefined;

  /** A process for the next invocation. */
  spawn(plan?: CrashPlan, killedWhen?: () => boolean): MortalProcess {
    const process = new MortalProcess(plan, killedWhen);
    this.#last = process;
    return process;
  }

  /** After an invocation: remember how its process ended. True when it died. */
  reap(process: MortalProcess = this.#last!): boolean {
    if (process.dead) {
      (this.windows as Set<string>[]).push(new Set(process.window));
      this.crashes.push(process.crashed?.point ?? 'killed');
    }
    return process.dead;
  }
}

export interface MortalPollerOptions {
  readonly owner: string;
  readonly deliverer: Deliverer;
  readonly log: { until(dead: () => boolean): Log };
  readonly store?: SourceStore & EventStore;
  readonly ops?: OpsNotifier;
  readonly metrics?: RecordingMetrics;
  readonly settings?: Partial<PollerSettings>;
  readonly observer?: (entry: FeedEntry) => void;
}

/** A poller whose every port belongs to `process`. */
export function mortalPoller(kit: PollerKit, process: MortalProcess, options: MortalPollerOptions): SourcePoller {
  const dead = () => process.dead;
  const ops = options.ops;
  return makePoller(kit, {
    owner: options.owner,
    store: process.store(options.store ?? kit.store),
    deliverer: process.deliverer(options.deliverer),
    wrapFetch: (fetch) => process.fetch(fetch),
    log: options.log.until(dead),
    ...(ops
      ? { ops: { alert: (subject, message) => (dead() ? Promise.resolve() : ops.alert(subject, message)) } }
      : {}),
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
}
