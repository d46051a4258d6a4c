/**
 * `npm run simulator`: the CLI starts, prints the URL, the token once, the certificate's SHA-256
 * fingerprint (the one the server really presents) with the exact pinning hints, serves requests
 * without ever logging the token again, and exits 0 on SIGTERM / SIGINT. Spawned as
 * `node --import tsx local/simulator/cli.ts` (what `npm run simulator` runs, minus npm); the flag
 * parsing and `--help` are checked in-process (a spawn costs ~1-2 s of tsx start-up).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect as globalExpect, it, type ExpectStatic } from 'vitest';
import { CommanderError } from 'commander';
import { shellQuote } from '../../local/simulator/banner';
import { buildProgram, faultSettings, simulatorOptions, type CliOptions } from '../../local/simulator/cli-options';
import { poll, send } from './client';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const children: ChildProcessWithoutNullStreams[] = [];
// The tests run concurrently (each spawn pays tsx's start-up), so leftovers are killed only at the end.
afterAll(() => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

interface Running {
  child: ChildProcessWithoutNullStreams;
  /** Everything printed so far. */
  output: () => string;
  /** Resolves with the exit code and signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(args: string[], env: Record<string, string> = {}): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', 'local/simulator/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
  });
  children.push(child);
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/** Waits until the output contains `text` (or the process exits first). */
async function waitFor(expect: ExpectStatic, running: Running, text: string): Promise<string> {
  await expect
    .poll(() => running.output().includes(text) || running.child.exitCode !== null, { timeout: 20_000, interval: 50 })
    .toBe(true);
  expect(running.output()).toContain(text);
  return running.output();
}

const match = (text: string, pattern: RegExp): string => {
  const found = pattern.exec(text)?.[1];
  if (found === undefined) throw new Error(`no ${pattern} in:\n${text}`);
  return found;
};

describe.concurrent('simulator CLI', () => {
  it('prints its URL, token and fingerprint with the pinning hints, serves, and exits 0 on SIGTERM', async ({
    expect,
  }) => {
    const sim = run(['--port', '0', '--rate', '0', '--seed', '5'], { QRMENU_TOKEN: 'cli-secret-7' });
    const banner = await waitFor(expect, sim, 'Ctrl-C stops it.');
    const url = match(banner, /URL +(https:\/\/127\.0\.0\.1:\d+)/);
    const fingerprint = match(banner, /SHA-256 +([0-9A-F:]{95})/);
    const certFile = match(banner, /written to (\S+)/);
    expect(banner).toContain(`tls: { fingerprint256: "${fingerprint}" }`);
    expect(banner).toContain(`--fingerprint ${fingerprint}`);
    expect(banner).toContain('-d \'{"code":"waiter_call","tableName":"6"}\'');
    expect(banner).toMatch(/token +cli-secret-7/);

    const target = { url, certPem: readFileSync(certFile, 'utf8') };
    expect((await send(target, '/_sim/events', { method: 'POST', body: { tableName: '6' } })).status).toBe(201);
    const reply = await poll(target, 'none', 'cli-secret-7');
    expect(reply.status).toBe(200);
    expect(reply.peerFingerprint256).toBe(fingerprint);
    await waitFor(expect, sim, 'GET hash=none → 200 ok, 1 event');
    expect(sim.output().slice(banner.length)).not.toContain('cli-secret-7');

    sim.child.kill('SIGTERM');
    expect(await sim.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(certFile)).toBe(false);
  });

  it('serves plain HTTP with --http, prints no fingerprint, and exits 0 on SIGINT', async ({ expect }) => {
    const sim = run([
      '--http',
      '--port',
      '0',
      '--rate',
      '0',
      '--quiet',
      '--unknown-hash',
      'error',
      '--error-share',
      '1',
    ]);
    await waitFor(expect, sim, 'Ctrl-C stops it.');
    const banner = await waitFor(expect, sim, 'Faults: {"serverErrorShare":1}');
    expect(banner).not.toContain('SHA-256');
    const url = match(banner, /URL +(http:\/\/127\.0\.0\.1:\d+)/);
    expect([500, 502, 503]).toContain((await poll({ url, certPem: undefined }, 'none')).status);
    sim.child.kill('SIGINT');
    expect(await sim.exited).toEqual({ code: 0, signal: null });
  });
});

