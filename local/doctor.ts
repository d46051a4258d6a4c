/**
 * `npm run doctor -- --url URL [--token T | --token-parameter NAME] [--fingerprint FP | --ca-file PEM]`:
 * the first thing an integrator runs against a restaurant's QR-menu server. One `hash=none`
 * request, then a plain report: reachable? which certificate (and the exact line to pin it)? token
 * accepted? how many events are queued, of which codes? The token may come from QRMENU_TOKEN
 * instead of the command line, or — after the deploy — from the source's SSM parameter, read with
 * the AWS CLI's credentials exactly as the poller reads it; it is never printed. `--watch SECONDS` then asks again every few seconds and reports how
 * long the server really keeps events (learnt as the poller learns it, queue-knowledge.ts).
 *
 * Exit codes: 0 all well · 2 token rejected or missing · 3 unreachable or TLS · 4 bad response.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { Command, Option } from 'commander';
import { tokenResolver } from '../lambda/config/tokens';
import { QrMenuClient } from '../lambda/qrmenu/client';
import { QrMenuError, type QrMenuErrorKind } from '../lambda/qrmenu/errors';
import { normalizeFingerprint } from '../lambda/qrmenu/http';
import type { TlsOptions } from '../lambda/qrmenu/http';
import type { QrEvent } from '../lambda/domain/event';
import type { SourceState } from '../lambda/domain/source-state';
import { observeAnswer } from '../lambda/poller/queue-knowledge';

export const EXIT = { ok: 0, auth: 2, unreachable: 3, badResponse: 4 } as const;

const EXIT_FOR_KIND: Record<QrMenuErrorKind, number> = {
  auth: EXIT.auth,
  secret: EXIT.auth,
  unreachable: EXIT.unreachable,
  tls: EXIT.unreachable,
  server: EXIT.badResponse,
  bad_response: EXIT.badResponse,
};

export interface DoctorOptions {
  readonly url: string;
  readonly token?: string;
  readonly fingerprint?: string;
  readonly caPem?: string;
  readonly timeoutMs?: number;
  /** Watch the queue this long to tell its retention (0 = one request only). */
  readonly watchSeconds?: number;
  /** Seconds between two looks while watching. Default 10. */
  readonly everySeconds?: number;
  /** The clock (tests pass a manual one). */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Where the report goes, line by line. */
  readonly print: (line: string) => void;
}

/** What a TLS handshake showed, without sending a byte of HTTP. */
export interface CertificateReport {
  readonly fingerprint256: string;
  readonly subject: string;
  readonly issuer: string;
  readonly altNames: string;
  readonly validTo: string;
  readonly selfSigned: boolean;
  readonly trustedBySystem: boolean;
  readonly reason?: string;
}

