/**
 * The working set of one source while a poller holds its lease, shared by the phases of the poll
 * cycle (ingest.ts, delivery.ts, orchestrated by source-poller.ts): the settings and ports, the
 * saved state as it evolves, what is known of each hash's record, and the delivery jobs in flight.
 *
 * A job is the in-memory side of a record with work left:
 *   send  we hold the claim; deliver when the tick has time
 *   due   pending in the table (a retry, or a claim whose poller died); take over when due
 *   mark  delivered (or judged) but the outcome not yet written: retry the write, never the send
 */
import { type AttendancePlan, type Deliverer, NO_ATTENDANCE } from '../domain/delivery';
import { METRIC } from '../domain/metrics';
import type {
  Clock,
  EventStore,
  Log,
  Observer,
  OpsNotifier,
  SentFacts,
  SourceMetrics,
  SourceStore,
} from '../domain/ports';
import type { FetchEvents } from '../domain/fetch';
import { type ClaimedRecord, type EventStatus, recordIdOf } from '../domain/record';
import type { SourceState } from '../domain/source-state';
import type { DeliveryVerdict, PollSettings } from './decisions';
import type { RecordedFacts } from './queue-knowledge';

export interface PollerSettings extends PollSettings {
  /** Event records expire this long after they are written. */
  readonly recordTtlSeconds: number;
  /** Claims and deliveries running at once. */
  readonly concurrency: number;
  /** Longest one delivery may take (every channel); none starts with less time left in the tick. */
  readonly sendBudgetMs: number;
}

export interface SourcePollerOptions {
  readonly source: { readonly id: string; readonly name: string };
  readonly settings: PollerSettings;
  /** Unique per invocation: the lease and every claim carry it. */
  readonly owner: string;
  readonly store: SourceStore & EventStore;
  readonly fetchEvents: FetchEvents;
  readonly deliverer: Deliverer;
  readonly clock: Clock;
  readonly log: Log;
  readonly metrics: SourceMetrics;
  readonly ops?: OpsNotifier;
  readonly observer?: Observer;
}

/** What the poller knows of the current record of a hash. */
export interface KnownEvent extends RecordedFacts {
  readonly recordId: string;
  readonly hash: string;
  readonly status: EventStatus;
}

export type Job =
  | { readonly step: 'send'; readonly record: ClaimedRecord }
  | {
      readonly step: 'due';
      readonly dueAt: number;
      readonly attempts: number;
      /** The phase the record is in; `escalate`: delivered, and the next escalation step is what is due. */
      readonly phase: number;
      readonly escalate: boolean;
    }
  | {
      readonly step: 'mark';
      readonly record: ClaimedRecord;
      readonly verdict: DeliveryVerdict;
      /** What went out (message ids, channels first sent), written with the outcome. */
      readonly sent: SentFacts;
      /** Delivered, and the next escalation step is due then. */
      readonly escalateAt?: number;
      readonly nextTryAt: number;
      readonly tries: number;
    };

/** A store write is not started with less time than this left before the tick's end. */
export const STORE_WRITE_MIN_MS = 1_000;

export class SourceContext {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly settings: PollerSettings;
  state: SourceState;
  /** hash → its current record, as far as this poller knows. */
  readonly known = new Map<string, KnownEvent>();
  /** record id → the work left on it. */
  readonly jobs = new Map<string, Job>();
  readonly #alerted = new Set<string>();

  constructor(
    readonly o: SourcePollerOptions,
    state: SourceState,
  ) {
    this.id = o.source.id;
    this.name = o.source.name;
    this.owner = o.owner;
    this.settings = o.settings;
    this.state = state;
  }

  isPoisoned(hash: string): boolean {
    return this.state.poisoned[hash] !== undefined;
  }

  recordIdOf(hash: string): string {
    return recordIdOf(hash, this.state.aliases[hash]);
  }

  /** A DynamoDB call failed: counted and logged; the caller leaves the work for a later tick. */
  stateError(error: unknown, doing: string, attributes: Record<string, unknown> = {}): void {
    this.o.metrics.count(METRIC.stateErrors);
    this.o.log.error(`a DynamoDB call failed while ${doing}; the work is left for the next tick`, {
      source: this.id,
      ...attributes,
      error: describeError(error),
    });
  }

  /** Tell the operator, once per key for this poller's life (an invocation). */
  async alertOnce(key: string, subject: string, message: string): Promise<void> {
    if (!this.o.ops || this.#alerted.has(key)) return;
    this.#alerted.add(key);
    try {
      await this.o.ops.alert(subject, message);
    } catch (error) {
      this.o.log.error('could not alert the operator', { source: this.id, error: describeError(error) });
    }
  }

  /** The staff loop of an event (the deliverer's, which knows the routes). */
  attendance(event: ClaimedRecord['event'], firstSeenAt: number): AttendancePlan {
    return this.o.deliverer.attendance?.({ sourceId: this.id, event, firstSeenAt }) ?? NO_ATTENDANCE;
  }

  timeLeft(until: number): number {
    return until - this.o.clock.now();
  }
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
