/**
 * Everything the notifier needs, on loopback: DynamoDB Local with the state table, the SES
 * emulator, the SNS emulator with the alerts and ops topics, one SQS "phone" per SMS recipient
 * subscribed with exactly the filter policy its SNS SMS subscription gets in AWS, and a QR-menu
 * simulator per source (unless a real server is given). `startLocalStack` returns the handles and
 * the environment that makes the unchanged Lambda handler use all of it.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { RUNTIME_ENV } from '../lambda/config/runtime';
import { sealConfig } from '../lambda/config/sealed';
import { type AlertsConfig, usesTelegram } from '../lambda/config/schema';
import { smsSubscriptions } from '../lambda/core/routing';
import { createSimulator, type Simulator } from './simulator';
import {
  emulatorEnvironment,
  startDynamoDbLocal,
  startSesEmulator,
  startSnsEmulator,
  startTelegramEmulator,
  type Emulator,
} from './emulators';
import { ensureStateTable } from './state-table';

/** The variable the local bot token is read from (the config's default). */
export const LOCAL_BOT_TOKEN_ENV = 'TELEGRAM_BOT_TOKEN';

export interface LocalStackOptions {
  readonly config: AlertsConfig;
  /** Poll this real server instead of simulators (the config's single source points at it). */
  readonly realServer?: boolean;
  /** Keep DynamoDB Local's data here between runs; default: in memory. */
  readonly stateDir?: string;
  /** Simulator token. Default 'demo-token'. */
  readonly simulatorToken?: string;
}

export interface Phone {
  readonly phone: string;
  readonly queueUrl: string;
}

export interface LocalStack {
  /** The config as the handler gets it (sources pointed at the simulators). */
  readonly config: AlertsConfig;
  /** Environment for the handler: endpoints, table, topics, config, tokens. */
  readonly env: Record<string, string>;
  readonly simulators: ReadonlyMap<string, Simulator>;
  readonly phones: readonly Phone[];
  readonly opsQueueUrl: string;
  readonly endpoints: {
    readonly dynamodb: string;
    readonly ses: string;
    readonly sns: string;
    readonly telegram?: string;
  };
  /** The Telegram stand-in's bot, when a route lists Telegram chats. */
  readonly telegram?: { readonly endpoint: string; readonly token: string };
  readonly sqs: SQSClient;
  stop(): Promise<void>;
}

export const LOCAL_TABLE = 'qrmenu-alerts-local';

