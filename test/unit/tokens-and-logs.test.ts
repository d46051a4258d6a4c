/**
 * Where tokens come from, and that a token, once read, never reaches a log line: the Powertools
 * logger's replacer blanks it out of whatever a caller hands it. SSM Parameter Store and Secrets
 * Manager are mocked here (no emulator of either runs here); this tests the adapter's own error
 * handling only.
 */
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tokenResolver } from '../../lambda/config/tokens';
import { createLogger } from '../../lambda/obs/telemetry';
import { TokenUnavailableError } from '../../lambda/qrmenu/errors';

const secrets = mockClient(SecretsManagerClient);
const ssm = mockClient(SSMClient);
afterEach(() => {
  secrets.reset();
  ssm.reset();
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

  it('reads a token from its SSM SecureString parameter, decrypted, cached, re-read after the cache expires', async () => {
    const name = '/qrmenu-alerts/demo/ssm-a/token';
    ssm.on(GetParameterCommand, { Name: name, WithDecryption: true }).resolves({ Parameter: { Value: ' tok-one ' } });
    const resolve = tokenResolver({ id: 'ssm-a', token: { ssm: name } }, { maxAgeSeconds: 300 });
    await expect(resolve()).resolves.toBe('tok-one');
    ssm.on(GetParameterCommand, { Name: name, WithDecryption: true }).resolves({ Parameter: { Value: 'tok-two' } });
    await expect(resolve()).resolves.toBe('tok-one'); // cached: one read per 5 minutes
    expect(ssm.commandCalls(GetParameterCommand)).toHaveLength(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 301_000);
      await expect(resolve()).resolves.toBe('tok-two'); // a new token without a deploy
    } finally {
      vi.useRealTimers();
    }
  });

  it('says how to put the token when its parameter does not exist yet (kind secret, not a rejection)', async () => {
    ssm.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'ParameterNotFound', $metadata: {} }));
    const error = await tokenResolver({ id: 'ssm-b', token: { ssm: '/qrmenu-alerts/demo/ssm-b/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({ kind: 'secret', how: 'empty', retryable: false });
    expect((error as Error).message).toContain(
      'aws ssm put-parameter --name /qrmenu-alerts/demo/ssm-b/token --type SecureString --overwrite --value file://token.txt',
    );
  });

  it('calls an SSM parameter it may not read kind secret, unreadable, naming Parameter Store', async () => {
    ssm
      .on(GetParameterCommand)
      .rejects(
        Object.assign(new Error('not authorized to perform: ssm:GetParameter'), { name: 'AccessDeniedException' }),
      );
    const error = await tokenResolver({ id: 'ssm-c', token: { ssm: '/qrmenu-alerts/demo/ssm-c/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'secret', how: 'unreadable' });
    expect((error as Error).message).toMatch(
      /could not be read from SSM Parameter Store \(\/qrmenu-alerts\/demo\/ssm-c\/token\).*not a rejected token/,
    );
  });

  it('blanks a token read from SSM out of every later log line', async () => {
    ssm.on(GetParameterCommand).resolves({ Parameter: { Value: 'ssm-secret-token-77' } });
    const token = await tokenResolver({ id: 'ssm-d', token: { ssm: '/qrmenu-alerts/demo/ssm-d/token' } })();
    const written: string[] = [];
    const capture = (chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    };
    vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    createLogger({ level: 'INFO' }).error(`answer echoed ${token}`, { url: `https://x/?token=${token}` });
    expect(written.join('')).toContain('answer echoed ***');
    expect(written.join('')).not.toContain('ssm-secret-token-77');
  });

  it('reads a token from Secrets Manager (still accepted: token: { secret })', async () => {
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
