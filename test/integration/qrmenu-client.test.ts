/**
 * The QR-menu client against the simulator over real HTTPS and HTTP: the documented semantics,
 * certificate pinning, every error kind, the size cap, the retries, the deadline — and a corpus of
 * malformed answers for which the client must return a typed error or events (never hang, never
 * throw anything untyped, never show the token — in an error or anywhere in a parsed event).
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { QrMenuClient, type QrMenuClientOptions } from '../../lambda/qrmenu/client';
import {
  AuthError,
  BadResponseError,
  QrMenuError,
  ServerError,
  TlsError,
  TokenUnavailableError,
  UnreachableError,
} from '../../lambda/qrmenu/errors';
import { hostileAnswers } from '../support/hostile-answers';

const TOKEN = 'tok-3f9a1c77-secret';

let https: Simulator;
let http: Simulator;

beforeAll(async () => {
  [https, http] = await Promise.all([
    createSimulator({ token: TOKEN, seed: 1 }),
    createSimulator({ token: TOKEN, seed: 2, tls: false }),
  ]);
});
afterAll(async () => {
  await Promise.all([https.close(), http.close()]);
});

function client(sim: Simulator, options: Partial<QrMenuClientOptions> = {}): QrMenuClient {
  return new QrMenuClient({
    baseUrl: sim.url,
    token: TOKEN,
    ...(sim.fingerprint256 ? { tls: { fingerprint256: sim.fingerprint256 } } : {}),
    requestTimeoutMs: 2_000,
    minBackoffMs: 5,
    maxBackoffMs: 20,
    ...options,
  });
}

/** The error a promise rejects with (the test fails if it resolves). */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure, got an answer');
}

describe('documented semantics', () => {
  it('answers hash=none with every queued event, oldest first', async () => {
    https.restart();
    const injected = https.injectMany(3);
    const answer = await client(https).fetchEvents(null);
    expect(answer.hashParam).toBe('none');
    expect(answer.events.map((e) => e.hash)).toEqual(injected.map((e) => e.hash));
    expect(answer.skipped).toEqual([]);
  });

  it('answers a known hash with only the events after it', async () => {
    https.restart();
    const [first, second, third] = https.injectMany(3);
    const answer = await client(https).fetchEvents(first!.hash);
    expect(answer.events.map((e) => e.hash)).toEqual([second!.hash, third!.hash]);
  });

  it('turns the documented example into table name, code and kept raw fields', async () => {
    https.restart();
    https.inject({ code: 'waiter_call', table: 1000028, tableName: '6', maxGuests: 50 });
    const [event] = (await client(https).fetchEvents(null)).events;
    expect(event).toMatchObject({
      code: 'waiter_call',
      tableId: 1000028,
      tableName: '6',
      invoice: null,
      order: null,
      placeholders: [],
    });
    expect(event!.raw).toMatchObject({ table_repr: { id: 1000028, name: '6', max_guests: 50 } });
  });

  it('skips an event without a hash and keeps the good ones beside it', async () => {
    https.restart();
    const good1 = https.inject();
    https.inject({ code: 'waiter_call', table: 5 }, { raw: true });
    const good2 = https.inject();
    const answer = await client(https).fetchEvents(null);
    expect(answer.events.map((e) => e.hash)).toEqual([good1.hash, good2.hash]);
    expect(answer.skipped).toEqual([{ index: 1, reason: 'no usable "hash" (missing)' }]);
  });

  it('fills placeholders for a missing code and table_repr, and keeps unknown keys', async () => {
    https.restart();
    https.inject({ hash: '0x0000beef', table: 1000007, extra: { vendor: 'x' } }, { raw: true });
    const [event] = (await client(https).fetchEvents(null)).events;
    expect(event).toMatchObject({
      hash: '0x0000beef',
      code: 'unknown',
      tableName: '1000007',
      placeholders: ['code', 'table_repr.name'],
    });
    expect(event!.raw).toMatchObject({ extra: { vendor: 'x' } });
  });
});

