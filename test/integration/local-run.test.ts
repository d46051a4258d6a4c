/**
 * `npm start -- --json` end to end, as a separate process: the simulator, DynamoDB Local, the SES
 * and SNS emulators and the unchanged Lambda handler. Injected events must come out exactly once
 * per route (e-mail lines and SMS lines on the right stand-in phones); a wrong token must give an
 * `error` line of kind auth without the token; SIGTERM, and Ctrl-C to the whole process group,
 * must leave no child process behind.
 */
import { spawn, execFileSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { request } from 'node:https';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, it } from 'vitest';
import { createSimulator } from '../../local/simulator';

interface Line {
  type: string;
  [key: string]: unknown;
}

class Run {
  readonly lines: Line[] = [];
  readonly raw: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: { match: (l: Line) => boolean; resolve: (l: Line) => void }[] = [];

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    createInterface({ input: child.stdout }).on('line', (text) => {
      this.raw.push(text);
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        return;
      }
      this.lines.push(line);
      this.#waiters = this.#waiters.filter((w) => {
        if (!w.match(line)) return true;
        w.resolve(line);
        return false;
      });
    });
    child.stderr.on('data', (chunk: Buffer) => this.raw.push(chunk.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** `group`: in a process group of its own, so that a test can press Ctrl-C (signal the whole group). */
  static start(args: string[], options: { group?: boolean } = {}): Run {
    // node itself (not npx) so that a signal to the process reaches the runner
    return new Run(
      spawn(process.execPath, ['--import', 'tsx', 'local/start.ts', '--json', ...args], {
        env: { ...process.env },
        detached: options.group ?? false,
      }),
    );
  }

  next(match: (l: Line) => boolean, timeoutMs = 60_000): Promise<Line> {
    const found = this.lines.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no matching line within ${timeoutMs} ms; got:\n${this.raw.join('\n')}`)),
        timeoutMs,
      );
      this.#waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
    });
  }
}

function descendants(pid: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=']).toString();
  const children = new Map<number, number[]>();
  for (const row of out.trim().split('\n')) {
    const [child, parent] = row.trim().split(/\s+/).map(Number) as [number, number];
    children.set(parent, [...(children.get(parent) ?? []), child]);
  }
  const all: number[] = [];
  const walk = (p: number): void => {
    for (const c of children.get(p) ?? []) {
      all.push(c);
      walk(c);
    }
  };
  walk(pid);
  return all;
}

function commandOf(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'cmd=', '-p', String(pid)])
      .toString()
      .trim();
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function inject(sim: { url: string; certPem: string }, event: object): Promise<{ hash: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${sim.url}/_sim/events`,
      { method: 'POST', ca: sim.certPem, headers: { 'content-type': 'application/json' } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve(JSON.parse(body) as { hash: string }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(event));
  });
}

const runs: Run[] = [];
afterAll(() => {
  for (const run of runs) if (run.child.exitCode === null) run.child.kill('SIGKILL');
});

describe('npm start --json', () => {
  it('delivers each injected event once per route, and SIGTERM stops every process it started', async () => {
    const run = Run.start(['--rate', '0']);
    runs.push(run);
    const ready = await run.next((l) => l.type === 'ready', 90_000);
    const sim = (ready.sources as { url: string; certPem: string }[])[0]!;
    // the run's own first waiter call (table 6) shows the pipeline is live
    await run.next((l) => l.type === 'sms' && String(l.text).includes('Стол 6'));
    // The hall's Telegram group gets it with the button, and the simulated waiter presses it.
    const inGroup = await run.next((l) => l.type === 'delivered' && l.channel === 'telegram' && l.table === '6');
    const ack = await run.next((l) => l.type === 'acknowledged' && l.hash === inGroup.hash, 30_000);
    expect(ack.responseMs).toBeGreaterThan(1_000);

    const hall = await inject(sim, { code: 'waiter_call', tableName: '3' });
    const terrace = await inject(sim, { code: 'waiter_call', tableName: '22' });
    const bill = await inject(sim, { code: 'bill_request', tableName: 'VIP' });
    const unknown = await inject(sim, { code: 'table_cleaning', tableName: '12' });
    const expected = [
      { event: hall, emails: ['log@pizzeria.example'], phones: ['+79160000001'] },
      { event: terrace, emails: ['log@pizzeria.example'], phones: ['+79160000002'] },
      {
        event: bill,
        emails: ['manager@pizzeria.example', 'log@pizzeria.example'],
        phones: ['+79160000003', '+79160000004'],
      },
      { event: unknown, emails: ['log@pizzeria.example'], phones: [] },
    ];
    for (const { event, phones } of expected) {
      await run.next((l) => l.type === 'delivered' && l.hash === event.hash && l.channel === 'sns');
      for (const phone of phones) await run.next((l) => l.type === 'sms' && l.hash === event.hash && l.phone === phone);
    }
    await run.next((l) => l.type === 'delivered' && l.channel === 'email' && l.hash === unknown.hash);
    // one more poll interval, so that any duplicate would have shown up
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    for (const { event, emails, phones } of expected) {
      const mails = run.lines.filter((l) => l.type === 'delivered' && l.hash === event.hash && l.channel === 'email');
      expect(mails).toHaveLength(1);
      expect([...(mails[0]!.recipients as string[])].sort()).toEqual([...emails].sort());
      expect(
        run.lines.filter((l) => l.type === 'delivered' && l.hash === event.hash && l.channel === 'sns'),
      ).toHaveLength(1);
      const sms = run.lines.filter((l) => l.type === 'sms' && l.hash === event.hash).map((l) => l.phone);
      expect(sms.sort()).toEqual([...phones].sort());
    }

    const family = descendants(run.child.pid!);
    expect(family.length).toBeGreaterThan(0);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    // The runner waits for what it stopped; allow the kernel a moment to reap.
    for (let i = 0; i < 50 && family.some(alive); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(family.filter(alive).map((pid) => ({ pid, cmd: commandOf(pid) }))).toEqual([]);
  }, 150_000);

  it('Ctrl-C (SIGINT to the whole process group) stops every process it started and exits 0', async () => {
    const run = Run.start(['--rate', '0'], { group: true });
    runs.push(run);
    await run.next((l) => l.type === 'ready', 90_000);
    const family = descendants(run.child.pid!);
    expect(family.length).toBeGreaterThan(0);
    process.kill(-run.child.pid!, 'SIGINT');
    expect(await run.exited).toBe(0);
    for (let i = 0; i < 50 && family.some(alive); i += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(family.filter(alive).map((pid) => ({ pid, cmd: commandOf(pid) }))).toEqual([]);
  }, 120_000);

  it('--url with a wrong token: an error line of kind auth, without the token, and a non-zero exit with --once', async () => {
    const server = await createSimulator({ token: 'the-real-token', seed: 5 });
    try {
      const run = Run.start([
        '--once',
        '--url',
        server.url,
        '--fingerprint',
        server.fingerprint256!,
        '--token',
        'wrong-token-31337',
      ]);
      runs.push(run);
      const error = await run.next((l) => l.type === 'error', 90_000);
      expect(error.kind).toBe('auth');
      expect(await run.exited).not.toBe(0);
      expect(run.raw.join('\n')).not.toContain('wrong-token-31337');
    } finally {
      await server.close();
    }
  }, 120_000);
});
