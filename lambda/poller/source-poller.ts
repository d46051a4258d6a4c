/**
 * The poll cycle of one QR-menu server (a "source"): the heart of the notifier.
 *
 *   begin   take the source's lease (one poller per source), load its state and pending work
 *   tick    poll → find which events are new → claim each (conditional put) → advance the cursor
 *           → deliver → mark delivered / retry / failed; then retry what is due
 *   end     save the state (cursor, last poll, cooldowns) and release the lease
 *
 * No event is lost: the cursor moves only past events that are durably recorded, `hash=none`
 * polls reconcile whatever a forgetful server hides, and a claim left by a crash is retried. No
 * event is sent twice: every record changes by conditional write, so of two racing pollers only one
 * delivers — except in the one window no system closes (a crash between delivering and marking).
 * Decisions are in decisions.ts; this file carries them out through the ports it is given.
 */
import pLimit from 'p-limit';
import type { Deliverer, DeliveryResult } from '../notify/port';
import { METRIC, POLL_ERROR_METRIC } from '../obs/metric-names';
import type { FetchResult } from '../qrmenu/client';
import { QrMenuError } from '../qrmenu/errors';
import type { QrEvent } from '../qrmenu/event';
import type { SourceState, StateStore } from '../state/store';
import {
  advanceCursor,
  chooseQuery,
  isPossibleGap,
  judgeDelivery,
  retryDelayMs,
  triage,
  type DeliveryVerdict,
  type PollSettings,
  type QueryChoice,
} from './decisions';
import type { Clock, FetchEvents, Log, Observer, OpsNotifier, Probe, SourceMetrics, Step } from './ports';

export interface PollerSettings extends PollSettings {
  /** Event records expire this long after they are written. */
  readonly recordTtlSeconds: number;
  /** Claims and deliveries running at once. */
  readonly concurrency: number;
}

export interface SourcePollerOptions {
  readonly source: { readonly id: string; readonly name: string };
  readonly settings: PollerSettings;
  /** Unique per invocation: the lease and every claim carry it. */
  readonly owner: string;
  readonly store: Pick<
    StateStore,
    | 'acquireLease'
    | 'saveCheckpoint'
    | 'findRecorded'
    | 'claimEvent'
    | 'recordSeen'
    | 'markDelivered'
    | 'markRetry'
    | 'markFailed'
    | 'listDue'
    | 'takeOver'
  >;
  readonly fetchEvents: FetchEvents;
  readonly deliverer: Deliverer;
  readonly clock: Clock;
  readonly log: Log;
  readonly metrics: SourceMetrics;
  readonly ops?: OpsNotifier;
  readonly observer?: Observer;
  /** Called at each step boundary; if it throws, the poller stops dead (crash tests). */
  readonly probe?: Probe;
}

export interface TickReport {
  readonly polled: boolean;
  /** Why nothing was polled. */
  readonly idle?: 'no-lease' | 'lease-ending';
  readonly query?: QueryChoice['reason'];
  readonly received: number;
  readonly claimed: number;
  readonly delivered: number;
  readonly error?: string;
}

/** Stop working this long before the lease ends, so a slow step never runs unleased. */
const LEASE_MARGIN_MS = 5_000;

export class SourcePoller {
  readonly #o: SourcePollerOptions;
  readonly #id: string;
  #state: SourceState | undefined;
  #leaseUntil = 0;
  #retryLeaseAt = 0;
  /** Hashes with a record, and when each was first seen: saves reads on `hash=none` answers. */
  readonly #recorded = new Map<string, number>();
  /** Records waiting for another attempt: hash → when, and the attempts so far. */
  readonly #pending = new Map<string, { dueAt: number; attempts: number }>();
  readonly #alerted = new Set<string>();
  #halted: unknown;

  constructor(options: SourcePollerOptions) {
    this.#o = options;
    this.#id = options.source.id;
  }

  get holdsLease(): boolean {
    return this.#state !== undefined;
  }

