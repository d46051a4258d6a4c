/**
 * What the poller emits as CloudWatch metrics, read back from the EMF lines Powertools prints:
 * only NeedsAttention for the whole deployment (the alarm's one series), the dashboard's names per
 * source only while the dashboard is on, and the weights that make each condition's own
 * threshold reach the alarm's. The distinct series counted here are what `metricSeries` says
 * a deployment creates, which is what the cost model bills.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ATTENTION_ALARM_THRESHOLD,
  ATTENTION_METRIC,
  attentionWeight,
  DASHBOARD_METRICS,
  METRIC,
  METRIC_USE,
  metricSeries,
  NO_POLL_ALARM_MS,
  type MetricName,
} from '../../lambda/domain/metrics';
import { createSourceMetrics } from '../../lambda/obs/telemetry';

afterEach(() => vi.restoreAllMocks());

interface EmfRecord {
  readonly _aws: { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] };
  readonly [key: string]: unknown;
}

/** Run `emit`, return every EMF record it printed. */
function emfOf(emit: () => void): EmfRecord[] {
  const written: string[] = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  try {
    emit();
  } finally {
    vi.restoreAllMocks();
  }
  return written
    .flatMap((w) => w.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as EmfRecord);
}

/** "Name{dim=value,…}" per metric and dimension set: the series CloudWatch bills. */
function seriesOf(records: readonly EmfRecord[]): Set<string> {
  const keys = new Set<string>();
  for (const record of records)
    for (const directive of record._aws.CloudWatchMetrics)
      for (const dims of directive.Dimensions)
        for (const metric of directive.Metrics)
          keys.add(`${metric.Name}{${dims.map((d) => `${d}=${String(record[d])}`).join(',')}}`);
  return keys;
}

const ALL_NAMES = Object.values(METRIC) as MetricName[];

/** Every name the poll cycle has, once, as the poll cycle would count it. */
function emitEverything(sourceId: string, perSource: boolean): void {
  const metrics = createSourceMetrics('QrmenuAlerts/test', sourceId, { perSource });
  for (const name of ALL_NAMES) {
    if (name === METRIC.pollSilence) metrics.milliseconds(name, Number.POSITIVE_INFINITY);
    else if (name === METRIC.tickLatency || name === METRIC.deliveryLatency || name === METRIC.timeToAcknowledge)
      metrics.milliseconds(name, 42);
    else metrics.count(name);
  }
  metrics.flush();
}

describe('the metrics one deployment emits', () => {
  it('without the dashboard: NeedsAttention alone, without the source dimension', () => {
    const series = seriesOf(
      emfOf(() => {
        for (const id of ['pizzeria', 'cafe', 'bar']) emitEverything(id, false);
      }),
    );
    expect([...series]).toEqual([`${ATTENTION_METRIC}{service=qrmenu-alerts}`]);
    expect(series.size).toBe(metricSeries({ sources: 3, dashboard: false }).attention);
    expect(metricSeries({ sources: 500, dashboard: false }).dashboard).toBe(0);
  });

  it("with the dashboard: also the dashboard's names per source, nothing else", () => {
    const sources = ['pizzeria', 'cafe'];
    const series = seriesOf(
      emfOf(() => {
        for (const id of sources) emitEverything(id, true);
      }),
    );
    const expected = metricSeries({ sources: sources.length, dashboard: true });
    expect(series.size).toBe(expected.attention + expected.dashboard);
    for (const name of DASHBOARD_METRICS)
      for (const id of sources) expect(series).toContain(`${name}{service=qrmenu-alerts,source=${id}}`);
    expect([...series].filter((key) => !key.includes('source='))).toEqual([
      `${ATTENTION_METRIC}{service=qrmenu-alerts}`,
    ]);
  });

  it('prints nothing when nothing that anything reads was counted (a quiet tick costs no metric)', () => {
    const records = emfOf(() => {
      const metrics = createSourceMetrics('QrmenuAlerts/test', 'pizzeria', { perSource: false });
      metrics.count(METRIC.pollSucceeded);
      metrics.count(METRIC.eventsReceived, 3);
      metrics.milliseconds(METRIC.tickLatency, 12);
      metrics.flush();
      metrics.flush();
    });
    expect(records).toEqual([]);
  });
});

describe('NeedsAttention: each condition reaches the alarm at its own threshold', () => {
  it('gives every alarm condition an integer weight that reaches the threshold exactly at its count', () => {
    for (const name of ALL_NAMES) {
      const at = METRIC_USE[name].alarmAt;
      if (at === undefined || name === METRIC.pollSilence) continue;
      expect(Number.isInteger(attentionWeight(name, 1)), name).toBe(true);
      expect(attentionWeight(name, at), name).toBe(ATTENTION_ALARM_THRESHOLD);
      expect(attentionWeight(name, at - 1), name).toBeLessThan(ATTENTION_ALARM_THRESHOLD);
    }
  });

  it.each([
    [METRIC.authErrors, 1],
    [METRIC.secretErrors, 3],
    [METRIC.stateErrors, 5],
    [METRIC.telegramFailures, 3],
    [METRIC.deliveryFailed, 1],
    [METRIC.possibleGap, 1],
    [METRIC.unansweredCalls, 1],
  ] as const)('%s: %i in the period sum to the threshold in the emitted EMF', (name, times) => {
    const records = emfOf(() => {
      const metrics = createSourceMetrics('QrmenuAlerts/test', 'pizzeria', { perSource: false });
      for (let i = 0; i < times; i += 1) metrics.count(name);
      metrics.flush();
    });
    const values = records.flatMap((r) => [r[ATTENTION_METRIC]].flat() as number[]);
    expect(values.reduce((a, b) => a + b, 0)).toBe(ATTENTION_ALARM_THRESHOLD);
  });

  it('counts a failed poll only once the source has had no success for 5 minutes (never polled: at once)', () => {
    expect(attentionWeight(METRIC.pollSilence, NO_POLL_ALARM_MS - 1)).toBe(0);
    expect(attentionWeight(METRIC.pollSilence, NO_POLL_ALARM_MS)).toBe(ATTENTION_ALARM_THRESHOLD);
    expect(attentionWeight(METRIC.pollSilence, Number.POSITIVE_INFINITY)).toBe(ATTENTION_ALARM_THRESHOLD);
    expect(attentionWeight(METRIC.pollErrors, 1)).toBe(0);
  });
});
