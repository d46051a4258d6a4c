/**
 * CloudWatch metric names the poller emits (EMF, through Powertools Metrics) and the alarms and
 * dashboard of the CDK stack read. Every metric carries the dimensions `service` and `source`.
 */
import type { FetchErrorKind } from './fetch';

export const METRICS_NAMESPACE_PREFIX = 'QrmenuAlerts';
export const METRICS_SERVICE = 'qrmenu-alerts';
/** Dimension naming the QR-menu server (source id). */
export const SOURCE_DIMENSION = 'source';

/** `QrmenuAlerts/<deployment name>`: two deployments in one account never mix their figures. */
export function metricsNamespace(deploymentName: string): string {
  return `${METRICS_NAMESPACE_PREFIX}/${deploymentName}`;
}

export const METRIC = {
  /** Heartbeat: one per successful poll. The "no successful poll" alarm watches it. */
  pollSucceeded: 'PollSucceeded',
  /** Polls that failed after their retries, whatever the kind. */
  pollErrors: 'PollErrors',
  /** Token rejected by the server (401/403 or result:false saying so). */
  authErrors: 'AuthErrors',
  /** The token could not be read (Secrets Manager unreachable/throttled/denied, secret empty, env unset): not a rejection. */
  secretErrors: 'SecretErrors',
  unreachableErrors: 'UnreachableErrors',
  tlsErrors: 'TlsErrors',
  serverErrors: 'ServerErrors',
  badResponseErrors: 'BadResponseErrors',
  /** Events in the server's answers, old and new. */
  eventsReceived: 'EventsReceived',
  /** Events seen for the first time and claimed for delivery. */
  eventsNew: 'EventsNew',
  duplicatesSkipped: 'DuplicatesSkipped',
  /** Repeats from one table within the cooldown: recorded, not sent. */
  eventsSuppressed: 'EventsSuppressed',
  /** Events already queued at the first poll of a source: recorded as seen, not sent. */
  baselineRecorded: 'BaselineRecorded',
  /** Events without a usable hash, reported and skipped. */
  malformedEvents: 'MalformedEvents',
  delivered: 'Delivered',
  deliveryRetries: 'DeliveryRetries',
  /** Events given up on (attempts exhausted or a permanent error). */
  deliveryFailed: 'DeliveryFailed',
  /** ms from the first time the poller saw an event to its delivery. */
  deliveryLatency: 'DeliveryLatency',
  /** ms one source's tick took (poll, claim, deliver, mark). */
  tickLatency: 'TickLatency',
  /** The last successful poll is older than the server's retention: events may have been missed. */
  possibleGap: 'PossibleGap',
  /** A DynamoDB call of the poll cycle failed (throttled, timed out, 5xx…); the work is retried. */
  stateErrors: 'StateErrors',
  /** A `hash=none` poll failed; it is backed off and the cursor is used meanwhile. */
  reconcileFailures: 'ReconcileFailures',
  /** The server's queue was found rebuilt (events lost out of order, a hash back with another table or code). */
  queueResets: 'QueueResets',
  /** A hash with a record came back as a new event (the server reused it): delivered as new. */
  reusedHashes: 'ReusedHashes',
  /** An event whose record DynamoDB refuses even in its smallest form: not delivered, the operator told. */
  poisonEvents: 'PoisonEvents',
  /** A send whose outcome is unknown (no answer in time) was retried: it may have gone out twice. */
  ambiguousSends: 'AmbiguousSends',
  /** A delivery whose outcome could not be written before the run ended: the next run may send it again. */
  unmarkedDeliveries: 'UnmarkedDeliveries',
  /** Recipients a service refused while the others got the alert (e.g. unverified in the SES sandbox). */
  refusedRecipients: 'RefusedRecipients',
  /** An unacknowledged attendance call sent again to its escalation route (one per step). */
  escalations: 'Escalations',
  /** An attendance call whose last escalation step went out and nobody has acknowledged yet. */
  unansweredCalls: 'UnansweredCalls',
  /** ms from the call first seen to the press of "On my way". */
  timeToAcknowledge: 'TimeToAcknowledge',
  /** Presses of "On my way" that acknowledged a call (the first per call). */
  acknowledgements: 'Acknowledgements',
  /** Telegram sends that failed after their retries (each chat counts). */
  telegramFailures: 'TelegramFailures',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/**
 * Metrics also emitted for the whole deployment (dimension `service` only): the alarms on them do
 * not multiply with the sources. The source each came from is in the poller's log lines.
 */
export const DEPLOYMENT_METRICS: ReadonlySet<MetricName> = new Set([
  METRIC.stateErrors,
  METRIC.reconcileFailures,
  METRIC.poisonEvents,
  METRIC.unmarkedDeliveries,
  METRIC.ambiguousSends,
  METRIC.telegramFailures,
  METRIC.escalations,
  METRIC.unansweredCalls,
  METRIC.acknowledgements,
  METRIC.timeToAcknowledge,
]);

/** The metric counting one kind of poll error. */
export const POLL_ERROR_METRIC = {
  auth: METRIC.authErrors,
  secret: METRIC.secretErrors,
  unreachable: METRIC.unreachableErrors,
  tls: METRIC.tlsErrors,
  server: METRIC.serverErrors,
  bad_response: METRIC.badResponseErrors,
} as const satisfies Record<FetchErrorKind, MetricName>;
