/**
 * The reliability suite, shared by `npm run chaos` (test/chaos/chaos.test.ts) and its short form
 * in `npm test` (test/integration/chaos-short.test.ts): seeded scenario runs of every fault kind
 * (kinds/*.ts, spread over the runs by `SCHEDULE`), then the hostile-answer corpus and the poison
 * events, a scan of every log line and error message for the token, and a count of unhandled
 * rejections and exceptions. One line per run as it is judged, one line per fault kind (events,
 * lost, doubled and why), and the verdict `N passed, N failed` over every check.
 * The caller provides the emulators (through the AWS_ENDPOINT_URL_* environment).
 */
import pLimit from 'p-limit';
import type { HostileAnswer, PoisonEvent } from '../hostile-answers';
import { CHAOS_TOKEN, type ChaosEnv, createChaosEnv } from './lib/env';
import { classifyFailures } from './findings';
import { createHostileBench, type HostileOutcome } from './hostile';
import { captureStdio, type TokenScan, TokenScanner } from './lib/log-tap';
import { runCounterHashesKind } from './kinds/counter-hashes';
import { runCrashKind } from './kinds/crash';
import { runDynamoDbKind } from './kinds/dynamodb';
import { runLateSendKind } from './kinds/late-send';
import { runSharedQuotaKind } from './kinds/shared-quota';
import { runOutageKind } from './kinds/outage';
import { runOverlapKind } from './kinds/overlap';
import { runOversizeKind } from './kinds/oversize';
import { runPartialSesKind } from './kinds/partial-ses';
import { runRealDeliveryKind } from './kinds/real-delivery';
import { runShortRetentionKind } from './kinds/short-retention';
import { runStaffLoopKind } from './kinds/staff-loop';
import {
  brokenRun,
  describeError,
  doubledText,
  type Excuse,
  excusedText,
  KINDS,
  passed,
  type RunKind,
  type RunOutcome,
  failureTexts,
} from './lib/verdict';

export interface Scenario {
  readonly kind: RunKind;
  /** Fixed by the schedule for kinds whose variants must all run (overlap, late-send); else drawn from the seed. */
  readonly variant?: string;
  readonly seed: number;
}

/**
 * Twenty-four slots, repeated: every kind twice (overlap and late-send once per variant), heavy and
 * light interleaved; staff-loop and shared-quota, the newest, last (so the first twenty seeds keep their kinds).
 */
export const SCHEDULE: readonly (readonly [RunKind, string?])[] = [
  ['crash'],
  ['overlap', 'timeout-kill'],
  ['dynamodb'],
  ['real-delivery'],
  ['counter-hashes'],
  ['late-send', 'recording'],
  ['outage'],
  ['partial-ses'],
  ['oversize'],
  ['short-retention'],
  ['crash'],
  ['overlap', 'lost-lease'],
  ['dynamodb'],
  ['real-delivery'],
  ['counter-hashes'],
  ['late-send', 'real'],
  ['outage'],
  ['partial-ses'],
  ['oversize'],
  ['short-retention'],
  ['staff-loop'],
  ['staff-loop'],
  ['shared-quota'],
  ['shared-quota'],
];

/** `runs` scenarios from `seed` (run i uses seed + i), following the schedule, optionally only some kinds. */
export function plan(runs: number, seed: number, kinds: readonly RunKind[] = KINDS): Scenario[] {
  const slots = SCHEDULE.filter(([kind]) => kinds.includes(kind));
  if (slots.length === 0) throw new Error(`no scenario of the kinds ${kinds.join(', ')}`);
  return Array.from({ length: runs }, (_, i) => {
    const [kind, variant] = slots[i % slots.length]!;
    return { kind, ...(variant ? { variant } : {}), seed: seed + i };
  });
}

