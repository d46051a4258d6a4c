/**
 * THE POLL CYCLE of one QR-menu server (a "source"):
 *
 *   begin   take the source's lease (one poller per source), load its state and pending work
 *   tick    write outcomes still unwritten → ingest (poll → learn → triage → record → cursor,
 *           ingest.ts) → deliver new claims and due retries (delivery.ts); every phase stops
 *           starting work when the tick's time is up, and leaves it durably claimed for the next
 *   end     write what is still unwritten, save the state and release the lease
 *
 * No event is lost: the cursor moves only past recorded events, `hash=none` polls reconcile a
 * forgetful server, and a record with work left is found again (in memory, or in the `due` index).
 * No event is sent twice: every record changes by conditional write, and a send is never repeated
 * because its outcome could not be written — except when the run ends (or dies) in between.
 * Decisions are pure (decisions.ts, queue-knowledge.ts); this file orchestrates the phases.
 */
import { METRIC } from '../domain/metrics';
import { EVENT_STATUS } from '../domain/record';
import { EMPTY_SOURCE_STATE } from '../domain/source-state';
import { deliverDue, releaseUnsent, settleMarks } from './delivery';
import { ingest } from './ingest';
import type { QueryReason } from './decisions';
import { describeError, SourceContext, type SourcePollerOptions, STORE_WRITE_MIN_MS } from './source-context';

export type { PollerSettings, SourcePollerOptions } from './source-context';

export interface TickReport {
  readonly polled: boolean;
  /** Why nothing was polled. */
  readonly idle?: 'no-lease' | 'lease-ending';
  readonly query?: QueryReason;
  readonly received: number;
  readonly claimed: number;
  readonly delivered: number;
  /** Work that did not fit in the tick: events not yet recorded, deliveries not yet started. */
  readonly left: number;
  readonly error?: string;
}

/**
 * Stop starting work this long before the lease ends: a call in flight (a send, a DynamoDB write)
 * then still ends before another poller may take the source over.
 */
export const LEASE_MARGIN_MS = 8_000;

const IDLE = { polled: false, received: 0, claimed: 0, delivered: 0, left: 0 } as const;

export class SourcePoller {
  readonly #o: SourcePollerOptions;
  #ctx: SourceContext | undefined;
  #leaseUntil = 0;
  #retryLeaseAt = 0;
  #toldHeld = false;

  constructor(options: SourcePollerOptions) {
    this.#o = options;
  }

  get holdsLease(): boolean {
    return this.#ctx !== undefined;
  }

