/**
 * The Telegram channel as the poll cycle's staff bot (the `StaffBot` port of lambda/domain/ports.ts):
 * presses read by a long poll and decoded (the button names the call's source and record id),
 * acknowledgements shown by editing the message, presses answered with the words of texts.ts.
 * A press whose button is not ours is returned without `call`, and answered as stale.
 */
import type { PressAnswer, StaffBot, StaffPress } from '../../domain/ports';
import type { Locale } from '../../domain/routes';
import { decodeAckData } from './callback-data';
import type { TelegramChannel } from './channel';
import { pressAnswers } from './texts';

const STAFF_UPDATES = ['callback_query', 'my_chat_member'] as const;

export function telegramStaffBot(
  channel: Pick<TelegramChannel, 'getUpdates' | 'markAcknowledged' | 'answerPress'>,
  options: { readonly locale?: Locale; readonly sourceName?: (sourceId: string) => string } = {},
): StaffBot {
  return {
    async nextPresses(offset, waitSeconds) {
      // Presses, and the bot being added to or removed from a chat (so the operator hears of new ids).
      const updates = await channel.getUpdates(offset, waitSeconds, { allowedUpdates: STAFF_UPDATES });
      const presses = updates.presses.map((press): StaffPress => {
        const reference = decodeAckData(press.data);
        return {
          id: press.callbackQueryId,
          // The deliverer writes the record id where the hash form goes (see deliverer.ts).
          ...(reference?.form === 'hash' ? { call: { sourceId: reference.sourceId, recordId: reference.hash } } : {}),
          by: { id: String(press.from.id), name: press.from.name },
          at: press.at,
        };
      });
      const chats = updates.chats
        .filter((c) => c.via === 'added' || c.via === 'removed')
        .map((c) => ({ id: String(c.chatId), title: c.title, added: c.via === 'added' }));
      return { presses, chats, nextOffset: updates.nextOffset };
    },
    async showAcknowledged(chat, messageId, ack) {
      const id = Number(messageId);
      if (!Number.isSafeInteger(id)) return false;
      const chatId = /^-?\d+$/.test(chat) ? Number(chat) : chat;
      const result = await channel.markAcknowledged(chatId, id, {
        tableName: ack.table,
        by: ack.by,
        responseMs: ack.responseMs,
        code: ack.code,
      });
      return result.ok;
    },
    async answer(press, answer: PressAnswer) {
      const text =
        answer.kind === 'accepted'
          ? pressAnswers.accepted(answer.table, options.locale)
          : answer.kind === 'taken'
            ? pressAnswers.taken(answer.by, options.locale)
            : pressAnswers.stale(options.locale);
      await channel.answerPress(press.id, text);
    },
  };
}
