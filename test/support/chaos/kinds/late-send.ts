/**
 * The `late-send` kind: sends that AWS accepted but answered after the client gave up. The
 * message went out; the poller hears a failure flagged `ambiguous` and retries the channel, so
 * the alert may go out twice — which the poll cycle must say, in a `mayBeSentTwice` line, every
 * time. Every extra copy must be matched by such a line; nothing may be lost.
 *   recording  RecordingDeliverer's `lateAnswer` mode: 15 % of channel sends go out and answer late;
 *   real       the real deliverer; a quarter of the deliveries publish to the SNS emulator through
 *              a HoldingProxy that holds each answer 600 ms, longer than the client's 250-ms
 *              timeout (set through `createDeliverer`'s client options). What SNS really accepted
 *              is counted at an SQS "phone" on a topic of the run's own, not from the answers.
 */
import { randomUUID } from 'node:crypto';
import { createDeliverer } from '../../../../lambda/notify/deliverer';
import type { Deliverer } from '../../../../lambda/domain/delivery';
import { createSesClient } from '../../../../lambda/notify/ses';
import { createSnsClient } from '../../../../lambda/notify/sns';
import { METRIC } from '../../../../lambda/domain/metrics';
import { StateStore } from '../../../../lambda/state/store';
import { createSimulator } from '../../../../local/simulator';
import { ManualClock, RecordingDeliverer, RecordingMetrics, freshTable, seededRandom } from '../../harness';
import { HoldingProxy } from '../../proxy';
import { chaosConfig } from '../lib/config';
import { CountingDeliverer, topicWithPhone } from '../lib/deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller } from '../lib/lives';
import { SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { explainer, judgeCopies, recordStatuses, type RunOutcome, sortUndelivered } from '../lib/verdict';

export type LateSendVariant = 'recording' | 'real';

const CHAOTIC_INVOCATIONS = 6;
const DRAINING_INVOCATIONS = 3;
const HOLD_MS = 600;
const CLIENT_TIMEOUT_MS = 250;

export async function runLateSendKind(env: ChaosEnv, seed: number, variant: LateSendVariant): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 23 + 13);
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  let proxy: HoldingProxy | undefined;
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const metrics = new RecordingMetrics();
    const lives = new Lives();
    let late = 0;
    let chaotic = false;

    let deliverer: Deliverer;
    let snsCopies: (hash: string) => number;
    let emailCopies: (hash: string) => number;
    let settle: () => Promise<void> = async () => undefined;
    if (variant === 'recording') {
      const recording = new RecordingDeliverer();
      recording.lateAnswer = () => {
        const isLate = chaotic && random() < 0.15;
        if (isLate) late += 1;
        return isLate;
      };
      deliverer = recording;
      snsCopies = (hash) => recording.count(hash, 'sns');
      emailCopies = (hash) => recording.count(hash, 'email');
    } else {
      const config = chaosConfig(sim.url);
      const phone = await topicWithPhone(env, `chaos-late-${seed}-${randomUUID().slice(0, 6)}`);
      const held = await HoldingProxy.start(env.endpoints.sns, HOLD_MS);
      proxy = held;
      const ses = createSesClient();
      const direct = createDeliverer({ config, topicArn: phone.topicArn, ses, sns: createSnsClient() });
      const slow = createDeliverer({
        config,
        topicArn: phone.topicArn,
        ses,
        clientOptions: { endpoint: held.endpoint, requestTimeoutMs: CLIENT_TIMEOUT_MS },
      });
      const counting = new CountingDeliverer({
        deliver: (request) => {
          const isLate = chaotic && !request.skip?.includes('sns') && random() < 0.25;
          if (isLate) late += 1;
          return (isLate ? slow : direct).deliver(request);
        },
      });
      deliverer = counting;
      let received = new Map<string, number>();
      settle = async () => {
        await held.settled();
        received = await phone.received();
      };
      snsCopies = (hash) => received.get(hash) ?? 0;
      emailCopies = (hash) => counting.copies(hash, 'email');
    }

    const injected: string[] = [];
    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const process = lives.spawn();
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer,
        log,
        metrics,
      });
      await invoke({
        poller,
        timeline,
        log,
        start: CLOCK_START + invocation * SCHEDULE_MS,
        beforeTick: () => {
          if (!chaotic) return;
          const count = Math.floor(random() * 4);
          for (let i = 0; i < count; i += 1) injected.push(sim.inject().hash);
        },
      });
      lives.reap(process);
    }
    await settle();

    const events = injected.map((hash) => ({ id: hash, hash }));
    const sentTwice = log.mayBeSentTwice();
    const judged = judgeCopies(
      events,
      ['sns', 'email'],
      (id, channel) => (channel === 'sns' ? snsCopies(id) : emailCopies(id)),
      explainer(lives.windows, sentTwice),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const ambiguousLines = [...sentTwice.values()].flat().filter((r) => r === 'ambiguous send').length;
    const problems: string[] = [];
    if (metrics.get(METRIC.ambiguousSends) < ambiguousLines)
      problems.push(
        `the AmbiguousSends metric counted ${metrics.get(METRIC.ambiguousSends)} for ${ambiguousLines} logged ambiguous sends`,
      );
    return {
      kind: 'late-send',
      variant,
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) =>
        statuses.get(e.hash) === 'failed'
          ? 'given up'
          : { lost: `not delivered on both channels (record ${statuses.get(e.hash) ?? 'absent'})` },
      ),
      problems,
      unexpected: [],
      crashes: lives.crashes,
      faults: { 'late answers': { [variant === 'real' ? 'SNS held past the timeout' : 'channel sends']: late } },
      figures: { 'ambiguous sends logged': ambiguousLines },
      details: `${late} sends answered late, ${ambiguousLines} logged as may be sent twice`,
      ms: performance.now() - started,
    };
  } finally {
    await proxy?.close();
    await sim.close();
  }
}
