/**
 * The operator's channel: a plain-text message to the ops SNS topic (its subscribers are the
 * operator's e-mail addresses; the CloudWatch alarms publish there too). Used for the rare,
 * actionable things: a possible gap in polling, an alert that could not be delivered. One
 * attempt per call, like the alert sends (lambda/aws/clients.ts): the poller decides on retries.
 */
import type { OpsNotifier } from '../domain/ports';
import { createSnsClient, type SnsClient } from './sns';

/** SNS subjects are ASCII-printable and at most 100 characters. */
export function snsSubject(text: string): string {
  const ascii = text.replace(/[^\x20-\x7e]/g, '?').trim();
  return ascii.length > 100 ? `${ascii.slice(0, 99)}…`.replace(/…$/, '.') : ascii;
}

export function createOpsNotifier(options: { topicArn: string; client?: SnsClient }): OpsNotifier {
  const client = options.client ?? createSnsClient();
  return {
    async alert(subject, message) {
      await client.call('Publish', { TopicArn: options.topicArn, Subject: snsSubject(subject), Message: message });
    },
  };
}