/** One scenario of every slot kind and variant, seeds from `seed`: the short form. */
export function everyKindOnce(seed: number): Scenario[] {
  const seen = new Set<string>();
  const out: Scenario[] = [];
  for (const [kind, variant] of SCHEDULE) {
    const key = `${kind}/${variant ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ kind, ...(variant ? { variant } : {}), seed: seed + out.length });
  }
  return out;
}

export function runScenario(env: ChaosEnv, s: Scenario): Promise<RunOutcome> {
  switch (s.kind) {
    case 'crash':
      return runCrashKind(env, s.seed);
    case 'overlap':
      return runOverlapKind(env, s.seed, s.variant === 'lost-lease' ? 'lost-lease' : 'timeout-kill');
    case 'real-delivery':
      return runRealDeliveryKind(env, s.seed);
    case 'dynamodb':
      return runDynamoDbKind(env, s.seed);
    case 'oversize':
      return runOversizeKind(env, s.seed);
    case 'late-send':
      return runLateSendKind(env, s.seed, s.variant === 'real' ? 'real' : 'recording');
    case 'partial-ses':
      return runPartialSesKind(env, s.seed);
    case 'outage':
      return runOutageKind(env, s.seed);
    case 'counter-hashes':
      return runCounterHashesKind(env, s.seed);
    case 'short-retention':
      return runShortRetentionKind(env, s.seed);
    case 'staff-loop':
      return runStaffLoopKind(env, s.seed);
    case 'shared-quota':
      return runSharedQuotaKind(env, s.seed);
  }
}

export interface SuiteOptions {
  readonly scenarios: readonly Scenario[];
  readonly answers: readonly HostileAnswer[];
  readonly poison: readonly PoisonEvent[];
  /** Scenario runs at once (each has its own simulator, table and clock). */
  readonly concurrency: number;
  /** Each line as it is ready (the suite captures stdout/stderr: print through a writer taken before). */
  readonly onLine: (line: string) => void;
}

export interface SuiteResult {
  readonly runs: readonly RunOutcome[];
  readonly hostile: readonly HostileOutcome[];
  readonly tokenScan: TokenScan;
  readonly unhandled: readonly string[];
  /** One line per fault kind that ran. */
  readonly kindLines: readonly string[];
  readonly passed: number;
  readonly failed: number;
  /** `N passed, N failed`. */
  readonly verdict: string;
  readonly seconds: number;
}

export async function runSuite(options: SuiteOptions, given?: ChaosEnv): Promise<SuiteResult> {
  const started = performance.now();
  const env = given ?? (await createChaosEnv());
  const unhandled: string[] = [];
  const onRejection = (reason: unknown) => unhandled.push(`unhandledRejection: ${describeError(reason)}`);
  const onException = (error: unknown) => unhandled.push(`uncaughtException: ${describeError(error)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const scanner = new TokenScanner(CHAOS_TOKEN);
  let powertoolsLines = 0;
  let recordedCount = 0;
  let messageCount = 0;
  const capture = captureStdio((line) => {
    powertoolsLines += 1;
    scanner.feed(line);
  });
  const runs: RunOutcome[] = [];
  const hostile: HostileOutcome[] = [];
  let checksPassed = 0;
  let checksFailed = 0;
  const count = (ok: boolean) => {
    if (ok) checksPassed += 1;
    else checksFailed += 1;
  };
  env.log.tap = (text) => {
    recordedCount += 1;
    scanner.feed(text);
  };
  try {
    const limit = pLimit(options.concurrency);
    // Lines go out in run order, whichever run finishes first.
    const ready = new Map<number, string>();
    let nextLine = 0;
    const emit = (index: number, line: string) => {
      ready.set(index, line);
      for (; ready.has(nextLine); nextLine += 1) options.onLine(ready.get(nextLine)!);
    };
    await Promise.all(
      options.scenarios.map((scenario, i) =>
        limit(async () => {
          let outcome: RunOutcome;
          try {
            outcome = await runScenario(env, scenario);
          } catch (error) {
            outcome = brokenRun(scenario.kind, scenario.variant ?? '', scenario.seed, error);
          }
          runs[i] = outcome;
          for (const u of outcome.unexpected) {
            messageCount += 1;
            scanner.feed(u);
          }
          count(passed(outcome));
          emit(i, summaryLine(i, outcome));
        }),
      ),
    );

    const bench = await createHostileBench(env);
    try {
      for (const answer of options.answers) {
        const outcome = await bench.runAnswer(answer);
        hostile.push(outcome);
        for (const m of outcome.messages) {
          messageCount += 1;
          scanner.feed(m);
        }
        count(outcome.problems.length === 0);
        options.onLine(hostileLine(outcome));
      }
      for (const poison of options.poison) {
        const outcome = await bench.runPoison(poison);
        hostile.push(outcome);
        count(outcome.problems.length === 0);
        options.onLine(hostileLine(outcome));
      }
    } finally {
      await bench.close();
    }
  } finally {
    env.log.tap = undefined;
    capture.stop();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }

  const tokenScan = scanner.result();
  count(tokenScan.hits === 0);
  options.onLine(
    `log scan: ${tokenScan.linesScanned} lines (${powertoolsLines} written by the Powertools logger, ${recordedCount} recorded raw, ${messageCount} error messages; the longest ${tokenScan.longestLine} characters): ` +
      `the token appears ${tokenScan.hits} times — ${tokenScan.hits === 0 ? 'pass' : `FAIL ${tokenScan.excerpts.join(' | ')}`}`,
  );
  count(unhandled.length === 0);
  options.onLine(
    `unhandled rejections and exceptions: ${unhandled.length} — ${unhandled.length === 0 ? 'pass' : `FAIL ${unhandled.slice(0, 5).join(' | ')}`}`,
  );
  const kindLines = KINDS.filter((k) => runs.some((r) => r.kind === k)).map((k) =>
    kindLine(
      k,
      runs.filter((r) => r.kind === k),
    ),
  );
  return {
    runs,
    hostile,
    tokenScan,
    unhandled,
    kindLines,
    passed: checksPassed,
    failed: checksFailed,
    verdict: `${checksPassed} passed, ${checksFailed} failed`,
    seconds: (performance.now() - started) / 1000,
  };
}

/** The line of one fault kind: its runs, events, lost, doubled (and why), excused, faults and figures. */
export function kindLine(kind: RunKind, runs: readonly RunOutcome[]): string {
  const sum = (pick: (o: RunOutcome) => number) => runs.reduce((s, o) => s + pick(o), 0);
  const excused: Record<Excuse, number> = { 'given up': 0, 'dropped by server': 0, undecidable: 0 };
  for (const o of runs) for (const k of Object.keys(excused) as Excuse[]) excused[k] += o.excused[k];
  const variants = [...new Set(runs.map((r) => r.variant.replace(/ \d+ %.*$/, '')))].filter(Boolean);
  const figures = new Map<string, number>();
  for (const o of runs)
    for (const [name, n] of Object.entries(o.figures)) figures.set(name, (figures.get(name) ?? 0) + n);
  const faults = new Map<string, Map<string, number>>();
  for (const o of runs)
    for (const [where, what] of Object.entries(o.faults)) {
      const m = faults.get(where) ?? new Map<string, number>();
      for (const [fault, n] of Object.entries(what)) m.set(fault, (m.get(fault) ?? 0) + n);
      faults.set(where, m);
    }
  const faultText = [...faults]
    .map(([where, m]) => {
      const total = [...m.values()].reduce((s, n) => s + n, 0);
      return `${where} ${total} (${[...m].map(([f, n]) => `${f} ${n}`).join(', ')})`;
    })
    .join(', ');
  const crashes = sum((o) => o.crashes.length);
  const findings = new Map<string, number>();
  let unknown = 0;
  for (const o of runs) {
    const c = classifyFailures(o);
    for (const id of c.known) findings.set(id, (findings.get(id) ?? 0) + 1);
    if (c.unknown.length > 0) unknown += 1;
  }
  const failed = runs.length - runs.filter(passed).length;
  const failedText =
    failed === 0
      ? ''
      : `, ${failed} failed: ${[...findings].map(([id, n]) => `known finding ${id} in ${n}`).join(', ')}${findings.size ? ', ' : ''}${unknown} with new failures`;
  return (
    `${kind}: ${runs.length} runs (${runs.filter(passed).length} passed${failedText}${variants.length > 1 && variants.length <= 4 ? `; ${variants.join(', ')}` : ''}), ` +
    `${sum((o) => o.events)} events — lost ${sum((o) => o.lost.length)}, doubled ${doubledText(runs.flatMap((o) => o.doubled))}, ` +
    `unexplained ${sum((o) => o.unexplained.length)}; ${excusedText(excused)}` +
    (crashes > 0 ? `; ${crashes} pollers died` : '') +
    (faultText ? `; faults injected: ${faultText}` : '') +
    (figures.size > 0 ? `; ${[...figures].map(([name, n]) => `${name} ${n}`).join(', ')}` : '')
  );
}

export function summaryLine(index: number, o: RunOutcome): string {
  const failures = failureTexts(o);
  const { known, unknown } = classifyFailures(o);
  const verdict = failures.length === 0 ? 'pass' : 'FAIL';
  const marks = [
    ...(known.length ? [`known product findings ${known.join(', ')}`] : []),
    ...(unknown.length ? [`${unknown.length} NEW`] : []),
  ];
  return (
    `run ${String(index + 1).padStart(3)} seed ${o.seed} ${o.kind}${o.variant ? `/${o.variant}` : ''}: ${o.events} events, ` +
    `crashes ${o.crashes.length ? o.crashes.join(',') : 'none'}, lost ${o.lost.length}, doubled ${doubledText(o.doubled)}, ` +
    `unexplained ${o.unexplained.length}; ${excusedText(o.excused)}; ${o.details}; ${Math.round(o.ms)} ms — ${verdict}` +
    (marks.length ? ` [${marks.join('; ')}]` : '') +
    (failures.length ? ` (${failures.slice(0, 6).join('; ')}${failures.length > 6 ? '; …' : ''})` : '')
  );
}

export function hostileLine(o: HostileOutcome): string {
  const own =
    o.ownEvents.delivered + o.ownEvents.failed.length > 0
      ? `, its own events: ${o.ownEvents.delivered} out, ${o.ownEvents.failed.length} failed`
      : '';
  return (
    `${o.kind} "${o.name}": ${o.client !== undefined ? `client → ${o.client}; ` : ''}tick → ${o.tick}; events beside it out at tick ${o.ticksToDeliver ?? 'never'}${own} — ` +
    `${o.problems.length === 0 ? 'pass' : `FAIL (${o.problems.join('; ')})`}`
  );
}
