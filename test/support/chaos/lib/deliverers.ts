/**
 * Deliverers and witnesses for the chaos runs:
 *   CountingDeliverer   around any deliverer: what each event's answers say went out, per channel, and when;
 *   deliverersWithOutages  the real `createDeliverer` over the emulators, SES, SNS or both switchable to
 *                       an endpoint where nothing listens (a refused connection: surely not sent);
 *   topicWithPhone      a topic of the run's own with one unfiltered SQS "phone": what SNS really
 *                       accepted, whatever the deliverer was told (the late-send kind's witness);
 *   sandboxedSes        an SES client that plays the sandbox's refusal of one unverified address and
 *                       records every e-mail SES accepted, by event and recipient.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { CreateTopicCommand, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { AlertsConfig } from '../../../../lambda/config/schema';
import { createDeliverer } from '../../../../lambda/notify/deliverer';
import type { Channel, Deliverer, DeliveryRequest, DeliveryResult } from '../../../../lambda/domain/delivery';
import { createSesClient } from '../../../../lambda/notify/ses';
import { createSnsClient } from '../../../../lambda/notify/sns';
import type { QrEvent } from '../../../../lambda/domain/event';
import { destinationsOf, tapWire, xmlError } from '../../wire';
import type { ChaosEnv } from './env';

/** The channels the suite judges (Telegram chats are the staff loop's, not in these runs). */
export type JudgedChannel = Extract<Channel, 'email' | 'sns'>;
export const CHANNELS: readonly JudgedChannel[] = ['email', 'sns'];

function isJudged(channel: Channel): channel is JudgedChannel {
  return channel === 'email' || channel === 'sns';
}

export class CountingDeliverer implements Deliverer {
  /** Successful sends per channel, by event id. */
  readonly sent: Record<JudgedChannel, Map<string, number>> = { email: new Map(), sns: new Map() };
  /** When each event first went out on each channel. */
  readonly firstAt: Record<JudgedChannel, Map<string, number>> = { email: new Map(), sns: new Map() };
  /** Failed channels per event id, with the deliverer's message. */
  readonly failures = new Map<string, string[]>();

  constructor(
    readonly inner: Deliverer,
    readonly options: { readonly identify?: (event: QrEvent) => string; readonly now?: () => number } = {},
  ) {}

  async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
    const result = await this.inner.deliver(request);
    const id = this.options.identify?.(request.event) ?? request.event.hash;
    for (const channel of result.channels) {
      if (channel.ok && isJudged(channel.channel)) {
        this.sent[channel.channel].set(id, (this.sent[channel.channel].get(id) ?? 0) + 1);
        if (this.options.now && !this.firstAt[channel.channel].has(id))
          this.firstAt[channel.channel].set(id, this.options.now());
      } else if (!channel.ok)
        this.failures.set(id, [
          ...(this.failures.get(id) ?? []),
          `${channel.channel} ${channel.kind}: ${channel.message}`,
        ]);
    }
    return result;
  }

  copies(id: string, channel: JudgedChannel): number {
    return this.sent[channel].get(id) ?? 0;
  }

  /** Went out on both channels. */
  deliveredFully(id: string): boolean {
    return this.copies(id, 'sns') > 0 && this.copies(id, 'email') > 0;
  }

  /** When the event had gone out on every channel (undefined: not yet, or no clock). */
  doneAt(id: string): number | undefined {
    const at = CHANNELS.map((c) => this.firstAt[c].get(id));
    return at.every((t) => t !== undefined) ? Math.max(...(at as number[])) : undefined;
  }
}

export type Outage = 'none' | 'ses' | 'sns' | 'both';

