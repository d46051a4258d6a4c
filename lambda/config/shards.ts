/**
 * Which scheduled invocation polls which source: the sources are split into shards at synth time,
 * each shard has its own EventBridge Scheduler schedule whose event names it (`{ "shard": 3 }`),
 * and each invocation polls only its shard's sources. The CDK app, the handler, `npm start` and
 * the bench all read the split from here, so they cannot disagree.
 *
 * The rule: a source with `shard: n` is pinned there; the others fill the shards in config order,
 * lowest shard with room first, `polling.sourcesPerShard` to a shard (pinned ones included).
 * Appending a restaurant therefore moves nobody; inserting or removing one in the middle moves at
 * most one source per later shard (the last of each), never every other source. A moved source
 * loses nothing: its state and leases are per source, not per shard.
 * Pure and zod-free: it takes the few fields it reads, and imports nothing.
 */

/** What the assignment reads of a config. */
export interface ShardingInput {
  readonly sources: readonly { readonly id: string; readonly shard?: number | undefined }[];
  readonly polling: { readonly sourcesPerShard: number };
}

/** The shard that reads the staff bot's presses and runs anything else that is deployment-wide. */
export const LEAD_SHARD = 0;

/** Thrown for pins that leave a shard empty or overfull (the config schema reports it by field). */
export class ShardError extends Error {
  override readonly name = 'ShardError';
  constructor(
    message: string,
    /** Index of the source the problem is about, in `sources`. */
    readonly sourceIndex: number,
  ) {
    super(message);
  }
}

/**
 * The sources of each shard, shard 0 first; every source in exactly one, every shard non-empty.
 * Throws {@link ShardError} when a pin leaves a shard empty or puts more than `sourcesPerShard` in one.
 */
export function shardsOf<S extends ShardingInput['sources'][number]>(config: {
  readonly sources: readonly S[];
  readonly polling: ShardingInput['polling'];
}): S[][] {
  const perShard = config.polling.sourcesPerShard;
  const shards: S[][] = [];
  const shardAt = (n: number): S[] => {
    while (shards.length <= n) shards.push([]);
    return shards[n]!;
  };
  config.sources.forEach((source, i) => {
    if (source.shard === undefined) return;
    const shard = shardAt(source.shard);
    if (shard.length >= perShard)
      throw new ShardError(
        `shard ${source.shard} has more pinned sources than polling.sourcesPerShard (${perShard}): pin this one elsewhere or raise sourcesPerShard`,
        i,
      );
    shard.push(source);
  });
  let next = 0;
  for (const source of config.sources) {
    if (source.shard !== undefined) continue;
    while ((shards[next]?.length ?? 0) >= perShard) next += 1;
    shardAt(next).push(source);
  }
  if (shards.length === 0) shards.push([]);
  const empty = shards.findIndex((shard) => shard.length === 0);
  if (empty >= 0 && config.sources.length > 0) {
    const pinnedAbove = config.sources.findIndex((s) => s.shard !== undefined && s.shard > empty);
    throw new ShardError(
      `shard ${empty} would have no source: number pinned shards from 0 without gaps`,
      Math.max(0, pinnedAbove),
    );
  }
  return shards;
}

/** How many shards (and so schedules) the config needs. */
export function shardCount(config: ShardingInput): number {
  return shardsOf(config).length;
}

/** The sources one invocation of `shard` polls (none for a shard the config does not have). */
export function sourcesOfShard<S extends ShardingInput['sources'][number]>(
  config: { readonly sources: readonly S[]; readonly polling: ShardingInput['polling'] },
  shard: number,
): S[] {
  return shardsOf(config)[shard] ?? [];
}

/** The shard's schedule's event: what the handler reads back with {@link shardOfEvent}. */
export function shardEvent(shard: number): { readonly shard: number } {
  return { shard };
}

export type EventShard =
  | { readonly shard: number; readonly implicit: boolean }
  | { readonly error: string; readonly shard?: undefined };

/**
 * The shard an invocation is told in its event. An event without one (a schedule made before the
 * shards, `npm start`, a test's `{}`) is the lead shard 0 — with one shard, every source.
 * Anything else that is not a shard number, or a shard past `count`, is an error (polled: nothing).
 */
export function shardOfEvent(event: unknown, count: number): EventShard {
  const shard = typeof event === 'object' && event !== null ? (event as { shard?: unknown }).shard : undefined;
  if (shard === undefined) return { shard: LEAD_SHARD, implicit: true };
  if (typeof shard !== 'number' || !Number.isInteger(shard) || shard < 0)
    return { error: `the event's shard is not a shard number: ${JSON.stringify(shard)?.slice(0, 40)}` };
  if (shard >= count)
    return {
      error: `the event names shard ${shard}, but the config has ${count} shard${count === 1 ? '' : 's'} (a schedule left from an older deploy?)`,
    };
  return { shard, implicit: false };
}
