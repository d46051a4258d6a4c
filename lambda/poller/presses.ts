/**
 * The staff loop's other half: presses of "On my way" read from the staff bot (a Telegram long
 * poll, which is how the wait between two ticks is spent), each acknowledging its call once.
 *
 *   begin   take the bot's lease (one reader of its updates at a time) and its saved offset
 *   poll    wait for presses; for each, the first press of a call wins (a conditional write),
 *           its messages are edited to show who is coming, the presser is answered; then the
 *           offset moves past the batch (Telegram re-sends a batch until the offset confirms it)
 *   end     save the offset and release the lease
 *
 * A press processed again after a crash finds its own acknowledgement on the record: the edits
 * are made again (harmless), nothing is counted twice.
 */
import { METRIC } from '../domain/metrics';
import type {
  BotStore,
  Clock,
  EventStore,
  Log,
  Observer,
  OpsNotifier,
  SourceMetrics,
  StaffBot,
  StaffPress,
} from '../domain/ports';
import { describeError } from './source-context';

export interface PressLoopOptions {
  /** The bot's item name in the table (one per bot). */
  readonly bot: string;
  readonly staff: StaffBot;
  readonly store: EventStore & BotStore;
  /** The sources this deployment polls, by id → their display name. */
  readonly sources: ReadonlyMap<string, string>;
  readonly owner: string;
  readonly clock: Clock;
  readonly log: Log;
  /** The staff loop's own metrics (its state errors). */
  readonly metrics: SourceMetrics;
  /** A call's metrics go to its source's (acknowledgements, time to acknowledge). Default: `metrics`. */
  readonly metricsFor?: (sourceId: string) => SourceMetrics;
  readonly observer?: Observer;
  /** Told when the bot is added to a chat (its id goes into a route). */
  readonly ops?: OpsNotifier;
  /** Longest single long poll. Default 25 s. */
  readonly maxWaitSeconds?: number;
}

export interface PressReport {
  readonly presses: number;
  readonly acknowledged: number;
  /** The bot could not be read (the caller waits before the next poll). */
  readonly failed?: true;
}

export class PressLoop {
  readonly #o: PressLoopOptions;
  #leased = false;
  #offset: number | undefined;

  constructor(options: PressLoopOptions) {
    this.#o = options;
  }

  get holdsLease(): boolean {
    return this.#leased;
  }

  async begin(leaseUntil: number): Promise<boolean> {
    const { store, clock, log, bot, owner } = this.#o;
    try {
      const lease = await store.acquireBotLease(bot, owner, clock.now(), leaseUntil);
      this.#leased = lease.acquired;
      this.#offset = lease.offset;
      if (!lease.acquired) log.info("another invocation reads the staff bot's presses; waiting for it", { bot });
    } catch (error) {
      this.#o.metrics.count(METRIC.stateErrors);
      log.error("could not take the staff bot's lease; presses are read on the next try", {
        bot,
        error: describeError(error),
      });
    }
    return this.#leased;
  }

