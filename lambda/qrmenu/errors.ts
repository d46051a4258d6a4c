/**
 * What can go wrong when asking a QR-menu server for events, as named error classes an operator
 * can act on. Every message says what happened and what to do about it, and never contains the
 * token: the client builds messages from its own words plus server text passed through `redact`.
 *
 *   kind          class                  retried?  typical cause
 *   auth          AuthError              no        the server rejected the token (401, 403, result:false saying so)
 *   secret        TokenUnavailableError  no (*)    the token could not be read: Secrets Manager unreachable,
 *                                                  throttled or denied, the secret empty, the env variable unset
 *   unreachable   UnreachableError    yes       DNS, refused, reset, timeout
 *   tls           TlsError            no        certificate not trusted, fingerprint mismatch
 *   server        ServerError         yes       HTTP 5xx
 *   bad_response  BadResponseError    no        not JSON, HTML page, schema mismatch, result:false, too large
 *
 * (*) A token that cannot be read is not retried within the poll (the SDK has already retried the
 * Secrets Manager call; nothing was sent to the QR-menu server), and is never reported as a rejected
 * token: the next tick reads it again.
 */
import type { FetchErrorKind } from '../domain/fetch';

export type QrMenuErrorKind = FetchErrorKind;

export abstract class QrMenuError extends Error {
  abstract readonly kind: QrMenuErrorKind;
  /** Worth another attempt within the same poll (with backoff)? */
  abstract readonly retryable: boolean;
}

export class AuthError extends QrMenuError {
  override readonly name = 'AuthError';
  readonly kind = 'auth';
  readonly retryable = false;
  constructor(
    readonly how: 'http_401' | 'http_403' | 'result_false',
    serverMessage?: string,
  ) {
    super(
      `the QR-menu server rejected the token (${how === 'result_false' ? 'result:false' : `HTTP ${how.slice(5)}`}` +
        `${serverMessage ? `: "${serverMessage}"` : ''}). Copy the "Secret key" from the QR-menu admin page ` +
        "(System parameters → Registration on the application server) into the source's token",
    );
  }
}

export class UnreachableError extends QrMenuError {
  override readonly name = 'UnreachableError';
  readonly kind = 'unreachable';
  readonly retryable = true;
  constructor(
    readonly how: 'dns' | 'refused' | 'reset' | 'timeout' | 'network',
    readonly target: string,
    detail?: string,
  ) {
    super(`${UNREACHABLE_TEXT[how]} ${target}${detail ? ` (${detail})` : ''}. ${UNREACHABLE_HINT[how]}`);
  }
}

const UNREACHABLE_TEXT = {
  dns: 'cannot resolve the host name of',
  refused: 'connection refused by',
  reset: 'the connection was reset by',
  timeout: 'no complete answer in time from',
  network: 'network error talking to',
} as const;

const UNREACHABLE_HINT = {
  dns: 'Check the host in the source URL.',
  refused: 'Check the port, that the QR-menu server is running, and the port forwarding or VPN to the restaurant.',
  reset: 'The server or a firewall dropped the connection; it is retried on the next poll.',
  timeout:
    'Check the port forwarding or VPN to the restaurant, or raise polling.requestTimeoutMs if the server is slow.',
  network: 'Check the network path to the restaurant.',
} as const;

export class TlsError extends QrMenuError {
  override readonly name = 'TlsError';
  readonly kind = 'tls';
  readonly retryable = false;
  constructor(
    readonly how: 'untrusted' | 'fingerprint_mismatch' | 'handshake',
    message: string,
    /** SHA-256 fingerprint of the certificate the server presented, when one was seen. */
    readonly presentedFingerprint?: string,
  ) {
    super(message);
  }
}

export class ServerError extends QrMenuError {
  override readonly name = 'ServerError';
  readonly kind = 'server';
  readonly retryable = true;
  constructor(
    readonly status: number,
    snippet?: string,
  ) {
    super(
      `the QR-menu server answered HTTP ${status}${snippet ? ` ("${snippet}")` : ''}. ` +
        'It is retried; if it persists, check the QR-menu server and the proxy in front of it.',
    );
  }
}

export type BadResponseReason = 'http_status' | 'empty' | 'html' | 'not_json' | 'schema' | 'result_false' | 'too_large';

export class BadResponseError extends QrMenuError {
  override readonly name = 'BadResponseError';
  readonly kind = 'bad_response';
  readonly retryable = false;
  constructor(
    readonly reason: BadResponseReason,
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Replace every occurrence of each secret in a text; for anything built from server input. */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 4) out = out.split(secret).join('***');
  }
  return out;
}

/** A short, single-line, printable excerpt of server text for an error message. */
export function snippet(text: string, secrets: readonly string[], max = 160): string {
  const flat = redact(text, secrets).replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

/** Why a token could not be had. */
export type TokenUnavailableReason = 'unset' | 'unreadable' | 'empty';

/**
 * The source's token could not be had — our side, not the server's: the secret could not be read
 * (Secrets Manager unreachable, throttled, access denied), holds nothing yet, or the environment
 * variable is unset. Nothing was sent to the QR-menu server, so this says nothing about the token itself.
 */
export class TokenUnavailableError extends QrMenuError {
  override readonly name = 'TokenUnavailableError';
  readonly kind = 'secret';
  readonly retryable = false;
  constructor(
    readonly how: TokenUnavailableReason,
    message: string,
  ) {
    super(message);
  }
}