describe('shell quoting in the printed examples', () => {
  it('leaves plain words alone and single-quotes the rest', () => {
    globalExpect(shellQuote('/tmp/a.crt')).toBe('/tmp/a.crt');
    globalExpect(shellQuote("token: it's")).toBe(`'token: it'\\''s'`);
  });
});

/** Parses flags in-process; returns the options, or the text commander printed and its error code. */
function parseFlags(args: string[]): { options?: CliOptions; printed: string; error?: string } {
  let printed = '';
  const program = buildProgram()
    .exitOverride()
    .configureOutput({
      writeOut: (text) => {
        printed += text;
      },
      writeErr: (text) => {
        printed += text;
      },
    });
  try {
    program.parse(args, { from: 'user' });
    return { options: program.opts<CliOptions>(), printed };
  } catch (error) {
    if (error instanceof CommanderError) return { printed, error: error.code };
    throw error;
  }
}

describe('simulator CLI flags', () => {
  it('lists every option and the control endpoints in --help', () => {
    const { printed, error } = parseFlags(['--help']);
    globalExpect(error).toBe('commander.helpDisplayed');
    for (const flag of [
      '--host',
      '--port',
      '--token',
      '--retention',
      '--hashes',
      '--unknown-hash',
      '--auth-failure',
      '--http',
      '--rate',
      '--seed',
      '--latency',
      '--error-share',
      '--html-share',
      '--truncated-share',
      '--reset-share',
      '--duplicate-share',
      '--result-false-share',
      'QRMENU_TOKEN',
      'POST /_sim/events',
      'POST /_sim/restart',
      'POST /_sim/retention',
      'POST /_sim/hashes',
    ]) {
      globalExpect(printed).toContain(flag);
    }
  });

  it('defaults to port 8443, token demo-token, HTTPS, 6 events a minute and no faults', () => {
    const { options } = parseFlags([]);
    globalExpect(simulatorOptions(options!)).toEqual({
      host: '127.0.0.1',
      port: 8443,
      token: process.env.QRMENU_TOKEN ?? 'demo-token',
      retentionSeconds: 300,
      hashes: 'random',
      unknownHash: 'all',
      authFailure: '401',
      tls: true,
      traffic: { eventsPerMinute: 6 },
    });
    globalExpect(faultSettings(options!)).toEqual({});
  });

  it('maps every fault flag to its setting, and --rate 0 to no traffic', () => {
    const { options } = parseFlags([
      '--rate',
      '0',
      '--http',
      '--seed',
      '9',
      '--latency',
      '250',
      '--error-share',
      '0.1',
      '--html-share',
      '0.2',
      '--truncated-share',
      '0.3',
      '--reset-share',
      '0.05',
      '--duplicate-share',
      '0.5',
      '--result-false-share',
      '1',
    ]);
    globalExpect(simulatorOptions(options!)).toMatchObject({ tls: false, seed: 9 });
    globalExpect(simulatorOptions(options!)).not.toHaveProperty('traffic');
    globalExpect(faultSettings(options!)).toEqual({
      latencyMs: 250,
      serverErrorShare: 0.1,
      htmlShare: 0.2,
      truncatedShare: 0.3,
      resetShare: 0.05,
      duplicateShare: 0.5,
      resultFalseShare: 1,
    });
  });

  it('refuses a share above 1 and a mode it does not know', () => {
    globalExpect(parseFlags(['--error-share', '2'])).toMatchObject({
      error: 'commander.invalidArgument',
      printed: globalExpect.stringContaining('--error-share'),
    });
    globalExpect(parseFlags(['--unknown-hash', 'sometimes']).error).toBe('commander.invalidArgument');
    globalExpect(parseFlags(['--port', 'x']).error).toBe('commander.invalidArgument');
  });
});
