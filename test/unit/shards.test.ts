/**
 * The shard assignment (lambda/config/shards.ts): every source in exactly one shard, shards
 * filled in config order, stable when a restaurant is added, pins honoured, and the event an
 * invocation gets read back to its shard.
 */
import { describe, expect, it } from 'vitest';
import { parseAlertsConfig } from '../../lambda/config/schema';
import { shardCount, shardEvent, shardOfEvent, shardsOf, sourcesOfShard } from '../../lambda/config/shards';

const sources = (n: number, prefix = 's') => Array.from({ length: n }, (_, i) => ({ id: `${prefix}${i}` }));
const config = (list: { id: string; shard?: number }[], sourcesPerShard = 25) => ({
  sources: list,
  polling: { sourcesPerShard },
});
/** source id → its shard. */
const placement = (c: ReturnType<typeof config>) =>
  new Map(shardsOf(c).flatMap((shard, n) => shard.map((s) => [s.id, n] as const)));

describe('shards', () => {
  it('fills the shards in config order, sourcesPerShard each', () => {
    const shards = shardsOf(config(sources(60)));
    expect(shards.map((s) => s.length)).toEqual([25, 25, 10]);
    expect(shards[1]![0]!.id).toBe('s25');
    expect(shardCount(config(sources(1)))).toBe(1);
    expect(shardCount(config(sources(500)))).toBe(20);
  });

  it('puts every source in exactly one shard', () => {
    const list = sources(123);
    const ids = shardsOf(config(list, 7)).flatMap((s) => s.map((x) => x.id));
    expect(ids.sort()).toEqual(list.map((s) => s.id).sort());
  });

  it('adding a restaurant at the end moves no other source', () => {
    for (const n of [1, 24, 25, 26, 119, 499]) {
      const before = placement(config(sources(n)));
      const after = placement(config([...sources(n), { id: 'new' }]));
      for (const [id, shard] of before) expect(after.get(id), `${n} sources: ${id}`).toBe(shard);
    }
  });

  it('inserting or removing one in the middle moves at most one source per later shard', () => {
    const list = sources(120);
    const before = placement(config(list));
    const inserted = placement(config([...list.slice(0, 10), { id: 'new' }, ...list.slice(10)]));
    const removed = placement(config([...list.slice(0, 10), ...list.slice(11)]));
    for (const after of [inserted, removed]) {
      const moved = [...before].filter(([id, shard]) => after.has(id) && after.get(id) !== shard);
      expect(moved.length).toBeLessThanOrEqual(4); // shards 1–4 each hand on (or take) one
      expect(new Set(moved.map(([id]) => before.get(id))).size).toBe(moved.length);
    }
  });

  it('honours pins, and fills around them', () => {
    const list = [{ id: 'slow', shard: 1 }, ...sources(4)];
    const shards = shardsOf(config(list, 2));
    expect(shards.map((s) => s.map((x) => x.id))).toEqual([['s0', 's1'], ['slow', 's2'], ['s3']]);
    expect(sourcesOfShard(config(list, 2), 1).map((s) => s.id)).toEqual(['slow', 's2']);
    expect(sourcesOfShard(config(list, 2), 7)).toEqual([]);
  });

  it('the config refuses a pin that leaves a shard empty or overfull, naming the field', () => {
    const base = { url: 'https://qr.example', token: { value: 't' } };
    expect(() =>
      parseAlertsConfig({
        sources: [
          { id: 'a', ...base },
          { id: 'b', ...base, shard: 3 },
        ],
      }),
    ).toThrow('sources[1].shard: shard 1 would have no source: number pinned shards from 0 without gaps');
    expect(() =>
      parseAlertsConfig({
        sources: [
          { id: 'a', ...base, shard: 0 },
          { id: 'b', ...base, shard: 0 },
        ],
        polling: { sourcesPerShard: 1 },
      }),
    ).toThrow('sources[1].shard: shard 0 has more pinned sources than polling.sourcesPerShard (1)');
  });

  it('reads the shard back from the event; none is shard 0', () => {
    expect(shardOfEvent(shardEvent(3), 4)).toEqual({ shard: 3, implicit: false });
    expect(shardOfEvent({}, 4)).toEqual({ shard: 0, implicit: true });
    expect(shardOfEvent(undefined, 1)).toEqual({ shard: 0, implicit: true });
    expect(shardOfEvent({ shard: 4 }, 4)).toMatchObject({ error: expect.stringContaining('4 shards') });
    expect(shardOfEvent({ shard: '1' }, 4)).toMatchObject({ error: expect.stringContaining('not a shard number') });
    expect(shardOfEvent({ shard: -1 }, 4).shard).toBeUndefined();
  });
});
