/**
 * `npm run chaos` — the reliability suite: 200 seeded scenario runs (crashes at every step
 * boundary, overlapping pollers, server restarts and every unknown-hash mode, SES/SNS outages and
 * transient faults), every hostile answer and poison event of test/support/hostile-answers.ts through the
 * real client and a poller tick, a scan of every log line for the token, and a count of unhandled
 * rejections. One line per scenario, then totals and `N passed, N failed`; exits 1 if any failed.
 *   npm run chaos                           # ≈ 1.5 minutes on 2 cores
 *   npm run chaos -- --runs 20 --seed 7     # a shorter or different set of seeds
 */
import { Command, InvalidArgumentError } from 'commander';
import { emulatorEnvironment, startDynamoDbLocal, startSesEmulator, startSnsEmulator } from '../local/emulators';
import { hostileAnswers, poisonEvents } from '../test/support/hostile-answers';
import { CHAOS_TOKEN } from './chaos/env';
import { runSuite } from './chaos/suite';
import { GOALS } from './lib/goals';
import { describeMachine, machineLine } from './lib/machine';

function wholeNumber(min: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`must be a whole number ≥ ${min}`);
    return parsed;
  };
}

const flags = new Command()
  .name('npm run chaos --')
  .description('The reliability suite of qrmenu-alerts: seeded chaos runs, hostile answers, a token scan')
  .option('--runs <n>', 'scenario runs', wholeNumber(0), 200)
  .option('--seed <n>', 'seed of the first run (run i uses seed + i)', wholeNumber(0), 1_000)
  .option('--concurrency <n>', 'runs at once', wholeNumber(1), 2)
  .option('--no-corpus', 'skip the hostile answers and poison events')
  .parse()
  .opts<{ runs: number; seed: number; concurrency: number; corpus: boolean }>();

const write = process.stdout.write.bind(process.stdout);
const print = (line: string) => void write(`${line}\n`);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const started = Date.now();
print(`chaos on ${machineLine(describeMachine())}`);
print(
  `runs ${flags.runs} from seed ${flags.seed}, ${flags.concurrency} at once; starting DynamoDB Local and the SES/SNS emulators…`,
);
const [dynamodb, ses, sns] = await Promise.all([startDynamoDbLocal(), startSesEmulator(), startSnsEmulator()]);
let failed = 1;
try {
  Object.assign(
    process.env,
    emulatorEnvironment({ dynamodb: dynamodb.endpoint, ses: ses.endpoint, sns: sns.endpoint }),
  );
  const answers = flags.corpus ? hostileAnswers(CHAOS_TOKEN) : [];
  const poison = flags.corpus ? poisonEvents(CHAOS_TOKEN) : [];
  const result = await runSuite({
    runs: flags.runs,
    seed: flags.seed,
    concurrency: flags.concurrency,
    answers,
    poison,
    onLine: print,
  });
  const t = result.totals;
  const kinds = (kind: string) => result.runs.filter((r) => r.kind === kind).length;
  print('');
  print(
    `scenario runs: ${result.runs.length} (crash ${kinds('crash')}, overlap ${kinds('overlap')}, real-delivery ${kinds('real-delivery')}), ${t.events} events`,
  );
  print(
    `crashes by step: ${
      Object.entries(t.crashes)
        .map(([step, n]) => `${step} ${n}`)
        .join(', ') || 'none'
    }`,
  );
  print(
    `server: ${t.restartsKeep} restarts keeping the queue, ${t.restartsForget} forgetting it, ${t.faultyAnswers} faulty answers in the stream, unknown-hash modes ${t.unknownHashModes.join(', ')}`,
  );
  print(
    `events lost: ${t.lost} (goal ${GOALS.eventsLost}) → ${t.lost <= GOALS.eventsLost ? 'meets the goal' : 'MISSES the goal'}`,
  );
  print(
    `duplicates: ${t.windowDuplicates} in the deliver→mark crash window, ${t.acknowledgedDuplicates} after a lost lease (logged "may be sent twice"), ${t.unexplainedDuplicates} unexplained`,
  );
  print(
    `not delivered but not lost by the poller: ${t.droppedByServer} dropped by a forgetful server restart before the poller had recorded them, ${t.gaveUp} given up after the delivery attempts (DeliveryFailed alarm)`,
  );
  print(
    `unhandled exceptions: ${result.unhandled.length} (goal ${GOALS.unhandledExceptions}) → ${result.unhandled.length <= GOALS.unhandledExceptions ? 'meets the goal' : 'MISSES the goal'}`,
  );
  print(
    `hostile answers: ${answers.length}, poison events: ${poison.length}; token found in logs: ${result.tokenScan.hits} times in ${result.tokenScan.linesScanned} lines`,
  );
  print(`took ${Math.round((Date.now() - started) / 1000)} s`);
  print(`${result.passed} passed, ${result.failed} failed`);
  failed = result.failed;
} finally {
  await Promise.all([dynamodb.stop(), ses.stop(), sns.stop()]);
}
process.exitCode = failed > 0 ? 1 : 0;
