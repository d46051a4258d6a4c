/**
 * Hostile answers and poison events (test/support/hostile-answers.ts) against the real client and a poller tick.
 *   answer  the client alone (no retries) must return a typed QrMenuError — or a lenient parse
 *           where one is expected — within a time limit, with no token in its message; then a
 *           poller with two events queued meets the same answer: its tick must not throw or
 *           hang, and both events must still go out (SNS and e-mail) within four more ticks.
 *   poison  a bad event between two good ones, in an answer served six times running: the good
 *           ones must go out within two ticks, not once the bad one has left the queue.
 * Deliveries go through the real createDeliverer to the emulators, so odd events are rendered too.
 * The pollers share one table, one after the other, like consecutive invocations.
 */
import { QrMenuClient } from '../../../lambda/qrmenu/client';
import { QrMenuError } from '../../../lambda/qrmenu/errors';
import type { FetchResult } from '../../../lambda/qrmenu/client';
import { createDeliverer } from '../../../lambda/notify/deliverer';
import { StateStore } from '../../../lambda/state/store';
import type { SourcePoller, TickReport } from '../../../lambda/poller/source-poller';
import { createSimulator, type Simulator } from '../../../local/simulator';
import { ManualClock, freshTable, makePoller } from '../harness';
import type { HostileAnswer, PoisonEvent } from '../hostile-answers';
import { chaosConfig } from './lib/config';
import { CountingDeliverer } from './lib/deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from './lib/env';
import type { RunLog } from './lib/log-tap';
import { INTERVAL_MS } from './lib/minutes';
import { describeError } from './lib/verdict';

/** Longer than any answer may take: the client's request timeout (2 s) and its retry. */
const HANG_LIMIT_MS = 15_000;

export interface HostileOutcome {
  readonly kind: 'answer' | 'poison';
  readonly name: string;
  /** What the client made of it (answers only). */
  readonly client?: string;
  /** What the first poller tick made of it. */
  readonly tick: string;
  /** Ticks until the events queued beside it had gone out; null if they never did. */
  readonly ticksToDeliver: number | null;
  /** Events the answer itself carried (lenient parses): went out / failed to go out. */
  readonly ownEvents: { readonly delivered: number; readonly failed: readonly string[] };
  /** Error messages produced (the token scan reads them). */
  readonly messages: readonly string[];
  readonly problems: readonly string[];
}

export interface HostileBench {
  runAnswer(answer: HostileAnswer): Promise<HostileOutcome>;
  runPoison(poison: PoisonEvent): Promise<HostileOutcome>;
  close(): Promise<void>;
}

class Timeout extends Error {}

