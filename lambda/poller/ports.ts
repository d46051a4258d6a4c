/**
 * What the poll cycle needs from the world, as small interfaces passed in: the clock, logs,
 * metrics, the operator's alert channel, an observer for a live feed, and the probe the crash
 * tests use to stop a poller dead between two steps. Production adapters live in lambda/obs and
 * lambda/handler.ts; tests pass plain objects.
 */
import type { FetchOptions, FetchResult } from '../qrmenu/client';
import type { MetricName } from '../obs/metric-names';
import type { Channel } from '../notify/port';

export interface Clock {
  /** Epoch ms. */
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

/** Structured logging; Powertools' Logger fits it. Attributes must never hold a token. */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Metrics of one source (the `source` dimension is the implementation's business). */
export interface SourceMetrics {
  count(name: MetricName, value?: number): void;
  milliseconds(name: MetricName, value: number): void;
  /** Emit what was gathered (once per tick). */
  flush(): void;
}

/** The operator's channel (the ops SNS topic in AWS): rare, actionable messages only. */
export interface OpsNotifier {
  alert(subject: string, message: string): Promise<void>;
}

/** Where the events come from: the QR-menu client's fetchEvents. */
export type FetchEvents = (cursor: string | null, options: FetchOptions) => Promise<FetchResult>;

/** One line of the live feed (`npm start`, `--json`). */
export type FeedEntry =
  | {
      type: 'delivered';
      source: string;
      hash: string;
      code: string;
      table: string;
      channel: Channel;
      recipients: readonly string[];
      /** ms from the first time the event was seen to this delivery. */
      latencyMs: number;
      attempt: number;
    }
  | {
      type: 'skipped';
      source: string;
      hash: string;
      code: string;
      table: string;
      reason: 'duplicate' | 'suppressed' | 'baseline';
    }
  | {
      type: 'retry' | 'failed';
      source: string;
      hash: string;
      code: string;
      table: string;
      kind: string;
      message: string;
      attempt: number;
    }
  | { type: 'error'; source: string; kind: string; message: string }
  | { type: 'gap'; source: string; message: string };

export type Observer = (entry: FeedEntry) => void;

/** The boundaries between the steps of the cycle, where a crash test may stop a poller dead. */
export type Step = 'fetched' | 'claimed' | 'delivered' | 'marked' | 'before-checkpoint';
export type Probe = (step: Step, detail: { sourceId: string; hash?: string }) => void;