/** Look at the server's certificate: a handshake, then hang up before any request is sent. */
export async function inspectCertificate(url: URL, timeoutMs: number): Promise<CertificateReport> {
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve, reject) => {
    // Nothing is sent on this connection: it only reads what certificate the server presents.
    const socket = tlsConnect({
      host,
      port: Number(url.port || 443),
      servername: isIP(host) ? undefined : host,
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${timeoutMs} ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      const cert: PeerCertificate = socket.getPeerCertificate();
      resolve({
        fingerprint256: cert.fingerprint256,
        subject: describeName(cert.subject),
        issuer: describeName(cert.issuer),
        altNames: cert.subjectaltname ?? '',
        validTo: cert.valid_to,
        selfSigned: describeName(cert.subject) === describeName(cert.issuer),
        trustedBySystem: socket.authorized,
        ...(socket.authorized ? {} : { reason: String(socket.authorizationError) }),
      });
      socket.destroy();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** Run the checks and print the report; resolves to the exit code. */
export async function runDoctor(options: DoctorOptions): Promise<number> {
  const { print } = options;
  const timeoutMs = options.timeoutMs ?? 5_000;
  let url: URL;
  try {
    url = new URL(options.url);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('not http(s)');
  } catch {
    print(`FAIL: "${options.url}" is not an http:// or https:// URL (e.g. https://203.0.113.10:8443)`);
    return EXIT.unreachable;
  }
  print(`QR-menu doctor — ${url.origin}`);
  const tls: TlsOptions = {
    ...(options.fingerprint ? { fingerprint256: normalizeFingerprint(options.fingerprint) } : {}),
    ...(options.caPem ? { caPem: options.caPem } : {}),
  };
  if (url.protocol === 'http:') {
    row(
      print,
      'tls',
      'none: plain http:// — the token crosses the network unencrypted; prefer https:// if the server offers it',
    );
  } else {
    let cert: CertificateReport;
    try {
      cert = await inspectCertificate(url, timeoutMs);
    } catch (error) {
      row(print, 'reachable', 'no');
      return verdict(
        print,
        EXIT.unreachable,
        `cannot make a TLS connection to ${url.host}: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    row(print, 'reachable', 'yes');
    row(print, 'certificate', `${cert.selfSigned ? 'self-signed, ' : ''}${cert.subject}; valid until ${cert.validTo}`);
    if (cert.altNames) row(print, 'names', cert.altNames);
    row(print, 'fingerprint', cert.fingerprint256);
    row(print, 'pin it', `tls: { fingerprint256: "${cert.fingerprint256}" }`);
    const pinned = tls.fingerprint256 !== undefined || tls.caPem !== undefined;
    if (!pinned && !cert.trustedBySystem) {
      return verdict(
        print,
        EXIT.unreachable,
        `the certificate is not trusted (${cert.reason}) and nothing is pinned, so the token was not sent. ` +
          'Check the fingerprint above against the QR-menu server, then run again with --fingerprint',
      );
    }
  }
  if (!options.token) {
    return verdict(
      print,
      EXIT.auth,
      'no token: give --token or set QRMENU_TOKEN (the "Secret key" on the QR-menu admin page)',
    );
  }
  const client = new QrMenuClient({
    baseUrl: url.toString(),
    token: options.token,
    ...(url.protocol === 'https:' ? { tls } : {}),
    requestTimeoutMs: timeoutMs,
    retries: 0,
    ...(options.now ? { now: options.now } : {}),
  });
  try {
    const answer = await client.fetchEvents(null);
    if (url.protocol === 'https:') row(print, 'trusted by', answer.certificate?.trustedBy ?? 'unknown');
    row(print, 'token', 'accepted');
    row(
      print,
      'queued events',
      `${answer.events.length}${answer.events.length ? ` (${describeCodes(answer.events.map((e) => e.code))})` : ''}`,
    );
    if (answer.skipped.length > 0)
      row(print, 'unusable events', `${answer.skipped.length}: ${answer.skipped.map((s) => s.reason).join('; ')}`);
    if (!options.watchSeconds) {
      row(print, 'retention', 'one answer cannot tell how long events stay: run with --watch 420 to measure it');
    } else {
      row(print, 'retention', await watchRetention(client, answer.events, options));
    }
    return verdict(print, EXIT.ok, 'this server can be polled');
  } catch (error) {
    if (!(error instanceof QrMenuError)) throw error;
    if (error.kind === 'auth') row(print, 'token', 'rejected');
    return verdict(print, EXIT_FOR_KIND[error.kind], error.message);
  }
}

/** Look at the whole queue again and again; what the poller would learn of its retention, in words. */
async function watchRetention(
  client: QrMenuClient,
  first: readonly QrEvent[],
  options: DoctorOptions,
): Promise<string> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const everyMs = (options.everySeconds ?? 10) * 1000;
  const settings = { intervalMs: everyMs, retentionMs: Number.POSITIVE_INFINITY };
  const firstSeen = new Map<string, { firstSeenAt: number; code: string; table: string }>();
  let state: Pick<SourceState, 'queue' | 'gone' | 'learnt'> = { gone: {}, learnt: {} };
  let vanished = 0;
  const look = (events: readonly QrEvent[]) => {
    const at = now();
    for (const e of events)
      if (!firstSeen.has(e.hash)) firstSeen.set(e.hash, { firstSeenAt: at, code: e.code, table: e.tableName });
    const observed = observeAnswer(state, { events, complete: true }, (h) => firstSeen.get(h), at, settings);
    state = observed.state;
    vanished += observed.vanished.length;
  };
  look(first);
  const until = now() + (options.watchSeconds ?? 0) * 1000;
  while (now() < until) {
    await sleep(everyMs);
    try {
      look((await client.fetchEvents(null)).events);
    } catch (error) {
      return `watching stopped: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  const { retentionMs, longestSeenMs } = state.learnt;
  const seconds = (ms: number | undefined) => (ms === undefined ? '?' : `${Math.round(ms / 1000)} s`);
  if (retentionMs !== undefined) {
    const safe = Math.floor((longestSeenMs ?? retentionMs) / 1000);
    return (
      `events stay queued at least ${seconds(longestSeenMs)} and are gone within ${seconds(retentionMs)} ` +
      `(${vanished} left while watching): set polling.retentionSeconds to ${safe}`
    );
  }
  return firstSeen.size === 0
    ? `no event was queued in ${options.watchSeconds} s of watching: make a test call and watch again`
    : `no event left the queue in ${options.watchSeconds} s (seen queued for up to ${seconds(longestSeenMs)}): ` +
        'the retention is longer than that; watch longer to measure it';
}

function describeCodes(codes: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const code of codes) counts.set(code, (counts.get(code) ?? 0) + 1);
  return [...counts].map(([code, n]) => `${code} ×${n}`).join(', ');
}

function describeName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');
}

function row(print: (line: string) => void, label: string, value: string): void {
  print(`  ${label.padEnd(15)} ${value}`);
}

function verdict(print: (line: string) => void, code: number, reason: string): number {
  print(code === EXIT.ok ? `OK: ${reason}.` : `FAIL (exit ${code}): ${reason}`);
  return code;
}

async function main(argv: readonly string[]): Promise<void> {
  const program = new Command()
    .name('npm run doctor --')
    .description('Check a QR-menu server once: reachability, TLS certificate, token, queued events.')
    .requiredOption('--url <url>', 'the QR-menu server, e.g. https://203.0.113.10:8443')
    .addOption(new Option('--token <token>', 'the "Secret key" from the QR-menu admin page').env('QRMENU_TOKEN'))
    .addOption(
      new Option(
        '--token-parameter <name>',
        "read the token from the source's SSM parameter (the TokenParameter… output), as the poller does",
      ).conflicts('token'),
    )
    .option('--fingerprint <sha256>', 'pin the server certificate by its SHA-256 fingerprint')
    .option('--ca-file <pem>', 'pin the server certificate (or its CA) by a PEM file')
    .option('--timeout <ms>', 'request timeout in ms', (v) => Number(v), 5_000)
    .option(
      '--watch <seconds>',
      'then watch the queue this long to measure its retention (e.g. 420)',
      (v) => Number(v),
      0,
    )
    .parse(argv, { from: 'user' });
  const o = program.opts<{
    url: string;
    token?: string;
    tokenParameter?: string;
    fingerprint?: string;
    caFile?: string;
    timeout: number;
    watch: number;
  }>();
  let token = o.token;
  if (o.tokenParameter !== undefined) {
    try {
      token = await tokenResolver({ id: 'doctor', token: { ssm: o.tokenParameter } })();
    } catch (error) {
      process.exitCode = verdict((line) => console.log(line), EXIT.auth, (error as Error).message);
      return;
    }
  }
  const code = await runDoctor({
    url: o.url,
    ...(token ? { token } : {}),
    ...(o.fingerprint ? { fingerprint: o.fingerprint } : {}),
    ...(o.caFile ? { caPem: readFileSync(o.caFile, 'utf8') } : {}),
    timeoutMs: o.timeout,
    watchSeconds: o.watch,
    print: (line) => console.log(line),
  });
  process.exitCode = code;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  await main(process.argv.slice(2));
}
