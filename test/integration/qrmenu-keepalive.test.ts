/**
 * The QR-menu connection is kept between polls (lambda/qrmenu/http.ts): at a 2-s interval a poll
 * must cost one small request, not a TCP and TLS handshake. Against a real HTTPS server on
 * loopback that counts its TLS connections: polls share one verified connection, a different pin
 * never borrows it (and a wrong pin still refuses before the request is written), and a
 * connection the server closed is replaced by a fresh, verified one.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeKeptConnections, httpGet } from '../../lambda/qrmenu/http';
import { TlsError } from '../../lambda/qrmenu/errors';
import { selfSignedIdentity, type TlsIdentity } from '../../local/simulator';

let server: Server;
let identity: TlsIdentity;
let url: URL;
let connections = 0;
let requests = 0;

beforeAll(async () => {
  identity = await selfSignedIdentity('127.0.0.1');
  server = createServer({ key: identity.key, cert: identity.cert }, (_req, res) => {
    requests += 1;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ result: true, updates: [] }));
  });
  server.on('secureConnection', () => {
    connections += 1;
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = new URL(`https://127.0.0.1:${(server.address() as AddressInfo).port}/api/v4/events?hash=none`);
});

afterAll(async () => {
  closeKeptConnections();
  server.closeAllConnections();
  server.close();
});

const get = (fingerprint256: string) =>
  httpGet({ url, headers: { token: 'secret-token' }, tls: { fingerprint256 }, timeoutMs: 2_000, maxBytes: 65_536 });

describe('a kept QR-menu connection', () => {
  it('serves many polls over one verified TLS connection', async () => {
    const before = connections;
    const answers = [];
    for (let i = 0; i < 5; i += 1) answers.push(await get(identity.fingerprint256));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(connections - before).toBe(1);
    // The trust of the kept connection is reported with every answer, as for a fresh one.
    for (const a of answers)
      expect(a.certificate).toMatchObject({ fingerprint256: identity.fingerprint256, trustedBy: 'fingerprint' });
  });

  it('is never lent to a request with another pin: that one is verified on its own and refused before it is sent', async () => {
    await get(identity.fingerprint256);
    const requestsBefore = requests;
    const wrong = `${'00:'.repeat(31)}00`;
    await expect(get(wrong)).rejects.toBeInstanceOf(TlsError);
    expect(requests - requestsBefore).toBe(0);
    // The rightly pinned connection was left alone and still serves.
    const connectionsBefore = connections;
    expect((await get(identity.fingerprint256)).status).toBe(200);
    expect(connections - connectionsBefore).toBe(0);
  });

  it('is replaced by a fresh, verified connection once the server closed it', async () => {
    await get(identity.fingerprint256);
    const before = connections;
    server.closeIdleConnections();
    // The first poll may still meet the closing socket (a reset, which QrMenuClient retries) or
    // already a fresh one; either way the second is answered, and exactly one new connection
    // (verified like the first) was made.
    await get(identity.fingerprint256).catch(() => undefined);
    const again = await get(identity.fingerprint256);
    expect(again.status).toBe(200);
    expect(connections - before).toBe(1);
  });
});
