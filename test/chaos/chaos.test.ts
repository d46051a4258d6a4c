/**
 * `npm run chaos` — the reliability suite in its long form, the vitest project `chaos`: 220
 * seeded scenario runs spread over every fault kind (test/support/chaos/suite.ts), the whole
 * hostile-answer corpus and every poison event, a scan of every log line for the token, and the
 * unhandled rejections. It prints a line per run as it is judged, a line per fault kind, the time,
 * and the verdict `N passed, N failed`; then each kind's checks are vitest tests that fail.
 *   npm run chaos                                   # ≈ 3 min on 2 cores (every kind about 18 times)
 *   CHAOS_RUNS=20 CHAOS_SEED=7 npm run chaos        # fewer runs, other seeds (run i uses seed + i)
 *   CHAOS_KINDS=outage,dynamodb CHAOS_CONCURRENCY=1 CHAOS_CORPUS=0 npm run chaos
 */
import { cpus, loadavg, totalmem } from 'node:os';
import { beforeAll, describe, expect, it } from 'vitest';
import { hostileAnswers, poisonEvents } from '../support/hostile-answers';
import { CHAOS_TOKEN } from '../support/chaos/lib/env';
import { plan, runSuite, type SuiteResult } from '../support/chaos/suite';
import { classifyFailures } from '../support/chaos/findings';
import { KINDS, passed, type RunKind } from '../support/chaos/lib/verdict';

function knob(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be a whole number ≥ ${min}, not "${raw}"`);
  return value;
}

const RUNS = knob('CHAOS_RUNS', 220, 0);
const SEED = knob('CHAOS_SEED', 1_000, 0);
const CONCURRENCY = knob('CHAOS_CONCURRENCY', 2, 1);
const CORPUS = process.env.CHAOS_CORPUS !== '0';
const ONLY = (process.env.CHAOS_KINDS ?? '')
  .split(',')
  .map((k) => k.trim())
  .filter(Boolean);
for (const k of ONLY)
  if (!KINDS.includes(k as RunKind)) throw new Error(`CHAOS_KINDS: no kind "${k}" (${KINDS.join(', ')})`);
const KINDS_RUN: readonly RunKind[] = ONLY.length > 0 ? (ONLY as RunKind[]) : KINDS;

const write = process.stdout.write.bind(process.stdout);
const print = (line: string) => void write(`${line}\n`);
const scenarios = plan(RUNS, SEED, KINDS_RUN);
const answers = CORPUS ? hostileAnswers(CHAOS_TOKEN) : [];
const poison = CORPUS ? poisonEvents(CHAOS_TOKEN) : [];
let suite: SuiteResult;

beforeAll(async () => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const cpu = cpus();
  print('');
  print(
    `chaos on ${cpu[0]?.model.trim() ?? 'unknown'}, ${cpu.length} cores, ${Math.round(totalmem() / 1024 ** 3)} GiB, Node ${process.version}, load ${loadavg()[0]?.toFixed(2)} at start`,
  );
  print(
    `${RUNS} runs from seed ${SEED} (${KINDS_RUN.join(', ')}), ${CONCURRENCY} at once; ${answers.length} hostile answers, ${poison.length} poison events`,
  );
  suite = await runSuite({ scenarios, answers, poison, concurrency: CONCURRENCY, onLine: print });
  print('');
  for (const line of suite.kindLines) print(line);
  print(
    `hostile answers ${answers.length}, poison events ${poison.length}: ${suite.hostile.filter((h) => h.problems.length === 0).length} pass; token in logs ${suite.tokenScan.hits} times in ${suite.tokenScan.linesScanned} lines; unhandled ${suite.unhandled.length}`,
  );
  print(`took ${Math.round(suite.seconds)} s`);
  print(suite.verdict);
});

describe.each(KINDS_RUN.filter((k) => scenarios.some((s) => s.kind === k)))('%s runs', (kind) => {
  const runs = () => suite.runs.filter((r) => r.kind === kind);
  it('lose no event', () => {
    expect(runs().flatMap((r) => r.lost.map((l) => `seed ${r.seed}: ${l.id} ${l.why}`))).toEqual([]);
  });
  it('send an event more than once only where explained', () => {
    expect(runs().flatMap((r) => r.unexplained.map((u) => `seed ${r.seed}: ${u.id} × ${u.copies}`))).toEqual([]);
  });
  it('pass every other check of the kind, and throw nothing', () => {
    expect(runs().flatMap((r) => [...r.problems, ...r.unexpected].map((p) => `seed ${r.seed}: ${p}`))).toEqual([]);
    expect(runs().every(passed)).toBe(true);
  });
});

describe('every failure', () => {
  it('is a known product finding (test/support/chaos/findings.ts), none new', () => {
    expect(suite.runs.flatMap((r) => classifyFailures(r).unknown.map((u) => `${r.kind} seed ${r.seed}: ${u}`))).toEqual(
      [],
    );
  });
});

describe('hostile answers, poison events, the token and unhandled rejections', () => {
  it('every hostile answer and poison event passes', () => {
    expect(
      suite.hostile.filter((h) => h.problems.length > 0).map((h) => `${h.name}: ${h.problems.join('; ')}`),
    ).toEqual([]);
  });
  it('never wrote the token in a log line or an error message', () => {
    expect(suite.tokenScan.excerpts).toEqual([]);
    expect(suite.tokenScan.hits).toBe(0);
  });
  it('had no unhandled rejection or exception', () => {
    expect(suite.unhandled).toEqual([]);
  });
});
