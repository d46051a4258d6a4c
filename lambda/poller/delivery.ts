/**
 * The delivery phase of a tick: write the outcomes still unwritten, then deliver the new claims
 * (in answer order) and the records whose retry is due, each only if it may still start (see
 * {@link SendWindow}: before the tick's deadline, with its whole budget before the lease's end).
 *
 * A send is never repeated because its outcome could not be written: the outcome is kept in
 * memory (a `mark` job) and only the write is retried. Every job of a tick is awaited before the
 * tick returns. What a send's answer means (delivered / retry later / give up) is decided by
 * `judgeDelivery` (decisions.ts), once; its log lines, metrics and feed entries are emitted then.
 */
import pLimit from 'p-limit';
import { type DeliveryResult, isTelegramChannel } from '../domain/delivery';
import { METRIC } from '../domain/metrics';
import type { SentFacts } from '../domain/ports';
import { attemptsExhausted, type ClaimedRecord, EVENT_STATUS, messageKey } from '../domain/record';
import { type DeliveryVerdict, judgeDelivery, sendDeadline, type SendWindow } from './decisions';
import { describeError, type Job, type SourceContext, STORE_WRITE_MIN_MS } from './source-context';

export interface DeliveryReport {
  /** Events whose every channel is now done. */
  readonly delivered: number;
  /** Jobs that did not fit in the tick (left, durably claimed or pending, for the next one). */
  readonly left: number;
}

/** Write the outcomes that are still unwritten (a failed write earlier). */
export async function settleMarks(ctx: SourceContext, until: number): Promise<void> {
  const now = ctx.o.clock.now();
  const marks = [...ctx.jobs].filter(
    (entry): entry is [string, Extract<Job, { step: 'mark' }>] => entry[1].step === 'mark' && entry[1].nextTryAt <= now,
  );
  const limit = pLimit(ctx.settings.concurrency);
  await Promise.allSettled(
    marks.map(([, job]) =>
      limit(async () => {
        if (ctx.timeLeft(until) >= STORE_WRITE_MIN_MS) await writeOutcome(ctx, job);
      }),
    ),
  );
}

/** Deliver new claims, then due retries and take-overs, while they may still start. */
export async function deliverDue(ctx: SourceContext, window: SendWindow): Promise<DeliveryReport> {
  const now = ctx.o.clock.now();
  const sends = [...ctx.jobs].filter(([, job]) => job.step === 'send');
  const due = [...ctx.jobs]
    .filter(
      (entry): entry is [string, Extract<Job, { step: 'due' }>] => entry[1].step === 'due' && entry[1].dueAt <= now,
    )
    .sort(([, a], [, b]) => a.dueAt - b.dueAt);
  const limit = pLimit(ctx.settings.concurrency);
  let delivered = 0;
  let left = 0;
  await Promise.allSettled(
    [...sends, ...due].map(([recordId, job]) =>
      limit(async () => {
        const outcome = await runJob(ctx, recordId, job, window);
        if (outcome === 'delivered') delivered += 1;
        if (outcome === 'left') left += 1;
      }),
    ),
  );
  return { delivered, left };
}

/**
 * At the end of a run: claims of this run that no send was started for (too little time was left
 * in its last ticks) are released — due now — so that the next run sends them at its first tick
 * instead of after the claim timeout. One conditional write each, only by their claimant with
 * their attempts unchanged; one that fails leaves its claim to time out, as before.
 */
export async function releaseUnsent(ctx: SourceContext, until: number): Promise<number> {
  const limit = pLimit(ctx.settings.concurrency);
  let released = 0;
  await Promise.allSettled(
    [...ctx.jobs].map(([recordId, job]) =>
      limit(async () => {
        if (job.step !== 'send' || ctx.o.clock.now() >= until) return;
        try {
          const now = ctx.o.clock.now();
          if (await ctx.o.store.release(ctx.id, recordId, ctx.owner, { now, expectAttempts: job.record.attempts }))
            released += 1;
        } catch (error) {
          ctx.stateError(error, 'releasing a claim not sent in this run (it is taken over after the claim timeout)', {
            recordId,
          });
        }
      }),
    ),
  );
  return released;
}

type JobOutcome = DeliveryVerdict['outcome'] | 'left' | 'gone';