/** The real deliverer; `outage` decides, call by call, which service is unreachable. */
export function deliverersWithOutages(
  config: AlertsConfig,
  topicArn: string,
  deadEndpoint: string,
): { deliverer: Deliverer; setOutage(o: Outage): void } {
  const live = { ses: createSesClient(), sns: createSnsClient() };
  const dead = { ses: createSesClient({ endpoint: deadEndpoint }), sns: createSnsClient({ endpoint: deadEndpoint }) };
  const make = (ses: 'live' | 'dead', sns: 'live' | 'dead') =>
    createDeliverer({
      config,
      topicArn,
      ses: ses === 'live' ? live.ses : dead.ses,
      sns: sns === 'live' ? live.sns : dead.sns,
    });
  const byOutage: Record<Outage, Deliverer> = {
    none: make('live', 'live'),
    ses: make('dead', 'live'),
    sns: make('live', 'dead'),
    both: make('dead', 'dead'),
  };
  let outage: Outage = 'none';
  return {
    deliverer: { deliver: (request) => byOutage[outage].deliver(request) },
    setOutage(o) {
      outage = o;
    },
  };
}

/** A topic of its own with one unfiltered SQS "phone": every publish SNS accepted lands there once. */
export async function topicWithPhone(
  env: ChaosEnv,
  name: string,
): Promise<{ topicArn: string; received(): Promise<Map<string, number>> }> {
  const { TopicArn } = await env.sns.send(new CreateTopicCommand({ Name: name }));
  const { QueueUrl } = await env.sqs.send(new CreateQueueCommand({ QueueName: name }));
  const { Attributes } = await env.sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  await env.sns.send(new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn }));
  const counts = new Map<string, number>();
  return {
    topicArn: TopicArn!,
    /** Reads everything queued so far (cumulative): hash → publishes received. */
    async received() {
      for (;;) {
        const { Messages = [] } = await env.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: 0,
            VisibilityTimeout: 3_600,
          }),
        );
        if (Messages.length === 0) return counts;
        for (const message of Messages) {
          const hash = envelopeHash(message.Body ?? '') ?? '(unreadable)';
          counts.set(hash, (counts.get(hash) ?? 0) + 1);
        }
      }
    },
  };
}

/** The event hash in what an SQS subscriber got (the SNS notification around our JSON envelope). */
export function envelopeHash(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value === 'string') return envelopeHash(value);
  if (typeof value !== 'object' || value === null) return undefined;
  const object = value as Record<string, unknown>;
  if (object.type === 'qrmenu-alerts.event' && typeof object.hash === 'string') return object.hash;
  for (const key of ['Message', 'default']) {
    const inner = object[key];
    if (typeof inner === 'string') {
      const found = envelopeHash(inner);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * An SES client (to the emulator) in the sandbox with one unverified address: a SendEmail naming
 * it is rejected whole, as SES does — naming the address in its message, or (`names: false`)
 * only saying an address is not verified, so the adapter must isolate it. Every accepted
 * e-mail is recorded with the hash of the event being delivered (`wrap` the deliverer to know it).
 */
export function sandboxedSes(options: { readonly refused: string; readonly names: boolean }) {
  const current = new AsyncLocalStorage<string>();
  const accepted: { hash: string; recipients: string[] }[] = [];
  let rejections = 0;
  const sandbox = tapWire(
    (call) => {
      if (!destinationsOf(call).some((a) => a.toLowerCase() === options.refused.toLowerCase())) return undefined;
      rejections += 1;
      return xmlError(
        'MessageRejected',
        options.names
          ? `Email address is not verified. The following identities failed the check in region EU-CENTRAL-1: ${options.refused}`
          : 'Email address is not verified.',
      );
    },
    (call, outcome) => {
      if (outcome.status !== undefined && outcome.status < 300)
        accepted.push({ hash: current.getStore() ?? '(unknown)', recipients: destinationsOf(call) });
    },
  );
  const client = createSesClient({ requestHandler: sandbox });
  return {
    client,
    accepted,
    rejections: () => rejections,
    wrap: (deliverer: Deliverer): Deliverer => ({
      deliver: (request) => current.run(request.event.hash, () => deliverer.deliver(request)),
    }),
    /** E-mails each recipient was sent of one event. */
    copies(hash: string, recipient: string): number {
      return accepted.filter((a) => a.hash === hash && a.recipients.includes(recipient)).length;
    },
  };
}
