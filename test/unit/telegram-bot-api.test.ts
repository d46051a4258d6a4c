/**
 * Our Bot API client (lambda/notify/telegram/bot-api.ts) against a loopback HTTP server that
 * answers what each test says: the request on the wire (POST, JSON, null values dropped, the
 * method in the path), `ok: true` giving the result, `ok: false` giving BotApiError with its
 * parameters, and every answer that is not one — an HTML page, a body that is not JSON, no `ok`,
 * one too large, a cut-off or aborted read — giving BotApiHttpError, each classified by errors.ts
 * as it was with grammY. The token is in the URL and in no error, cause, stack or message.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../../local/emulators';
import { BotApi, BotApiError, BotApiHttpError, type BotApiTransformer } from '../../lambda/notify/telegram/bot-api';
import { classifyTelegramError } from '../../lambda/notify/telegram/errors';

const TOKEN = '424242:AAbot-api-test-secret';

interface Seen {
  readonly method: string | undefined;
  readonly url: string;
  readonly contentType: string | undefined;
  readonly body: string;
}

let server: Server;
let apiRoot: string;
let seen: Seen[];
let answer: (req: IncomingMessage, res: ServerResponse) => void;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url ?? '', contentType: req.headers['content-type'], body });
      answer(req, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  apiRoot = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  seen = [];
  answer = (_req, res) => json(res, 200, { ok: true, result: true });
});

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

const api = (options: Partial<ConstructorParameters<typeof BotApi>[1]> = {}) =>
  new BotApi(TOKEN, { apiRoot, ...options });

const failure = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('the call succeeded');
    },
    (error: unknown) => error,
  );

const classify = (error: unknown, timedOut = false) =>
  classifyTelegramError(error, { method: 'sendMessage', chatId: -100, timedOut, timeoutMs: 100, secrets: [] });

/** Everything an error shows: message, stack, causes, its own properties. */
const everything = (error: unknown) => `${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;

describe('the request', () => {
  it('is a POST of JSON to <apiRoot>/bot<token>/<method>, null values dropped, answering the result', async () => {
    answer = (_req, res) => json(res, 200, { ok: true, result: { message_id: 17, chat: { id: -100 } } });
    const result = await api().call('sendMessage', {
      chat_id: -100,
      text: 'Стол 6',
      parse_mode: 'HTML',
      reply_to_message_id: null as never,
    });
    expect(result).toEqual({ message_id: 17, chat: { id: -100 } });
    expect(seen).toEqual([
      {
        method: 'POST',
        url: `/bot${TOKEN}/sendMessage`,
        contentType: 'application/json',
        body: '{"chat_id":-100,"text":"Стол 6","parse_mode":"HTML"}',
      },
    ]);
  });

  it('sends getMe with an empty object', async () => {
    answer = (_req, res) => json(res, 200, { ok: true, result: { id: 1, is_bot: true, first_name: 'Bot' } });
    await expect(api().call('getMe', {})).resolves.toMatchObject({ id: 1 });
    expect(seen[0]).toMatchObject({ url: `/bot${TOKEN}/getMe`, body: '{}' });
  });

  it('passes every request through the transformers, the last one outermost', async () => {
    const order: string[] = [];
    const tag =
      (name: string): BotApiTransformer =>
      (prev, method, payload, signal) => {
        order.push(`${name}:${method}:${JSON.stringify(payload)}`);
        return prev(method, payload, signal);
      };
    await api({ transformers: [tag('inner'), tag('outer')] }).call('answerCallbackQuery', { callback_query_id: 'q' });
    expect(order).toEqual([
      'outer:answerCallbackQuery:{"callback_query_id":"q"}',
      'inner:answerCallbackQuery:{"callback_query_id":"q"}',
    ]);
    expect(seen).toHaveLength(1);
  });

  it('follows no redirect: the token-bearing URL never goes to another host', async () => {
    answer = (_req, res) => {
      res.writeHead(307, { location: `${apiRoot}/elsewhere` });
      res.end();
    };
    const error = await api()
      .call('getMe', {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect(seen.map((s) => s.url)).toEqual([`/bot${TOKEN}/getMe`]);
    expect(inspect(error, { depth: 8 })).not.toContain(TOKEN);
  });

  it('refuses an apiRoot with a trailing "/"', () => {
    expect(() => new BotApi(TOKEN, { apiRoot: `${apiRoot}/` })).toThrow(/trailing '\/'/);
  });
});

describe('ok: false', () => {
  it('is a BotApiError with the code, the description and retry_after: throttled', async () => {
    answer = (_req, res) =>
      json(res, 429, {
        ok: false,
        error_code: 429,
        description: 'Too Many Requests: retry after 7',
        parameters: { retry_after: 7 },
      });
    const error = await failure(api().call('sendMessage', { chat_id: -100, text: 'x' }));
    expect(error).toBeInstanceOf(BotApiError);
    expect(error).toMatchObject({
      method: 'sendMessage',
      errorCode: 429,
      description: 'Too Many Requests: retry after 7',
      parameters: { retry_after: 7 },
    });
    expect(classify(error)).toMatchObject({ kind: 'throttled', retryAfterMs: 7_000, errorCode: 429 });
  });

  it('carries migrate_to_chat_id: the chat, with its new id', async () => {
    answer = (_req, res) =>
      json(res, 400, {
        ok: false,
        error_code: 400,
        description: 'Bad Request: group chat was upgraded to a supergroup chat',
        parameters: { migrate_to_chat_id: -1009 },
      });
    const error = await failure(api().call('sendMessage', { chat_id: -5, text: 'x' }));
    expect(classify(error)).toMatchObject({ kind: 'permanent', reason: 'chat', migrateToChatId: -1009 });
  });

  it('has the token cut out of a description that repeats it', async () => {
    answer = (_req, res) =>
      json(res, 400, { ok: false, error_code: 400, description: `Bad Request: wrong url /bot${TOKEN}/x` });
    const error = await failure(api().call('sendMessage', { chat_id: -5, text: 'x' }));
    expect((error as BotApiError).description).toBe('Bad Request: wrong url /bot***/x');
    expect(everything(error)).not.toContain(TOKEN);
  });
});

describe('answers that are not Bot API answers: transient, ambiguous (the call may have been done)', () => {
  const unreadable = async (message: RegExp, status: number) => {
    const error = await failure(api({ maxAnswerBytes: 4_096 }).call('sendMessage', { chat_id: -100, text: 'x' }));
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect(error).toMatchObject({ unreadable: true, status });
    expect((error as Error).message).toMatch(message);
    expect(classify(error)).toMatchObject({ kind: 'transient', reason: 'server', ambiguous: true });
    expect(everything(error)).not.toContain(TOKEN);
    return error as BotApiHttpError;
  };

  it('an HTML page (a proxy in the way)', async () => {
    answer = (_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<html><body><h1>502 Bad Gateway</h1><p>/bot${TOKEN}/sendMessage</p></body></html>`);
    };
    const error = await unreadable(/HTTP 502, text\/html\) is not JSON: <html><body><h1>502 Bad Gateway/, 502);
    expect(error.message).toContain('/bot***/sendMessage');
  });

  it('a body that is not JSON, and an empty one', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true,"result":');
    };
    await unreadable(/HTTP 200, application\/json\) is not JSON: \{"ok":true,"result":/, 200);
    answer = (_req, res) => {
      res.writeHead(200);
      res.end();
    };
    await unreadable(/HTTP 200\) is not JSON: \(empty\)/, 200);
  });

  it('JSON without a boolean "ok"', async () => {
    answer = (_req, res) => json(res, 200, { result: { message_id: 1 } });
    await unreadable(/is not a Bot API answer \(no "ok"\)/, 200);
    answer = (_req, res) => json(res, 200, null);
    await unreadable(/is not a Bot API answer/, 200);
    answer = (_req, res) => json(res, 200, { ok: 'true', result: 1 });
    await unreadable(/is not a Bot API answer/, 200);
  });

  it('an answer larger than the cap, whether its length is declared or not', async () => {
    const big = JSON.stringify({ ok: true, result: 'x'.repeat(10_000) });
    answer = (_req, res) => json(res, 200, JSON.parse(big));
    await unreadable(/HTTP 200\) is larger than 4096 bytes/, 200);
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      res.write(big.slice(0, 3_000));
      setTimeout(() => res.end(big.slice(3_000)), 10);
    };
    await unreadable(/is larger than 4096 bytes/, 200);
  });
});

