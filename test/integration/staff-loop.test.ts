/**
 * The staff loop over real peers: the QR-menu simulator, DynamoDB Local, the SES emulator and the
 * Telegram Bot API stand-in with simulated waiters pressing "Иду". An attendance call reaches the
 * hall's group with the button; the first press wins and the message shows who is coming; a call
 * nobody answers is escalated step by step, each step once, and an acknowledgement stops it; a
 * press processed again after a crash changes nothing; outside opening hours only the routes
 * marked `always` are paged. The poller's clock is a manual one; the bot's pacing runs on it too.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { parseAlertsConfig } from '../../lambda/config/schema';
import type { DeliveryRequest, DeliveryResult } from '../../lambda/domain/delivery';
import { METRIC } from '../../lambda/domain/metrics';
import type { AckOutcome, FeedEntry, StaffBot } from '../../lambda/domain/ports';
import { createDeliverer } from '../../lambda/notify/deliverer';
import { TelegramChannel, telegramStaffBot } from '../../lambda/notify/telegram';
import { PressLoop } from '../../lambda/poller/presses';
import { StateStore } from '../../lambda/state/store';
import {
  ManualClock,
  RecordingLog,
  RecordingMetrics,
  countingDynamoDbClient,
  freshTable,
  makePoller,
  type PollerKit,
} from '../support/harness';
import { freshBotToken, SimulatedStaff } from '../support/telegram';

const TOKEN = 'staff-loop-token-5';
const apiRoot = inject('emulators').telegram;
const HALL = { id: -1001000000001, type: 'supergroup', title: 'Зал' } as const;
const MANAGERS = { id: -1001000000002, type: 'group', title: 'Менеджеры' } as const;
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;
let kit: PollerKit;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 77 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  sim.restart();
  kit = {
    clock,
    sim,
    token: TOKEN,
    store: new StateStore({ tableName: await freshTable(), client: db.client }),
  };
});

function setup(options: { openingHours?: Record<string, string>; managerPagesAtNight?: boolean } = {}) {
  const bot = freshBotToken();
  const config = parseAlertsConfig({
    timeZone: 'Europe/Moscow',
    sources: [
      {
        id: 'pizzeria',
        name: 'Пиццерия',
        url: sim.url,
        allowPlainHttp: true,
        ...(options.openingHours ? { openingHours: options.openingHours } : {}),
      },
    ],
    routes: [
      {
        name: 'hall',
        codes: ['waiter_call', 'bill_request'],
        telegram: [HALL.id],
        escalate: [
          { afterSeconds: 120, to: 'manager' },
          { afterSeconds: 300, to: 'owner' },
        ],
      },
      options.managerPagesAtNight
        ? { name: 'manager', codes: ['waiter_call', 'bill_request'], telegram: [MANAGERS.id], always: true }
        : { name: 'manager', telegram: [MANAGERS.id], escalationOnly: true },
      { name: 'owner', email: ['owner@pizzeria.example'], escalationOnly: true },
    ],
    email: { from: 'alerts@pizzeria.example' },
    telegram: { token: { value: bot }, apiRoot },
    delivery: { cooldownSeconds: 0 },
  });
  // The bot paces on the poller's clock; nothing here sends fast enough to wait.
  const telegram = new TelegramChannel({
    token: bot,
    apiRoot,
    clock: { now: clock.now, sleep: async () => {} },
    pacing: { perChatIntervalMs: 0, groupMessagesPerWindow: 1_000, globalMessagesPerWindow: 1_000 },
  });
  const real = createDeliverer({ config, telegram, now: clock.now });
  const sends: { hash: string; phase: number; channels: string[] }[] = [];
  const deliverer = {
    attendance: real.attendance!,
    async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
      const result = await real.deliver(request);
      const ok = result.channels.filter((c) => c.ok).map((c) => c.channel);
      sends.push({ hash: request.event.hash, phase: request.phase ?? 0, channels: ok });
      return result;
    },
  };
  const feed: FeedEntry[] = [];
  const metrics = new RecordingMetrics();
  const poller = () => makePoller(kit, { deliverer, observer: (e) => feed.push(e), metrics });
  const presses = (store = kit.store, staffBot: StaffBot = telegramStaffBot(telegram)) =>
    new PressLoop({
      bot: 'telegram',
      staff: staffBot,
      store,
      sources: new Map([['pizzeria', 'Пиццерия']]),
      owner: `presses-${clock.now()}-${Math.random()}`,
      clock,
      log: new RecordingLog(),
      metrics,
      observer: (e) => feed.push(e),
      maxWaitSeconds: 0,
    });
  const staff = (userId: number, firstName: string, chat: typeof HALL | typeof MANAGERS = HALL) =>
    new SimulatedStaff(apiRoot, bot, { userId, firstName }, chat);
  return { config, poller, presses, staff, sends, feed, metrics, telegram };
}

/** Invocations of a minute (five 10-s ticks), the press loop read after every tick. */
async function run(minutes: number, s: ReturnType<typeof setup>, each?: (tick: number) => Promise<void> | void) {
  for (let m = 0; m < minutes; m += 1) {
    const start = clock.now();
    const poller = s.poller();
    const loop = s.presses();
    await poller.begin(start + 55_000);
    await loop.begin(start + 55_000);
    for (let t = 0; t < 5; t += 1) {
      await each?.(m * 5 + t);
      await poller.tick(start + 55_000);
      await loop.poll(clock.now());
      clock.advance(10_000);
    }
    await loop.end();
    await poller.end();
    clock.t = start + 60_000;
  }
}

