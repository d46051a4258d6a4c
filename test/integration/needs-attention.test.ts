/**
 * The one deployment-wide alarm series, NeedsAttention, as the real telemetry adapter prints it
 * (EMF on stdout) while a real poll cycle runs over DynamoDB Local and the QR-menu simulator:
 * a source never polled successfully reaches the alarm's threshold in its first run of failed polls
 * (its PollSilence has no last success to count from).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { ATTENTION_ALARM_THRESHOLD, ATTENTION_METRIC } from '../../lambda/domain/metrics';
import { createSourceMetrics } from '../../lambda/obs/telemetry';
import { StateStore } from '../../lambda/state/store';
import type { SourcePoller } from '../../lambda/poller/source-poller';
import type { SourceMetrics } from '../../lambda/domain/ports';
import { countingDynamoDbClient, freshTable, ManualClock, makePoller, type PollerKit } from '../support/harness';

const TOKEN = 'needs-attention-token-5678';
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;
let kit: PollerKit;
const printed: string[] = [];

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 7 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(async () => {
  sim.restart();
  const tableName = await freshTable();
  kit = { clock, sim, token: TOKEN, store: new StateStore({ tableName, client: db.client }) };
  printed.length = 0;
  const original = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (text.includes('"_aws"')) {
      printed.push(text);
      return true;
    }
    return original(chunk, ...(rest as []));
  });
});
afterEach(() => vi.restoreAllMocks());

/** NeedsAttention printed since the last call, summed (the alarm sums it over 5 minutes). */
function attention(): number {
  const records = printed.splice(0).flatMap((chunk) => chunk.split('\n').filter((l) => l.includes('"_aws"')));
  return records
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .flatMap((record) => [record[ATTENTION_METRIC] ?? []].flat() as number[])
    .reduce((a, b) => a + b, 0);
}
const metrics = () => createSourceMetrics('QrmenuAlerts/test', 'pizzeria', { perSource: false });

/**
 * One scheduled run, as the handler makes it: a fresh poller with its lease for the minute, six
 * ticks 10 s apart, then end (state saved) and the one metrics flush of the invocation. Returns
 * the NeedsAttention the run printed.
 */
async function run(make: () => SourcePoller, m: SourceMetrics): Promise<number> {
  const poller = make();
  const leaseUntil = clock.now() + 60_000;
  await poller.begin(leaseUntil);
  for (let tick = 0; tick < 6; tick += 1) {
    if (tick > 0) clock.advance(10_000);
    await poller.tick(leaseUntil);
  }
  await poller.end();
  m.flush();
  clock.advance(10_000);
  return attention();
}

describe('NeedsAttention from a real poll cycle', () => {
  it('reaches the threshold at the first failed poll of a source never polled successfully', async () => {
    sim.failNext(...Array.from({ length: 10 }, () => 'server-error' as const));
    const m = metrics();
    expect(await run(() => makePoller(kit, { metrics: m }), m)).toBeGreaterThanOrEqual(ATTENTION_ALARM_THRESHOLD);
  });
});
