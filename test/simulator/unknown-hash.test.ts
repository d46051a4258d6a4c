/**
 * A hash the server no longer has (expired, forgotten by a restart, never existed) — the three
 * plausible answers: every queued event (`all`), nothing forever (`empty`), an error (`error`:
 * HTTP 400 `{"result": false, "message": "Event <hash> not found"}`).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../local/simulator';
import { manualClock, poll, updateHashes } from './client';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await createSimulator({ seed: 2, tls: false, ...options });
  return sim;
}

describe('unknown hash', () => {
  it("answers a never-seen hash with every queued event in mode 'all' (the default)", async () => {
    const s = await start();
    const hashes = s.injectMany(3).map((event) => event.hash);
    const reply = await poll(s, '0x00000000');
    expect(reply.status).toBe(200);
    expect(updateHashes(reply)).toEqual(hashes);
    expect(s.served.at(-1)).toMatchObject({ kind: 'unknown-hash:all', status: 200, eventHashes: hashes });
  });

  it("answers an expired hash with updates: [] in mode 'empty', and keeps doing so as new events arrive", async () => {
    const clock = manualClock();
    const s = await start({ now: clock.now, retentionSeconds: 60, unknownHash: 'empty' });
    const old = s.inject();
    clock.advance(61_000);
    s.injectMany(2);
    expect(JSON.parse((await poll(s, old.hash)).body)).toEqual({ result: true, data: { updates: [] } });
    s.injectMany(2);
    expect(updateHashes(await poll(s, old.hash))).toEqual([]);
    expect(updateHashes(await poll(s, 'none'))).toHaveLength(4);
    expect(s.served[0]).toMatchObject({ kind: 'unknown-hash:empty', status: 200, eventHashes: [] });
  });

  it("answers an unknown hash with HTTP 400 result:false in mode 'error'", async () => {
    const s = await start({ unknownHash: 'error' });
    s.injectMany(2);
    const reply = await poll(s, '0xdeadbeef');
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toEqual({ result: false, message: 'Event 0xdeadbeef not found' });
    expect(s.served.at(-1)).toMatchObject({ kind: 'unknown-hash:error', status: 400, eventHashes: [] });
  });

  it('switches mode at run time', async () => {
    const s = await start();
    s.inject();
    s.setUnknownHashMode('error');
    expect((await poll(s, '0x12345678')).status).toBe(400);
    s.setUnknownHashMode('empty');
    expect(updateHashes(await poll(s, '0x12345678'))).toEqual([]);
    s.setUnknownHashMode('all');
    expect(updateHashes(await poll(s, '0x12345678'))).toHaveLength(1);
  });

  it('treats a hash forgotten by a restart as unknown, and never hands it out again', async () => {
    const s = await start({ unknownHash: 'empty' });
    const before = s.injectMany(3).map((event) => event.hash);
    s.restart();
    const after = s.injectMany(200).map((event) => event.hash);
    expect(after.filter((hash) => before.includes(hash))).toEqual([]);
    expect(updateHashes(await poll(s, before[2]!))).toEqual([]);
  });
});
