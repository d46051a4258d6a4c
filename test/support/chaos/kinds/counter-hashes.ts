/**
 * The `counter-hashes` kind: a server that numbers its events 0x00000001, 0x00000002, … and
 * starts again from 1 at each restart that loses its queue (the simulator's `hashes: 'counter'`),
 * so hashes are reused for new events. Restarts (forgetful and not) and unknown-hash modes change
 * between ticks. Every event carries an id of its own (in its `order`), so copies are counted
 * per event, not per hash: a new event under a reused hash must go out once, a repeat never.
 *
 * One case no client can decide (lambda/poller/queue-knowledge.ts): a reissued hash whose new
 * event has the same code and table, within the retention, with no other sign of the reset — it
 * is taken for a repeat. An undelivered event is counted as that case only if it matches the
 * definition exactly, checked against what the server really answered (`sim.served`): an earlier
 * event the poller saw under the same hash, code and table; first seen again within the
 * retention (+ one interval) or still in the last complete answer; and no sign in any answer in
 * between — the hash missing from a complete answer, events vanishing out of order, or a hash of
 * the previous complete answer back with another code or table, where no answer showed the hash
 * after that previous complete answer (a reset is known only to follow it). Anything else is a loss. Tables
 * 1–8, two codes, and quiet minutes (a short queue, the one table left calling again) make such
 * twins rare but possible.
 */