  /** Take the lease until `leaseUntil`; false when another poller holds it (it is tried again after its expiry). */
  async begin(leaseUntil: number): Promise<boolean> {
    const { store, clock, log } = this.#o;
    this.#leaseUntil = leaseUntil;
    const lease = await store.acquireLease(this.#id, this.#o.owner, clock.now(), leaseUntil);
    if (!lease.acquired) {
      // The holder may release early (its run ended): try again next tick, not only at its expiry.
      this.#retryLeaseAt = Math.min(
        lease.leaseUntil ?? Number.POSITIVE_INFINITY,
        clock.now() + this.#o.settings.intervalMs,
      );
      log.info('another poller holds this source; waiting for its lease to end', {
        source: this.#id,
        holder: lease.holder,
        leaseUntil: lease.leaseUntil,
      });
      return false;
    }
    this.#state = lease.state;
    for (const due of await store.listDue(this.#id))
      this.#pending.set(due.hash, { dueAt: due.dueAt, attempts: due.attempts });
    if (this.#pending.size > 0)
      log.info('found deliveries waiting for another attempt', { source: this.#id, pending: this.#pending.size });
    return true;
  }

  /** One poll and everything it leads to. Never throws for a poll or state problem (it is logged and counted). */
  async tick(deadline: number): Promise<TickReport> {
    const { clock, metrics } = this.#o;
    const started = clock.now();
    if (!this.#state) {
      if (started < this.#retryLeaseAt || !(await this.#guard(() => this.begin(this.#leaseUntil)))) {
        return { polled: false, idle: 'no-lease', received: 0, claimed: 0, delivered: 0 };
      }
    }
    if (started >= this.#leaseUntil - LEASE_MARGIN_MS)
      return { polled: false, idle: 'lease-ending', received: 0, claimed: 0, delivered: 0 };
    const until = Math.min(deadline, this.#leaseUntil - LEASE_MARGIN_MS);
    let report: TickReport = { polled: false, received: 0, claimed: 0, delivered: 0 };
    try {
      const polled = await this.#poll(until);
      report = { ...report, polled: true, query: polled.reason };
      if (polled.answer) {
        const { claimed, delivered } = await this.#ingest(polled.answer);
        report = { ...report, received: polled.answer.events.length, claimed, delivered };
      } else {
        report = { ...report, error: polled.error };
      }
      report = { ...report, delivered: report.delivered + (await this.#retryDue()) };
    } catch (error) {
      if (this.#halted) throw this.#halted;
      report = { ...report, error: 'state' };
      this.#o.log.error('the poll cycle failed; the cursor did not move, the next tick retries', {
        source: this.#id,
        error: describeError(error),
      });
    } finally {
      if (!this.#halted) {
        metrics.milliseconds(METRIC.tickLatency, clock.now() - started);
        metrics.flush();
      }
    }
    return report;
  }

  /** Save the state and give the lease up. */
  async end(): Promise<void> {
    if (!this.#state || this.#halted) return;
    this.#step('before-checkpoint');
    const saved = await this.#guard(() =>
      this.#o.store.saveCheckpoint(this.#id, this.#o.owner, this.#state!, { release: true }),
    );
    if (saved === false) {
      this.#o.log.warn(
        'the lease ended before the state was saved; the next poller starts from the last saved cursor',
        { source: this.#id },
      );
    }
    this.#state = undefined;
  }

  // --- poll ----------------------------------------------------------------------------------

  async #poll(deadline: number): Promise<{ reason: QueryChoice['reason']; answer?: FetchResult; error?: string }> {
    const { clock, log, metrics } = this.#o;
    const state = this.#state!;
    const now = clock.now();
    let choice = chooseQuery(state, now, this.#o.settings);
    let answer: FetchResult;
    try {
      answer = await this.#o.fetchEvents(choice.cursor, { deadline });
    } catch (error) {
      const recoverable = error instanceof QrMenuError && (error.kind === 'bad_response' || error.kind === 'server');
      if (choice.cursor === null || !recoverable) return { reason: choice.reason, error: this.#pollFailed(error) };
      // The server may have forgotten our cursor and answers it with an error: ask for everything.
      log.warn('the server rejected the cursor; asking for every queued event instead', {
        source: this.#id,
        cursor: choice.cursor,
        error: describeError(error),
      });
      choice = { cursor: null, reason: 'cursor-rejected' };
      try {
        answer = await this.#o.fetchEvents(null, { deadline });
      } catch (second) {
        return { reason: choice.reason, error: this.#pollFailed(second) };
      }
    }
    this.#step('fetched');
    if (isPossibleGap(state, now, this.#o.settings)) await this.#possibleGap(now - state.lastSuccessAt!);
    this.#state = { ...this.#state!, lastSuccessAt: now, ...(choice.cursor === null ? { lastNoneAt: now } : {}) };
    metrics.count(METRIC.pollSucceeded);
    metrics.count(METRIC.eventsReceived, answer.events.length);
    if (answer.skipped.length > 0) {
      metrics.count(METRIC.malformedEvents, answer.skipped.length);
      log.warn('the server sent events that cannot be used; they were skipped', {
        source: this.#id,
        skipped: answer.skipped,
      });
    }
    log.debug('polled', {
      source: this.#id,
      query: choice.reason,
      events: answer.events.length,
      attempts: answer.attempts,
      bytes: answer.bytes,
    });
    return { reason: choice.reason, answer };
  }

  #pollFailed(error: unknown): string {
    const { log, metrics, observer } = this.#o;
    const kind = error instanceof QrMenuError ? error.kind : 'unreachable';
    metrics.count(METRIC.pollErrors);
    metrics.count(POLL_ERROR_METRIC[kind]);
    const message = describeError(error);
    log.error('polling the QR-menu server failed', { source: this.#id, kind, error: message });
    observer?.({ type: 'error', source: this.#id, kind, message });
    return kind;
  }

  async #possibleGap(silenceMs: number): Promise<void> {
    const { log, metrics, observer } = this.#o;
    const message =
      `no successful poll of ${this.#o.source.name} for ${Math.round(silenceMs / 1000)} s, longer than the server keeps events ` +
      `(${this.#o.settings.retentionMs / 1000} s): guest calls in that time may have been missed`;
    metrics.count(METRIC.possibleGap);
    log.warn('possible gap', { source: this.#id, silenceMs });
    observer?.({ type: 'gap', source: this.#id, message });
    await this.#alertOnce('gap', `qrmenu-alerts: possible missed events at ${this.#o.source.name}`, message);
  }

  // --- claim, advance, deliver ---------------------------------------------------------------

  async #ingest(answer: FetchResult): Promise<{ claimed: number; delivered: number }> {
    const { store, clock, metrics, settings, observer } = this.#o;
    const now = clock.now();
    const state = this.#state!;
    const firstRun = state.baselineAt === undefined;
    const unknown = answer.events.map((e) => e.hash).filter((hash) => !this.#recorded.has(hash));
    if (unknown.length > 0) {
      const byHash = new Map(answer.events.map((e) => [e.hash, e]));
      for (const [hash, found] of await store.findRecorded(this.#id, unknown)) {
        this.#recorded.set(hash, found.firstSeenAt);
        const event = byHash.get(hash)!;
        observer?.({
          type: 'skipped',
          source: this.#id,
          hash,
          code: event.code,
          table: event.tableName,
          reason: 'duplicate',
        });
      }
    }
    const decided = triage(answer.events, this.#recorded, { firstRun, cooldowns: state.cooldowns, now }, settings);
    const limit = pLimit(settings.concurrency);
    const claimed: QrEvent[] = [];
    const ttl = { now, ttlSeconds: settings.recordTtlSeconds };
    await Promise.all(
      decided.events.map(({ event, fate }) =>
        limit(async () => {
          if (fate === 'duplicate') {
            metrics.count(METRIC.duplicatesSkipped);
            return;
          }
          const outcome =
            fate === 'new'
              ? await store.claimEvent(this.#id, event, {
                  owner: this.#o.owner,
                  now,
                  claimTimeoutMs: settings.claimTimeoutMs,
                  ttlSeconds: settings.recordTtlSeconds,
                })
              : await store.recordSeen(this.#id, event, fate, ttl);
          this.#recorded.set(event.hash, now);
          this.#step('claimed', event.hash);
          if (outcome === 'exists') {
            metrics.count(METRIC.duplicatesSkipped);
            return;
          }
          if (fate === 'new') {
            metrics.count(METRIC.eventsNew);
            claimed.push(event);
            // Due again when the claim times out, should this run fail before marking it.
            this.#pending.set(event.hash, { dueAt: now + settings.claimTimeoutMs, attempts: 1 });
            return;
          }
          metrics.count(fate === 'baseline' ? METRIC.baselineRecorded : METRIC.eventsSuppressed);
          observer?.({
            type: 'skipped',
            source: this.#id,
            hash: event.hash,
            code: event.code,
            table: event.tableName,
            reason: fate,
          });
        }),
      ),
    );
    // Every event of the answer has a record now: the cursor may move past them.
    this.#state = {
      ...this.#state!,
      ...advanceCursor(state, answer.events, (hash) => this.#recorded.get(hash) ?? now),
      cooldowns: decided.cooldowns,
      ...(firstRun ? { baselineAt: now } : {}),
    };
    if (firstRun) await this.#checkpoint();
    const order = new Map(answer.events.map((e, i) => [e.hash, i]));
    claimed.sort((a, b) => order.get(a.hash)! - order.get(b.hash)!);
    const results = await Promise.all(
      claimed.map((event) => limit(() => this.#deliver(event, { firstSeenAt: now, attempts: 1, doneChannels: [] }))),
    );
    return { claimed: claimed.length, delivered: results.filter((outcome) => outcome === 'delivered').length };
  }

  /** Save the state now, keeping the lease (after the first run's backlog is recorded). */
  async #checkpoint(): Promise<void> {
    const saved = await this.#o.store.saveCheckpoint(this.#id, this.#o.owner, this.#state!, { release: false });
    if (!saved) throw new Error('the lease was lost while saving the state');
  }

  async #deliver(
    event: QrEvent,
    record: { firstSeenAt: number; attempts: number; doneChannels: readonly ('email' | 'sns')[] },
  ): Promise<DeliveryVerdict['outcome']> {
    const { store, clock, log, metrics, observer, settings } = this.#o;
    let verdict: DeliveryVerdict;
    try {
      const result: DeliveryResult = await this.#o.deliverer.deliver({
        sourceId: this.#id,
        sourceName: this.#o.source.name,
        event,
        firstSeenAt: record.firstSeenAt,
        skip: record.doneChannels,
      });
      verdict = judgeDelivery(result, { attempts: record.attempts, alreadyDone: record.doneChannels }, settings);
      const latencyMs = clock.now() - record.firstSeenAt;
      for (const channel of result.channels) {
        if (!channel.ok) continue;
        observer?.({
          type: 'delivered',
          source: this.#id,
          hash: event.hash,
          code: event.code,
          table: event.tableName,
          channel: channel.channel,
          recipients: channel.recipients,
          latencyMs,
          attempt: record.attempts,
        });
      }
    } catch (error) {
      if (this.#halted) throw this.#halted;
      const giveUp = record.attempts >= settings.maxAttempts;
      verdict = {
        outcome: giveUp ? 'failed' : 'retry',
        doneChannels: record.doneChannels,
        errorKind: 'transient',
        error: describeError(error),
      };
    }
    this.#step('delivered', event.hash);
    const now = clock.now();
    const about = {
      source: this.#id,
      hash: event.hash,
      code: event.code,
      table: event.tableName,
      attempt: record.attempts,
    };
    if (verdict.outcome === 'delivered') {
      const marked = await store.markDelivered(this.#id, event.hash, this.#o.owner, {
        now,
        channels: verdict.doneChannels,
      });
      metrics.count(METRIC.delivered);
      metrics.milliseconds(METRIC.deliveryLatency, now - record.firstSeenAt);
      this.#pending.delete(event.hash);
      if (!marked)
        log.warn('delivered, but another poller had taken the claim over: this event may be sent twice', about);
    } else if (verdict.outcome === 'retry') {
      const dueAt = now + retryDelayMs(record.attempts);
      await store.markRetry(this.#id, event.hash, this.#o.owner, {
        dueAt,
        errorKind: verdict.errorKind,
        error: verdict.error,
        doneChannels: verdict.doneChannels,
      });
      this.#pending.set(event.hash, { dueAt, attempts: record.attempts });
      metrics.count(METRIC.deliveryRetries);
      log.warn('delivery failed; it will be retried', {
        ...about,
        kind: verdict.errorKind,
        error: verdict.error,
        retryAt: dueAt,
      });
      observer?.({ type: 'retry', ...about, kind: verdict.errorKind, message: verdict.error });
    } else {
      await store.markFailed(this.#id, event.hash, this.#o.owner, {
        now,
        errorKind: verdict.errorKind,
        error: verdict.error,
        doneChannels: verdict.doneChannels,
      });
      this.#pending.delete(event.hash);
      metrics.count(METRIC.deliveryFailed);
      log.error('delivery failed for good', { ...about, kind: verdict.errorKind, error: verdict.error });
      observer?.({ type: 'failed', ...about, kind: verdict.errorKind, message: verdict.error });
      await this.#alertOnce(
        `failed:${verdict.errorKind}`,
        `qrmenu-alerts: an alert from ${this.#o.source.name} could not be delivered`,
        `Table ${event.tableName}, event ${event.code} (${event.hash}), after ${record.attempts} attempt(s): ${verdict.error}`,
      );
    }
    this.#step('marked', event.hash);
    return verdict.outcome;
  }

  /** Take over and deliver the records whose retry (or crashed claim) is due. */
  async #retryDue(): Promise<number> {
    const { store, clock, settings, log } = this.#o;
    const now = clock.now();
    const due = [...this.#pending].filter(([, p]) => p.dueAt <= now);
    if (due.length === 0) return 0;
    const limit = pLimit(settings.concurrency);
    const outcomes = await Promise.all(
      due.map(([hash, pending]) =>
        limit(async () => {
          const record = await store.takeOver(this.#id, hash, this.#o.owner, {
            now,
            claimTimeoutMs: settings.claimTimeoutMs,
            expectAttempts: pending.attempts,
          });
          if (!record) {
            this.#pending.delete(hash); // done, or taken by another poller
            return undefined;
          }
          this.#pending.set(hash, { dueAt: now + settings.claimTimeoutMs, attempts: record.attempts });
          if (record.attempts > settings.maxAttempts) {
            const error = `gave up after ${pending.attempts} attempts (the last one did not finish: the poller stopped during it)`;
            await store.markFailed(this.#id, hash, this.#o.owner, {
              now,
              errorKind: 'transient',
              error,
              doneChannels: record.doneChannels,
            });
            this.#pending.delete(hash);
            this.#o.metrics.count(METRIC.deliveryFailed);
            log.error('delivery failed for good', { source: this.#id, hash, error });
            return 'failed';
          }
          return this.#deliver(record.event, record);
        }),
      ),
    );
    return outcomes.filter((o) => o === 'delivered').length;
  }

  // --- helpers -------------------------------------------------------------------------------

  #step(step: Step, hash?: string): void {
    if (!this.#o.probe) return;
    try {
      this.#o.probe(step, { sourceId: this.#id, ...(hash ? { hash } : {}) });
    } catch (error) {
      this.#halted = error;
      throw error;
    }
  }

  /** Run a state operation outside a tick: log and count its failure instead of throwing. */
  async #guard<T>(operation: () => Promise<T>): Promise<T | undefined> {
    try {
      return await operation();
    } catch (error) {
      if (this.#halted) throw this.#halted;
      this.#o.log.error('a DynamoDB operation failed', { source: this.#id, error: describeError(error) });
      return undefined;
    }
  }

  async #alertOnce(key: string, subject: string, message: string): Promise<void> {
    if (!this.#o.ops || this.#alerted.has(key)) return;
    this.#alerted.add(key);
    try {
      await this.#o.ops.alert(subject, message);
    } catch (error) {
      this.#o.log.error('could not alert the operator', { source: this.#id, error: describeError(error) });
    }
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