async function runJob(ctx: SourceContext, recordId: string, job: Job, window: SendWindow): Promise<JobOutcome> {
  const deadline = () => sendDeadline(window, ctx.o.clock.now(), ctx.settings.sendBudgetMs);
  if (deadline() === undefined) return 'left';
  let record: ClaimedRecord;
  if (job.step === 'send') record = job.record;
  else if (job.step === 'due') {
    const taken = await takeOver(ctx, recordId, job);
    if (taken === 'left' || taken === 'gone') return taken;
    record = taken;
    const now = ctx.o.clock.now();
    if (attemptsExhausted({ attemptsMade: record.attempts - 1, firstSeenAt: record.phaseAt }, now, ctx.settings)) {
      const error = `gave up after ${record.attempts - 1} attempts (the last one did not finish: its poller stopped)`;
      return conclude(ctx, record, {
        outcome: 'failed',
        doneChannels: record.doneChannels,
        errorKind: 'transient',
        error,
        ambiguous: [],
      });
    }
  } else return 'left';
  const until = deadline();
  if (until === undefined) {
    ctx.jobs.set(recordId, { step: 'send', record }); // ours now: sent by the next tick
    return 'left';
  }
  const result = await send(ctx, record, until);
  const verdict = judgeDelivery(result, { ...record, firstSeenAt: record.phaseAt }, ctx.o.clock.now(), ctx.settings);
  report(ctx, record, result, verdict);
  return conclude(ctx, record, verdict, sentFacts(result, record.phase));
}

/** What went out in this attempt, as the record keeps it: message ids, and (phase 0) channels sent now. */
function sentFacts(result: DeliveryResult, phase: number): SentFacts {
  const ok = result.channels.flatMap((c) => (c.ok ? [c] : []));
  const messages = Object.fromEntries(
    ok.flatMap((c) => (c.messageIds[0] ? [[messageKey(c.channel, phase), c.messageIds[0]]] : [])),
  );
  return {
    ...(Object.keys(messages).length > 0 ? { messages } : {}),
    ...(phase === 0 && ok.length > 0 ? { sentChannels: ok.map((c) => c.channel) } : {}),
  };
}

async function takeOver(
  ctx: SourceContext,
  recordId: string,
  job: Extract<Job, { step: 'due' }>,
): Promise<ClaimedRecord | 'left' | 'gone'> {
  const now = ctx.o.clock.now();
  const take = { now, claimTimeoutMs: ctx.settings.claimTimeoutMs };
  try {
    const record = job.escalate
      ? await ctx.o.store.escalate(ctx.id, recordId, ctx.owner, { ...take, expectPhase: job.phase })
      : await ctx.o.store.takeOver(ctx.id, recordId, ctx.owner, { ...take, expectAttempts: job.attempts });
    if (record === undefined) {
      ctx.jobs.delete(recordId); // done, acknowledged, or taken by another poller
      return 'gone';
    }
    return record;
  } catch (error) {
    ctx.stateError(error, job.escalate ? 'escalating an unanswered call' : 'taking over a due delivery', { recordId });
    return 'left';
  }
}

async function send(ctx: SourceContext, record: ClaimedRecord, until: number): Promise<DeliveryResult> {
  try {
    return await ctx.o.deliverer.deliver({
      sourceId: ctx.id,
      sourceName: ctx.name,
      event: record.event,
      firstSeenAt: record.firstSeenAt,
      skip: record.doneChannels,
      phase: record.phase,
      deadline: until,
      recordId: record.recordId,
    });
  } catch (error) {
    // The deliverer promises never to throw; if it does, nobody knows what went out.
    ctx.o.log.error('the deliverer threw instead of answering per channel', {
      source: ctx.id,
      error: describeError(error),
    });
    return {
      channels: [{ channel: 'sns', ok: false, kind: 'transient', message: describeError(error), ambiguous: true }],
    };
  }
}

