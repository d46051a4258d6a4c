/**
 * Hostile and malformed QR-menu answers for the reliability suite, in two kinds:
 *   answers — served once in place of the server's own (`sim.failNext`): each must become a typed
 *     QrMenuError or a lenient parse, through the client and through a poller tick, and never
 *     cost an event queued before it;
 *   poison events — one bad event between two good ones, in an answer served again and again (as
 *     an event that stays queued for the server's whole retention is): the good events beside it
 *     must still go out promptly, not once the bad one has expired.
 * One corpus for the client's integration test (the light answers) and the reliability suite
 * (`npm run chaos`, all of them): plain malformations first, then oversized, deeply nested,
 * token-echoing and odd ones.
 */
import type { QrMenuErrorKind } from '../../lambda/qrmenu/errors';
import type { OneShotFault } from '../../local/simulator';

export interface HostileAnswer {
  readonly name: string;
  readonly fault: OneShotFault;
  /** What the client must make of it (without retries): a typed error, or a lenient parse. */
  readonly expect: 'error' | 'lenient';
  /** The error kind it must have, where only one is right. */
  readonly kind?: QrMenuErrorKind;
  /** Slow or large to serve (a hang, MiBs): left out of the short CI form. */
  readonly heavy?: boolean;
}

export interface PoisonEvent {
  readonly name: string;
  /** The event's JSON text (built by hand: some are too deep for JSON.stringify). */
  readonly json: string;
}

const json = (status: number, body: string, contentType = 'application/json'): OneShotFault => ({
  status,
  body,
  contentType,
});
const ok = (body: string, contentType?: string) => json(200, body, contentType);
const updates = (list: unknown[]) => JSON.stringify({ result: true, data: { updates: list } });

/** Plain malformations (status 200 and application/json unless said). */
const CLIENT_TEST_CORPUS: readonly HostileAnswer[] = [
  { name: 'empty object', fault: ok('{}'), expect: 'error' },
  { name: 'JSON null', fault: ok('null'), expect: 'error' },
  { name: 'JSON array', fault: ok('[]'), expect: 'error' },
  { name: 'JSON string', fault: ok('"ok"'), expect: 'error' },
  { name: 'JSON number', fault: ok('42'), expect: 'error' },
  { name: 'result as string', fault: ok('{"result":"true","data":{"updates":[]}}'), expect: 'error' },
  { name: 'result true without data', fault: ok('{"result":true}'), expect: 'error' },
  { name: 'data null', fault: ok('{"result":true,"data":null}'), expect: 'error' },
  { name: 'updates null', fault: ok('{"result":true,"data":{"updates":null}}'), expect: 'error' },
  { name: 'updates an object', fault: ok('{"result":true,"data":{"updates":{"hash":"0x1"}}}'), expect: 'error' },
  { name: 'updates a string', fault: ok('{"result":true,"data":{"updates":"none"}}'), expect: 'error' },
  { name: 'result false, no message', fault: ok('{"result":false}'), expect: 'error' },
  {
    name: 'result false, error object',
    fault: ok('{"result":false,"error":{"message":"queue locked"}}'),
    expect: 'error',
  },
  { name: 'trailing garbage', fault: ok('{"result":true,"data":{"updates":[]}} garbage'), expect: 'error' },
  { name: 'cut mid-string', fault: ok('{"result":true,"data":{"updates":[{"hash":"0xab'), expect: 'error' },
  { name: 'single quotes', fault: ok("{'result': true}"), expect: 'error' },
  { name: 'NaN literal', fault: ok('{"result":true,"data":{"updates":[NaN]}}'), expect: 'error' },
  { name: 'XML', fault: ok('<?xml version="1.0"?><result>true</result>', 'application/xml'), expect: 'error' },
  {
    name: 'HTML 200 login page',
    fault: ok('<html><head><title>Login</title></head><body>Sign in</body></html>', 'text/html'),
    expect: 'error',
  },
  {
    name: 'HTML 502 from nginx',
    fault: json(502, '<html><head><title>502 Bad Gateway</title></head></html>', 'text/html'),
    expect: 'error',
  },
  { name: 'HTTP 400 with JSON', fault: json(400, '{"result":false,"message":"bad hash"}'), expect: 'error' },
  { name: 'HTTP 418', fault: json(418, 'teapot'), expect: 'error' },
  { name: 'HTTP 204-like empty 200', fault: ok(''), expect: 'error' },
  { name: 'whitespace only', fault: ok('   \n\t '), expect: 'error' },
  { name: 'binary noise', fault: ok('\u0000\u0001\u0002\u00ff\u00fe'), expect: 'error' },
  { name: 'BOM then valid JSON', fault: ok('\uFEFF{"result":true,"data":{"updates":[]}}'), expect: 'lenient' },
  {
    name: 'events of every wrong type',
    fault: ok(
      '{"result":true,"data":{"updates":[null,1,"x",[],true,{"hash":null},{"hash":""},{"hash":{}},{"hash":"none"}]}}',
    ),
    expect: 'lenient',
  },
  {
    name: 'hash with spaces and control chars',
    fault: ok('{"result":true,"data":{"updates":[{"hash":"0x1 2"},{"hash":"0x\\u0007"}]}}'),
    expect: 'lenient',
  },
  {
    name: 'numeric hash, table as string',
    fault: ok('{"result":true,"data":{"updates":[{"hash":123,"code":"waiter_call","table":"T1"}]}}'),
    expect: 'lenient',
  },
  {
    name: 'invoice and order of odd types',
    fault: ok(
      '{"result":true,"data":{"updates":[{"hash":"0x2","code":"bill_request","invoice":"120.50","order":[1,2],"table_repr":"6"}]}}',
    ),
    expect: 'lenient',
  },
  {
    name: 'table_repr name as number',
    fault: ok('{"result":true,"data":{"updates":[{"hash":"0x3","code":"waiter_call","table_repr":{"name":6}}]}}'),
    expect: 'lenient',
  },
  { name: 'huge hash', fault: ok(updates([{ hash: 'x'.repeat(500) }, { hash: '0x4' }])), expect: 'lenient' },
  {
    name: 'deeply nested invoice (200 levels)',
    fault: ok(
      `{"result":true,"data":{"updates":[{"hash":"0x5","invoice":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}]}}`,
    ),
    expect: 'lenient',
  },
  {
    name: 'extra top-level keys',
    fault: ok('{"result":true,"version":4,"data":{"updates":[],"next":"0x9"},"server":"qr"}'),
    expect: 'lenient',
  },
];

