/**
 * One HTTP(S) GET to a QR-menu server, with the TLS rules this project lives by:
 * the peer is verified before a single byte of the request (and so the token) is written.
 *   - `tls.fingerprint256`: the server certificate's SHA-256 must equal the pin (the usual case: a
 *     self-signed certificate on an IP address);
 *   - `tls.caPem`: the chain must verify against that PEM (the certificate itself or its CA); a
 *     self-signed certificate pinned this way need not name the host;
 *   - neither: the system's CAs and the host name, as any HTTPS client.
 * One timeout covers connect, handshake and the whole answer; the answer is cut off at `maxBytes`.
 * A verified connection is kept open for the next request to the same server with the same trust
 * (one per server, through a keep-alive Agent whose sockets are only ever ones verified here), so
 * polling every 2 s costs one small request each time, not a TCP and TLS handshake. A kept
 * connection the server closed meanwhile fails like any reset, which the client's retry covers.
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  Agent,
  request as httpRequest,
  type ClientRequest,
  type ClientRequestArgs,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type PeerCertificate, type TLSSocket } from 'node:tls';
import { BadResponseError, TlsError, UnreachableError } from './errors';

/** How the server's certificate is trusted (the config's `tls`); verification is never switched off. */
export interface TlsOptions {
  /** PEM of the server's certificate (self-signed) or of the CA that issued it. */
  readonly caPem?: string | undefined;
  /** SHA-256 fingerprint of the server certificate, hex with or without colons. */
  readonly fingerprint256?: string | undefined;
}

export interface HttpGetOptions {
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly tls?: TlsOptions;
  /** Connect + handshake + full answer. */
  readonly timeoutMs: number;
  /** Larger answers are abandoned with a BadResponseError('too_large'). */
  readonly maxBytes: number;
}

export interface PeerCertificateInfo {
  readonly fingerprint256: string;
  readonly subject: string;
  readonly validTo: string;
  /** How the peer was trusted. */
  readonly trustedBy: 'fingerprint' | 'ca-pem' | 'system-ca';
}

export interface HttpResponse {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  /** Set for https:// URLs. */
  readonly certificate?: PeerCertificateInfo;
}

/** "ab:cd…" / "ABCD…" → "AB:CD:…", the form Node prints. */
export function normalizeFingerprint(fingerprint: string): string {
  const hex = fingerprint.replace(/:/g, '').toUpperCase();
  return hex.match(/.{2}/g)?.join(':') ?? hex;
}

export function certificateFingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}

/** An unused kept connection is closed after this long: polls come every few seconds. */
const KEPT_IDLE_MS = 4_000;

/** How a kept connection was trusted when it was opened, by socket. */
const trustOf = new WeakMap<Socket, PeerCertificateInfo | undefined>();
/** One keep-alive Agent per server and trust settings: its sockets are verified connections. */
const agents = new Map<string, Agent>();

/** The Agent for a server and trust settings (a different pin never reuses a connection). */
function agentFor(url: URL, tls: TlsOptions | undefined): Agent {
  const key = [
    url.protocol,
    url.host,
    tls?.fingerprint256 ? normalizeFingerprint(tls.fingerprint256) : '',
    tls?.caPem ? createHash('sha256').update(tls.caPem).digest('hex') : '',
  ].join('|');
  const known = agents.get(key);
  if (known) return known;
  const agent = new VerifyingAgent(url, tls);
  agents.set(key, agent);
  return agent;
}

/** Closes every kept connection (tests; a process that stops polling). */
export function closeKeptConnections(): void {
  for (const agent of agents.values()) agent.destroy();
  agents.clear();
}

/**
 * A keep-alive Agent that opens each connection with `openConnection` — verified before the
 * Agent (and so the request with its token) gets the socket — and keeps one idle for reuse.
 */
class VerifyingAgent extends Agent {
  constructor(
    private readonly url: URL,
    private readonly tls: TlsOptions | undefined,
  ) {
    // No cap on sockets in use: a request never waits in the Agent's queue (whose connect would
    // run with another request's options); one idle socket is kept.
    // An idle connection is dropped after KEPT_IDLE_MS (servers close theirs after a few seconds;
    // a poll written on a closing one is reset, which the client retries).
    super({ keepAlive: true, maxFreeSockets: 1, scheduling: 'lifo', timeout: KEPT_IDLE_MS });
  }

