/**
 * The SES adapter: sends one rendered alert e-mail (HTML + text, UTF-8) with SES v1 SendEmail,
 * to every recipient, in as few calls as SES allows (50 destinations per message).
 *
 * Addressing: staff are put in Bcc, so that nobody's personal address is shown to the rest of
 * the staff and nobody can "reply all" to everyone; a message with a single recipient uses To
 * (it is their own address, and a message with no To header scores worse with spam filters).
 *
 * The client uses the shared SDK settings of lambda/aws-clients.ts (retries with backoff inside
 * one call, timeouts). Failures are thrown as classified `DeliveryError`s (errors.ts).
 */
import { SendEmailCommand, SESClient, type Destination } from '@aws-sdk/client-ses';
import { parseMailbox } from '../core/mailbox';
import type { RenderedEmail } from '../core/email';
import { awsClientConfig, CLIENT_DEFAULTS, type AwsClientOptions } from '../aws-clients';
import { DeliveryError, toDeliveryError, type SendContext } from './errors';

/** SES v1 accepts at most this many To + Cc + Bcc addresses per message. */
export const SES_MAX_DESTINATIONS = 50;

export function createSesClient(options: AwsClientOptions = {}): SESClient {
  return new SESClient(awsClientConfig(options));
}

/** The region a client sends to, or undefined when none is configured. */
export async function clientRegion(client: { config: { region: () => Promise<string> } }): Promise<string | undefined> {
  try {
    return await client.config.region();
  } catch {
    return undefined;
  }
}

export interface SendAlertEmailOptions {
  readonly client: SESClient;
  /** A verified SES identity (`email.from`). */
  readonly from: string;
  readonly replyTo?: readonly string[];
  /** Deduplicated addresses (`emailRecipients`). */
  readonly recipients: readonly string[];
  readonly email: RenderedEmail;
  /** Default {@link CLIENT_DEFAULTS}.sendTimeoutMs. */
  readonly timeoutMs?: number;
}

export interface SentEmail {
  readonly recipients: readonly string[];
  /** One per SES call (one per {@link SES_MAX_DESTINATIONS} recipients). */
  readonly messageIds: readonly string[];
}

/** The destinations of the calls for a list of recipients: at most 50 each, Bcc unless alone. */
export function destinationBatches(recipients: readonly string[], max: number = SES_MAX_DESTINATIONS): Destination[] {
  const batches: Destination[] = [];
  for (let i = 0; i < recipients.length; i += max) {
    const batch = recipients.slice(i, i + max);
    batches.push(batch.length === 1 ? { ToAddresses: batch } : { BccAddresses: batch });
  }
  return batches;
}

/**
 * The sender as SES v1 takes it: a display name outside ASCII ("Оповещения <alerts@x.example>")
 * must be a MIME encoded-word, or SES refuses the message. ASCII and bare addresses are unchanged.
 */
export function encodeSender(from: string): string {
  const { name, address } = parseMailbox(from);
  if (name === undefined || /^[\x20-\x7E]*$/.test(name)) return from;
  return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?= <${address}>`;
}

/**
 * Send the e-mail to every recipient. Batches go one after the other and stop at the first
 * failure; throws a classified `DeliveryError` (its message says how many batches were already
 * sent, since a retry of the channel sends those again).
 */
export async function sendAlertEmail(options: SendAlertEmailOptions): Promise<SentEmail> {
  const { client, email } = options;
  const signal = AbortSignal.timeout(options.timeoutMs ?? CLIENT_DEFAULTS.sendTimeoutMs);
  const batches = destinationBatches(options.recipients);
  const messageIds: string[] = [];
  for (const [index, destination] of batches.entries()) {
    try {
      const output = await client.send(
        new SendEmailCommand({
          Source: encodeSender(options.from),
          Destination: destination,
          ...(options.replyTo && options.replyTo.length > 0 && { ReplyToAddresses: [...options.replyTo] }),
          Message: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
          },
        }),
        { abortSignal: signal },
      );
      messageIds.push(output.MessageId ?? '');
    } catch (error) {
      const context: SendContext = {
        service: 'ses',
        sender: options.from,
        recipients: [...(destination.ToAddresses ?? []), ...(destination.BccAddresses ?? [])],
        ...(await clientRegion(client).then((region) => (region ? { region } : {}))),
      };
      const failure = toDeliveryError('email', error, context);
      if (index === 0) throw failure;
      throw new DeliveryError(
        'email',
        failure.kind,
        `${failure.message} (${index} of ${batches.length} batches of recipients were already sent: a retry sends them again)`,
        { cause: error },
      );
    }
  }
  return { recipients: [...options.recipients], messageIds };
}
