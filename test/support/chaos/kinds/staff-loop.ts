/**
 * The `staff-loop` kind: the "On my way" button and the escalation of unanswered calls under
 * faults. Scheduled invocations (a minute each, a tick every 10 s, the staff bot's presses read
 * after every tick as the handler reads them between ticks) over the QR-menu simulator, DynamoDB
 * Local and the Telegram emulator, on a manual clock, so the escalation steps (30–50 s and
 * 80–120 s, drawn per run) come due without waiting. Every call needs acknowledging and has a
 * table of its own; simulated staff press some calls before step 1 is due, some between the steps,
 * some after, some never; a second person presses some of them too, the same person again some.
 * Faults at every boundary of the loop: DynamoDB (any call: refused, applied but unanswered, slow),
 * Telegram (sendMessage / editMessageText / answerCallbackQuery: 429, 500, a 502 page, the call
 * made and its answer lost; getUpdates failed or lost), slow sends during which presses are read,
 * invocations dying at a step boundary of either half (poller or press loop).
 * Judged by lib/staff-judge.ts.
 */
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { parseAlertsConfig } from '../../../../lambda/config/schema';
import type { Deliverer, DeliveryRequest } from '../../../../lambda/domain/delivery';
import type { FeedEntry } from '../../../../lambda/domain/ports';
import { createDeliverer } from '../../../../lambda/notify/deliverer';
import { TelegramChannel, telegramStaffBot } from '../../../../lambda/notify/telegram';
import { PressLoop } from '../../../../lambda/poller/presses';
import { sourcePk } from '../../../../lambda/state/keys';
import { StateStore } from '../../../../lambda/state/store';
import { createSimulator } from '../../../../local/simulator';
import { CRASH_POINTS, type CrashPlan, type CrashPoint } from '../../crash-points';
import { ManualClock, makePoller, RecordingMetrics, SimulatedCrash, freshTable, seededRandom } from '../../harness';
import {
  type BotMessage,
  clearTelegramFaults,
  freshBotToken,
  injectTelegramFault,
  SimulatedStaff,
} from '../../telegram';
import type { TelegramFault } from '../../../../local/telegram-emulator';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives } from '../lib/lives';
import { HARD_END_MS, INTERVAL_MS, SCHEDULE_MS } from '../lib/minutes';
import { type CallRecord, judgeStaffLoop, type MadePress, type StaffCall } from '../lib/staff-judge';
import {
  STAFF_CALL_KINDS,
  type StaffDynamoFault,
  StaffFaultyDynamoDb,
  Trace,
  tracedDeliverer,
  tracedStaffBot,
  tracedStore,
} from '../lib/staff-witness';
import { explainer, type RunOutcome, describeError } from '../lib/verdict';

const INVOCATIONS = 11; // 0: the first poll (baseline); 1–6 chaotic (calls in 1–5); 7–10 drain
const CHAOTIC = { from: 1, to: 6, callsUntil: 5 } as const;
const TICKS = 5;
const RUN_MS = 55_000;

/** The chats: the hall (the alert), then one per escalation step. */
const CHATS = [
  { id: -1001000000101, type: 'supergroup', title: 'Зал' },
  { id: -1001000000102, type: 'group', title: 'Менеджеры' },
  { id: -1001000000103, type: 'group', title: 'Владелец' },
] as const;
const HALL_STAFF = [
  { userId: 7, firstName: 'Иван' },
  { userId: 8, firstName: 'Ольга' },
];
const MANAGER = { userId: 9, firstName: 'Мария' };
const CODES = ['waiter_call', 'bill_request', 'waiter_call_cash'] as const;

const STAFF_POINTS = ['escalated', 'read', 'acknowledged', 'edited', 'answered', 'before-offset-save'] as const;
type StaffPoint = (typeof STAFF_POINTS)[number];

/** "Стол 104" → "104" (every call of a run has a table of its own). */
const tableOf = (message: BotMessage) => /Стол (\d+)/.exec(message.text)?.[1];

