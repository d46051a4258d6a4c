/**
 * Where tokens come from, and that a token, once read, never reaches a log line: the Powertools
 * logger's replacer blanks it out of whatever a caller hands it. Secrets Manager is mocked here
 * (no emulator speaks it); this tests the adapter's own error handling only.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenResolver } from '../../lambda/config/tokens';
import { createLogger } from '../../lambda/obs/telemetry';
import { TokenUnavailableError } from '../../lambda/qrmenu/errors';

const secrets = mockClient(SecretsManagerClient);
afterEach(() => {
  secrets.reset();
  vi.restoreAllMocks();
});

describe('tokens', () => {
  it('reads a token from the environment variable the source names', async () => {
    await expect(
      tokenResolver({ id: 'a', token: { env: 'MY_TOKEN' } }, { env: { MY_TOKEN: ' t0k3n-from-env ' } })(),
    ).resolves.toBe('t0k3n-from-env');
  });

  it('defaults to QRMENU_TOKEN and says which variable to set when it is missing', async () => {
    const error = await tokenResolver({ id: 'pizzeria' }, { env: {} })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({ kind: 'secret', how: 'unset', retryable: false });
    expect((error as Error).message).toContain('QRMENU_TOKEN');
  });

  it('reads a token from Secrets Manager', async () => {
    secrets
      .on(GetSecretValueCommand, { SecretId: 'qrmenu-alerts/demo/a/token' })
      .resolves({ SecretString: 'from-the-secret-42' });
    await expect(tokenResolver({ id: 'a', token: { secret: 'qrmenu-alerts/demo/a/token' } })()).resolves.toBe(
      'from-the-secret-42',
    );
  });

  it('calls an unreadable secret kind secret (its own metric), never a rejected token, and not a crash', async () => {
    secrets
      .on(GetSecretValueCommand)
      .rejects(
        Object.assign(new Error('User is not authorized to perform GetSecretValue'), { name: 'AccessDeniedException' }),
      );
    const error = await tokenResolver({ id: 'b', token: { secret: 'qrmenu-alerts/demo/b/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({ kind: 'secret', how: 'unreadable', retryable: false });
    expect((error as Error).message).toMatch(
      /could not be read from Secrets Manager .*not a rejected token.*may read it/,
    );
    expect((error as Error).message).not.toMatch(/rejected the token/);
  });

  it.each([
    ['throttled', 'ThrottlingException', 'Rate exceeded'],
    ['unreachable', 'TimeoutError', 'connect ETIMEDOUT secretsmanager.eu-central-1.amazonaws.com'],
    ['in an internal error', 'InternalServiceError', 'We encountered an internal error'],
  ])('calls Secrets Manager %s kind secret too', async (_what, name, message) => {
    secrets.on(GetSecretValueCommand).rejects(Object.assign(new Error(message), { name, $retryable: {} }));
    const error = await tokenResolver({ id: 'e', token: { secret: `qrmenu-alerts/demo/e-${name}/token` } })().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'secret', how: 'unreadable' });
  });

  it('says how to put the token when the secret is still empty', async () => {
    secrets.on(GetSecretValueCommand).resolves({ SecretString: '   ' });
    const error = await tokenResolver({ id: 'c', token: { secret: 'qrmenu-alerts/demo/c/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'secret', how: 'empty' });
    expect((error as Error).message).toContain(
      'aws secretsmanager put-secret-value --secret-id qrmenu-alerts/demo/c/token',
    );
  });
});

describe('log redaction', () => {
  it('blanks every token read so far out of messages, attributes and errors', async () => {
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const token = await tokenResolver({ id: 'd', token: { value: 'super-secret-token-99' } })();
    const log = createLogger({ level: 'DEBUG' });
    log.info(`polling with ${token}`, { header: { token }, error: new Error(`bad ${token}`).message });
    log.error('failed', { nested: [{ deep: `x${token}y` }] });
    const output = written.join('');
    expect(output).toContain('polling with ***');
    expect(output).toContain('"deep":"x***y"');
    expect(output).not.toContain('super-secret-token-99');
  });
});
