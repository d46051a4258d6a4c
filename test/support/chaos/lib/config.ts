/**
 * The restaurant of the chaos runs that deliver through the real `createDeliverer`: waiters paged
 * by SMS, a manager by SMS and e-mail, and a log mailbox route that every event reaches — so each
 * event is one SNS publish and one SES e-mail. `logRecipients` replaces the log route's mailboxes
 * (the partial-ses kind puts an address the SES sandbox refuses among them). Cooldown 0: the
 * suite judges delivery, not the collapsing of repeats. Everything else is the product's default.
 */
import { type AlertsConfig, parseAlertsConfig } from '../../../../lambda/config/schema';
import { SOURCE_ID } from './env';

export const LOG_MAILBOX = 'log@chaos.example';

export function chaosConfig(sourceUrl: string, options: { logRecipients?: readonly string[] } = {}): AlertsConfig {
  return parseAlertsConfig(
    {
      name: 'chaos',
      locale: 'ru',
      sources: [
        {
          id: SOURCE_ID,
          name: 'Пиццерия (chaos)',
          url: sourceUrl,
          // The suite's simulators are plain http on loopback.
          allowPlainHttp: sourceUrl.startsWith('http:'),
        },
      ],
      zones: { hall: ['1-19'], terrace: ['20-30'] },
      routes: [
        {
          name: 'waiters',
          codes: ['waiter_call', 'waiter_call_cash'],
          tables: ['hall', 'terrace'],
          sms: ['+79160000001'],
        },
        {
          name: 'manager',
          codes: ['bill_request', 'waiter_call_cash', 'order_paid'],
          email: ['manager@chaos.example'],
          sms: ['+79160000004'],
        },
        { name: 'log', email: [...(options.logRecipients ?? [LOG_MAILBOX])] },
      ],
      email: { from: 'alerts@chaos.example' },
      // Quotas far above the emulators' pace: the suite runs on a manual clock that the real deliverer's
      // pacing does not share; pacing has its own tests (send-rate, delivery-pacing).
      delivery: { cooldownSeconds: 0, sesPerSecond: 10_000, snsPerSecond: 10_000 },
    },
    'the chaos config',
  );
}
