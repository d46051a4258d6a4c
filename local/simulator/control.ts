/**
 * The control endpoints under `/_sim/` — a loopback tool, no token (all bodies JSON):
 *
 *   GET  /_sim/                 this list, as text
 *   POST /_sim/events           a partial event {"code","table","tableName","maxGuests","invoice","order","hash"}
 *                               → 201 the event; {"count": N, …template} → 201 an array of N events;
 *                               ?raw=1 queues the body as-is (malformed events) → 201 the event
 *   GET  /_sim/queue            events still retained, oldest first
 *   GET  /_sim/served           every events request: {at, hashParam, status, kind, eventHashes}
 *   GET  /_sim/faults           {"faults": {…}, "pending": [one-shot faults not used yet]}
 *   POST /_sim/faults           merge fault settings, e.g. {"serverErrorShare": 0.2, "latencyMs": 300}
 *   POST /_sim/fail-next        one-shot faults for the next requests, e.g. ["server-error", "hang"]
 *   POST /_sim/restart          forget every hash and empty the queue; {"keepQueue": true} keeps it,
 *                               {"dropConnections": true} also cuts open connections (after answering)
 *   POST /_sim/unknown-hash     {"mode": "all" | "empty" | "error"}
 *   POST /_sim/token            {"token": "…"} (the new token is not echoed)
 *   GET  /_sim/settings         {"retentionSeconds", "hashes", "unknownHash"} in force
 *   POST /_sim/retention        {"seconds": 60} → the settings (events older than that are dropped)
 *   POST /_sim/hashes           {"style": "random" | "counter"} → the settings
 *
 * A body the endpoint does not take → 400 {"error": "…"}; an unknown /_sim path → 404.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as z from 'zod';
import { ControlRequestError, SimulatorError, describeIssues } from './errors';
import type { Faults, OneShotFault } from './faults';
import type { Simulator } from './types';

/** The text of GET /_sim/ and of the CLI's help. */
export const CONTROL_HELP = `Control endpoints (no token; JSON bodies):
  GET  /_sim/               this list
  POST /_sim/events         a partial event {"code","table","tableName","maxGuests","invoice","order","hash"} -> 201 the event
                            {"count": N, ...template} -> 201 N events; ?raw=1 queues the body as-is (malformed events)
  GET  /_sim/queue          events still retained, oldest first
  GET  /_sim/served         every events request: {at, hashParam, status, kind, eventHashes}
  GET  /_sim/faults         current fault settings and pending one-shot faults
  POST /_sim/faults         merge fault settings, e.g. {"serverErrorShare":0.2,"latencyMs":300}
  POST /_sim/fail-next      one-shot faults for the next requests, e.g. ["server-error","hang"]
                            (server-error, html, truncated, reset, hang, result-false, giant, not-json,
                            empty-body, duplicate, or {"status":418,"body":"…","contentType":"…"})
  POST /_sim/restart        forget every hash, empty the queue; {"keepQueue":true} keeps it,
                            {"dropConnections":true} also cuts open connections
  POST /_sim/unknown-hash   {"mode":"all"|"empty"|"error"}
  POST /_sim/token          {"token":"..."}
  GET  /_sim/settings       {"retentionSeconds","hashes","unknownHash"} in force
  POST /_sim/retention      {"seconds":60}: events stay queued this long from now on
  POST /_sim/hashes         {"style":"random"|"counter"}: counter hashes 0x00000001, … restart from 1
                            at each restart (which then loses the queue)
`;

/** What the control endpoints need beyond the public API. */
export interface ControlTarget extends Simulator {
  faultState(): { faults: Faults; pending: OneShotFault[] };
  /** Cuts every open connection (used after the restart request itself was answered). */
  dropConnections(): void;
}

const MAX_BODY_BYTES = 1_048_576;

