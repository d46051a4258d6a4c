/**
 * EventBridge Scheduler invokes the poller once a minute. No retries and a 60 s maximum event
 * age: a stale poll is worthless once the next one is due, and a retry would only pile runs up.
 * Invocations Scheduler could not deliver land in an SQS dead-letter queue (SQS-managed
 * encryption, TLS enforced, kept 14 days) that an alarm watches.
 * The daily report's schedule (daily-report.ts) is the same construct with its own cron
 * expression and event age.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export const POLL_RATE = Duration.minutes(1);
export const POLL_MAX_EVENT_AGE = Duration.seconds(60);

export interface PollScheduleProps {
  readonly fn: lambda.IFunction;
  readonly description: string;
  /** Default: every {@link POLL_RATE}. */
  readonly schedule?: scheduler.ScheduleExpression;
  /** Default {@link POLL_MAX_EVENT_AGE}. */
  readonly maxEventAge?: Duration;
}

export class PollSchedule extends Construct {
  readonly schedule: scheduler.Schedule;
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: PollScheduleProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue is itself the dead-letter queue of a schedule (an alarm watches it); nothing consumes it, so it needs no dead-letter queue of its own.',
    });

    // Our own role (the target would make one at stack level) so that the acknowledgement sits on it.
    const stack = Stack.of(this);
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': stack.account,
            'aws:SourceArn': stack.formatArn({
              service: 'scheduler',
              resource: 'schedule-group',
              resourceName: 'default',
            }),
          },
        },
      }),
    });
    const target = new targets.LambdaInvoke(props.fn, {
      role,
      retryAttempts: 0,
      maxEventAge: props.maxEventAge ?? POLL_MAX_EVENT_AGE,
      deadLetterQueue: this.deadLetterQueue,
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: props.schedule ?? scheduler.ScheduleExpression.rate(POLL_RATE),
      target,
      description: props.description,
    });

    const fnLogicalId = stack.getLogicalId(props.fn.node.defaultChild as lambda.CfnFunction);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnLogicalId}.Arn>:*]`,
      reason:
        'The LambdaInvoke target grants lambda:InvokeFunction on the scheduled function and its qualified ARNs (versions and aliases of that one function); no other function matches.',
    });
  }
}