export async function runStaffLoopKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 29 + 3);
  const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const steps = [between(30, 50), between(80, 120)];
  const clock = new ManualClock(CLOCK_START);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  const faults = new StaffFaultyDynamoDb(clock);
  const apiRoot = env.endpoints.telegram;
  const bot = freshBotToken();
  try {
    const tableName = await freshTable();
    const store = new StateStore({ tableName, client: faults.client });
    const trace = new Trace();
    const traced = tracedStore(store, trace);
    const log = env.log.forRun();
    const metrics = new RecordingMetrics();
    const lives = new Lives();
    const feed: FeedEntry[] = [];
    const unexpected: string[] = [];
    const config = parseAlertsConfig(
      {
        name: 'chaos-staff',
        locale: 'ru',
        sources: [{ id: SOURCE_ID, name: 'Пиццерия (chaos)', url: sim.url, allowPlainHttp: true }],
        routes: [
          {
            name: 'hall',
            codes: [...CODES],
            telegram: [CHATS[0].id],
            escalate: [
              { afterSeconds: steps[0], to: 'manager' },
              { afterSeconds: steps[1], to: 'owner' },
            ],
          },
          { name: 'manager', telegram: [CHATS[1].id], escalationOnly: true },
          { name: 'owner', telegram: [CHATS[2].id], escalationOnly: true },
        ],
        telegram: { token: { value: bot }, apiRoot },
        delivery: { cooldownSeconds: 0 },
      },
      'the staff-loop chaos config',
    );
    // The bot paces on the manual clock: its waits (a 429's retry_after) move it on.
    const telegram = new TelegramChannel({
      token: bot,
      apiRoot,
      clock: {
        now: clock.now,
        sleep: async (ms) => {
          clock.advance(Math.max(0, ms));
        },
      },
      pacing: { perChatIntervalMs: 0, groupMessagesPerWindow: 1_000, globalMessagesPerWindow: 1_000 },
    });
    const real = createDeliverer({ config, telegram, now: clock.now });
    const readers = CHATS.map((chat) => new SimulatedStaff(apiRoot, bot, MANAGER, chat));
    const countIn = async (table: string, phase: number) =>
      (await readers[phase]!.botMessages()).filter((m) => tableOf(m) === table).length;

    let chaotic = false;
    const dynamoShare = 0.04 + random() * 0.08;
    faults.chooser = () => {
      if (!chaotic || random() >= dynamoShare) return undefined;
      const roll = random();
      const fault: StaffDynamoFault =
        roll < 0.4 ? { kind: 'error' } : roll < 0.7 ? { kind: 'late' } : { kind: 'slow', ms: between(1_000, 12_000) };
      return fault;
    };
    const telegramFaults: Record<string, Record<string, number>> = {};
    const count = (where: string, what: string) => {
      telegramFaults[where] ??= {};
      telegramFaults[where][what] = (telegramFaults[where][what] ?? 0) + 1;
    };

    // --- the staff ------------------------------------------------------------------------------
    const calls: (StaffCall & { injectedAt: number })[] = [];
    const presses: MadePress[] = [];
    let order = 0;
    const actions: { at: number; tries: number; run: () => Promise<boolean> }[] = [];
    const plan = (at: number, run: () => Promise<boolean>) => actions.push({ at, tries: 0, run });
    const lastPressAt = CLOCK_START + (INVOCATIONS - 1) * SCHEDULE_MS + 2 * INTERVAL_MS;
    const runDue = async () => {
      for (;;) {
        actions.sort((a, b) => a.at - b.at);
        const next = actions[0];
        if (next === undefined || next.at > clock.now()) return;
        actions.shift();
        if (await next.run()) continue;
        // Its message is not there yet (a send failed or is late): the person looks again later.
        if (next.tries < 12 && next.at + INTERVAL_MS <= lastPressAt)
          actions.push({ ...next, at: next.at + INTERVAL_MS, tries: next.tries + 1 });
      }
    };
    const found = new Map<string, { messageId: number; data: string }>();
    /** A press by `person` in the chat of `phase` on the call's message (once seen, pressed again by its data). */
    const press = (table: string, person: { userId: number; firstName: string }, phase: number) => async () => {
      const key = `${table}/${phase}`;
      let target = found.get(key);
      const staff = new SimulatedStaff(apiRoot, bot, person, CHATS[phase]!);
      if (target === undefined) {
        const message = (await staff.botMessages()).find(
          (m) => tableOf(m) === table && m.buttons.some((b) => b.data !== undefined),
        );
        const data = message?.buttons.find((b) => b.data !== undefined)?.data;
        if (message === undefined || data === undefined) return false;
        target = { messageId: message.messageId, data };
        found.set(key, target);
      }
      await staff.press(target.messageId, target.data);
      presses.push({
        order: order++,
        table,
        userId: String(person.userId),
        name: person.firstName,
        at: clock.now(),
      });
      return true;
    };
    const raiseCall = () => {
      const table = String(100 + calls.length);
      const code = CODES[Math.floor(random() * CODES.length)]!;
      const { hash } = sim.inject({ code, tableName: table });
      const now = clock.now();
      calls.push({ table, hash, injectedAt: now });
      const roll = random();
      if (roll < 0.25) return; // nobody comes
      const [s1, s2] = [steps[0]! * 1000, steps[1]! * 1000];
      const when =
        roll < 0.55
          ? now + between(3_000, s1 - 8_000)
          : roll < 0.85
            ? now + between(s1 + 5_000, s2 - 8_000)
            : now + between(s2 + 5_000, s2 + 60_000);
      const escalated = when > now + s1;
      const byManager = escalated && random() < 0.5;
      const first = byManager ? MANAGER : HALL_STAFF[Math.floor(random() * HALL_STAFF.length)]!;
      const chat = byManager ? 1 : 0;
      plan(when, press(table, first, chat));
      if (random() < 0.3) {
        const other = first === HALL_STAFF[0] ? HALL_STAFF[1]! : HALL_STAFF[0]!;
        plan(when + between(0, 1) * INTERVAL_MS, press(table, other, 0)); // a second person, same tick or the next
      }
      if (random() < 0.2) plan(when + between(5_000, 30_000), press(table, first, chat)); // the same person again
    };

    // --- faults per tick --------------------------------------------------------------------------
    const telegramFault = async () => {
      if (random() >= 0.3) return;
      const method = (['sendMessage', 'sendMessage', 'editMessageText', 'answerCallbackQuery'] as const)[
        Math.floor(random() * 4)
      ]!;
      const roll = random();
      const shape: Pick<TelegramFault, 'type' | 'status' | 'retryAfter'> =
        roll < 0.3
          ? { type: 'error', status: 500 }
          : roll < 0.5
            ? { type: 'error', status: 429, retryAfter: 1 }
            : roll < 0.8
              ? { type: 'reset' }
              : { type: 'html' };
      const chatId = method === 'sendMessage' && random() < 0.7 ? CHATS[between(0, 2)]!.id : undefined;
      await injectTelegramFault(apiRoot, {
        token: bot,
        method,
        times: between(1, 2),
        ...shape,
        ...(chatId !== undefined ? { chatId } : {}),
      });
      count(`Telegram ${method}`, shape.type === 'error' ? String(shape.status) : String(shape.type));
    };

    // --- the invocations ------------------------------------------------------------------------
    let crashedLast = true;
    let slowSends = 0;
    for (let invocation = 0; invocation < INVOCATIONS; invocation += 1) {
      chaotic = invocation >= CHAOTIC.from && invocation <= CHAOTIC.to;
      if (invocation === CHAOTIC.to + 1) await clearTelegramFaults(apiRoot, bot);
      const start = CLOCK_START + invocation * SCHEDULE_MS;
      if (clock.t < start) clock.t = start;
      const owner = `inv${invocation}`;
      const crash = chaotic && !crashedLast ? planDeath(random) : undefined;
      let killed = false;
      const staffSeen = new Map<StaffPoint, number>();
      const pass = (point: StaffPoint) => {
        if (crash?.staff !== point) return;
        const n = (staffSeen.get(point) ?? 0) + 1;
        staffSeen.set(point, n);
        if (n !== crash.occurrence) return;
        killed = true;
        throw new SimulatedCrash(`crash at ${point}`);
      };
      const process = lives.spawn(crash?.poller, () => killed);
      const dead = () => process.dead;
      const mortal = process.store(crashingStore(traced, pass));
      let loop: PressLoop | undefined;
      const hold = async (request: DeliveryRequest) => {
        if (!chaotic || random() >= ((request.phase ?? 0) > 0 ? 0.35 : 0.1)) return;
        slowSends += 1;
        // The send takes long: the clock moves on, and the press loop reads presses meanwhile.
        clock.advance(between(5_000, 40_000));
        await runDue();
        await loop?.poll(clock.now());
      };
      const sends = process.deliverer({
        deliver: tracedDeliverer(real, { trace, owner, clock, count: countIn, hold }).deliver,
      });
      const deliverer: Deliverer = {
        attendance: real.attendance!.bind(real),
        deliver: (request) => sends.deliver(request),
      };
      const poller = makePoller(
        { clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID },
        {
          owner,
          store: mortal,
          deliverer,
          wrapFetch: (fetch) => process.fetch(fetch),
          log: log.until(dead),
          metrics,
          observer: (entry) => {
            if (!dead()) feed.push(entry);
          },
          settings: { maxAttempts: 20, retryForMs: 600_000 },
        },
      );
      const staffBot = tracedStaffBot(telegramStaffBot(telegram), trace, {
        readFault: () => {
          if (!chaotic || random() >= 0.08) return undefined;
          const where = random() < 0.5 ? 'before' : 'after';
          count('Telegram getUpdates', where === 'before' ? 'failed' : 'answer lost');
          return where;
        },
        passed: pass,
      });
      loop = new PressLoop({
        bot: 'telegram',
        staff: {
          nextPresses: (...a) => (dead() ? Promise.reject(new SimulatedCrash('dead')) : staffBot.nextPresses(...a)),
          showAcknowledged: (...a) =>
            dead() ? Promise.reject(new SimulatedCrash('dead')) : staffBot.showAcknowledged(...a),
          answer: (...a) => (dead() ? Promise.reject(new SimulatedCrash('dead')) : staffBot.answer(...a)),
        },
        store: mortal as StateStore,
        sources: new Map([[SOURCE_ID, 'Пиццерия (chaos)']]),
        owner,
        clock,
        log: log.until(dead),
        metrics,
        observer: (entry) => {
          if (!dead()) feed.push(entry);
        },
        maxWaitSeconds: 0,
      });
      const guard = async (what: string, run: () => Promise<unknown>) => {
        try {
          await run();
        } catch (error) {
          if (!(error instanceof SimulatedCrash) && !dead()) unexpected.push(`${what}: ${describeError(error)}`);
        }
      };
      // A failed first lease is the handler's to log (beginQuietly); the poller tries again on its ticks.
      await poller.begin(start + HARD_END_MS).catch(() => undefined);
      await guard('press lease', () => loop.begin(start + HARD_END_MS));
      for (let tick = 0; tick < TICKS && !dead(); tick += 1) {
        const at = start + tick * INTERVAL_MS;
        if (clock.t < at) clock.t = at;
        if (chaotic && invocation <= CHAOTIC.callsUntil && random() < 0.4) raiseCall();
        await runDue();
        if (chaotic) await telegramFault();
        await guard('tick', () => poller.tick(start + RUN_MS));
        if (!dead()) await guard('presses', () => loop.poll(clock.now()));
      }
      if (!dead()) await guard('press end', () => loop.end());
      if (!dead()) await guard('end', () => poller.end());
      crashedLast = lives.reap(process);
    }

    // --- what happened ----------------------------------------------------------------------------
    const inChats = await Promise.all(readers.map((r) => r.botMessages()));
    const messages = (table: string, phase: number) => inChats[phase]!.filter((m) => tableOf(m) === table).length;
    const records = await readRecords(env, tableName, calls);
    const acknowledgedFeed = new Map<string, number>();
    for (const e of feed)
      if (e.type === 'acknowledged') acknowledgedFeed.set(e.hash, (acknowledgedFeed.get(e.hash) ?? 0) + 1);
    const answerFaults = telegramFaults['Telegram answerCallbackQuery'] ?? {};
    const judged = judgeStaffLoop({
      calls,
      steps,
      presses,
      records,
      messages,
      trace,
      explanations: explainer(lives.windows, log.mayBeSentTwice()),
      acknowledgedFeed,
      answersMayFail: Object.keys(answerFaults).length > 0 || lives.crashes.length > 0,
    });
    const byKind: Record<string, Record<string, number>> = {};
    for (const f of faults.injected) {
      byKind[`DynamoDB ${f.kind}`] ??= {};
      byKind[`DynamoDB ${f.kind}`]![f.fault] = (byKind[`DynamoDB ${f.kind}`]![f.fault] ?? 0) + 1;
    }
    const dynamoCalls = STAFF_CALL_KINDS.reduce((s, k) => s + (faults.calls.get(k) ?? 0), 0);
    const telegramCount = Object.values(telegramFaults).reduce(
      (s, m) => s + Object.values(m).reduce((a, b) => a + b, 0),
      0,
    );
    return {
      kind: 'staff-loop',
      variant: `steps ${steps[0]}/${steps[1]} s`,
      seed,
      events: calls.length,
      lost: judged.lost,
      excused: judged.excused,
      doubled: judged.doubled,
      unexplained: judged.unexplained,
      problems: judged.problems,
      unexpected,
      crashes: lives.crashes,
      faults: { ...byKind, ...telegramFaults },
      figures: { ...judged.figures, 'slow sends': slowSends, 'DynamoDB faults': faults.injected.length },
      details:
        `${calls.length} calls, ${presses.length} presses, ${judged.figures.acknowledged} acknowledged, ` +
        `${judged.figures['escalation steps sent']} steps sent (${judged.figures['steps in flight when acknowledged']} in flight when acknowledged); ` +
        `faults: ${faults.injected.length} of ${dynamoCalls} DynamoDB calls, ${telegramCount} Telegram, ${slowSends} slow sends`,
      ms: performance.now() - started,
    };
  } finally {
    await clearTelegramFaults(apiRoot, bot).catch(() => undefined);
    await sim.close();
  }
}

