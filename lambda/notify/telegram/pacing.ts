/**
 * When a message to a Telegram chat may go, under the Bot API's limits: about one message a second
 * per chat, 20 a minute per group or channel, about 30 a second overall, and after a `429` not
 * before its `retry_after` (in that chat; overall when a second chat is throttled at the same time).
 *
 * Pure functions over an immutable {@link PacingState}: the caller passes the time, records each
 * send and each 429, and asks {@link planSends} when every queued send may start (in order per
 * chat, never dropping one). The stateful dispatcher around it is pacer.ts.
 */

export interface PacingLimits {
  /** Least time between two messages to one chat. Default 1 000 ms. */
  readonly perChatIntervalMs: number;
  /** Messages per `groupWindowMs` to one group or channel. Default 20. */
  readonly groupMessagesPerWindow: number;
  /** Default 60 000 ms. */
  readonly groupWindowMs: number;
  /** Messages per `globalWindowMs` to all chats together. Default 30. */
  readonly globalMessagesPerWindow: number;
  /** Default 1 000 ms. */
  readonly globalWindowMs: number;
}

export const DEFAULT_PACING: PacingLimits = {
  perChatIntervalMs: 1_000,
  groupMessagesPerWindow: 20,
  groupWindowMs: 60_000,
  globalMessagesPerWindow: 30,
  globalWindowMs: 1_000,
};

/** A chat as the pacing sees it: its key and whether group limits apply. */
export interface PacedChat {
  /** `String(chatId)`: one key per chat, whether written as a number or a string. */
  readonly key: string;
  /** Groups, supergroups and channels (negative ids, `@channel` names) have the per-minute limit. */
  readonly group: boolean;
}

interface ChatState {
  /** Start times of recent sends, ascending, within the group window. */
  readonly sends: readonly number[];
  /** No send before this (a 429's retry_after). */
  readonly blockedUntil: number;
}

export interface PacingState {
  readonly chats: ReadonlyMap<string, ChatState>;
  /** Start times of recent sends to any chat, ascending, within the global window. */
  readonly globalSends: readonly number[];
  readonly globalBlockedUntil: number;
}

export const EMPTY_PACING: PacingState = { chats: new Map(), globalSends: [], globalBlockedUntil: 0 };

/** A chat id from the config (a number, or an "@channel" name) as the pacing sees it. */
export function pacedChat(chatId: number | string): PacedChat {
  const key = String(chatId);
  return { key, group: typeof chatId === 'string' ? !/^\d+$/.test(chatId) : chatId < 0 };
}

/** The earliest time (≥ now) at which a message to `chat` may start. */
export function earliestStart(
  state: PacingState,
  chat: PacedChat,
  now: number,
  limits: PacingLimits = DEFAULT_PACING,
): number {
  const own = state.chats.get(chat.key);
  let at = Math.max(now, state.globalBlockedUntil, own?.blockedUntil ?? 0);
  if (own && own.sends.length > 0) {
    at = Math.max(at, own.sends[own.sends.length - 1]! + limits.perChatIntervalMs);
    if (chat.group && own.sends.length >= limits.groupMessagesPerWindow)
      at = Math.max(at, own.sends[own.sends.length - limits.groupMessagesPerWindow]! + limits.groupWindowMs);
  }
  const global = state.globalSends;
  if (global.length >= limits.globalMessagesPerWindow)
    at = Math.max(at, global[global.length - limits.globalMessagesPerWindow]! + limits.globalWindowMs);
  return at;
}

/** The state after a message to `chat` started at `at` (times older than any window are forgotten). */
export function recordSend(
  state: PacingState,
  chat: PacedChat,
  at: number,
  limits: PacingLimits = DEFAULT_PACING,
): PacingState {
  const own = state.chats.get(chat.key);
  const keepChat = Math.max(limits.groupWindowMs, limits.perChatIntervalMs);
  const sends = insertSorted(own?.sends ?? [], at).filter((t) => t > at - keepChat);
  const chats = new Map(state.chats);
  chats.set(chat.key, { sends, blockedUntil: own?.blockedUntil ?? 0 });
  const globalSends = insertSorted(state.globalSends, at).filter((t) => t > at - limits.globalWindowMs);
  return { chats: prune(chats, at, keepChat), globalSends, globalBlockedUntil: state.globalBlockedUntil };
}