/** The environment variable a local source's token is read from. */
export function tokenEnvName(sourceId: string): string {
  return `QRMENU_TOKEN_${sourceId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const started: Emulator[] = [];
  const simulators = new Map<string, Simulator>();
  const stop = async () => {
    await Promise.allSettled([...simulators.values()].map((s) => s.close()));
    await Promise.allSettled(started.map((e) => e.stop()));
  };
  try {
    const track = <T extends Emulator>(e: T): T => {
      started.push(e);
      return e;
    };
    const [dynamodb, ses, sns] = await Promise.all([
      startDynamoDbLocal(options.stateDir ? { dataDir: options.stateDir } : {}).then(track),
      startSesEmulator().then(track),
      startSnsEmulator().then(track),
    ]);
    // Telegram: the stand-in, whenever a route has chats; the bot's token is made up here.
    let telegram: { endpoint: string; token: string } | undefined;
    if (usesTelegram(options.config)) {
      const emulator = await startTelegramEmulator();
      started.push({ endpoint: emulator.endpoint, stop: emulator.stop });
      telegram = { endpoint: emulator.endpoint, token: `4242424242:AAlocal-${randomUUID().replace(/-/g, '')}` };
    }
    const endpoints = {
      dynamodb: dynamodb.endpoint,
      ses: ses.endpoint,
      sns: sns.endpoint,
      ...(telegram ? { telegram: telegram.endpoint } : {}),
    };
    const awsEnv = emulatorEnvironment(endpoints);
    const clientConfig = { region: awsEnv.AWS_REGION, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
    const dynamo = new DynamoDBClient({ ...clientConfig, endpoint: dynamodb.endpoint });
    const snsClient = new SNSClient({ ...clientConfig, endpoint: sns.endpoint });
    const sqs = new SQSClient({ ...clientConfig, endpoint: sns.endpoint });

    const tokens: Record<string, string> = {};
    let config = options.config;
    if (!options.realServer) {
      const token = options.simulatorToken ?? 'demo-token';
      const sources = await Promise.all(
        config.sources.map(async (source, i) => {
          const sim = await createSimulator({ token, seed: 1 + i });
          simulators.set(source.id, sim);
          tokens[tokenEnvName(source.id)] = token;
          return {
            ...source,
            url: sim.url,
            tls: { fingerprint256: sim.fingerprint256! },
            token: { env: tokenEnvName(source.id) },
          };
        }),
      );
      config = { ...config, sources };
    }

    if (telegram) {
      config = {
        ...config,
        telegram: {
          acknowledgeCodes: ['waiter_call', 'waiter_call_cash', 'bill_request'],
          ...config.telegram,
          token: { env: LOCAL_BOT_TOKEN_ENV },
          apiRoot: telegram.endpoint,
        },
      };
      tokens[LOCAL_BOT_TOKEN_ENV] = telegram.token;
    }
    await ensureStateTable(dynamo, LOCAL_TABLE);
    const alertsTopic = await snsClient.send(new CreateTopicCommand({ Name: `qrmenu-alerts-${config.name}` }));
    const opsTopic = await snsClient.send(new CreateTopicCommand({ Name: `qrmenu-alerts-${config.name}-ops` }));
    const phones: Phone[] = [];
    for (const subscription of smsSubscriptions(config)) {
      const queueUrl = await subscribedQueue(
        sqs,
        snsClient,
        alertsTopic.TopicArn!,
        `phone-${subscription.phone.replace(/\D/g, '')}`,
        subscription.filterPolicy,
      );
      phones.push({ phone: subscription.phone, queueUrl });
    }
    const opsQueueUrl = await subscribedQueue(sqs, snsClient, opsTopic.TopicArn!, 'ops-inbox', null);

    const env: Record<string, string> = {
      ...awsEnv,
      ...tokens,
      [RUNTIME_ENV.configJson]: JSON.stringify(sealConfig(config)),
      [RUNTIME_ENV.stateTable]: LOCAL_TABLE,
      [RUNTIME_ENV.alertsTopicArn]: alertsTopic.TopicArn!,
      [RUNTIME_ENV.opsTopicArn]: opsTopic.TopicArn!,
    };
    return { config, env, simulators, phones, opsQueueUrl, endpoints, ...(telegram ? { telegram } : {}), sqs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function subscribedQueue(
  sqs: SQSClient,
  sns: SNSClient,
  topicArn: string,
  name: string,
  filterPolicy: object | null,
): Promise<string> {
  const queue = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID().slice(0, 6)}` }));
  const attributes = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queue.QueueUrl!, AttributeNames: ['QueueArn'] }),
  );
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: attributes.Attributes!.QueueArn!,
      ...(filterPolicy ? { Attributes: { FilterPolicy: JSON.stringify(filterPolicy) } } : {}),
    }),
  );
  return queue.QueueUrl!;
}

/** What one message on a stand-in phone (an SQS queue subscribed to the alerts topic) says. */
export interface PhoneMessage {
  readonly hash?: string;
  readonly text: string;
}

/**
 * Read and delete what arrived on a queue. The body is SNS's notification envelope; its `Message`
 * is our MessageStructure=json object. Real SNS would hand an SMS subscriber only the `sms` value;
 * the emulator delivers the whole object, so the `sms` key is read out here.
 */
export async function drainQueue(
  sqs: SQSClient,
  queueUrl: string,
  waitSeconds = 0,
): Promise<{ subject?: string; message: string; structured?: Record<string, string> }[]> {
  const out = await sqs.send(
    new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds }),
  );
  const messages = out.Messages ?? [];
  if (messages.length > 0) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return messages.map((m) => {
    const envelope = JSON.parse(m.Body ?? '{}') as { Message?: string; Subject?: string };
    const message = envelope.Message ?? m.Body ?? '';
    let structured: Record<string, string> | undefined;
    try {
      const parsed = JSON.parse(message) as unknown;
      if (parsed && typeof parsed === 'object' && typeof (parsed as Record<string, unknown>).sms === 'string')
        structured = parsed as Record<string, string>;
    } catch {
      structured = undefined;
    }
    return {
      ...(envelope.Subject ? { subject: envelope.Subject } : {}),
      message,
      ...(structured ? { structured } : {}),
    };
  });
}

/** The SMS text and event hash of a structured alert message. */
export function phoneMessage(structured: Record<string, string>): PhoneMessage {
  let hash: string | undefined;
  try {
    hash = (JSON.parse(structured.default ?? '{}') as { hash?: string }).hash;
  } catch {
    hash = undefined;
  }
  return { ...(hash ? { hash } : {}), text: structured.sms ?? '' };
}
