/**
 * The account's SNS SMS defaults for this region (`aws.sms.senderId`, `aws.sms.smsType`), set
 * with one SetSMSAttributes call through an AwsCustomResource on create and update; on delete
 * they are left as they are (other applications of the account may rely on them).
 * SMS sent to topic subscribers use these account defaults, which is why the stack sets them.
 * The monthly spend limit is NOT set here: SNS rejects a value above the account's quota, so it
 * stays a console/CLI step (docs/DEPLOY.md); the stack only alarms on the spend.
 */
import { Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';

export interface SmsSettingsProps {
  readonly senderId?: string;
  readonly smsType?: 'Transactional' | 'Promotional';
  readonly logRetention: logs.RetentionDays;
}

export class SmsSettings extends Construct {
  constructor(scope: Construct, id: string, props: SmsSettingsProps) {
    super(scope, id);
    const attributes: Record<string, string> = {};
    if (props.senderId !== undefined) attributes.DefaultSenderID = props.senderId;
    if (props.smsType !== undefined) attributes.DefaultSMSType = props.smsType;

    const logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention });
    // Own role: only writing its log group and this one SNS call (no AWS managed policy).
    const role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    logGroup.grantWrite(role);
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['sns:SetSMSAttributes'], resources: ['*'] }));

    const call: cr.AwsSdkCall = {
      service: 'SNS',
      action: 'SetSMSAttributes',
      parameters: { attributes },
      physicalResourceId: cr.PhysicalResourceId.of('sns-sms-attributes'),
    };
    new cr.AwsCustomResource(this, 'Call', {
      onCreate: call,
      onUpdate: call,
      role,
      logGroup,
      installLatestAwsSdk: false,
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'sns:SetSMSAttributes sets account-level SMS preferences and supports no resource-level permissions, so "*" is the only resource IAM accepts for it.',
    });
  }
}
