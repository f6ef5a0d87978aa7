/**
 * AWS Backup, as the backup jobs use it (BAK-2, BAK-3): the account setting that
 * cross-region copies of DynamoDB backups need, the newest recovery point of a vault
 * (freshness), the restore jobs of a restore-testing run and their validation result.
 * AWS only: locally, snapshots (infra/local/snapshot.ts) play the vaults' part.
 */
import {
  BackupClient,
  DescribeRestoreJobCommand,
  ListRecoveryPointsByBackupVaultCommand,
  ListRestoreJobsCommand,
  PutRestoreValidationResultCommand,
  type RestoreJobsListMember,
  UpdateRegionSettingsCommand,
} from '@aws-sdk/client-backup';

/** The AWS Backup client of a region, created once per region. */
export class BackupVaults {
  readonly #clients = new Map<string, BackupClient>();
  readonly #factory: (region: string) => BackupClient;

  constructor(factory: (region: string) => BackupClient = (region) => new BackupClient({ region })) {
    this.#factory = factory;
  }

  client(region: string): BackupClient {
    let client = this.#clients.get(region);
    if (!client) {
      client = this.#factory(region);
      this.#clients.set(region, client);
    }
    return client;
  }

  /**
   * Opts the region into AWS Backup's advanced DynamoDB backup features (full management),
   * which cross-region and cross-account copies of DynamoDB backups need; CloudFormation
   * has no resource for it.
   */
  async enableAdvancedDynamoDbBackups(region: string): Promise<void> {
    await this.client(region).send(
      new UpdateRegionSettingsCommand({
        ResourceTypeOptInPreference: { DynamoDB: true },
        ResourceTypeManagementPreference: { DynamoDB: true },
      }),
    );
  }

  /** Creation time of the newest completed recovery point in a vault, or undefined when it has none. */
  async newestRecoveryPoint(region: string, vaultName: string, since: Date): Promise<Date | undefined> {
    let newest: Date | undefined;
    let token: string | undefined;
    do {
      const page = await this.client(region).send(
        new ListRecoveryPointsByBackupVaultCommand({
          BackupVaultName: vaultName,
          ByCreatedAfter: since,
          NextToken: token,
        }),
      );
      for (const point of page.RecoveryPoints ?? []) {
        if (point.Status !== 'COMPLETED' || !point.CreationDate) continue;
        if (!newest || point.CreationDate > newest) newest = point.CreationDate;
      }
      token = page.NextToken;
    } while (token);
    return newest;
  }

  /** The restore jobs a restore-testing plan started since `since`. */
  async restoreJobsOfPlan(region: string, planArn: string, since: Date): Promise<RestoreJobsListMember[]> {
    const jobs: RestoreJobsListMember[] = [];
    let token: string | undefined;
    do {
      const page = await this.client(region).send(
        new ListRestoreJobsCommand({
          ByRestoreTestingPlanArn: planArn,
          ByCreatedAfter: since,
          NextToken: token,
        }),
      );
      jobs.push(...(page.RestoreJobs ?? []));
      token = page.NextToken;
    } while (token);
    return jobs;
  }

  async restoreJob(region: string, jobId: string) {
    return this.client(region).send(new DescribeRestoreJobCommand({ RestoreJobId: jobId }));
  }

  /** Reports a restore job's validation to AWS Backup (shown with the restore test). */
  async reportValidation(region: string, jobId: string, ok: boolean, message: string): Promise<void> {
    await this.client(region).send(
      new PutRestoreValidationResultCommand({
        RestoreJobId: jobId,
        ValidationStatus: ok ? 'SUCCESSFUL' : 'FAILED',
        // AWS Backup keeps at most 2 KB of message.
        ValidationStatusMessage: message.slice(0, 2000),
      }),
    );
  }
}
