/**
 * `createSimulator()`: a real HTTP(S) server that behaves like the documented QR-menu server
 * (`GET /api/v4/events?hash=…` with a `token` header, a retained queue, the cursor semantics) and,
 * on request, like each undocumented answer: unknown hashes, auth failure styles, faults. It also
 * serves the `/_sim/` control endpoints (control.ts). Pieces: queue.ts (retention), selection.ts
 * (which events), responses.ts (bodies), faults.ts (which fault), tls.ts, traffic.ts.
 */
import { timingSafeEqual, createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { isIPv6, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import * as z from 'zod';
import { handleControl, type ControlTarget } from './control';
import { DuplicateHashError, InvalidEventInputError, SimulatorOptionsError, describeIssues } from './errors';
import { buildEvent, parseEventInput, type SimEventInput, type WireEvent } from './events';
import { FaultPlan, faultName, type Faults, type OneShotFault } from './faults';
import { CounterHashIssuer, RandomHashIssuer, type HashIssuer, type HashStyle } from './hashes';
import { EventQueue, type GeneratedSimEvent, type RawSimEvent, type SimEvent } from './queue';
import { forkRandom, randomSeed, type Random } from './random';
import {
  authFailureAnswer,
  customAnswer,
  emptyBodyAnswer,
  giantAnswer,
  htmlAnswer,
  methodNotAllowedAnswer,
  missingHashAnswer,
  notFoundAnswer,
  notJsonAnswer,
  resultFalseAnswer,
  serverErrorAnswer,
  truncatedAnswer,
  unknownHashAnswer,
  updatesAnswer,
  type Answer,
} from './responses';
import { selectUpdates, withDuplicates, type UnknownHashMode } from './selection';
import { fingerprintOf, selfSignedIdentity } from './tls';
import { startTraffic, type Traffic } from './traffic';
import type { RestartOptions, ServedKind, ServedRecord, Simulator, SimulatorOptions } from './types';

/** The one documented path. */
export const EVENTS_PATH = '/api/v4/events';

const OptionsSchema = z.object({
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65_535).default(0),
  token: z.string().min(1).default('demo-token'),
  retentionSeconds: z.number().positive().default(300),
  hashes: z.enum(['random', 'counter']).default('random'),
  unknownHash: z.enum(['all', 'empty', 'error']).default('all'),
  authFailure: z.enum(['401', '403', 'result-false']).default('401'),
  tls: z.union([z.boolean(), z.strictObject({ key: z.string().min(1), cert: z.string().min(1) })]).default(true),
  seed: z.number().int().optional(),
  traffic: z.strictObject({ eventsPerMinute: z.number().min(0).max(60_000) }).optional(),
});

/** What the server decided for one events request. */
type Outcome = { readonly kind: ServedKind; readonly eventHashes: string[] } & (
  | { readonly answer: Answer }
  | { readonly silence: 'reset' | 'hang' }
);

const hashesOf = (events: readonly SimEvent[]): string[] =>
  events.flatMap((event) => (event.hash === null ? [] : [event.hash]));
const wiresOf = (events: readonly SimEvent[]): unknown[] => events.map((event) => event.wire);
const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * A JSON round trip: the queued object is exactly what will be served, and shares nothing with the
 * caller's objects (which then stay unfrozen and free to change).
 */
function jsonCopy(value: unknown, problem: string): unknown {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch {
    throw new InvalidEventInputError(problem);
  }
  if (text === undefined) throw new InvalidEventInputError(problem);
  return JSON.parse(text) as unknown;
}

/** Queued events are immutable: a test cannot change what was served by editing a returned event. */
function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child);
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return isIPv6(host) ? `[${host}]` : host;
}

function write(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, {
    'content-type': answer.contentType,
    'content-length': Buffer.byteLength(answer.body),
    ...answer.headers,
  });
  res.end(answer.body);
}

function resetSocket(socket: Socket): void {
  try {
    socket.resetAndDestroy(); // a TCP RST on plain sockets
  } catch {
    socket.destroy(); // TLS sockets cannot send an RST through their TLS layer: just drop them
  }
}

