/**
 * Test helpers for the simulator suites: a tiny HTTP(S) client that trusts exactly the simulator's
 * own certificate (`ca: certPem`; TLS verification is never switched off), opens a fresh
 * connection per request (no keep-alive surprises after a restart), and a hand-moved clock.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { Simulator } from '../../local/simulator';

export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** SHA-256 fingerprint of the certificate the server presented (https only). */
  readonly peerFingerprint256?: string;
}

export interface RequestOptions {
  method?: string;
  /** Header `token`; omitted when undefined. */
  token?: string;
  body?: unknown;
  /** Connect to this host name instead of the URL's (e.g. 'localhost', to check the DNS SAN). */
  hostname?: string;
  /** Abort after this many ms (rejects with an Error whose message is 'client timeout'). */
  timeoutMs?: number;
}

/** One request to `sim.url + path`. */
export function send(
  sim: Pick<Simulator, 'url' | 'certPem'>,
  path: string,
  options: RequestOptions = {},
): Promise<Reply> {
  const url = new URL(path, sim.url);
  if (options.hostname !== undefined) url.hostname = options.hostname;
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string'
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {};
  if (options.token !== undefined) headers.token = options.token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  return new Promise((resolve, reject) => {
    const handle = (res: import('node:http').IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const socket = res.socket as TLSSocket | null;
        const peer = url.protocol === 'https:' ? socket?.getPeerCertificate?.().fingerprint256 : undefined;
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          ...(peer === undefined ? {} : { peerFingerprint256: peer }),
        });
      });
    };
    const req =
      url.protocol === 'https:'
        ? httpsRequest(url, { method: options.method ?? 'GET', headers, agent: false, ca: sim.certPem }, handle)
        : httpRequest(url, { method: options.method ?? 'GET', headers, agent: false }, handle);
    req.on('error', reject);
    if (options.timeoutMs !== undefined) {
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error('client timeout')));
    }
    req.end(body);
  });
}

/** `GET /api/v4/events?hash=…` with a token (default 'demo-token'; null sends no token header). */
export function poll(
  sim: Pick<Simulator, 'url' | 'certPem'>,
  hash: string,
  token: string | null = 'demo-token',
): Promise<Reply> {
  return send(sim, `/api/v4/events?hash=${encodeURIComponent(hash)}`, token === null ? {} : { token });
}

/** The hashes of a `result: true` answer's updates. */
export function updateHashes(reply: Reply): string[] {
  const parsed = JSON.parse(reply.body) as { result: boolean; data: { updates: { hash: string }[] } };
  return parsed.data.updates.map((update) => update.hash);
}

/** A clock the test moves by hand. */
export function manualClock(start = Date.UTC(2026, 0, 15, 12, 0, 0)): {
  now: () => number;
  advance: (ms: number) => void;
} {
  let current = start;
  return {
    now: () => current,
    advance: (ms) => {
      current += ms;
    },
  };
}
