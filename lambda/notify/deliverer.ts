/**
 * The Deliverer (port.ts) over SES and SNS: for one event, the `email` channel (when routes give
 * it e-mail recipients) and the `sns` channel (one publish per event whenever a topic is
 * configured: SMS routing happens inside SNS by filter policy, and integrators subscribe too),
 * both at the same time. Channels listed in `request.skip` are not sent again.
 *
 * It never throws: every problem, a rendering bug included, becomes a `ChannelResult` with a
 * kind (errors.ts). Results list the recipients (e-mail addresses; for sns the topic ARN) and
 * the message ids.
 */
import type { SESClient } from '@aws-sdk/client-ses';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { AlertsConfig } from '../config/schema';
import { renderEmail } from '../core/email';
import { renderSnsMessage, renderSnsSubject } from '../core/sns-message';
import type { AlertInput, RenderOptions } from '../core/texts';
import { emailRecipients, snsAttributes, type RoutingFacts } from '../core/routing';
import { DeliveryError } from './errors';
import type { Channel, ChannelResult, Deliverer, DeliveryErrorKind, DeliveryRequest, DeliveryResult } from './port';
import type { AwsClientOptions } from '../aws-clients';
import { createSesClient, sendAlertEmail } from './ses';
import { createSnsClient, maxMessageBytes, publishAlert } from './sns';

export interface DelivererOptions {
  readonly config: AlertsConfig;
  /** The alerts topic. Default: none, and the sns channel is never attempted. */
  readonly topicArn?: string;
  /** Default: `createSesClient(clientOptions)`, made on first use. */
  readonly ses?: SESClient;
  /** Default: `createSnsClient(clientOptions)`, made on first use. */
  readonly sns?: SNSClient;
  /** Clock, used only when a request's `firstSeenAt` is not a valid time. Default `Date.now`. */
  readonly now?: () => number;
  /** Settings of the clients this deliverer creates (ignored for clients passed in). */
  readonly clientOptions?: AwsClientOptions;
  /** Budget of one channel's send, every retry included. Default 8 s (see CLIENT_DEFAULTS). */
  readonly sendTimeoutMs?: number;
}

export function createDeliverer(options: DelivererOptions): Deliverer {
  const { config, topicArn } = options;
  const now = options.now ?? Date.now;
  const render: RenderOptions = { locale: config.locale, timeZone: config.timeZone };
  let ses = options.ses;
  let sns = options.sns;
  const timeout = options.sendTimeoutMs !== undefined ? { timeoutMs: options.sendTimeoutMs } : {};

  async function email(input: AlertInput, recipients: readonly string[]): Promise<ChannelResult> {
    if (config.email === undefined) {
      return fail(
        'email',
        'permanent',
        'routes send e-mail but email.from is not configured: set it to a verified SES sender',
      );
    }
    const rendered = attempt('email', () => renderEmail(input, render));
    if (rendered instanceof DeliveryError) return failed(rendered);
    ses ??= createSesClient(options.clientOptions);
    const sent = await sendAlertEmail({
      client: ses,
      from: config.email.from,
      ...(config.email.replyTo && { replyTo: config.email.replyTo }),
      recipients,
      email: rendered,
      ...timeout,
    });
    return { channel: 'email', ok: true, recipients: sent.recipients, messageIds: sent.messageIds };
  }

  async function publish(input: AlertInput, facts: RoutingFacts, arn: string): Promise<ChannelResult> {
    const prepared = attempt('sns', () => {
      const attributes = snsAttributes(facts, config.zones);
      const message = renderSnsMessage(input, { ...render, maxBytes: maxMessageBytes(attributes) });
      return { attributes, message, subject: renderSnsSubject(input, render) };
    });
    if (prepared instanceof DeliveryError) return failed(prepared);
    sns ??= createSnsClient(options.clientOptions);
    const { messageId } = await publishAlert({
      client: sns,
      topicArn: arn,
      message: prepared.message,
      attributes: prepared.attributes,
      ...(prepared.subject !== undefined && { subject: prepared.subject }),
      ...timeout,
    });
    return { channel: 'sns', ok: true, recipients: [arn], messageIds: [messageId] };
  }

  return {
    async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
      const skip = new Set<Channel>(request.skip ?? []);
      const wanted = attempt('email', () => {
        const { event } = request;
        const facts: RoutingFacts = { sourceId: request.sourceId, code: event.code, tableName: event.tableName };
        const firstSeenAt = Number.isFinite(request.firstSeenAt) ? request.firstSeenAt : now();
        const input: AlertInput = { sourceId: request.sourceId, sourceName: request.sourceName, event, firstSeenAt };
        return { input, facts, recipients: skip.has('email') ? [] : emailRecipients(config, facts) };
      });
      if (wanted instanceof DeliveryError) {
        // A request the types promise cannot happen (no event): answer for every channel rather than throw.
        const channels: Channel[] = [
          ...(skip.has('email') ? [] : ['email' as const]),
          ...(skip.has('sns') || topicArn === undefined ? [] : ['sns' as const]),
        ];
        return {
          channels: channels.map((channel) =>
            fail(channel, 'permanent', wanted.message.replace('the email message', 'the message')),
          ),
        };
      }
      const { input, facts, recipients } = wanted;
      const tasks: Promise<ChannelResult>[] = [];
      if (recipients.length > 0) tasks.push(settle('email', () => email(input, recipients)));
      if (!skip.has('sns') && topicArn !== undefined) tasks.push(settle('sns', () => publish(input, facts, topicArn)));
      return { channels: await Promise.all(tasks) };
    },
  };
}

function fail(channel: Channel, kind: DeliveryErrorKind, message: string): ChannelResult {
  return { channel, ok: false, kind, message };
}

function failed(error: DeliveryError): ChannelResult {
  return fail(error.channel, error.kind, error.message);
}

/** Run a channel; whatever it throws becomes a failed result (adapters throw classified errors). */
async function settle(channel: Channel, run: () => Promise<ChannelResult>): Promise<ChannelResult> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof DeliveryError) return failed(error);
    return fail(
      channel,
      'transient',
      `unexpected error while sending ${channel}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** Our own code failing on odd input (a bug): retrying will not help, so it is permanent. */
function attempt<T>(channel: Channel, run: () => T): T | DeliveryError {
  try {
    return run();
  } catch (error) {
    const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return new DeliveryError(
      channel,
      'permanent',
      `could not prepare the ${channel} message (a bug in qrmenu-alerts, please report it): ${text}`,
      { cause: error },
    );
  }
}