/** A death at a step boundary of the poller (crash-points.ts) or of the staff loop, or none. */
function planDeath(random: () => number): { poller?: CrashPlan; staff?: StaffPoint; occurrence: number } | undefined {
  if (random() >= 0.4) return undefined;
  const points: readonly (CrashPoint | StaffPoint)[] = [...CRASH_POINTS, ...STAFF_POINTS];
  const point = points[Math.floor(random() * points.length)]!;
  const occurrence = point === 'before-checkpoint' || point === 'before-offset-save' ? 1 : 1 + Math.floor(random() * 2);
  return (CRASH_POINTS as readonly string[]).includes(point)
    ? { poller: { point: point as CrashPoint, occurrence }, occurrence }
    : { staff: point as StaffPoint, occurrence };
}

/** The store with the staff loop's death points: after a step's claim, after an acknowledgement, before the offset save. */
function crashingStore(store: StateStore, pass: (point: StaffPoint) => void): StateStore {
  return new Proxy(store, {
    get(target, property) {
      const value = Reflect.get(target, property, target) as unknown;
      if (typeof value !== 'function') return value;
      const method = value as (...a: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]) => {
        if (property === 'saveBotOffset') pass('before-offset-save');
        const result = await method.apply(target, args);
        if (property === 'acknowledge') pass('acknowledged');
        if ((property === 'escalate' || property === 'takeOver') && result !== undefined) pass('escalated');
        return result;
      };
    },
  });
}

