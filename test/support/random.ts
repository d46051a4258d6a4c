/**
 * Seeded randomness for tests: the simulator's own PRNG (mulberry32, local/simulator/random.ts)
 * as a plain `() => number`, so property tests and scenarios replay exactly.
 */
import { createRandom } from '../../local/simulator/random';

export function seededRandom(seed: number): () => number {
  const random = createRandom(seed);
  return () => random.next();
}
