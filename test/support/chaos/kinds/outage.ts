/**
 * The `outage` kind: a channel outage of 2–15 minutes (SES and SNS, SES alone, or SNS alone;
 * transient or throttled) inside a run of at least twenty one-minute invocations with the
 * product's retry defaults (`delivery.maxAttempts` 20, `delivery.retryForSeconds` 600). Calls
 * keep coming during the outage. Judged per call:
 *   - raised so that its retry window (600 s from first seen) outlasts the outage by more than
 *     a retry step (90 s): delivered on both channels, each once, within 90 s of the outage's end;
 *   - past its window: given up (record `failed`, DeliveryFailed counted, the operator told by
 *     the invocation that gave up) — counted apart as "given up", not as lost;
 *   - in between (the outage ends in the window's last 90 s): either.
 * The channel that worked is never sent again.
 */
import { METRIC } from '../../../../lambda/domain/metrics';
import { StateStore } from '../../../../lambda/state/store';
import type { Channel, DeliveryErrorKind } from '../../../../lambda/domain/delivery';
import { createSimulator } from '../../../../local/simulator';
import {
  ManualClock,
  RecordingDeliverer,
  RecordingMetrics,
  RecordingOps,
  freshTable,
  seededRandom,
} from '../../harness';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller } from '../lib/lives';
import { SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { explainer, judgeCopies, recordStatuses, type RunOutcome, sortUndelivered } from '../lib/verdict';

const RETRY_FOR_MS = 600_000;
/** A retry step at most (the capped backoff, 60 s, plus a tick and an invocation boundary). */
const STEP_MS = 90_000;
const MIN_MINUTES = 20;

export async function runOutageKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 37 + 19);
  const which = (['both', 'email', 'sns'] as const)[Math.floor(random() * 3)]!;
  const lengthMs = 120_000 + Math.floor(random() * 780_000);
  const from = CLOCK_START + 90_000 + Math.floor(random() * 150_000);
  const until = from + lengthMs;
  const kinds: Record<Channel, DeliveryErrorKind> = {
    email: random() < 0.5 ? 'transient' : 'throttled',
    sns: random() < 0.5 ? 'transient' : 'throttled',
  };
  const failing: Partial<Record<Channel, DeliveryErrorKind>> =
    which === 'both' ? kinds : which === 'email' ? { email: kinds.email } : { sns: kinds.sns };
  const minutes = Math.max(MIN_MINUTES, Math.ceil((until - CLOCK_START) / SCHEDULE_MS) + 2);
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const metrics = new RecordingMetrics();
    const lives = new Lives();
    const deliverer = new RecordingDeliverer();
    deliverer.now = clock.now;
    // The outage is decided at each send, to the millisecond.
    deliverer.beforeDeliver = () => {
      const now = clock.now();
      deliverer.failing = now >= from && now < until ? failing : {};
    };
    const events: { id: string; hash: string; at: number }[] = [];
    /** Per invocation: events it gave up on (feed) and its alerts to the operator. */
    const invocations: { failed: string[]; ops: RecordingOps }[] = [];
    for (let invocation = 0; invocation < minutes; invocation += 1) {
      const raising = invocation > 0 && invocation < minutes - 2;
      const process = lives.spawn();
      const record = { failed: [] as string[], ops: new RecordingOps() };
      invocations.push(record);
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer,
        log,
        metrics,
        ops: record.ops,
        settings: { maxAttempts: 20, retryForMs: RETRY_FOR_MS },
        observer: (entry) => {
          if (entry.type === 'failed') record.failed.push(entry.hash);
        },
      });
      await invoke({
        poller,
        timeline,
        log,
        start: CLOCK_START + invocation * SCHEDULE_MS,
        beforeTick: () => {
          if (raising && random() < 0.35) events.push({ ...idOf(sim.inject().hash), at: clock.now() });
        },
      });
      lives.reap(process);
    }

    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => deliverer.count(id, channel as Channel),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const problems: string[] = [];
    const doneAt = (id: string) => {
      const at = (['email', 'sns'] as const).map(
        (c) => deliverer.deliveries.find((d) => d.hash === id && d.channels.includes(c))?.at,
      );
      return at.every((t) => t !== undefined) ? Math.max(...(at as number[])) : undefined;
    };
    for (const e of events) {
      const done = doneAt(e.id);
      if (done === undefined || e.at >= until) continue;
      const wait = done - Math.max(until, e.at);
      if (wait > STEP_MS) problems.push(`${e.id} went out ${Math.round(wait / 1000)} s after the outage ended`);
    }
    const sorted = sortUndelivered(judged.undelivered, (e) => {
      const at = events.find((x) => x.id === e.id)!.at;
      if (statuses.get(e.hash) !== 'failed')
        return { lost: `never delivered and not given up (record ${statuses.get(e.hash) ?? 'absent'})` };
      const spare = at + RETRY_FOR_MS - until;
      if (spare > STEP_MS)
        return { lost: `given up although the outage ended ${Math.round(spare / 1000)} s before its retry window did` };
      return 'given up';
    });
    for (const [i, inv] of invocations.entries()) {
      if (inv.failed.length > 0 && !inv.ops.alerts.some((a) => a.subject.includes('could not be delivered')))
        problems.push(`invocation ${i} gave up on ${inv.failed.length} calls without telling the operator`);
    }
    if (metrics.get(METRIC.deliveryFailed) < sorted.excused['given up'])
      problems.push(
        `DeliveryFailed counted ${metrics.get(METRIC.deliveryFailed)} for ${sorted.excused['given up']} calls given up`,
      );
    return {
      kind: 'outage',
      variant: `${which === 'both' ? 'SES and SNS' : which === 'email' ? 'SES' : 'SNS'} down ${Math.round(lengthMs / 60_000)} min`,
      seed,
      events: events.length,
      ...judged,
      ...sorted,
      problems,
      unexpected: [],
      crashes: lives.crashes,
      faults: {},
      figures: {
        'outage minutes': Math.round(lengthMs / 60_000),
        'DeliveryFailed alarms': metrics.get(METRIC.deliveryFailed),
        'delivery retries': metrics.get(METRIC.deliveryRetries),
      },
      details: `${which} ${Object.values(failing).join('/')} from +${Math.round((from - CLOCK_START) / 1000)} s to +${Math.round((until - CLOCK_START) / 1000)} s, ${minutes} invocations`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}

function idOf(hash: string): { id: string; hash: string } {
  return { id: hash, hash };
}