/** Each call's record, by table, as DynamoDB has it (read apart from the faulty client). */
async function readRecords(
  env: ChaosEnv,
  tableName: string,
  calls: readonly StaffCall[],
): Promise<Map<string, CallRecord>> {
  const db = DynamoDBDocumentClient.from(env.admin);
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :evt)',
        ExpressionAttributeValues: { ':pk': sourcePk(SOURCE_ID), ':evt': 'evt#' },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  const byTable = new Map<string, CallRecord>();
  const tables = new Set(calls.map((c) => c.table));
  for (const item of items) {
    const table = String(item.table);
    if (!tables.has(table)) continue;
    const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
    const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
    const ackAt = num(item.ackAt);
    const ackBy = str(item.ackBy);
    const ackById = str(item.ackById);
    const ackPress = str(item.ackPress);
    byTable.set(table, {
      recordId: String(item.sk).replace(/^evt#/, ''),
      status: String(item.status),
      phase: Number(item.phase ?? 0),
      firstSeenAt: Number(item.firstSeenAt),
      ...(ackAt !== undefined ? { ackAt } : {}),
      ...(ackBy !== undefined ? { ackBy } : {}),
      ...(ackById !== undefined ? { ackById } : {}),
      ...(ackPress !== undefined ? { ackPress } : {}),
    });
  }
  return byTable;
}
