/**
 * The AWS Query protocol (awsQuery), spoken to SES v1 (SendEmail) and SNS (Publish) through
 * aws/endpoint.ts — no service client: `@aws-sdk/client-ses` and `@aws-sdk/client-sns` put every
 * error class and schema of both services into the Lambda's bundle for two operations.
 *
 * A call POSTs `Action=<A>&Version=<V>&<params>` form-encoded, the parameters flattened as the
 * SDK's QueryShapeSerializer does: nested structures with dots, lists as `<Key>.member.<n>`, maps
 * as `<Key>.entry.<n>.<KeyName>` / `.<ValueName>`, an empty list as `<Key>=`. The 2xx answer is
 * XML; {@link xmlField} reads the one field needed. An error answer
 * (`<ErrorResponse><Error><Code>…`) becomes an {@link AwsCallError} named by its Code, as the
 * SDK's errors are; the SDK takes `$fault` from the status, not from `<Type>`, and so does
 * AwsCallError. SES signs as `ses` but answers at `email.<region>` (the SDK's endpoint rules).
 * test/unit/query-call.test.ts checks the encoding against the real SDK clients.
 */
import { CLIENT_DEFAULTS } from './clients';
import { AwsCallError, AwsEndpoint, type AwsService, type EndpointOptions, type WireAnswer } from './endpoint';

export { AwsCallError } from './endpoint';

/** A Query-protocol service: how it is signed and addressed, and the API version it speaks. */
export interface QueryService extends AwsService {
  /** The `Version` parameter: "2010-12-01" (SES v1), "2010-03-31" (SNS). */
  readonly version: string;
}

export const SES: QueryService = {
  signingName: 'ses',
  endpointPrefix: 'email',
  endpointEnv: 'SES',
  version: '2010-12-01',
};
export const SNS: QueryService = { signingName: 'sns', endpointEnv: 'SNS', version: '2010-03-31' };

/** A map parameter: `<Key>.entry.<n>.<keyName>=<key>` and its value under `<Key>.entry.<n>.<valueName>`. */
export class QueryMap {
  constructor(
    readonly entries: Readonly<Record<string, QueryValue>>,
    /** The key's member name: SNS MessageAttributes uses "Name"; the Query default is "key". */
    readonly keyName = 'key',
    /** The value's member name: SNS MessageAttributes uses "Value"; the Query default is "value". */
    readonly valueName = 'value',
  ) {}
}

/** A parameter value: text, a number or boolean, a list, a map, or a structure (a plain object). */
export type QueryValue =
  | string
  | number
  | boolean
  | undefined
  | null
  | QueryMap
  | readonly QueryValue[]
  | { readonly [member: string]: QueryValue };

