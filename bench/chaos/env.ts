/**
 * What every chaos run shares: a DynamoDB client (the SDK is pointed at DynamoDB Local through the
 * environment), the alerts topic on the SNS emulator, an endpoint where nothing listens (a dead
 * SES/SNS), the token, a far-future manual clock start, and the tee'd log.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import { freePort } from '../../local/emulators';
import { TeeLog } from './log-tap';

/** The token every simulator of the suite expects; the scan looks for it in every log line. */
export const CHAOS_TOKEN = 'chaos-tok-8c1d5e93b7f2';

/**
 * Manual clocks start here. Far in the future on purpose: the harness's QR-menu client takes its
 * deadlines from the manual clock but measures them with the real one, so a manual clock behind
 * real time makes every poll fail "no time left before the deadline".
 */
export const CLOCK_START = Date.UTC(2100, 0, 1, 18, 0, 0);

export interface ChaosEnv {
  readonly ddb: DynamoDBClient;
  readonly topicArn: string;
  /** http://127.0.0.1:<port> with nothing listening. */
  readonly deadEndpoint: string;
  readonly log: TeeLog;
}

export async function createChaosEnv(): Promise<ChaosEnv> {
  const topic = await new SNSClient({}).send(new CreateTopicCommand({ Name: 'qrmenu-alerts-chaos' }));
  return {
    ddb: new DynamoDBClient({ maxAttempts: 3 }),
    topicArn: topic.TopicArn!,
    deadEndpoint: `http://127.0.0.1:${await freePort()}`,
    log: new TeeLog(),
  };
}
