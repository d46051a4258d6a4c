/**
 * The `/_sim/` control endpoints, over real HTTPS as a curl user would call them (no token), and
 * `restart()` — what a restarted server forgets and what it keeps.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  createSimulator,
  type ServedRecord,
  type SimEvent,
  type Simulator,
  type SimulatorOptions,
} from '../../local/simulator';
import { poll, send, updateHashes } from './client';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await createSimulator({ seed: 5, ...options });
  return sim;
}
const json = <T>(body: string): T => JSON.parse(body) as T;

describe('control endpoints', () => {
  it('lists the control endpoints at GET /_sim/', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/');
    expect(reply.status).toBe(200);
    expect(reply.body).toContain('POST /_sim/fail-next');
  });

  it('injects a waiter call for table 6 with POST /_sim/events and serves it', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/events', { method: 'POST', body: { code: 'waiter_call', tableName: '6' } });
    expect(reply.status).toBe(201);
    const event = json<SimEvent & { raw: false }>(reply.body);
    expect(event.wire).toMatchObject({ code: 'waiter_call', table: 1000006, table_repr: { id: 1000006, name: '6' } });
    expect(updateHashes(await poll(s, 'none'))).toEqual([event.hash]);
  });

  it('injects N events from a template with {"count": N}', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/events', { method: 'POST', body: { count: 3, code: 'bill_request' } });
    expect(reply.status).toBe(201);
    const events = json<{ wire: { code: string } }[]>(reply.body);
    expect(events.map((event) => event.wire.code)).toEqual(['bill_request', 'bill_request', 'bill_request']);
    expect(s.queue()).toHaveLength(3);
  });

  it('queues a malformed event as-is with ?raw=1', async () => {
    const s = await start();
    const malformed = { code: 'waiter_call', table_repr: 'not an object', extra: [1, 2] };
    const reply = await send(s, '/_sim/events?raw=1', { method: 'POST', body: malformed });
    expect(reply.status).toBe(201);
    expect(json<{ data: { updates: unknown[] } }>((await poll(s, 'none')).body).data.updates).toEqual([malformed]);
  });

  it('refuses an event with an unknown field with HTTP 400 naming it', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/events', { method: 'POST', body: { tablename: '6' } });
    expect(reply.status).toBe(400);
    expect(json<{ error: string; kind: string }>(reply.body)).toMatchObject({
      kind: 'InvalidEventInputError',
      error: expect.stringContaining('tablename'),
    });
  });

  it('refuses a body that is not JSON with HTTP 400', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/faults', { method: 'POST', body: '{"htmlShare": ' });
    expect(reply.status).toBe(400);
  });

  it('shows the queue at GET /_sim/queue and the served log at GET /_sim/served', async () => {
    const s = await start();
    const [a, b] = s.injectMany(2).map((event) => event.hash);
    await poll(s, a!);
    expect(json<SimEvent[]>((await send(s, '/_sim/queue')).body).map((event) => event.hash)).toEqual([a, b]);
    expect(json<ServedRecord[]>((await send(s, '/_sim/served')).body)).toEqual([
      expect.objectContaining({ hashParam: a, kind: 'ok', eventHashes: [b] }),
    ]);
  });

  it('sets faults with POST /_sim/faults and one-shot faults with POST /_sim/fail-next', async () => {
    const s = await start();
    s.inject();
    const set = await send(s, '/_sim/faults', { method: 'POST', body: { resultFalseShare: 1 } });
    expect(json<{ faults: { resultFalseShare: number } }>(set.body).faults.resultFalseShare).toBe(1);
    const queued = await send(s, '/_sim/fail-next', {
      method: 'POST',
      body: ['server-error', { status: 418, body: 'teapot' }],
    });
    expect(json<{ pending: unknown[] }>(queued.body).pending).toEqual([
      'server-error',
      { status: 418, body: 'teapot' },
    ]);
    for (let i = 0; i < 3; i++) await poll(s, 'none');
    expect(s.served.map((r) => r.kind)).toEqual(['fault:server-error', 'fault:custom', 'fault:result-false']);
    expect((await send(s, '/_sim/fail-next', { method: 'POST', body: ['explode'] })).status).toBe(400);
  });

  it('switches the unknown-hash mode with POST /_sim/unknown-hash', async () => {
    const s = await start();
    s.inject();
    expect((await send(s, '/_sim/unknown-hash', { method: 'POST', body: { mode: 'error' } })).status).toBe(200);
    expect((await poll(s, '0x0badcafe')).status).toBe(400);
    expect((await send(s, '/_sim/unknown-hash', { method: 'POST', body: { mode: 'sometimes' } })).status).toBe(400);
  });

  it('changes the token with POST /_sim/token without echoing it', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/token', { method: 'POST', body: { token: 'new-secret-42' } });
    expect(reply.status).toBe(200);
    expect(reply.body).not.toContain('new-secret-42');
    expect((await poll(s, 'none')).status).toBe(401);
    expect((await poll(s, 'none', 'new-secret-42')).status).toBe(200);
  });

  it('restarts with POST /_sim/restart, emptying the queue', async () => {
    const s = await start();
    s.injectMany(2);
    const reply = await send(s, '/_sim/restart', { method: 'POST' });
    expect(json<{ queued: number }>(reply.body)).toEqual({ restarted: true, queued: 0 });
    expect(s.queue()).toEqual([]);
  });

  it('answers an unknown control path with 404 and is not counted as served', async () => {
    const s = await start();
    expect((await send(s, '/_sim/nope', { method: 'POST' })).status).toBe(404);
    expect(s.served).toEqual([]);
  });
});

describe('restart', () => {
  it('forgets every hash and empties the queue by default, keeping token, faults and served', async () => {
    const s = await start({ token: 'kept-token', unknownHash: 'empty' });
    const old = s.inject();
    await poll(s, 'none', 'kept-token');
    s.failNext('html');
    s.restart();
    expect(s.queue()).toEqual([]);
    expect(s.served).toHaveLength(1);
    expect((await poll(s, old.hash, 'kept-token')).status).toBe(502);
    const fresh = s.inject();
    expect(updateHashes(await poll(s, old.hash, 'kept-token'))).toEqual([]);
    expect(updateHashes(await poll(s, 'none', 'kept-token'))).toEqual([fresh.hash]);
  });

  it('keeps the events and their hashes with keepQueue', async () => {
    const s = await start();
    const [a, b] = s.injectMany(2).map((event) => event.hash);
    s.restart({ keepQueue: true });
    expect(s.queue().map((event) => event.hash)).toEqual([a, b]);
    expect(updateHashes(await poll(s, a!))).toEqual([b]);
  });

  it('cuts a hanging request with dropConnections', async () => {
    const s = await start();
    s.failNext('hang');
    const hanging = poll(s, 'none');
    await expect.poll(() => s.served.length).toBe(1);
    s.restart({ dropConnections: true });
    await expect(hanging).rejects.toThrow();
    expect((await poll(s, 'none')).status).toBe(200);
  });

  it('answers POST /_sim/restart with dropConnections before cutting the connections', async () => {
    const s = await start();
    const reply = await send(s, '/_sim/restart', { method: 'POST', body: { dropConnections: true } });
    expect(reply.status).toBe(200);
    expect((await poll(s, 'none')).status).toBe(200);
  });
});
