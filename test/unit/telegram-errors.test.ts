/**
 * Failed Bot API calls in the delivery port's kinds, with advice and never the token: 429 →
 * throttled with retry_after, 401/404 → the token, 403/400 → the chat (a group upgraded gives its
 * new id), 5xx/timeouts/resets/unreadable answers → transient and ambiguous, refused connections
 * → transient, not ambiguous. The errors are built as bot-api.ts throws them (a fetch failure is
 * undici's `TypeError('fetch failed', { cause })`); telegram-bot-api.test.ts gets them from the
 * client itself. And the bot token's resolver: environment, value, SSM Parameter Store and
 * Secrets Manager (the loopback stand-in of test/support/aws-json-fake.ts), registered with the
 * log redaction.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { clearStoredTokenCache } from '../../lambda/config/tokens';
import { redactSecrets } from '../../lambda/obs/telemetry';
import { BotApiError, BotApiHttpError } from '../../lambda/notify/telegram/bot-api';
import { classifyTelegramError } from '../../lambda/notify/telegram/errors';
import { telegramTokenResolver, TelegramTokenUnavailableError } from '../../lambda/notify/telegram/token';
import { type AwsJsonFake, useAwsJsonFake } from '../support/aws-json-fake';

const TOKEN = '123456:AAsecret-token-value';

function apiError(code: number, description: string, parameters: Record<string, number> = {}): BotApiError {
  return new BotApiError('sendMessage', { error_code: code, description, parameters }, []);
}

/** What the client throws when fetch rejects: undici's TypeError with the socket error as cause. */
function fetchFailed(cause: unknown): BotApiHttpError {
  return new BotApiHttpError('sendMessage', "Network request for 'sendMessage' failed: fetch failed", {
    cause: new TypeError('fetch failed', { cause }),
  });
}

const classify = (error: unknown, timedOut = false) =>
  classifyTelegramError(error, { method: 'sendMessage', chatId: -100, timedOut, timeoutMs: 5000, secrets: [TOKEN] });

describe('Telegram error kinds', () => {
  it('429: throttled, with the wait Telegram asked for', () => {
    const failure = classify(apiError(429, 'Too Many Requests: retry after 7', { retry_after: 7 }));
    expect(failure).toMatchObject({ kind: 'throttled', retryAfterMs: 7000, errorCode: 429 });
    expect(failure.ambiguous).toBeUndefined();
  });

  it('401/404: the token, permanent', () => {
    expect(classify(apiError(401, 'Unauthorized'))).toMatchObject({ kind: 'permanent', reason: 'token' });
    expect(classify(apiError(404, 'Not Found'))).toMatchObject({ kind: 'permanent', reason: 'token' });
    expect(classify(apiError(401, 'Unauthorized')).message).toMatch(/rejected the bot token.*BotFather/);
  });

  it('403 and "chat not found": the chat, with what to do', () => {
    const kicked = classify(apiError(403, 'Forbidden: bot was kicked from the supergroup chat'));
    expect(kicked).toMatchObject({ kind: 'permanent', reason: 'chat' });
    expect(kicked.message).toMatch(/chat -100.*Add the bot/);
    expect(classify(apiError(400, 'Bad Request: chat not found')).message).toMatch(/npm run telegram:chats/);
  });

  it('a group upgraded to a supergroup: permanent, with the new id', () => {
    const failure = classify(
      apiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', { migrate_to_chat_id: -1009 }),
    );
    expect(failure).toMatchObject({ kind: 'permanent', migrateToChatId: -1009 });
  });

  it('409: another poller or a webhook, transient', () => {
    expect(classify(apiError(409, 'Conflict: terminated by other getUpdates request'))).toMatchObject({
      kind: 'transient',
      reason: 'conflict',
    });
  });

  it('5xx, timeouts, resets and unreadable answers: transient and ambiguous', () => {
    expect(classify(apiError(502, 'Bad Gateway'))).toMatchObject({
      kind: 'transient',
      reason: 'server',
      ambiguous: true,
    });
    const timeout = new BotApiHttpError('sendMessage', 'x', {
      cause: new DOMException('The operation was aborted due to timeout', 'TimeoutError'),
    });
    expect(classify(timeout, true)).toMatchObject({ kind: 'transient', reason: 'timeout', ambiguous: true });
    const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });
    expect(classify(fetchFailed(reset))).toMatchObject({ kind: 'transient', reason: 'network', ambiguous: true });
    const hangUp = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classify(fetchFailed(hangUp)).message).toMatch(/network error ECONNRESET.*may have been done/);
    const page = new BotApiHttpError('sendMessage', 'the answer (HTTP 502, text/html) is not JSON: <html>', {
      unreadable: true,
      status: 502,
    });
    const unreadable = classify(page);
    expect(unreadable).toMatchObject({ kind: 'transient', reason: 'server', ambiguous: true });
    expect(unreadable.message).toContain('could not be read (the answer (HTTP 502, text/html) is not JSON');
  });

  it('an answer with ok: false but no error code: transient and ambiguous', () => {
    const failure = classify(new BotApiError('sendMessage', {}, []));
    expect(failure).toMatchObject({ kind: 'transient', reason: 'server', ambiguous: true });
    expect(failure.errorCode).toBeUndefined();
  });

  it('a refused connection never sent anything: transient, not ambiguous', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const failure = classify(fetchFailed(refused));
    expect(failure).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(failure.ambiguous).toBeUndefined();
    expect(failure.message).toContain('cannot reach the Bot API (ECONNREFUSED)');
  });

  it('never repeats the token, wherever the text came from', () => {
    const failures = [
      classify(apiError(400, `Bad Request: https://api.telegram.org/bot${TOKEN}/sendMessage`)),
      classify(
        new BotApiHttpError('sendMessage', 'x', { cause: new Error(`request to /bot${TOKEN}/sendMessage failed`) }),
      ),
    ];
    for (const failure of failures) expect(JSON.stringify(failure)).not.toContain(TOKEN);
  });
});

