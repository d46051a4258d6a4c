/**
 * Test doubles and wiring for poll-cycle tests over the real peers: a manual clock shared by the
 * simulator and the pollers, a DynamoDB client that counts the requests it sends (what the
 * "empty tick writes nothing" and "2 writes per event" checks read), a recording deliverer whose
 * channels can be made to fail, recording metrics, and `makePoller` to build a SourcePoller on
 * a fresh table the way the handler does.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDb } from '../../lambda/state/dynamodb';
import { interceptingHandler } from './wire';
import { ensureStateTable } from '../../local/state-table';
import type { Simulator } from '../../local/simulator';
import type {
  Channel,
  ChannelResult,
  Deliverer,
  DeliveryErrorKind,
  DeliveryRequest,
} from '../../lambda/domain/delivery';
import type { MetricName } from '../../lambda/domain/metrics';
import type {
  Clock,
  EventStore,
  FeedEntry,
  Log,
  OpsNotifier,
  SourceMetrics,
  SourceStore,
} from '../../lambda/domain/ports';
import type { FetchEvents } from '../../lambda/domain/fetch';
import { DEFAULT_RETRY_DELAYS } from '../../lambda/domain/record';
import { SourcePoller, type PollerSettings } from '../../lambda/poller/source-poller';
import { QrMenuClient } from '../../lambda/qrmenu/client';
import type { StateStore } from '../../lambda/state/store';
export { seededRandom } from './random';

/**
 * A clock that moves only when told. It starts years before real time on purpose: code that mixes
 * it with Date.now (a deadline from one, "now" from the other) fails at once, not on some later day.
 */
export class ManualClock implements Clock {
  constructor(public t = Date.UTC(2020, 0, 6, 18, 0, 0)) {}
  now = (): number => this.t;
  sleep = async (ms: number): Promise<void> => {
    this.t += Math.max(0, ms);
  };
  advance(ms: number): void {
    this.t += ms;
  }
}

const WRITE_ACTIONS = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem', 'TransactWriteItems']);

/** The SDK's client, for what the tests themselves do to DynamoDB Local (tables, raw items). */
export const adminDynamoDb = new DynamoDBClient({ maxAttempts: 2 });

/** The store's DynamoDB client (pointed at DynamoDB Local by the test environment), counting its requests by action. */
export function countingDynamoDbClient(): {
  client: DynamoDb;
  /** The SDK's client for the test's own setup and checks (not counted). */
  admin: DynamoDBClient;
  counts: Map<string, number>;
  writes(): number;
  reads(): number;
} {
  const counts = new Map<string, number>();
  const client = new DynamoDb({
    maxAttempts: 2,
    requestHandler: interceptingHandler((call, send) => {
      counts.set(call.action, (counts.get(call.action) ?? 0) + 1);
      return send();
    }),
  });
  const sum = (pick: (name: string) => boolean) => [...counts].filter(([n]) => pick(n)).reduce((s, [, c]) => s + c, 0);
  return {
    client,
    admin: adminDynamoDb,
    counts,
    writes: () => sum((n) => WRITE_ACTIONS.has(n)),
    reads: () => sum((n) => !WRITE_ACTIONS.has(n)),
  };
}

/** A new state table in DynamoDB Local, with a random name. */
export async function freshTable(): Promise<string> {
  const name = `state-${randomUUID().slice(0, 8)}`;
  await ensureStateTable(adminDynamoDb, name);
  return name;
}

/**
 * Records every delivery; `failing` makes channels fail with a kind until it is cleared, and
 * `lateAnswer` makes a channel's send go out but answer too late (a failure flagged `ambiguous`).
 */
export class RecordingDeliverer implements Deliverer {
  readonly deliveries: {
    hash: string;
    /** Channels that went out (late answers included). */
    channels: Channel[];
    request: DeliveryRequest;
    /** `now()` at the delivery, when a clock was given. */
    at?: number;
    /** Channels that went out but were reported as failed (ambiguous). */
    late?: Channel[];
  }[] = [];
  failing: Partial<Record<Channel, DeliveryErrorKind>> = {};
  /** Called before each delivery (e.g. to crash a poller mid-delivery). */
  beforeDeliver?: (request: DeliveryRequest) => void;
  /**
   * AWS accepted the send but its answer came after the client gave up: the message goes out
   * (it is recorded) and the result is a transient failure flagged `ambiguous`. Asked per channel.
   */
  lateAnswer?: (request: DeliveryRequest, channel: Channel) => boolean;
  /** Stamps each delivery with this clock (`at`). */
  now?: () => number;

