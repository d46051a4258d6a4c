/**
 * Faults the simulator can put on `GET /api/v4/events`: probabilistic shares (rolled on the seeded
 * "faults" stream, one roll per request) and a FIFO of one-shot faults that the next requests take,
 * one each, before any share is rolled — the deterministic way to script a test.
 *
 * Shares partition one roll in this order: server-error, html, truncated, reset, duplicate,
 * result-false. With a sum ≤ 1 each share is exactly its probability; past 1 the later ones get
 * what is left. `latencyMs` delays every events answer (faulty or not) by that many real ms.
 */
import * as z from 'zod';
import { InvalidFaultError, describeIssues } from './errors';
import type { Random } from './random';

export interface Faults {
  /** Real delay before every events answer, ms. Default 0. */
  latencyMs: number;
  /** HTTP 500/502/503 with a small JSON or text body. Default 0. */
  serverErrorShare: number;
  /** An nginx-style HTML error page, HTTP 200 or 502. Default 0. */
  htmlShare: number;
  /** The answer's JSON cut in the middle, HTTP 200 (a complete HTTP message whose body does not parse). Default 0. */
  truncatedShare: number;
  /** The socket destroyed without an answer. Default 0. */
  resetShare: number;
  /** A `result: true` answer that repeats already-served events (see `duplicate` in responses.ts). Default 0. */
  duplicateShare: number;
  /** HTTP 200 `{"result": false, "message": …}` about a server trouble (not about auth). Default 0. */
  resultFalseShare: number;
}

/** Every fault off. */
export const NO_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  serverErrorShare: 0,
  htmlShare: 0,
  truncatedShare: 0,
  resetShare: 0,
  duplicateShare: 0,
  resultFalseShare: 0,
});

/** The named one-shot faults. `hang` never answers (for timeout tests); `giant` is a valid ~5 MiB answer. */
export const ONE_SHOT_FAULTS = [
  'server-error',
  'html',
  'truncated',
  'reset',
  'hang',
  'result-false',
  'giant',
  'not-json',
  'empty-body',
  'duplicate',
] as const;
export type OneShotFaultName = (typeof ONE_SHOT_FAULTS)[number];

/** Any answer at all, for what the named faults do not cover. */
export interface CustomFault {
  status: number;
  body: string;
  /** Default 'text/plain; charset=utf-8'. */
  contentType?: string;
}

export type OneShotFault = OneShotFaultName | CustomFault;

const share = z.number().min(0).max(1);
const FaultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(600_000).optional(),
  serverErrorShare: share.optional(),
  htmlShare: share.optional(),
  truncatedShare: share.optional(),
  resetShare: share.optional(),
  duplicateShare: share.optional(),
  resultFalseShare: share.optional(),
});
const OneShotFaultSchema = z.union([
  z.enum(ONE_SHOT_FAULTS),
  z.strictObject({
    status: z.number().int().min(100).max(599),
    body: z.string(),
    contentType: z.string().min(1).optional(),
  }),
]);

/** Validates fault settings; throws InvalidFaultError. */
export function parseFaults(input: unknown): Partial<Faults> {
  const parsed = FaultsSchema.safeParse(input);
  if (!parsed.success) throw new InvalidFaultError(`not valid fault settings: ${describeIssues(parsed.error.issues)}`);
  return Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
}

/** Validates one-shot faults (an array, or one fault); throws InvalidFaultError. */
export function parseOneShotFaults(input: unknown): OneShotFault[] {
  const parsed = z.array(OneShotFaultSchema).safeParse(Array.isArray(input) ? input : [input]);
  if (!parsed.success) {
    throw new InvalidFaultError(
      `not a one-shot fault: ${describeIssues(parsed.error.issues)} (named ones: ${ONE_SHOT_FAULTS.join(', ')}, or { status, body, contentType? })`,
    );
  }
  return parsed.data;
}

/** The name a fault goes by in `served[].kind` (`fault:<name>`). */
export function faultName(fault: OneShotFault): string {
  return typeof fault === 'string' ? fault : 'custom';
}

const SHARE_ORDER: readonly (readonly [keyof Faults, OneShotFaultName])[] = [
  ['serverErrorShare', 'server-error'],
  ['htmlShare', 'html'],
  ['truncatedShare', 'truncated'],
  ['resetShare', 'reset'],
  ['duplicateShare', 'duplicate'],
  ['resultFalseShare', 'result-false'],
];

/** Decides the fault of each events request. */
export class FaultPlan {
  private current: Faults = { ...NO_FAULTS };
  private readonly queued: OneShotFault[] = [];

  constructor(private readonly random: Random) {}

  get faults(): Faults {
    return { ...this.current };
  }

  /** One-shot faults still waiting for a request, in order. */
  get pending(): OneShotFault[] {
    return [...this.queued];
  }

  /** Merges settings (validated). */
  set(faults: Partial<Faults>): void {
    this.current = { ...this.current, ...parseFaults(faults) };
  }

  /** Appends one-shot faults (validated). */
  failNext(faults: readonly OneShotFault[]): void {
    this.queued.push(...parseOneShotFaults([...faults]));
  }

  /** The fault of the next events request: the oldest one-shot, else a roll of the shares, else null. */
  next(): OneShotFault | null {
    const oneShot = this.queued.shift();
    if (oneShot !== undefined) return oneShot;
    if (SHARE_ORDER.every(([key]) => this.current[key] === 0)) return null;
    let roll = this.random.next();
    for (const [key, name] of SHARE_ORDER) {
      roll -= this.current[key];
      if (roll < 0) return name;
    }
    return null;
  }
}
