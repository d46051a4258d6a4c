/**
 * A fake AWS at the wire, for the SES and SNS clients (lambda/aws/query-call.ts) and for the SDK's
 * clients alike: a `requestHandler` that records each signed request (its Action and decoded form
 * parameters) and answers with a real wire body — an XML result, an XML `<ErrorResponse>`, an
 * HTML page — or hangs until the call's abort signal or request timeout ends it, failing the way
 * `@smithy/node-http-handler` fails (AbortError; TimeoutError with code ETIMEDOUT). So tests
 * exercise the encoding and the decoding, not a mock of the client. {@link tapWire} instead passes
 * each request on to a real handler (the emulators), telling a test about it first.
 */
import { Readable } from 'node:stream';
import { HttpResponse, type HttpRequest } from '@smithy/core/transport';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { CLIENT_DEFAULTS, keptConnections } from '../../lambda/aws/clients';
import type { RequestHandler } from '../../lambda/aws/endpoint';

/** One request the fake received. */
export interface WireCall {
  readonly action: string;
  /** The decoded form parameters, Action and Version included. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
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

/** The decoded form parameters of a Query-protocol body. */
export function formParams(body: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(body));
}

/** The request of a call, as a {@link WireCall}. */
function wireCall(request: HttpRequest): WireCall {
  const body = bodyText(request.body);
  const params = formParams(body);
  return { action: params.Action ?? '', params, headers: request.headers as Record<string, string>, body };
}

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
  const inner = new NodeHttpHandler({
    connectionTimeout: CLIENT_DEFAULTS.send.connectionTimeoutMs,
    throwOnRequestTimeout: true,
    ...keptConnections(),
  });
  return {
    async handle(request, options) {
      const call = wireCall(request);
      const reply = await before(call);
      if (reply !== undefined) return answerWith(reply, options);
      try {
        const answer = await inner.handle(request, options);
        after?.(call, { status: answer.response.statusCode });
        return answer;
      } catch (error) {
        after?.(call, { error });
        throw error;
      }
    },
  };
}

function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (body instanceof Uint8Array) return Buffer.from(body).toString('utf8');
  return body === undefined || body === null ? '' : String(body);
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
      const call = wireCall(request);
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
