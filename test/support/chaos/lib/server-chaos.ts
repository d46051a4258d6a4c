/**
 * What a server does between polls in a chaos run: restarts that keep the queue (only open
 * connections are cut), restarts that forget it (queued events and every hash gone, so the
 * cursor becomes unknown), switches between the unknown-hash modes, and one-shot faulty answers.
 * Events a forgetful restart drops are remembered: one the poller never recorded was lost by the
 * server, not by the poller, and is reported apart.
 */
import type { OneShotFaultName, Simulator, UnknownHashMode } from '../../../../local/simulator';

export interface ServerChaosOptions {
  /** Per tick. */
  readonly restartChance: number;
  /** Share of restarts that forget the queue. */
  readonly forgetfulShare: number;
  readonly modeChangeChance: number;
  readonly faultChance: number;
}

export const DEFAULT_SERVER_CHAOS: ServerChaosOptions = {
  restartChance: 0.06,
  forgetfulShare: 0.3,
  modeChangeChance: 0.08,
  faultChance: 0.08,
};

/** Faults that answer at once (a `hang` costs real seconds; the corpus covers it). */
const STREAM_FAULTS: readonly OneShotFaultName[] = [
  'server-error',
  'html',
  'truncated',
  'reset',
  'result-false',
  'not-json',
  'empty-body',
  'duplicate',
];
const MODES: readonly UnknownHashMode[] = ['all', 'empty', 'error'];

export interface ServerChaos {
  /** Call before a tick, with the run's seeded random. */
  beforeTick(random: () => number): void;
  /** Hashes that were queued when a forgetful restart emptied the queue. */
  readonly dropped: ReadonlySet<string>;
  readonly counts: { persistingRestarts: number; forgetfulRestarts: number; modeChanges: number; faults: number };
  /** Modes used during the run (the starting one included). */
  readonly modesSeen: ReadonlySet<UnknownHashMode>;
}

export function serverChaos(
  sim: Simulator,
  initialMode: UnknownHashMode,
  options: ServerChaosOptions = DEFAULT_SERVER_CHAOS,
): ServerChaos {
  const dropped = new Set<string>();
  const counts = { persistingRestarts: 0, forgetfulRestarts: 0, modeChanges: 0, faults: 0 };
  const modesSeen = new Set<UnknownHashMode>([initialMode]);
  return {
    dropped,
    counts,
    modesSeen,
    beforeTick(random) {
      if (random() < options.restartChance) {
        if (random() < options.forgetfulShare) {
          for (const event of sim.queue()) if (event.hash !== null) dropped.add(event.hash);
          sim.restart({ keepQueue: false, dropConnections: true });
          counts.forgetfulRestarts += 1;
        } else {
          sim.restart({ keepQueue: true, dropConnections: true });
          counts.persistingRestarts += 1;
        }
      }
      if (random() < options.modeChangeChance) {
        const mode = MODES[Math.floor(random() * MODES.length)]!;
        sim.setUnknownHashMode(mode);
        modesSeen.add(mode);
        counts.modeChanges += 1;
      }
      if (random() < options.faultChance) {
        sim.failNext(STREAM_FAULTS[Math.floor(random() * STREAM_FAULTS.length)]!);
        counts.faults += 1;
      }
    },
  };
}
