/**
 * Background traffic: calls `emit()` at random moments, `eventsPerMinute` on average (exponential
 * gaps drawn from a seeded stream, so guests do not call in lockstep). Real timers, unref'd so that
 * traffic alone never keeps a process alive; `stop()` cancels the next one.
 */
import type { Random } from './random';

export interface TrafficOptions {
  /** Average events per minute; 0 = no traffic. */
  eventsPerMinute: number;
  /** Draws the gaps. */
  random: Random;
  /** Makes one event. */
  emit: () => void;
}

export interface Traffic {
  stop(): void;
}

export function startTraffic(options: TrafficOptions): Traffic {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const meanGapMs = 60_000 / options.eventsPerMinute;
  const schedule = (): void => {
    if (stopped || !(options.eventsPerMinute > 0)) return;
    const gap = Math.min(-Math.log(1 - options.random.next()) * meanGapMs, 20 * meanGapMs);
    timer = setTimeout(() => {
      options.emit();
      schedule();
    }, gap);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
