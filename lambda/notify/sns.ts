/**
 * The SNS adapter: one Publish per event to the alerts topic, with `MessageStructure: 'json'`
 * (SMS subscribers get the short `sms` text, e-mail subscribers the `email` text, JSON subscribers
 * the full event in `default`) and the message attributes that the subscriptions' filter
 * policies route on (`snsAttributes` in core/routing.ts).
 *
 * The client makes one attempt per call (the `send` profile of lambda/aws-clients.ts): an SDK
 * retry of a publish that SNS accepted but answered late would send every SMS twice. Failures
 * are thrown as classified `DeliveryError`s (errors.ts), ambiguous ones flagged as such.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import type { SnsAttribute } from '../core/routing';
import { SNS_MAX_MESSAGE_BYTES } from '../core/sns-message';
import { toDeliveryError } from './errors';
import { CLIENT_DEFAULTS, sendClientConfig, type SendClientOptions } from '../aws/clients';
import { clientRegion } from './ses';

export function createSnsClient(options: SendClientOptions = {}): SNSClient {
  return new SNSClient(sendClientConfig(options));
}

/** Bytes the message attributes take from SNS's 256 KB (names, types and values). */
export function attributesBytes(attributes: Readonly<Record<string, SnsAttribute>>): number {
  return Object.entries(attributes).reduce(
    (sum, [name, a]) =>
      sum + Buffer.byteLength(name) + Buffer.byteLength(a.DataType) + Buffer.byteLength(a.StringValue),
    0,
  );
}

/** Largest `Message` that still fits SNS's limit next to these attributes. */
export function maxMessageBytes(attributes: Readonly<Record<string, SnsAttribute>>): number {
  return SNS_MAX_MESSAGE_BYTES - attributesBytes(attributes);
}

export interface PublishAlertOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
  /** `renderSnsMessage(...)`: a JSON object with at least a `default` key. */
  readonly message: string;
  readonly attributes: Readonly<Record<string, SnsAttribute>>;
  /** For SNS e-mail subscribers; printable ASCII under 100 characters (`renderSnsSubject`). */
  readonly subject?: string;
  /** Default {@link CLIENT_DEFAULTS}.sendTimeoutMs. */
  readonly timeoutMs?: number;
}

/** Publish the alert; resolves with SNS's message id, throws a classified `DeliveryError`. */
export async function publishAlert(options: PublishAlertOptions): Promise<{ messageId: string }> {
  try {
    const output = await options.client.send(
      new PublishCommand({
        TopicArn: options.topicArn,
        Message: options.message,
        MessageStructure: 'json',
        MessageAttributes: Object.fromEntries(
          Object.entries(options.attributes).map(([name, a]) => [
            name,
            { DataType: a.DataType, StringValue: a.StringValue },
          ]),
        ),
        ...(options.subject !== undefined && { Subject: options.subject }),
      }),
      { abortSignal: AbortSignal.timeout(options.timeoutMs ?? CLIENT_DEFAULTS.sendTimeoutMs) },
    );
    return { messageId: output.MessageId ?? '' };
  } catch (error) {
    const region = await clientRegion(options.client);
    throw toDeliveryError('sns', error, { service: 'sns', topicArn: options.topicArn, ...(region && { region }) });
  }
}
