/**
 * The DynamoDB client of lambda/state/dynamodb.ts against scripted wire answers: what it sends
 * (JSON 1.0, the target, a signed request, marshalled values), how it reads DynamoDB's answers
 * and errors (a refused condition with the item as it is, throttling retried, an HTML page, an
 * item that is not an item), and that a call's deadline ends it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { marshall } from '@aws-sdk/util-dynamodb';
import { HttpResponse } from '@smithy/core/transport';
import { describe, expect, it } from 'vitest';
import type { RequestHandler } from '../../lambda/aws/endpoint';
import { ConditionalCheckFailed, DynamoDb } from '../../lambda/state/dynamodb';

type Sent = { headers: Record<string, string>; body: Record<string, unknown> };

type Scripted = readonly [number, string] | 'hang';

function scripted(...answers: Scripted[]) {
  return scriptedWith({}, ...answers);
}

function scriptedWith(options: { backoffMs?: () => number }, ...answers: Scripted[]) {
  const sent: Sent[] = [];
  const handler: RequestHandler = {
    handle: (request, options) => {
      sent.push({ headers: request.headers, body: JSON.parse(String(request.body)) as Record<string, unknown> });
      const answer = answers.shift() ?? [200, '{}'];
      if (answer === 'hang') {
        return new Promise((_, reject) =>
          options?.abortSignal?.addEventListener('abort', () =>
            reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
          ),
        );
      }
      const [statusCode, text] = answer;
      return Promise.resolve({
        response: new HttpResponse({ statusCode, headers: {}, body: Readable.from([Buffer.from(text)]) }),
      });
    },
  };
  const db = new DynamoDb({
    region: 'eu-central-1',
    endpoint: 'https://dynamodb.eu-central-1.amazonaws.com',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
    maxAttempts: 3,
    backoffMs: options.backoffMs ?? (() => 0),
    requestHandler: handler,
  });
  return { db, sent };
}

const dynamoError = (type: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ __type: `com.amazonaws.dynamodb.v20120810#${type}`, message: `${type} (test)`, ...extra });

describe('the DynamoDB client', () => {
  it('sends JSON 1.0 to DynamoDB_20120810.<Action>, signed, with the values marshalled', async () => {
    const { db, sent } = scripted([200, JSON.stringify({ Attributes: marshall({ n: 2, tags: ['a'] }) })]);
    const out = await db.update({
      TableName: 't',
      Key: { pk: 'p', sk: 's' },
      UpdateExpression: 'SET #n = :n',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':n': 2, ':gone': undefined },
      ReturnValues: 'ALL_NEW',
    });
    expect(out).toEqual({ Attributes: { n: 2, tags: ['a'] } });
    expect(sent[0]!.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(sent[0]!.headers['x-amz-target']).toBe('DynamoDB_20120810.UpdateItem');
    expect(sent[0]!.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-central-1\/dynamodb\/aws4_request/,
    );
    expect(sent[0]!.body).toEqual({
      TableName: 't',
      Key: { pk: { S: 'p' }, sk: { S: 's' } },
      UpdateExpression: 'SET #n = :n',
      ExpressionAttributeNames: { '#n': 'n' },
      ExpressionAttributeValues: { ':n': { N: '2' } },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('a refused condition is a ConditionalCheckFailed with the item as it is, not retried', async () => {
    const { db, sent } = scripted([
      400,
      dynamoError('ConditionalCheckFailedException', { Item: marshall({ owner: 'other' }) }),
    ]);
    const error = await db
      .put({ TableName: 't', Item: { pk: 'p' }, ConditionExpression: 'attribute_not_exists(pk)' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionalCheckFailed);
    expect((error as ConditionalCheckFailed).item).toEqual({ owner: 'other' });
    expect(sent).toHaveLength(1);
  });

  it('throttling and 5xx are retried up to maxAttempts; the last error keeps its name and status', async () => {
    const ok = scripted(
      [400, dynamoError('ProvisionedThroughputExceededException')],
      [500, '<html>oops</html>'],
      [200, '{"Items":[]}'],
    );
    await expect(ok.db.query({ TableName: 't', KeyConditionExpression: 'pk = :p' })).resolves.toEqual({ Items: [] });
    expect(ok.sent).toHaveLength(3);
    const failing = scripted(...Array.from({ length: 3 }, () => [400, dynamoError('ThrottlingException')] as const));
    await expect(failing.db.query({ TableName: 't', KeyConditionExpression: 'pk = :p' })).rejects.toMatchObject({
      name: 'ThrottlingException',
      $metadata: { httpStatusCode: 400, attempts: 3 },
    });
  });

  it('a validation error is not retried and keeps its name', async () => {
    const { db, sent } = scripted([400, dynamoError('ValidationException')]);
    await expect(db.put({ TableName: 't', Item: { pk: 'p' } })).rejects.toMatchObject({
      name: 'ValidationException',
      $fault: 'client',
    });
    expect(sent).toHaveLength(1);
  });

  it('an answer that is not DynamoDB’s is a clear error', async () => {
    const html = scripted([200, '<html>proxy</html>']);
    await expect(html.db.put({ TableName: 't', Item: { pk: 'p' } })).rejects.toMatchObject({ name: 'MalformedAnswer' });
    const notItem = scripted([200, JSON.stringify({ Items: ['x'] })]);
    await expect(notItem.db.query({ TableName: 't', KeyConditionExpression: 'pk = :p' })).rejects.toMatchObject({
      name: 'MalformedAnswer',
    });
  });

  it('a batch read returns the items and the keys left unprocessed, plain', async () => {
    const { db, sent } = scripted([
      200,
      JSON.stringify({
        Responses: { t: [marshall({ pk: 'p', sk: '1' })] },
        UnprocessedKeys: { t: { Keys: [marshall({ pk: 'p', sk: '2' })] } },
      }),
    ]);
    const out = await db.batchGet({
      TableName: 't',
      Keys: [
        { pk: 'p', sk: '1' },
        { pk: 'p', sk: '2' },
      ],
      ConsistentRead: true,
    });
    expect(out).toEqual({ Items: [{ pk: 'p', sk: '1' }], UnprocessedKeys: [{ pk: 'p', sk: '2' }] });
    expect(sent[0]!.body).toEqual({
      RequestItems: {
        t: { ConsistentRead: true, Keys: [marshall({ pk: 'p', sk: '1' }), marshall({ pk: 'p', sk: '2' })] },
      },
    });
  });

  it('a call whose deadline passes ends with the abort, without another attempt', async () => {
    const { db, sent } = scripted('hang', [200, '{}']);
    const call = db.put({ TableName: 't', Item: { pk: 'p' } }, { abortSignal: AbortSignal.timeout(20) });
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(sent).toHaveLength(1);
  });

  it('an answer whose body stalls after its headers ends at the attempt deadline and is retried', async () => {
    let requests = 0;
    const server = createServer((_, res) => {
      requests += 1;
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.write('{"Items":['); // and nothing more
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const db = new DynamoDb({
        region: 'eu-central-1',
        endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
        maxAttempts: 2,
        requestTimeoutMs: 200,
        backoffMs: () => 0,
      });
      const started = performance.now();
      await expect(db.query({ TableName: 't', KeyConditionExpression: 'pk = :p' })).rejects.toMatchObject({
        name: 'TimeoutError',
      });
      expect(requests).toBe(2);
      expect(performance.now() - started).toBeLessThan(3_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('a deadline that passes during the backoff ends the call then, not after the sleep', async () => {
    const { db } = scriptedWith({ backoffMs: () => 5_000 }, [500, '{}']);
    const started = performance.now();
    await expect(
      db.put({ TableName: 't', Item: { pk: 'p' } }, { abortSignal: AbortSignal.timeout(50) }),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});