async function readJson(req: IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ControlRequestError('body larger than 1 MiB');
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ControlRequestError('body is not JSON');
  }
}

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ControlRequestError(`${what}: ${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

const CountSchema = z.looseObject({ count: z.number().int().min(0).max(10_000) });
const RestartSchema = z
  .strictObject({ keepQueue: z.boolean().optional(), dropConnections: z.boolean().optional() })
  .optional();
const ModeSchema = z.strictObject({ mode: z.enum(['all', 'empty', 'error']) });
const TokenSchema = z.strictObject({ token: z.string().min(1) });
const RetentionSchema = z.strictObject({ seconds: z.number().positive().max(86_400) });
const HashesSchema = z.strictObject({ style: z.enum(['random', 'counter']) });

function send(res: ServerResponse, status: number, value: unknown): void {
  const body = typeof value === 'string' ? value : JSON.stringify(value, null, 2);
  res.writeHead(status, {
    'content-type': typeof value === 'string' ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

async function route(req: IncomingMessage, res: ServerResponse, url: URL, sim: ControlTarget): Promise<void> {
  const endpoint = `${req.method ?? 'GET'} ${url.pathname.replace(/\/+$/, '') || '/'}`;
  switch (endpoint) {
    case 'GET /_sim':
      return send(res, 200, CONTROL_HELP);
    case 'POST /_sim/events': {
      const body = await readJson(req);
      if (url.searchParams.get('raw') === '1' || url.searchParams.get('raw') === 'true')
        return send(res, 201, sim.inject(body, { raw: true }));
      if (typeof body === 'object' && body !== null && 'count' in body) {
        const { count, ...template } = parse(CountSchema, body, 'events');
        return send(res, 201, sim.injectMany(count, template));
      }
      return send(res, 201, sim.inject(body ?? {}, {}));
    }
    case 'GET /_sim/queue':
      return send(res, 200, sim.queue());
    case 'GET /_sim/served':
      return send(res, 200, sim.served);
    case 'GET /_sim/faults':
      return send(res, 200, sim.faultState());
    case 'POST /_sim/faults':
      sim.setFaults((await readJson(req)) as Partial<Faults>);
      return send(res, 200, sim.faultState());
    case 'POST /_sim/fail-next': {
      const body = await readJson(req);
      sim.failNext(...((Array.isArray(body) ? body : [body]) as OneShotFault[]));
      return send(res, 200, sim.faultState());
    }
    case 'POST /_sim/restart': {
      const options = parse(RestartSchema, await readJson(req), 'restart') ?? {};
      sim.restart({ keepQueue: options.keepQueue ?? false });
      // The connections are cut once this answer is on its way, so that the caller still gets it.
      if (options.dropConnections === true) res.once('finish', () => sim.dropConnections());
      return send(res, 200, { restarted: true, queued: sim.queue().length });
    }
    case 'POST /_sim/unknown-hash': {
      const { mode } = parse(ModeSchema, await readJson(req), 'unknown-hash');
      sim.setUnknownHashMode(mode);
      return send(res, 200, { mode });
    }
    case 'POST /_sim/token':
      sim.setToken(parse(TokenSchema, await readJson(req), 'token').token);
      return send(res, 200, { tokenChanged: true });
    case 'GET /_sim/settings':
      return send(res, 200, sim.settings());
    case 'POST /_sim/retention':
      sim.setRetention(parse(RetentionSchema, await readJson(req), 'retention').seconds);
      return send(res, 200, sim.settings());
    case 'POST /_sim/hashes':
      sim.setHashStyle(parse(HashesSchema, await readJson(req), 'hashes').style);
      return send(res, 200, sim.settings());
    default:
      return send(res, 404, { error: `no control endpoint ${endpoint}; GET /_sim/ lists them` });
  }
}

/** Answers one `/_sim/…` request. */
export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  sim: ControlTarget,
): Promise<void> {
  try {
    await route(req, res, url, sim);
  } catch (error) {
    if (res.headersSent) return void res.destroy();
    if (error instanceof SimulatorError) return send(res, 400, { error: error.message, kind: error.name });
    send(res, 500, { error: error instanceof Error ? error.message : String(error) });
  }
}
