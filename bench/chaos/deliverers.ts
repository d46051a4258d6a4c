/**
 * Deliverers for the chaos runs: a counter around any deliverer (how often each event went out on
 * each channel), and the real `createDeliverer` over the SES and SNS emulators with an outage
 * switch — either service, or both, pointed at an endpoint where nothing listens.
 */
import type { AlertsConfig } from '../../lambda/config/schema';
import { createDeliverer } from '../../lambda/notify/deliverer';
import type { Deliverer, DeliveryRequest, DeliveryResult } from '../../lambda/domain/delivery';
import { createSesClient } from '../../lambda/notify/ses';
import { createSnsClient } from '../../lambda/notify/sns';

export class CountingDeliverer implements Deliverer {
  readonly sent: { readonly email: Map<string, number>; readonly sns: Map<string, number> } = {
    email: new Map(),
    sns: new Map(),
  };
  /** Failed channels per hash, with the deliverer's message. */
  readonly failures = new Map<string, string[]>();
  constructor(readonly inner: Deliverer) {}

  async deliver(request: DeliveryRequest): Promise<DeliveryResult> {
    const result = await this.inner.deliver(request);
    const hash = request.event.hash;
    for (const channel of result.channels) {
      if (channel.ok) {
        const sent = channel.channel === 'email' || channel.channel === 'sns' ? this.sent[channel.channel] : undefined;
        sent?.set(hash, (sent.get(hash) ?? 0) + 1);
      } else
        this.failures.set(hash, [
          ...(this.failures.get(hash) ?? []),
          `${channel.channel} ${channel.kind}: ${channel.message}`,
        ]);
    }
    return result;
  }

  /** Went out on both channels. */
  deliveredFully(hash: string): boolean {
    return (this.sent.sns.get(hash) ?? 0) > 0 && (this.sent.email.get(hash) ?? 0) > 0;
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
