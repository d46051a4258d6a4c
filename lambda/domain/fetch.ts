/**
 * The QR-menu server as the poll cycle sees it: one call, `GET /api/v4/events?hash=…`, what it
 * answers, and the kinds of failure it may throw (lambda/qrmenu/ implements it, with an error
 * class for each kind; lambda/domain/metrics.ts counts each kind).
 */
import type { QrEvent } from './event';

export interface FetchedAnswer {
  /** Events in the server's (chronological) order. */
  readonly events: readonly QrEvent[];
  /** Elements of `updates` that are not events (no usable hash, …). */
  readonly skipped: readonly { readonly index: number; readonly reason: string }[];
  readonly attempts: number;
  readonly bytes: number;
}

/** What can go wrong asking a QR-menu server (lambda/qrmenu/errors.ts has a class for each). */
export type FetchErrorKind = 'auth' | 'secret' | 'unreachable' | 'tls' | 'server' | 'bad_response';

/** `GET /api/v4/events?hash=<cursor|none>` (null = none). Throws errors with a `kind` (FetchErrorKind). */
export type FetchEvents = (cursor: string | null, options: { readonly deadline?: number }) => Promise<FetchedAnswer>;
