/**
 * CloudWatch metric names the poll cycle counts, and which of them become CloudWatch metrics:
 * CloudWatch bills every series (name × dimension values) 0.30 USD a month, so a name is emitted
 * only where an alarm or the dashboard reads it (`METRIC_USE`). The alarm reads one series for
 * the whole deployment, `NeedsAttention` (dimension `service` only): each condition that needs
 * the operator adds its weight, so that its own threshold reaches the alarm's. The dashboard,
 * when a deployment switches it on, reads its names per source (dimensions `service`, `source`).
 * Everything counted is also in the log lines, each with its source: nothing is lost for
 * debugging. `metricSeries` says how many series a deployment creates (the cost model uses it).
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
  /** ms since a source's last successful poll, given with each failed poll (never polled: Infinity). */
  pollSilence: 'PollSilence',
} as const;

export type MetricName = (typeof METRIC)[keyof typeof METRIC];

/** The one series the operator's alarm reads: the weighted sum of the conditions in `METRIC_USE`. */
export const ATTENTION_METRIC = 'NeedsAttention';
/** The alarm fires when `NeedsAttention` sums to this in 5 minutes (the least common multiple of the thresholds). */
export const ATTENTION_ALARM_THRESHOLD = 15;
/** A source with no successful poll for this long needs the operator (each further failed poll adds to the alarm). */
export const NO_POLL_ALARM_MS = 5 * 60_000;

/**
 * What reads each name. `alarmAt`: this many occurrences in 5 minutes need the operator (each
 * adds ATTENTION_ALARM_THRESHOLD / alarmAt to NeedsAttention; for `pollSilence` an occurrence is a
 * failed poll NO_POLL_ALARM_MS or more after the last success). `dashboard`: a per-source graph.
 * A name with neither is counted in the logs only.
 */
export const METRIC_USE: Readonly<Record<MetricName, { readonly alarmAt?: 1 | 3 | 5; readonly dashboard?: true }>> = {
  PollSucceeded: { dashboard: true },
  PollErrors: { dashboard: true },
  AuthErrors: { alarmAt: 1, dashboard: true },
  SecretErrors: { alarmAt: 3, dashboard: true },
  UnreachableErrors: { dashboard: true },
  TlsErrors: { dashboard: true },
  ServerErrors: { dashboard: true },
  BadResponseErrors: { dashboard: true },
  EventsReceived: { dashboard: true },
  EventsNew: { dashboard: true },
  DuplicatesSkipped: { dashboard: true },
  EventsSuppressed: { dashboard: true },
  BaselineRecorded: {},
  MalformedEvents: {},
  Delivered: { dashboard: true },
  DeliveryRetries: { dashboard: true },
  DeliveryFailed: { alarmAt: 1, dashboard: true },
  DeliveryLatency: { dashboard: true },
  TickLatency: { dashboard: true },
  PossibleGap: { alarmAt: 1, dashboard: true },
  StateErrors: { alarmAt: 5 },
  ReconcileFailures: { alarmAt: 3 },
  QueueResets: {},
  ReusedHashes: {},
  PoisonEvents: { alarmAt: 1 },
  AmbiguousSends: {},
  UnmarkedDeliveries: { alarmAt: 1 },
  RefusedRecipients: {},
  Escalations: {},
  UnansweredCalls: { alarmAt: 1 },
  TimeToAcknowledge: {},
  Acknowledgements: {},
  TelegramFailures: { alarmAt: 3 },
  PollSilence: { alarmAt: 1 },
};

/** The names the dashboard graphs per source (emitted with the `source` dimension only when it is on). */
export const DASHBOARD_METRICS: ReadonlySet<MetricName> = new Set(
  (Object.keys(METRIC_USE) as MetricName[]).filter((name) => METRIC_USE[name].dashboard === true),
);

/** What one occurrence of `name` (with `value`, for a duration) adds to NeedsAttention. */
export function attentionWeight(name: MetricName, value: number): number {
  const at = METRIC_USE[name].alarmAt;
  if (at === undefined) return 0;
  if (name === METRIC.pollSilence) return value >= NO_POLL_ALARM_MS ? ATTENTION_ALARM_THRESHOLD : 0;
  return (ATTENTION_ALARM_THRESHOLD / at) * value;
}

/**
 * The distinct CloudWatch series a deployment can create (each billed 0.30 USD a month, prorated by
 * the hours it is emitted in): NeedsAttention, only in hours with trouble; with the dashboard, its
 * names per source.
 */
export function metricSeries(deployment: { readonly sources: number; readonly dashboard: boolean }): {
  readonly attention: number;
  readonly dashboard: number;
} {
  const perSource = deployment.dashboard ? DASHBOARD_METRICS.size : 0;
  return { attention: 1, dashboard: perSource * deployment.sources };
}

/**
 * The environment variable the stack sets ("true") when the dashboard is on: the poller then also
 * emits the dashboard's names per source.
 */
export const METRICS_PER_SOURCE_ENV = 'QRMENU_METRICS_PER_SOURCE';

/** The metric counting one kind of poll error. */
export const POLL_ERROR_METRIC = {
  auth: METRIC.authErrors,
  secret: METRIC.secretErrors,
  unreachable: METRIC.unreachableErrors,
  tls: METRIC.tlsErrors,
  server: METRIC.serverErrors,
  bad_response: METRIC.badResponseErrors,
} as const satisfies Record<FetchErrorKind, MetricName>;
