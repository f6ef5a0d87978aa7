import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { checkpointMetrics, metricNamespace, metricServices } from '#shared/observability/metrics';
import type { AuditSigningKeys } from './audit-signing-keys';
import type { DataTables } from './data-tables';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction, type StageFunctionProps } from './route-function';

/** The signer's handler module, relative to the project root. */
export const checkpointSignerModule = 'functions/checkpoint-signer/handler.ts';

export interface CheckpointSignerJobProps extends StageFunctionProps {
  /** The stage's tables: the job folds and writes checkpoints to the audit tables. */
  readonly dataTables: DataTables;
  /** The keys it signs with (current) and publishes (all). */
  readonly signingKeys: AuditSigningKeys;
  /** Where the stale-checkpoint alarm goes (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * How often the job runs.
   * @default Duration.minutes(5)
   */
  readonly interval?: Duration;
  /**
   * Age of the oldest unsigned entry at which checkpoints count as stale (AUD-5).
   * @default Duration.minutes(20)
   */
  readonly staleAfter?: Duration;
}

/**
 * The scheduled checkpoint signer (AUD-3, AUD-5): an EventBridge rule runs
 * functions/checkpoint-signer every few minutes under a role of its own that may scan the
 * audit head table (it crosses tenants), fold and write checkpoints on the audit tables,
 * and sign with the current audit signing key only. An alarm fires when an entry stays
 * uncovered by a signed checkpoint for too long, or when the job stops reporting.
 */
export class CheckpointSignerJob extends Construct {
  readonly function: RouteFunction;
  readonly schedule: events.Rule;
  readonly staleAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: CheckpointSignerJobProps) {
    super(scope, id);
    const interval = props.interval ?? Duration.minutes(5);
    const staleAfter = props.staleAfter ?? Duration.minutes(20);
    if (interval.toSeconds() < 60) {
      throw new Error(
        `checkpoint signer interval must be at least 1 minute, got ${interval.toHumanString()}`,
      );
    }
    if (staleAfter.toSeconds() <= interval.toSeconds()) {
      throw new Error(
        `checkpoint stale threshold must exceed the interval (${interval.toHumanString()}), got ${staleAfter.toHumanString()}`,
      );
    }
    const { stage } = props;

    this.function = new RouteFunction(this, 'Function', {
      stage,
      name: 'checkpoint-signer',
      entry: checkpointSignerModule,
      description: `Strongroom ${stage}: signs audit checkpoints of every tenant whose head moved`,
      projectRoot: props.projectRoot,
      environment: { ...props.environment, AUDIT_SIGNING_KEYS: props.signingKeys.environmentValue },
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security',
      // Well within the interval, so runs do not pile up.
      timeout: Duration.seconds(Math.min(interval.toSeconds() - 30, 240)),
      memorySize: 512,
    });
    const role = this.function.role;
    props.dataTables.grantCrossTenantScan(role, 'auditHead');
    props.dataTables.grantItemReadWrite(role, 'auditHead');
    props.dataTables.grantItemReadWrite(role, 'audit');
    props.signingKeys.grantSign(role);

    this.schedule = new events.Rule(this, 'Schedule', {
      ruleName: `strongroom-${stage}-checkpoint-signer`,
      description: `Strongroom ${stage}: run the audit checkpoint signer`,
      schedule: events.Schedule.rate(interval),
      targets: [
        new targets.LambdaFunction(this.function.function, {
          // The next run comes soon and does the same work; an old event is worth nothing.
          maxEventAge: interval,
          retryAttempts: 1,
        }),
      ],
    });

    const age = new cloudwatch.Metric({
      namespace: metricNamespace(stage),
      metricName: checkpointMetrics.oldestUnsignedEntryAge,
      dimensionsMap: { service: metricServices.checkpointSigner },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.minutes(10),
    });
    // Two 10-minute periods with no report at all (the job is not running) also alarm.
    this.staleAlarm = age.createAlarm(this, 'StaleCheckpoints', {
      alarmName: `strongroom-${stage}-audit-checkpoints-stale`,
      alarmDescription:
        'AUD-5: an audit entry has waited too long for a signed checkpoint, or the checkpoint signer stopped reporting. Runbook: docs/runbooks/audit-signing-key-rotation.md (signing) and the signer logs.',
      threshold: staleAfter.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    props.incidents.notify(this.staleAlarm);
  }
}
