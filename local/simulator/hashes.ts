/**
 * Event hashes, in one of two styles (`SimulatorOptions.hashes`):
 * - 'random' (the default): `0x` + 8 lowercase hex digits drawn from the seeded random, never issued
 *   twice in one simulator's life — not even after `restart()`, so that a hash the server "forgot"
 *   stays unknown forever (which is what makes `unknownHash: 'empty'` the nasty case it is).
 * - 'counter': `0x00000001`, `0x00000002`, … — a server that numbers its events and keeps the
 *   counter in memory. `restart()` starts it again from 1, so **a hash is reused by design** for a
 *   different event after each restart: the "never issued twice" rule above does not hold in this
 *   style. Only a hash still queued is skipped (the queue never holds one hash twice).
 */
import type { Random } from './random';

/** What a generated hash looks like (the documented example is `0xd8833dd3`). */
export const HASH_PATTERN = /^0x[0-9a-f]{8}$/;

/** How the simulator numbers its events. */
export type HashStyle = 'random' | 'counter';

export interface HashIssuer {
  /** A fresh hash; `queued` tells which hashes the queue holds right now (never handed out). */
  issue(queued: (hash: string) => boolean): string;
  /** Records a hash chosen by a caller, so that a 'random' issuer never hands it out. */
  reserve(hash: string): void;
  /** A server restart that lost its memory: a 'counter' issuer starts again from 1. */
  restart(): void;
}

/** Random hashes, each issued (or reserved) at most once in the issuer's life. */
export class RandomHashIssuer implements HashIssuer {
  private readonly issued = new Set<string>();

  constructor(private readonly random: Random) {}

  issue(queued: (hash: string) => boolean): string {
    for (;;) {
      const hash = `0x${this.random.hex(8)}`;
      if (!this.issued.has(hash) && !queued(hash)) {
        this.issued.add(hash);
        return hash;
      }
    }
  }

  reserve(hash: string): void {
    this.issued.add(hash);
  }

  restart(): void {
    // Random hashes are never reissued, restart or not.
  }
}

/** 0x00000001, 0x00000002, …, from 1 again after each `restart()`; skips a hash still queued. */
export class CounterHashIssuer implements HashIssuer {
  private last = 0;

  issue(queued: (hash: string) => boolean): string {
    for (;;) {
      this.last = (this.last % 0xffff_ffff) + 1;
      const hash = `0x${this.last.toString(16).padStart(8, '0')}`;
      if (!queued(hash)) return hash;
    }
  }

  reserve(): void {
    // A counter server does not know about hashes chosen by a test; only queued ones are skipped.
  }

  restart(): void {
    this.last = 0;
  }
}