/** Answers added here: oversized, nested, token-echoing, odd statuses and types, named simulator faults. */
function moreAnswers(token: string): HostileAnswer[] {
  const mib = 1_048_576;
  return [
    // the simulator's named faults
    { name: 'fault: server-error (500/502/503)', fault: 'server-error', expect: 'error', kind: 'server' },
    { name: 'fault: html (nginx page)', fault: 'html', expect: 'error' },
    { name: 'fault: truncated JSON', fault: 'truncated', expect: 'error' },
    { name: 'fault: reset connection', fault: 'reset', expect: 'error', kind: 'unreachable' },
    { name: 'fault: result-false', fault: 'result-false', expect: 'error' },
    { name: 'fault: not-json', fault: 'not-json', expect: 'error' },
    { name: 'fault: empty-body', fault: 'empty-body', expect: 'error' },
    { name: 'fault: duplicate events', fault: 'duplicate', expect: 'lenient' },
    { name: 'fault: giant valid answer (5 MiB)', fault: 'giant', expect: 'error', kind: 'bad_response', heavy: true },
    { name: 'fault: hang (no answer)', fault: 'hang', expect: 'error', kind: 'unreachable', heavy: true },
    // oversized
    {
      name: '2 MiB of JSON padding',
      fault: ok(`{"result":true,"data":{"updates":[],"pad":"${'p'.repeat(2 * mib)}"}}`),
      expect: 'error',
      kind: 'bad_response',
      heavy: true,
    },
    {
      name: '1.5 MiB HTML page',
      fault: json(200, `<html><body>${'<p>x</p>'.repeat(200_000)}</body></html>`, 'text/html'),
      expect: 'error',
      kind: 'bad_response',
      heavy: true,
    },
    {
      name: '1 MiB + 1 byte of spaces',
      fault: ok(`${' '.repeat(mib)}{}`),
      expect: 'error',
      kind: 'bad_response',
      heavy: true,
    },
    // nesting
    {
      name: 'array nested 10,000 deep',
      fault: ok(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
      expect: 'error',
      kind: 'bad_response',
    },
    {
      name: 'result nested 10,000 deep',
      fault: ok(`{"result":${'['.repeat(10_000)}${']'.repeat(10_000)}}`),
      expect: 'error',
      kind: 'bad_response',
    },
    {
      name: 'invoice nested 10,000 deep',
      fault: ok(
        `{"result":true,"data":{"updates":[{"hash":"0xdeep1","code":"bill_request","invoice":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}]}}`,
      ),
      expect: 'lenient',
    },
    // the token echoed back
    {
      name: 'result false echoing the token',
      fault: ok(JSON.stringify({ result: false, message: `token ${token} is not valid here` })),
      expect: 'error',
      kind: 'auth',
    },
    {
      name: 'HTTP 500 echoing the token',
      fault: json(500, `upstream rejected token=${token}`, 'text/plain'),
      expect: 'error',
      kind: 'server',
    },
    {
      name: 'HTML title echoing the token',
      fault: json(200, `<html><head><title>Bad key ${token}</title></head></html>`, 'text/html'),
      expect: 'error',
    },
    { name: 'not JSON echoing the token', fault: ok(`error: token ${token} expired`), expect: 'error' },
    {
      name: 'HTTP 400 echoing the token',
      fault: json(400, JSON.stringify({ result: false, message: `Event ${token} not found` })),
      expect: 'error',
    },
    // statuses and types
    { name: 'HTTP 429 Too Many Requests', fault: json(429, '{"result":false,"message":"slow down"}'), expect: 'error' },
    { name: 'HTTP 301 redirect', fault: json(301, '<html>Moved</html>', 'text/html'), expect: 'error' },
    { name: 'HTTP 401 plain text', fault: json(401, 'Unauthorized', 'text/plain'), expect: 'error', kind: 'auth' },
    {
      name: 'result false in Russian about the key',
      fault: ok('{"result":false,"message":"Неверный ключ доступа"}'),
      expect: 'error',
      kind: 'auth',
    },
    { name: 'valid JSON labelled text/html', fault: ok(updates([]), 'text/html'), expect: 'error' },
    { name: 'valid JSON labelled octet-stream', fault: ok(updates([]), 'application/octet-stream'), expect: 'lenient' },
    { name: 'double-encoded JSON string', fault: ok(JSON.stringify(updates([]))), expect: 'error' },
    {
      name: 'cut inside a Cyrillic letter',
      fault: ok('{"result":true,"data":{"updates":[{"hash":"0x7","table_repr":{"name":"Вера\u043d'),
      expect: 'error',
    },
    {
      name: 'duplicate keys, last result true',
      fault: ok('{"result":false,"result":true,"data":{"updates":[]}}'),
      expect: 'lenient',
    },
    // odd but parseable events
    {
      name: 'the same hash three times',
      fault: ok(
        updates([
          { hash: '0xsame1', code: 'waiter_call' },
          { hash: '0xsame1', code: 'waiter_call' },
          { hash: '0xsame1' },
        ]),
      ),
      expect: 'lenient',
    },
    {
      name: 'events in reverse order',
      fault: ok(updates([{ hash: '0xrev3' }, { hash: '0xrev2' }, { hash: '0xrev1' }])),
      expect: 'lenient',
    },
    {
      name: '__proto__ and constructor everywhere',
      fault: ok(
        '{"result":true,"data":{"updates":[{"hash":"__proto__","code":"constructor","table_repr":{"name":"__proto__"},"__proto__":{"polluted":true}}]}}',
      ),
      expect: 'lenient',
    },
    {
      name: 'hash as a huge number',
      fault: ok('{"result":true,"data":{"updates":[{"hash":1e309},{"hash":-0},{"hash":0.1}]}}'),
      expect: 'lenient',
    },
    {
      name: 'NUL inside the hash',
      fault: ok('{"result":true,"data":{"updates":[{"hash":"0x\\u0000ab"}]}}'),
      expect: 'lenient',
    },
    {
      name: 'RTL override and emoji table name',
      fault: ok(updates([{ hash: '0xrtl1', code: 'waiter_call', table_repr: { name: '\u202eVIP 🍕🍕🍕\u202c' } }])),
      expect: 'lenient',
    },
    {
      name: 'table name of 20,000 characters',
      fault: ok(updates([{ hash: '0xlongtable', code: 'waiter_call', table_repr: { name: 'Т'.repeat(20_000) } }])),
      expect: 'lenient',
    },
    {
      name: 'code of 20,000 characters',
      fault: ok(updates([{ hash: '0xlongcode', code: 'c'.repeat(20_000) }])),
      expect: 'lenient',
    },
    {
      name: 'bill with 5,000 dishes',
      fault: ok(
        updates([
          {
            hash: '0xbigbill',
            code: 'bill_request',
            invoice: {
              id: 'inv-1',
              sum_to_pay: 1e9,
              dishes: Array.from({ length: 5_000 }, (_, i) => ({ name: `Блюдо ${i}`, quantity: i, price: 1.5 })),
            },
          },
        ]),
      ),
      expect: 'lenient',
    },
    {
      name: 'invoice with a 300 KB string',
      fault: ok(
        updates([
          { hash: '0xbigstr', code: 'bill_request', invoice: { id: 'x'.repeat(300_000), sum_to_pay: 'много' } },
        ]),
      ),
      expect: 'lenient',
    },
    {
      name: 'table name holding the token',
      fault: ok(updates([{ hash: '0xtokentable', code: 'waiter_call', table_repr: { name: `T ${token}` } }])),
      expect: 'lenient',
    },
    {
      name: 'the token in the invoice, the order, an unknown nested field and a key',
      fault: ok(
        updates([
          {
            hash: '0xtokenechoes',
            code: `waiter_call ${token}`,
            table: token,
            invoice: { id: 'inv-7', comment: `please use ${token}`, dishes: [{ name: token, price: 1 }] },
            order: { [`note-${token}`]: { deeper: [[`x${token}y`]] } },
            extra: { meta: { echo: `${token}${token}` } },
          },
        ]),
      ),
      expect: 'lenient',
    },
    {
      name: 'the token spelled with JSON escapes in a table name',
      fault: ok(
        `{"result":true,"data":{"updates":[{"hash":"0xtokenescaped","code":"waiter_call","table_repr":{"name":"${[...token].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`).join('')}"}}]}}`,
      ),
      expect: 'lenient',
    },
    {
      name: 'result false saying an event key was not found (not a token problem)',
      fault: ok('{"result":false,"message":"ключ события не найден"}'),
      expect: 'error',
      kind: 'bad_response',
    },
  ];
}