/**
 * The state after Telegram answered `429` with `retry_after` for `chat` at `at`: the chat waits.
 * When another chat is still waiting out a 429 of its own, the limit hit is taken to be the
 * overall one, and every chat waits.
 */
export function recordThrottle(state: PacingState, chat: PacedChat, at: number, retryAfterMs: number): PacingState {
  const until = at + Math.max(0, retryAfterMs);
  const own = state.chats.get(chat.key);
  const othersBlocked = [...state.chats].some(([key, c]) => key !== chat.key && c.blockedUntil > at);
  const chats = new Map(state.chats);
  chats.set(chat.key, { sends: own?.sends ?? [], blockedUntil: Math.max(own?.blockedUntil ?? 0, until) });
  return {
    chats,
    globalSends: state.globalSends,
    globalBlockedUntil: othersBlocked ? Math.max(state.globalBlockedUntil, until) : state.globalBlockedUntil,
  };
}

/** A send waiting for its turn. */
export interface QueuedSend<Id> {
  readonly id: Id;
  readonly chat: PacedChat;
}

export interface PlannedSend<Id> {
  readonly id: Id;
  /** When it may start, assuming no 429 comes in between. */
  readonly at: number;
}

/**
 * When each queued send may start, first come first served per chat, assuming every earlier one
 * goes at its time: the chats' heads are taken in order of their earliest start (ties: queue order).
 * A burst is spread out, never dropped; the result lists every send, in start order.
 */
export function planSends<Id>(
  state: PacingState,
  queue: readonly QueuedSend<Id>[],
  now: number,
  limits: PacingLimits = DEFAULT_PACING,
): PlannedSend<Id>[] {
  const perChat = new Map<string, QueuedSend<Id>[]>();
  for (const send of queue) {
    const list = perChat.get(send.chat.key);
    if (list) list.push(send);
    else perChat.set(send.chat.key, [send]);
  }
  const order = new Map(queue.map((send, i) => [send, i]));
  const planned: PlannedSend<Id>[] = [];
  let simulated = state;
  // Planned starts never decrease (the earliest head goes first), and recordSend forgets sends
  // older than a window before the newest: so no start may be planned before the previous one.
  let previous = now;
  while (perChat.size > 0) {
    let best: { send: QueuedSend<Id>; at: number } | undefined;
    for (const list of perChat.values()) {
      const head = list[0]!;
      const at = Math.max(previous, earliestStart(simulated, head.chat, now, limits));
      if (!best || at < best.at || (at === best.at && order.get(head)! < order.get(best.send)!))
        best = { send: head, at };
    }
    const { send, at } = best!;
    planned.push({ id: send.id, at });
    previous = at;
    simulated = recordSend(simulated, send.chat, at, limits);
    const list = perChat.get(send.chat.key)!;
    list.shift();
    if (list.length === 0) perChat.delete(send.chat.key);
  }
  return planned;
}

function insertSorted(times: readonly number[], at: number): number[] {
  const out = [...times];
  let i = out.length;
  while (i > 0 && out[i - 1]! > at) i -= 1;
  out.splice(i, 0, at);
  return out;
}

/** Chats with nothing left to remember are dropped, so a long-lived state stays small. */
function prune(chats: Map<string, ChatState>, at: number, keepMs: number): Map<string, ChatState> {
  for (const [key, chat] of chats) {
    if (chat.blockedUntil <= at && (chat.sends.length === 0 || chat.sends[chat.sends.length - 1]! <= at - keepMs))
      chats.delete(key);
  }
  return chats;
}
