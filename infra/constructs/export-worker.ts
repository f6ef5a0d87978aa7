import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { exportIdPrefix } from '#shared/store/exports';
import type { AuditSigningKeys } from './audit-signing-keys';
import { EncryptedQueueDestination } from './audit-stream-consumer';
import type { DataTables } from './data-tables';
import type { ExportBucket } from './export-bucket';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction, type StageFunctionProps } from './route-function';

/** The worker's handler module, relative to the project root. */
export const exportWorkerModule = 'functions/export-worker/handler.ts';

export interface ExportWorkerProps extends StageFunctionProps {
  /** Customer-managed key of the dead-letter queue (ENC-2). */
  readonly queueKey: kms.IKey;
  /** The stage's tables: the data table's stream (keys only) starts the worker. */
  readonly dataTables: DataTables;
  /** Where finished exports go. */
  readonly bucket: ExportBucket;
  /** The checkpoint signing keys: the worker ends each audit bundle at a checkpoint it signs. */
  readonly signingKeys: AuditSigningKeys;
  /** Where its alarms go (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * Time limit of one export.
   * @default Duration.minutes(15)
   */
  readonly timeout?: Duration;
}

/**
 * The export worker (DAT-1): functions/export-worker, started by the data table's stream,
 * filtered by Lambda to inserts whose sort key starts with `exp_` (export records; the stream
 * carries keys only). The commit of an export's record is its dispatch, so a committed export
 * always reaches a worker; a redelivered record finds the export claimed or finished. It runs
 * in the stage's private network (RouteFunction, INF-7). Its own role holds no tenant data: it
 * reads and writes each tenant's items through the tenant's session (the caller adds this
 * role to the tenant access role's session roles, AZ-3), signs the bundle's checkpoint,
 * encrypts with the tenant key under the export purpose only, and puts under `tenants/` of
 * the exports bucket. Failed records go to a KMS-encrypted dead-letter queue; errors and
 * dead letters raise alarms.
 */
export class ExportWorker extends Construct {
  readonly function: RouteFunction;
  readonly deadLetters: sqs.Queue;
  readonly eventSource: sources.DynamoEventSource;
  readonly alarms: { readonly errors: cloudwatch.Alarm; readonly deadLetters: cloudwatch.Alarm };

  constructor(scope: Construct, id: string, props: ExportWorkerProps) {
    super(scope, id);
    const { stage } = props;
    const timeout = props.timeout ?? Duration.minutes(15);
    if (timeout.toSeconds() < 60 || timeout.toSeconds() > 900) {
      throw new Error(`export worker timeout must be 1 to 15 minutes, got ${timeout.toHumanString()}`);
    }

    this.function = new RouteFunction(this, 'Function', {
      stage,
      name: 'export-worker',
      entry: exportWorkerModule,
      description: `Strongroom ${stage}: builds tenant exports (DAT-1) started by the data table's stream`,
      projectRoot: props.projectRoot,
      environment: {
        ...props.environment,
        EXPORTS_BUCKET: props.bucket.bucket.bucketName,
        AUDIT_SIGNING_KEYS: props.signingKeys.environmentValue,
      },
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security',
      timeout,
      memorySize: 2048,
    });
    const role = this.function.role;
    props.bucket.grantExportWrite(role);
    props.signingKeys.grantSign(role);

    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      queueName: `strongroom-${stage}-export-worker-dead-letters`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.queueKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.eventSource = new sources.DynamoEventSource(props.dataTables.tables.data, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: 1,
      retryAttempts: 2,
      reportBatchItemFailures: true,
      parallelizationFactor: 10,
      filters: [
        lambda.FilterCriteria.filter({
          eventName: lambda.FilterRule.isEqual('INSERT'),
          dynamodb: { Keys: { sk: { S: lambda.FilterRule.beginsWith(exportIdPrefix) } } },
        }),
      ],
      onFailure: new EncryptedQueueDestination(this.deadLetters, props.queueKey),
    });
    this.function.function.addEventSource(this.eventSource);

    const once = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.alarms = {
      errors: this.function.function
        .metricErrors({ period: Duration.minutes(5) })
        .createAlarm(this, 'Errors', {
          ...once,
          alarmName: `strongroom-${stage}-export-worker-errors`,
          alarmDescription:
            'DAT-1: the export worker failed; an export may stay pending until it is retried.',
        }),
      deadLetters: this.deadLetters
        .metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        })
        .createAlarm(this, 'DeadLetterAlarm', {
          ...once,
          alarmName: `strongroom-${stage}-export-worker-dead-letters`,
          alarmDescription:
            'DAT-1: an export was given up after retries; its stream position is in the dead-letter queue.',
        }),
    };
    props.incidents.notify(...Object.values(this.alarms));
  }
}