const fake = useAwsJsonFake({ beforeAll, afterAll });
let aws: AwsJsonFake;
beforeEach(() => {
  aws = fake();
});
afterAll(() => clearStoredTokenCache());

describe('bot token', () => {
  it('comes from TELEGRAM_BOT_TOKEN by default, and is redacted from logs once read', async () => {
    const token = '987654:AAfrom-the-env';
    await expect(telegramTokenResolver(undefined, { env: { TELEGRAM_BOT_TOKEN: ` ${token}\n` } })()).resolves.toBe(
      token,
    );
    expect(redactSecrets(`url /bot${token}/getMe`)).toBe('url /bot***/getMe');
  });

  it('says which variable to set, and refuses a malformed token without showing it', async () => {
    const missing = await telegramTokenResolver(undefined, { env: {} })().catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(TelegramTokenUnavailableError);
    expect((missing as Error).message).toContain('TELEGRAM_BOT_TOKEN');
    const bad = await telegramTokenResolver({ value: '"123:abc def"' })().catch((e: unknown) => e);
    expect((bad as Error).message).toMatch(/malformed/);
    expect((bad as Error).message).not.toContain('abc def');
  });

  it('reads its SSM parameter (the stack default), decrypted', async () => {
    aws.parameters.set('/qrmenu-alerts/demo/telegram/token', '222:AAfrom-ssm');
    await expect(telegramTokenResolver({ ssm: '/qrmenu-alerts/demo/telegram/token' })()).resolves.toBe(
      '222:AAfrom-ssm',
    );
    expect(aws.calls.at(-1)).toEqual({
      target: 'AmazonSSM.GetParameter',
      input: { Name: '/qrmenu-alerts/demo/telegram/token', WithDecryption: true },
    });
    expect(redactSecrets('url /bot222:AAfrom-ssm/getMe')).toBe('url /bot***/getMe');
  });

  it('reads the secret, cached, and re-reads it after the cache expires', async () => {
    aws.secrets.set('qrmenu-alerts/demo/telegram', '111:AAone');
    const resolve = telegramTokenResolver({ secret: 'qrmenu-alerts/demo/telegram' }, { maxAgeSeconds: 300 });
    await expect(resolve()).resolves.toBe('111:AAone');
    aws.secrets.set('qrmenu-alerts/demo/telegram', '111:AAtwo');
    await expect(resolve()).resolves.toBe('111:AAone'); // cached
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 301_000);
      await expect(resolve()).resolves.toBe('111:AAtwo'); // re-read without a deploy
    } finally {
      vi.useRealTimers();
    }
  });

  it('explains an unreadable or empty secret', async () => {
    aws.failNext(1, 400, 'AccessDeniedException', 'not authorized');
    const denied = await telegramTokenResolver({ secret: 'qrmenu-alerts/x/telegram' })().catch((e: unknown) => e);
    expect((denied as Error).message).toMatch(/could not be read from Secrets Manager .*may read it/);
    aws.secrets.set('qrmenu-alerts/y/telegram', '  ');
    const empty = await telegramTokenResolver({ secret: 'qrmenu-alerts/y/telegram' })().catch((e: unknown) => e);
    expect((empty as Error).message).toContain('put-secret-value --secret-id qrmenu-alerts/y/telegram');
  });
});
