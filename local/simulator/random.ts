/**
 * A small seeded random source (mulberry32) so that the simulator is reproducible: the same seed
 * gives the same hashes, the same generated events and the same fault decisions.
 *
 * The simulator draws from several independent streams (`forkRandom(seed, 'hashes')`, …) so that,
 * for instance, a fault decision never shifts the hashes that later events get.
 */

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number;
  /** One item of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** One item of a non-empty list, each with a relative weight. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  /** `true` with probability `share` (0..1). */
  chance(share: number): boolean;
  /** `count` lowercase hex digits. */
  hex(count: number): string;
}

/** A random 32-bit seed from the OS, for runs that did not ask for one. */
export function randomSeed(): number {
  return crypto.getRandomValues(new Uint32Array(1))[0] ?? 1;
}

/** A seeded stream (mulberry32: fast, 32-bit state, good enough for simulation — not for secrets). */
export function createRandom(seed: number): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(items: readonly T[]): T => {
    if (items.length === 0) throw new RangeError('pick() needs at least one item');
    return items[int(0, items.length - 1)] as T;
  };
  return {
    next,
    int,
    pick,
    weighted<T>(items: readonly (readonly [T, number])[]): T {
      const total = items.reduce((sum, [, weight]) => sum + weight, 0);
      let roll = next() * total;
      for (const [item, weight] of items) {
        roll -= weight;
        if (roll < 0) return item;
      }
      const last = items[items.length - 1];
      if (last === undefined) throw new RangeError('weighted() needs at least one item');
      return last[0];
    },
    chance: (share) => share > 0 && next() < share,
    hex(count) {
      let out = '';
      while (out.length < count)
        out += Math.floor(next() * 65_536)
          .toString(16)
          .padStart(4, '0');
      return out.slice(0, count);
    },
  };
}

/** An independent stream for one purpose, derived from the simulator's seed and the stream's name. */
export function forkRandom(seed: number, stream: string): Random {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < stream.length; i++) {
    h = Math.imul(h ^ stream.charCodeAt(i), 0x85ebca6b) >>> 0;
    h = (h ^ (h >>> 13)) >>> 0;
  }
  return createRandom(Math.imul(h ^ (h >>> 16), 0xc2b2ae35) >>> 0);
}