  /** Take the lease until `leaseUntil`; false when another poller holds it (tried again on later ticks). */
  async begin(leaseUntil: number): Promise<boolean> {
    const { store, clock, log, source } = this.#o;
    this.#leaseUntil = leaseUntil;
    const lease = await store.acquireLease(source.id, this.#o.owner, clock.now(), leaseUntil);
    if (!lease.acquired) {
      // The holder may release early (its run ended): try again next tick, not only at its expiry.
      this.#retryLeaseAt = Math.min(
        lease.leaseUntil ?? Number.POSITIVE_INFINITY,
        clock.now() + this.#o.settings.intervalMs,
      );
      // Said once per invocation, not at every tick it is tried again.
      if (!this.#toldHeld)
        log.info('another poller holds this source; waiting for its lease to end', {
          source: source.id,
          holder: lease.holder,
          leaseUntil: lease.leaseUntil,
        });
      this.#toldHeld = true;
      return false;
    }
    const ctx = new SourceContext(this.#o, { ...EMPTY_SOURCE_STATE, ...lease.state });
    this.#ctx = ctx;
    try {
      for (const due of await store.listDue(source.id)) {
        ctx.jobs.set(due.recordId, {
          step: 'due',
          dueAt: due.dueAt,
          attempts: due.attempts,
          phase: due.phase,
          escalate: due.status === EVENT_STATUS.delivered,
        });
      }
    } catch (error) {
      ctx.stateError(error, 'listing the deliveries waiting for another attempt');
    }
    if (ctx.jobs.size > 0)
      log.info('found deliveries waiting for another attempt', { source: source.id, pending: ctx.jobs.size });
    return true;
  }

  /**
   * One poll and everything it leads to, started by `deadline` (and the lease's margin): the poll,
   * claims and writes end by then; a send started before it may run its budget past it, never past
   * the lease's margin (decisions.ts, SendWindow). Never throws.
   */
  async tick(deadline: number): Promise<TickReport> {
    const { clock, metrics, log } = this.#o;
    const started = clock.now();
    if (!this.#ctx) {
      if (started < this.#retryLeaseAt || !(await this.#beginQuietly())) return { ...IDLE, idle: 'no-lease' };
    }
    const ctx = this.#ctx!;
    const until = Math.min(deadline, this.#leaseUntil - LEASE_MARGIN_MS);
    if (started >= until) return { ...IDLE, idle: 'lease-ending' };
    let report: TickReport = { ...IDLE };
    try {
      await settleMarks(ctx, until);
      const ingested = await ingest(ctx, until);
      const delivered = await deliverDue(ctx, { startBy: until, finishBy: this.#leaseUntil - LEASE_MARGIN_MS });
      report = {
        polled: ingested.polled,
        ...(ingested.query ? { query: ingested.query } : {}),
        received: ingested.received,
        claimed: ingested.claimed,
        delivered: delivered.delivered,
        left: ingested.unrecorded + delivered.left,
        ...(ingested.error ? { error: ingested.error } : {}),
      };
    } catch (error) {
      // The phases handle their own I/O failures; this is a bug, and the next tick starts afresh.
      report = { ...report, error: 'internal' };
      log.error('the poll cycle failed unexpectedly; the next tick retries', {
        source: ctx.id,
        error: describeError(error),
      });
    } finally {
      metrics.milliseconds(METRIC.tickLatency, clock.now() - started);
    }
    // A quiet tick logs nothing (metrics are flushed once per invocation, by the handler).
    if (report.claimed > 0 || report.delivered > 0 || report.left > 0) {
      log.info('tick', {
        source: ctx.id,
        ...(report.query ? { query: report.query } : {}),
        received: report.received,
        claimed: report.claimed,
        delivered: report.delivered,
        left: report.left,
      });
    }
    return report;
  }

  /** Write what is still unwritten, save the state and give the lease up. Never throws. */
  async end(): Promise<void> {
    const ctx = this.#ctx;
    if (!ctx) return;
    this.#ctx = undefined;
    const { store, log, metrics, clock } = this.#o;
    const until = this.#leaseUntil - STORE_WRITE_MIN_MS;
    if (clock.now() < until) await settleMarks(ctx, Math.max(until, clock.now() + STORE_WRITE_MIN_MS));
    if (clock.now() < until) await releaseUnsent(ctx, until);
    for (const job of ctx.jobs.values()) {
      if (job.step !== 'mark') continue;
      metrics.count(METRIC.unmarkedDeliveries);
      log.error("a delivery's outcome could not be written before the run ended: the next run may send it again", {
        source: ctx.id,
        hash: job.record.event.hash,
        outcome: job.verdict.outcome,
        mayBeSentTwice: true,
      });
    }
    try {
      const saved = await store.saveState(ctx.id, ctx.owner, ctx.state, { release: true });
      if (!saved) {
        log.warn('the lease ended before the state was saved; the next poller starts from the last saved cursor', {
          source: ctx.id,
        });
      }
    } catch (error) {
      ctx.stateError(error, 'saving the source state (the next poller starts from the last saved cursor)');
    }
  }

  async #beginQuietly(): Promise<boolean> {
    try {
      return await this.begin(this.#leaseUntil);
    } catch (error) {
      this.#o.metrics.count(METRIC.stateErrors);
      this.#o.log.error('could not take the source lease; retrying on the next tick', {
        source: this.#o.source.id,
        error: describeError(error),
      });
      return false;
    }
  }
}
