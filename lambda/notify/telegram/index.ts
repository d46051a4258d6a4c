/**
 * The Telegram channel's public face, for the poller and the handler: the channel itself
 * (channel.ts), the bot token's resolver (token.ts), the button's callback data
 * (callback-data.ts), the texts of press answers (texts.ts), and the types of what getUpdates
 * returns (updates.ts). Pacing (pacing.ts, pacer.ts) and error kinds (errors.ts) are used
 * through the channel; their types are exported for callers that log or test them.
 */
export {
  DEFAULT_ACKNOWLEDGE_CODES,
  TELEGRAM_DEFAULTS,
  TelegramChannel,
  type BotIdentity,
  type GetUpdatesOptions,
  type TelegramAnswerResult,
  type TelegramChannelOptions,
  type TelegramChatId,
  type TelegramChatResult,
  type TelegramDeferred,
  type TelegramEditResult,
  type TelegramFailed,
  type TelegramSendRequest,
  type TelegramSendResult,
  type TelegramSent,
} from './channel';
export {
  ackRefersTo,
  CALLBACK_DATA_MAX_BYTES,
  decodeAckData,
  encodeAckData,
  hashDigest,
  type AckReference,
} from './callback-data';
export { TelegramError, type TelegramFailure } from './errors';
export { DEFAULT_PACING, type PacingLimits } from './pacing';
export {
  displayName,
  pressAnswers,
  renderTelegramAck,
  renderTelegramAlert,
  type AckInput,
  type TelegramAlertInput,
  type TelegramTextOptions,
} from './texts';
export {
  DEFAULT_TELEGRAM_TOKEN_ENV,
  isPlausibleBotToken,
  telegramTokenResolver,
  TelegramTokenUnavailableError,
  type TelegramTokenOptions,
  type TelegramTokenRef,
} from './token';
export {
  DISCOVERY_UPDATES,
  parseUpdates,
  PRESS_UPDATES,
  type ChatDiscovery,
  type ParsedUpdates,
  type TelegramPress,
} from './updates';
export { telegramStaffBot } from './staff-bot';