/** encodeURIComponent with `!'()*` escaped too (the SDK's extendedEncodeURIComponent). */
export function formEncode(text: string): string {
  return encodeURIComponent(wellFormed(text)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** Lone UTF-16 surrogates (server text may hold one) as U+FFFD: encodeURIComponent throws on them. */
function wellFormed(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
}

/** The flattened parameters of `params`, in order, as [key, value] pairs (undefined and null members are left out). */
export function flattenParams(params: Readonly<Record<string, QueryValue>>): [string, string][] {
  const out: [string, string][] = [];
  const walk = (prefix: string, value: QueryValue): void => {
    if (value === undefined || value === null) return;
    if (typeof value !== 'object') {
      out.push([prefix, String(value)]);
    } else if (value instanceof QueryMap) {
      let n = 1;
      for (const [key, entry] of Object.entries(value.entries)) {
        if (entry === undefined || entry === null) continue;
        out.push([`${prefix}.entry.${n}.${value.keyName}`, key]);
        walk(`${prefix}.entry.${n}.${value.valueName}`, entry);
        n += 1;
      }
    } else if (Array.isArray(value)) {
      if (value.length === 0) out.push([prefix, '']);
      let n = 1;
      for (const item of value as readonly QueryValue[]) {
        if (item === undefined || item === null) continue;
        walk(`${prefix}.member.${n}`, item);
        n += 1;
      }
    } else {
      for (const [member, item] of Object.entries(value)) walk(prefix === '' ? member : `${prefix}.${member}`, item);
    }
  };
  walk('', params as QueryValue);
  return out;
}

/** The request body of `action` with `params`. */
export function queryBody(service: QueryService, action: string, params: Readonly<Record<string, QueryValue>>): string {
  const pairs = flattenParams(params).map(([key, value]) => `&${formEncode(key)}=${formEncode(value)}`);
  return `Action=${formEncode(action)}&Version=${formEncode(service.version)}${pairs.join('')}`;
}

/** A Query service's endpoint: {@link QueryClient.call} makes one call and returns the XML answer. */
export class QueryClient {
  readonly service: QueryService;
  readonly endpoint: AwsEndpoint;

  constructor(service: QueryService, options: EndpointOptions = {}) {
    this.service = service;
    this.endpoint = new AwsEndpoint(service, options);
  }

  /** The region calls go to; undefined when none is configured (calls then fail with ConfigError). */
  get region(): string | undefined {
    return this.endpoint.region;
  }

  /** `action` with `params`; resolves with the 2xx answer's XML, throws AwsCallError (or the network's error). */
  async call(
    action: string,
    params: Readonly<Record<string, QueryValue>>,
    call: { readonly abortSignal?: AbortSignal } = {},
  ): Promise<string> {
    const request = {
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: queryBody(this.service, action, params),
    };
    const answer = await this.endpoint.post(request, queryError, call);
    return answer.text;
  }
}

const ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** XML text with its entities and character references decoded; an unknown or invalid one is kept as written. */
export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,4});/g, (whole, ref: string) => {
    if (ref[0] !== '#') return ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
    return code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

/**
 * The text of the first `<name>…</name>` element of `xml` (a leaf: no markup inside; CDATA
 * sections are read as text), decoded; undefined when there is none.
 */
export function xmlField(xml: string, name: string): string | undefined {
  const open = new RegExp(`<${name}(?:\\s[^>]*)?>`).exec(xml);
  if (open === null) return undefined;
  const start = open.index + open[0].length;
  const end = xml.indexOf(`</${name}>`, start);
  if (end < 0) return undefined;
  const inner = xml.slice(start, end);
  const cdata = /^\s*<!\[CDATA\[([\s\S]*)\]\]>\s*$/.exec(inner);
  if (cdata) return cdata[1];
  return inner.includes('<') ? undefined : decodeXml(inner);
}

/**
 * The `<MessageId>` of a send's 2xx answer. Without one the answer is not SES's or SNS's (a
 * proxy's 200 page): nobody can say whether the message went out, so it is a `MalformedAnswer`
 * (classified transient and ambiguous), never a success.
 */
export function messageIdOf(xml: string, action: string): string {
  const id = xmlField(xml, 'MessageId')?.trim();
  if (id) return id;
  throw new AwsCallError(
    'MalformedAnswer',
    `the ${action} answer (HTTP 2xx) carries no MessageId: not an AWS answer`,
    200,
    1,
  );
}

/**
 * The error of a non-2xx answer: `<Error><Code>` names it (the SDK's error name), `<Message>` is
 * its message, `<Type>` and `<RequestId>` go to `details`. Without a Code (an HTML page from a
 * proxy, an empty or cut body) the status names it: 404 NotFound (as the SDK), 503
 * ServiceUnavailable, else `Http<status>` (a 502 page is not a 503 refusal: notify/errors.ts
 * calls it ambiguous).
 */
export function queryError(answer: WireAnswer, attempt: number): AwsCallError {
  const { text, status } = answer;
  const error = /<Error(?:\s[^>]*)?>([\s\S]*?)<\/Error>/.exec(text)?.[1];
  const code = error === undefined ? undefined : xmlField(error, 'Code')?.trim();
  const name = code || (status === 404 ? 'NotFound' : status === 503 ? 'ServiceUnavailable' : `Http${status}`);
  const message = (error === undefined ? undefined : xmlField(error, 'Message')) ?? `HTTP ${status}`;
  const type = error === undefined ? undefined : xmlField(error, 'Type')?.trim();
  const requestId = xmlField(text, 'RequestId')?.trim();
  return new AwsCallError(name, message, status, attempt, {
    ...(type && { Type: type }),
    ...(requestId && { RequestId: requestId }),
  });
}

/** Options of an SES or SNS endpoint that delivers alerts: the `send` profile's attempts are not an option. */
export type SendEndpointOptions = Pick<
  EndpointOptions,
  'region' | 'endpoint' | 'requestHandler' | 'credentials' | 'connectionTimeoutMs' | 'requestTimeoutMs'
>;

/** aws/endpoint.ts options of the `send` profile: one attempt, connect 2 s, request 8 s unless given. */
export function sendEndpointOptions(options: SendEndpointOptions = {}): EndpointOptions {
  return {
    ...(options.region !== undefined && { region: options.region }),
    ...(options.endpoint !== undefined && { endpoint: options.endpoint }),
    ...(options.requestHandler !== undefined && { requestHandler: options.requestHandler }),
    ...(options.credentials !== undefined && { credentials: options.credentials }),
    maxAttempts: CLIENT_DEFAULTS.send.maxAttempts,
    connectionTimeoutMs: options.connectionTimeoutMs ?? CLIENT_DEFAULTS.send.connectionTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? CLIENT_DEFAULTS.send.requestTimeoutMs,
  };
}
