/**
 * The documented behaviour of the QR-menu events API, over real HTTPS: `hash=none`, a known
 * cursor, the newest cursor, chronological order, the event shape of the vendor's example,
 * retention under an injected clock, the 400/404/405 edges, the TLS identity, plain HTTP mode.
 */
import { X509Certificate } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, HASH_PATTERN, type Simulator, type SimulatorOptions } from '../../local/simulator';
import { selfSignedIdentity, type TlsIdentity } from '../../local/simulator/tls';
import { manualClock, poll, send, updateHashes } from './client';

let identity: TlsIdentity;
let sim: Simulator | undefined;

beforeAll(async () => {
  identity = await selfSignedIdentity('127.0.0.1');
});
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

/** A simulator over HTTPS with the file's certificate (one key pair for the whole file: faster). */
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await createSimulator({ seed: 1, tls: { key: identity.key, cert: identity.cert }, ...options });
  return sim;
}

describe('documented semantics', () => {
  it('answers hash=none with every queued event, oldest first', async () => {
    const s = await start();
    const injected = s.injectMany(4).map((event) => event.hash);
    const reply = await poll(s, 'none');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    expect(updateHashes(reply)).toEqual(injected);
  });

  it('answers a queued hash with the events after it, in order', async () => {
    const s = await start();
    const [a, b, c, d] = s.injectMany(4).map((event) => event.hash);
    expect(updateHashes(await poll(s, a!))).toEqual([b, c, d]);
    expect(updateHashes(await poll(s, c!))).toEqual([d]);
  });

  it('answers the newest hash with no updates', async () => {
    const s = await start();
    const newest = s.injectMany(3).at(-1)!;
    const reply = await poll(s, newest.hash);
    expect(JSON.parse(reply.body)).toEqual({ result: true, data: { updates: [] } });
  });

  it('answers an empty queue with no updates', async () => {
    const s = await start();
    expect(JSON.parse((await poll(s, 'none')).body)).toEqual({ result: true, data: { updates: [] } });
  });

  it('serves events in the shape of the documented example', async () => {
    const s = await start();
    s.inject({ code: 'waiter_call', table: 1000028, tableName: '6', maxGuests: 50, hash: '0xd8833dd3' });
    expect(JSON.parse((await poll(s, 'none')).body)).toEqual({
      result: true,
      data: {
        updates: [
          {
            hash: '0xd8833dd3',
            code: 'waiter_call',
            table: 1000028,
            invoice: null,
            order: null,
            table_repr: { id: 1000028, name: '6', max_guests: 50 },
          },
        ],
      },
    });
  });

  it('gives generated events unique 0x + 8 lowercase hex hashes', async () => {
    const s = await start();
    const hashes = s.injectMany(500).map((event) => event.hash);
    expect(new Set(hashes).size).toBe(500);
    for (const hash of hashes) expect(hash).toMatch(HASH_PATTERN);
  });

  it('records every events request in served', async () => {
    const clock = manualClock();
    const s = await start({ now: clock.now });
    const [a, b] = s.injectMany(2).map((event) => event.hash);
    await poll(s, 'none');
    clock.advance(1_000);
    await poll(s, a!);
    expect(s.served).toEqual([
      { at: clock.now() - 1_000, hashParam: 'none', status: 200, kind: 'ok', eventHashes: [a, b] },
      { at: clock.now(), hashParam: a, status: 200, kind: 'ok', eventHashes: [b] },
    ]);
  });
});

describe('retention', () => {
  it('keeps an event for exactly retentionSeconds and drops it after', async () => {
    const clock = manualClock();
    const s = await start({ now: clock.now, retentionSeconds: 300 });
    const event = s.inject();
    clock.advance(300_000);
    expect(updateHashes(await poll(s, 'none'))).toEqual([event.hash]);
    clock.advance(1);
    expect(updateHashes(await poll(s, 'none'))).toEqual([]);
    expect(s.queue()).toEqual([]);
  });

  it('drops the old events and keeps the young ones', async () => {
    const clock = manualClock();
    const s = await start({ now: clock.now, retentionSeconds: 60 });
    s.inject();
    clock.advance(30_000);
    const young = s.inject();
    clock.advance(30_001);
    expect(s.queue().map((event) => event.hash)).toEqual([young.hash]);
    expect(updateHashes(await poll(s, 'none'))).toEqual([young.hash]);
  });
});

describe('edges of the protocol', () => {
  it('answers a missing hash parameter with HTTP 400', async () => {
    const s = await start();
    const reply = await send(s, '/api/v4/events', { token: 'demo-token' });
    expect(reply.status).toBe(400);
    expect(JSON.parse(reply.body)).toMatchObject({ result: false });
    expect(s.served.at(-1)).toMatchObject({ hashParam: null, status: 400, kind: 'bad-request' });
  });

  it('answers other paths with an HTML 404 page', async () => {
    const s = await start();
    const reply = await send(s, '/api/v3/events?hash=none', { token: 'demo-token' });
    expect(reply.status).toBe(404);
    expect(reply.headers['content-type']).toMatch(/^text\/html/);
    expect(reply.body).toContain('404 Not Found');
    expect(s.served).toEqual([]);
  });

  it('answers another method on the events path with 405', async () => {
    const s = await start();
    const reply = await send(s, '/api/v4/events?hash=none', { method: 'POST', token: 'demo-token' });
    expect(reply.status).toBe(405);
    expect(reply.headers.allow).toBe('GET');
  });
});

describe('transport', () => {
  it('presents a self-signed certificate for IP 127.0.0.1 and DNS localhost, signed with SHA-256', async () => {
    const s = await createSimulator({ seed: 1 });
    sim = s;
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const cert = new X509Certificate(s.certPem!);
    expect(cert.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(cert.subjectAltName).toContain('DNS:localhost');
    expect(cert.toLegacyObject().asn1Curve ?? cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(s.fingerprint256).toBe(cert.fingerprint256);
    expect(s.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    s.inject();
    const byIp = await poll(s, 'none');
    const byName = await send(s, '/api/v4/events?hash=none', { token: 'demo-token', hostname: 'localhost' });
    expect(byIp.status).toBe(200);
    expect(byName.status).toBe(200);
    expect(byIp.peerFingerprint256).toBe(s.fingerprint256);
  });

  it('serves plain HTTP when tls is false', async () => {
    const s = await createSimulator({ seed: 1, tls: false });
    sim = s;
    expect(s.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(s.certPem).toBeUndefined();
    expect(s.fingerprint256).toBeUndefined();
    const event = s.inject();
    expect(updateHashes(await poll(s, 'none'))).toEqual([event.hash]);
  });

  it('serves a certificate it was given', async () => {
    const s = await start();
    expect(s.certPem).toBe(identity.cert);
    expect(s.fingerprint256).toBe(identity.fingerprint256);
    expect((await poll(s, 'none')).peerFingerprint256).toBe(identity.fingerprint256);
  });
});
