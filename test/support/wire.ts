/**
 * AWS at the wire, for tests and the bench: every client of ours (DynamoDB, SES, SNS: lambda/aws/
 * endpoint.ts) takes a `requestHandler`, and these are the handlers tests give it.
 *
 * - {@link interceptingHandler} decodes each signed request (JSON protocol: `X-Amz-Target` and a
 *   JSON body; Query protocol: a form body with `Action`) into a {@link WireCall} and hands it,
 *   with the real send, to `around` — which may count it, time it, fail it before it leaves, or
 *   let it through and then throw (an answer that arrives after the caller gave up). The real
 *   send goes through the endpoints' own shared handler (kept connections) to the emulator.
 *   {@link tapWire} is the same with a reply in place of the send, or a look at the outcome.
 * - {@link fakeWire} is a fake AWS: it records each request and answers with a real wire body —
 *   an XML result, an XML `<ErrorResponse>`, an HTML page — or hangs until the call's abort
 *   signal or request timeout ends it, failing the way `@smithy/node-http-handler` fails
 *   (AbortError; TimeoutError with code ETIMEDOUT). It also takes the SDK's handler interface,
 *   so the SDK's own clients can be pointed at it for comparison.
 */
import { Readable } from 'node:stream';
import { type HttpRequest, HttpResponse } from '@smithy/core/transport';
import { CLIENT_DEFAULTS } from '../../lambda/aws/clients';
import { type RequestHandler, sharedHandler } from '../../lambda/aws/endpoint';

/** One request, decoded. */
export interface WireCall {
  /** "UpdateItem", "Publish", "SendEmail". */
  readonly action: string;
  /** The decoded body: JSON as sent (DynamoDB values still marshalled), or the form's fields. */
  readonly input: Record<string, unknown>;
  /** Query protocol: the form's fields, Action and Version included ({} for JSON). */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

type HandleOptions = { abortSignal?: AbortSignal; requestTimeout?: number };
export type Send = () => Promise<{ response: HttpResponse }>;
export type Around = (call: WireCall, send: Send, options: HandleOptions) => Promise<{ response: HttpResponse }>;

/** Decode a request our endpoint signed. */
export function decodeCall(request: HttpRequest): WireCall {
  const body = bodyText(request.body);
  const headers = request.headers as Record<string, string>;
  const target = headers['x-amz-target'];
  if (target !== undefined) {
    const input = JSON.parse(body || '{}') as Record<string, unknown>;
    return { action: target.slice(target.indexOf('.') + 1), input, params: {}, headers, body };
  }
  const params = Object.fromEntries(new URLSearchParams(body));
  return { action: params.Action ?? 'unknown', input: params, params, headers, body };
}

/** A handler that shows each request to `around`, with the send over `inner` (default: the endpoints' shared handler). */
export function interceptingHandler(around: Around, inner: RequestHandler = sharedHandler()): RequestHandler {
  return {
    handle: (request, options = {}) => around(decodeCall(request), () => inner.handle(request, options), options),
  };
}

/** The answer's body read whole, and a response that can still be read once more. */
export async function readBody(response: HttpResponse): Promise<{ text: string; response: HttpResponse }> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString('utf8');
  return { text, response: new HttpResponse({ ...response, body: Readable.from([Buffer.from(text)]) }) };
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return body === undefined || body === null ? '' : String(body);
}

/** How the fake answers: a status and body, `hang`, or an error to throw (a network failure). */
export type WireReply = { status: number; body: string; headers?: Record<string, string> } | 'hang' | Error;

export interface FakeWire extends RequestHandler {
  readonly calls: WireCall[];
  /** SES SendEmail calls: the To + Bcc addresses of each. */
  destinations(): string[][];
  /** The SDK's handler interface, so that an SDK client takes the fake as its requestHandler. */
  updateHttpClientConfig(): void;
  httpHandlerConfigs(): Record<string, never>;
}

/** Credentials and region for clients that only ever talk to a fake. */
export const FAKE_AWS = {
  region: 'eu-central-1',
  credentials: { accessKeyId: 'AKIDFAKEWIRE', secretAccessKey: 'fake-secret' },
} as const;

/** The SendEmail call's To, Cc and Bcc addresses, in order. */
export function destinationsOf(call: WireCall): string[] {
  return Object.entries(call.params)
    .filter(([k]) => /^Destination\.(To|Cc|Bcc)Addresses\.member\.\d+$/.test(k))
    .map(([, v]) => v);
}

