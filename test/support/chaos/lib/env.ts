/**
 * What every chaos run shares: the store's DynamoDB client and the SDK's for the runs' own reads
 * (both pointed at DynamoDB Local through the environment), setup clients for SNS and SQS (topics and stand-in phones of their own for the
 * runs that count what the emulator really received), the shared alerts topic, an endpoint where
 * nothing listens (a dead SES/SNS), the emulators' endpoints (the Telegram stand-in's too), the token, the manual clocks' start,
 * and the suite's log. The AWS_ENDPOINT_URL_* environment must point at the emulators (vitest's
 * test/setup/env.ts does it).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDb } from '../../../../lambda/state/dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { inject } from 'vitest';
import { freePort } from '../../../../local/emulators';
import { SuiteLog } from './log-tap';

/** The token every simulator of the suite expects; the scan looks for it in every log line. */
export const CHAOS_TOKEN = 'chaos-tok-8c1d5e93b7f2';

/** Manual clocks start here: every run replays the same instants. */
export const CLOCK_START = Date.UTC(2100, 0, 1, 18, 0, 0);

/** The one source of every run. */
export const SOURCE_ID = 'pizzeria';

export interface ChaosEnv {
  /** The store's client (three attempts a call, as deployed). */
  readonly ddb: DynamoDb;
  /** The SDK's client, for what a run reads back itself. */
  readonly admin: DynamoDBClient;
  /** For topics, queues and subscriptions of a run's own (short timeouts: these are test calls). */
  readonly sns: SNSClient;
  readonly sqs: SQSClient;
  /** The alerts topic of the runs that count SNS sends from the deliverer's answers. */
  readonly topicArn: string;
  /** http://127.0.0.1:<port> with nothing listening. */
  readonly deadEndpoint: string;
  /** The Telegram Bot API stand-in is the staff-loop kind's (the channel's `apiRoot`; each run has a bot token of its own). */
  readonly endpoints: { readonly ses: string; readonly sns: string; readonly telegram: string };
  readonly log: SuiteLog;
}

const SETUP_CLIENT = {
  maxAttempts: 2,
  requestHandler: { requestTimeout: 5_000, throwOnRequestTimeout: true },
} as const;

export async function createChaosEnv(): Promise<ChaosEnv> {
  const ses = process.env.AWS_ENDPOINT_URL_SES;
  const sns = process.env.AWS_ENDPOINT_URL_SNS;
  if (!ses || !sns) throw new Error('AWS_ENDPOINT_URL_SES and AWS_ENDPOINT_URL_SNS must point at the emulators');
  const snsClient = new SNSClient(SETUP_CLIENT);
  const topic = await snsClient.send(new CreateTopicCommand({ Name: 'qrmenu-alerts-chaos' }));
  return {
    ddb: new DynamoDb({ maxAttempts: 3 }),
    admin: new DynamoDBClient({ maxAttempts: 3 }),
    sns: snsClient,
    sqs: new SQSClient({ ...SETUP_CLIENT, endpoint: sns }),
    topicArn: topic.TopicArn!,
    deadEndpoint: `http://127.0.0.1:${await freePort()}`,
    endpoints: { ses, sns, telegram: inject('emulators').telegram },
    log: new SuiteLog(),
  };
}
