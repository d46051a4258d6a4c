/**
 * The `short-retention` kind: the server keeps events 60 s while the config says 300 s, and the
 * poller is absent for 1–4 minutes at times (scheduled invocations that never ran). Guests call
 * at any instant, the poller there or not. After three minutes present (enough to learn the real
 * retention from the answers), each absence starts with chance 0.3 a minute; at least one.
 * An event the poller never saw is "dropped by the server" only when it expired while the poller
 * was away and the first invocation back reported a PossibleGap (metric and ops alert) for that
 * absence; any other undelivered event is lost.
 */
import { METRIC } from '../../../../lambda/domain/metrics';
import { StateStore } from '../../../../lambda/state/store';
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
import { INTERVAL_MS, SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { explainer, judgeCopies, recordStatuses, type RunOutcome, sortUndelivered } from '../lib/verdict';

const SERVER_RETENTION_MS = 60_000;
const MINUTES = 16;
const WARM_UP = 4;
const DRAINING = 2;

export async function runShortRetentionKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 43 + 29);
  // Which minutes the poller is away.
  const absent = new Set<number>();
  for (let m = WARM_UP; m < MINUTES - DRAINING; m += 1) {
    if (absent.has(m - 1) || random() >= 0.3) continue;
    const length = 1 + Math.floor(random() * 4);
    for (let k = 0; k < length && m + k < MINUTES - DRAINING; k += 1) absent.add(m + k);
    m += length; // at least one minute present after an absence
  }
  if (absent.size === 0) for (const m of [10, 11]) absent.add(m);
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({
    token: CHAOS_TOKEN,
    tls: false,
    now: clock.now,
    seed,
    retentionSeconds: SERVER_RETENTION_MS / 1000,
  });
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const lives = new Lives();
    const deliverer = new RecordingDeliverer();
    const events: { id: string; hash: string; at: number }[] = [];
    // Guests call at any instant of minutes 1 … the last but the draining ones, the poller there or not.
    for (let slot = SCHEDULE_MS / INTERVAL_MS; slot < ((MINUTES - DRAINING) * SCHEDULE_MS) / INTERVAL_MS; slot += 1) {
      if (random() >= 0.4) continue;
      const at = CLOCK_START + slot * INTERVAL_MS + Math.floor(random() * INTERVAL_MS);
      timeline.at(at, () => {
        const e = sim.inject();
        events.push({ id: e.hash, hash: e.hash, at: clock.now() });
      });
    }
    /** The invocations that ran: when, and whether they reported a possible gap. */
    const ran: { minute: number; start: number; gap: boolean; alerted: boolean }[] = [];
    for (let minute = 0; minute < MINUTES; minute += 1) {
      const start = CLOCK_START + minute * SCHEDULE_MS;
      if (absent.has(minute)) {
        timeline.advanceTo(start + SCHEDULE_MS - 1);
        continue;
      }
      const metrics = new RecordingMetrics();
      const ops = new RecordingOps();
      const process = lives.spawn();
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${minute}`,
        deliverer,
        log,
        metrics,
        ops,
      });
      await invoke({ poller, timeline, log, start });
      lives.reap(process);
      ran.push({
        minute,
        start,
        gap: metrics.get(METRIC.possibleGap) > 0,
        alerted: ops.alerts.some((a) => a.subject.includes('possible missed events')),
      });
    }

    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => deliverer.count(id, channel as 'sns' | 'email'),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const served = sim.served.filter((r) => r.status === 200);
    const problems: string[] = [];
    let unreported = 0;
    const sorted = sortUndelivered(judged.undelivered, (e) => {
      const at = events.find((x) => x.id === e.id)!.at;
      if (served.some((r) => r.eventHashes.includes(e.hash)))
        return { lost: `seen by the poller but never delivered (record ${statuses.get(e.hash) ?? 'absent'})` };
      const askedMeanwhile = sim.served.some((r) => r.at >= at && r.at <= at + SERVER_RETENTION_MS);
      if (askedMeanwhile)
        return { lost: `expired unseen at +${secs(at + SERVER_RETENTION_MS)} s although the poller asked meanwhile` };
      const back = ran.find((r) => r.start > at);
      const away = Math.round((back ? back.start - at : 0) / 1000);
      if (back?.gap) {
        if (!back.alerted)
          problems.push(`the invocation of minute ${back.minute} counted a PossibleGap but did not alert`);
        return 'dropped by server';
      }
      unreported += 1;
      return {
        lost: `queued at +${secs(at)} s while the poller was away, expired unseen, and the invocation back at minute ${back?.minute ?? 'never'} (${away} s later) reported no PossibleGap`,
      };
    });
    // What the poller learnt: an upper bound of the retention (queue-knowledge.ts) — never below the real one.
    const learning = log.recording.lines.filter((l) => l.message.startsWith('the retention learnt'));
    const learnt = learning.at(-1)?.attributes?.effectiveMs;
    const lowest = Math.min(...learning.map((l) => Number(l.attributes?.effectiveMs)));
    if (lowest < SERVER_RETENTION_MS)
      problems.push(
        `the poller learnt a retention of ${Math.round(lowest / 1000)} s, below the server's ${SERVER_RETENTION_MS / 1000} s`,
      );
    const gaps = ran.filter((r) => r.gap).length;
    return {
      kind: 'short-retention',
      variant: `absent ${absent.size} min`,
      seed,
      events: events.length,
      ...judged,
      ...sorted,
      problems,
      unexpected: [],
      crashes: lives.crashes,
      faults: {},
      figures: { 'minutes absent': absent.size, 'PossibleGap reports': gaps, 'expired unreported': unreported },
      details: `absent minutes ${[...absent].sort((a, b) => a - b).join(',')}; ${gaps} PossibleGap reports; retention learnt ${typeof learnt === 'number' ? `${Math.round(learnt / 1000)} s at the end, ${Math.round(lowest / 1000)} s at the lowest` : 'never'}`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}

function secs(at: number): number {
  return Math.round((at - CLOCK_START) / 1000);
}
