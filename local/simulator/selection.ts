/**
 * Which queued events an events request gets — the documented cursor semantics, pure:
 * `hash=none` → every queued event; a queued hash → the events after it (none when it is the
 * newest); any other hash → per the unknown-hash mode. Also what a `duplicate` fault adds.
 */
import type { SimEvent } from './queue';

/** What a hash not in the queue gets: every queued event, nothing (forever), or an error answer. */
export type UnknownHashMode = 'all' | 'empty' | 'error';

export interface Selection {
  readonly kind: 'ok' | `unknown-hash:${UnknownHashMode}`;
  /** The events a normal answer carries, oldest first (empty for `unknown-hash:error`). */
  readonly updates: SimEvent[];
}

/** The newest queued event with this hash, or -1. */
function cursorIndex(queue: readonly SimEvent[], hash: string): number {
  for (let i = queue.length - 1; i >= 0; i--) if (queue[i]?.hash === hash) return i;
  return -1;
}

export function selectUpdates(queue: readonly SimEvent[], hash: string, unknownHash: UnknownHashMode): Selection {
  if (hash === 'none') return { kind: 'ok', updates: [...queue] };
  const index = cursorIndex(queue, hash);
  if (index >= 0) return { kind: 'ok', updates: queue.slice(index + 1) };
  return { kind: `unknown-hash:${unknownHash}`, updates: unknownHash === 'all' ? [...queue] : [] };
}

/**
 * The updates of a `duplicate` fault: with a queued cursor, the cursor's own event and the one
 * before it come back ahead of the new ones; otherwise (`none`, unknown hash) the newest event of
 * the answer appears twice. Chronological order is kept; an empty answer stays empty.
 */
export function withDuplicates(queue: readonly SimEvent[], hash: string, updates: readonly SimEvent[]): SimEvent[] {
  const index = hash === 'none' ? -1 : cursorIndex(queue, hash);
  if (index >= 0) return [...queue.slice(Math.max(0, index - 1), index + 1), ...updates];
  const newest = updates[updates.length - 1];
  return newest === undefined ? [] : [...updates, newest];
}
