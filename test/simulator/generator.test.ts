/**
 * What the simulator queues: seeded determinism (same seed → same hashes and events), the traffic
 * mix (mostly waiter calls, invented codes, now and then an unknown one), the INVENTED invoice and
 * order shapes on the right codes, `inject()` input handling, raw events, background traffic.
 * No HTTP here except where the wire matters.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createSimulator,
  DuplicateHashError,
  InvalidEventInputError,
  SimulatorOptionsError,
  TABLES,
  UNKNOWN_CODES,
  type GeneratedSimEvent,
  type Simulator,
  type SimulatorOptions,
} from '../../local/simulator';
import { KNOWN_CODES } from '../../lambda/domain/event';
import { poll } from './client';

let sims: Simulator[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(sims.map((s) => s.close()));
  sims = [];
});
async function start(options: SimulatorOptions = {}): Promise<Simulator> {
  const sim = await createSimulator({ seed: 6, tls: false, ...options });
  sims.push(sim);
  return sim;
}

describe('seeded determinism', () => {
  it('gives the same hashes and events for the same seed', async () => {
    const first = (await start({ seed: 2024 })).injectMany(20);
    const second = (await start({ seed: 2024 })).injectMany(20);
    expect(second.map((e) => e.wire)).toEqual(first.map((e) => e.wire));
  });

  it('gives other hashes for another seed', async () => {
    const first = (await start({ seed: 1 })).injectMany(5).map((e) => e.hash);
    const second = (await start({ seed: 2 })).injectMany(5).map((e) => e.hash);
    expect(second).not.toEqual(first);
  });

  it('keeps the hashes of a seed whatever faults are rolled in between', async () => {
    const quiet = await start({ seed: 7 });
    const noisy = await start({ seed: 7 });
    noisy.setFaults({ serverErrorShare: 0.5 });
    const a = quiet.inject().hash;
    const b = noisy.inject().hash;
    for (let i = 0; i < 5; i++) await poll(noisy, 'none');
    expect([b, noisy.inject().hash]).toEqual([a, quiet.inject().hash]);
  });

  it('reports the seed it drew when none was given', async () => {
    const s = await createSimulator({ tls: false });
    sims.push(s);
    expect(Number.isInteger(s.seed)).toBe(true);
  });
});

describe('generated traffic mix', () => {
  it('is mostly waiter calls, with every invented code and some unknown ones', async () => {
    const events = (await start({ seed: 11 })).injectMany(4_000);
    const counts = new Map<string, number>();
    for (const e of events) counts.set(e.wire.code, (counts.get(e.wire.code) ?? 0) + 1);
    expect((counts.get('waiter_call') ?? 0) / events.length).toBeGreaterThan(0.7);
    expect((counts.get('waiter_call') ?? 0) / events.length).toBeLessThan(0.8);
    for (const code of Object.keys(KNOWN_CODES)) expect(counts.get(code) ?? 0).toBeGreaterThan(0);
    expect(UNKNOWN_CODES.some((code) => (counts.get(code) ?? 0) > 0)).toBe(true);
  });

  it('seats guests at the known tables: mostly "1".."30", some VIP, bar and terrace', async () => {
    const events = (await start({ seed: 12 })).injectMany(1_000);
    const names = new Set(events.map((e) => e.wire.table_repr.name));
    for (const name of ['VIP', 'Бар 2', 'Терраса 5']) expect(names.has(name)).toBe(true);
    for (const e of events) {
      const table = TABLES.find((t) => t.id === e.wire.table);
      expect(table?.name).toBe(e.wire.table_repr.name);
      expect(e.wire.table_repr.id).toBe(e.wire.table);
    }
  });

  it('fills the invented invoice on bill and payment codes and the invented order on order codes', async () => {
    const s = await start();
    const bill = s.inject({ code: 'bill_request', tableName: '12' }).wire;
    expect(bill.order).toBeNull();
    expect(bill.invoice).toMatchObject({
      id: expect.stringMatching(/^inv-/),
      table: bill.table,
      currency: 'RUB',
      sum_to_pay: expect.any(Number),
    });
    const lines = (bill.invoice as { dishes: { quantity: number; price: number }[] }).dishes;
    expect(lines.length).toBeGreaterThan(0);
    expect(bill.invoice?.sum_to_pay).toBeCloseTo(
      lines.reduce((sum, d) => sum + d.quantity * d.price, 0),
      2,
    );
    expect(s.inject({ code: 'waiter_call_cash' }).wire.invoice).not.toBeNull();
    const order = s.inject({ code: 'new_order' }).wire;
    expect(order.invoice).toBeNull();
    expect(order.order).toMatchObject({
      id: expect.stringMatching(/^ord-/),
      table: order.table,
      status: 'new',
      total: expect.any(Number),
    });
    const paid = s.inject({ code: 'order_paid' }).wire;
    expect(paid.invoice).not.toBeNull();
    expect(paid.order).toMatchObject({ status: 'paid' });
    const call = s.inject({ code: 'waiter_call' }).wire;
    expect([call.invoice, call.order]).toEqual([null, null]);
  });
});

describe('inject() input', () => {
  it('names the table from its id, and finds the id of a known name', async () => {
    const s = await start();
    expect(s.inject({ table: 1000031 }).wire.table_repr).toEqual({ id: 1000031, name: 'VIP', max_guests: 12 });
    expect(s.inject({ tableName: 'Терраса 5' }).wire.table).toBe(1000033);
  });

  it('makes up a stable id for a table name the floor does not have', async () => {
    const s = await start();
    const a = s.inject({ tableName: 'Веранда 1' }).wire;
    const b = s.inject({ tableName: 'Веранда 1' }).wire;
    expect(a.table).toBe(b.table);
    expect(a.table_repr).toEqual({ id: a.table, name: 'Веранда 1', max_guests: 4 });
  });

  it('keeps an invoice or order given, and null when given null', async () => {
    const s = await start();
    const invoice = { id: 'x', weird: { nested: true } };
    expect(s.inject({ code: 'bill_request', invoice }).wire.invoice).toEqual(invoice);
    expect(s.inject({ code: 'order_paid', invoice: null, order: null }).wire).toMatchObject({
      invoice: null,
      order: null,
    });
  });

  it('queues a frozen copy: neither the caller nor a test can change what gets served', async () => {
    const s = await start();
    const invoice = { id: 'inv-1', sum_to_pay: 100 };
    const event = s.inject({ code: 'bill_request', invoice });
    invoice.sum_to_pay = 999;
    expect(event.wire.invoice).toEqual({ id: 'inv-1', sum_to_pay: 100 });
    expect(Object.isFrozen(event.wire.table_repr)).toBe(true);
    expect(() => {
      (event.wire as { code: string }).code = 'changed';
    }).toThrow(TypeError);
  });

  it('refuses unknown fields and wrong types with InvalidEventInputError', async () => {
    const s = await start();
    expect(() => s.inject({ tablename: '6' } as never)).toThrow(InvalidEventInputError);
    expect(() => s.inject({ table: '6' } as never)).toThrow(/table/);
  });

  it('uses a hash it is given, and refuses one that is still queued', async () => {
    const s = await start();
    expect(s.inject({ hash: '0xd8833dd3' }).hash).toBe('0xd8833dd3');
    expect(() => s.inject({ hash: '0xd8833dd3' })).toThrow(DuplicateHashError);
  });

  it('queues a raw event as-is, with or without a hash, and uses its string hash as a cursor', async () => {
    const s = await start();
    const noHash = s.inject({ code: 'waiter_call', table: 5 }, { raw: true });
    const withHash = s.inject({ hash: '0xraw00001', code: 42 }, { raw: true });
    const after = s.inject();
    expect(noHash.hash).toBeNull();
    expect(withHash.hash).toBe('0xraw00001');
    const body = JSON.parse((await poll(s, 'none')).body) as { data: { updates: unknown[] } };
    expect(body.data.updates.slice(0, 2)).toEqual([
      { code: 'waiter_call', table: 5 },
      { hash: '0xraw00001', code: 42 },
    ]);
    expect(
      (JSON.parse((await poll(s, '0xraw00001')).body) as { data: { updates: { hash: string }[] } }).data.updates.map(
        (u) => u.hash,
      ),
    ).toEqual([after.hash]);
    expect(s.served[0]?.eventHashes).toEqual(['0xraw00001', after.hash]);
  });

  it('refuses a raw value that is not JSON', async () => {
    const s = await start();
    expect(() => s.inject(undefined, { raw: true })).toThrow(InvalidEventInputError);
    expect(() => s.inject({ n: 1n }, { raw: true })).toThrow(InvalidEventInputError);
  });
});

describe('options', () => {
  it('refuses options that make no sense with SimulatorOptionsError', async () => {
    await expect(createSimulator({ retentionSeconds: 0 })).rejects.toThrow(SimulatorOptionsError);
    await expect(createSimulator({ unknownHash: 'maybe' as never })).rejects.toThrow(SimulatorOptionsError);
    await expect(createSimulator({ port: 70_000 })).rejects.toThrow(SimulatorOptionsError);
  });
});

describe('background traffic', () => {
  it('queues about eventsPerMinute events a minute, and none after close', async () => {
    // Only the timers are faked: the retention clock stays Date.now, so nothing expires meanwhile.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const s = await start({ seed: 13, traffic: { eventsPerMinute: 60 } });
    vi.advanceTimersByTime(10 * 60_000);
    const queued = s.queue().length;
    expect(queued).toBeGreaterThan(450);
    expect(queued).toBeLessThan(750);
    expect(s.queue().every((e): e is GeneratedSimEvent => !e.raw)).toBe(true);
    await s.close();
    vi.advanceTimersByTime(10 * 60_000);
    expect(s.queue().length).toBe(queued);
  });
});
