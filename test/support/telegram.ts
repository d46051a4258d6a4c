/**
 * Test helpers for the Telegram channel: a clock that moves only when slept on or told (like the
 * harness's ManualClock, starting in 2020), a fresh bot token per test (the shared stand-in keeps
 * each bot's updates apart), an alert to send, and the simulated staff of local/telegram-emulator.ts.
 */
import { randomInt } from 'node:crypto';
import type { PacerClock } from '../../lambda/notify/pacing/turns';
import type { TelegramAlertInput } from '../../lambda/notify/telegram/texts';
export {
  clearTelegramFaults,
  injectTelegramFault,
  injectTelegramUpdate,
  SimulatedStaff,
  waitForLongPoll,
  type BotMessage,
} from '../../local/telegram-emulator';

/**
 * Time that passes only through `sleep` and `advance`; records every sleep. A sleep first lets
 * everything already started run up to its next I/O (one macrotask), so whoever was handed a turn
 * just before makes its request at the time of that turn, not after the next sleep.
 */
export class TestClock implements PacerClock {
  readonly sleeps: number[] = [];
  constructor(public t = Date.UTC(2020, 0, 6, 18, 0, 0)) {}
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    await new Promise((resolve) => setImmediate(resolve));
    this.t += Math.max(0, ms);
  };
  advance(ms: number): void {
    this.t += ms;
  }
}

/** A bot token of the real shape, different in every call (so tests never see each other's updates). */
export function freshBotToken(): string {
  return `${randomInt(100_000, 999_999_999)}:AAtest-${randomInt(1e9).toString(36)}${randomInt(1e9).toString(36)}`;
}

export function alertFor(overrides: Partial<TelegramAlertInput['event']> = {}, at = Date.UTC(2026, 2, 12, 11, 5)) {
  return {
    sourceId: 'pizzeria',
    sourceName: 'Пиццерия на Ленина',
    firstSeenAt: at,
    event: { hash: '0xd8833dd3', code: 'waiter_call', tableName: '6', invoice: null, order: null, ...overrides },
  } satisfies TelegramAlertInput;
}
