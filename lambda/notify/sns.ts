/**
 * The SNS adapter: one Publish per event to the alerts topic, with `MessageStructure: 'json'`
 * (SMS subscribers get the short `sms` text, e-mail subscribers the `email` text, JSON subscribers
 * the full event in `default`) and the message attributes that the subscriptions' filter
 * policies route on (`snsAttributes` in core/routing.ts).
 *
 * The client speaks the Query protocol itself (aws/query-call.ts, no SDK client) and makes one
 * attempt per call (the `send` profile of lambda/aws/clients.ts): a retry of a publish that SNS accepted but answered late would send every SMS twice. Failures
 * are thrown as classified `DeliveryError`s (errors.ts), ambiguous ones flagged as such.
 */
import type { SnsAttribute } from '../core/routing';
import { SNS_MAX_MESSAGE_BYTES } from '../core/sns-message';
import { toDeliveryError } from './errors';
import { CLIENT_DEFAULTS } from '../aws/clients';
import {
  QueryClient,
  QueryMap,
  SNS,
  type SendEndpointOptions,
  sendEndpointOptions,
  messageIdOf,
} from '../aws/query-call';

/** An SNS client: the Query protocol over a `send`-profile endpoint. */
export type SnsClient = QueryClient;

export function createSnsClient(options: SendEndpointOptions = {}): SnsClient {
  return new QueryClient(SNS, sendEndpointOptions(options));
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
  readonly client: SnsClient;
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
    const answer = await options.client.call('Publish', publishParams(options), {
      abortSignal: AbortSignal.timeout(options.timeoutMs ?? CLIENT_DEFAULTS.sendTimeoutMs),
    });
    return { messageId: messageIdOf(answer, 'Publish') };
  } catch (error) {
    const { region } = options.client;
    throw toDeliveryError('sns', error, { service: 'sns', topicArn: options.topicArn, ...(region && { region }) });
  }
}

/** The Publish parameters of an alert. */
export function publishParams(options: Pick<PublishAlertOptions, 'topicArn' | 'message' | 'attributes' | 'subject'>) {
  return {
    TopicArn: options.topicArn,
    Message: options.message,
    MessageStructure: 'json',
    MessageAttributes: new QueryMap(
      Object.fromEntries(
        Object.entries(options.attributes).map(([name, a]) => [
          name,
          { DataType: a.DataType, StringValue: a.StringValue },
        ]),
      ),
      'Name',
      'Value',
    ),
    ...(options.subject !== undefined && { Subject: options.subject }),
  };
}
