/**
 * The Telegram channel over real HTTP against the Bot API stand-in (telegram-test-api behind our
 * front, started by the test harness): alerts land in a group and a person's chat with the
 * button, a retry never sends a chat twice, a press is read back by getUpdates (and comes back
 * until confirmed), the message is edited to show who took it, later presses are answered; and
 * every failure — rejected token, 5xx page, reset after the send, silence, refused connection, a
 * group upgraded to a supergroup — gets its kind, with the token in no result, error or message.
 * Each test uses its own bot token: the stand-in is shared by parallel test files. Pacing runs on
 * a test clock here (telegram-pacing.test.ts is about time).
 */
import { once } from 'node:events';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startTelegramEmulator } from '../../local/emulators';
import type { TelegramEmulator } from '../../local/telegram-emulator';
import { ackRefersTo, decodeAckData } from '../../lambda/notify/telegram/callback-data';
import { createLogger } from '../../lambda/obs/telemetry';
import { TelegramChannel, type TelegramChannelOptions } from '../../lambda/notify/telegram/channel';
import { TelegramError } from '../../lambda/notify/telegram/errors';
import { DISCOVERY_UPDATES } from '../../lambda/notify/telegram/updates';
import {
  alertFor,
  freshBotToken,
  injectTelegramFault,
  SimulatedStaff,
  TestClock,
  waitForLongPoll,
} from '../support/telegram';

const apiRoot = inject('emulators').telegram;
const HALL = { id: -1001234567890, type: 'supergroup', title: 'Зал' } as const;

function setup(options: Partial<TelegramChannelOptions> = {}) {
  const token = freshBotToken();
  // Pacing sleeps on a test clock: one message a second per chat would only slow the test down.
  const channel = new TelegramChannel({ token, apiRoot, clock: new TestClock(), ...options });
  const ivan = new SimulatedStaff(apiRoot, token, { userId: 7, firstName: 'Иван' }, HALL);
  const olga = new SimulatedStaff(apiRoot, token, { userId: 8, firstName: 'Ольга', lastName: 'К.' }, HALL);
  const anna = new SimulatedStaff(apiRoot, token, { userId: 42, firstName: 'Анна' }, { id: 42, type: 'private' });
  return { token, channel, ivan, olga, anna };
}