export function hostileAnswers(token: string): HostileAnswer[] {
  return [...CLIENT_TEST_CORPUS, ...moreAnswers(token)];
}

/** Events that stay queued: the good events beside them must not wait for them to expire. */
export function poisonEvents(token: string): PoisonEvent[] {
  const event = (value: Record<string, unknown>) => JSON.stringify(value);
  return [
    {
      name: 'queued invoice nested 10,000 deep',
      json: `{"hash":"0xp-deep","code":"bill_request","table":5,"invoice":${nestedText(10_000)}}`,
    },
    {
      name: 'order nested 3,000 deep',
      json: `{"hash":"0xp-deep3k","code":"new_order","table":5,"order":${nestedText(3_000)}}`,
    },
    {
      name: 'table name of 50,000 characters',
      json: event({ hash: '0xp-longtable', code: 'waiter_call', table_repr: { name: 'Стол'.repeat(12_500) } }),
    },
    {
      name: 'invoice with a 400 KB string',
      json: event({ hash: '0xp-bigstr', code: 'bill_request', invoice: { id: 'y'.repeat(400_000), sum_to_pay: 1 } }),
    },
    {
      name: 'bill with 20,000 dishes',
      json: event({
        hash: '0xp-bigbill',
        code: 'bill_request',
        invoice: { dishes: Array.from({ length: 20_000 }, (_, i) => ({ name: `D${i}`, price: i })) },
      }),
    },
    {
      name: 'table name holding the token',
      json: event({ hash: '0xp-token', code: 'waiter_call', table_repr: { name: `T ${token}` } }),
    },
    { name: 'hash of 64 emoji', json: event({ hash: '🍕'.repeat(64), code: 'waiter_call' }) },
    { name: 'no hash at all', json: event({ code: 'waiter_call', table: 3 }) },
  ];
}

/** `{"a":{"a":…1…}}`, `depth` levels, as text. */
function nestedText(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}
