/**
 * AWS Backup, as the backup jobs use it (BAK-2, BAK-3): the region setting that
 * cross-region copies of DynamoDB backups need, the completed recovery points of a vault and
 * the completed copy jobs to another vault (freshness), the restore jobs of a restore-testing
 * run and their validation result. Every call goes to AWS Backup of the caller's own region
 * (through the VPC's interface endpoint in a private stage, INF-7).
 * AWS only: locally, snapshots (infra/local/snapshot.ts) play the vaults' part.
 */
import {
  BackupClient,
  DescribeRestoreJobCommand,
  ListCopyJobsCommand,
  ListRecoveryPointsByBackupVaultCommand,
  ListRestoreJobsCommand,
  PutRestoreValidationResultCommand,
  type RestoreJobsListMember,
  UpdateRegionSettingsCommand,
} from '@aws-sdk/client-backup';

/** A completed recovery point of a vault. */
export interface RecoveryPoint {
  readonly arn: string;
  readonly created: Date;
}

/** A completed copy job: the recovery point it copied, and when the copy finished. */
export interface CompletedCopy {
  readonly sourceRecoveryPointArn: string;
  readonly completed: Date;
}

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
   * which cross-region copies of DynamoDB backups need; CloudFormation has no resource for
   * it, so each region's stack sets its own.
   */
  async enableAdvancedDynamoDbBackups(region: string): Promise<void> {
    await this.client(region).send(
      new UpdateRegionSettingsCommand({
        ResourceTypeOptInPreference: { DynamoDB: true },
        ResourceTypeManagementPreference: { DynamoDB: true },
      }),
    );
  }

  /** The completed recovery points of a vault created since `since`. */
  async completedRecoveryPoints(region: string, vaultName: string, since: Date): Promise<RecoveryPoint[]> {
    const points: RecoveryPoint[] = [];
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
        if (point.Status !== 'COMPLETED' || !point.CreationDate || !point.RecoveryPointArn) continue;
        points.push({ arn: point.RecoveryPointArn, created: point.CreationDate });
      }
      token = page.NextToken;
    } while (token);
    return points;
  }

  /**
   * The completed copy jobs of this region to a vault (of any region) started since `since`:
   * which recovery point each copied. Read in the source region, so a copy to the DR
   * region needs no call to the DR region.
   */
  async completedCopies(region: string, destinationVaultArn: string, since: Date): Promise<CompletedCopy[]> {
    const copies: CompletedCopy[] = [];
    let token: string | undefined;
    do {
      const page = await this.client(region).send(
        new ListCopyJobsCommand({
          ByDestinationVaultArn: destinationVaultArn,
          ByState: 'COMPLETED',
          ByCreatedAfter: since,
          NextToken: token,
        }),
      );
      for (const job of page.CopyJobs ?? []) {
        if (job.State !== 'COMPLETED' || !job.SourceRecoveryPointArn || !job.CompletionDate) continue;
        copies.push({ sourceRecoveryPointArn: job.SourceRecoveryPointArn, completed: job.CompletionDate });
      }
      token = page.NextToken;
    } while (token);
    return copies;
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
