/**
 * Counter hashes (`hashes: 'counter'`): a server that numbers its events 0x00000001, 0x00000002, …
 * in memory, so that a restart loses the queue and starts the counter again from 1 — the same hash
 * then names a different event. Also a retention changed at run time (`setRetention`, as an
 * operator who set the server's queue to 60 s while the poller's config says 300 s), through the
 * method, the `/_sim/` control endpoints and the CLI flags.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, HASH_PATTERN, type Simulator, type SimulatorOptions } from '../../local/simulator';
import { buildProgram, simulatorOptions, type CliOptions } from '../../local/simulator/cli-options';
import { manualClock, poll, send, updateHashes } from './client';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await createSimulator({ seed: 11, tls: false, ...options });
  return sim;
}
const json = <T>(body: string): T => JSON.parse(body) as T;

describe('counter hashes', () => {
  it('numbers events 0x00000001, 0x00000002, … in the documented hash shape', async () => {
    const s = await start({ hashes: 'counter' });
    const hashes = s.injectMany(3).map((event) => event.hash);
    expect(hashes).toEqual(['0x00000001', '0x00000002', '0x00000003']);
    for (const hash of hashes) expect(hash).toMatch(HASH_PATTERN);
    expect(updateHashes(await poll(s, '0x00000001'))).toEqual(['0x00000002', '0x00000003']);
  });

  it('loses the queue at a restart and reuses 0x00000001 for a different event', async () => {
    const s = await start({ hashes: 'counter' });
    const before = s.inject({ code: 'waiter_call', tableName: '6' });
    s.inject();
    s.restart();
    expect(s.queue()).toEqual([]);
    const after = s.inject({ code: 'bill_request', tableName: '9' });
    expect(after.hash).toBe(before.hash);
    expect(after.hash).toBe('0x00000001');
    const reply = json<{ data: { updates: { hash: string; code: string; table_repr: { name: string } }[] } }>(
      (await poll(s, 'none')).body,
    );
    expect(reply.data.updates).toEqual([
      expect.objectContaining({
        hash: '0x00000001',
        code: 'bill_request',
        table_repr: expect.objectContaining({ name: '9' }),
      }),
    ]);
  });

  it('a cursor from before the restart now names the newer event: the answer is "what came after it"', async () => {
    const s = await start({ hashes: 'counter' });
    s.injectMany(2); // 0x00000001, 0x00000002: the poller's cursor is 0x00000002
    s.restart();
    s.injectMany(3); // 0x00000001 … 0x00000003 again
    expect(updateHashes(await poll(s, '0x00000002'))).toEqual(['0x00000003']);
  });

  it('keeps counting and keeps the queue with keepQueue (the process kept its memory)', async () => {
    const s = await start({ hashes: 'counter' });
    s.injectMany(2);
    s.restart({ keepQueue: true });
    expect(s.inject().hash).toBe('0x00000003');
    expect(s.queue().map((event) => event.hash)).toEqual(['0x00000001', '0x00000002', '0x00000003']);
  });

  it('skips a hash a test injected itself while it is still queued', async () => {
    const s = await start({ hashes: 'counter' });
    s.inject({ hash: '0x00000002' });
    expect(s.injectMany(2).map((event) => event.hash)).toEqual(['0x00000001', '0x00000003']);
  });

  it('goes on counting when events expire: only a restart starts the counter again', async () => {
    const clock = manualClock();
    const s = await start({ hashes: 'counter', now: clock.now, retentionSeconds: 60 });
    s.inject();
    clock.advance(61_000);
    expect(s.queue()).toEqual([]);
    expect(s.inject().hash).toBe('0x00000002'); // the counter goes on: only a restart starts it again
  });

  it("keeps random hashes unique across restarts by default ('random')", async () => {
    const s = await start();
    const before = s.injectMany(20).map((event) => event.hash);
    s.restart();
    const after = s.injectMany(20).map((event) => event.hash);
    expect(new Set([...before, ...after]).size).toBe(40);
    expect(s.settings().hashes).toBe('random');
  });

  it('switches style at run time with setHashStyle and POST /_sim/hashes', async () => {
    const s = await start();
    s.inject();
    const reply = await send(s, '/_sim/hashes', { method: 'POST', body: { style: 'counter' } });
    expect(reply.status).toBe(200);
    expect(json<{ hashes: string }>(reply.body).hashes).toBe('counter');
    expect(s.inject().hash).toBe('0x00000001');
    s.setHashStyle('random');
    expect(s.inject().hash).not.toMatch(/^0x0000000/);
    expect((await send(s, '/_sim/hashes', { method: 'POST', body: { style: 'sequential' } })).status).toBe(400);
    expect(() => s.setHashStyle('sequential' as 'counter')).toThrow(/random or counter/);
  });

  it('refuses an unknown style at creation', async () => {
    await expect(createSimulator({ hashes: 'sequential' as 'counter' })).rejects.toThrow(/hashes/);
  });
});

describe('retention changed at run time', () => {
  it('drops events older than a shortened retention at once, and keeps new ones that long', async () => {
    const clock = manualClock();
    const s = await start({ now: clock.now });
    const old = s.inject();
    clock.advance(90_000);
    const fresh = s.inject();
    s.setRetention(60);
    expect(s.queue().map((event) => event.hash)).toEqual([fresh.hash]);
    expect(updateHashes(await poll(s, 'none'))).toEqual([fresh.hash]);
    clock.advance(60_001);
    expect(s.queue()).toEqual([]);
    expect(s.settings().retentionSeconds).toBe(60);
    expect(old.hash).not.toBe(fresh.hash);
  });

  it('sets it with POST /_sim/retention and shows it at GET /_sim/settings', async () => {
    const s = await start({ retentionSeconds: 300 });
    expect(json((await send(s, '/_sim/settings')).body)).toEqual({
      retentionSeconds: 300,
      hashes: 'random',
      unknownHash: 'all',
    });
    const reply = await send(s, '/_sim/retention', { method: 'POST', body: { seconds: 60 } });
    expect(reply.status).toBe(200);
    expect(json<{ retentionSeconds: number }>(reply.body).retentionSeconds).toBe(60);
    expect((await send(s, '/_sim/retention', { method: 'POST', body: { seconds: 0 } })).status).toBe(400);
    expect((await send(s, '/_sim/retention', { method: 'POST', body: { secs: 60 } })).status).toBe(400);
    expect(() => s.setRetention(-1)).toThrow(/seconds > 0/);
    expect(s.settings().retentionSeconds).toBe(60);
  });
});

describe('CLI flag --hashes', () => {
  const parse = (args: string[]): CliOptions =>
    buildProgram()
      .exitOverride()
      .configureOutput({ writeErr: () => {} })
      .parse(args, { from: 'user' })
      .opts<CliOptions>();

  it("defaults to 'random' and maps --hashes counter to the option", () => {
    expect(simulatorOptions(parse([])).hashes).toBe('random');
    expect(simulatorOptions(parse(['--hashes', 'counter'])).hashes).toBe('counter');
  });

  it('refuses a style it does not know', () => {
    expect(() => parse(['--hashes', 'sequential'])).toThrow(/sequential/);
  });
});
