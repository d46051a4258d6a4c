/**
 * Failed Bot API calls in the delivery port's kinds, with advice and never the token: 429 →
 * throttled with retry_after, 401/404 → the token, 403/400 → the chat (a group upgraded gives its
 * new id), 5xx/timeouts/resets → transient and ambiguous, refused connections → transient, not
 * ambiguous. And the bot token's resolver: environment, value, Secrets Manager (mocked here: no
 * emulator speaks it), registered with the log redaction.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { GrammyError, HttpError } from 'grammy/web';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { redactSecrets } from '../../lambda/obs/telemetry';
import { classifyTelegramError } from '../../lambda/notify/telegram/errors';
import { telegramTokenResolver, TelegramTokenUnavailableError } from '../../lambda/notify/telegram/token';

const TOKEN = '123456:AAsecret-token-value';

function apiError(code: number, description: string, parameters: Record<string, number> = {}): GrammyError {
  return new GrammyError(
    `Call to 'sendMessage' failed! (${code}: ${description})`,
    { ok: false, error_code: code, description, parameters },
    'sendMessage',
    {},
  );
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
    expect(classify(apiError(502, 'Bad Gateway'))).toMatchObject({ kind: 'transient', ambiguous: true });
    expect(classify(new HttpError('Network request failed', new Error('aborted')), true)).toMatchObject({
      kind: 'transient',
      reason: 'timeout',
      ambiguous: true,
    });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(classify(new HttpError('x', reset))).toMatchObject({ kind: 'transient', ambiguous: true });
    const html = Object.assign(new Error('invalid json response body'), { type: 'invalid-json' });
    expect(classify(new HttpError('x', html))).toMatchObject({ kind: 'transient', reason: 'server', ambiguous: true });
  });

  it('a refused connection never sent anything: transient, not ambiguous', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const failure = classify(new HttpError('x', { cause: refused }));
    expect(failure).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(failure.ambiguous).toBeUndefined();
  });

  it('never repeats the token, wherever the text came from', () => {
    const failures = [
      classify(apiError(400, `Bad Request: https://api.telegram.org/bot${TOKEN}/sendMessage`)),
      classify(new HttpError('x', new Error(`request to /bot${TOKEN}/sendMessage failed`))),
    ];
    for (const failure of failures) expect(JSON.stringify(failure)).not.toContain(TOKEN);
  });
});

const secrets = mockClient(SecretsManagerClient);
afterEach(() => secrets.reset());

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

  it('reads the secret, cached, and re-reads it after the cache expires', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: 'qrmenu-alerts/demo/telegram' })
      .resolves({ SecretString: '111:AAone' });
    const resolve = telegramTokenResolver({ secret: 'qrmenu-alerts/demo/telegram' }, { maxAgeSeconds: 300 });
    await expect(resolve()).resolves.toBe('111:AAone');
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '111:AAtwo' });
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
    secrets
      .on(GetSecretValueCommand)
      .rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));
    const denied = await telegramTokenResolver({ secret: 'qrmenu-alerts/x/telegram' })().catch((e: unknown) => e);
    expect((denied as Error).message).toMatch(/could not be read from Secrets Manager .*may read it/);
    secrets.reset();
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '  ' });
    const empty = await telegramTokenResolver({ secret: 'qrmenu-alerts/y/telegram' })().catch((e: unknown) => e);
    expect((empty as Error).message).toContain('put-secret-value --secret-id qrmenu-alerts/y/telegram');
  });
});