describe('no answer', () => {
  it('our timeout before the answer: the abort, wrapped; classified as a timeout', async () => {
    answer = () => {}; // never answers
    const error = await failure(api().call('sendMessage', { chat_id: -100, text: 'x' }, AbortSignal.timeout(100)));
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect((error as BotApiHttpError).unreadable).toBe(false);
    expect((error as Error).cause).toMatchObject({ name: 'TimeoutError' });
    expect(classify(error, true)).toMatchObject({ kind: 'transient', reason: 'timeout', ambiguous: true });
  });

  it('an abort in the middle of the answer: wrapped the same way', async () => {
    answer = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"ok":true,'); // and then nothing
    };
    const controller = new AbortController();
    const call = failure(api().call('sendMessage', { chat_id: -100, text: 'x' }, controller.signal));
    setTimeout(() => controller.abort(), 100);
    const error = await call;
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect((error as Error).cause).toMatchObject({ name: 'AbortError' });
    expect(classify(error)).toMatchObject({ kind: 'transient', reason: 'network', ambiguous: true });
  });

  it('a connection cut after the request: network, ambiguous', async () => {
    answer = (req) => req.socket.destroy();
    const error = await failure(api().call('sendMessage', { chat_id: -100, text: 'x' }));
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect(classify(error)).toMatchObject({ kind: 'transient', reason: 'network', ambiguous: true });
  });

  it('a refused connection: undici cause chain kept (ECONNREFUSED), not ambiguous', async () => {
    const error = await failure(
      new BotApi(TOKEN, { apiRoot: `http://127.0.0.1:${await freePort()}` }).call('sendMessage', {
        chat_id: 1,
        text: 'x',
      }),
    );
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect((error as Error).message).toBe("Network request for 'sendMessage' failed: fetch failed");
    expect(((error as Error).cause as Error).message).toBe('fetch failed');
    const failed = classify(error);
    expect(failed).toMatchObject({ kind: 'transient', reason: 'network' });
    expect(failed.ambiguous).toBeUndefined();
    expect(everything(error)).not.toContain(TOKEN);
  });

  it('an apiRoot fetch cannot parse: the URL (with the token) in none of the error chain', async () => {
    const error = await failure(new BotApi(TOKEN, { apiRoot: 'not a url' }).call('getMe', {}));
    expect(error).toBeInstanceOf(BotApiHttpError);
    expect((error as Error).message).toContain('Failed to parse URL from not a url/bot***/getMe');
    expect(everything(error)).not.toContain(TOKEN);
    expect(JSON.stringify(classify(error))).not.toContain(TOKEN);
  });
});