describe('sending', () => {
  it('sends the alert to a group and a person, with the button and HTML', async () => {
    const { channel, ivan, anna } = setup();
    const alert = alertFor({ tableName: '<6>', invoice: { sum_to_pay: 1500, currency: 'RUB' } });
    const result = await channel.send({ alert, chats: [HALL.id, 42] });
    expect(result.chats).toEqual([
      { status: 'sent', ok: true, chatId: HALL.id, messageId: expect.any(Number), acknowledgeable: true },
      { status: 'sent', ok: true, chatId: 42, messageId: expect.any(Number), acknowledgeable: true },
    ]);
    const [inHall] = await ivan.botMessages();
    expect(inHall).toMatchObject({ parseMode: 'HTML', buttons: [{ text: 'Иду', data: 'a:pizzeria:0xd8833dd3' }] });
    expect(inHall!.text).toContain('<b>Стол &lt;6&gt;: вызов официанта</b>');
    expect(inHall!.text).toContain('к оплате: 1\u00a0500,00\u00a0₽');
    expect(inHall!.messageId).toBe(result.chats[0]!.ok && result.chats[0]!.messageId);
    expect(await anna.botMessages()).toHaveLength(1);
  });

  it('skips chats done before and duplicates, so a retry never sends a chat twice', async () => {
    const { channel, ivan, anna } = setup();
    const first = await channel.send({ alert: alertFor(), chats: [HALL.id, HALL.id, '-1001234567890'] });
    expect(first.chats).toHaveLength(1);
    const retry = await channel.send({ alert: alertFor(), chats: [HALL.id, 42], done: [String(HALL.id)] });
    expect(retry.chats.map((c) => c.chatId)).toEqual([42]);
    expect(await ivan.botMessages()).toHaveLength(1);
    expect(await anna.botMessages()).toHaveLength(1);
    expect((await channel.send({ alert: alertFor(), chats: [42], done: [42] })).chats).toEqual([]);
  });

  it('puts the button only on calls that need someone to come (configurable)', async () => {
    const { channel, ivan } = setup({ acknowledgeCodes: ['waiter_call', 'new_order'] });
    const results = await Promise.all([
      channel.send({ alert: alertFor({ hash: '0x1', code: 'order_paid' }), chats: [HALL.id] }),
      channel.send({ alert: alertFor({ hash: '0x2', code: 'new_order' }), chats: [HALL.id] }),
      channel.send({ alert: alertFor({ hash: '0x3', code: 'bill_request' }), chats: [HALL.id], acknowledge: true }),
    ]);
    expect(results.map((r) => r.chats[0]!.ok && r.chats[0]!.acknowledgeable)).toEqual([false, true, true]);
    const buttons = (await ivan.botMessages()).map((m) => m.buttons.length);
    expect(buttons.sort()).toEqual([0, 1, 1]);
  });

  it('encodes a hash too long for the button as a digest the press can be matched by', async () => {
    const { channel, ivan } = setup();
    const hash = `0x${'ab'.repeat(63)}`; // 128 characters
    await channel.send({ alert: alertFor({ hash }), chats: [HALL.id] });
    const [message] = await ivan.botMessages();
    const data = message!.buttons[0]!.data!;
    expect(Buffer.byteLength(data)).toBeLessThanOrEqual(64);
    const reference = decodeAckData(data)!;
    expect(reference.form).toBe('digest');
    expect(ackRefersTo(reference, 'pizzeria', hash)).toBe(true);
  });

  it('registers the token with the log redaction as soon as the channel has it', () => {
    const { token } = setup();
    const lines: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => lines.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      createLogger({ level: 'INFO' }).info(`calling https://api.telegram.org/bot${token}/sendMessage`, { token });
    } finally {
      process.stdout.write = write;
    }
    expect(lines.join('')).toContain('/bot***/sendMessage');
    expect(lines.join('')).not.toContain(token);
  });

  it('sends to the new id when the group became a supergroup, and says so', async () => {
    const { token, channel } = setup();
    await injectTelegramFault(apiRoot, {
      token,
      method: 'sendMessage',
      chatId: -5,
      type: 'error',
      status: 400,
      description: 'Bad Request: group chat was upgraded to a supergroup chat',
      migrateToChatId: -1005,
    });
    const result = await channel.send({ alert: alertFor(), chats: [-5] });
    expect(result.chats[0]).toMatchObject({ status: 'sent', chatId: -5, migratedTo: -1005 });
  });
});

