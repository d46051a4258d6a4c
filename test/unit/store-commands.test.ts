/**
 * The exact DynamoDB calls the store sends for each transition of the record protocol (read at
 * the wire from a scripted DynamoDB, test/support/dynamodb-wire-fake.ts): every condition is built from the transition
 * table, and a refused condition whose returned item shows our own earlier write counts as done.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import type { QrEvent } from '../../lambda/domain/event';
import { RecordRejectedError } from '../../lambda/domain/ports';
import { StateStore } from '../../lambda/state/store';
import { awsError, DynamoDbWireFake, refused } from '../support/dynamodb-wire-fake';

const mock = new DynamoDbWireFake();
const store = new StateStore({ tableName: 'state', client: mock.client });
const event: QrEvent = {
  hash: '0x1',
  code: 'waiter_call',
  tableId: 1,
  tableName: '6',
  invoice: null,
  order: null,
  raw: {},
  placeholders: [],
};
beforeEach(() => mock.reset());

describe('creating a record', () => {
  it('a claim: only if no record exists, due for take-over at the claim timeout', async () => {
    mock.on('PutItem').resolves({});
    await store.create('s', {
      recordId: '0x1',
      event,
      status: 'claimed',
      owner: 'me',
      now: 1_000,
      dueAt: 31_000,
      ttlSeconds: 3_600,
    });
    const input = mock.calls('PutItem')[0]!;
    expect(input.ConditionExpression).toBe('attribute_not_exists(#pk)');
    expect(input.Item).toMatchObject({
      pk: 'src#s',
      sk: 'evt#0x1',
      status: 'claimed',
      owner: 'me',
      attempts: 1,
      duePk: 'due#s',
      dueAt: 31_000,
      expiresAt: 3_601,
    });
  });

  it('a reissue: also over a terminal record first seen at the given instant', async () => {
    mock.on('PutItem').resolves({});
    await store.create('s', {
      recordId: '0x1',
      event,
      status: 'claimed',
      owner: 'me',
      now: 9,
      ttlSeconds: 60,
      replaces: 5,
    });
    const input = mock.calls('PutItem')[0]!;
    expect(input.ConditionExpression).toBe(
      'attribute_not_exists(#pk) OR (#firstSeenAt = :replaces AND #status IN (:terminal0, :terminal1, :terminal2, :terminal3))',
    );
    expect(input.ExpressionAttributeValues).toMatchObject({ ':replaces': 5, ':terminal0': 'delivered' });
  });

  it('refused because our own earlier attempt was applied: created; because another poller has it: exists', async () => {
    mock
      .on('PutItem')
      .rejectsOnce(refused({ status: 'claimed', owner: 'me', firstSeenAt: 1_000 }))
      .rejectsOnce(refused({ status: 'claimed', owner: 'other', firstSeenAt: 900 }));
    expect(
      await store.create('s', { recordId: '0x1', event, status: 'claimed', owner: 'me', now: 1_000, ttlSeconds: 60 }),
    ).toBe('created');
    expect(
      await store.create('s', { recordId: '0x1', event, status: 'claimed', owner: 'me', now: 1_000, ttlSeconds: 60 }),
    ).toBe('exists');
  });

  it('a record DynamoDB will not hold is a RecordRejectedError, not an outage', async () => {
    mock.on('PutItem').rejects(awsError('ValidationException', 'Item size has exceeded the maximum allowed size'));
    await expect(
      store.create('s', { recordId: '0x1', event, status: 'claimed', owner: 'me', now: 1, ttlSeconds: 60 }),
    ).rejects.toBeInstanceOf(RecordRejectedError);
  });
});

describe('outcomes, by the claimant only', () => {
  it.each([
    ['markDelivered', 'delivered', 'REMOVE #duePk, #dueAt, #event'],
    ['markRetry', 'retry', ''],
    ['markFailed', 'failed', 'REMOVE #duePk, #dueAt, #event'],
  ] as const)('%s: claimed → %s', async (method, to, remove) => {
    mock.on('UpdateItem').resolves({});
    const args = {
      now: 5,
      dueAt: 9,
      channels: ['email'],
      errorKind: 'transient',
      error: 'x',
      doneChannels: ['email'],
    } as const;
    expect(await store[method]('s', '0x1', 'me', args as never)).toBe(true);
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.ConditionExpression).toBe('#status IN (:from0) AND #owner = :owner');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':from0': 'claimed', ':owner': 'me', ':to': to });
    expect(input.UpdateExpression).toMatch(/^SET #status = :to, /);
    if (remove) expect(input.UpdateExpression).toContain(remove);
    else expect(input.UpdateExpression).not.toContain('REMOVE');
  });

  it('delivered with an escalation step to come: stays due (and keeps the event), the message ids kept', async () => {
    mock.on('UpdateItem').resolves({});
    await store.markDelivered('s', '0x1', 'me', {
      now: 5,
      channels: ['telegram:-100'],
      phase: 0,
      escalateAt: 120_005,
      messages: { 'telegram:-100': '77' },
      sentChannels: ['telegram:-100'],
    });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.UpdateExpression).not.toContain('REMOVE');
    expect(input.UpdateExpression).toContain('#dueAt = :dueAt');
    expect(input.UpdateExpression).toContain('#messages.#k');
    expect(input.UpdateExpression).toMatch(/#sentAt\.#k\d+ = if_not_exists\(#sentAt\.#k\d+, :sentNow\)/);
    expect(input.ExpressionAttributeNames).toMatchObject({ '#messages': 'messages', '#sentAt': 'sentAt' });
    expect(Object.values(input.ExpressionAttributeNames ?? {})).toContain('telegram:-100');
  });

  it('an escalation step delivered is added to escalatedAt', async () => {
    mock.on('UpdateItem').resolves({});
    await store.markDelivered('s', '0x1', 'me', { now: 9, channels: ['sns'], phase: 1 });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.UpdateExpression).toContain('#escalatedAt = list_append(if_not_exists(#escalatedAt, :none), :step)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':none': [], ':step': [9] });
  });

  it('the first press wins: only an attendance call not yet acknowledged', async () => {
    mock.on('UpdateItem').resolves({
      Attributes: { hash: '0x1', code: 'waiter_call', table: '6', firstSeenAt: 1, ackAt: 9, ackBy: 'Иван' },
    });
    const outcome = await store.acknowledge('s', '0x1', { at: 9, by: 'Иван', byId: '7', pressId: 'q1' });
    expect(outcome).toMatchObject({ outcome: 'acknowledged', call: { ackBy: 'Иван', messages: {} } });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.ConditionExpression).toBe(
      'attribute_exists(#pk) AND #needsAck = :yes AND attribute_not_exists(#ackAt)',
    );
  });

  it('a press refused: the same press again is recognised, another one finds who took it', async () => {
    mock
      .on('UpdateItem')
      .rejectsOnce(refused({ needsAck: true, ackAt: 9, ackBy: 'Иван', ackPress: 'q1', firstSeenAt: 1 }))
      .rejectsOnce(refused({ needsAck: true, ackAt: 9, ackBy: 'Иван', ackPress: 'q1', firstSeenAt: 1 }))
      .rejectsOnce(refused({ status: 'delivered' }));
    expect((await store.acknowledge('s', '0x1', { at: 10, by: 'Иван', byId: '7', pressId: 'q1' })).outcome).toBe(
      'repeated',
    );
    expect((await store.acknowledge('s', '0x1', { at: 10, by: 'Ольга', byId: '8', pressId: 'q2' })).outcome).toBe(
      'taken',
    );
    expect((await store.acknowledge('s', '0x1', { at: 10, by: 'Ольга', byId: '8', pressId: 'q3' })).outcome).toBe(
      'unknown',
    );
  });

  it('an escalation: delivered, due, not acknowledged, at the phase the caller saw', async () => {
    mock
      .on('UpdateItem')
      .resolves({ Attributes: { event: JSON.stringify(event), firstSeenAt: 1, attempts: 1, phase: 1 } });
    const record = await store.escalate('s', '0x1', 'me', { now: 200, claimTimeoutMs: 30_000, expectPhase: 0 });
    expect(record).toMatchObject({ phase: 1, attempts: 1 });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.ConditionExpression).toBe(
      '#status IN (:from0) AND #dueAt <= :now AND #phase = :expectPhase AND attribute_not_exists(#ackAt)',
    );
    expect(input.ExpressionAttributeValues).toMatchObject({ ':from0': 'delivered', ':expectPhase': 0, ':phase': 1 });
  });

  it('a refused mark: true when the record already shows our outcome, false when another poller took it', async () => {
    mock
      .on('UpdateItem')
      .rejectsOnce(refused({ status: 'delivered', owner: 'me' }))
      .rejectsOnce(refused({ status: 'claimed', owner: 'other' }));
    expect(await store.markDelivered('s', '0x1', 'me', { now: 5, channels: [], phase: 0 })).toBe(true);
    expect(await store.markDelivered('s', '0x1', 'me', { now: 5, channels: [], phase: 0 })).toBe(false);
  });
});

describe('another attempt', () => {
  it('a take-over: pending, due, and attempts as the caller saw them', async () => {
    mock.on('UpdateItem').resolves({
      Attributes: { event: JSON.stringify(event), firstSeenAt: 1, attempts: 3, doneChannels: ['email'] },
    });
    const record = await store.takeOver('s', '0x1', 'me', { now: 50_000, claimTimeoutMs: 30_000, expectAttempts: 2 });
    expect(record).toEqual({
      recordId: '0x1',
      event,
      firstSeenAt: 1,
      attempts: 3,
      doneChannels: ['email'],
      phase: 0,
      phaseAt: 1,
      needsAck: false,
      messages: {},
    });
    const input = mock.calls('UpdateItem')[0]!;
    // An escalation step is taken over only while the call is unacknowledged (finding F6).
    expect(input.ConditionExpression).toBe(
      '#status IN (:from0, :from1) AND #dueAt <= :now AND #attempts = :expect AND (#phase = :alertPhase OR attribute_not_exists(#ackAt))',
    );
    expect(input.ExpressionAttributeValues).toMatchObject({
      ':from0': 'claimed',
      ':from1': 'retry',
      ':expect': 2,
      ':dueAt': 80_000,
    });
  });

  it('a release: our claim, attempts unchanged, due now; refused when it is not ours as it was', async () => {
    mock
      .on('UpdateItem')
      .resolvesOnce({})
      .rejectsOnce(refused({ status: 'claimed', owner: 'other', attempts: 2 }));
    expect(await store.release('s', '0x1', 'me', { now: 55_000, expectAttempts: 1 })).toBe(true);
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.UpdateExpression).toBe('SET #dueAt = :dueAt');
    expect(input.ConditionExpression).toBe('#status IN (:from0) AND #owner = :owner AND #attempts = :expect');
    expect(input.ExpressionAttributeValues).toMatchObject({
      ':from0': 'claimed',
      ':owner': 'me',
      ':expect': 1,
      ':dueAt': 55_000,
    });
    expect(await store.release('s', '0x1', 'me', { now: 55_000, expectAttempts: 1 })).toBe(false);
  });

  it('a revive: only a suppressed record', async () => {
    mock.on('UpdateItem').resolves({ Attributes: { event: JSON.stringify(event), firstSeenAt: 1, attempts: 1 } });
    await store.revive('s', '0x2', 'me', { now: 5, claimTimeoutMs: 30_000 });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.ConditionExpression).toBe('#status IN (:from0)');
    expect(input.ExpressionAttributeValues).toMatchObject({ ':from0': 'suppressed' });
  });
});

describe('reads', () => {
  it('look-ups are strongly consistent and project only what the rule for repeats needs', async () => {
    mock.on('BatchGetItem').resolves({ Responses: { state: [] } });
    await store.findRecorded('s', ['0x1', '0x1', '0x2']);
    const state = (mock.calls('BatchGetItem')[0]!.RequestItems as Record<string, Record<string, unknown>>).state!;
    expect(state.ConsistentRead).toBe(true);
    expect(state.Keys).toEqual([
      { pk: 'src#s', sk: 'evt#0x1' },
      { pk: 'src#s', sk: 'evt#0x2' },
    ]);
    expect(state.ProjectionExpression).toBe(
      '#sk, #hash, #status, #owner, #attempts, #firstSeenAt, #code, #table, #dueAt, #phase',
    );
  });

  it('pending work comes from the sparse due index of the source', async () => {
    mock.on('Query').resolves({ Items: [{ sk: 'evt#0x9@5', dueAt: 7, attempts: 2 }] });
    expect(await store.listDue('s')).toEqual([
      { recordId: '0x9@5', dueAt: 7, attempts: 2, status: 'claimed', phase: 0 },
    ]);
    expect(mock.calls('Query')[0]!).toMatchObject({
      IndexName: 'due',
      KeyConditionExpression: '#duePk = :duePk',
    });
  });
});

describe('the source item', () => {
  it('the lease: free, expired, or already ours; the state returns with it', async () => {
    mock.on('UpdateItem').resolves({ Attributes: { cursor: '0x5', cooldowns: { '6#waiter_call': 99 } } });
    const lease = await store.acquireLease('s', 'me', 10, 90);
    expect(lease).toMatchObject({
      acquired: true,
      state: { cursor: '0x5', cooldowns: { '6#waiter_call': { until: 99, hash: '' } } },
    });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.ConditionExpression).toBe(
      'attribute_not_exists(#leaseUntil) OR #leaseUntil < :now OR #leaseOwner = :owner',
    );
  });

  it('the state is saved only by the lease holder', async () => {
    mock.on('UpdateItem').rejectsOnce(refused({ leaseOwner: 'other' }));
    expect(
      await store.saveState(
        's',
        'me',
        { cooldowns: {}, gone: {}, aliases: {}, learnt: {}, held: {}, poisoned: {} },
        { release: true },
      ),
    ).toBe(false);
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.ConditionExpression).toBe('#leaseOwner = :owner');
    expect(input.UpdateExpression).toMatch(/REMOVE .*#leaseOwner, #leaseUntil$/);
  });

  it('a save-and-release applied but answered late, then refused on its retry, is recognised as saved', async () => {
    const state = {
      cursor: '0x5',
      cooldowns: { '6#waiter_call': { until: 99, hash: '0x4' } },
      gone: {},
      aliases: {},
      learnt: {},
      held: {},
      poisoned: {},
    };
    mock.on('UpdateItem').resolvesOnce({});
    await store.saveState('s', 'me', state, { release: true });
    const written = mock.calls('UpdateItem')[0]!.ExpressionAttributeValues as Record<string, unknown>;
    // The item as our applied write left it: our values, nobody holding the lease.
    const item = Object.fromEntries(
      Object.entries((mock.calls('UpdateItem')[0]!.ExpressionAttributeNames ?? {}) as Record<string, string>)
        .filter(([placeholder]) => `:${placeholder.slice(1)}` in written)
        .map(([placeholder, name]) => [name, written[`:${placeholder.slice(1)}`]]),
    );
    mock.reset();
    mock
      .on('UpdateItem')
      .rejectsOnce(refused(item))
      .rejectsOnce(refused({ ...item, cursor: '0x6' }));
    expect(await store.saveState('s', 'me', state, { release: true })).toBe(true);
    expect(mock.calls('UpdateItem')[0]!.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
    // Another poller's save since: not ours.
    expect(await store.saveState('s', 'me', state, { release: true })).toBe(false);
  });
});

describe('the shared send slots', () => {
  it('a claim: the pointer becomes the block end, only if it is at or before the block start (or not stored), kept for the TTL', async () => {
    mock.on('UpdateItem').resolves({ Attributes: { next: 1_005 } });
    expect(
      await store.reserveSendSlots('ses', { mode: 'claim', from: 1_000, slots: 5, expiresAt: 86_401_000 }),
    ).toEqual({ reserved: true, next: 1_005 });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.Key).toEqual({ pk: 'rate#ses', sk: 'slots' });
    expect(input.UpdateExpression).toBe('SET #next = :next, #expiresAt = :expiresAt');
    expect(input.ConditionExpression).toBe('attribute_not_exists(#next) OR #next <= :from');
    expect(input.ExpressionAttributeValues).toEqual({ ':from': 1_000, ':next': 1_005, ':expiresAt': 86_401 });
    expect(input.ReturnValues).toBe('UPDATED_NEW');
    expect(input.ReturnValuesOnConditionCheckFailure).toBe('ALL_OLD');
  });

  it('an append: the pointer moves on by the block, only from where it was seen up to the last start every deadline allows', async () => {
    mock.on('UpdateItem').resolves({ Attributes: { next: 1_012 } });
    expect(
      await store.reserveSendSlots('sns', {
        mode: 'append',
        from: 1_005,
        latestFirst: 1_030,
        slots: 3,
        expiresAt: 86_401_000,
      }),
    ).toEqual({ reserved: true, next: 1_012 });
    const input = mock.calls('UpdateItem')[0]!;
    expect(input.Key).toEqual({ pk: 'rate#sns', sk: 'slots' });
    expect(input.UpdateExpression).toBe('SET #next = #next + :slots, #expiresAt = :expiresAt');
    expect(input.ConditionExpression).toBe('#next BETWEEN :from AND :latestFirst');
    expect(input.ExpressionAttributeValues).toEqual({
      ':from': 1_005,
      ':slots': 3,
      ':latestFirst': 1_030,
      ':expiresAt': 86_401,
    });
  });

  it('refused: where the pointer is; not stored, or not a number: none; an append answered without the pointer is an error', async () => {
    const item = (fields: Record<string, unknown>) => refused({ pk: 'rate#ses', sk: 'slots', ...fields });
    mock
      .on('UpdateItem')
      .rejectsOnce(item({ next: 1_009 }))
      .rejectsOnce(refused({}))
      .rejectsOnce(item({ next: 'x' }))
      .resolvesOnce({})
      .resolvesOnce({});
    const claim = { mode: 'claim', from: 1_000, slots: 1, expiresAt: 0 } as const;
    expect(await store.reserveSendSlots('ses', claim)).toEqual({ reserved: false, next: 1_009 });
    expect(await store.reserveSendSlots('ses', claim)).toEqual({ reserved: false });
    expect(await store.reserveSendSlots('ses', claim)).toEqual({ reserved: false });
    // A claim's pointer is known without the answer; an append's is not.
    expect(await store.reserveSendSlots('ses', claim)).toEqual({ reserved: true, next: 1_001 });
    await expect(
      store.reserveSendSlots('ses', { mode: 'append', from: 1_000, latestFirst: 1_010, slots: 1, expiresAt: 0 }),
    ).rejects.toThrow(/its new value was not returned/);
  });
});