/** Log lines, metrics and feed entries of one attempt, emitted once, as the attempt is judged. */
function report(ctx: SourceContext, record: ClaimedRecord, result: DeliveryResult, verdict: DeliveryVerdict): void {
  const { log, metrics, observer, clock } = ctx.o;
  const { event } = record;
  const about = {
    source: ctx.id,
    hash: event.hash,
    code: event.code,
    table: event.tableName,
    attempt: record.attempts,
  };
  const latencyMs = clock.now() - record.firstSeenAt;
  for (const channel of result.channels) {
    if (!channel.ok) {
      if (isTelegramChannel(channel.channel) && channel.deferred !== true) metrics.count(METRIC.telegramFailures);
      continue;
    }
    if (channel.notice)
      void ctx.alertOnce(
        `notice:${channel.channel}`,
        `qrmenu-alerts: ${ctx.name}: a setting to change`,
        channel.notice,
      );
    observer?.({
      type: 'delivered',
      ...about,
      channel: isTelegramChannel(channel.channel) ? 'telegram' : channel.channel,
      recipients: channel.recipients,
      latencyMs,
    });
    // Told once per address when the service first refuses it, not for every event that skips it.
    for (const refused of (channel.refused ?? []).filter((r) => r.fresh)) {
      metrics.count(METRIC.refusedRecipients);
      void ctx.alertOnce(
        `refused:${refused.address}`,
        `qrmenu-alerts: ${refused.address} does not receive the alerts`,
        `The ${channel.channel} alerts of ${ctx.name} reach the other recipients, but ${refused.address} was refused: ${refused.reason}`,
      );
    }
  }
  if (verdict.ambiguous.length > 0) {
    metrics.count(METRIC.ambiguousSends, verdict.ambiguous.length);
    log.warn('no answer in time from a send that may have gone out: if it is retried, it may be sent twice', {
      ...about,
      channels: verdict.ambiguous,
      mayBeSentTwice: true,
    });
  }
  if (verdict.outcome === 'delivered') {
    metrics.count(METRIC.delivered);
    metrics.milliseconds(METRIC.deliveryLatency, latencyMs);
  } else if (verdict.outcome === 'retry') {
    metrics.count(METRIC.deliveryRetries);
    log.warn('delivery failed; it will be retried', {
      ...about,
      kind: verdict.errorKind,
      error: verdict.error,
      retryAt: verdict.dueAt,
    });
    observer?.({ type: 'retry', ...about, kind: verdict.errorKind, message: verdict.error });
  }
}

/** After an attempt is judged: remember the outcome, write it, and act on a final failure. */
async function conclude(
  ctx: SourceContext,
  record: ClaimedRecord,
  verdict: DeliveryVerdict,
  sent: SentFacts = {},
): Promise<JobOutcome> {
  const now = ctx.o.clock.now();
  const escalateAt = verdict.outcome === 'delivered' ? nextEscalation(ctx, record, now) : undefined;
  const job: Extract<Job, { step: 'mark' }> = {
    step: 'mark',
    record,
    verdict,
    sent,
    ...(escalateAt !== undefined ? { escalateAt } : {}),
    nextTryAt: now,
    tries: 0,
  };
  if (verdict.outcome === 'delivered' && record.phase > 0) escalated(ctx, record, now, escalateAt === undefined);
  ctx.jobs.set(record.recordId, job);
  const { event } = record;
  const known = ctx.known.get(event.hash);
  const status =
    verdict.outcome === 'delivered'
      ? EVENT_STATUS.delivered
      : verdict.outcome === 'failed'
        ? EVENT_STATUS.failed
        : EVENT_STATUS.retry;
  if (known?.recordId === record.recordId) ctx.known.set(event.hash, { ...known, status });
  if (verdict.outcome !== 'delivered' && verdict.outcome === 'failed') await gaveUp(ctx, record, verdict);
  if (verdict.outcome !== 'retry') {
    const { [event.hash]: _held, ...held } = ctx.state.held;
    ctx.state = { ...ctx.state, held };
  }
  await writeOutcome(ctx, job);
  return verdict.outcome;
}

