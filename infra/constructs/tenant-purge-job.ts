import { Duration } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { purgedTables } from '#shared/services/lifecycle';
import type { AuditSigningKeys } from './audit-signing-keys';
import { scheduleDailyJob } from './daily-job';
import type { DataTables } from './data-tables';
import type { IncidentTopic } from './incident-topic';
import { RouteFunction, type StageFunctionProps } from './route-function';
import type { TenantKeyAccess } from './tenant-key-access';

/** The purge's handler module, relative to the project root. */
export const tenantPurgeModule = 'functions/tenant-purge/handler.ts';

export interface TenantPurgeJobProps extends StageFunctionProps {
  /** The stage's tables: the purge deletes a tenant's items and writes its final entry and checkpoint. */
  readonly dataTables: DataTables;
  /** The checkpoint signing keys: the purge signs the final checkpoint. */
  readonly signingKeys: AuditSigningKeys;
  /** IAM for tenant keys: the purge alone may schedule their deletion. */
  readonly tenantKeys: TenantKeyAccess;
  /** Where the failed-purge alarm goes (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * When the purge runs.
   * @default daily at 02:15 UTC
   */
  readonly schedule?: events.Schedule;
}

/**
 * The scheduled purge of terminated tenants (DAT-2): once a day an EventBridge rule runs
 * functions/tenant-purge, the same shared purge as `npm run purge` (purgeExpiredTenants in
 * shared/services/lifecycle.ts). For every tenant whose 30-day export window has ended it
 * deletes the tenant's items, schedules the tenant's KMS key (replica first) for deletion,
 * and appends the final audit entry and checkpoint. Its role may scan and delete items of the
 * purged tables, write the registry, append to the audit log, sign checkpoints, and schedule
 * the deletion of this stage's tenant keys only (by tag, TenantKeyAccess.grantDeletion).
 */
export class TenantPurgeJob extends Construct {
  readonly function: RouteFunction;
  readonly schedule: events.Rule;
  readonly failureAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: TenantPurgeJobProps) {
    super(scope, id);
    const { stage } = props;
    this.function = new RouteFunction(this, 'Function', {
      stage,
      name: 'tenant-purge',
      entry: tenantPurgeModule,
      description: `Strongroom ${stage}: purges terminated tenants whose export window ended (DAT-2)`,
      projectRoot: props.projectRoot,
      environment: {
        ...props.environment,
        AUDIT_SIGNING_KEYS: props.signingKeys.environmentValue,
        TENANT_KEYS: props.tenantKeys.settingsValue,
      },
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security',
      timeout: Duration.minutes(15),
      memorySize: 1024,
    });
    const role = this.function.role;
    // The purged tables: every key of the tenant (a cross-tenant scan), then batch deletes.
    for (const table of purgedTables) {
      props.dataTables.grantCrossTenantScan(role, table);
      props.dataTables.grantItemReadWrite(role, table);
    }
    // The registry: the terminated tenants (scan) and their records turned `purged`.
    props.dataTables.grantCrossTenantScan(role, 'tenants');
    props.dataTables.grantItemReadWrite(role, 'tenants');
    // The final entry and checkpoint.
    props.dataTables.grantItemReadWrite(role, 'audit');
    props.dataTables.grantItemReadWrite(role, 'auditHead');
    props.signingKeys.grantSign(role);
    props.tenantKeys.grantDeletion(role);

    const started = scheduleDailyJob(this, this.function, {
      ruleName: `strongroom-${stage}-tenant-purge`,
      description: `Strongroom ${stage}: purge terminated tenants after their export window (DAT-2)`,
      schedule: props.schedule ?? events.Schedule.cron({ minute: '15', hour: '2' }),
      alarmName: `strongroom-${stage}-tenant-purge-failed`,
      alarmDescription:
        'DAT-2: the scheduled purge of terminated tenants failed; their items and keys outlive the 30-day window until it succeeds. See the tenant-purge function logs.',
      incidents: props.incidents,
    });
    this.schedule = started.rule;
    this.failureAlarm = started.failureAlarm;
  }
}
