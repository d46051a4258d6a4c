/**
 * The SES adapter: sends one rendered alert e-mail (HTML + text, UTF-8) with SES v1 SendEmail,
 * to every recipient, in as few calls as SES allows (50 destinations per message).
 *
 * Addressing: staff are put in Bcc, so that nobody's personal address is shown to the rest of
 * the staff and nobody can "reply all" to everyone; a message with a single recipient uses To
 * (it is their own address, and a message with no To header scores worse with spam filters).
 *
 * Refused recipients: in the SES sandbox a message with one unverified address is rejected whole.
 * The adapter then sends it again without the addresses SES named (or, when SES names nobody,
 * halves the batch until the refused ones are isolated) and reports them in `refused`.
 * The client speaks the Query protocol itself (aws/query-call.ts, no SDK client) and makes one
 * attempt per call (the `send` profile of lambda/aws/clients.ts). Other failures are thrown as
 * classified `DeliveryError`s (errors.ts).
 */
import type { RenderedEmail } from '../core/email';
import { parseMailbox } from '../core/mailbox';
import { CLIENT_DEFAULTS } from '../aws/clients';
import { QueryClient, SES, type SendEndpointOptions, sendEndpointOptions, messageIdOf } from '../aws/query-call';
import { classifySendError, DeliveryError, sesRefusal, toDeliveryError, type SendContext } from './errors';
import type { RefusedRecipient } from '../domain/delivery';

/** SES v1 accepts at most this many To + Cc + Bcc addresses per message. */
export const SES_MAX_DESTINATIONS = 50;

/**
 * Most rejected calls spent isolating refused recipients when SES does not name them (halving a
 * batch of 50 to find one address costs about 7); past it, the e-mail fails as SES said.
 */
export const MAX_ISOLATION_FAILURES = 12;

/** An SES v1 client: the Query protocol over a `send`-profile endpoint. */
export type SesClient = QueryClient;

/** SES v1 `Destination`. */
export interface Destination {
  readonly ToAddresses?: readonly string[];
  readonly CcAddresses?: readonly string[];
  readonly BccAddresses?: readonly string[];
}

export function createSesClient(options: SendEndpointOptions = {}): SesClient {
  return new QueryClient(SES, sendEndpointOptions(options));
}

export interface SendAlertEmailOptions {
  readonly client: SesClient;
  /** A verified SES identity (`email.from`). */
  readonly from: string;
  readonly replyTo?: readonly string[];
  /** Deduplicated addresses (`emailRecipients`). */
  readonly recipients: readonly string[];
  readonly email: RenderedEmail;
  /** Budget of every call together. Default {@link CLIENT_DEFAULTS}.sendTimeoutMs. */
  readonly timeoutMs?: number;
}

export interface SentEmail {
  /** Who was sent the e-mail: the recipients less the refused. Empty when SES refused all of them. */
  readonly recipients: readonly string[];
  /** One per successful SES call. */
  readonly messageIds: readonly string[];
  /** Recipients SES refused (unverified in the sandbox); they were not sent the e-mail. */
  readonly refused: readonly RefusedRecipient[];
}

/** The destinations of the calls for a list of recipients: at most 50 each, Bcc unless alone. */
export function destinationBatches(recipients: readonly string[], max: number = SES_MAX_DESTINATIONS): Destination[] {
  const batches: Destination[] = [];
  for (let i = 0; i < recipients.length; i += max) batches.push(destinationOf(recipients.slice(i, i + max)));
  return batches;
}

function destinationOf(batch: readonly string[]): Destination {
  return batch.length === 1 ? { ToAddresses: [...batch] } : { BccAddresses: [...batch] };
}

