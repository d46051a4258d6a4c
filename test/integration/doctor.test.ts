/**
 * `npm run doctor` against the simulator: exit codes (0 ok, 2 token, 3 unreachable/TLS,
 * 4 bad response), the pinning hint, and never the token in what it prints.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { EXIT, runDoctor } from '../../local/doctor';
import { freePort } from '../../local/emulators';

const TOKEN = 'doctor-secret-5521';
let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, seed: 11 });
});
afterAll(async () => {
  await sim.close();
});

async function doctor(options: {
  token?: string;
  fingerprint?: string;
  url?: string;
}): Promise<{ code: number; out: string }> {
  const lines: string[] = [];
  const code = await runDoctor({
    url: options.url ?? sim.url,
    timeoutMs: 2_000,
    print: (line) => lines.push(line),
    ...options,
  });
  return { code, out: lines.join('\n') };
}

describe('doctor', () => {
  it('exits 0 and reports the queued events by code when all is well', async () => {
    sim.restart();
    sim.inject({ code: 'waiter_call' });
    sim.inject({ code: 'waiter_call' });
    sim.inject({ code: 'bill_request' });
    const { code, out } = await doctor({ token: TOKEN, fingerprint: sim.fingerprint256! });
    expect(code).toBe(EXIT.ok);
    expect(out).toContain('token           accepted');
    expect(out).toContain('queued events   3 (waiter_call ×2, bill_request ×1)');
  });

  it('exits 2 on a wrong token and never prints it', async () => {
    const { code, out } = await doctor({ token: 'wrong-token-9876', fingerprint: sim.fingerprint256! });
    expect(code).toBe(EXIT.auth);
    expect(out).toContain('token           rejected');
    expect(out).not.toContain('wrong-token-9876');
  });

  it('exits 2 when no token is given', async () => {
    const { code } = await doctor({ fingerprint: sim.fingerprint256! });
    expect(code).toBe(EXIT.auth);
  });

  it('does not send the token to an unpinned self-signed server; it prints the line to pin it and exits 3', async () => {
    const before = sim.served.length;
    const { code, out } = await doctor({ token: TOKEN });
    expect(code).toBe(EXIT.unreachable);
    expect(out).toContain(`tls: { fingerprint256: "${sim.fingerprint256}" }`);
    expect(sim.served.length).toBe(before);
  });

  it('exits 3 when nothing listens', async () => {
    const { code } = await doctor({ token: TOKEN, url: `https://127.0.0.1:${await freePort()}` });
    expect(code).toBe(EXIT.unreachable);
  });

  it('exits 4 on an answer that is not the events API', async () => {
    sim.failNext('not-json');
    const { code } = await doctor({ token: TOKEN, fingerprint: sim.fingerprint256! });
    expect(code).toBe(EXIT.badResponse);
  });

  it('as a command, takes the token from QRMENU_TOKEN and keeps it out of its output', async () => {
    const run = promisify(execFile);
    const args = ['tsx', 'local/doctor.ts', '--url', sim.url, '--fingerprint', sim.fingerprint256!];
    const ok = await run('npx', args, { env: { ...process.env, QRMENU_TOKEN: TOKEN } });
    expect(ok.stdout).toContain('OK: this server can be polled');
    const failed = await run('npx', args, { env: { ...process.env, QRMENU_TOKEN: 'wrong-token-4321' } }).catch(
      (e: { code: number; stdout: string; stderr: string }) => e,
    );
    expect('code' in failed ? failed.code : 0).toBe(EXIT.auth);
    expect(failed.stdout + failed.stderr).not.toContain('wrong-token-4321');
  });
});

describe('doctor --watch', () => {
  it('measures a 60-s queue by watching events leave it, and says what to set', async () => {
    const clock = { t: Date.UTC(2020, 0, 6, 18, 0, 0) };
    const short = await createSimulator({ token: TOKEN, seed: 12, retentionSeconds: 60, now: () => clock.t });
    try {
      short.inject({ code: 'waiter_call' });
      let tick = 0;
      const lines: string[] = [];
      const code = await runDoctor({
        url: short.url,
        token: TOKEN,
        fingerprint: short.fingerprint256!,
        timeoutMs: 2_000,
        watchSeconds: 180,
        now: () => clock.t,
        sleep: async (ms) => {
          clock.t += ms;
          tick += 1;
          if (tick % 3 === 0) short.inject({ code: 'waiter_call' }); // a call every 30 s
        },
        print: (line) => lines.push(line),
      });
      const out = lines.join('\n');
      expect(code).toBe(EXIT.ok);
      expect(out).toMatch(/retention\s+events stay queued at least (5\d|60) s and are gone within (6\d|7\d|80) s/);
      expect(out).toMatch(/set polling.retentionSeconds to (5\d|60)$/m);
    } finally {
      await short.close();
    }
  });

  it('without --watch says that one answer cannot tell', async () => {
    sim.restart();
    const { out } = await doctor({ token: TOKEN, fingerprint: sim.fingerprint256! });
    expect(out).toMatch(/retention\s+one answer cannot tell how long events stay: run with --watch/);
  });
});
