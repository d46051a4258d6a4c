/**
 * Crash injection: for seeded random runs, a poller dies at every kind of step boundary (after
 * the fetch, after a claim, after a delivery, after a mark, before saving the state) and a fresh
 * poller takes over at the next scheduled invocation. No event may be lost; an event may go out
 * twice only when the crash fell between its delivery and its mark — and at most twice.
 * (`npm run chaos` runs 200 such seeds with more faults; this is the short form for every CI run.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSimulator, type Simulator } from '../../local/simulator';
import { StateStore } from '../../lambda/state/store';
import { CRASH_STEPS, judgeScenario, runCrashScenario } from '../support/crash-scenario';
import { ManualClock, countingDynamoDbClient, freshTable } from '../support/harness';

const TOKEN = 'crash-test-token-77';
const SEEDS = Array.from({ length: 12 }, (_, i) => 1_000 + i);
const clock = new ManualClock();
const db = countingDynamoDbClient();
let sim: Simulator;

beforeAll(async () => {
  sim = await createSimulator({ token: TOKEN, tls: false, now: clock.now, seed: 7 });
});
afterAll(async () => {
  await sim.close();
});

describe('a poller that dies between any two steps', () => {
  const crashedAt = new Set<string>();

  it.each(SEEDS)('seed %i: no event lost, a duplicate only in the deliver→mark window', async (seed) => {
    sim.restart();
    const store = new StateStore({ tableName: await freshTable(), client: db.client });
    const outcome = await runCrashScenario({ seed, clock, sim, store, token: TOKEN });
    const verdict = judgeScenario(outcome);
    for (const crash of outcome.crashes) crashedAt.add(crash.step);
    expect(outcome.unexpected).toEqual([]);
    expect(outcome.injected.length).toBeGreaterThan(10);
    expect(verdict.lost).toEqual([]);
    expect(verdict.unexplainedDuplicates).toEqual([]);
    for (const hash of verdict.windowDuplicates) expect(outcome.deliveredCount.get(hash)).toBe(2);
  });

  it('the seeds above crashed at every kind of step boundary', () => {
    expect([...crashedAt].sort()).toEqual([...CRASH_STEPS].sort());
  });
});
