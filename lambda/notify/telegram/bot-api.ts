/**
 * Our Bot API client, in place of grammY's `Api` (44 KiB of the Lambda bundle for the five
 * methods we call): a call is `POST <apiRoot>/bot<token>/<method>` with a JSON body (null values
 * dropped, as grammY sends it) on Node's own fetch, the caller's AbortSignal for its timeout, and
 * the answer read up to a size cap whatever the HTTP status (Telegram puts its errors in the
 * body). It returns the method's `result`, or throws BotApiError (Telegram answered `ok: false`)
 * or BotApiHttpError (no readable answer: network, abort, a page that is not JSON, no `ok`, too
 * large). The token is in the URL only, and no message or cause these errors carry holds it.
 * errors.ts classifies them. Types come from grammY (`import type`: no bytes in the bundle).
 */
import type { ApiMethods, Opts, ResponseParameters } from 'grammy/types';
import { registerSecret } from '../../obs/telemetry';
import { redact } from '../../qrmenu/errors';

/** Largest answer read. 100 updates of long messages are a few MB; a bigger one is not the Bot API's. */
export const MAX_ANSWER_BYTES = 8 * 1_048_576;

export type BotApiMethod = keyof ApiMethods;
export type BotApiPayload = Readonly<Record<string, unknown>>;

/** A Bot API answer as it came (checked to be an object with a boolean `ok`). */
export type BotApiAnswer =
  | { readonly ok: true; readonly result?: unknown }
  | {
      readonly ok: false;
      readonly error_code?: number;
      readonly description?: string;
      readonly parameters?: ResponseParameters;
    };

/** One request: the answer, or a thrown BotApiHttpError. */
export type BotApiCall = (method: string, payload: BotApiPayload, signal?: AbortSignal) => Promise<BotApiAnswer>;

/** Wraps every request (the shape of a grammY transformer); tests record calls with one. */
export type BotApiTransformer = (
  prev: BotApiCall,
  method: string,
  payload: BotApiPayload,
  signal?: AbortSignal,
) => Promise<BotApiAnswer>;

export interface BotApiOptions {
  /** https://api.telegram.org, or the emulator's endpoint. No trailing "/". */
  readonly apiRoot: string;
  /** Default: the platform's fetch. */
  readonly fetch?: typeof fetch;
  /** Default {@link MAX_ANSWER_BYTES}. */
  readonly maxAnswerBytes?: number;
  /** Applied in order: the last one is outermost. */
  readonly transformers?: readonly BotApiTransformer[];
}

/** Telegram answered `ok: false`. */
export class BotApiError extends Error {
  override readonly name = 'BotApiError';
  /** Telegram's error_code (undefined if the answer had none). */
  readonly errorCode: number | undefined;
  /** Telegram's description, without the token ('' if none). */
  readonly description: string;
  /** retry_after (429), migrate_to_chat_id (400 after a group upgrade). */
  readonly parameters: ResponseParameters;

  constructor(
    readonly method: string,
    answer: { readonly error_code?: unknown; readonly description?: unknown; readonly parameters?: unknown },
    secrets: readonly string[],
  ) {
    const errorCode = typeof answer.error_code === 'number' ? answer.error_code : undefined;
    const description = typeof answer.description === 'string' ? redact(answer.description, secrets) : '';
    super(`Call to '${method}' failed! (${errorCode ?? 'no code'}: ${description || 'no description'})`);
    this.errorCode = errorCode;
    this.description = description;
    this.parameters =
      typeof answer.parameters === 'object' && answer.parameters !== null
        ? (answer.parameters as ResponseParameters)
        : {};
  }
}

/** No Bot API answer could be had: the request failed, was aborted, or what came back is not one. */
export class BotApiHttpError extends Error {
  override readonly name = 'BotApiHttpError';
  /** An answer came but could not be read (not JSON, no `ok`, too large): the call may have been done. */
  readonly unreadable: boolean;
  /** The HTTP status, when an answer came. */
  readonly status: number | undefined;

  constructor(
    readonly method: string,
    message: string,
    options: { readonly cause?: unknown; readonly unreadable?: boolean; readonly status?: number } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.unreadable = options.unreadable ?? false;
    this.status = options.status;
  }
}

/** The Bot API for one token; `call` is typed by grammY's method table. */
export class BotApi {
  private readonly apiRoot: string;
  private readonly fetch: typeof fetch;
  private readonly maxAnswerBytes: number;
  private readonly request: BotApiCall;