async function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Timeout(`no outcome within ${ms} ms`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export async function createHostileBench(env: ChaosEnv, log: RunLog = env.log.forRun()): Promise<HostileBench> {
  const clock = new ManualClock(CLOCK_START);
  const sim: Simulator = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed: 4242 });
  const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
  const counting = new CountingDeliverer(createDeliverer({ config: chaosConfig(sim.url), topicArn: env.topicArn }));
  const client = new QrMenuClient({ baseUrl: sim.url, token: CHAOS_TOKEN, retries: 0, requestTimeoutMs: 2_000 });
  let pollers = 0;

  const newPoller = async (): Promise<SourcePoller> => {
    pollers += 1;
    const poller = makePoller(
      { clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID },
      { owner: `hostile-${pollers}`, deliverer: counting, log },
    );
    if (!(await poller.begin(clock.now() + 86_400_000)))
      throw new Error('the hostile-answer poller did not get the lease');
    return poller;
  };
  // The source's first poll records the (empty) backlog.
  const first = await newPoller();
  await first.tick(clock.now() + 86_400_000);
  await first.end();

  /** Tick, guarded against throwing and hanging; the clock moves one interval after it. */
  const tick = async (poller: SourcePoller, problems: string[]): Promise<TickReport | undefined> => {
    try {
      return await within(poller.tick(clock.now() + 86_400_000), HANG_LIMIT_MS);
    } catch (error) {
      problems.push(
        error instanceof Timeout ? `the tick hung: ${error.message}` : `the tick threw ${describeError(error)}`,
      );
      return undefined;
    } finally {
      clock.advance(INTERVAL_MS);
    }
  };

  const describeTick = (report: TickReport | undefined) =>
    report === undefined
      ? 'no report'
      : report.error !== undefined
        ? `poll error ${report.error}`
        : `lenient: ${report.received} received, ${report.claimed} claimed`;

  /** Own events: hashes the deliverer saw that the run did not queue. */
  const ownEvents = (before: Set<string>, queued: readonly string[]) => {
    const seen = new Set([...counting.sent.sns.keys(), ...counting.sent.email.keys(), ...counting.failures.keys()]);
    const own = [...seen].filter((h) => !before.has(h) && !queued.includes(h));
    return {
      delivered: own.filter((h) => counting.deliveredFully(h)).length,
      failed: own
        .filter((h) => counting.failures.has(h))
        .flatMap((h) => counting.failures.get(h)!.map((m) => `${h.slice(0, 24)}: ${m}`)),
    };
  };
  const known = () =>
    new Set([...counting.sent.sns.keys(), ...counting.sent.email.keys(), ...counting.failures.keys()]);

  return {
    async runAnswer(answer) {
      const problems: string[] = [];
      const messages: string[] = [];
      // 1. The client alone.
      sim.failNext(answer.fault);
      let clientOutcome: string;
      try {
        const result: FetchResult = await within(client.fetchEvents(null), HANG_LIMIT_MS);
        clientOutcome = `lenient: ${result.events.length} events, ${result.skipped.length} skipped`;
        if (answer.expect === 'error') problems.push(`the client accepted it (${clientOutcome})`);
      } catch (error) {
        messages.push(error instanceof Error ? error.message : String(error));
        if (error instanceof QrMenuError) {
          const reason = (error as { reason?: string; how?: string }).reason ?? (error as { how?: string }).how;
          clientOutcome = `${error.name} ${error.kind}${reason ? `/${reason}` : ''}`;
          if (answer.expect === 'lenient')
            problems.push(`the client refused it (${clientOutcome}: ${error.message.slice(0, 120)})`);
          else if (answer.kind !== undefined && error.kind !== answer.kind)
            problems.push(`the client called it ${error.kind}, not ${answer.kind}: "${error.message.slice(0, 120)}"`);
        } else {
          clientOutcome = error instanceof Timeout ? 'hung' : `untyped ${describeError(error)}`;
          problems.push(`the client gave no typed error: ${clientOutcome}`);
        }
      }
      // 2. A poller tick, with two events queued before the answer.
      const before = known();
      const poller = await newPoller();
      const queued = [sim.inject().hash, sim.inject().hash];
      sim.failNext(answer.fault);
      const first = await tick(poller, problems);
      const ticksToDeliver = await followUp(poller, queued, 4, problems);
      if (ticksToDeliver === null) problems.push('the events queued before it did not go out within 5 ticks');
      const after = sim.inject().hash;
      await tick(poller, problems);
      if (!counting.deliveredFully(after))
        problems.push('an event queued after recovery did not go out on the next tick (cursor?)');
      await poller.end();
      return {
        kind: 'answer',
        name: answer.name,
        client: clientOutcome,
        tick: describeTick(first),
        ticksToDeliver,
        ownEvents: ownEvents(before, [...queued, after]),
        messages,
        problems,
      };
    },

    async runPoison(poison) {
      const problems: string[] = [];
      const before = known();
      const poller = await newPoller();
      const id = `${pollers}`;
      const good = [`0xgood${id}a`, `0xgood${id}b`];
      const wire = (hash: string) =>
        JSON.stringify({
          hash,
          code: 'waiter_call',
          table: 1_000_006,
          invoice: null,
          order: null,
          table_repr: { id: 1_000_006, name: '6', max_guests: 4 },
        });
      const body = `{"result":true,"data":{"updates":[${wire(good[0]!)},${poison.json},${wire(good[1]!)}]}}`;
      for (let i = 0; i < 6; i += 1) sim.failNext({ status: 200, body, contentType: 'application/json' });
      const first = await tick(poller, problems);
      // Six answers with the bad event, then the server's own (the bad event gone): ten ticks in all,
      // so that every one-shot answer is used up before the next run.
      let ticksToDeliver: number | null = null;
      for (let n = 1; n <= 10; n += 1) {
        if (ticksToDeliver === null && good.every((h) => counting.deliveredFully(h))) ticksToDeliver = n;
        if (n < 10) await tick(poller, problems);
      }
      await poller.end();
      if (ticksToDeliver === null || ticksToDeliver > 2) {
        problems.push(
          `the good events beside it went out ${ticksToDeliver === null ? 'not at all within 10 ticks' : `only at tick ${ticksToDeliver}`} (goal: within 2)`,
        );
      }
      return {
        kind: 'poison',
        name: poison.name,
        tick: describeTick(first),
        ticksToDeliver,
        ownEvents: ownEvents(before, good),
        messages: [],
        problems,
      };
    },

    close: () => sim.close(),
  };

  /** Ticks (at most `extra` after the one already made) until every hash went out: how many ticks it took in all, or null. */
  async function followUp(
    poller: SourcePoller,
    hashes: readonly string[],
    extra: number,
    problems: string[],
  ): Promise<number | null> {
    for (let n = 1; n <= extra + 1; n += 1) {
      if (hashes.every((h) => counting.deliveredFully(h))) return n;
      if (n <= extra) await tick(poller, problems);
    }
    return null;
  }
}
