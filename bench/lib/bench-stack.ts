/**
 * The AWS side of the bench on loopback: DynamoDB Local, the SES emulator and the SNS emulator
 * (local/emulators.ts), the environment that points the AWS SDK at them (set on this process, as
 * the test setup does), the alerts topic, and a fresh state table per measurement so that no
 * phase sees another's records. `stop()` ends the emulators (the JVM included).
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  emulatorEnvironment,
  startDynamoDbLocal,
  startSesEmulator,
  startSnsEmulator,
  type Emulator,
} from '../../local/emulators';
import { ensureStateTable } from '../../local/state-table';

export interface BenchStack {
  readonly endpoints: { readonly dynamodb: string; readonly ses: string; readonly sns: string };
  /** The environment set on this process (also what a child process needs). */
  readonly env: Readonly<Record<string, string>>;
  readonly topicArn: string;
  /** A new, empty state table (same schema, index and TTL as in AWS). */
  newTable(): Promise<string>;
  /** E-mails the SES emulator holds. */
  sesStoreCount(): Promise<number>;
  stop(): Promise<void>;
}

export async function startBenchStack(): Promise<BenchStack> {
  const started: Emulator[] = [];
  const stop = async () => {
    await Promise.allSettled(started.map((e) => e.stop()));
  };
  try {
    const track = <T extends Emulator>(e: T): T => {
      started.push(e);
      return e;
    };
    const [dynamodb, ses, sns] = await Promise.all([
      startDynamoDbLocal().then(track),
      startSesEmulator().then(track),
      startSnsEmulator().then(track),
    ]);
    const endpoints = { dynamodb: dynamodb.endpoint, ses: ses.endpoint, sns: sns.endpoint };
    const env = emulatorEnvironment(endpoints);
    Object.assign(process.env, env);
    const admin = new DynamoDBClient({});
    const topic = await new SNSClient({}).send(new CreateTopicCommand({ Name: 'qrmenu-alerts-bench' }));
    return {
      endpoints,
      env,
      topicArn: topic.TopicArn!,
      async newTable() {
        const name = `bench-${randomUUID().slice(0, 8)}`;
        await ensureStateTable(admin, name);
        return name;
      },
      async sesStoreCount() {
        const response = await fetch(`${endpoints.ses}/store`);
        const body = (await response.json()) as { emails?: unknown[] };
        return body.emails?.length ?? 0;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
