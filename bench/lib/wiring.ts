/**
 * The bench's restaurant config and the handler wired as `createDefaultHandler`
 * (lambda/handler.ts) wires it — the real StateStore, `createDeliverer` over SES and SNS, the
 * handler's own `qrMenuFetcher`, Powertools logs and metrics — except that the AWS clients are
 * created here so that the AwsMeter can count and time their calls, and each delivery's calls
 * carry the event's hash as their label.
 */
import type { Context } from 'aws-lambda';
import { CLIENT_DEFAULTS } from '../../lambda/aws/clients';
import { parseAlertsConfig, type AlertsConfig } from '../../lambda/config/schema';
import { createPollHandler, qrMenuFetcher, SAFETY_MS, type PollHandler } from '../../lambda/handler';
import { createDeliverer } from '../../lambda/notify/deliverer';
import type { Deliverer, DeliveryResult } from '../../lambda/domain/delivery';
import { createSesClient } from '../../lambda/notify/ses';
import { createSnsClient } from '../../lambda/notify/sns';
import { metricsNamespace } from '../../lambda/domain/metrics';
import { createLogger, createSourceMetrics } from '../../lambda/obs/telemetry';
import type { Clock, Log } from '../../lambda/domain/ports';
import { LEASE_MARGIN_MS } from '../../lambda/poller/source-poller';
import { DynamoDb } from '../../lambda/state/dynamodb';
import { StateStore } from '../../lambda/state/store';
import type { AwsMeter } from './aws-meter';

export const BENCH_TOKEN = 'bench-token-5f1c2a9e77';

export interface BenchSource {
  readonly id: string;
  readonly url: string;
  readonly fingerprint256?: string;
}

/**
 * One restaurant: waiters paged by SMS, a manager by SMS and e-mail, a mailbox that gets every
 * event — so each event is one SNS publish and one SES e-mail (1–2 recipients).
 * `cooldownSeconds` is 0: the bench measures delivery, not the collapsing of repeats. Every other
 * setting is the product's default unless a parameter says otherwise.
 */
export function benchConfig(
  sources: readonly BenchSource[],
  /** Default: the product's default (PollingSchema). */
  intervalSeconds?: number,
  deliveryConcurrency?: number,
): AlertsConfig {
  return parseAlertsConfig(
    {
      name: 'bench',
      locale: 'ru',
      sources: sources.map((s) => ({
        id: s.id,
        name: `Bench ${s.id}`,
        url: s.url,
        // Simulators without TLS (the chaos suite's) are plain http on loopback.
        allowPlainHttp: s.url.startsWith('http:'),
        ...(s.fingerprint256 ? { tls: { fingerprint256: s.fingerprint256 } } : {}),
        token: { value: BENCH_TOKEN },
      })),
      zones: { hall: ['1-19'], terrace: ['20-30'] },
      routes: [
        {
          name: 'waiters',
          codes: ['waiter_call', 'waiter_call_cash'],
          tables: ['hall', 'terrace'],
          sms: ['+79160000001'],
        },
        {
          name: 'manager',
          codes: ['bill_request', 'waiter_call_cash', 'order_paid'],
          email: ['manager@bench.example'],
          sms: ['+79160000004'],
        },
        { name: 'log', email: ['log@bench.example'] },
      ],
      email: { from: 'alerts@bench.example' },
      polling: intervalSeconds === undefined ? {} : { intervalSeconds },
      delivery: {
        cooldownSeconds: 0,
        ...(deliveryConcurrency !== undefined ? { concurrency: deliveryConcurrency } : {}),
      },
    },
    'the bench config',
  );
}

export interface WiredHandler {
  readonly handler: PollHandler;
  readonly store: StateStore;
}

export interface WireOptions {
  readonly config: AlertsConfig;
  readonly tableName: string;
  readonly topicArn: string;
  readonly meter: AwsMeter;
  readonly clock?: Clock;
  /** Default: the Powertools logger (stdout). */
  readonly log?: Log;
  /** Told every delivery's answer (per channel: sent, failed, or deferred by the pacer). */
  readonly onDelivered?: (result: DeliveryResult) => void;
}

export function wireHandler(options: WireOptions): WiredHandler {
  const { config, meter } = options;
  const log = options.log ?? createLogger();
  const namespace = metricsNamespace(config.name);
  const store = new StateStore({
    tableName: options.tableName,
    client: new DynamoDb({
      maxAttempts: 4,
      returnConsumedCapacity: 'INDEXES',
      requestHandler: meter.handler('dynamodb'),
    }),
  });
  const real = createDeliverer({
    config,
    topicArn: options.topicArn,
    ses: createSesClient({ requestHandler: meter.handler('ses') }),
    sns: createSnsClient({ requestHandler: meter.handler('sns') }),
    sendSlots: store,
    onPacingFallback: (message) => log.warn(message, {}),
  });
  const deliverer: Deliverer = {
    deliver: async (request) => {
      const result = await meter.withLabel(request.event.hash, () => real.deliver(request));
      options.onDelivered?.(result);
      return result;
    },
  };
  const handler = createPollHandler({
    config,
    store,
    deliverer,
    log,
    metricsFor: (sourceId) => createSourceMetrics(namespace, sourceId),
    fetchFor: (source) => qrMenuFetcher(source, config, { log, ...(options.clock ? { clock: options.clock } : {}) }),
    ...(options.clock ? { clock: options.clock } : {}),
  });
  return { handler, store };
}

/** What Lambda passes: the time left until `deadline` on `now`'s clock, and a request id. */
export function lambdaContext(
  deadline: number,
  now: () => number = Date.now,
  requestId = 'bench',
): Pick<Context, 'getRemainingTimeInMillis' | 'awsRequestId'> {
  return { getRemainingTimeInMillis: () => Math.max(0, deadline - now()), awsRequestId: requestId };
}

/** Remaining time that lets the handler tick exactly once: its stopAt falls 1 s after the start. */
export const ONE_TICK_REMAINING_MS = SAFETY_MS + 1_000;

/**
 * Remaining time of a short follow-up run that also sends what it claims (the last invocation of
 * a measured run): it polls for 18 s, and a send started then still has its whole budget before
 * the lease's margin (lambda/poller/decisions.ts, sendDeadline). With ONE_TICK_REMAINING_MS its
 * claims would wait for a run that never comes.
 */
export const FOLLOW_UP_REMAINING_MS = SAFETY_MS + CLIENT_DEFAULTS.sendTimeoutMs + LEASE_MARGIN_MS;
