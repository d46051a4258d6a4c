/**
 * Reading getUpdates: presses (callback queries) with who pressed, where and on which message;
 * chats the bot heard from (messages, channel posts, added or removed, groups upgraded to
 * supergroups); the offset that confirms them; malformed updates skipped, never thrown.
 */
import { describe, expect, it } from 'vitest';
import { parseUpdates } from '../../lambda/notify/telegram/updates';

const AT = 1_700_000_000_000;

describe('parseUpdates', () => {
  it('reads a press', () => {
    const parsed = parseUpdates(
      [
        {
          update_id: 10,
          callback_query: {
            id: '4382bfdwdsb323b2d9',
            from: { id: 7, is_bot: false, first_name: 'Иван', last_name: 'Петров' },
            message: { message_id: 55, chat: { id: -1001, type: 'supergroup', title: 'Зал' }, date: 1 },
            chat_instance: '1',
            data: 'a:pizzeria:0x1',
          },
        },
      ],
      AT,
    );
    expect(parsed.presses).toEqual([
      {
        updateId: 10,
        callbackQueryId: '4382bfdwdsb323b2d9',
        data: 'a:pizzeria:0x1',
        from: { id: 7, name: 'Иван Петров' },
        chatId: -1001,
        messageId: 55,
        at: AT,
      },
    ]);
    expect(parsed.nextOffset).toBe(11);
    expect(parsed.chats).toMatchObject([{ chatId: -1001, type: 'supergroup', title: 'Зал', via: 'press' }]);
  });

  it('finds chats: a person writing, a group, a channel post, added, removed, upgraded', () => {
    const parsed = parseUpdates(
      [
        {
          update_id: 1,
          message: { message_id: 1, chat: { id: 42, type: 'private', first_name: 'Анна', username: 'anna' } },
        },
        { update_id: 2, message: { message_id: 2, chat: { id: -5, type: 'group', title: 'Кухня' } } },
        { update_id: 3, channel_post: { message_id: 3, chat: { id: -1003, type: 'channel', title: 'Алерты' } } },
        {
          update_id: 4,
          my_chat_member: {
            chat: { id: -1004, type: 'supergroup', title: 'Зал' },
            new_chat_member: { status: 'member' },
          },
        },
        {
          update_id: 5,
          my_chat_member: {
            chat: { id: -1005, type: 'supergroup', title: 'Бар' },
            new_chat_member: { status: 'kicked' },
          },
        },
        {
          update_id: 6,
          message: { message_id: 6, chat: { id: -5, type: 'group', title: 'Кухня' }, migrate_to_chat_id: -1006 },
        },
      ],
      AT,
    );
    expect(parsed.chats.map((c) => [c.chatId, c.type, c.title, c.via])).toEqual([
      [42, 'private', 'Анна', 'message'],
      [-5, 'group', 'Кухня', 'message'],
      [-1003, 'channel', 'Алерты', 'channel_post'],
      [-1004, 'supergroup', 'Зал', 'added'],
      [-1005, 'supergroup', 'Бар', 'removed'],
      [-5, 'group', 'Кухня', 'removed'],
      [-1006, 'supergroup', 'Кухня', 'migrated'],
    ]);
    expect(parsed.chats[0]).toMatchObject({ username: 'anna' });
    expect(parsed.chats[6]).toMatchObject({ migratedFrom: -5 });
    expect(parsed.nextOffset).toBe(7);
  });

  it('skips what it cannot read, and still confirms it', () => {
    const parsed = parseUpdates(
      [
        null,
        'x',
        { update_id: 'nine' },
        { update_id: 20, edited_message: {} },
        { update_id: 21, callback_query: { id: 5, from: { id: 1 } } },
        { update_id: 22, message: { chat: { id: 1, type: 'secret' } } },
        { update_id: 23, callback_query: { id: 'q', from: { id: 3 } } },
      ],
      AT,
    );
    expect(parsed.presses).toEqual([
      { updateId: 23, callbackQueryId: 'q', data: '', from: { id: 3, name: 'id 3' }, at: AT },
    ]);
    expect(parsed.ignored).toBe(6);
    expect(parsed.nextOffset).toBe(24);
    expect(parseUpdates({ not: 'an array' }, AT)).toEqual({
      presses: [],
      chats: [],
      nextOffset: undefined,
      ignored: 0,
    });
  });
});
