/**
 * `npm run telegram:chats` as a process against the Bot API stand-in: it lists the chats that
 * wrote to the bot or added it (a person, a group, a channel, an upgraded group) with the config
 * lines to paste, confirms nothing (a second run lists the same), explains what to do when there
 * are none, and exits 2 for a missing or rejected token and 3 for an unreachable API — never
 * printing the token, whether it came from --token or TELEGRAM_BOT_TOKEN.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, startTelegramEmulator } from '../../local/emulators';
import { configLine, EXIT, summarizeChats } from '../../local/telegram-chats';
import type { TelegramEmulator } from '../../local/telegram-emulator';
import { freshBotToken, injectTelegramUpdate, SimulatedStaff } from '../support/telegram';

const apiRoot = inject('emulators').telegram;

async function chats(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'local/telegram-chats.ts', ...args],
      { env: { ...process.env, TELEGRAM_BOT_TOKEN: '', ...env }, timeout: 20_000 },
    );
    return { code: 0, out: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

describe('npm run telegram:chats', () => {
  let strict: TelegramEmulator;
  beforeAll(async () => {
    strict = await startTelegramEmulator({ validTokens: ['1:AAthe-only-valid-one'] });
  });
  afterAll(async () => {
    await strict?.stop();
  });

  it('lists the chats with the lines to paste, and confirms nothing', async () => {
    const token = freshBotToken();
    await new SimulatedStaff(
      apiRoot,
      token,
      { userId: 42, firstName: 'Анна', username: 'anna' },
      { id: 42, type: 'private' },
    ).say('/start');
    await new SimulatedStaff(
      apiRoot,
      token,
      { userId: 7, firstName: 'Иван' },
      { id: -1001234567890, type: 'supergroup', title: 'Зал' },
    ).say('/start@TestNameBot');
    await injectTelegramUpdate(apiRoot, token, {
      my_chat_member: {
        chat: { id: -1009876543210, type: 'channel', title: 'Алерты кухни' },
        from: { id: 7, is_bot: false, first_name: 'Иван' },
        date: 1,
        old_chat_member: { status: 'left', user: { id: 666, is_bot: true, first_name: 'Bot' } },
        new_chat_member: { status: 'administrator', user: { id: 666, is_bot: true, first_name: 'Bot' } },
      },
    });
    const { code, out } = await chats(['--token', token, '--api-root', apiRoot]);
    expect(out).toContain('Bot @TestNameBot (id 666): token accepted.');
    expect(out).toMatch(/42\s+private\s+Анна \(@anna\)/);
    expect(out).toMatch(/-1001234567890\s+supergroup\s+Зал/);
    expect(out).toContain('telegram: [42]  # Анна (@anna) (private)');
    expect(out).toContain('telegram: [-1001234567890]  # Зал (supergroup)');
    expect(out).toContain('telegram: [-1009876543210]  # Алерты кухни (channel)');
    expect(code).toBe(EXIT.ok);
    expect(out).not.toContain(token);

    const again = await chats(['--token', token, '--api-root', apiRoot, '--json']);
    expect(again.code).toBe(EXIT.ok);
    expect(JSON.parse(again.out).chats.map((c: { chatId: number }) => c.chatId)).toEqual([
      42, -1001234567890, -1009876543210,
    ]);
  });

  it('explains how to make a chat appear when there is none (exit 1)', async () => {
    const token = freshBotToken();
    const { code, out } = await chats(['--api-root', apiRoot], { TELEGRAM_BOT_TOKEN: token });
    expect(code).toBe(EXIT.none);
    expect(out).toContain('No chats yet');
    expect(out).toContain('/start@TestNameBot');
    expect(out).not.toContain(token);
  });

  it('exits 2 for a missing, malformed or rejected token, without printing it', async () => {
    const missing = await chats(['--api-root', apiRoot]);
    expect(missing.code).toBe(EXIT.token);
    expect(missing.out).toContain('TELEGRAM_BOT_TOKEN');
    const malformed = await chats(['--token', 'my secret token', '--api-root', apiRoot]);
    expect(malformed.code).toBe(EXIT.token);
    expect(malformed.out).not.toContain('my secret token');
    const wrong = freshBotToken();
    const rejected = await chats(['--api-root', strict.endpoint], { TELEGRAM_BOT_TOKEN: wrong });
    expect(rejected.code).toBe(EXIT.token);
    expect(rejected.out).toMatch(/rejected the bot token \(401: Unauthorized\)/);
    expect(rejected.out).not.toContain(wrong);
  });

  it('exits 3 when the Bot API cannot be reached', async () => {
    const token = freshBotToken();
    const { code, out } = await chats(['--token', token, '--api-root', `http://127.0.0.1:${await freePort()}`]);
    expect(code).toBe(EXIT.unreachable);
    expect(out).toContain('cannot reach the Bot API');
    expect(out).not.toContain(token);
  });
});

describe('summarizeChats', () => {
  it('keeps the latest state per chat and points an upgraded group at its supergroup', () => {
    const found = summarizeChats([
      { chatId: -5, type: 'group', title: 'Кухня', via: 'message', updateId: 1 },
      { chatId: -1005, type: 'supergroup', title: 'Бар', via: 'added', updateId: 2 },
      { chatId: -1005, type: 'supergroup', title: 'Бар', via: 'removed', updateId: 3 },
      { chatId: -5, type: 'group', title: 'Кухня', via: 'removed', updateId: 4 },
      { chatId: -1006, type: 'supergroup', title: 'Кухня', via: 'migrated', migratedFrom: -5, updateId: 4 },
    ]);
    expect(found).toEqual([
      { chatId: -5, type: 'group', title: 'Кухня', gone: 'migrated', migratedTo: -1006 },
      { chatId: -1005, type: 'supergroup', title: 'Бар', gone: 'removed' },
      { chatId: -1006, type: 'supergroup', title: 'Кухня' },
    ]);
    expect(configLine(found[2]!)).toBe('telegram: [-1006]  # Кухня (supergroup)');
  });
});
