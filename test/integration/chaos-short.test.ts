/**
 * The reliability suite in its short form, part of `npm test` (`npm run chaos` is the long one,
 * test/chaos/chaos.test.ts): one seeded run of every fault kind and variant of the suite's schedule
 * (crash, both overlap variants, real-delivery, dynamodb, oversize, both late-send variants,
 * partial-ses, outage, counter-hashes, short-retention, staff-loop), a quarter of the hostile-answer corpus
 * plus every token-echoing answer, three poison events (among them the two that first found real
 * bugs: an answer and an invoice nested 10,000 deep), the token scan of every log line, and
 * unhandled rejections; and one pinned reproduction of each known product finding (findings.ts),
 * which must keep failing the way it is known to until the product is fixed. A seed replays in the
 * long form: `CHAOS_SEED=<seed> CHAOS_RUNS=1 CHAOS_KINDS=<kind> npm run chaos`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { hostileAnswers, poisonEvents } from '../support/hostile-answers';
import { CHAOS_TOKEN } from '../support/chaos/lib/env';
import type { HostileOutcome } from '../support/chaos/hostile';
import { classifyFailures, FIXED_FINDINGS } from '../support/chaos/findings';
import { everyKindOnce, runSuite, type Scenario, type SuiteResult } from '../support/chaos/suite';
import { KINDS } from '../support/chaos/lib/verdict';

/** Found bugs once (stack overflows on deep nesting); kept in the short run for good. */
const ONCE_BUGS = new Set([
  'array nested 10,000 deep',
  'result nested 10,000 deep',
  'queued invoice nested 10,000 deep',
]);

const ANSWERS = hostileAnswers(CHAOS_TOKEN).filter(
  (a, i) => !a.heavy && (i % 4 === 0 || a.name.includes('token') || ONCE_BUGS.has(a.name)),
);
const POISON = poisonEvents(CHAOS_TOKEN).filter(
  (p) => ONCE_BUGS.has(p.name) || p.name.includes('token') || p.name.includes('50,000'),
);
const SCENARIOS = everyKindOnce(42);
/** The reproducing seed of every finding since fixed (test/support/chaos/findings.ts): regressions. */
const PINNED: Scenario[] = FIXED_FINDINGS.map((f) => ({
  kind: f.kind,
  seed: f.seed,
}));

let suite: SuiteResult;
const lines: string[] = [];
const outcome = (kind: HostileOutcome['kind'], name: string): HostileOutcome =>
  suite.hostile.find((h) => h.kind === kind && h.name === name)!;

beforeAll(async () => {
  suite = await runSuite({
    scenarios: [...SCENARIOS, ...PINNED],
    concurrency: 2,
    answers: ANSWERS,
    poison: POISON,
    onLine: (line) => lines.push(line),
  });
}, 150_000);

describe('one seeded run of every fault kind', () => {
  it('ran every kind, and both variants of overlap and late-send', () => {
    expect(new Set(suite.runs.map((r) => r.kind))).toEqual(new Set(KINDS));
    expect(new Set(suite.runs.filter((r) => r.kind === 'overlap').map((r) => r.variant))).toEqual(
      new Set(['timeout-kill', 'lost-lease']),
    );
    expect(new Set(suite.runs.filter((r) => r.kind === 'late-send').map((r) => r.variant))).toEqual(
      new Set(['recording', 'real']),
    );
  });

  it.each(SCENARIOS.map((s, i) => [`${s.kind}${s.variant ? `/${s.variant}` : ''} seed ${s.seed}`, i] as const))(
    '%s: nothing lost, every extra copy explained, every check of the kind passes (but known product findings)',
    (_name, i) => {
      const run = suite.runs[i]!;
      expect(run.unexpected).toEqual([]);
      // A failure is either a known product finding (pinned below) or a regression.
      expect(classifyFailures(run).unknown).toEqual([]);
    },
  );
});

describe('findings since fixed (test/support/chaos/findings.ts): their seeds pass', () => {
  it.each(FIXED_FINDINGS.map((f, i) => [`${f.id} (${f.kind} seed ${f.seed}): ${f.title}`, i] as const))(
    '%s',
    (_title, i) => {
      const run = suite.runs[SCENARIOS.length + i]!;
      expect(run.unexpected).toEqual([]);
      expect(classifyFailures(run)).toEqual({ known: [], unknown: [] });
    },
  );
});

describe('hostile answers and poison events', () => {
  it.each(ANSWERS.map((a) => a.name))(
    '%s: a typed error or a lenient parse, and the events beside it go out',
    (name) => {
      expect(outcome('answer', name).problems).toEqual([]);
    },
  );

  it.each(POISON.map((p) => p.name))('poison %s: the good events beside it go out at once', (name) => {
    expect(outcome('poison', name).problems).toEqual([]);
  });
});

describe('the whole suite', () => {
  it('never wrote the token in a log line or an error message', () => {
    expect(suite.tokenScan.linesScanned).toBeGreaterThan(100);
    expect(suite.tokenScan.excerpts).toEqual([]);
    expect(suite.tokenScan.hits).toBe(0);
  });

  it('had no unhandled rejection or exception', () => {
    expect(suite.unhandled).toEqual([]);
  });

  it('printed one line per run and per answer, one per fault kind, and the verdict', () => {
    expect(lines.filter((l) => l.startsWith('run ')).length).toBe(SCENARIOS.length + PINNED.length);
    expect(lines.filter((l) => l.startsWith('answer ') || l.startsWith('poison ')).length).toBe(
      ANSWERS.length + POISON.length,
    );
    expect(suite.kindLines).toHaveLength(KINDS.length);
    expect(suite.verdict).toMatch(/^\d+ passed, \d+ failed$/);
  });
});
