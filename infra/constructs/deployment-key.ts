/**
 * The deployment's one KMS customer managed key (rotation on): it encrypts both SNS topics (the
 * alerts topic and the ops topic). One key instead of one per topic saves 1 USD a month per
 * topic; the topics need a customer managed key at all because CloudWatch alarms publish to the
 * ops topic, and the AWS managed aws/sns key cannot let them (its policy cannot be changed).
 * The key policy starts as CDK's default (the account administers it); each topic that lets a
 * service publish adds that service's statement (`allowServiceToEncrypt`), so the key trusts
 * exactly the publishers some topic has.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';

export interface DeploymentKeyProps {
  /** What the key is for (its description). */
  readonly description: string;
  /** How long a deleted key waits before it is gone. @default 7 days */
  readonly pendingWindow?: Duration;
}

export class DeploymentKey extends Construct {
  readonly key: kms.Key;
  readonly #services = new Set<string>();

  constructor(scope: Construct, id: string, props: DeploymentKeyProps) {
    super(scope, id);
    this.key = new kms.Key(this, 'Key', {
      description: props.description,
      enableKeyRotation: true,
      // SNS keeps no messages at rest once delivered, so nothing needs the key after the topics are gone.
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: props.pendingWindow ?? Duration.days(7),
    });
  }

  /**
   * Let an AWS service principal (e.g. cloudwatch.amazonaws.com for alarms) make the data keys it
   * needs to publish to a topic encrypted with this key. Added once per service. In a key policy,
   * "*" means this key; AWS documents exactly this statement for CloudWatch alarms.
   */
  allowServiceToEncrypt(service: string, sid: string): void {
    if (this.#services.has(service)) return;
    this.#services.add(service);
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid,
        principals: [new iam.ServicePrincipal(service)],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
  }
}