describe('TLS', () => {
  it('trusts the server through its pinned SHA-256 fingerprint, in any case and with or without colons', async () => {
    const fingerprint = https.fingerprint256!.replace(/:/g, '').toLowerCase();
    const answer = await client(https, { tls: { fingerprint256: fingerprint } }).fetchEvents(null);
    expect(answer.certificate).toMatchObject({ fingerprint256: https.fingerprint256, trustedBy: 'fingerprint' });
  });

  it('trusts the server through its pinned certificate PEM', async () => {
    const answer = await client(https, { tls: { caPem: https.certPem! } }).fetchEvents(null);
    expect(answer.certificate?.trustedBy).toBe('ca-pem');
  });

  it('refuses a server whose certificate does not match the pin, before sending the token', async () => {
    const before = https.served.length;
    const wrong = `${'AA:'.repeat(31)}AA`;
    const error = await failure(client(https, { tls: { fingerprint256: wrong } }).fetchEvents(null));
    expect(error).toBeInstanceOf(TlsError);
    expect(error).toMatchObject({ how: 'fingerprint_mismatch', presentedFingerprint: https.fingerprint256 });
    expect(https.served.length).toBe(before);
  });

  it('refuses an unpinned self-signed certificate and names the fingerprint to pin', async () => {
    const before = https.served.length;
    const error = await failure(client(https, { tls: {} }).fetchEvents(null));
    expect(error).toBeInstanceOf(TlsError);
    expect((error as TlsError).message).toContain(https.fingerprint256!);
    expect(https.served.length).toBe(before);
  });

  it('reports a TLS handshake failure when https:// meets a plain HTTP server', async () => {
    const error = await failure(client(http, { baseUrl: http.url.replace('http:', 'https:') }).fetchEvents(null));
    expect(error).toBeInstanceOf(TlsError);
  });

  it('polls a plain http:// server, with a warning', async () => {
    const warnings: string[] = [];
    http.restart();
    http.inject();
    const answer = await client(http, { onWarning: (w) => warnings.push(w) }).fetchEvents(null);
    expect(answer.events).toHaveLength(1);
    expect(warnings.join()).toMatch(/plain http/);
  });
});

describe('auth', () => {
  it.each([
    ['401', 'http_401'],
    ['403', 'http_403'],
    ['result-false', 'result_false'],
  ] as const)('a wrong token answered %s is an AuthError that does not contain the token', async (style, how) => {
    const sim = await createSimulator({ token: 'the-right-one', authFailure: style, tls: false, seed: 3 });
    try {
      const error = await failure(client(sim, { token: TOKEN }).fetchEvents(null));
      expect(error).toBeInstanceOf(AuthError);
      expect(error).toMatchObject({ kind: 'auth', how });
      expect(String((error as Error).message)).not.toContain(TOKEN);
    } finally {
      await sim.close();
    }
  });

  it('blanks the token out of a server message that echoes it', async () => {
    https.failNext({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ result: false, message: `token ${TOKEN} is invalid` }),
    });
    const error = await failure(client(https).fetchEvents(null));
    expect(error).toBeInstanceOf(AuthError);
    expect((error as Error).message).not.toContain(TOKEN);
    expect((error as Error).message).toContain('***');
  });

  it('a token that cannot be read is kind secret, not a rejected token, and the server is not asked', async () => {
    const before = https.served.length;
    const error = await failure(
      client(https, {
        token: () => Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })),
      }).fetchEvents(null),
    );
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toMatchObject({ kind: 'secret', how: 'unreadable', retryable: false });
    expect((error as Error).message).toMatch(/could not be read \(the server was not asked\): Rate exceeded/);
    expect(https.served.length).toBe(before);
  });

  it('takes result:false saying the event key is unknown for a bad response, not a rejected token', async () => {
    https.failNext({
      status: 200,
      contentType: 'application/json',
      body: JSON.stringify({ result: false, message: 'ключ события не найден' }),
    });
    const error = await failure(client(https, { retries: 0 }).fetchEvents(null));
    expect(error).toMatchObject({ kind: 'bad_response', reason: 'result_false' });
  });

  it('is not retried', async () => {
    https.failNext({ status: 401, body: 'no' });
    const before = https.served.length;
    await failure(client(https).fetchEvents(null));
    expect(https.served.length - before).toBe(1);
  });
});