export async function createSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const parsed = OptionsSchema.safeParse(options);
  if (!parsed.success) throw new SimulatorOptionsError(`simulator options: ${describeIssues(parsed.error.issues)}`);
  const config = parsed.data;
  const now = options.now ?? Date.now;
  const seed = config.seed ?? randomSeed();
  // The random issuer lives as long as the simulator (its hashes are never reissued, whatever the style switches).
  const randomHashes = new RandomHashIssuer(forkRandom(seed, 'hashes'));
  let hashStyle: HashStyle = config.hashes;
  let hashes: HashIssuer = hashStyle === 'counter' ? new CounterHashIssuer() : randomHashes;
  const eventRandom = forkRandom(seed, 'events');
  const answerRandom = forkRandom(seed, 'answers');
  const plan = new FaultPlan(forkRandom(seed, 'fault-rolls'));
  const queue = new EventQueue(now, config.retentionSeconds * 1000);
  const served: ServedRecord[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  let token = config.token;
  let unknownHash: UnknownHashMode = config.unknownHash;

  // --- the queue -------------------------------------------------------------------------------

  const enqueue = <E extends SimEvent>(event: E): E => {
    deepFreeze(event);
    queue.add(event);
    options.onEnqueued?.(event);
    return event;
  };

  const injectGenerated = (input: unknown, random: Random): GeneratedSimEvent => {
    const fixed = parseEventInput(input);
    let hash: string;
    if (fixed.hash === undefined) hash = hashes.issue((candidate) => queue.has(candidate));
    else {
      if (queue.has(fixed.hash)) throw new DuplicateHashError(fixed.hash);
      hashes.reserve(fixed.hash);
      hash = fixed.hash;
    }
    const wire = jsonCopy(buildEvent(hash, fixed, random), 'the invoice and order must be JSON') as WireEvent;
    return enqueue({ raw: false, hash, enqueuedAt: now(), wire });
  };

  const injectRaw = (value: unknown): RawSimEvent => {
    const copy = jsonCopy(value, 'a raw event must be a JSON value');
    const own =
      typeof copy === 'object' && copy !== null && !Array.isArray(copy)
        ? (copy as Record<string, unknown>).hash
        : undefined;
    const hash = typeof own === 'string' ? own : null;
    if (hash !== null) hashes.reserve(hash);
    return enqueue({ raw: true, hash, enqueuedAt: now(), wire: copy });
  };

  function inject(event?: Partial<SimEventInput>, injectOptions?: { raw?: false }): GeneratedSimEvent;
  function inject(event: unknown, injectOptions: { raw: true }): RawSimEvent;
  function inject(event?: unknown, injectOptions?: { raw?: boolean }): SimEvent;
  function inject(event?: unknown, injectOptions?: { raw?: boolean }): SimEvent {
    return injectOptions?.raw === true ? injectRaw(event) : injectGenerated(event, eventRandom);
  }

  // --- one events request ----------------------------------------------------------------------

  const checkToken = (given: string | string[] | undefined): 'ok' | 'missing' | 'wrong' => {
    const value = Array.isArray(given) ? given[0] : given;
    if (value === undefined || value === '') return 'missing';
    return timingSafeEqual(digest(value), digest(token)) ? 'ok' : 'wrong';
  };

  /** The answer without any fault; `updates` is set when it is a `result: true` answer. */
  const normalOutcome = (
    req: IncomingMessage,
    hashParam: string | null,
    events: readonly SimEvent[],
  ): { kind: ServedKind; eventHashes: string[]; answer: Answer; updates?: SimEvent[] } => {
    const auth = checkToken(req.headers.token);
    if (auth !== 'ok')
      return { kind: 'auth', eventHashes: [], answer: authFailureAnswer(config.authFailure, auth === 'missing') };
    if (hashParam === null || hashParam === '')
      return { kind: 'bad-request', eventHashes: [], answer: missingHashAnswer() };
    const selection = selectUpdates(events, hashParam, unknownHash);
    if (selection.kind === 'unknown-hash:error')
      return { kind: selection.kind, eventHashes: [], answer: unknownHashAnswer(hashParam) };
    return {
      kind: selection.kind,
      eventHashes: hashesOf(selection.updates),
      answer: updatesAnswer(wiresOf(selection.updates)),
      updates: selection.updates,
    };
  };

  /** Faults that answer in place of the server, whatever the request (a proxy, a crash, the network). */
  const replacingFault = (fault: OneShotFault): Outcome | null => {
    const kind: ServedKind = `fault:${faultName(fault)}`;
    if (typeof fault !== 'string') return { kind, eventHashes: [], answer: customAnswer(fault) };
    switch (fault) {
      case 'server-error':
        return { kind, eventHashes: [], answer: serverErrorAnswer(answerRandom) };
      case 'html':
        return { kind, eventHashes: [], answer: htmlAnswer(answerRandom) };
      case 'result-false':
        return { kind, eventHashes: [], answer: resultFalseAnswer() };
      case 'not-json':
        return { kind, eventHashes: [], answer: notJsonAnswer() };
      case 'empty-body':
        return { kind, eventHashes: [], answer: emptyBodyAnswer() };
      case 'reset':
      case 'hang':
        return { kind, eventHashes: [], silence: fault };
      case 'truncated':
      case 'giant':
      case 'duplicate':
        return null; // these shape the server's own answer
    }
  };

  const decide = (req: IncomingMessage, hashParam: string | null): Outcome => {
    const fault = plan.next();
    const replaced = fault === null ? null : replacingFault(fault);
    if (replaced !== null) return replaced;
    const events = queue.list();
    const normal = normalOutcome(req, hashParam, events);
    if (fault === 'truncated')
      return { kind: 'fault:truncated', eventHashes: [], answer: truncatedAnswer(normal.answer) };
    // giant / duplicate only touch `result: true` answers; an error answer goes out as it is.
    if ((fault === 'giant' || fault === 'duplicate') && normal.updates !== undefined) {
      const updates =
        fault === 'duplicate' ? withDuplicates(events, hashParam ?? 'none', normal.updates) : normal.updates;
      const answer = fault === 'giant' ? giantAnswer(wiresOf(updates)) : updatesAnswer(wiresOf(updates));
      return { kind: `fault:${fault}`, eventHashes: hashesOf(updates), answer };
    }
    const { updates: _updates, ...outcome } = normal;
    return outcome;
  };

  const handleEvents = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const at = now();
    const hashParam = url.searchParams.get('hash');
    const outcome = decide(req, hashParam);
    const status = 'answer' in outcome ? outcome.answer.status : null;
    const record: ServedRecord = { at, hashParam, status, kind: outcome.kind, eventHashes: outcome.eventHashes };
    served.push(record);
    options.onServed?.(record);
    const { latencyMs } = plan.faults;
    if (latencyMs > 0) {
      try {
        await sleep(latencyMs, undefined, { signal: closing.signal });
      } catch {
        return; // closing: the socket is being destroyed anyway
      }
    }
    if (res.destroyed) return;
    if ('answer' in outcome) write(res, outcome.answer);
    else if (outcome.silence === 'reset') resetSocket(req.socket);
    // 'hang': never answer; close() or the client's timeout ends it.
  };

  // --- the server --------------------------------------------------------------------------------

  const identity =
    config.tls === false
      ? undefined
      : config.tls === true
        ? await selfSignedIdentity(config.host)
        : { ...config.tls, fingerprint256: fingerprintOf(config.tls.cert) };

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://simulator.invalid');
    } catch {
      write(res, notFoundAnswer());
      return;
    }
    if (url.pathname === '/_sim' || url.pathname.startsWith('/_sim/')) {
      void handleControl(req, res, url, target);
    } else if (url.pathname === EVENTS_PATH) {
      if (req.method !== 'GET') {
        write(res, methodNotAllowedAnswer());
        return;
      }
      handleEvents(req, res, url).catch((error: unknown) => {
        if (!res.headersSent)
          write(res, { status: 500, contentType: 'text/plain', body: `simulator bug: ${String(error)}` });
      });
    } else write(res, notFoundAnswer());
  };

  const server: Server =
    identity === undefined
      ? createHttpServer(listener)
      : createHttpsServer({ key: identity.key, cert: identity.cert }, listener);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(config.port, config.host);
  await Promise.race([
    once(server, 'listening'),
    once(server, 'error').then(([error]) => Promise.reject(error as Error)),
  ]);
  const { port } = server.address() as AddressInfo;
  const url = `${identity === undefined ? 'http' : 'https'}://${urlHost(config.host)}:${port}`;

  const dropConnections = (): void => {
    for (const socket of sockets) socket.destroy();
  };

  let traffic: Traffic | undefined;
  let closed: Promise<void> | undefined;

  const target: ControlTarget = {
    url,
    ...(identity === undefined ? {} : { certPem: identity.cert, fingerprint256: identity.fingerprint256 }),
    seed,
    get served() {
      return served;
    },
    inject,
    injectMany(count: number, template: Partial<SimEventInput> = {}) {
      if (!Number.isInteger(count) || count < 0)
        throw new InvalidEventInputError(`count must be a whole number ≥ 0, not ${count}`);
      return Array.from({ length: count }, () => injectGenerated(template, eventRandom));
    },
    setFaults(faults: Partial<Faults>) {
      plan.set(faults);
    },
    failNext(...faults: OneShotFault[]) {
      plan.failNext(faults);
    },
    setUnknownHashMode(mode: UnknownHashMode) {
      const parsedMode = OptionsSchema.shape.unknownHash.safeParse(mode);
      if (!parsedMode.success)
        throw new SimulatorOptionsError(`unknown-hash mode must be all, empty or error, not ${String(mode)}`);
      unknownHash = parsedMode.data;
    },
    setToken(next: string) {
      if (typeof next !== 'string' || next === '')
        throw new SimulatorOptionsError('the token must be a non-empty string');
      token = next;
    },
    setHashStyle(style: HashStyle) {
      const parsedStyle = OptionsSchema.shape.hashes.safeParse(style);
      if (!parsedStyle.success)
        throw new SimulatorOptionsError(`the hash style must be random or counter, not ${String(style)}`);
      if (parsedStyle.data !== hashStyle)
        hashes = parsedStyle.data === 'counter' ? new CounterHashIssuer() : randomHashes;
      hashStyle = parsedStyle.data;
    },
    setRetention(seconds: number) {
      if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds <= 0)
        throw new SimulatorOptionsError(`the retention must be a number of seconds > 0, not ${String(seconds)}`);
      queue.setRetention(seconds * 1000);
    },
    restart(restartOptions: RestartOptions = {}) {
      if (restartOptions.keepQueue !== true) {
        queue.clear();
        hashes.restart();
      }
      if (restartOptions.dropConnections === true) dropConnections();
    },
    queue: () => queue.list(),
    settings: () => ({ retentionSeconds: queue.retention / 1000, hashes: hashStyle, unknownHash }),
    faultState: () => ({ faults: plan.faults, pending: plan.pending }),
    dropConnections,
    close() {
      closed ??= (async () => {
        traffic?.stop();
        closing.abort();
        const done = new Promise<void>((resolve) => server.close(() => resolve()));
        dropConnections();
        server.closeAllConnections();
        await done;
      })();
      return closed;
    },
  };

  if (config.traffic !== undefined && config.traffic.eventsPerMinute > 0) {
    const trafficEvents = forkRandom(seed, 'traffic-events');
    traffic = startTraffic({
      eventsPerMinute: config.traffic.eventsPerMinute,
      random: forkRandom(seed, 'traffic-gaps'),
      emit: () => injectGenerated({}, trafficEvents),
    });
  }
  return target;
}
