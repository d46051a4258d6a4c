/**
 * Faults on the events endpoint: each one-shot fault (scripted with failNext, FIFO, one per
 * request), each probabilistic share at 1.0, a share below 1 reproduced by the seed, latency,
 * and how faults combine with auth. Plain HTTP except where TLS changes the picture.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSimulator,
  GIANT_PADDING_BYTES,
  InvalidFaultError,
  type Faults,
  type Simulator,
  type SimulatorOptions,
} from '../../local/simulator';
import { poll, send, updateHashes } from './client';

let sims: Simulator[] = [];
afterEach(async () => {
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ seed: 4, tls: false, ...options });
  sims.push(sim);
  return sim;
}
/** A simulator with events a, b, c, d queued. */
async function withFourEvents(options: SimulatorOptions = {}): Promise<{ s: Simulator; hashes: string[] }> {
  const s = await start(options);
  return { s, hashes: s.injectMany(4).map((event) => event.hash) };
}
const parses = (body: string): boolean => {
  try {
    JSON.parse(body);
    return true;
  } catch {
    return false;
  }
};

describe('one-shot faults', () => {
  it('answers server-error with HTTP 500, 502 or 503', async () => {
    const { s } = await withFourEvents();
    s.failNext('server-error', 'server-error', 'server-error');
    for (let i = 0; i < 3; i++) expect([500, 502, 503]).toContain((await poll(s, 'none')).status);
    expect(s.served.map((r) => r.kind)).toEqual(['fault:server-error', 'fault:server-error', 'fault:server-error']);
  });

  it('answers html with an nginx-style HTML page, HTTP 200 or 502', async () => {
    const { s } = await withFourEvents();
    s.failNext('html');
    const reply = await poll(s, 'none');
    expect([200, 502]).toContain(reply.status);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    expect(reply.body).toMatch(/<hr><center>nginx/);
  });

  it('answers truncated with HTTP 200 and the JSON cut in the middle', async () => {
    const { s } = await withFourEvents();
    const whole = (await poll(s, 'none')).body;
    s.failNext('truncated');
    const reply = await poll(s, 'none');
    expect(reply.status).toBe(200);
    expect(whole.startsWith(reply.body)).toBe(true);
    expect(reply.body.length).toBeLessThan(whole.length);
    expect(parses(reply.body)).toBe(false);
    expect(s.served.at(-1)).toMatchObject({ kind: 'fault:truncated', eventHashes: [] });
  });

  it('answers reset by destroying the connection without an answer', async () => {
    const { s } = await withFourEvents();
    s.failNext('reset');
    await expect(poll(s, 'none')).rejects.toThrow(/ECONNRESET|socket hang up/);
    expect(s.served.at(-1)).toMatchObject({ kind: 'fault:reset', status: null });
    expect((await poll(s, 'none')).status).toBe(200);
  });

  it('answers reset over HTTPS by dropping the connection too', async () => {
    const s = await start({ tls: true });
    s.failNext('reset');
    await expect(poll(s, 'none')).rejects.toThrow(/ECONNRESET|socket hang up/);
  });

  it('never answers hang, so that the client times out', async () => {
    const { s } = await withFourEvents();
    s.failNext('hang');
    await expect(send(s, '/api/v4/events?hash=none', { token: 'demo-token', timeoutMs: 150 })).rejects.toThrow(
      'client timeout',
    );
    expect(s.served.at(-1)).toMatchObject({ kind: 'fault:hang', status: null });
  });

  it('closes promptly while a request hangs, cutting it', async () => {
    const { s } = await withFourEvents();
    s.failNext('hang');
    const hanging = poll(s, 'none');
    await expect.poll(() => s.served.length).toBe(1);
    const started = performance.now();
    await s.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    await expect(hanging).rejects.toThrow();
  });

  it('answers result-false with HTTP 200 result:false and a message that is not about auth', async () => {
    const { s } = await withFourEvents();
    s.failNext('result-false');
    const reply = await poll(s, 'none');
    expect(reply.status).toBe(200);
    const body = JSON.parse(reply.body) as { result: boolean; message: string };
    expect(body.result).toBe(false);
    expect(body.message).not.toMatch(/token/i);
  });

  it('answers giant with a valid answer of more than 5 MiB carrying the right updates', async () => {
    const { s, hashes } = await withFourEvents();
    s.failNext('giant');
    const reply = await poll(s, hashes[1]!);
    expect(reply.status).toBe(200);
    expect(Buffer.byteLength(reply.body)).toBeGreaterThan(GIANT_PADDING_BYTES);
    expect(updateHashes(reply)).toEqual(hashes.slice(2));
    expect(s.served.at(-1)).toMatchObject({ kind: 'fault:giant', eventHashes: hashes.slice(2) });
  });

  it('answers not-json with HTTP 200 labelled JSON that does not parse', async () => {
    const { s } = await withFourEvents();
    s.failNext('not-json');
    const reply = await poll(s, 'none');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(parses(reply.body)).toBe(false);
  });

  it('answers empty-body with HTTP 200 and no body', async () => {
    const { s } = await withFourEvents();
    s.failNext('empty-body');
    const reply = await poll(s, 'none');
    expect(reply.status).toBe(200);
    expect(reply.body).toBe('');
  });

  it("answers duplicate on a cursor with the cursor's own event and the one before it, then the new ones", async () => {
    const { s, hashes } = await withFourEvents();
    const [a, b, c, d] = hashes;
    s.failNext('duplicate');
    expect(updateHashes(await poll(s, b!))).toEqual([a, b, c, d]);
    expect(s.served.at(-1)).toMatchObject({ kind: 'fault:duplicate', eventHashes: [a, b, c, d] });
  });

  it('answers duplicate on the newest cursor with events the client already has', async () => {
    const { s, hashes } = await withFourEvents();
    s.failNext('duplicate');
    expect(updateHashes(await poll(s, hashes[3]!))).toEqual(hashes.slice(2));
  });

  it('answers duplicate on hash=none with the newest event twice', async () => {
    const { s, hashes } = await withFourEvents();
    s.failNext('duplicate');
    expect(updateHashes(await poll(s, 'none'))).toEqual([...hashes, hashes[3]]);
  });

  it('answers a custom fault with exactly its status, body and content type', async () => {
    const { s } = await withFourEvents();
    s.failNext({ status: 429, body: '{"error":"slow down"}', contentType: 'application/json' });
    const reply = await poll(s, 'none');
    expect(reply.status).toBe(429);
    expect(reply.body).toBe('{"error":"slow down"}');
    expect(reply.headers['content-type']).toBe('application/json');
    expect(s.served.at(-1)).toMatchObject({ kind: 'fault:custom', status: 429 });
  });

  it('applies one-shot faults in order, one per request, then answers normally', async () => {
    const { s } = await withFourEvents();
    s.failNext('server-error', 'html');
    s.failNext('empty-body');
    for (let i = 0; i < 4; i++) await poll(s, 'none');
    expect(s.served.map((r) => r.kind)).toEqual(['fault:server-error', 'fault:html', 'fault:empty-body', 'ok']);
  });

  it('answers a server fault before looking at the token', async () => {
    const { s } = await withFourEvents();
    s.failNext('server-error');
    expect([500, 502, 503]).toContain((await poll(s, 'none', 'wrong')).status);
  });

  it('leaves an error answer as it is under giant or duplicate', async () => {
    const { s } = await withFourEvents();
    s.failNext('giant', 'duplicate');
    expect((await poll(s, 'none', 'wrong')).status).toBe(401);
    expect((await poll(s, 'none', 'wrong')).status).toBe(401);
    expect(s.served.map((r) => r.kind)).toEqual(['auth', 'auth']);
  });

  it('refuses a fault it does not know', async () => {
    const s = await start();
    expect(() => s.failNext('explode' as never)).toThrow(InvalidFaultError);
    expect(() => s.failNext({ status: 99, body: '' })).toThrow(InvalidFaultError);
  });
});

