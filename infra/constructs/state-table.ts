/**
 * The poller's DynamoDB state table, exactly as lambda/state/keys.ts describes it: pk/sk strings,
 * TTL on `expiresAt`, the sparse `due` index (duePk string, dueAt number, all attributes).
 * On-demand (a few writes a minute), point-in-time recovery on, RETAIN unless told otherwise.
 * Encryption: the AWS-owned key. The table holds cursors, event ids, table names and event codes
 * (no guest data, no secrets); a customer managed key would add $1/month plus a KMS request for
 * many reads and writes, and guard against nobody the account's IAM does not already stop.
 * `grantStateAccess` gives exactly the actions lambda/state/store.ts calls (test/infra/stack.test.ts
 * reads the store's commands and fails when they and these lists disagree): items on the table,
 * Query on the `due` index only.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { TABLE_SCHEMA } from '../../lambda/state/keys';

export interface StateTableProps {
  /** Keep the table (and its data) when the stack is deleted. */
  readonly retain: boolean;
}

/**
 * Item actions of the state store on the table: UpdateItem (lease, claims, outcomes, state), PutItem
 * (records), BatchGetItem (which hashes are known). No GetItem (no single reads), no DeleteItem
 * (records expire by TTL), no BatchWriteItem, no ConditionCheckItem (no transactions), no Scan.
 */
export const STATE_TABLE_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;

/** Actions on the sparse `due` index: the store's only Query. */
export const DUE_INDEX_ACTIONS = ['dynamodb:Query'] as const;

export class StateTable extends Construct {
  readonly table: dynamodb.Table;

  constructor(scope: Construct, id: string, props: StateTableProps) {
    super(scope, id);
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: TABLE_SCHEMA.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: TABLE_SCHEMA.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: dynamodb.TableEncryption.DEFAULT,
      deletionProtection: props.retain,
      removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: TABLE_SCHEMA.dueIndex.name,
      partitionKey: { name: TABLE_SCHEMA.dueIndex.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE_SCHEMA.dueIndex.sortKey, type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.ALL,
    });
  }

  get tableName(): string {
    return this.table.tableName;
  }

  /** Read and write items in the table, query its `due` index: named ARNs, no wildcard. */
  grantStateAccess(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: [...STATE_TABLE_ACTIONS], resourceArns: [this.table.tableArn] });
    iam.Grant.addToPrincipal({
      grantee,
      actions: [...DUE_INDEX_ACTIONS],
      resourceArns: [`${this.table.tableArn}/index/${TABLE_SCHEMA.dueIndex.name}`],
    });
  }
}