  override createConnection(
    options: ClientRequestArgs,
    callback?: (error: Error | null, stream: Duplex) => void,
  ): undefined {
    // The request's own timeout reaches the connect through its options (see sendRequest).
    const { track, signal } = (options as { connect?: ConnectControl }).connect ?? NO_CONTROL;
    openConnection(this.url, this.tls, track, signal).then(
      ({ socket, certificate }) => {
        trustOf.set(socket, certificate);
        callback?.(null, socket);
      },
      (error: unknown) => callback?.(error instanceof Error ? error : new Error(String(error)), undefined as never),
    );
    return undefined;
  }
}

/** What a request passes to the connect it may cause: where to report the socket, and its abort. */
interface ConnectControl {
  readonly track: (socket: Socket) => void;
  readonly signal: AbortSignal;
}
const NO_CONTROL: ConnectControl = { track: () => {}, signal: new AbortController().signal };

export async function httpGet(options: HttpGetOptions): Promise<HttpResponse> {
  const { url } = options;
  const target = url.host;
  const controller = new AbortController();
  let socket: Socket | undefined;
  const timer = setTimeout(() => {
    controller.abort();
    socket?.destroy(new UnreachableError('timeout', target, `${options.timeoutMs} ms`));
  }, options.timeoutMs);
  const agent = agentFor(url, options.tls);
  const track = (s: Socket) => (socket = s);
  let kept = false;
  try {
    const response = await sendRequest(agent, url, options, { track, signal: controller.signal });
    kept = true;
    return response;
  } catch (error) {
    if (controller.signal.aborted && !(error instanceof TlsError || error instanceof BadResponseError)) {
      throw new UnreachableError('timeout', target, `${options.timeoutMs} ms`);
    }
    throw translateNetworkError(error, target);
  } finally {
    clearTimeout(timer);
    if (!kept) socket?.destroy();
  }
}

async function openConnection(
  url: URL,
  tls: TlsOptions | undefined,
  track: (socket: Socket) => void,
  signal: AbortSignal,
): Promise<{ socket: Socket; certificate?: PeerCertificateInfo }> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  if (url.protocol === 'http:') {
    const socket = netConnect({ host, port });
    track(socket);
    await waitFor(socket, 'connect', signal);
    return { socket };
  }
  const pinnedCa = tls?.caPem;
  const pinnedCaFingerprint = pinnedCa ? safeFingerprint(pinnedCa) : undefined;
  // Verification is never skipped: Node's own checks run (against `ca` or the system CAs), and
  // `verifyPeer` below refuses the connection before anything is written unless they passed or the
  // pinned fingerprint matches. Node is told not to abort by itself only so that a refused peer's
  // certificate can be reported (its fingerprint is what the operator needs to pin it).
  const socket = tlsConnect({
    host,
    port,
    servername: isIP(host) ? undefined : host,
    ca: pinnedCa,
    rejectUnauthorized: false,
    checkServerIdentity: (hostname: string, cert: PeerCertificate) =>
      // A self-signed certificate pinned as the CA is trusted as itself, whatever names it carries.
      pinnedCaFingerprint !== undefined && cert.fingerprint256 === pinnedCaFingerprint
        ? undefined
        : checkServerIdentity(hostname, cert),
  });
  track(socket);
  await waitFor(socket, 'secureConnect', signal);
  return { socket, certificate: verifyPeer(socket, tls, url.host) };
}

function verifyPeer(socket: TLSSocket, tls: TlsOptions | undefined, target: string): PeerCertificateInfo {
  const cert = socket.getPeerCertificate();
  const presented = cert?.fingerprint256;
  if (!presented) throw new TlsError('handshake', `${target} presented no certificate`);
  const info = (trustedBy: PeerCertificateInfo['trustedBy']): PeerCertificateInfo => ({
    fingerprint256: presented,
    subject: formatSubject(cert.subject),
    validTo: cert.valid_to,
    trustedBy,
  });
  if (tls?.fingerprint256) {
    const pinned = normalizeFingerprint(tls.fingerprint256);
    if (presented !== pinned) {
      throw new TlsError(
        'fingerprint_mismatch',
        `the certificate of ${target} does not match the pinned fingerprint (pinned ${pinned}, presented ${presented}). ` +
          'If the QR-menu server got a new certificate, pin the new fingerprint; otherwise something is in the way',
        presented,
      );
    }
    return info('fingerprint');
  }
  if (!socket.authorized) {
    const reason = String(socket.authorizationError ?? 'not trusted');
    throw new TlsError(
      'untrusted',
      `the certificate of ${target} is not trusted (${reason}). If this is the restaurant's self-signed certificate, ` +
        `pin it: tls.fingerprint256 = "${presented}" (check it with npm run doctor first)`,
      presented,
    );
  }
  return info(tls?.caPem ? 'ca-pem' : 'system-ca');
}

