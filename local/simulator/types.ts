/**
 * The simulator's public API as types: its options (each default written next to it), the handle
 * `createSimulator()` resolves to, and the record kept of every events request. Other parts of the
 * project (poller integration tests, `npm start`, benchmarks) code against these names.
 */
import type { SimEventInput } from './events';
import type { Faults, OneShotFault } from './faults';
import type { HashStyle } from './hashes';
import type { GeneratedSimEvent, RawSimEvent, SimEvent } from './queue';
import type { AuthFailureStyle } from './responses';
import type { UnknownHashMode } from './selection';

export interface SimulatorOptions {
  /** Listen address. Default '127.0.0.1'. */
  host?: string;
  /** Listen port. Default 0 (a free port chosen by the OS). */
  port?: number;
  /** The `token` header clients must send. Default 'demo-token'. */
  token?: string;
  /** How long an event stays queued, seconds (documented default of the real server). Default 300; `setRetention()` changes it. */
  retentionSeconds?: number;
  /**
   * How events are numbered (hashes.ts). Default 'random'.
   * - 'random': `0x` + 8 random hex digits, never issued twice, not even after a restart;
   * - 'counter': `0x00000001`, `0x00000002`, … starting again from 1 at each `restart()` (which then
   *   also loses the queue unless `keepQueue`): hashes are reused for new events by design.
   */
  hashes?: HashStyle;
  /**
   * What a hash not in the queue (expired, forgotten by a restart, never issued) gets. Default 'all'.
   * - 'all': `result: true` with every queued event (as `hash=none`);
   * - 'empty': `result: true` with `updates: []` — for that hash, forever;
   * - 'error': HTTP 400 `{"result": false, "message": "Event <hash> not found"}`.
   */
  unknownHash?: UnknownHashMode;
  /** How a wrong/missing token is answered. Default '401'. */
  authFailure?: AuthFailureStyle;
  /** true: a self-signed certificate made at start; false: plain HTTP; or your own key and cert. Default true. */
  tls?: boolean | { key: string; cert: string };
  /** ms clock used for retention and `served[].at`. Default Date.now. */
  now?: () => number;
  /** Seeds hashes, generated events, fault rolls and traffic. Default: a random seed (see `Simulator.seed`). */
  seed?: number;
  /** Background traffic (real timers). Default: none. */
  traffic?: { eventsPerMinute: number };
  /** Called after each events request was decided (the CLI logs these). Default: nothing. */
  onServed?: (record: ServedRecord) => void;
  /** Called for each event queued, injected or generated. Default: nothing. */
  onEnqueued?: (event: SimEvent) => void;
}

/** How an events request was answered. */
export type ServedKind = 'ok' | 'auth' | 'bad-request' | `unknown-hash:${UnknownHashMode}` | `fault:${string}`;

/** One `GET /api/v4/events` request, as the simulator decided it. */
export interface ServedRecord {
  /** `now()` when the request arrived. */
  readonly at: number;
  /** The `hash` query parameter; null when missing. */
  readonly hashParam: string | null;
  /** HTTP status sent; null when none was (`reset`, `hang`). */
  readonly status: number | null;
  readonly kind: ServedKind;
  /** Hashes of the events a client can parse out of the answer, in order (repeats included); [] when it cannot parse any. */
  readonly eventHashes: string[];
}

export interface RestartOptions {
  /**
   * Keep the queued events and their hashes (only connections may be dropped; a counter keeps counting).
   * Default false: the queue is emptied and counter hashes start again from 0x00000001.
   */
  keepQueue?: boolean;
  /** Destroy every open connection, in-flight and hanging requests included, as a dying process would. Default false. */
  dropConnections?: boolean;
}

export interface Simulator {
  /** 'https://127.0.0.1:PORT' (or http://). */
  readonly url: string;
  /** PEM of the server certificate (https only). */
  readonly certPem?: string;
  /** SHA-256 fingerprint of the certificate, 'AB:CD:…' (https only). */
  readonly fingerprint256?: string;
  /** The seed in use (given or drawn): pass it back to reproduce a run. */
  readonly seed: number;
  /** Queues a generated event; what `event` fixes is kept, the rest is plausible random. */
  inject(event?: Partial<SimEventInput>, options?: { raw?: false }): GeneratedSimEvent;
  /** Queues any JSON value as-is (malformed events: no hash, wrong types, …). */
  inject(event: unknown, options: { raw: true }): RawSimEvent;
  inject(event?: unknown, options?: { raw?: boolean }): SimEvent;
  /** Queues `count` generated events, each built from `template`. */
  injectMany(count: number, template?: Partial<SimEventInput>): GeneratedSimEvent[];
  /** Merges fault settings. */
  setFaults(faults: Partial<Faults>): void;
  /** Queues one-shot faults: the next events requests take them, one each, in order. */
  failNext(...faults: OneShotFault[]): void;
  setUnknownHashMode(mode: UnknownHashMode): void;
  setToken(token: string): void;
  /**
   * Changes how long events stay queued, seconds (e.g. an operator set the server's queue to 60 s
   * while the poller's config says 300). Events already older than the new retention are dropped.
   */
  setRetention(seconds: number): void;
  /** Switches the hash style (a switch to 'counter' starts counting from 0x00000001, skipping queued hashes). */
  setHashStyle(style: HashStyle): void;
  /** The settings that can change at run time. */
  settings(): { retentionSeconds: number; hashes: HashStyle; unknownHash: UnknownHashMode };
  /**
   * A server restart: forgets every hash (the queue is emptied unless keepQueue; with counter hashes
   * the counter starts again from 1 unless keepQueue); configuration, faults and `served` are kept.
   */
  restart(options?: RestartOptions): void;
  /** Events currently retained, oldest first. */
  queue(): SimEvent[];
  /** Every events request, oldest first (a live array). */
  readonly served: ServedRecord[];
  /** Closes the server and every open socket, stops traffic. Idempotent. */
  close(): Promise<void>;
}