const record = async (hash: string) => (await kit.store.findRecorded('pizzeria', [hash])).get(hash);

describe('acknowledgement', () => {
  it('the call reaches the hall with the button; the first press wins and the message shows who is coming', async () => {
    const s = setup();
    await run(1, s);
    const call = sim.inject({ code: 'waiter_call', tableName: '6' });
    const ivan = s.staff(7, 'Иван');
    const olga = s.staff(8, 'Ольга');
    await run(1, s, async (tick) => {
      if (tick !== 2) return;
      const message = await ivan.waitForMessage((m) => m.buttons.length > 0);
      expect(message.buttons[0]).toMatchObject({ text: 'Иду', data: `a:pizzeria:${call.hash}` });
      await ivan.press(message.messageId);
      await olga.press(message.messageId, message.buttons[0]!.data);
    });
    const acks = s.feed.filter((e) => e.type === 'acknowledged');
    expect(acks).toEqual([
      { type: 'acknowledged', source: 'pizzeria', hash: call.hash, table: '6', by: 'Иван', responseMs: 20_000 },
    ]);
    const [message] = await ivan.botMessages();
    expect(message!.text).toContain('✅');
    expect(message!.text).toContain('Иван');
    expect(message!.buttons).toEqual([]);
    expect(s.metrics.get(METRIC.acknowledgements)).toBe(1);
    // Acknowledged in time: nobody else hears of it, however long we wait.
    await run(6, s);
    expect(s.sends.filter((x) => x.hash === call.hash).map((x) => x.phase)).toEqual([0]);
    expect(await s.staff(9, 'Менеджер', MANAGERS).botMessages()).toEqual([]);
  });
});

describe('escalation', () => {
  it('a call nobody answers goes to the manager after 2 minutes and the owner after 5, each step once', async () => {
    const s = setup();
    await run(1, s);
    const call = sim.inject({ code: 'bill_request', tableName: '9' });
    await run(7, s);
    const phases = s.sends.filter((x) => x.hash === call.hash).map((x) => x.phase);
    expect(phases).toEqual([0, 1, 2]);
    const toManager = await s.staff(9, 'Менеджер', MANAGERS).botMessages();
    expect(toManager).toHaveLength(1);
    expect(toManager[0]!.text).toMatch(/Без ответа 2:\d\d/);
    expect(s.sends.find((x) => x.phase === 2)?.channels).toEqual(['email']);
    const steps = s.feed.filter((e) => e.type === 'escalated');
    expect(steps.map((e) => e.type === 'escalated' && e.step)).toEqual([1, 2]);
    expect(s.metrics.get(METRIC.unansweredCalls)).toBe(1);
  });

  it('stops when someone acknowledges: the manager presses on the escalated message, the owner never hears', async () => {
    const s = setup();
    await run(1, s);
    const call = sim.inject({ code: 'waiter_call', tableName: '3' });
    const manager = s.staff(9, 'Мария', MANAGERS);
    await run(6, s, async () => {
      const escalated = (await manager.botMessages()).find((m) => m.buttons.length > 0);
      if (escalated) await manager.press(escalated.messageId);
    });
    expect(s.sends.filter((x) => x.hash === call.hash).map((x) => x.phase)).toEqual([0, 1]);
    expect((await record(call.hash))?.status).toBe('delivered');
    const ack = s.feed.find((e) => e.type === 'acknowledged');
    expect(ack).toMatchObject({ by: 'Мария', hash: call.hash });
    // Every message of the call, the hall's too, shows who took it.
    for (const chat of [s.staff(7, 'Иван'), manager]) {
      const [message] = await chat.botMessages();
      expect(message!.text).toContain('Мария');
    }
  });
});

