/**
 * Pacing over real HTTP against the Bot API stand-in, on a test clock (no sleeps waiting for
 * luck): a burst to one group is spread at one a second and 20 a minute and never dropped; sends
 * that cannot start before the caller's deadline come back deferred (not attempted) and go on
 * the next tick; a 429 with retry_after (injected by the stand-in's front) makes that chat wait
 * and the send succeed afterwards, while other chats go on; two throttled chats stop everything.
 * A transformer of our Bot API client records the clock's time of every request.
 */
import { describe, expect, inject, it } from 'vitest';
import type { BotApiTransformer } from '../../lambda/notify/telegram/bot-api';
import { TelegramChannel, type TelegramChatResult } from '../../lambda/notify/telegram/channel';
import { alertFor, freshBotToken, injectTelegramFault, SimulatedStaff, TestClock } from '../support/telegram';

const apiRoot = inject('emulators').telegram;
const GROUP = { id: -1002000000001, type: 'supergroup', title: 'Зал' } as const;

function setup() {
  const token = freshBotToken();
  const clock = new TestClock();
  const start = clock.now();
  const requests: { method: string; chat: string; at: number }[] = [];
  const recorder: BotApiTransformer = (prev, method, payload, signal) => {
    requests.push({ method, chat: String((payload as { chat_id?: unknown }).chat_id), at: clock.now() - start });
    return prev(method, payload, signal);
  };
  const channel = new TelegramChannel({ token, apiRoot, clock, transformers: [recorder] });
  const staff = new SimulatedStaff(apiRoot, token, { userId: 1, firstName: 'Иван' }, GROUP);
  const sends = (chat: number) => requests.filter((r) => r.method === 'sendMessage' && r.chat === String(chat));
  return { token, clock, start, channel, staff, requests, sends };
}

const alert = (i: number) => alertFor({ hash: `0x${i.toString(16).padStart(8, '0')}`, tableName: String(i) });
const only = (result: { chats: readonly TelegramChatResult[] }) => result.chats[0]!;

describe('pacing against the stand-in', () => {
  it('spreads a burst of 25 alerts to one group: 1 a second, 20 a minute, none dropped', async () => {
    const { channel, staff, sends } = setup();
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => channel.send({ alert: alert(i), chats: [GROUP.id] })),
    );
    expect(results.every((r) => only(r).status === 'sent')).toBe(true);
    const times = sends(GROUP.id).map((r) => r.at);
    expect(times).toEqual([...Array.from({ length: 20 }, (_, i) => i * 1000), 60_000, 61_000, 62_000, 63_000, 64_000]);
    expect(await staff.botMessages()).toHaveLength(25);
  });

  it('returns what cannot start before the deadline as deferred, and sends it on the next tick', async () => {
    const { clock, start, channel, staff, sends } = setup();
    const first = await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        channel.send({ alert: alert(i), chats: [GROUP.id], deadline: start + 10_000 }),
      ),
    );
    const sent = first.filter((r) => only(r).status === 'sent');
    const deferred = first.map(only).filter((c) => c.status === 'deferred');
    expect(sent).toHaveLength(11);
    expect(deferred.map((c) => c.status === 'deferred' && c.notBefore - start)).toEqual([
      11_000, 12_000, 13_000, 14_000, 15_000, 16_000, 17_000, 18_000, 19_000, 60_000, 61_000, 62_000, 63_000, 64_000,
    ]);
    expect(await staff.botMessages()).toHaveLength(11); // deferred = not attempted

    // The next tick, a minute on: the deferred ones go, the rest of the window still respected.
    clock.advance(60_000 - (clock.now() - start));
    const next = await Promise.all(
      first
        .map((r, i) => ({ r, i }))
        .filter(({ r }) => only(r).status === 'deferred')
        .map(({ i }) => channel.send({ alert: alert(i), chats: [GROUP.id] })),
    );
    expect(next.every((r) => only(r).status === 'sent')).toBe(true);
    expect(await staff.botMessages()).toHaveLength(25);
    expect(
      sends(GROUP.id)
        .slice(11)
        .map((r) => r.at),
    ).toEqual([
      60_000, 61_000, 62_000, 63_000, 64_000, 65_000, 66_000, 67_000, 68_000, 69_000, 70_000, 71_000, 72_000, 73_000,
    ]);
  });

  it('waits out a 429 in that chat and then sends; another chat is not held up', async () => {
    const { token, channel, staff, sends } = setup();
    await injectTelegramFault(apiRoot, { token, method: 'sendMessage', chatId: GROUP.id, status: 429, retryAfter: 3 });
    const [throttled, other] = await Promise.all([
      channel.send({ alert: alert(1), chats: [GROUP.id] }),
      channel.send({ alert: alert(2), chats: [42] }),
    ]);
    expect(only(throttled).status).toBe('sent');
    expect(only(other).status).toBe('sent');
    expect(sends(GROUP.id).map((r) => r.at)).toEqual([0, 3_000]);
    expect(sends(42).map((r) => r.at)).toEqual([0]);
    expect(await staff.botMessages()).toHaveLength(1);
  });

  it('a 429 whose wait ends after the deadline: throttled, with the wait; the chat waits it out', async () => {
    const { token, start, channel, sends } = setup();
    await injectTelegramFault(apiRoot, { token, method: 'sendMessage', chatId: GROUP.id, status: 429, retryAfter: 30 });
    const result = await channel.send({ alert: alert(1), chats: [GROUP.id], deadline: start + 10_000 });
    expect(only(result)).toMatchObject({ status: 'failed', kind: 'throttled', retryAfterMs: 30_000 });
    const later = await channel.send({ alert: alert(1), chats: [GROUP.id] });
    expect(only(later).status).toBe('sent');
    expect(sends(GROUP.id).map((r) => r.at)).toEqual([0, 30_000]);
  });

  it('two chats throttled at once: every chat waits (the overall limit)', async () => {
    const { token, channel, sends } = setup();
    await injectTelegramFault(apiRoot, { token, method: 'sendMessage', chatId: -1, status: 429, retryAfter: 5 });
    await injectTelegramFault(apiRoot, { token, method: 'sendMessage', chatId: -2, status: 429, retryAfter: 5 });
    const [a, b] = await Promise.all([
      channel.send({ alert: alert(1), chats: [-1], deadline: Number.POSITIVE_INFINITY }),
      channel.send({ alert: alert(2), chats: [-2] }),
    ]);
    expect([only(a).status, only(b).status]).toEqual(['sent', 'sent']);
    const c = await channel.send({ alert: alert(3), chats: [-3] });
    expect(only(c).status).toBe('sent');
    expect(sends(-3)[0]!.at).toBeGreaterThanOrEqual(5_000);
  });

  it('gives up after the configured number of 429s within one call', async () => {
    const { token, channel, sends } = setup();
    await injectTelegramFault(apiRoot, {
      token,
      method: 'sendMessage',
      chatId: GROUP.id,
      status: 429,
      retryAfter: 2,
      times: 5,
    });
    const result = await channel.send({ alert: alert(1), chats: [GROUP.id] });
    expect(only(result)).toMatchObject({ status: 'failed', kind: 'throttled', retryAfterMs: 2_000 });
    expect(sends(GROUP.id).map((r) => r.at)).toEqual([0, 2_000, 4_000]); // 1 + maxThrottleRetries (2)
  });
});