import type { QrEvent } from '../../../../lambda/domain/event';
import { StateStore } from '../../../../lambda/state/store';
import { createSimulator, type ServedRecord, type UnknownHashMode } from '../../../../local/simulator';
import { ManualClock, RecordingDeliverer, freshTable, seededRandom } from '../../harness';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller } from '../lib/lives';
import { INTERVAL_MS, SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { type Excuse, explainer, judgeCopies, type RunOutcome, sortUndelivered } from '../lib/verdict';

const CHAOTIC_INVOCATIONS = 10;
const DRAINING_INVOCATIONS = 2;
const RETENTION_MS = 300_000;
const MODES: readonly UnknownHashMode[] = ['all', 'empty', 'error'];

interface Injected {
  readonly id: string;
  readonly hash: string;
  readonly code: string;
  readonly table: string;
  readonly at: number;
  /** When a forgetful restart emptied the queue while it was in it. */
  removedAt?: number;
}

export async function runCounterHashesKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 41 + 23);
  const mode = MODES[Math.floor(random() * MODES.length)]!;
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({
    token: CHAOS_TOKEN,
    tls: false,
    now: clock.now,
    seed,
    hashes: 'counter',
    unknownHash: mode,
    retentionSeconds: RETENTION_MS / 1000,
  });
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const lives = new Lives();
    const deliverer = new RecordingDeliverer();
    const injected: Injected[] = [];
    const counts = { forgetful: 0, keeping: 0, modes: 0 };
    const queued = () => injected.filter((e) => e.removedAt === undefined && clock.now() - e.at <= RETENTION_MS);
    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      const chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const process = lives.spawn();
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer,
        log,
      });
      // Quiet minutes keep the queue short, so that a restart may leave no sign (see the file comment).
      const quiet = random() < 0.4;
      await invoke({
        poller,
        timeline,
        log,
        start: CLOCK_START + invocation * SCHEDULE_MS,
        beforeTick: () => {
          if (!chaotic) return;
          const roll = random();
          if (roll < 0.06) {
            for (const e of queued()) e.removedAt = clock.now();
            sim.restart({ keepQueue: false, dropConnections: true });
            counts.forgetful += 1;
          } else if (roll < 0.09) {
            sim.restart({ keepQueue: true, dropConnections: true });
            counts.keeping += 1;
          }
          if (random() < 0.05) {
            sim.setUnknownHashMode(MODES[Math.floor(random() * MODES.length)]!);
            counts.modes += 1;
          }
          const count = quiet ? (random() < 0.15 ? 1 : 0) : Math.floor(random() * 4);
          for (let i = 0; i < count; i += 1) {
            const id = `e${injected.length + 1}`;
            // In a quiet minute the one table left mostly calls the waiter again and again.
            const regular = quiet && random() < 0.7;
            const code = regular || random() < 0.7 ? 'waiter_call' : 'bill_request';
            const table = regular ? '3' : String(1 + Math.floor(random() * 8));
            const e = sim.inject({ code, tableName: table, order: { chaosId: id } });
            injected.push({ id, hash: e.hash, code, table, at: clock.now() });
          }
        },
      });
      lives.reap(process);
    }

    const idOf = (event: QrEvent) => String((event.order as { chaosId?: unknown } | null)?.chaosId ?? event.hash);
    const copies = (id: string, channel: 'sns' | 'email') =>
      deliverer.deliveries.filter((d) => idOf(d.request.event) === id && d.channels.includes(channel)).length;
    const judged = judgeCopies(
      injected,
      ['sns', 'email'],
      (id, channel) => copies(id, channel as 'sns' | 'email'),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    // A copy nobody explained: was the event claimed again as new (a second first sighting)?
    const unexplained = judged.unexplained.map((u) => {
      const seen = [
        ...new Set(
          deliverer.deliveries.filter((d) => idOf(d.request.event) === u.id).map((d) => d.request.firstSeenAt),
        ),
      ];
      return seen.length > 1
        ? { ...u, why: `claimed again as a new event (first seen +${seen.map(secs).join(' s, again +')} s)` }
        : u;
    });
    const history = new ServedHistory(sim.served, injected);
    const why: string[] = [];
    const sorted = sortUndelivered(judged.undelivered, (e) => {
      const verdict = history.classify(injected.find((x) => x.id === e.id)!);
      if (typeof verdict === 'string') {
        if (verdict === 'undecidable') why.push(`${e.id} (${e.hash})`);
        return verdict;
      }
      return verdict;
    });
    const reused = injected.filter((e, i) => injected.findIndex((x) => x.hash === e.hash) !== i).length;
    return {
      kind: 'counter-hashes',
      variant: `unknown-hash ${mode}`,
      seed,
      events: injected.length,
      ...judged,
      unexplained,
      ...sorted,
      problems: [],
      unexpected: [],
      crashes: lives.crashes,
      faults: {},
      figures: {
        'events under a reused hash': reused,
        'forgetful restarts': counts.forgetful,
        'restarts keeping the queue': counts.keeping,
      },
      details:
        `${reused} events under a reused hash, ${counts.forgetful}+${counts.keeping} restarts (forget+keep), ${counts.modes} mode changes` +
        (why.length ? `; undecidable: ${why.join(', ')}` : ''),
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}

/** What the server answered, with the identity of each hash at each answer. */
class ServedHistory {
  readonly #ok: ServedRecord[];
  constructor(
    served: readonly ServedRecord[],
    readonly events: readonly Injected[],
  ) {
    this.#ok = served.filter((r) => r.status === 200 && (r.kind === 'ok' || r.kind === 'unknown-hash:all'));
  }

  /** The event a hash stood for at `at`. */
  eventAt(hash: string, at: number): Injected | undefined {
    return this.events.find(
      (e) =>
        e.hash === hash && e.at <= at && at - e.at <= RETENTION_MS && (e.removedAt === undefined || at < e.removedAt),
    );
  }

  /** The first answer that showed this very event. */
  firstSeen(event: Injected): ServedRecord | undefined {
    return this.#ok.find(
      (r) => r.at >= event.at && r.eventHashes.includes(event.hash) && this.eventAt(event.hash, r.at) === event,
    );
  }

  #complete(from: number, to: number): ServedRecord[] {
    return this.#ok.filter((r) => r.hashParam === 'none' && r.kind === 'ok' && r.at > from && r.at <= to);
  }

  #lastCompleteBefore(at: number, strictly = true): ServedRecord | undefined {
    return this.#ok.findLast((r) => r.hashParam === 'none' && r.kind === 'ok' && (strictly ? r.at < at : r.at <= at));
  }

  /** Why an undelivered event is not the poller's loss, or why it is. */
  classify(event: Injected): Excuse | { lost: string } {
    const seen = this.firstSeen(event);
    if (seen === undefined) {
      return event.removedAt !== undefined
        ? 'dropped by server'
        : { lost: 'never in an answer, though the server kept it' };
    }
    const tE = seen.at;
    const earlier = this.events
      .filter((x) => x.hash === event.hash && x.at < event.at)
      .map((x) => ({ x, seen: this.firstSeen(x) }))
      .filter((x) => x.seen !== undefined && x.seen.at < tE)
      .at(-1);
    if (earlier === undefined)
      return { lost: `seen at +${secs(tE)} under a hash with no earlier event, never delivered` };
    const { x: before, seen: beforeSeen } = earlier;
    const tB = beforeSeen!.at;
    if (before.code !== event.code || before.table !== event.table)
      return { lost: `a reused hash with another code or table than ${before.id}'s: new by the rule, never delivered` };
    const last = this.#lastCompleteBefore(tE);
    const inLastQueue = last?.eventHashes.includes(event.hash) === true;
    if (tE - tB > RETENTION_MS + INTERVAL_MS && !inLastQueue)
      return {
        lost: `seen ${secs(tE - tB)} s after ${before.id}, longer than the server keeps events: new by the rule`,
      };
    // A sign that the hash left the queue: a complete answer without it, before this event was seen.
    const without = this.#complete(tB, tE - 1).find((r) => !r.eventHashes.includes(event.hash));
    if (without)
      return { lost: `the hash was missing from the complete answer at +${secs(without.at)}: new by the rule` };
    // Signs of a reset: events vanishing out of order, or a hash of the previous complete answer back as another
    // event. A reset is known only to follow that previous complete answer: it is a sign for this hash only if no
    // answer showed the hash since (the sighting may have come after the reset, and been of the new event).
    for (const answer of this.#ok.filter((r) => r.at > tB && r.at <= tE)) {
      const previous = this.#lastCompleteBefore(answer.at);
      if (previous === undefined) continue;
      const sighted = this.#ok.findLast((r) => r.at < answer.at && r.eventHashes.includes(event.hash));
      if (sighted !== undefined && sighted.at > previous.at) continue;
      if (answer.hashParam === 'none' && answer.kind === 'ok') {
        const present = new Set(answer.eventHashes);
        const vanished = previous.eventHashes.filter((h) => !present.has(h));
        if (vanished.some((h, i) => previous.eventHashes[i] !== h))
          return {
            lost: `the complete answer at +${secs(answer.at)} lost events out of order (a reset): new by the rule`,
          };
      }
      for (const hash of answer.eventHashes) {
        if (!previous.eventHashes.includes(hash)) continue;
        const then = this.eventAt(hash, previous.at);
        const now = this.eventAt(hash, answer.at);
        if (then && now && (then.code !== now.code || then.table !== now.table))
          return {
            lost: `the answer at +${secs(answer.at)} showed ${hash} with another code or table (a reset): new by the rule`,
          };
      }
    }
    return 'undecidable';
  }
}

function secs(ms: number): number {
  return Math.round((ms >= CLOCK_START ? ms - CLOCK_START : ms) / 1000);
}
