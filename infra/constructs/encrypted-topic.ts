/**
 * An SNS topic encrypted with the deployment's KMS customer managed key (deployment-key.ts, one
 * key for every topic), refusing any request not made over TLS. Used twice: the alerts topic
 * (every event; SMS and other subscribers hang off it) and the ops topic (alarms and operator
 * notices).
 * With `allowAlarmsWithPrefix`, CloudWatch alarms of this account whose names start with that
 * prefix may publish: the topic policy lets them, and the key policy lets CloudWatch use the key
 * (the AWS managed aws/sns key cannot allow that, hence a customer managed key).
 * `grantPublish` gives sns:Publish on the topic and the two KMS actions a publisher needs.
 */
import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { DeploymentKey } from './deployment-key';

export interface EncryptedTopicProps {
  /** The key that encrypts the topic (shared by every topic of the deployment). */
  readonly key: DeploymentKey;
  /**
   * Shown as the sender of e-mail notifications. Default: none. Leave it off a topic with SMS
   * subscribers: SNS puts the display name in front of every SMS, and the text must fit one segment.
   */
  readonly displayName?: string;
  /** Let CloudWatch alarms whose names start with this publish. Default: none. */
  readonly allowAlarmsWithPrefix?: string;
}

export class EncryptedTopic extends Construct {
  readonly topic: sns.Topic;
  readonly key: kms.IKey;

  constructor(scope: Construct, id: string, props: EncryptedTopicProps) {
    super(scope, id);
    this.key = props.key.key;
    this.topic = new sns.Topic(this, 'Topic', {
      ...(props.displayName === undefined ? {} : { displayName: props.displayName }),
      masterKey: this.key,
      enforceSSL: true,
    });

    if (props.allowAlarmsWithPrefix !== undefined) {
      const stack = Stack.of(this);
      const alarmArns = stack.formatArn({
        service: 'cloudwatch',
        resource: 'alarm',
        resourceName: `${props.allowAlarmsWithPrefix}*`,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
      const cloudwatch = new iam.ServicePrincipal('cloudwatch.amazonaws.com');
      this.topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AllowThisStacksAlarms',
          principals: [cloudwatch],
          actions: ['sns:Publish'],
          resources: [this.topic.topicArn],
          conditions: {
            StringEquals: { 'aws:SourceAccount': stack.account },
            ArnLike: { 'aws:SourceArn': alarmArns },
          },
        }),
      );
      props.key.allowServiceToEncrypt('cloudwatch.amazonaws.com', 'AllowCloudWatchAlarmsToPublish');
    }
  }

  get topicArn(): string {
    return this.topic.topicArn;
  }

  /** sns:Publish on this topic, kms:GenerateDataKey and kms:Decrypt on its key. */
  grantPublish(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['sns:Publish'], resourceArns: [this.topic.topicArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
      resourceArns: [this.key.keyArn],
    });
  }
}