  async deliver(request: DeliveryRequest) {
    this.beforeDeliver?.(request);
    const late: Channel[] = [];
    const channels: ChannelResult[] = (['email', 'sns'] as const)
      .filter((c) => !request.skip?.includes(c))
      .map((channel) => {
        const kind = this.failing[channel];
        if (kind) return { channel, ok: false as const, kind, message: `${channel} is failing (${kind})` };
        if (this.lateAnswer?.(request, channel)) {
          late.push(channel);
          return {
            channel,
            ok: false as const,
            kind: 'transient' as const,
            message: `no answer from ${channel} in time: it may have accepted the message (a retry may send it twice)`,
            ambiguous: true as const,
          };
        }
        return { channel, ok: true as const, recipients: [`${channel}-recipient`], messageIds: [randomUUID()] };
      });
    const sent = channels.filter((c) => c.ok || late.includes(c.channel)).map((c) => c.channel);
    if (sent.length > 0) {
      this.deliveries.push({
        hash: request.event.hash,
        channels: sent,
        request,
        ...(this.now ? { at: this.now() } : {}),
        ...(late.length > 0 ? { late } : {}),
      });
    }
    return { channels };
  }

  /** How many times each hash went out on a channel. */
  count(hash: string, channel: Channel = 'sns'): number {
    return this.deliveries.filter((d) => d.hash === hash && d.channels.includes(channel)).length;
  }
}

export class RecordingMetrics implements SourceMetrics {
  readonly totals = new Map<MetricName, number>();
  count(name: MetricName, value = 1): void {
    this.totals.set(name, (this.totals.get(name) ?? 0) + value);
  }
  milliseconds(): void {}
  flush(): void {}
  get(name: MetricName): number {
    return this.totals.get(name) ?? 0;
  }
}

export class RecordingLog implements Log {
  readonly lines: { level: string; message: string; attributes?: Record<string, unknown> }[] = [];
  debug = (message: string, attributes?: Record<string, unknown>) => this.#add('debug', message, attributes);
  info = (message: string, attributes?: Record<string, unknown>) => this.#add('info', message, attributes);
  warn = (message: string, attributes?: Record<string, unknown>) => this.#add('warn', message, attributes);
  error = (message: string, attributes?: Record<string, unknown>) => this.#add('error', message, attributes);
  #add(level: string, message: string, attributes?: Record<string, unknown>) {
    this.lines.push({ level, message, ...(attributes ? { attributes } : {}) });
  }
  text(): string {
    return JSON.stringify(this.lines);
  }
}

export class RecordingOps implements OpsNotifier {
  readonly alerts: { subject: string; message: string }[] = [];
  async alert(subject: string, message: string): Promise<void> {
    this.alerts.push({ subject, message });
  }
}

export const TEST_SETTINGS: PollerSettings = {
  intervalMs: 10_000,
  retentionMs: 300_000,
  reconcileMs: 30_000,
  cooldownMs: 0,
  claimTimeoutMs: 30_000,
  maxAttempts: 5,
  retryForMs: 600_000,
  ...DEFAULT_RETRY_DELAYS,
  deliverBacklog: false,
  recordTtlSeconds: 3_600,
  concurrency: 8,
  // The manual clock stands still during a send: a send needs no time of the tick here.
  sendBudgetMs: 1_000,
};

export interface PollerKit {
  readonly clock: ManualClock;
  readonly store: StateStore;
  readonly sim: Simulator;
  readonly token: string;
  readonly sourceId?: string;
}

/** A SourcePoller as the handler builds it, over the kit's store and simulator. */
export function makePoller(
  kit: PollerKit,
  options: {
    owner?: string;
    settings?: Partial<PollerSettings>;
    deliverer?: Deliverer;
    metrics?: SourceMetrics;
    log?: Log;
    ops?: OpsNotifier;
    observer?: (entry: FeedEntry) => void;
    store?: SourceStore & EventStore;
    /** Wrap the QR-menu fetch (fault or crash injection at that port). */
    wrapFetch?: (fetch: FetchEvents) => FetchEvents;
  } = {},
): SourcePoller {
  const client = new QrMenuClient({
    baseUrl: kit.sim.url,
    token: kit.token,
    ...(kit.sim.fingerprint256 ? { tls: { fingerprint256: kit.sim.fingerprint256 } } : {}),
    requestTimeoutMs: 2_000,
    retries: 1,
    minBackoffMs: 1,
    maxBackoffMs: 5,
    now: kit.clock.now, // deadlines come from the manual clock: measure them with it
  });
  return new SourcePoller({
    source: { id: kit.sourceId ?? 'pizzeria', name: 'Пиццерия' },
    settings: { ...TEST_SETTINGS, ...options.settings },
    owner: options.owner ?? `owner-${randomUUID().slice(0, 6)}`,
    store: options.store ?? kit.store,
    fetchEvents: (options.wrapFetch ?? ((f) => f))((cursor, o) => client.fetchEvents(cursor, o)),
    deliverer: options.deliverer ?? new RecordingDeliverer(),
    clock: kit.clock,
    log: options.log ?? new RecordingLog(),
    metrics: options.metrics ?? new RecordingMetrics(),
    ...(options.ops ? { ops: options.ops } : {}),
    ...(options.observer ? { observer: options.observer } : {}),
  });
}

/** Thrown by the ports of a dead poller (test/support/crash-points.ts), as a killed process makes no more calls. */
export class SimulatedCrash extends Error {
  override readonly name = 'SimulatedCrash';
}
