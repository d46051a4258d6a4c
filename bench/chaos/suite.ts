/**
 * The reliability suite, shared by `npm run chaos` and its short CI form
 * (test/integration/chaos-short.test.ts): seeded scenario runs of three kinds — crash (crash
 * windows, server chaos, failing deliverer), overlap (two invocations on one source, a poller
 * killed at its timeout or one that lost its lease), real-delivery (the real deliverer with SES/SNS
 * outages) — then the hostile-answer corpus and the poison events, then a scan of every log line
 * and error message for the token, and a count of unhandled rejections and exceptions.
 * The caller provides the emulators (through the AWS_ENDPOINT_URL_* environment).
 */
import pLimit from 'p-limit';
import { captureOutput } from '../lib/capture';
import type { HostileAnswer, PoisonEvent } from '../../test/support/hostile-answers';
import { CHAOS_TOKEN, createChaosEnv, type ChaosEnv } from './env';
import { recordedLines, scanForToken, type TokenScan } from './log-tap';
import { runCrashKind } from './run-crash';
import { createHostileBench, type HostileOutcome } from './run-hostile';
import { runOverlapKind } from './run-overlap';
import { runRealDeliveryKind } from './run-real-delivery';
import { describeError, passed, summaryLine, type RunOutcome } from './verdict';

export interface SuiteOptions {
  /** Scenario runs; run i uses seed `seed + i`. */
  readonly runs: number;
  readonly seed: number;
  readonly answers: readonly HostileAnswer[];
  readonly poison: readonly PoisonEvent[];
  /** Scenario runs at once (each has its own simulator, table and clock). */
  readonly concurrency: number;
  /** Each summary line as it is ready (the suite captures stdout/stderr: print through a writer taken before). */
  readonly onLine: (line: string) => void;
}

export interface SuiteResult {
  readonly runs: readonly RunOutcome[];
  readonly hostile: readonly HostileOutcome[];
  readonly tokenScan: TokenScan;
  readonly unhandled: readonly string[];
  readonly passed: number;
  readonly failed: number;
  readonly totals: {
    readonly events: number;
    readonly lost: number;
    readonly windowDuplicates: number;
    readonly acknowledgedDuplicates: number;
    readonly unexplainedDuplicates: number;
    readonly droppedByServer: number;
    readonly gaveUp: number;
    readonly crashes: Readonly<Record<string, number>>;
    readonly restartsKeep: number;
    readonly restartsForget: number;
    readonly faultyAnswers: number;
    readonly unknownHashModes: readonly string[];
  };
}

/** Run i's kind: crash 40 %, overlap 30 % (both variants), real-delivery 30 %. */
export function scenarioOf(index: number): { kind: RunOutcome['kind']; variant?: 'timeout-kill' | 'lost-lease' } {
  const slot = index % 10;
  if ([0, 3, 6, 9].includes(slot)) return { kind: 'crash' };
  if ([1, 4, 7].includes(slot))
    return { kind: 'overlap', variant: Math.floor(index / 10) % 2 === slot % 2 ? 'timeout-kill' : 'lost-lease' };
  return { kind: 'real-delivery' };
}

export async function runSuite(options: SuiteOptions, given?: ChaosEnv): Promise<SuiteResult> {
  const env = given ?? (await createChaosEnv());
  const unhandled: string[] = [];
  const onRejection = (reason: unknown) => unhandled.push(`unhandledRejection: ${describeError(reason)}`);
  const onException = (error: unknown) => unhandled.push(`uncaughtException: ${describeError(error)}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  const capture = captureOutput();
  const runs: RunOutcome[] = [];
  const hostile: HostileOutcome[] = [];
  const messages: string[] = [];
  let checksPassed = 0;
  let checksFailed = 0;
  const count = (ok: boolean) => {
    if (ok) checksPassed += 1;
    else checksFailed += 1;
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
      Array.from({ length: options.runs }, (_, i) =>
        limit(async () => {
          const seed = options.seed + i;
          const scenario = scenarioOf(i);
          let outcome: RunOutcome;
          try {
            outcome =
              scenario.kind === 'crash'
                ? await runCrashKind(env, seed)
                : scenario.kind === 'overlap'
                  ? await runOverlapKind(env, seed, scenario.variant ?? 'timeout-kill')
                  : await runRealDeliveryKind(env, seed);
          } catch (error) {
            outcome = {
              kind: scenario.kind,
              variant: scenario.variant ?? '',
              seed,
              events: 0,
              lost: [],
              droppedByServer: 0,
              gaveUp: 0,
              windowDuplicates: 0,
              acknowledgedDuplicates: 0,
              unexplainedDuplicates: [],
              tooManyCopies: [],
              unexpected: [`the run itself failed: ${describeError(error)}`],
              crashes: [],
              server: { restartsKeep: 0, restartsForget: 0, faults: 0, modes: [] },
              details: '',
              ms: 0,
            };
          }
          runs[i] = outcome;
          messages.push(...outcome.unexpected);
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
        messages.push(...outcome.messages);
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
    capture.stop();
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  }

  const tokenScan = scanForToken([...capture.lines, ...recordedLines(env.log.recording), ...messages], CHAOS_TOKEN);
  count(tokenScan.hits === 0);
  options.onLine(
    `log scan: ${tokenScan.linesScanned} lines (${capture.lines.length} written by the Powertools logger, ${env.log.recording.lines.length} recorded raw, ${messages.length} error messages): ` +
      `the token appears ${tokenScan.hits} times — ${tokenScan.hits === 0 ? 'pass' : `FAIL ${tokenScan.excerpts.join(' | ')}`}`,
  );
  count(unhandled.length === 0);
  options.onLine(
    `unhandled rejections and exceptions: ${unhandled.length} — ${unhandled.length === 0 ? 'pass' : `FAIL ${unhandled.slice(0, 5).join(' | ')}`}`,
  );

  const sum = (pick: (o: RunOutcome) => number) => runs.reduce((s, o) => s + pick(o), 0);
  const crashes: Record<string, number> = {};
  for (const o of runs) for (const step of o.crashes) crashes[step] = (crashes[step] ?? 0) + 1;
  return {
    runs,
    hostile,
    tokenScan,
    unhandled,
    passed: checksPassed,
    failed: checksFailed,
    totals: {
      events: sum((o) => o.events),
      lost: sum((o) => o.lost.length),
      windowDuplicates: sum((o) => o.windowDuplicates),
      acknowledgedDuplicates: sum((o) => o.acknowledgedDuplicates),
      unexplainedDuplicates: sum((o) => o.unexplainedDuplicates.length),
      droppedByServer: sum((o) => o.droppedByServer),
      gaveUp: sum((o) => o.gaveUp),
      crashes,
      restartsKeep: sum((o) => o.server.restartsKeep),
      restartsForget: sum((o) => o.server.restartsForget),
      faultyAnswers: sum((o) => o.server.faults),
      unknownHashModes: [...new Set(runs.flatMap((o) => o.server.modes))].sort(),
    },
  };
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
