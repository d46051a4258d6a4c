/**
 * The `partial-ses` kind: the real deliverer with an SES client in the sandbox, one of the log
 * route's three addresses unverified (deliverers.ts `sandboxedSes`): SES rejects every message
 * naming it, either saying which address failed (`named`) or not (`unnamed`: the adapter must
 * isolate it by halving the batch). Pollers die at step boundaries as in the crash kind; a death
 * is a cold start, so the next invocation gets a new deliverer that has forgotten the refusals.
 * Judged: every event reaches SNS and each verified address of the route exactly once (but where
 * a death's window or a `mayBeSentTwice` line explains a copy); the refused address never gets
 * one; the operator hears about it once per warm deliverer, and at least once.
 */
import { createDeliverer } from '../../../../lambda/notify/deliverer';
import type { Deliverer } from '../../../../lambda/domain/delivery';
import { createSnsClient } from '../../../../lambda/notify/sns';
import { StateStore } from '../../../../lambda/state/store';
import { createSimulator } from '../../../../local/simulator';
import { ManualClock, freshTable, seededRandom } from '../../harness';
import { chaosConfig, LOG_MAILBOX } from '../lib/config';
import { CountingDeliverer, sandboxedSes } from '../lib/deliverers';
import { CHAOS_TOKEN, CLOCK_START, type ChaosEnv, SOURCE_ID } from '../lib/env';
import { Lives, mortalPoller, planCrash } from '../lib/lives';
import { SCHEDULE_MS, Timeline, invoke } from '../lib/minutes';
import { explainer, judgeCopies, recordStatuses, type RunOutcome, sortUndelivered } from '../lib/verdict';

const CHAOTIC_INVOCATIONS = 6;
const DRAINING_INVOCATIONS = 3;
export const REFUSED_ADDRESS = 'unverified@chaos.example';
const VERIFIED = [LOG_MAILBOX, 'audit@chaos.example'] as const;

export async function runPartialSesKind(env: ChaosEnv, seed: number): Promise<RunOutcome> {
  const started = performance.now();
  const random = seededRandom(seed * 29 + 17);
  const names = random() < 0.5;
  const clock = new ManualClock(CLOCK_START);
  const timeline = new Timeline(clock);
  const sim = await createSimulator({ token: CHAOS_TOKEN, tls: false, now: clock.now, seed });
  try {
    const store = new StateStore({ tableName: await freshTable(), client: env.ddb });
    const log = env.log.forRun();
    const lives = new Lives();
    const config = chaosConfig(sim.url, { logRecipients: [REFUSED_ADDRESS, ...VERIFIED] });
    const sandbox = sandboxedSes({ refused: REFUSED_ADDRESS, names });
    const sns = createSnsClient();
    /** One deliverer per container: a new one after each death (a cold start forgets the refusals). */
    let container = 0;
    let current: Deliverer = createDeliverer({ config, topicArn: env.topicArn, ses: sandbox.client, sns });
    const counting = new CountingDeliverer(sandbox.wrap({ deliver: (request) => current.deliver(request) }));
    const alerts: { container: number; subject: string; message: string }[] = [];

    const injected: string[] = [];
    let crashedLast = true;
    for (let invocation = 0; invocation <= CHAOTIC_INVOCATIONS + DRAINING_INVOCATIONS; invocation += 1) {
      const chaotic = invocation > 0 && invocation <= CHAOTIC_INVOCATIONS;
      const process = lives.spawn(chaotic && !crashedLast ? planCrash(random, 0.4) : undefined);
      const here = container;
      const poller = mortalPoller({ clock, sim, store, token: CHAOS_TOKEN, sourceId: SOURCE_ID }, process, {
        owner: `inv${invocation}`,
        deliverer: counting,
        log,
        ops: {
          alert: async (subject, message) => {
            alerts.push({ container: here, subject, message });
          },
        },
      });
      await invoke({
        poller,
        timeline,
        log: log.until(() => process.dead),
        start: CLOCK_START + invocation * SCHEDULE_MS,
        beforeTick: () => {
          if (!chaotic) return;
          const count = Math.floor(random() * 4);
          for (let i = 0; i < count; i += 1) injected.push(sim.inject().hash);
        },
      });
      crashedLast = lives.reap(process);
      if (crashedLast) {
        container += 1;
        current = createDeliverer({ config, topicArn: env.topicArn, ses: sandbox.client, sns });
      }
    }

    const events = injected.map((hash) => ({ id: hash, hash }));
    const channels = ['sns', ...VERIFIED.map((a) => `email:${a}`)];
    const judged = judgeCopies(
      events,
      channels,
      (id, channel) =>
        channel === 'sns' ? counting.copies(id, 'sns') : sandbox.copies(id, channel.slice('email:'.length)),
      explainer(lives.windows, log.mayBeSentTwice()),
    );
    const statuses = await recordStatuses(
      store,
      SOURCE_ID,
      judged.undelivered.map((e) => e.hash),
    );
    const problems: string[] = [];
    const leaked = sandbox.accepted.filter((a) => a.recipients.includes(REFUSED_ADDRESS)).length;
    if (leaked > 0) problems.push(`SES accepted ${leaked} e-mails naming the refused address`);
    const aboutIt = alerts.filter((a) => a.subject.includes(REFUSED_ADDRESS));
    const perContainer = new Map<number, number>();
    for (const a of aboutIt) perContainer.set(a.container, (perContainer.get(a.container) ?? 0) + 1);
    if (events.length > 0 && aboutIt.length === 0) problems.push('the operator was never told the address is refused');
    for (const [c, n] of perContainer)
      if (n > 1)
        problems.push(`the operator was told ${n} times about the refused address by one warm deliverer (${c})`);
    return {
      kind: 'partial-ses',
      variant: names ? 'SES names the address' : 'SES names nobody',
      seed,
      events: events.length,
      ...judged,
      ...sortUndelivered(judged.undelivered, (e) =>
        statuses.get(e.hash) === 'failed'
          ? 'given up'
          : {
              lost: `not delivered to SNS and every verified address (record ${statuses.get(e.hash) ?? 'absent'}${counting.failures.has(e.id) ? `; ${counting.failures.get(e.id)![0]!.slice(0, 200)}` : ''})`,
            },
      ),
      problems,
      unexpected: [],
      crashes: lives.crashes,
      faults: { 'SES sandbox': { rejections: sandbox.rejections() } },
      figures: { 'operator alerts about the refused address': aboutIt.length, 'cold starts': container },
      details: `${sandbox.rejections()} rejections, ${aboutIt.length} operator alerts about ${REFUSED_ADDRESS} over ${container + 1} deliverer(s)`,
      ms: performance.now() - started,
    };
  } finally {
    await sim.close();
  }
}