async function sendRequest(
  agent: Agent,
  url: URL,
  options: HttpGetOptions,
  connect: ConnectControl,
): Promise<HttpResponse> {
  const requestOptions: RequestOptions & { connect: ConnectControl } = {
    connect,
    method: 'GET',
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 443 : 80),
    path: `${url.pathname}${url.search}`,
    headers: { ...options.headers, accept: 'application/json', 'accept-encoding': 'identity' },
    agent,
  };
  const request: ClientRequest = httpRequest(requestOptions);
  request.once('socket', connect.track);
  request.end();
  let certificate: PeerCertificateInfo | undefined;
  const response = await new Promise<IncomingMessage>((resolve, reject) => {
    request.once('response', (answer) => {
      certificate = trustOf.get(request.socket as Socket);
      resolve(answer);
    });
    request.on('error', reject);
  });
  const socket = request.socket as Socket;
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    throw tooLarge(url, options.maxBytes, response.statusCode);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  let onClose = () => {};
  await new Promise<void>((resolve, reject) => {
    onClose = () => {
      if (!response.complete) reject(new UnreachableError('reset', url.host, 'answer cut off'));
    };
    socket.once('close', onClose);
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > options.maxBytes) {
        reject(tooLarge(url, options.maxBytes, response.statusCode));
        response.destroy();
        return;
      }
      chunks.push(chunk);
    });
    response.once('end', resolve);
    response.once('error', reject);
    response.once('aborted', () => reject(new UnreachableError('reset', url.host, 'answer cut off')));
  }).finally(() => socket.off('close', onClose));
  return {
    status: response.statusCode ?? 0,
    contentType: String(response.headers['content-type'] ?? ''),
    body: Buffer.concat(chunks),
    ...(certificate ? { certificate } : {}),
  };
}

function tooLarge(url: URL, maxBytes: number, status?: number): BadResponseError {
  return new BadResponseError(
    'too_large',
    `the answer from ${url.host} is larger than ${maxBytes} bytes and was abandoned. ` +
      'A QR-menu queue holds a few minutes of events; raise polling.maxResponseBytes only if that is really normal',
    status,
  );
}

function waitFor(socket: Socket, event: 'connect' | 'secureConnect', signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    socket.once(event, () => resolve());
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('socket closed')));
  });
}

/** Map Node's network errors onto UnreachableError/TlsError; pass our own errors through. */
function translateNetworkError(error: unknown, target: string): Error {
  if (error instanceof UnreachableError || error instanceof TlsError || error instanceof BadResponseError) return error;
  const raw = (error as { code?: unknown } | undefined)?.code;
  const code = typeof raw === 'string' ? raw : '';
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UnreachableError('dns', target, code);
  if (code === 'ECONNREFUSED') return new UnreachableError('refused', target);
  if (code === 'ECONNRESET' || code === 'EPIPE' || message === 'socket closed' || message === 'socket hang up') {
    return new UnreachableError('reset', target, code || message);
  }
  if (code === 'ETIMEDOUT') return new UnreachableError('timeout', target, code);
  if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /SSL|TLS|certificate/i.test(message)) {
    return new TlsError(
      'handshake',
      `the TLS handshake with ${target} failed (${code || message}). If the server speaks plain HTTP, use an http:// URL`,
    );
  }
  return new UnreachableError('network', target, code || message);
}

function safeFingerprint(pem: string): string | undefined {
  try {
    return certificateFingerprint(pem);
  } catch {
    return undefined;
  }
}

function formatSubject(subject: PeerCertificate['subject'] | undefined): string {
  if (!subject) return '';
  return Object.entries(subject)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');
}
