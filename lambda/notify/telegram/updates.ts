/**
 * Reading what getUpdates returns: button presses (callback queries) for the acknowledgement
 * loop, and the chats the bot has heard from (a message, a channel post, being added or removed,
 * a group upgraded to a supergroup) for the setup command. Lenient: anything malformed is
 * skipped and counted, never thrown. Pure: the time of receipt is passed in (a callback query
 * carries no time of its own).
 */
import { clip, oneLine, safeSlice } from '../../core/sms';
import { displayName, NAME_MAX } from './texts';

/** Update types each caller needs (getUpdates' `allowed_updates`). */
export const PRESS_UPDATES = ['callback_query'] as const;
export const DISCOVERY_UPDATES = ['message', 'channel_post', 'my_chat_member', 'callback_query'] as const;

export interface TelegramPress {
  readonly updateId: number;
  readonly callbackQueryId: string;
  /** The button's callback_data ('' when the press carried none, e.g. a game button). */
  readonly data: string;
  readonly from: { readonly id: number; readonly name: string };
  /** The chat and message of the button; absent for very old or inline messages. */
  readonly chatId?: number;
  readonly messageId?: number;
  /** When the press was received (epoch ms, the caller's clock). */
  readonly at: number;
}

export type ChatType = 'private' | 'group' | 'supergroup' | 'channel';

export interface ChatDiscovery {
  readonly chatId: number;
  readonly type: ChatType;
  /** The group's or channel's title, or the person's name. */
  readonly title: string;
  readonly username?: string;
  /** How the bot heard of it. */
  readonly via: 'message' | 'channel_post' | 'added' | 'removed' | 'press' | 'migrated';
  /** The group this supergroup was before (via 'migrated'). */
  readonly migratedFrom?: number;
  readonly updateId: number;
}

export interface ParsedUpdates {
  readonly presses: readonly TelegramPress[];
  readonly chats: readonly ChatDiscovery[];
  /** The offset that confirms everything returned (highest update_id + 1); undefined when none came. */
  readonly nextOffset: number | undefined;
  /** Updates of other types, or unreadable. */
  readonly ignored: number;
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined =>
  typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Obj) : undefined;
const int = (value: unknown): number | undefined =>
  typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
const CHAT_TYPES = new Set<string>(['private', 'group', 'supergroup', 'channel']);

/** Parse getUpdates' `result` (an array of Update objects). */
export function parseUpdates(result: unknown, at: number): ParsedUpdates {
  const presses: TelegramPress[] = [];
  const chats: ChatDiscovery[] = [];
  let ignored = 0;
  let highest: number | undefined;
  for (const item of Array.isArray(result) ? result : []) {
    const update = obj(item);
    const updateId = int(update?.update_id);
    if (!update || updateId === undefined) {
      ignored += 1;
      continue;
    }
    highest = highest === undefined ? updateId : Math.max(highest, updateId);
    const found = readUpdate(update, updateId, at);
    if (found.press) presses.push(found.press);
    chats.push(...found.chats);
    if (!found.press && found.chats.length === 0) ignored += 1;
  }
  return { presses, chats, nextOffset: highest === undefined ? undefined : highest + 1, ignored };
}

function readUpdate(update: Obj, updateId: number, at: number): { press?: TelegramPress; chats: ChatDiscovery[] } {
  const callback = obj(update.callback_query);
  if (callback) {
    const id = str(callback.id);
    const from = obj(callback.from);
    const fromId = int(from?.id);
    if (id === undefined || fromId === undefined) return { chats: [] };
    const message = obj(callback.message);
    const chat = readChat(message?.chat);
    const messageId = int(message?.message_id);
    const press: TelegramPress = {
      updateId,
      callbackQueryId: id,
      data: str(callback.data) ?? '',
      from: { id: fromId, name: displayName(userOf(from!, fromId)) },
      ...(chat && { chatId: chat.id }),
      ...(messageId !== undefined && { messageId }),
      at,
    };
    return { press, chats: chat ? [discovery(chat, 'press', updateId)] : [] };
  }
  for (const [key, via] of [
    ['message', 'message'],
    ['channel_post', 'channel_post'],
  ] as const) {
    const message = obj(update[key]);
    if (!message) continue;
    const chat = readChat(message.chat);
    if (!chat) return { chats: [] };
    const migrateTo = int(message.migrate_to_chat_id);
    if (migrateTo !== undefined) {
      return {
        chats: [
          { ...discovery(chat, 'removed', updateId) },
          {
            ...discovery({ ...chat, id: migrateTo, type: 'supergroup' }, 'migrated', updateId),
            migratedFrom: chat.id,
          },
        ],
      };
    }
    return { chats: [discovery(chat, via, updateId)] };
  }
  const member = obj(update.my_chat_member);
  if (member) {
    const chat = readChat(member.chat);
    if (!chat) return { chats: [] };
    const status = str(obj(member.new_chat_member)?.status);
    return { chats: [discovery(chat, status === 'left' || status === 'kicked' ? 'removed' : 'added', updateId)] };
  }
  return { chats: [] };
}

interface RawChat {
  readonly id: number;
  readonly type: ChatType;
  readonly title: string;
  readonly username?: string;
}

function readChat(value: unknown): RawChat | undefined {
  const chat = obj(value);
  const id = int(chat?.id);
  const type = str(chat?.type);
  if (!chat || id === undefined || type === undefined || !CHAT_TYPES.has(type)) return undefined;
  const username = str(chat.username);
  const title = clip(oneLine(safeSlice(str(chat.title) ?? '', 1_000)), NAME_MAX) || displayName(userOf(chat, id));
  return { id, type: type as ChatType, title, ...(username && { username }) };
}

function userOf(value: Obj, id: number) {
  return {
    id,
    ...(str(value.first_name) !== undefined && { first_name: str(value.first_name)! }),
    ...(str(value.last_name) !== undefined && { last_name: str(value.last_name)! }),
    ...(str(value.username) !== undefined && { username: str(value.username)! }),
  };
}

function discovery(chat: RawChat, via: ChatDiscovery['via'], updateId: number): ChatDiscovery {
  return {
    chatId: chat.id,
    type: chat.type,
    title: chat.title,
    ...(chat.username && { username: chat.username }),
    via,
    updateId,
  };
}