describe('a press processed again', () => {
  it('after a crash between the write and the rest: acknowledged once, counted once', async () => {
    const s = setup();
    await run(1, s);
    const call = sim.inject({ code: 'waiter_call', tableName: '5' });
    await run(1, s);
    const ivan = s.staff(7, 'Иван');
    const [message] = await ivan.botMessages();
    await ivan.press(message!.messageId);
    // The first reader dies right after its acknowledgement is written: nothing else happens.
    const dying = new Proxy(kit.store, {
      get(target, property) {
        if (property === 'acknowledge') {
          return async (...args: Parameters<StateStore['acknowledge']>): Promise<AckOutcome> => {
            await target.acknowledge(...args);
            throw new Error('the process died');
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const first = s.presses(dying);
    await first.begin(clock.now() + 55_000);
    await first.poll(clock.now());
    // Its lease runs out; the next invocation reads the press again (it was never confirmed).
    clock.advance(60_000);
    await run(1, s);
    expect(s.feed.filter((e) => e.type === 'acknowledged')).toHaveLength(0); // the first happened in the dead one
    expect(s.metrics.get(METRIC.acknowledgements)).toBe(0);
    const [edited] = await ivan.botMessages();
    expect(edited!.text).toContain('Иван');
    expect(edited!.buttons).toEqual([]);
    // And the call is not escalated: it was acknowledged.
    await run(5, s);
    expect(s.sends.filter((x) => x.hash === call.hash).map((x) => x.phase)).toEqual([0]);
  });
});

describe('a press under a crash at every step of its processing', () => {
  const POINTS = ['read', 'acknowledged', 'edited', 'answered', 'before-offset-save'] as const;

  it.each(POINTS)(
    'dies at "%s": the call is acknowledged once, by the first presser, escalation stops',
    async (point) => {
      const s = setup();
      await run(1, s);
      const call = sim.inject({ code: 'waiter_call', tableName: '8' });
      await run(1, s);
      const ivan = s.staff(7, 'Иван');
      const olga = s.staff(8, 'Ольга');
      const [message] = await ivan.botMessages();
      await ivan.press(message!.messageId);
      await olga.press(message!.messageId);
      let dead = false;
      const die = (at: (typeof POINTS)[number]) => {
        if (dead) throw new Error('the process is dead');
        if (at === point) {
          dead = true;
          throw new Error(`died at ${at}`);
        }
      };
      const real = telegramStaffBot(s.telegram);
      const staff: StaffBot = {
        async nextPresses(offset, wait) {
          const batch = await real.nextPresses(offset, wait);
          die('read');
          return batch;
        },
        async showAcknowledged(...args) {
          const shown = await real.showAcknowledged(...args);
          die('edited');
          return shown;
        },
        async answer(...args) {
          await real.answer(...args);
          die('answered');
        },
      };
      const store = new Proxy(kit.store, {
        get(target, property) {
          const value = Reflect.get(target, property, target) as unknown;
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            if (dead) throw new Error('the process is dead');
            if (property === 'saveBotOffset') die('before-offset-save');
            const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            if (property === 'acknowledge') die('acknowledged');
            return result;
          };
        },
      });
      const dying = s.presses(store, staff);
      await dying.begin(clock.now() + 55_000);
      await dying.poll(clock.now()).catch(() => undefined);
      await dying.end().catch(() => undefined);
      clock.advance(60_000); // its lease is over: the next invocation reads what was not confirmed
      await run(6, s);
      const acknowledged = await kit.store.acknowledge('pizzeria', call.hash, {
        at: clock.now(),
        by: 'probe',
        byId: '0',
        pressId: 'probe',
      });
      expect(acknowledged).toMatchObject({ outcome: 'taken', call: { ackBy: 'Иван' } });
      expect(s.feed.filter((e) => e.type === 'acknowledged').length).toBeLessThanOrEqual(1);
      // The crash delays the press by a run: the first step may go out meanwhile, never the second.
      expect(s.sends.filter((x) => x.hash === call.hash).map((x) => x.phase)).not.toContain(2);
      const [edited] = await ivan.botMessages();
      expect(edited!.text).toContain('Иван');
      expect(edited!.buttons).toEqual([]);
    },
  );
});

describe('opening hours', () => {
  it('outside them the call is recorded, and only the routes marked always are paged', async () => {
    // 2020-01-06 18:00 UTC is 21:00 in Moscow: closed.
    const s = setup({ openingHours: { 'mon-sun': '10:00-20:00' }, managerPagesAtNight: true });
    await run(1, s);
    const call = sim.inject({ code: 'waiter_call', tableName: '1' });
    await run(1, s);
    expect(await s.staff(7, 'Иван').botMessages()).toEqual([]);
    expect(await s.staff(9, 'Менеджер', MANAGERS).botMessages()).toHaveLength(1);
    expect((await record(call.hash))?.status).toBe('delivered');
  });
});
