/**
 * EventBridge Scheduler invokes the poller once a minute — once per shard: with `shards` given,
 * one schedule per shard, each telling its invocation the shard in the event (`{ "shard": n }`,
 * lambda/config/shards.ts), so the shards run concurrently and a slow restaurant holds up only
 * its own shard. Shard 0's schedule keeps the construct id the single schedule always had, so a
 * deploy updates it in place. No retries and a 60 s maximum event age: a stale poll is worthless
 * once the next one is due, and a retry would only pile runs up. Invocations Scheduler could not
 * deliver land in one SQS dead-letter queue shared by every shard (SQS-managed encryption, TLS
 * enforced, kept 14 days) that an alarm watches; one role invokes the function for all of them.
 * The daily report's schedule (daily-report.ts) is the same construct with its own cron
 * expression and event age, without shards.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { shardEvent } from '../../lambda/config/shards';

export const POLL_RATE = Duration.minutes(1);
export const POLL_MAX_EVENT_AGE = Duration.seconds(60);

export interface PollScheduleProps {
  readonly fn: lambda.IFunction;
  readonly description: string;
  /** Default: every {@link POLL_RATE}. */
  readonly schedule?: scheduler.ScheduleExpression;
  /** Default {@link POLL_MAX_EVENT_AGE}. */
  readonly maxEventAge?: Duration;
  /** One schedule per shard, the shard in its event (`shardEvent`). Default: one schedule, an empty event. */
  readonly shards?: number;
}

export class PollSchedule extends Construct {
  /** The first (shard 0's) schedule. */
  readonly schedule: scheduler.Schedule;
  /** Every schedule, shard by shard. */
  readonly schedules: readonly scheduler.Schedule[];
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
    const targetOf = (input?: scheduler.ScheduleTargetInput) =>
      new targets.LambdaInvoke(props.fn, {
        role,
        retryAttempts: 0,
        maxEventAge: props.maxEventAge ?? POLL_MAX_EVENT_AGE,
        deadLetterQueue: this.deadLetterQueue,
        ...(input ? { input } : {}),
      });
    const expression = props.schedule ?? scheduler.ScheduleExpression.rate(POLL_RATE);
    const shards = props.shards;
    this.schedules =
      shards === undefined
        ? [
            new scheduler.Schedule(this, 'Schedule', {
              schedule: expression,
              target: targetOf(),
              description: props.description,
            }),
          ]
        : Array.from(
            { length: shards },
            (_, shard) =>
              new scheduler.Schedule(this, shard === 0 ? 'Schedule' : `Schedule${shard}`, {
                schedule: expression,
                target: targetOf(scheduler.ScheduleTargetInput.fromObject(shardEvent(shard))),
                description: shards === 1 ? props.description : `${props.description} (shard ${shard} of ${shards})`,
              }),
          );
    this.schedule = this.schedules[0]!;

    const fnLogicalId = stack.getLogicalId(props.fn.node.defaultChild as lambda.CfnFunction);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${fnLogicalId}.Arn>:*]`,
      reason:
        'The LambdaInvoke target grants lambda:InvokeFunction on the scheduled function and its qualified ARNs (versions and aliases of that one function); no other function matches.',
    });
  }
}
