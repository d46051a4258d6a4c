/**
 * The `dynamodb` kind: scheduled invocations (the real invocation loop, minutes.ts) whose
 * DynamoDB client (test/support/faulty-dynamodb.ts, middleware on the real client to DynamoDB
 * Local) fails a seeded share (5–15 %) of the calls of every kind — lease, checkpoint, lookup,
 * claim, mark, take-over, due list — with `error` (throttled before reaching the table), `late`
 * (applied, then an error: the answer that came after the caller gave up) or `slow` (the manual
 * clock moves 1–12 s during the call). Pollers also die at step boundaries as in the crash kind,
 * and the deliverer fails a fifth of the ticks, so marks as retry and take-overs run too.
 * Judged on both channels; a copy beyond the first needs a death's window or a `mayBeSentTwice` line.
 */
import { createSimulator } from '../../../../local/simulator';
import { StateStore } from '../../../../lambda/state/store';
import { CALL_KINDS, FaultyDynamoDb, randomFault } from '../../faulty-dynamodb';
import { ManualClock, RecordingDeliverer, freshTable, seededRandom } from '../../harness';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller, planCrash } from '../lib/lives';
import { SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { explainer, judgeCopies, recordStatuses, type RunOutcome, sortUndelivered } from '../lib/verdict';

const CHAOTIC_INVOCATIONS = 6;
const DRAINING_INVOCATIONS = 3;

export async function runDynamoDbKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 17 + 11);
  const share = 0.05 + random() * 0.1;
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  const faults = new FaultyDynamoDb(clock);
  try {
    const store = new StateStore({ tableName: await freshTable(), client: faults.client });
    const log = env.log.forRun();
    const deliverer = new RecordingDeliverer();
    const lives = new Lives();
    const injected: string[] = [];
    let chaotic = false;
    faults.chooser = () => {
      if (!chaotic || random() >= share) return undefined;
      return randomFault(random, [1_000, 12_000]);
    };
    let crashedLast = true;
    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const process = lives.spawn(chaotic && !crashedLast ? planCrash(random, 0.35) : undefined);
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer,
        log,
        settings: { maxAttempts: 20, retryForMs: 600_000 },
      });
      await invoke({
        poller,
        timeline,
        log: log.until(() => process.dead),
        start: CLOCK_START + invocation * SCHEDULE_MS,
        beforeTick: () => {
          if (!chaotic) {
            deliverer.failing = {};
            return;
          }
          const count = Math.floor(random() * 4);
          for (let i = 0; i < count; i += 1) injected.push(sim.inject().hash);
          deliverer.failing = random() < 0.2 ? (random() < 0.5 ? { sns: 'transient' } : { email: 'throttled' }) : {};
        },
      });
      crashedLast = lives.reap(process);
    }
    chaotic = false;

    const events = injected.map((hash) => ({ id: hash, hash }));
    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => deliverer.count(id, channel as 'sns' | 'email'),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const final = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const byKind: Record<string, Record<string, number>> = {};
    for (const kind of CALL_KINDS) byKind[kind] = { error: 0, late: 0, slow: 0 };
    for (const f of faults.injected) byKind[f.kind]![f.fault] = (byKind[f.kind]![f.fault] ?? 0) + 1;
    const calls = [...faults.calls.values()].reduce((s, n) => s + n, 0);
    return {
      kind: 'dynamodb',
      variant: `${Math.round(share * 100)} % of calls`,
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) =>
        final.get(e.hash) === 'failed'
          ? 'given up'
          : { lost: `not delivered on both channels (record ${final.get(e.hash) ?? 'absent'})` },
      ),
      problems: [],
      unexpected: [],
      crashes: lives.crashes,
      faults: byKind,
      figures: { 'DynamoDB calls': calls, 'faults injected': faults.injected.length },
      details: `${faults.injected.length} faults in ${calls} DynamoDB calls`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
