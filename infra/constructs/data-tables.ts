import { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { type TableDefinition, type TableId, tableIds, tableName, tables } from '#shared/store/tables';

/** Item reads: never Scan, never PartiQL (AZ-3). */
export const itemReadActions = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'] as const;

/** Item writes; transactions authorize as these actions, item by item. */
export const itemWriteActions = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/** The only actions on an append-only table: put, get and query (AUD-2). */
export const appendOnlyActions = ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:Query'] as const;

/** What a reader needs from the table key, used only through DynamoDB (see StrongroomKey). */
export const tableKeyReadActions = ['kms:Decrypt', 'kms:DescribeKey'] as const;

/** What a writer needs from the table key, used only through DynamoDB. */
export const tableKeyWriteActions = [
  ...tableKeyReadActions,
  'kms:Encrypt',
  'kms:GenerateDataKey',
  'kms:ReEncryptFrom',
  'kms:ReEncryptTo',
] as const;

export interface DataTablesProps {
  /** Stage whose tables these are; part of every table name. */
  readonly stage: string;
  /** Customer-managed key for every table (ENC-2). */
  readonly encryptionKey: kms.IKey;
  /**
   * Table declarations to build.
   * @default - `tables` from shared/store/tables.ts
   */
  readonly definitions?: Readonly<Record<TableId, TableDefinition>>;
}

/**
 * Every table of `shared/store/tables.ts`: customer-managed key, point-in-time recovery,
 * deletion protection and RETAIN (ENC-2, BAK-1), indexes, TTL and streams as declared.
 */
export class DataTables extends Construct {
  readonly tables: Readonly<Record<TableId, dynamodb.TableV2>>;
  readonly definitions: Readonly<Record<TableId, TableDefinition>>;
  readonly encryptionKey: kms.IKey;

  constructor(scope: Construct, id: string, props: DataTablesProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`data tables stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    const definitions = props.definitions ?? tables;
    for (const tableId of tableIds) {
      const definition = definitions[tableId];
      if (definition.id !== tableId) {
        throw new Error(`table declared under ${tableId} names itself ${JSON.stringify(definition.id)}`);
      }
      for (const index of definition.indexes) {
        if (!/^[A-Za-z0-9_.-]{3,255}$/.test(index.name)) {
          throw new Error(`index name of table ${tableId} is not valid, got ${JSON.stringify(index.name)}`);
        }
      }
    }
    this.definitions = definitions;
    this.encryptionKey = props.encryptionKey;

    const built = {} as Record<TableId, dynamodb.TableV2>;
    for (const tableId of tableIds) {
      const definition = definitions[tableId];
      built[tableId] = new dynamodb.TableV2(this, tableId, {
        tableName: tableName(props.stage, tableId),
        partitionKey: { name: definition.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: definition.sortKey, type: dynamodb.AttributeType.STRING },
        billing: dynamodb.Billing.onDemand(),
        encryption: dynamodb.TableEncryptionV2.customerManagedKey(props.encryptionKey),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true, recoveryPeriodInDays: 35 },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        timeToLiveAttribute: definition.timeToLiveAttribute,
        // New images feed the audit fold poller and the archiver; keys alone start the export
        // worker (DAT-1); nothing needs old images.
        dynamoStream: definition.stream
          ? definition.streamKeysOnly
            ? dynamodb.StreamViewType.KEYS_ONLY
            : dynamodb.StreamViewType.NEW_IMAGE
          : undefined,
        globalSecondaryIndexes: definition.indexes.map((index) => ({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
          sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
          projectionType: dynamodb.ProjectionType.ALL,
        })),
      });
    }
    this.tables = built;
  }

  /**
   * Item reads and writes on one table and its tenant-scoped indexes; an append-only
   * table gets put, get and query only (AUD-2). Never Scan, never PartiQL.
   */
  grantItemReadWrite(grantee: iam.IGrantable, tableId: TableId): iam.Grant {
    const definition = this.definitions[tableId];
    const actions = definition.appendOnly
      ? [...appendOnlyActions]
      : [...itemReadActions, ...itemWriteActions];
    const indexNames = definition.indexes
      .filter((index) => index.scope === 'tenant')
      .map((index) => index.name);
    return this.grantOnTable(grantee, tableId, actions, indexNames, 'write');
  }

  /** Item reads (get, batch get, query) on one table and the named indexes. */
  grantItemRead(grantee: iam.IGrantable, tableId: TableId, indexNames: readonly string[] = []): iam.Grant {
    return this.grantOnTable(grantee, tableId, [...itemReadActions], indexNames, 'read');
  }

  /**
   * Scan of a whole table, for a cross-tenant job's own role only (AZ-3): tenant sessions and
   * request handlers never get it. The table key is granted for reading, through DynamoDB.
   */
  grantCrossTenantScan(grantee: iam.IGrantable, tableId: TableId): iam.Grant {
    return this.grantOnTable(grantee, tableId, ['dynamodb:Scan'], [], 'read');
  }

  /** Resources of a table and the named indexes, by exact ARN (no `index/*`). */
  resourceArns(tableId: TableId, indexNames: readonly string[]): string[] {
    const definition = this.definitions[tableId];
    for (const name of indexNames) {
      if (!definition.indexes.some((index) => index.name === name)) {
        throw new Error(`table ${tableId} has no index ${JSON.stringify(name)}`);
      }
    }
    const tableArn = this.tables[tableId].tableArn;
    return [tableArn, ...indexNames.map((name) => `${tableArn}/index/${name}`)];
  }

  private grantOnTable(
    grantee: iam.IGrantable,
    tableId: TableId,
    actions: string[],
    indexNames: readonly string[],
    access: 'read' | 'write',
  ): iam.Grant {
    const grant = iam.Grant.addToPrincipal({
      grantee,
      actions,
      resourceArns: this.resourceArns(tableId, indexNames),
    });
    this.grantTableKey(grantee, access);
    return grant;
  }

  /** The table key for reading or writing items; its key policy allows use only through DynamoDB. */
  grantTableKey(grantee: iam.IGrantable, access: 'read' | 'write'): iam.Grant {
    return this.encryptionKey.grant(
      grantee,
      ...(access === 'read' ? tableKeyReadActions : tableKeyWriteActions),
    );
  }
}
