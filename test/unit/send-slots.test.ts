/**
 * The slot grid of the shared quota (lambda/core/send-slots.ts): its spacing, the batches one
 * write asks for, and the bound it exists for — blocks of 2c − 1 slots handed out in any order,
 * each send started at its middle slot up to the grace late, never put more than ⌊perSecond⌋
 * units into any one-second window.
 */
import { describe, expect, it } from 'vitest';
import { instantOf, planSlotBatch, slotAtOrAfter, slotGrid, slotsFor } from '../../lambda/core/send-slots';
import { busiestSecond } from '../support/event-clock';
import { seededRandom } from '../support/harness';

describe('the slot grid', () => {
  it('spaces one second and the grace into ⌊perSecond⌋ slots; below one a second, one slot per 1/perSecond', () => {
    expect(slotGrid(14, 25)).toEqual({ slotMs: 1_025 / 14, perWindow: 14 });
    expect(slotGrid(7.5, 25)).toEqual({ slotMs: 1_025 / 7, perWindow: 7 });
    expect(slotGrid(0.5, 25)).toEqual({ slotMs: 2_050, perWindow: 1 });
    expect(slotsFor(1)).toBe(1);
    expect(slotsFor(3)).toBe(5);
    expect(slotsFor(0)).toBe(1);
  });

  it('finds the slot at or after an instant, exactly on a slot too', () => {
    const grid = slotGrid(10, 0); // 100 ms
    expect(slotAtOrAfter(grid, 1_000)).toBe(10);
    expect(slotAtOrAfter(grid, 1_000.5)).toBe(11);
    expect(instantOf(grid, 11)).toBe(1_100);
  });

  it('a batch: queue order, one second of units, each start at its block middle; late ones apart; the last first slot that keeps every deadline', () => {
    const grid = slotGrid(4, 0); // 250 ms, 4 units a second
    const queue = [
      { id: 'a', cost: 1, deadline: Number.POSITIVE_INFINITY },
      { id: 'late', cost: 1, deadline: 900 }, // from slot 4 (1,000 ms) it cannot
      { id: 'b', cost: 2, deadline: 2_000 }, // slots 5–7, starts at 6 (1,500 ms)
      { id: 'c', cost: 1, deadline: Number.POSITIVE_INFINITY },
      { id: 'd', cost: 1, deadline: Number.POSITIVE_INFINITY }, // a fifth unit: the next write
    ];
    const batch = planSlotBatch(grid, queue, 4);
    expect(batch.sends).toEqual([
      { id: 'a', startOffset: 0 },
      { id: 'b', startOffset: 2 },
      { id: 'c', startOffset: 4 },
    ]);
    expect(batch.slots).toBe(5);
    expect(batch.late).toEqual([{ id: 'late', notBefore: 1_000 }]);
    expect(batch.latestFirst).toBe(8 - 2); // b must start by slot 8
  });

  it('a send behind others that would miss its deadline waits for a later write instead of being answered late', () => {
    const grid = slotGrid(10, 0);
    const batch = planSlotBatch(
      grid,
      [
        { id: 'a', cost: 3, deadline: Number.POSITIVE_INFINITY },
        { id: 'b', cost: 1, deadline: 1_200 }, // alone at 10 it could; after a's 5 slots it cannot
      ],
      10,
    );
    expect(batch.sends.map((s) => s.id)).toEqual(['a']);
    expect(batch.late).toEqual([]);
  });

  it('any blocks in any order, each send at its middle up to the grace late: never more than ⌊perSecond⌋ in any second', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = seededRandom(seed);
      const perSecond = 1 + Math.floor(random() * 20) + (random() < 0.3 ? 0.5 : 0);
      const grace = Math.floor(random() * 50);
      const grid = slotGrid(perSecond, grace);
      const starts: { at: number; cost: number }[] = [];
      let pointer = 1_000;
      for (let i = 0; i < 60; i++) {
        const cost = 1 + Math.floor(random() * Math.min(4, grid.perWindow));
        if (random() < 0.3) pointer += Math.floor(random() * 5); // slots skipped by a claim
        const middle = pointer + cost - 1;
        starts.push({ at: instantOf(grid, middle) + random() * grace, cost });
        pointer += slotsFor(cost);
      }
      expect(busiestSecond(starts), `seed ${seed}: ${perSecond}/s, grace ${grace} ms`).toBeLessThanOrEqual(
        grid.perWindow,
      );
    }
  });
});
