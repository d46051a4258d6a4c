/**
 * The metrics of one source over one invocation, emitted once at its end: however many ticks the
 * invocation ran (28 at 2-s polling), a source costs one EMF flush per invocation, and each count
 * is one value (its sum) in it, so a quiet invocation's metrics do not grow with its ticks.
 * Timings (`milliseconds`) keep every value: their percentiles are what the dashboard shows.
 * Sums are what every alarm and the dashboard read of the counts (statistic `Sum`), so summing
 * them here changes no figure.
 */
import type { MetricName } from '../domain/metrics';
import type { SourceMetrics } from '../domain/ports';

export class InvocationMetrics implements SourceMetrics {
  readonly #counts = new Map<MetricName, number>();
  #timings: [MetricName, number][] = [];

  constructor(private readonly target: SourceMetrics) {}

  count(name: MetricName, value = 1): void {
    if (value > 0) this.#counts.set(name, (this.#counts.get(name) ?? 0) + value);
  }

  milliseconds(name: MetricName, value: number): void {
    this.#timings.push([name, value]);
  }

  /** Hand everything gathered to the target and flush it (once, at the end of the invocation). */
  flush(): void {
    for (const [name, value] of this.#counts) this.target.count(name, value);
    for (const [name, value] of this.#timings) this.target.milliseconds(name, value);
    this.#counts.clear();
    this.#timings = [];
    this.target.flush();
  }
}
