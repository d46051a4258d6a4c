/**
 * Where tokens come from, and that a token, once read, never reaches a log line: the Powertools
 * logger's replacer blanks it out of whatever a caller hands it. SSM Parameter Store and Secrets
 * Manager are the loopback stand-in of test/support/aws-json-fake.ts (it checks each request's
 * signature), reached through AWS_ENDPOINT_URL_SSM / AWS_ENDPOINT_URL_SECRETS_MANAGER as in AWS
 * through the regional endpoints; the SDK's own SSMClient is pointed at it once, to keep the
 * stand-in honest about the protocol.
 */
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AwsCallError, jsonCall, SSM } from '../../lambda/aws/json-call';
import { clearStoredTokenCache, tokenResolver } from '../../lambda/config/tokens';
import { createLogger } from '../../lambda/obs/telemetry';
import { TokenUnavailableError } from '../../lambda/qrmenu/errors';
import { type AwsJsonFake, useAwsJsonFake } from '../support/aws-json-fake';

const fake = useAwsJsonFake({ beforeAll, afterAll });
let aws: AwsJsonFake;
beforeEach(() => {
  aws = fake();
});
afterEach(() => {
  aws.parameters.clear();
  aws.secrets.clear();
  aws.calls.length = 0;
  clearStoredTokenCache();
  vi.restoreAllMocks();
});

const quickRetries = { backoffMs: () => 1 };

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
    aws.parameters.set(name, ' tok-one ');
    const resolve = tokenResolver({ id: 'ssm-a', token: { ssm: name } }, { maxAgeSeconds: 300 });
    await expect(resolve()).resolves.toBe('tok-one');
    expect(aws.calls).toEqual([{ target: 'AmazonSSM.GetParameter', input: { Name: name, WithDecryption: true } }]);
    aws.parameters.set(name, 'tok-two');
    await expect(resolve()).resolves.toBe('tok-one'); // cached: one read per 5 minutes
    expect(aws.calls).toHaveLength(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 301_000);
      await expect(resolve()).resolves.toBe('tok-two'); // a new token without a deploy
    } finally {
      vi.useRealTimers();
    }
  });

  it('says how to put the token when its parameter does not exist yet (kind secret, not a rejection)', async () => {
    const error = await tokenResolver({ id: 'ssm-b', token: { ssm: '/qrmenu-alerts/demo/ssm-b/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({ kind: 'secret', how: 'empty', retryable: false });
    expect((error as Error).message).toContain(
      'aws ssm put-parameter --name /qrmenu-alerts/demo/ssm-b/token --type SecureString --overwrite --value file://token.txt',
    );
  });

  it('calls an SSM parameter it may not read kind secret, unreadable, naming Parameter Store (no retry)', async () => {
    aws.failNext(1, 400, 'AccessDeniedException', 'not authorized to perform: ssm:GetParameter');
    aws.parameters.set('/qrmenu-alerts/demo/ssm-c/token', 'would-be-read-on-a-retry');
    const error = await tokenResolver({ id: 'ssm-c', token: { ssm: '/qrmenu-alerts/demo/ssm-c/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'secret', how: 'unreadable' });
    expect((error as Error).message).toMatch(
      /could not be read from SSM Parameter Store \(\/qrmenu-alerts\/demo\/ssm-c\/token\): not authorized.*not a rejected token/,
    );
  });

  it('blanks a token read from SSM out of every later log line', async () => {
    aws.parameters.set('/qrmenu-alerts/demo/ssm-d/token', 'ssm-secret-token-77');
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
    aws.secrets.set('qrmenu-alerts/demo/a/token', 'from-the-secret-42');
    await expect(tokenResolver({ id: 'a', token: { secret: 'qrmenu-alerts/demo/a/token' } })()).resolves.toBe(
      'from-the-secret-42',
    );
    expect(aws.calls).toEqual([
      { target: 'secretsmanager.GetSecretValue', input: { SecretId: 'qrmenu-alerts/demo/a/token' } },
    ]);
  });

  it('calls an unreadable secret kind secret (its own metric), never a rejected token, and not a crash', async () => {
    aws.failNext(1, 400, 'AccessDeniedException', 'User is not authorized to perform GetSecretValue');
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
    ['throttled', 400, 'ThrottlingException', 'Rate exceeded'],
    ['in an internal error', 500, 'InternalServiceError', 'We encountered an internal error'],
  ])('calls Secrets Manager %s three times running kind secret too', async (_what, status, type, message) => {
    aws.failNext(3, status, type, message);
    aws.secrets.set(`qrmenu-alerts/demo/e-${type}/token`, 'would-be-read-on-a-fourth-attempt');
    const error = await tokenResolver({ id: 'e', token: { secret: `qrmenu-alerts/demo/e-${type}/token` } })().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'secret', how: 'unreadable' });
    expect((error as Error).message).toContain(message);
  });

  it('says how to put the token when the secret is still empty', async () => {
    aws.secrets.set('qrmenu-alerts/demo/c/token', '   ');
    const error = await tokenResolver({ id: 'c', token: { secret: 'qrmenu-alerts/demo/c/token' } })().catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ kind: 'secret', how: 'empty' });
    expect((error as Error).message).toContain(
      'aws secretsmanager put-secret-value --secret-id qrmenu-alerts/demo/c/token',
    );
  });
});