  /** Wait for presses until `until` (at most `maxWaitSeconds`), process them, confirm them. Never throws. */
  async poll(until: number): Promise<PressReport> {
    if (!this.#leased) return { presses: 0, acknowledged: 0 };
    const { staff, clock, log } = this.#o;
    const waitSeconds = Math.max(0, Math.min(this.#o.maxWaitSeconds ?? 25, Math.floor((until - clock.now()) / 1000)));
    let batch: Awaited<ReturnType<StaffBot['nextPresses']>>;
    try {
      batch = await staff.nextPresses(this.#offset, waitSeconds);
    } catch (error) {
      log.warn('reading presses from the staff bot failed; tried again on the next poll', {
        error: describeError(error),
      });
      return { presses: 0, acknowledged: 0, failed: true };
    }
    for (const chat of batch.chats) {
      log.info(chat.added ? 'the bot was added to a chat' : 'the bot was removed from a chat', {
        chat: chat.id,
        title: chat.title,
      });
      if (chat.added) {
        await quietly(
          () =>
            this.#o.ops?.alert(
              `qrmenu-alerts: the bot was added to "${chat.title.slice(0, 60)}"`,
              `The Telegram bot was added to the chat "${chat.title.slice(0, 100)}" (id ${chat.id}). To send calls there, add ` +
                `telegram: [${chat.id}] to a route of the config and run cdk deploy.`,
            ) ?? Promise.resolve(),
        );
      }
    }
    // In the order they were made: of two presses on one call, the first must win.
    const outcomes: PromiseSettledResult<boolean>[] = [];
    for (const press of batch.presses) {
      try {
        outcomes.push({ status: 'fulfilled', value: await this.#process(press) });
      } catch (reason) {
        outcomes.push({ status: 'rejected', reason });
        break; // the rest of the batch is read again, in order
      }
    }
    const failed = outcomes.filter((o) => o.status === 'rejected');
    if (failed.length > 0) {
      // Not confirmed: Telegram sends the batch again, and what was done is recognised then.
      this.#o.metrics.count(METRIC.stateErrors, failed.length);
      log.error('presses could not be recorded; they are read again', {
        failed: failed.length,
        error: describeError((failed[0] as PromiseRejectedResult).reason),
      });
    } else if (batch.nextOffset !== undefined) {
      this.#offset = batch.nextOffset;
    }
    return {
      presses: batch.presses.length,
      acknowledged: outcomes.filter((o) => o.status === 'fulfilled' && o.value).length,
    };
  }

  /** Save the offset and give the lease up. Never throws. */
  async end(): Promise<void> {
    if (!this.#leased) return;
    this.#leased = false;
    const { store, bot, owner, log } = this.#o;
    try {
      const saved = await store.saveBotOffset(bot, owner, this.#offset ?? 0, { release: true });
      if (!saved)
        log.warn("the staff bot's lease ended before its offset was saved; presses may be read again", { bot });
    } catch (error) {
      this.#o.metrics.count(METRIC.stateErrors);
      log.error("could not save the staff bot's offset; presses may be read again", { error: describeError(error) });
    }
  }

  /** One press; true when it acknowledged a call. Throws only when the record could not be read or written. */
  async #process(press: StaffPress): Promise<boolean> {
    const { staff, store, sources, metrics, observer, log } = this.#o;
    const call = press.call;
    if (call === undefined || !sources.has(call.sourceId)) {
      await quietly(() => staff.answer(press, { kind: 'stale' }));
      return false;
    }
    const outcome = await store.acknowledge(call.sourceId, call.recordId, {
      at: press.at,
      by: press.by.name,
      byId: press.by.id,
      pressId: press.id,
    });
    if (outcome.outcome === 'unknown') {
      await quietly(() => staff.answer(press, { kind: 'stale' }));
      return false;
    }
    if (outcome.outcome === 'taken') {
      await quietly(() => staff.answer(press, { kind: 'taken', by: outcome.call.ackBy }));
      return false;
    }
    const { call: acked } = outcome;
    const responseMs = acked.ackAt - acked.firstSeenAt;
    const edits = Object.entries(acked.messages).flatMap(([key, messageId]) =>
      key.startsWith('telegram:') ? [{ chat: key.slice('telegram:'.length).split('#')[0]!, messageId }] : [],
    );
    await Promise.allSettled(
      edits.map(({ chat, messageId }) =>
        staff.showAcknowledged(chat, messageId, { table: acked.table, code: acked.code, by: acked.ackBy, responseMs }),
      ),
    );
    await quietly(() => staff.answer(press, { kind: 'accepted', table: acked.table }));
    if (outcome.outcome === 'repeated') return false; // counted when it first happened
    const ofSource = this.#o.metricsFor?.(call.sourceId) ?? metrics;
    ofSource.count(METRIC.acknowledgements);
    ofSource.milliseconds(METRIC.timeToAcknowledge, responseMs);
    log.info('a call was acknowledged', {
      source: call.sourceId,
      hash: acked.hash,
      table: acked.table,
      by: acked.ackBy,
      responseMs,
    });
    observer?.({
      type: 'acknowledged',
      source: call.sourceId,
      hash: acked.hash,
      table: acked.table,
      by: acked.ackBy,
      responseMs,
    });
    return true;
  }
}

async function quietly(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
  } catch {
    // An answer that does not reach the presser changes nothing recorded.
  }
}
