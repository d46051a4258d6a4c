/**
 * A child process of the scale bench (bench/sections/scale.ts): many restaurants' QR-menu servers
 * in one process, so that the pollers under test do not share their process with them. Each
 * source is its own simulator (its own HTTPS port, queue and hashes); all share one self-signed
 * certificate, so one fingerprint pins them all and start-up does not make 500 key pairs.
 *
 * Protocol, one JSON object per line:
 *   stdin  {"cmd":"traffic","eventsPerMinute":n,"untilMs":t}  start each source's seeded traffic until t (epoch ms)
 *   stdin  {"cmd":"stop"}                                     close every server and exit
 *   stdout {"ready":{"urls":[...],"fingerprint256":"AB:…"}}    once, when all listen
 *   stdout {"e":[sourceIndex,hash,enqueuedAt]}                 for each event queued
 *   stdout {"done":true}                                      when every source's traffic has ended
 * Usage: tsx bench/child/simulators.ts <sources> <token> <seed>
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSimulator, selfSignedIdentity, type Simulator } from '../../local/simulator';
import { createRandom } from '../../local/simulator/random';

const [count, token, seed] = [Number(process.argv[2]), process.argv[3] ?? '', Number(process.argv[4] ?? 1)];
if (!Number.isInteger(count) || count < 1 || token === '') {
  process.stderr.write('usage: simulators.ts <sources ≥ 1> <token> [seed]\n');
  process.exit(2);
}

const say = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const identity = await selfSignedIdentity('127.0.0.1');
const sims: Simulator[] = [];
for (let i = 0; i < count; i += 1) {
  sims.push(
    await createSimulator({
      token,
      seed: seed * 10_007 + i,
      tls: { key: identity.key, cert: identity.cert },
      onEnqueued: (event) => say({ e: [i, event.hash, event.enqueuedAt] }),
    }),
  );
}
say({ ready: { urls: sims.map((s) => s.url), fingerprint256: identity.fingerprint256 } });

/** Exponential gaps (seeded per source), so that guests do not call in lockstep. */
async function traffic(index: number, eventsPerMinute: number, untilMs: number): Promise<void> {
  const random = createRandom(seed * 7_919 + index);
  const meanGapMs = 60_000 / eventsPerMinute;
  for (;;) {
    const gap = Math.min(-Math.log(1 - random.next()) * meanGapMs, 20 * meanGapMs);
    if (Date.now() + gap >= untilMs) return;
    await sleep(gap);
    sims[index]!.inject({ code: 'waiter_call' });
  }
}

for await (const line of createInterface({ input: process.stdin })) {
  const command = JSON.parse(line) as { cmd: string; eventsPerMinute?: number; untilMs?: number };
  if (command.cmd === 'traffic') {
    const { eventsPerMinute = 1, untilMs = Date.now() } = command;
    void Promise.all(sims.map((_, i) => traffic(i, eventsPerMinute, untilMs))).then(() => say({ done: true }));
  } else if (command.cmd === 'stop') break;
}
await Promise.allSettled(sims.map((s) => s.close()));
process.exit(0);
