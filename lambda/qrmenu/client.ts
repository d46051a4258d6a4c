/**
 * The QR-menu events client: `GET {baseUrl}/api/v4/events?hash=<cursor|none>` with the token in
 * the `token` header, retried with exponential backoff and jitter (p-retry) on unreachable/5xx
 * answers, inside the deadline the caller gives. Answers become events (answer.ts) or one of the
 * typed errors in errors.ts — never anything untyped, never a message with the token in it.
 *
 *   const client = new QrMenuClient({ baseUrl: 'https://203.0.113.10:8443', token, tls: { fingerprint256 } });
 *   const { events } = await client.fetchEvents(cursor, { deadline: Date.now() + 8_000 });
 */
import pRetry from 'p-retry';
import { parseEventsAnswer, type EventsAnswer } from './answer';
import { BadResponseError, QrMenuError, TokenUnavailableError, UnreachableError, redact } from './errors';
import { httpGet, type PeerCertificateInfo, type TlsOptions } from './http';

export interface QrMenuClientOptions {
  /** Base URL of the server, e.g. `https://203.0.113.10:8443` (any path is kept as a prefix). */
  readonly baseUrl: string;
  /** The server's access key, or a function that gets it (e.g. from Secrets Manager, cached). */
  readonly token: string | (() => Promise<string>);
  /** Certificate pinning; verification is always on. */
  readonly tls?: TlsOptions;
  /** Timeout of one request: connect + TLS + full answer. Default 4 000 ms. */
  readonly requestTimeoutMs?: number;
  /** Answers larger than this are rejected. Default 1 MiB. */
  readonly maxResponseBytes?: number;
  /** Extra attempts after an unreachable/5xx failure. Default 2. */
  readonly retries?: number;
  /** First backoff delay; doubles each retry, with jitter. Default 250 ms. */
  readonly minBackoffMs?: number;
  /** Longest backoff delay. Default 2 000 ms. */
  readonly maxBackoffMs?: number;
  /** Clock for deadlines. Default Date.now. */
  readonly now?: () => number;
  /** Told once, at construction, about an http:// URL. Default: no-op. */
  readonly onWarning?: (message: string) => void;
}

export interface FetchOptions {
  /** Epoch ms by which the whole call (all attempts) must be over. Default: no deadline beyond the retries. */
  readonly deadline?: number;
}

export interface FetchResult extends EventsAnswer {
  /** The `hash` parameter sent: the cursor, or `none`. */
  readonly hashParam: string;
  readonly attempts: number;
  readonly bytes: number;
  readonly certificate?: PeerCertificateInfo;
}

export const NO_CURSOR = 'none';
/** Below this much time left, another attempt is not started. */
const MIN_ATTEMPT_MS = 200;

export class QrMenuClient {
  readonly #options: Required<Omit<QrMenuClientOptions, 'tls' | 'onWarning'>> & Pick<QrMenuClientOptions, 'tls'>;
  readonly #base: URL;

  constructor(options: QrMenuClientOptions) {
    this.#base = new URL(options.baseUrl);
    if (this.#base.protocol !== 'https:' && this.#base.protocol !== 'http:') {
      throw new TypeError(`QR-menu URL must be http:// or https://, not ${this.#base.protocol}`);
    }
    if (this.#base.protocol === 'http:') {
      options.onWarning?.(
        `${this.#base.host} is polled over plain http://: the token crosses the network unencrypted. Use https:// when the server offers it`,
      );
    }
    this.#options = {
      baseUrl: options.baseUrl,
      token: options.token,
      tls: options.tls,
      requestTimeoutMs: options.requestTimeoutMs ?? 4_000,
      maxResponseBytes: options.maxResponseBytes ?? 1_048_576,
      retries: options.retries ?? 2,
      minBackoffMs: options.minBackoffMs ?? 250,
      maxBackoffMs: options.maxBackoffMs ?? 2_000,
      now: options.now ?? Date.now,
    };
  }

  /** The events after `cursor` (null = every queued event). Throws only {@link QrMenuError}s. */
  async fetchEvents(cursor: string | null, options: FetchOptions = {}): Promise<FetchResult> {
    const o = this.#options;
    const hashParam = cursor ?? NO_CURSOR;
    const url = eventsUrl(this.#base, hashParam);
    const token = typeof o.token === 'string' ? o.token : await this.#resolveToken(o.token, url.host);
    const secrets = [token];
    const deadline = options.deadline ?? Number.POSITIVE_INFINITY;
    let attempts = 0;
    const attempt = async (): Promise<FetchResult> => {
      attempts += 1;
      const left = deadline - o.now();
      if (left < MIN_ATTEMPT_MS) throw new UnreachableError('timeout', url.host, 'no time left before the deadline');
      try {
        const response = await httpGet({
          url,
          headers: { token },
          tls: o.tls,
          timeoutMs: Math.min(o.requestTimeoutMs, left),
          maxBytes: o.maxResponseBytes,
        });
        const answer = readAnswer(response, secrets);
        return {
          ...answer,
          hashParam,
          attempts,
          bytes: response.body.length,
          ...(response.certificate ? { certificate: response.certificate } : {}),
        };
      } catch (error) {
        throw asQrMenuError(error, url.host, secrets);
      }
    };
    return pRetry(attempt, {
      retries: o.retries,
      factor: 2,
      minTimeout: o.minBackoffMs,
      maxTimeout: o.maxBackoffMs,
      randomize: true,
      shouldRetry: ({ error }) =>
        error instanceof QrMenuError && error.retryable && deadline - o.now() > o.maxBackoffMs + MIN_ATTEMPT_MS,
    });
  }

  async #resolveToken(get: () => Promise<string>, host: string): Promise<string> {
    try {
      return await get();
    } catch (error) {
      if (error instanceof QrMenuError) throw error;
      throw new TokenUnavailableError(
        'unreadable',
        `the token for ${host} could not be read (the server was not asked): ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }
}

export function eventsUrl(base: URL, hashParam: string): URL {
  const url = new URL(base);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/api/v4/events`;
  url.search = '';
  url.searchParams.set('hash', hashParam);
  return url;
}

/** The answer's events; a failure of the parser itself is the answer's fault, not the network's. */
function readAnswer(response: Parameters<typeof parseEventsAnswer>[0], secrets: readonly string[]) {
  try {
    return parseEventsAnswer(response, secrets);
  } catch (error) {
    if (error instanceof QrMenuError) throw error;
    throw new BadResponseError(
      'schema',
      `the QR-menu server's answer could not be read (${error instanceof Error ? error.message : String(error)})`,
      response.status,
    );
  }
}

/** Anything thrown below becomes a QrMenuError with the token scrubbed from its message. */
function asQrMenuError(error: unknown, host: string, secrets: readonly string[]): QrMenuError {
  if (error instanceof QrMenuError) {
    const clean = redact(error.message, secrets);
    if (clean !== error.message) error.message = clean;
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new UnreachableError('network', host, redact(message, secrets));
}
