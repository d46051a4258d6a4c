/**
 * A request handler that sees every AWS call at the wire, for tests and the bench: it decodes
 * the signed request our clients send (JSON protocol: `X-Amz-Target` and a JSON body; Query
 * protocol: a form body with `Action`) into `{ action, input }` and hands it, with the real
 * send, to `around` — which may count it, time it, fail it before it leaves, or let it through
 * and then throw (an answer that arrives after the caller gave up). The real send goes through
 * the endpoints' own shared handler (kept connections) to the emulator the endpoint names.
 */
import { Readable } from 'node:stream';
import type { HttpRequest, HttpResponse } from '@smithy/core/transport';
import { type RequestHandler, sharedHandler } from '../../lambda/aws/endpoint';

export interface WireCall {
  /** "UpdateItem", "Publish", "SendEmail". */
  readonly action: string;
  /** The decoded body: JSON as sent (DynamoDB values still marshalled), or the form's fields. */
  readonly input: Record<string, unknown>;
}

export type Send = () => Promise<{ response: HttpResponse }>;
export type Around = (call: WireCall, send: Send) => Promise<{ response: HttpResponse }>;

/** Decode a request our endpoint signed. */
export function decodeCall(request: HttpRequest): WireCall {
  const body = typeof request.body === 'string' ? request.body : String(request.body ?? '');
  const target = request.headers['x-amz-target'];
  if (target !== undefined) {
    return {
      action: target.slice(target.indexOf('.') + 1),
      input: JSON.parse(body || '{}') as Record<string, unknown>,
    };
  }
  const form = Object.fromEntries(new URLSearchParams(body));
  return { action: form.Action ?? 'unknown', input: form };
}

export function interceptingHandler(around: Around, inner: RequestHandler = sharedHandler()): RequestHandler {
  return {
    handle: (request, options) => around(decodeCall(request), () => inner.handle(request, options)),
  };
}

/** The answer's body read whole, and a response that can still be read once more. */
export async function readBody(response: HttpResponse): Promise<{ text: string; response: HttpResponse }> {
  const chunks: Buffer[] = [];
  for await (const chunk of response.body as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
  const text = Buffer.concat(chunks).toString('utf8');
  return { text, response: { ...response, body: Readable.from([Buffer.from(text)]) } as HttpResponse };
}
