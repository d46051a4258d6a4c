/**
 * A wrong or missing `token` header, in each style a server might answer it: HTTP 401 (JSON),
 * HTTP 403 (text), or HTTP 200 `{"result": false, "message": …}`. Never an event, never the token
 * that was sent echoed back.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../local/simulator';
import { poll, updateHashes } from './client';

let sim: Simulator | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  sim = await createSimulator({ seed: 3, tls: false, ...options });
  sim.injectMany(2);
  return sim;
}

describe('auth failures', () => {
  it("answers a wrong token with HTTP 401 'Invalid token' by default", async () => {
    const s = await start();
    const reply = await poll(s, 'none', 'guessed-token-123');
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toEqual({ result: false, message: 'Invalid token' });
    expect(reply.body).not.toContain('guessed-token-123');
    expect(s.served.at(-1)).toMatchObject({ kind: 'auth', status: 401, eventHashes: [] });
  });

  it("answers a missing token with HTTP 401 'Token required'", async () => {
    const s = await start();
    const reply = await poll(s, 'none', null);
    expect(reply.status).toBe(401);
    expect(JSON.parse(reply.body)).toEqual({ result: false, message: 'Token required' });
  });

  it('answers a wrong token with HTTP 403 text in style 403', async () => {
    const s = await start({ authFailure: '403' });
    const reply = await poll(s, 'none', 'guessed-token-123');
    expect(reply.status).toBe(403);
    expect(reply.headers['content-type']).toMatch(/^text\/plain/);
    expect(reply.body).not.toContain('guessed-token-123');
  });

  it('answers a wrong token with HTTP 200 result:false in style result-false', async () => {
    const s = await start({ authFailure: 'result-false' });
    const reply = await poll(s, 'none', 'guessed-token-123');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ result: false, message: 'Invalid token' });
  });

  it('checks the token before the hash parameter', async () => {
    const s = await start();
    expect((await poll(s, '', 'wrong')).status).toBe(401);
  });

  it('accepts a token set at start and a token changed at run time, and refuses the old one', async () => {
    const s = await start({ token: 'first-secret' });
    expect(updateHashes(await poll(s, 'none', 'first-secret'))).toHaveLength(2);
    s.setToken('rotated-secret');
    expect((await poll(s, 'none', 'first-secret')).status).toBe(401);
    expect(updateHashes(await poll(s, 'none', 'rotated-secret'))).toHaveLength(2);
  });
});
