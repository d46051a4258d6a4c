/**
 * The waiters of `npm start`: a member of staff in each Telegram chat of the routes that page
 * first (the hall's group), who sees every alert with the "Иду" button and presses it after a few
 * seconds — except every fourth call, starting with the second, which nobody answers, so the
 * demo shows an escalation too. Plain HTTP to the Bot API stand-in (SimulatedStaff), real time.
 */
import type { AlertsConfig } from '../lambda/config/schema';
import { SimulatedStaff } from './telegram-emulator';

const NAMES = ['Иван', 'Ольга', 'Пётр', 'Марина'];

export interface SimulatedWaiters {
  stop(): void;
}

export function startSimulatedWaiters(
  config: AlertsConfig,
  telegram: { readonly endpoint: string; readonly token: string },
  options: { readonly pressAfterMs?: readonly [number, number]; readonly pollMs?: number } = {},
): SimulatedWaiters {
  const [minDelay, maxDelay] = options.pressAfterMs ?? [3_000, 8_000];
  const chats = [
    ...new Set(config.routes.filter((r) => !r.escalationOnly).flatMap((route) => route.telegram.map(Number))),
  ].filter((id) => Number.isSafeInteger(id));
  const timers = new Set<NodeJS.Timeout>();
  const seen = new Set<string>();
  let calls = 0;
  let stopped = false;
  const staff = chats.map(
    (id, i) =>
      new SimulatedStaff(
        telegram.endpoint,
        telegram.token,
        { userId: 7_000 + i, firstName: NAMES[i % NAMES.length]! },
        id < 0 ? { id, type: 'supergroup', title: 'Зал' } : { id, type: 'private' },
      ),
  );
  const look = async () => {
    for (const person of staff) {
      for (const message of await person.botMessages().catch(() => [])) {
        const key = `${message.chatId}/${message.messageId}`;
        if (seen.has(key) || message.buttons.length === 0) continue;
        seen.add(key);
        calls += 1;
        if (calls % 4 === 2) continue; // nobody answers this one: it will be escalated
        const delay = minDelay + Math.random() * (maxDelay - minDelay);
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!stopped) void person.press(message.messageId).catch(() => undefined);
        }, delay);
        timers.add(timer);
      }
    }
  };
  const loop = async () => {
    while (!stopped) {
      await look();
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve(undefined);
        }, options.pollMs ?? 1_000);
        timers.add(timer);
      });
    }
  };
  void loop();
  return {
    stop() {
      stopped = true;
      for (const timer of timers) clearTimeout(timer);
    },
  };
}
