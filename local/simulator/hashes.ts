/**
 * Event hashes: `0x` + 8 lowercase hex digits, drawn from the seeded random, and never issued twice
 * in one simulator's life — not even after `restart()`, so that a hash the server "forgot" stays
 * unknown forever (which is what makes `unknownHash: 'empty'` the nasty case it is).
 */
import type { Random } from './random';

/** What a generated hash looks like (the documented example is `0xd8833dd3`). */
export const HASH_PATTERN = /^0x[0-9a-f]{8}$/;

export class HashIssuer {
  private readonly issued = new Set<string>();

  constructor(private readonly random: Random) {}

  /** A hash never issued (or reserved) before. */
  issue(): string {
    for (;;) {
      const hash = `0x${this.random.hex(8)}`;
      if (!this.issued.has(hash)) {
        this.issued.add(hash);
        return hash;
      }
    }
  }

  /** Records a hash chosen by a caller, so that `issue()` never hands it out. */
  reserve(hash: string): void {
    this.issued.add(hash);
  }
}