describe('probabilistic faults', () => {
  const everyRequest: [keyof Faults, string][] = [
    ['serverErrorShare', 'fault:server-error'],
    ['htmlShare', 'fault:html'],
    ['truncatedShare', 'fault:truncated'],
    ['resetShare', 'fault:reset'],
    ['duplicateShare', 'fault:duplicate'],
    ['resultFalseShare', 'fault:result-false'],
  ];
  it.each(everyRequest)('applies %s = 1 to every request', async (share, kind) => {
    const { s } = await withFourEvents();
    s.setFaults({ [share]: 1 });
    for (let i = 0; i < 3; i++) await poll(s, 'none').catch(() => undefined);
    expect(s.served.map((r) => r.kind)).toEqual([kind, kind, kind]);
  });

  it('takes a one-shot fault before rolling the shares', async () => {
    const { s } = await withFourEvents();
    s.setFaults({ serverErrorShare: 1 });
    s.failNext('html');
    await poll(s, 'none');
    await poll(s, 'none');
    expect(s.served.map((r) => r.kind)).toEqual(['fault:html', 'fault:server-error']);
  });

  it('repeats the same fault pattern for the same seed', async () => {
    const kinds = async (): Promise<string[]> => {
      const s = await start({ seed: 99 });
      s.injectMany(2);
      s.setFaults({ serverErrorShare: 0.3, resultFalseShare: 0.3 });
      for (let i = 0; i < 30; i++) await poll(s, 'none');
      return s.served.map((r) => r.kind);
    };
    const first = await kinds();
    expect(await kinds()).toEqual(first);
    expect(new Set(first)).toEqual(new Set(['ok', 'fault:server-error', 'fault:result-false']));
  });

  it('merges settings and switches a share off again', async () => {
    const { s } = await withFourEvents();
    s.setFaults({ serverErrorShare: 1 });
    s.setFaults({ latencyMs: 0 });
    await poll(s, 'none');
    s.setFaults({ serverErrorShare: 0 });
    await poll(s, 'none');
    expect(s.served.map((r) => r.kind)).toEqual(['fault:server-error', 'ok']);
  });

  it('refuses a share outside 0..1 and a negative latency', async () => {
    const s = await start();
    expect(() => s.setFaults({ htmlShare: 1.5 })).toThrow(InvalidFaultError);
    expect(() => s.setFaults({ latencyMs: -1 })).toThrow(InvalidFaultError);
  });
});

describe('latency', () => {
  it('delays every events answer by latencyMs', async () => {
    const { s } = await withFourEvents();
    s.setFaults({ latencyMs: 60 });
    const started = performance.now();
    const reply = await poll(s, 'none');
    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(reply.status).toBe(200);
  });
});
