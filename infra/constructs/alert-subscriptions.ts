/**
 * Who hears the alerts topic: one SMS subscription per phone, with the filter policy
 * `smsSubscriptions(config)` derives from the routes (`{"route": [its routes]}`: SNS does the SMS
 * routing on the `route` attribute the poller publishes), and the extra subscribers of
 * `aws.subscriptions` (e-mail, HTTPS, SQS, Lambda), optionally filtered to one route
 * (`{"route": ["<name>"]}`). `CfnSubscription` takes the policy as the JSON the code computes
 * (and keeps the logical ids the stack has always had).
 * A Lambda subscriber gets the permission for SNS to invoke it; an SQS subscriber's queue policy
 * belongs to the queue's owner (docs/DEPLOY.md shows the statement to add).
 */
import { createHash } from 'node:crypto';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { AlertsConfig } from '../../lambda/config/schema';
import { routeFilterPolicy, smsSubscriptions, type FilterPolicy } from '../../lambda/core/routing';
import type { ExtraSubscription } from '../config/deployment';

export interface AlertSubscriptionsProps {
  readonly topic: sns.ITopic;
  readonly config: Pick<AlertsConfig, 'routes' | 'zones'>;
  readonly extra: readonly ExtraSubscription[];
}

export class AlertSubscriptions extends Construct {
  /** The SMS subscriptions by phone number (tests and outputs read them). */
  readonly sms: ReadonlyMap<string, sns.CfnSubscription>;

  constructor(scope: Construct, id: string, props: AlertSubscriptionsProps) {
    super(scope, id);
    const sms = new Map<string, sns.CfnSubscription>();
    // Ids from the phone number and the endpoint: reordering the config replaces nothing.
    for (const subscription of smsSubscriptions(props.config)) {
      const id = `Sms${subscription.phone.slice(1)}`;
      sms.set(
        subscription.phone,
        this.subscribe(id, props.topic, 'sms', subscription.phone, subscription.filterPolicy),
      );
    }
    this.sms = sms;

    for (const extra of props.extra) {
      const id = `Extra${createHash('sha256').update(`${extra.protocol} ${extra.endpoint}`).digest('hex').slice(0, 10)}`;
      const route = extra.route === undefined ? undefined : props.config.routes.find((r) => r.name === extra.route);
      const policy = route ? routeFilterPolicy([route.name]) : null;
      this.subscribe(id, props.topic, extra.protocol, extra.endpoint, policy);
      if (extra.protocol === 'lambda') {
        new lambda.CfnPermission(this, `${id}Invoke`, {
          action: 'lambda:InvokeFunction',
          functionName: extra.endpoint,
          principal: 'sns.amazonaws.com',
          sourceArn: props.topic.topicArn,
        });
      }
    }
  }

  private subscribe(
    id: string,
    topic: sns.ITopic,
    protocol: string,
    endpoint: string,
    policy: FilterPolicy | null,
  ): sns.CfnSubscription {
    return new sns.CfnSubscription(this, id, {
      topicArn: topic.topicArn,
      protocol,
      endpoint,
      ...(policy === null ? {} : { filterPolicy: policy, filterPolicyScope: 'MessageAttributes' }),
    });
  }
}
