/**
 * What the scale bench's recording proxy reads from a DynamoDB request body: the items of a batch,
 * and the sort key of a single-item call — the scale figures split the source item's writes (a
 * fixed number each run) from the event records' (one per call) by it.
 */
import { describe, expect, it } from 'vitest';
import { batchItems, itemPartitionKey, itemSortKey } from '../../bench/lib/recording-proxy';
import { marshall } from '@aws-sdk/util-dynamodb';
import { eventKey, eventSk, RATE_SLOTS_SK, rateKey, SOURCE_STATE_SK, sourceStateKey } from '../../lambda/state/keys';

describe('the recording proxy', () => {
  it("reads a single-item call's sort key from its Key or its Item", () => {
    const update = JSON.stringify({ TableName: 't', Key: marshall(sourceStateKey('r001')) });
    const put = JSON.stringify({ TableName: 't', Item: marshall({ ...eventKey('r001', 'abc'), status: 'claimed' }) });
    expect(itemSortKey(update)).toBe(SOURCE_STATE_SK);
    expect(itemSortKey(put)).toBe(eventSk('abc'));
  });

  it("tells a quota's slot item from a source's by its partition key", () => {
    const slots = JSON.stringify({ TableName: 't', Key: marshall(rateKey('ses')) });
    expect(itemSortKey(slots)).toBe(RATE_SLOTS_SK);
    expect(itemPartitionKey(slots)).toBe('rate#ses');
    expect(itemPartitionKey(JSON.stringify({ TableName: 't', Key: marshall(sourceStateKey('r001')) }))).toBe(
      'src#r001',
    );
  });

  it('has no sort key for a body without one, or one that is not JSON', () => {
    expect(itemSortKey(JSON.stringify({ TableName: 't', KeyConditionExpression: '#pk = :pk' }))).toBeUndefined();
    expect(itemSortKey('Action=Publish&Message=x')).toBeUndefined();
  });

  it('counts the keys of a BatchGetItem and the requests of a BatchWriteItem', () => {
    const get = JSON.stringify({ RequestItems: { t: { Keys: [{}, {}, {}] } } });
    const write = JSON.stringify({ RequestItems: { t: [{ PutRequest: {} }, { DeleteRequest: {} }] } });
    expect(batchItems('DynamoDB_20120810.BatchGetItem', get)).toBe(3);
    expect(batchItems('DynamoDB_20120810.BatchWriteItem', write)).toBe(2);
    expect(batchItems('DynamoDB_20120810.UpdateItem', get)).toBeUndefined();
  });
});