/** Write the judged outcome; on a failure keep it in memory and try again later — never resend. */
async function writeOutcome(ctx: SourceContext, job: Extract<Job, { step: 'mark' }>): Promise<void> {
  const { store, clock, log } = ctx.o;
  const { record, verdict, sent } = job;
  const now = clock.now();
  let written: boolean;
  try {
    written =
      verdict.outcome === 'delivered'
        ? await store.markDelivered(ctx.id, record.recordId, ctx.owner, {
            now,
            channels: verdict.doneChannels,
            phase: record.phase,
            ...sent,
            ...(job.escalateAt !== undefined ? { escalateAt: job.escalateAt } : {}),
          })
        : verdict.outcome === 'retry'
          ? await store.markRetry(ctx.id, record.recordId, ctx.owner, {
              now,
              ...sent,
              dueAt: verdict.dueAt ?? now,
              errorKind: verdict.errorKind,
              error: verdict.error,
              doneChannels: verdict.doneChannels,
            })
          : await store.markFailed(ctx.id, record.recordId, ctx.owner, {
              now,
              errorKind: verdict.errorKind,
              error: verdict.error,
              doneChannels: verdict.doneChannels,
            });
  } catch (error) {
    const tries = job.tries + 1;
    ctx.jobs.set(record.recordId, { ...job, tries, nextTryAt: now + Math.min(1_000 * 2 ** tries, 30_000) });
    ctx.stateError(error, "writing a delivery's outcome (it is written later; the alert is not sent again)", {
      hash: record.event.hash,
      outcome: verdict.outcome,
    });
    return;
  }
  if (!written) {
    log.warn('another poller had taken the claim over before the outcome was written: this event may be sent twice', {
      source: ctx.id,
      hash: record.event.hash,
      mayBeSentTwice: true,
    });
  }
  if (written && verdict.outcome === 'retry') {
    ctx.jobs.set(record.recordId, {
      step: 'due',
      dueAt: verdict.dueAt ?? now,
      attempts: record.attempts,
      phase: record.phase,
      escalate: false,
    });
  } else if (written && job.escalateAt !== undefined) {
    ctx.jobs.set(record.recordId, {
      step: 'due',
      dueAt: job.escalateAt,
      attempts: 1,
      phase: record.phase,
      escalate: true,
    });
  } else ctx.jobs.delete(record.recordId);
}

/** When the next escalation step of an attendance call is due, if it has one after this phase. */
function nextEscalation(ctx: SourceContext, record: ClaimedRecord, now: number): number | undefined {
  if (!record.needsAck) return undefined;
  const at = ctx.attendance(record.event, record.firstSeenAt).escalateAt[record.phase];
  return at === undefined ? undefined : Math.max(at, now);
}

/** An escalation step went out: the feed, metrics, and the last step's unanswered count. */
function escalated(ctx: SourceContext, record: ClaimedRecord, now: number, last: boolean): void {
  const { log, metrics, observer } = ctx.o;
  const { event } = record;
  const waitedMs = now - record.firstSeenAt;
  metrics.count(METRIC.escalations);
  if (last) metrics.count(METRIC.unansweredCalls);
  log.warn('an attendance call nobody acknowledged was escalated', {
    source: ctx.id,
    hash: event.hash,
    table: event.tableName,
    step: record.phase,
    waitedMs,
  });
  observer?.({
    type: 'escalated',
    source: ctx.id,
    hash: event.hash,
    table: event.tableName,
    step: record.phase,
    waitedMs,
  });
}

/** A final failure: tell the operator, end its cooldown, and send the repeats it held back. */
async function gaveUp(
  ctx: SourceContext,
  record: ClaimedRecord,
  verdict: Exclude<DeliveryVerdict, { outcome: 'delivered' }>,
): Promise<void> {
  const { log, metrics, observer, store, clock } = ctx.o;
  const { event } = record;
  const about = {
    source: ctx.id,
    hash: event.hash,
    code: event.code,
    table: event.tableName,
    attempt: record.attempts,
  };
  metrics.count(METRIC.deliveryFailed);
  log.error('delivery failed for good', { ...about, kind: verdict.errorKind, error: verdict.error });
  observer?.({ type: 'failed', ...about, kind: verdict.errorKind, message: verdict.error });
  await ctx.alertOnce(
    `failed:${verdict.errorKind}`,
    `qrmenu-alerts: an alert from ${ctx.name} could not be delivered`,
    `Table ${event.tableName.slice(0, 100)}, event ${event.code.slice(0, 100)} (${event.hash.slice(0, 64)}), ` +
      `after ${record.attempts} attempt(s): ${verdict.error}`,
  );
  const cooldowns = Object.fromEntries(Object.entries(ctx.state.cooldowns).filter(([, c]) => c.hash !== event.hash));
  ctx.state = { ...ctx.state, cooldowns };
  for (const recordId of ctx.state.held[event.hash] ?? []) {
    try {
      const revived = await store.revive(ctx.id, recordId, ctx.owner, {
        now: clock.now(),
        claimTimeoutMs: ctx.settings.claimTimeoutMs,
      });
      if (revived) {
        log.info('a repeat held back behind this failed call is sent after all', { ...about, repeat: recordId });
        ctx.jobs.set(recordId, { step: 'send', record: revived });
      }
    } catch (error) {
      ctx.stateError(error, 'sending a repeat held behind a failed call', { recordId });
    }
  }
}
