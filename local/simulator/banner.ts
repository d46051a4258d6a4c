/**
 * What the CLI prints: the start banner (URL, token, certificate fingerprint with the exact pinning
 * hints, curl examples for the control endpoints) and one line per served request or queued event.
 * Pure text functions, so they are tested without a terminal. The token appears only in the banner:
 * the operator chose it; request lines never carry it.
 */
import { X509Certificate } from 'node:crypto';
import type { SimEvent } from './queue';
import type { ServedRecord } from './types';

export interface BannerInput {
  readonly url: string;
  readonly token: string;
  readonly seed: number;
  readonly retentionSeconds: number;
  /** 'random' or 'counter'. */
  readonly hashes: string;
  readonly unknownHash: string;
  readonly authFailure: string;
  /** Generated events per minute; 0 = none. */
  readonly rate: number;
  readonly certPem?: string | undefined;
  readonly fingerprint256?: string | undefined;
  /** Where the certificate was written for `curl --cacert`. */
  readonly certFile?: string | undefined;
}

/** Quotes a value for a POSIX shell. */
export function shellQuote(value: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

export function startBanner(input: BannerInput): string {
  const curl = input.certFile === undefined ? 'curl' : `curl --cacert ${shellQuote(input.certFile)}`;
  const lines = [
    "QR-menu simulator: a stand-in for a restaurant's QR-menu server",
    '',
    `  URL          ${input.url}`,
    `  events       GET ${input.url}/api/v4/events?hash=none   (header "token")`,
    `  token        ${input.token}`,
    `  behaviour    retention ${input.retentionSeconds} s · ${input.hashes} hashes · unknown hash → ${input.unknownHash} · wrong token → ${input.authFailure} · seed ${input.seed}`,
    `  traffic      ${input.rate > 0 ? `~${input.rate} generated events per minute` : 'off (inject events with the control endpoints)'}`,
  ];
  if (input.certPem !== undefined && input.fingerprint256 !== undefined) {
    const names = new X509Certificate(input.certPem).subjectAltName ?? '';
    lines.push(
      `  certificate  self-signed (${names})${input.certFile === undefined ? '' : `, written to ${input.certFile}`}`,
      `  SHA-256      ${input.fingerprint256}`,
      '',
      "Pin it in the source's config:",
      `  tls: { fingerprint256: "${input.fingerprint256}" }`,
      'or check the server with:',
      `  npm run doctor -- --url ${input.url} --fingerprint ${input.fingerprint256}`,
    );
  } else {
    lines.push('  TLS          none: plain HTTP (--http)');
  }
  lines.push(
    '',
    'Try:',
    `  ${curl} -H ${shellQuote(`token: ${input.token}`)} '${input.url}/api/v4/events?hash=none'`,
    `  ${curl} -X POST ${input.url}/_sim/events -d '{"code":"waiter_call","tableName":"6"}'`,
    `  ${curl} -X POST ${input.url}/_sim/events -d '{"count":5}'`,
    `  ${curl} -X POST ${input.url}/_sim/fail-next -d '["server-error","html","hang"]'`,
    `  ${curl} -X POST ${input.url}/_sim/faults -d '{"serverErrorShare":0.2,"latencyMs":300}'`,
    `  ${curl} -X POST ${input.url}/_sim/unknown-hash -d '{"mode":"empty"}'`,
    `  ${curl} -X POST ${input.url}/_sim/retention -d '{"seconds":60}'`,
    `  ${curl} -X POST ${input.url}/_sim/restart`,
    `  ${curl} ${input.url}/_sim/          (every control endpoint)`,
    '',
    'Ctrl-C stops it.',
  );
  return lines.join('\n');
}

const clock = (): string => new Date().toISOString().slice(11, 19);

/** `12:00:01 GET hash=0x1a2b3c4d → 200 ok, 2 events` */
export function servedLine(record: ServedRecord): string {
  const hash = record.hashParam === null ? '(no hash)' : `hash=${record.hashParam.slice(0, 40)}`;
  const status = record.status === null ? 'no answer' : String(record.status);
  const events = record.eventHashes.length === 1 ? '1 event' : `${record.eventHashes.length} events`;
  return `${clock()} GET ${hash} → ${status} ${record.kind}, ${events}`;
}

/** `12:00:01 + 0x1a2b3c4d waiter_call, table "6"` */
export function enqueuedLine(event: SimEvent): string {
  if (event.raw) return `${clock()} + ${event.hash ?? '(no hash)'} raw event`;
  return `${clock()} + ${event.hash} ${event.wire.code}, table "${event.wire.table_repr.name}"`;
}
