import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { scheduleDailyJob } from './daily-job';
import type { DataTables } from './data-tables';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction, type StageFunctionProps } from './route-function';
import type { TenantKeyAccess } from './tenant-key-access';

/** The retention job's handler module, relative to the project root. */
export const retentionModule = 'functions/retention/handler.ts';

export interface RetentionJobProps extends StageFunctionProps {
  /** The stage's tables: the job reads settings and records, deletes expired ones and appends entries. */
  readonly dataTables: DataTables;
  /** IAM for tenant keys: the job opens sealed items (Decrypt of data keys only). */
  readonly tenantKeys: TenantKeyAccess;
  /** Where the failed-retention alarm goes (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * When the job runs.
   * @default daily at 03:15 UTC
   */
  readonly schedule?: events.Schedule;
}

/**
 * The scheduled retention job (DAT-4): once a day an EventBridge rule runs
 * functions/retention, the same shared job as `npm run retention` (runRetention in
 * shared/services/retention.ts), which removes every active tenant's records whose retention
 * has expired, each in one transaction with its audit entry. Its role lists the tenant
 * registry (a scan of that table only), reads and deletes items of the data table and its
 * indexes, appends to the audit log (put, get, query: never an entry's update or deletion),
 * and unwraps tenant data keys to open sealed items; nothing else.
 */
export class RetentionJob extends Construct {
  readonly function: RouteFunction;
  readonly schedule: events.Rule;
  readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: RetentionJobProps) {
    super(scope, id);
    const { stage } = props;
    this.function = new RouteFunction(this, 'Function', {
      stage,
      name: 'retention',
      entry: retentionModule,
      description: `Strongroom ${stage}: removes records whose retention expired, audited (DAT-4)`,
      projectRoot: props.projectRoot,
      environment: props.environment,
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    const role = this.function.role;
    props.dataTables.grantCrossTenantScan(role, 'tenants');
    props.dataTables.grantItemReadWrite(role, 'data');
    props.dataTables.grantItemReadWrite(role, 'audit');
    props.dataTables.grantItemReadWrite(role, 'auditHead');
    // Sealed items: data keys (Decrypt only), the registry and the active-tenant check of each removal.
    props.tenantKeys.grantDataKeyUse(this.function);

    const started = scheduleDailyJob(this, this.function, {
      ruleName: `strongroom-${stage}-retention`,
      description: `Strongroom ${stage}: remove records whose retention expired (DAT-4)`,
      schedule: props.schedule ?? events.Schedule.cron({ minute: '15', hour: '3' }),
      alarmName: `strongroom-${stage}-retention-failed`,
      alarmDescription:
        'DAT-4: the retention job failed for at least one tenant; its expired records stay until a run succeeds. See the retention function logs (tenant ids and error codes).',
      incidents: props.incidents,
    });
    this.schedule = started.rule;
    this.failureAlarm = started.failureAlarm;
  }
}
