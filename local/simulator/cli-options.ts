/**
 * The CLI's options (commander): flags, defaults, validation, `--help` text, and the mapping from
 * parsed flags to `createSimulator()` options and fault settings. Kept apart from cli.ts (which
 * starts the server and handles signals) so that parsing and help are tested without a process.
 */
import { readFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { CONTROL_HELP } from './control';
import type { Faults } from './faults';
import type { SimulatorOptions } from './types';

const integer =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
const number =
  (min: number, max: number) =>
  (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a number from ${min} to ${max}`);
    return n;
  };
const share = number(0, 1);

/** The parsed flags. */
export interface CliOptions {
  host: string;
  port: number;
  token: string;
  retention: number;
  hashes: 'random' | 'counter';
  unknownHash: 'all' | 'empty' | 'error';
  authFailure: '401' | '403' | 'result-false';
  http?: boolean;
  cert?: string;
  key?: string;
  certOut?: string;
  rate: number;
  seed?: number;
  latency?: number;
  errorShare?: number;
  htmlShare?: number;
  truncatedShare?: number;
  resetShare?: number;
  duplicateShare?: number;
  resultFalseShare?: number;
  quiet?: boolean;
}

/** The `simulator` command with every flag. */
export function buildProgram(): Command {
  return new Command('simulator')
    .description(
      'A stand-in for a restaurant\'s QR-menu server: GET /api/v4/events?hash=… with a "token" header, plus faults on demand.',
    )
    .addOption(new Option('--host <address>', 'listen address').default('127.0.0.1'))
    .addOption(
      new Option('--port <port>', 'listen port (0 = any free port)').default(8443).argParser(integer(0, 65_535)),
    )
    .addOption(
      new Option('--token <token>', 'the access key clients must send').env('QRMENU_TOKEN').default('demo-token'),
    )
    .addOption(
      new Option('--retention <seconds>', 'how long events stay queued').default(300).argParser(integer(1, 86_400)),
    )
    .addOption(
      new Option(
        '--hashes <style>',
        'event hashes: random, or a counter 0x00000001, … that starts again from 1 at each restart',
      )
        .choices(['random', 'counter'])
        .default('random'),
    )
    .addOption(
      new Option('--unknown-hash <mode>', 'what a hash not in the queue gets: every event, nothing, an HTTP 400')
        .choices(['all', 'empty', 'error'])
        .default('all'),
    )
    .addOption(
      new Option('--auth-failure <style>', 'how a wrong/missing token is answered')
        .choices(['401', '403', 'result-false'])
        .default('401'),
    )
    .addOption(new Option('--http', 'plain HTTP instead of HTTPS with a self-signed certificate'))
    .addOption(
      new Option('--cert <file>', 'serve this PEM certificate instead of a fresh self-signed one (with --key)'),
    )
    .addOption(new Option('--key <file>', 'the PEM private key of --cert'))
    .addOption(
      new Option(
        '--cert-out <file>',
        'write the certificate here for curl --cacert (default: a file in the temp folder, removed on exit)',
      ),
    )
    .addOption(
      new Option('--rate <n>', 'generated events per minute, 0 = none').default(6).argParser(number(0, 60_000)),
    )
    .addOption(
      new Option('--seed <n>', 'seed of hashes, generated events and fault rolls (default: random)').argParser(
        integer(-2_147_483_648, 4_294_967_295),
      ),
    )
    .addOption(new Option('--latency <ms>', 'delay of every events answer').argParser(integer(0, 600_000)))
    .addOption(new Option('--error-share <x>', 'share of answers that are HTTP 500/502/503').argParser(share))
    .addOption(
      new Option('--html-share <x>', 'share of answers that are an nginx HTML page (200 or 502)').argParser(share),
    )
    .addOption(new Option('--truncated-share <x>', 'share of answers whose JSON is cut in the middle').argParser(share))
    .addOption(
      new Option('--reset-share <x>', 'share of requests whose connection is dropped without an answer').argParser(
        share,
      ),
    )
    .addOption(
      new Option('--duplicate-share <x>', 'share of answers that repeat already-served events').argParser(share),
    )
    .addOption(
      new Option('--result-false-share <x>', 'share of answers that are HTTP 200 {"result": false, …}').argParser(
        share,
      ),
    )
    .addOption(new Option('--quiet', 'do not log each request and event'))
    .addHelpText('after', `\n${CONTROL_HELP}`);
}

/** `createSimulator()` options from the flags (reads --cert/--key files). */
export function simulatorOptions(o: CliOptions): SimulatorOptions {
  const tls =
    o.http === true
      ? false
      : o.cert !== undefined && o.key !== undefined
        ? { cert: readFileSync(o.cert, 'utf8'), key: readFileSync(o.key, 'utf8') }
        : true;
  return {
    host: o.host,
    port: o.port,
    token: o.token,
    retentionSeconds: o.retention,
    hashes: o.hashes,
    unknownHash: o.unknownHash,
    authFailure: o.authFailure,
    tls,
    ...(o.seed === undefined ? {} : { seed: o.seed }),
    ...(o.rate > 0 ? { traffic: { eventsPerMinute: o.rate } } : {}),
  };
}

/** The fault settings the flags ask for (only those given). */
export function faultSettings(o: CliOptions): Partial<Faults> {
  const given: [keyof Faults, number | undefined][] = [
    ['latencyMs', o.latency],
    ['serverErrorShare', o.errorShare],
    ['htmlShare', o.htmlShare],
    ['truncatedShare', o.truncatedShare],
    ['resetShare', o.resetShare],
    ['duplicateShare', o.duplicateShare],
    ['resultFalseShare', o.resultFalseShare],
  ];
  return Object.fromEntries(given.filter(([, value]) => value !== undefined));
}