describe('presses and acknowledgement', () => {
  it('reads a press, edits the message to show who took it, and tells later pressers', async () => {
    const { channel, ivan, olga } = setup();
    const sent = await channel.send({ alert: alertFor(), chats: [HALL.id] });
    const messageId = sent.chats[0]!.ok ? sent.chats[0]!.messageId : -1;
    await ivan.press(messageId);
    const first = await channel.getUpdates(undefined, 0);
    expect(first.presses).toEqual([
      {
        updateId: expect.any(Number),
        callbackQueryId: expect.any(String),
        data: 'a:pizzeria:0xd8833dd3',
        from: { id: 7, name: 'Иван' },
        chatId: HALL.id,
        messageId,
        at: expect.any(Number),
      },
    ]);
    expect(decodeAckData(first.presses[0]!.data)).toEqual({ form: 'hash', sourceId: 'pizzeria', hash: '0xd8833dd3' });

    // Not confirmed yet: the same press comes back (what makes "processed once across crashes" possible).
    const again = await channel.getUpdates(undefined, 0);
    expect(again.presses.map((p) => p.updateId)).toEqual([first.presses[0]!.updateId]);

    expect(
      await channel.markAcknowledged(HALL.id, messageId, {
        tableName: '6',
        by: 'Иван',
        responseMs: 42_000,
        code: 'waiter_call',
        sourceName: 'Пиццерия на Ленина',
      }),
    ).toEqual({ status: 'edited', ok: true });
    expect(await channel.answerPress(first.presses[0]!.callbackQueryId, 'Принято: Стол 6')).toEqual({ ok: true });
    const [edited] = await ivan.botMessages();
    expect(edited!.text).toBe('✅ <b>Стол 6</b> — Иван, 0:42\n<i>вызов официанта · Пиццерия на Ленина</i>');
    expect(edited!.buttons).toEqual([]);

    await olga.press(messageId, first.presses[0]!.data);
    const later = await channel.getUpdates(first.nextOffset, 0);
    expect(later.presses.map((p) => p.from)).toEqual([{ id: 8, name: 'Ольга К.' }]);
    expect(await channel.answerPress(later.presses[0]!.callbackQueryId, 'Уже идёт: Иван')).toEqual({ ok: true });
    // confirmed: nothing comes back
    expect((await channel.getUpdates(later.nextOffset, 0)).presses).toEqual([]);
  });

  it('long-polls: a press is seen as soon as it is made', async () => {
    const { channel, ivan, token } = setup();
    const sent = await channel.send({ alert: alertFor(), chats: [HALL.id] });
    const started = Date.now();
    // The poll may wait 20 s; it must answer when the press comes, not when the wait ends. The bound is
    // half the wait so that a loaded machine cannot fail it, and the wait cannot pass it.
    const poll = channel.getUpdates(undefined, 20);
    await waitForLongPoll(apiRoot, token);
    await ivan.press(sent.chats[0]!.ok ? sent.chats[0]!.messageId : -1);
    const updates = await poll;
    expect(updates.presses).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('receives only the update types asked for; discovery asks for chats too', async () => {
    const { channel, anna } = setup();
    await anna.say('/start');
    expect(await channel.getUpdates(undefined, 0)).toMatchObject({ presses: [], chats: [] });
    await anna.say('hello again');
    const found = await channel.getUpdates(undefined, 0, { allowedUpdates: DISCOVERY_UPDATES });
    expect(found.chats).toMatchObject([{ chatId: 42, type: 'private', title: 'Анна', via: 'message' }]);
  });

  it('a second long poll of the same bot ends the first with a conflict (409)', async () => {
    const { channel, token } = setup();
    const first = channel.getUpdates(undefined, 20).catch((e: unknown) => e);
    await waitForLongPoll(apiRoot, token);
    const second = channel.getUpdates(undefined, 1);
    const error = await first;
    expect(error).toBeInstanceOf(TelegramError);
    expect((error as TelegramError).failure).toMatchObject({ kind: 'transient', reason: 'conflict', errorCode: 409 });
    await second;
  });

  it('an edit that changes nothing counts as done (a retried acknowledgement)', async () => {
    const { token, channel } = setup();
    await injectTelegramFault(apiRoot, {
      token,
      method: 'editMessageText',
      type: 'error',
      status: 400,
      description:
        'Bad Request: message is not modified: specified new message content and reply markup are exactly the same',
    });
    expect(await channel.markAcknowledged(HALL.id, 1, { tableName: '6', by: 'Иван', responseMs: 1 })).toEqual({
      status: 'edited',
      ok: true,
      alreadyEdited: true,
    });
  });
});

describe('failures, and the token in none of them', () => {
  let strict: TelegramEmulator;
  let silent: { port: number; close: () => Promise<void> };
  const seen: string[] = [];
  const record = <T>(value: T): T => {
    seen.push(JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message } : v)));
    return value;
  };

  beforeAll(async () => {
    strict = await startTelegramEmulator({ validTokens: ['1:AAonly-this-one'] });
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket)); // accepts, never answers
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    silent = {
      port: (server.address() as AddressInfo).port,
      close: () =>
        new Promise((resolve) => {
          for (const s of sockets) s.destroy();
          server.close(() => resolve());
        }),
    };
  });
  afterAll(async () => {
    await strict?.stop();
    await silent?.close();
  });

  it('a rejected token: permanent, for every chat and call', async () => {
    const token = freshBotToken();
    const channel = new TelegramChannel({ token, apiRoot: strict.endpoint, clock: new TestClock() });
    const result = record(await channel.send({ alert: alertFor(), chats: [HALL.id, 42] }));
    expect(result.chats.map((c) => c.status === 'failed' && [c.kind, c.reason])).toEqual([
      ['permanent', 'token'],
      ['permanent', 'token'],
    ]);
    const error = record(await channel.getMe().catch((e: unknown) => e));
    expect(error).toBeInstanceOf(TelegramError);
    expect((error as TelegramError).failure).toMatchObject({ reason: 'token', errorCode: 401 });
    record(await channel.markAcknowledged(42, 1, { tableName: '6', by: 'x', responseMs: 1 }));
    record(await channel.answerPress('1', 'x'));
    expect(seen.join('\n')).not.toContain(token);
  });

  it('a 502 page and a reset after the send: transient and ambiguous (the reset one did arrive)', async () => {
    const { token, channel, ivan } = setup();
    await injectTelegramFault(apiRoot, { token, method: 'sendMessage', type: 'html' });
    const page = record(await channel.send({ alert: alertFor(), chats: [HALL.id] }));
    expect(page.chats[0]).toMatchObject({ status: 'failed', kind: 'transient', ambiguous: true });
    await injectTelegramFault(apiRoot, { token, method: 'sendMessage', type: 'reset' });
    const reset = record(await channel.send({ alert: alertFor(), chats: [HALL.id] }));
    expect(reset.chats[0]).toMatchObject({ status: 'failed', kind: 'transient', ambiguous: true });
    expect(await ivan.botMessages()).toHaveLength(1); // it was sent all the same
    expect(seen.join('\n')).not.toContain(token);
  });

  it('silence: transient and ambiguous within the request timeout', async () => {
    const token = freshBotToken();
    const channel = new TelegramChannel({ token, apiRoot: `http://127.0.0.1:${silent.port}`, requestTimeoutMs: 300 });
    const started = Date.now();
    const result = record(await channel.send({ alert: alertFor(), chats: [HALL.id] }));
    expect(result.chats[0]).toMatchObject({ status: 'failed', kind: 'transient', reason: 'timeout', ambiguous: true });
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(seen.join('\n')).not.toContain(token);
  });

  it('a refused connection: transient, not ambiguous (nothing was sent)', async () => {
    const token = freshBotToken();
    const channel = new TelegramChannel({ token, apiRoot: `http://127.0.0.1:${await freePort()}` });
    const result = record(await channel.send({ alert: alertFor(), chats: [HALL.id] }));
    expect(result.chats[0]).toMatchObject({ status: 'failed', kind: 'transient', reason: 'network' });
    expect(result.chats[0]).not.toHaveProperty('ambiguous');
    const error = record(await channel.getUpdates(undefined, 0).catch((e: unknown) => e));
    expect((error as TelegramError).failure).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(seen.join('\n')).not.toContain(token);
  });

  it('a token resolver that fails: permanent, with its own message', async () => {
    const channel = new TelegramChannel({
      token: async () => {
        throw new Error('the Telegram bot token is not set: put it in the environment variable TELEGRAM_BOT_TOKEN');
      },
      apiRoot,
    });
    const result = await channel.send({ alert: alertFor(), chats: [HALL.id] });
    expect(result.chats[0]).toMatchObject({ status: 'failed', kind: 'permanent', reason: 'token' });
    expect(result.chats[0]!.ok === false && 'message' in result.chats[0]! && result.chats[0].message).toMatch(
      /TELEGRAM_BOT_TOKEN/,
    );
  });
});