/**
 * A real handler (the `send` profile's connect timeout, kept connections) that calls `before`
 * with each request before sending it, and `after` with its outcome; when `before` returns a
 * reply, the fake answers with it instead and nothing is sent.
 */
export function tapWire(
  before: (call: WireCall) => WireReply | undefined | Promise<WireReply | undefined>,
  after?: (call: WireCall, outcome: { status?: number; error?: unknown }) => void,
): RequestHandler {
  return interceptingHandler(async (call, send, options) => {
    const reply = await before(call);
    if (reply !== undefined) return answerWith(reply, options);
    try {
      const answer = await send();
      after?.(call, { status: answer.response.statusCode });
      return answer;
    } catch (error) {
      after?.(call, { error });
      throw error;
    }
  }, sharedHandler(CLIENT_DEFAULTS.send.connectionTimeoutMs));
}

/** A request handler answering with `reply` (given the call and its 1-based number). */
export function fakeWire(reply: (call: WireCall, n: number) => WireReply | Promise<WireReply>): FakeWire {
  const calls: WireCall[] = [];
  return {
    calls,
    destinations: () => calls.filter((c) => c.action === 'SendEmail').map(destinationsOf),
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
    async handle(request: HttpRequest, options: { abortSignal?: AbortSignal; requestTimeout?: number } = {}) {
      const call = decodeCall(request);
      calls.push(call);
      return answerWith(await reply(call, calls.length), options);
    },
  };
}

async function answerWith(
  answer: WireReply,
  options: { abortSignal?: AbortSignal; requestTimeout?: number } = {},
): Promise<{ response: HttpResponse }> {
  if (answer instanceof Error) throw answer;
  if (answer === 'hang') return hang(options);
  return {
    response: new HttpResponse({
      statusCode: answer.status,
      headers: answer.headers ?? { 'content-type': 'text/xml' },
      body: Readable.from([Buffer.from(answer.body, 'utf8')]),
    }),
  };
}

function hang(options: { abortSignal?: AbortSignal; requestTimeout?: number }): Promise<never> {
  return new Promise((_, reject) => {
    const timeoutMs = options.requestTimeout;
    const timer =
      timeoutMs && timeoutMs > 0
        ? setTimeout(() => {
            const message = `@smithy/node-http-handler - [ERROR] a request has exceeded the configured ${timeoutMs} ms requestTimeout.`;
            reject(Object.assign(new Error(message), { name: 'TimeoutError', code: 'ETIMEDOUT' }));
          }, timeoutMs)
        : undefined;
    const signal = options.abortSignal;
    const abort = () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' }));
    };
    if (signal?.aborted) abort();
    else signal?.addEventListener('abort', abort, { once: true });
  });
}

/** Escape text for an XML element. */
export function xmlEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A 200 answer of `action` with a MessageId, as SES and SNS write it. */
export function xmlResult(action: string, messageId: string): WireReply {
  const ns =
    action === 'SendEmail' ? 'http://ses.amazonaws.com/doc/2010-12-01/' : 'http://sns.amazonaws.com/doc/2010-03-31/';
  return {
    status: 200,
    body:
      `<${action}Response xmlns="${ns}">\n  <${action}Result>\n    <MessageId>${xmlEscape(messageId)}</MessageId>\n` +
      `  </${action}Result>\n  <ResponseMetadata>\n    <RequestId>req-1</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`,
  };
}

/** An AWS Query error answer. */
export function xmlError(
  code: string,
  message: string,
  status = 400,
  type = status >= 500 ? 'Receiver' : 'Sender',
): WireReply {
  return {
    status,
    body:
      `<ErrorResponse xmlns="http://ses.amazonaws.com/doc/2010-12-01/">\n  <Error>\n    <Type>${type}</Type>\n` +
      `    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n` +
      '  <RequestId>7b3e4b7c-0000-4000-8000-000000000001</RequestId>\n</ErrorResponse>\n',
  };
}

/** An HTML error page, as a load balancer or proxy writes one. */
export function htmlPage(status: number, title: string): WireReply {
  return {
    status,
    headers: { 'content-type': 'text/html' },
    body: `<html><head><title>${status} ${title}</title></head><body><h1>${title}</h1></body></html>`,
  };
}
