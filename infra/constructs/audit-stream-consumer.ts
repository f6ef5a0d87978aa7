import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { auditStreamMetrics, metricNamespace, metricServices } from '#shared/observability/metrics';
import type { AuditArchiveBucket } from './audit-archive-bucket';
import type { DataTables } from './data-tables';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction, type StageFunctionProps } from './route-function';

/** The consumer's handler module, relative to the project root. */
export const auditStreamModule = 'functions/audit-stream/handler.ts';

/**
 * The stream's on-failure destination with exact permissions: `SqsDlq` would also grant
 * `kms:GenerateDataKey*` and `kms:ReEncrypt*`; Lambda needs only to send, and the queue
 * key only to make and read the message's data key (through SQS, per its key policy).
 */
export class EncryptedQueueDestination implements lambda.IEventSourceDlq {
  readonly #queue: sqs.IQueue;
  readonly #key: kms.IKey;

  constructor(queue: sqs.IQueue, key: kms.IKey) {
    this.#queue = queue;
    this.#key = key;
  }

  bind(_target: lambda.IEventSourceMapping, targetHandler: lambda.IFunction): lambda.DlqDestinationConfig {
    iam.Grant.addToPrincipal({
      grantee: targetHandler,
      actions: ['sqs:SendMessage'],
      resourceArns: [this.#queue.queueArn],
    });
    this.#key.grant(targetHandler, 'kms:GenerateDataKey', 'kms:Decrypt');
    return { destination: this.#queue.queueArn };
  }
}

export interface AuditStreamConsumerProps extends StageFunctionProps {
  /** Customer-managed key of the dead-letter queue (ENC-2). */
  readonly queueKey: kms.IKey;
  /** The stage's tables: the audit table's stream feeds the consumer, which folds into the head table. */
  readonly dataTables: DataTables;
  /** Where entries and checkpoints are archived (AUD-2). */
  readonly archive: AuditArchiveBucket;
  /** Where its alarms go (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * Records per invocation.
   * @default 100
   */
  readonly batchSize?: number;
  /**
   * Retries of a failing batch (halved on each error) before its position goes to the dead-letter queue.
   * @default 10
   */
  readonly retryAttempts?: number;
  /**
   * Iterator age at which the consumer counts as falling behind (AUD-5).
   * @default Duration.minutes(10)
   */
  readonly maxIteratorAge?: Duration;
}

/**
 * The audit stream consumer (AUD-2): functions/audit-stream reads the audit table's stream,
 * folds tenants whose new entries it sees (a writer that crashed after its transaction is
 * folded anyway) and archives entries, log positions and checkpoints to the Object Lock
 * bucket with conditional puts. Failed batches are halved and retried, then their position
 * goes to a KMS-encrypted dead-letter queue. Alarms (to the incident topic): errors,
 * iterator age, dead letters, archive mismatches and changes to the append-only table.
 */
export class AuditStreamConsumer extends Construct {
  readonly function: RouteFunction;
  readonly deadLetters: sqs.Queue;
  readonly eventSource: sources.DynamoEventSource;
  readonly alarms: {
    readonly errors: cloudwatch.Alarm;
    readonly iteratorAge: cloudwatch.Alarm;
    readonly deadLetters: cloudwatch.Alarm;
    readonly archiveMismatch: cloudwatch.Alarm;
    readonly auditTableMutations: cloudwatch.Alarm;
  };

  constructor(scope: Construct, id: string, props: AuditStreamConsumerProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? 100;
    const retryAttempts = props.retryAttempts ?? 10;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 1000) {
      throw new Error(`audit stream batch size must be 1 to 1000, got ${JSON.stringify(batchSize)}`);
    }
    if (!Number.isInteger(retryAttempts) || retryAttempts < 0 || retryAttempts > 10_000) {
      throw new Error(`audit stream retry attempts must be 0 to 10000, got ${JSON.stringify(retryAttempts)}`);
    }
    const { stage } = props;

    this.function = new RouteFunction(this, 'Function', {
      stage,
      name: 'audit-stream',
      entry: auditStreamModule,
      description: `Strongroom ${stage}: folds and archives the audit log from its table stream`,
      projectRoot: props.projectRoot,
      environment: { ...props.environment, AUDIT_ARCHIVE_BUCKET: props.archive.bucket.bucketName },
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security',
      timeout: Duration.minutes(1),
      memorySize: 512,
    });
    const role = this.function.role;
    // Fold: entries are put, read and queried (append-only, AUD-2); the head and markers are items.
    props.dataTables.grantItemReadWrite(role, 'audit');
    props.dataTables.grantItemReadWrite(role, 'auditHead');
    props.archive.grantArchiveWrite(role);

    this.deadLetters = new sqs.Queue(this, 'DeadLetters', {
      queueName: `strongroom-${stage}-audit-stream-dead-letters`,
      encryption: sqs.QueueEncryption.KMS,
      encryptionMasterKey: props.queueKey,
      dataKeyReuse: Duration.hours(1),
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });

    this.eventSource = new sources.DynamoEventSource(props.dataTables.tables.audit, {
      startingPosition: lambda.StartingPosition.TRIM_HORIZON,
      batchSize,
      maxBatchingWindow: Duration.seconds(1),
      bisectBatchOnError: true,
      retryAttempts,
      reportBatchItemFailures: true,
      parallelizationFactor: 1,
      onFailure: new EncryptedQueueDestination(this.deadLetters, props.queueKey),
    });
    this.function.function.addEventSource(this.eventSource);

    const custom = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: metricNamespace(stage),
        metricName,
        dimensionsMap: { service: metricServices.auditStream },
        statistic: cloudwatch.Stats.SUM,
        period: Duration.minutes(5),
      });
    const fn = this.function.function;
    const once = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.alarms = {
      errors: fn.metricErrors({ period: Duration.minutes(5) }).createAlarm(this, 'Errors', {
        ...once,
        alarmName: `strongroom-${stage}-audit-stream-errors`,
        alarmDescription:
          'AUD-2: the audit stream consumer failed; entries may be neither folded nor archived.',
      }),
      iteratorAge: fn
        .metric('IteratorAge', { statistic: cloudwatch.Stats.MAXIMUM, period: Duration.minutes(5) })
        .createAlarm(this, 'IteratorAge', {
          alarmName: `strongroom-${stage}-audit-stream-iterator-age`,
          alarmDescription: 'AUD-2: the audit stream consumer falls behind; archiving is delayed.',
          threshold: (props.maxIteratorAge ?? Duration.minutes(10)).toMilliseconds(),
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          evaluationPeriods: 2,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      deadLetters: this.deadLetters
        .metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: cloudwatch.Stats.MAXIMUM,
        })
        .createAlarm(this, 'DeadLetterAlarm', {
          ...once,
          alarmName: `strongroom-${stage}-audit-stream-dead-letters`,
          alarmDescription:
            'AUD-2: audit stream records were given up after retries; their positions are in the dead-letter queue.',
        }),
      archiveMismatch: custom(auditStreamMetrics.archiveMismatch).createAlarm(this, 'ArchiveMismatch', {
        ...once,
        alarmName: `strongroom-${stage}-audit-archive-mismatch`,
        alarmDescription:
          'AUD-2: an archive object already held different bytes: someone tried to rewrite audit history. The locked original is in the archive bucket.',
      }),
      auditTableMutations: custom(auditStreamMetrics.auditTableMutations).createAlarm(
        this,
        'AuditTableMutations',
        {
          ...once,
          alarmName: `strongroom-${stage}-audit-table-mutations`,
          alarmDescription:
            'AUD-2: an item of the append-only audit table was changed or removed. The archive holds the original.',
        },
      ),
    };
    props.incidents.notify(...Object.values(this.alarms));
  }
}