function addressesOf(destination: Destination): string[] {
  return [...(destination.ToAddresses ?? []), ...(destination.BccAddresses ?? [])];
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
 * Send the e-mail to every recipient SES accepts. Batches go one after the other. A batch that
 * SES rejects for unverified recipients is sent again without them (see the file comment); an
 * unverified sender, or any other failure, throws a classified `DeliveryError` (its message says
 * how much was already sent, since a retry of the channel sends that again).
 */
export async function sendAlertEmail(options: SendAlertEmailOptions): Promise<SentEmail> {
  const { client, email } = options;
  const budgetMs = options.timeoutMs ?? CLIENT_DEFAULTS.sendTimeoutMs;
  const signal = AbortSignal.timeout(budgetMs);
  const { region } = client;
  const context = (recipients: readonly string[]): SendContext => ({
    service: 'ses',
    sender: options.from,
    recipients,
    ...(region && { region }),
  });
  const sent: string[] = [];
  const messageIds: string[] = [];
  const refused = new Map<string, RefusedRecipient>();
  /** Recipients of batches SES rejected without naming anyone: refused once the sender is shown to work. */
  const unnamed = new Map<string, RefusedRecipient>();
  let firstUnnamed: unknown;
  let isolationFailures = 0;

  const send = async (batch: readonly string[]): Promise<void> => {
    if (signal.aborted) {
      throw new DeliveryError(
        'email',
        'transient',
        `e-mail not sent to ${batch.join(', ')}: the channel's budget of ${budgetMs} ms ran out before this call; will retry`,
      );
    }
    try {
      const answer = await client.call('SendEmail', sendEmailParams(options, email, batch), { abortSignal: signal });
      messageIds.push(messageIdOf(answer, 'SendEmail'));
      sent.push(...batch);
    } catch (error) {
      const refusal = sesRefusal(error, options.from);
      if (refusal === undefined || refusal.who === 'sender') throw toDeliveryError('email', error, context(batch));
      const named = batch.filter((address) => refusal.recipients.includes(address.toLowerCase()));
      if (named.length > 0) {
        const reason = refusedReason(region);
        for (const address of named) refused.set(address.toLowerCase(), { address, reason });
        const rest = batch.filter((address) => !named.includes(address));
        if (rest.length > 0) await send(rest);
        return;
      }
      // SES did not say whom it refused: halve the batch until the refused addresses stand alone.
      isolationFailures += 1;
      firstUnnamed ??= error;
      if (isolationFailures > MAX_ISOLATION_FAILURES) throw toDeliveryError('email', firstUnnamed, context(batch));
      if (batch.length === 1) {
        const { message } = classifySendError(error, context(batch));
        unnamed.set(batch[0]!.toLowerCase(), { address: batch[0]!, reason: message });
        return;
      }
      const half = Math.ceil(batch.length / 2);
      await send(batch.slice(0, half));
      await send(batch.slice(half));
    }
  };

  const batches = destinationBatches(options.recipients).map(addressesOf);
  for (const [index, batch] of batches.entries()) {
    try {
      await send(batch);
    } catch (error) {
      const failure = toDeliveryError('email', error, context(batch));
      const already =
        index > 0
          ? `${index} of ${batches.length} batches of recipients were already sent`
          : sent.length > 0
            ? `${sent.length} of ${options.recipients.length} recipients were already sent`
            : undefined;
      if (already === undefined) throw failure;
      throw new DeliveryError('email', failure.kind, `${failure.message} (${already}: a retry sends them again)`, {
        cause: error,
        ambiguous: failure.ambiguous,
      });
    }
  }
  if (unnamed.size > 0) {
    // Rejections that named nobody count against the recipients only if a send from this sender
    // worked; otherwise it may well be the sender that SES refuses.
    if (sent.length === 0)
      throw toDeliveryError('email', firstUnnamed, context([...unnamed.values()].map((r) => r.address)));
    for (const [key, recipient] of unnamed) refused.set(key, recipient);
  }
  return { recipients: sent, messageIds, refused: [...refused.values()] };
}

/** The SendEmail parameters of one batch. */
export function sendEmailParams(
  options: Pick<SendAlertEmailOptions, 'from' | 'replyTo'>,
  email: RenderedEmail,
  batch: readonly string[],
) {
  return {
    Source: encodeSender(options.from),
    Destination: { ...destinationOf(batch) },
    ...(options.replyTo && options.replyTo.length > 0 && { ReplyToAddresses: [...options.replyTo] }),
    Message: {
      Subject: { Data: email.subject, Charset: 'UTF-8' },
      Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
    },
  };
}

function refusedReason(region: string | undefined): string {
  const where = region ? ` (${region})` : '';
  return (
    `not verified in SES${where}: while the account is in the SES sandbox it sends only to verified addresses; ` +
    'verify this address or request production access (leave the SES sandbox)'
  );
}