describe('the signed JSON call (aws/json-call.ts)', () => {
  it('is answered like the SDK is: SSMClient and jsonCall read the same parameter from the stand-in', async () => {
    aws.parameters.set('/p/one', 'value-1');
    const sdk = new SSMClient({ endpoint: aws.endpoint });
    const viaSdk = await sdk.send(new GetParameterCommand({ Name: '/p/one', WithDecryption: true }));
    const ours = await jsonCall(SSM, 'GetParameter', { Name: '/p/one', WithDecryption: true });
    expect(ours).toEqual({ Parameter: expect.objectContaining({ Value: 'value-1' }) });
    expect(viaSdk.Parameter?.Value).toBe('value-1');
    const sdkMissing = await sdk.send(new GetParameterCommand({ Name: '/p/none' })).catch((e: unknown) => e);
    const ourMissing = await jsonCall(SSM, 'GetParameter', { Name: '/p/none' }).catch((e: unknown) => e);
    expect(sdkMissing).toBeInstanceOf(ParameterNotFound);
    expect(ourMissing).toBeInstanceOf(AwsCallError);
    expect(ourMissing).toMatchObject({
      name: 'ParameterNotFound',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    sdk.destroy();
  });

  it('is refused when the request is signed with other credentials (the stand-in checks SigV4)', async () => {
    aws.parameters.set('/p/two', 'value-2');
    const wrong = async () => ({
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      secretAccessKey: 'not-the-key',
    });
    const error = await jsonCall(SSM, 'GetParameter', { Name: '/p/two' }, { credentials: wrong }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403, attempts: 1 } });
  });

  it('retries throttling and 5xx, then answers; gives up after maxAttempts', async () => {
    aws.parameters.set('/p/three', 'value-3');
    aws.failNext(1, 400, 'ThrottlingException');
    aws.failNext(1, 503, 'ServiceUnavailable');
    await expect(jsonCall(SSM, 'GetParameter', { Name: '/p/three' }, quickRetries)).resolves.toMatchObject({
      Parameter: { Value: 'value-3' },
    });
    aws.failNext(3, 500, 'InternalServerError');
    await expect(jsonCall(SSM, 'GetParameter', { Name: '/p/three' }, quickRetries)).rejects.toMatchObject({
      name: 'InternalServerError',
      $fault: 'server',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });
  });

  it('gives up on an attempt left unanswered after its timeout and tries again', async () => {
    aws.parameters.set('/p/four', 'value-4');
    aws.hangNext(1);
    const started = performance.now();
    await expect(
      jsonCall(SSM, 'GetParameter', { Name: '/p/four' }, { ...quickRetries, requestTimeoutMs: 150 }),
    ).resolves.toMatchObject({ Parameter: { Value: 'value-4' } });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('names a missing region and reads an HTML error page as its status', async () => {
    await expect(jsonCall(SSM, 'GetParameter', {}, { env: {} })).rejects.toThrow(/set AWS_REGION/);
    aws.htmlNext(1, 502);
    await expect(jsonCall(SSM, 'GetParameter', {}, { maxAttempts: 1 })).rejects.toMatchObject({
      name: 'ServiceUnavailable',
      message: 'HTTP 502',
      $metadata: { httpStatusCode: 502 },
    });
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