describe('retries and timeouts', () => {
  it('retries 5xx answers with backoff and succeeds', async () => {
    https.failNext('server-error', 'server-error');
    const answer = await client(https, { retries: 2 }).fetchEvents(null);
    expect(answer.attempts).toBe(3);
  });

  it('gives up after its retries with a ServerError', async () => {
    https.failNext('server-error', 'server-error');
    const error = await failure(client(https, { retries: 1 }).fetchEvents(null));
    expect(error).toBeInstanceOf(ServerError);
  });

  it('retries a reset connection', async () => {
    https.failNext('reset');
    const answer = await client(https).fetchEvents(null);
    expect(answer.attempts).toBe(2);
  });

  it('a server that never answers is an UnreachableError timeout after the request timeout', async () => {
    https.failNext('hang');
    const started = Date.now();
    const error = await failure(client(https, { requestTimeoutMs: 300, retries: 0 }).fetchEvents(null));
    expect(error).toMatchObject({ kind: 'unreachable', how: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('keeps all attempts inside the deadline it is given', async () => {
    https.failNext('hang'); // one attempt fits in the deadline; a second must not be started
    const started = Date.now();
    const error = await failure(
      client(https, { requestTimeoutMs: 5_000, retries: 2 }).fetchEvents(null, { deadline: started + 400 }),
    );
    expect(error).toBeInstanceOf(UnreachableError);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('a closed port is an UnreachableError (refused)', async () => {
    const port = await closedPort();
    const error = await failure(client(http, { baseUrl: `http://127.0.0.1:${port}`, retries: 0 }).fetchEvents(null));
    expect(error).toMatchObject({ kind: 'unreachable', how: 'refused' });
  });

  it('a host that does not resolve is an UnreachableError', async () => {
    const error = await failure(
      client(http, { baseUrl: 'http://qrmenu.invalid:8080', retries: 0, requestTimeoutMs: 1_500 }).fetchEvents(null),
    );
    expect(error).toBeInstanceOf(UnreachableError);
  });
});

describe('bad answers', () => {
  it('abandons a giant answer at the size cap', async () => {
    https.failNext('giant');
    const error = await failure(client(https, { maxResponseBytes: 64 * 1024 }).fetchEvents(null));
    expect(error).toMatchObject({ kind: 'bad_response', reason: 'too_large' });
  });

  it('an HTML error page is a BadResponseError, or a ServerError when it comes with a 5xx status', async () => {
    https.failNext('html');
    const error = await failure(client(https, { retries: 0 }).fetchEvents(null));
    expect(error instanceof ServerError || (error instanceof BadResponseError && error.reason === 'html')).toBe(true);
  });

  it.each([
    ['truncated', 'not_json'],
    ['not-json', 'not_json'],
    ['empty-body', 'empty'],
    ['result-false', 'result_false'],
  ] as const)('the simulator fault %s is a BadResponseError (%s)', async (fault, reason) => {
    https.failNext(fault);
    const error = await failure(client(https).fetchEvents(null));
    expect(error).toBeInstanceOf(BadResponseError);
    expect(error).toMatchObject({ reason });
  });

  it('a wrong path (HTTP 404) says to check the URL', async () => {
    const error = await failure(client(https, { baseUrl: `${https.url}/wrong` }).fetchEvents(null));
    expect(error).toMatchObject({ kind: 'bad_response', reason: 'http_status' });
    expect((error as Error).message).toMatch(/check the URL/);
  });

  const CORPUS = hostileAnswers(TOKEN).filter((answer) => !answer.heavy);

  it(`returns a typed error or a lenient parse for each of ${CORPUS.length} malformed answers`, async () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(30);
    const c = client(https, { retries: 0 });
    for (const sample of CORPUS) {
      https.failNext(sample.fault);
      const outcome = await c.fetchEvents(null).then(
        (answer) => ({ ok: true as const, answer }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      if (sample.expect === 'lenient') {
        expect(outcome.ok, sample.name).toBe(true);
        if (outcome.ok) {
          const { events, skipped } = outcome.answer;
          expect(JSON.stringify({ events, skipped }), sample.name).not.toContain(TOKEN);
        }
      } else {
        expect(outcome.ok, sample.name).toBe(false);
        if (!outcome.ok) {
          expect(outcome.error, sample.name).toBeInstanceOf(QrMenuError);
          if (sample.kind) expect((outcome.error as QrMenuError).kind, sample.name).toBe(sample.kind);
          expect(String((outcome.error as Error).message), sample.name).not.toContain(TOKEN);
        }
      }
    }
  });
});

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