  constructor(
    private readonly token: string,
    options: BotApiOptions,
  ) {
    if (options.apiRoot.endsWith('/')) {
      throw new Error(`Remove the trailing '/' from the Bot API root (use '${options.apiRoot.replace(/\/+$/, '')}')`);
    }
    registerSecret(token);
    this.apiRoot = options.apiRoot;
    // Called unbound, as grammY does (some runtimes' fetch refuses another `this`).
    const chosen = options.fetch ?? fetch;
    this.fetch = (input, init) => chosen(input, init);
    this.maxAnswerBytes = options.maxAnswerBytes ?? MAX_ANSWER_BYTES;
    this.request = (options.transformers ?? []).reduce<BotApiCall>(
      (prev, transformer) => (method, payload, signal) => transformer(prev, method, payload, signal),
      (method, payload, signal) => this.send(method, payload, signal),
    );
  }

  /** Call a method: its result, or BotApiError / BotApiHttpError. */
  async call<M extends BotApiMethod>(
    method: M,
    payload: Opts<M>,
    signal?: AbortSignal,
  ): Promise<ReturnType<ApiMethods[M]>> {
    const answer = await this.request(method, payload as BotApiPayload, signal);
    if (answer.ok) return answer.result as ReturnType<ApiMethods[M]>;
    throw new BotApiError(method, answer, [this.token]);
  }

  private async send(method: string, payload: BotApiPayload, signal: AbortSignal | undefined): Promise<BotApiAnswer> {
    let response: Response;
    try {
      response = await this.fetch(`${this.apiRoot}/bot${this.token}/${method}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'keep-alive' },
        // A redirect would carry the token-bearing URL to another host (and turn the POST into a GET).
        redirect: 'error',
        body: JSON.stringify(payload, (_key, value: unknown) => value ?? undefined),
        ...(signal && { signal }),
      });
    } catch (error) {
      throw this.failed(method, error);
    }
    const text = await this.readText(method, response);
    const seen = `HTTP ${response.status}${contentType(response) ? `, ${contentType(response)}` : ''}`;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new BotApiHttpError(method, `the answer (${seen}) is not JSON: ${this.excerpt(text)}`, {
        unreadable: true,
        status: response.status,
      });
    }
    if (typeof value !== 'object' || value === null || typeof (value as { ok?: unknown }).ok !== 'boolean') {
      throw new BotApiHttpError(
        method,
        `the answer (${seen}) is not a Bot API answer (no "ok"): ${this.excerpt(text)}`,
        {
          unreadable: true,
          status: response.status,
        },
      );
    }
    return value as BotApiAnswer;
  }

  /** The body as text, at most maxAnswerBytes of it; a failure while reading is a BotApiHttpError. */
  private async readText(method: string, response: Response): Promise<string> {
    const tooLarge = () =>
      new BotApiHttpError(method, `the answer (HTTP ${response.status}) is larger than ${this.maxAnswerBytes} bytes`, {
        unreadable: true,
        status: response.status,
      });
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.maxAnswerBytes) {
      await response.body?.cancel().catch(() => {});
      throw tooLarge();
    }
    if (!response.body) return '';
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > this.maxAnswerBytes) {
          await reader.cancel().catch(() => {});
          throw tooLarge();
        }
        chunks.push(value);
      }
    } catch (error) {
      throw error instanceof BotApiHttpError ? error : this.failed(method, error);
    }
    return new TextDecoder().decode(Buffer.concat(chunks, size));
  }

  /** A fetch or read failure, its cause chain copied without the token (undici puts the URL in some). */
  private failed(method: string, error: unknown): BotApiHttpError {
    const cause = scrub(error, [this.token]);
    const detail = cause instanceof Error ? cause.message : String(cause);
    return new BotApiHttpError(method, `Network request for '${method}' failed: ${detail}`, { cause });
  }

  private excerpt(text: string): string {
    const flat = redact(text, [this.token]).replace(/\s+/g, ' ').trim();
    return flat === '' ? '(empty)' : flat.length > 120 ? `${flat.slice(0, 120)}…` : flat;
  }
}

function contentType(response: Response): string {
  return (response.headers.get('content-type') ?? '').split(';')[0]!.trim();
}

/**
 * A copy of an error and its causes (5 deep) keeping what classification reads (name, message,
 * string `code`) and the stack, every text without the secrets; other properties (such as
 * undici's `input`, the URL) are left out.
 */
function scrub(error: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof error === 'string') return redact(error, secrets);
  if (typeof error !== 'object' || error === null) return error;
  const source = error as { name?: unknown; message?: unknown; code?: unknown; stack?: unknown };
  const inner = (error as { cause?: unknown }).cause;
  const cause = inner !== undefined && depth < 5 ? scrub(inner, secrets, depth + 1) : undefined;
  const copy = new Error(
    redact(typeof source.message === 'string' ? source.message : String(error), secrets),
    cause !== undefined ? { cause } : undefined,
  ) as Error & { code?: string };
  if (typeof source.name === 'string') copy.name = source.name;
  if (typeof source.code === 'string') copy.code = redact(source.code, secrets);
  copy.stack = typeof source.stack === 'string' ? redact(source.stack, secrets) : `${copy.name}: ${copy.message}`;
  return copy;
}
