/**
 * Every answer body the simulator can give, as plain values (`Answer`): the documented success,
 * the error answers for the unknowns (auth, unknown hash, bad request) and the fault answers
 * (5xx, nginx HTML pages, truncated JSON, not-JSON, empty, giant). No I/O here: the server writes
 * them. Messages are realistic and never contain the token a client sent.
 */
import type { Random } from './random';

export interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const HTML_TYPE = 'text/html';
const TEXT_TYPE = 'text/plain; charset=utf-8';

const json = (status: number, value: unknown, headers?: Record<string, string>): Answer =>
  headers === undefined
    ? { status, contentType: JSON_TYPE, body: JSON.stringify(value) }
    : { status, contentType: JSON_TYPE, body: JSON.stringify(value), headers };

/** The documented success: `{"result": true, "data": {"updates": [...]}}`. */
export function updatesAnswer(updates: readonly unknown[]): Answer {
  return json(200, { result: true, data: { updates } });
}

/** Size of the padding of a `giant` answer. */
export const GIANT_PADDING_BYTES = 5 * 1_048_576;

/** A valid success that is ~5 MiB: the updates plus `data.padding`, a long string. */
export function giantAnswer(updates: readonly unknown[]): Answer {
  const head = JSON.stringify({ result: true, data: { updates } }).slice(0, -2);
  return { status: 200, contentType: JSON_TYPE, body: `${head},"padding":"${'x'.repeat(GIANT_PADDING_BYTES)}"}}` };
}

/** How a wrong or missing token is answered. */
export type AuthFailureStyle = '401' | '403' | 'result-false';

/**
 * - `401`: JSON `{"result": false, "message": "Token required" | "Invalid token"}`;
 * - `403`: plain text `403 Forbidden: access denied` (a proxy-like answer);
 * - `result-false`: HTTP 200 with `{"result": false, "message": …}` as the 401 one.
 */
export function authFailureAnswer(style: AuthFailureStyle, tokenMissing: boolean): Answer {
  const message = tokenMissing ? 'Token required' : 'Invalid token';
  switch (style) {
    case '401':
      return json(401, { result: false, message });
    case '403':
      return { status: 403, contentType: TEXT_TYPE, body: '403 Forbidden: access denied' };
    case 'result-false':
      return json(200, { result: false, message });
  }
}

/** `hash` missing or empty: HTTP 400. */
export function missingHashAnswer(): Answer {
  return json(400, { result: false, message: "Query parameter 'hash' is required" });
}

/** `unknownHash: 'error'`: HTTP 400 `{"result": false, "message": "Event <hash> not found"}`. */
export function unknownHashAnswer(hash: string): Answer {
  return json(400, { result: false, message: `Event ${hash.slice(0, 64)} not found` });
}

/** One of HTTP 500 (JSON), 502 (text, like a proxy with no upstream), 503 (JSON + Retry-After). */
export function serverErrorAnswer(random: Random): Answer {
  const status = random.pick([500, 502, 503] as const);
  if (status === 500) return json(500, { result: false, message: 'Internal server error' });
  if (status === 502) return { status, contentType: TEXT_TYPE, body: 'Bad Gateway' };
  return json(503, { result: false, message: 'Service temporarily unavailable' }, { 'retry-after': '5' });
}

const nginxPage = (title: string): string =>
  `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx/1.18.0 (Ubuntu)</center>\r\n</body>\r\n</html>\r\n`;

/** An nginx-style HTML page: 502 Bad Gateway, or HTTP 200 with a maintenance page (a captive proxy). */
export function htmlAnswer(random: Random): Answer {
  return random.next() < 0.5
    ? { status: 502, contentType: HTML_TYPE, body: nginxPage('502 Bad Gateway') }
    : { status: 200, contentType: HTML_TYPE, body: nginxPage('Сервер на обслуживании — Service maintenance') };
}

/** HTTP 404 with nginx's page, for every path the server does not have. */
export function notFoundAnswer(): Answer {
  return { status: 404, contentType: HTML_TYPE, body: nginxPage('404 Not Found') };
}

/** HTTP 405 for a method other than GET on the events path. */
export function methodNotAllowedAnswer(): Answer {
  return { status: 405, contentType: HTML_TYPE, body: nginxPage('405 Not Allowed'), headers: { allow: 'GET' } };
}

/** The answer's body cut in the middle (never valid JSON), HTTP 200, a complete HTTP message. */
export function truncatedAnswer(of: Answer): Answer {
  const cut = Math.max(1, Math.floor(of.body.length / 2));
  return { status: 200, contentType: JSON_TYPE, body: of.body.slice(0, cut) };
}

/** HTTP 200 `{"result": false, "message": …}` about a server trouble, not about auth. */
export function resultFalseAnswer(): Answer {
  return json(200, { result: false, message: 'Application server is not available' });
}

/** HTTP 200 labelled JSON whose body is not JSON. */
export function notJsonAnswer(): Answer {
  return { status: 200, contentType: JSON_TYPE, body: 'Internal error: connection to the application server lost' };
}

/** HTTP 200 labelled JSON with an empty body. */
export function emptyBodyAnswer(): Answer {
  return { status: 200, contentType: JSON_TYPE, body: '' };
}

/** Whatever a `{ status, body, contentType? }` fault says. */
export function customAnswer(fault: { status: number; body: string; contentType?: string | undefined }): Answer {
  return { status: fault.status, contentType: fault.contentType ?? TEXT_TYPE, body: fault.body };
}
