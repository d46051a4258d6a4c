/**
 * The server's queue of events with its retention: an event is dropped once
 * `now() - enqueuedAt > retentionMs` (the clock is injected, so tests move time by hand).
 * Events stay in insertion order, which is the chronological order the API promises.
 * The retention can change at run time (`setRetention`), as an operator may set the real server's:
 * a shorter one drops what is older at the next look; a longer one does not bring back what was dropped.
 */
import type { WireEvent } from './events';

/** An event made by the simulator (`inject()` without `raw`): its wire object is well formed. */
export interface GeneratedSimEvent {
  readonly raw: false;
  /** The event's hash, as served. */
  readonly hash: string;
  /** `now()` when it was queued (ms). */
  readonly enqueuedAt: number;
  /** The object served in `data.updates`. */
  readonly wire: WireEvent;
}

/** A value queued as-is (`inject(x, { raw: true })`): may be malformed on purpose. */
export interface RawSimEvent {
  readonly raw: true;
  /** The value's `hash` when it is a string (then clients can use it as a cursor), else null. */
  readonly hash: string | null;
  readonly enqueuedAt: number;
  /** Served exactly as given (after a JSON round trip). */
  readonly wire: unknown;
}

/** One event the simulator holds. */
export type SimEvent = GeneratedSimEvent | RawSimEvent;

export class EventQueue {
  private events: SimEvent[] = [];

  constructor(
    private readonly now: () => number,
    private retentionMs: number,
  ) {}

  /** Changes the retention from now on. */
  setRetention(retentionMs: number): void {
    this.retentionMs = retentionMs;
  }

  /** The retention in force, ms. */
  get retention(): number {
    return this.retentionMs;
  }

  add(event: SimEvent): void {
    this.events.push(event);
  }

  /** Events still retained, oldest first. */
  list(): SimEvent[] {
    const now = this.now();
    this.events = this.events.filter((event) => now - event.enqueuedAt <= this.retentionMs);
    return [...this.events];
  }

  /** True when a retained event has this hash. */
  has(hash: string): boolean {
    return this.list().some((event) => event.hash === hash);
  }

  /** Forgets every event. */
  clear(): void {
    this.events = [];
  }
}
