import {
  BackupClient,
  ListCopyJobsCommand,
  ListRecoveryPointsByBackupVaultCommand,
} from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { BackupSettings } from '#shared/config/backups';
import { measureBackupFreshness } from '#shared/services/backup-freshness';
import { BackupVaults } from '#shared/store/backup-vaults';

const backup = mockClient(BackupClient);
const settings: Pick<BackupSettings, 'primaryVault' | 'drVault'> = {
  primaryVault: { region: 'eu-central-1', name: 'strongroom-prod-primary' },
  drVault: {
    region: 'eu-west-1',
    name: 'strongroom-prod-dr',
    arn: 'arn:aws:backup:eu-west-1:111122223333:backup-vault:strongroom-prod-dr',
  },
};
const now = new Date('2026-11-23T12:00:00Z');
const hoursAgo = (hours: number) => new Date(now.getTime() - hours * 3_600_000);
const pointArn = (id: string) => `arn:aws:dynamodb:eu-central-1:111122223333:table/t/backup/${id}`;
const point = (id: string, ageHours: number, status = 'COMPLETED') => ({
  RecoveryPointArn: pointArn(id),
  CreationDate: hoursAgo(ageHours),
  Status: status as 'COMPLETED',
});
const copy = (id: string, completedHoursAgo: number, state = 'COMPLETED') => ({
  SourceRecoveryPointArn: pointArn(id),
  DestinationBackupVaultArn: settings.drVault.arn,
  CompletionDate: hoursAgo(completedHoursAgo),
  State: state as 'COMPLETED',
});

describe('[BAK-2] backup freshness through the primary region (AWS Backup mocked with aws-sdk-client-mock)', () => {
  let regions: string[];
  const measure = () =>
    measureBackupFreshness({
      settings,
      vaults: new BackupVaults((region) => {
        regions.push(region);
        return new BackupClient({ region });
      }),
      now: () => now,
    });

  beforeEach(() => {
    backup.reset();
    regions = [];
  });

  it('reports the newest completed recovery point of the primary vault, and the newest one copied to the DR vault', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({
      RecoveryPoints: [point('today', 9), point('yesterday', 33), point('running', 1, 'CREATING')],
    });
    // Today's copy has not finished: the DR vault's newest is yesterday's backup, 33 hours old.
    backup.on(ListCopyJobsCommand).resolves({ CopyJobs: [copy('yesterday', 30)] });

    const measured = await measure();

    expect(measured).toEqual([
      { vault: 'eu-central-1/strongroom-prod-primary', ageHours: 9, recoveryPointArn: pointArn('today') },
      { vault: 'eu-west-1/strongroom-prod-dr', ageHours: 33, recoveryPointArn: pointArn('yesterday') },
    ]);
  });

  it('asks AWS Backup of the primary region only, naming the DR vault as the copies destination', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [point('today', 2)] });
    backup.on(ListCopyJobsCommand).resolves({ CopyJobs: [copy('today', 1)] });

    await measure();

    expect(new Set(regions)).toEqual(new Set(['eu-central-1']));
    const [points] = backup.commandCalls(ListRecoveryPointsByBackupVaultCommand);
    expect(points?.args[0].input).toMatchObject({
      BackupVaultName: 'strongroom-prod-primary',
      ByCreatedAfter: hoursAgo(72),
    });
    const [copies] = backup.commandCalls(ListCopyJobsCommand);
    expect(copies?.args[0].input).toMatchObject({
      ByDestinationVaultArn: settings.drVault.arn,
      ByState: 'COMPLETED',
      ByCreatedAfter: hoursAgo(72),
    });
  });

  it('reports the whole window for a vault with nothing in it, so the stale-backup alarm fires', async () => {
    backup.on(ListRecoveryPointsByBackupVaultCommand).resolves({ RecoveryPoints: [point('today', 5)] });
    // A copy that failed, and one of a recovery point older than the window, count for nothing.
    backup
      .on(ListCopyJobsCommand)
      .resolves({ CopyJobs: [copy('today', 4, 'FAILED'), copy('last-week', 70)] });

    const measured = await measure();

    expect(measured.map(({ vault, ageHours }) => [vault, ageHours])).toEqual([
      ['eu-central-1/strongroom-prod-primary', 5],
      ['eu-west-1/strongroom-prod-dr', 72],
    ]);
  });

  it('follows every page of recovery points and copy jobs', async () => {
    backup
      .on(ListRecoveryPointsByBackupVaultCommand, { NextToken: undefined })
      .resolves({ RecoveryPoints: [point('older', 30)], NextToken: 'p2' })
      .on(ListRecoveryPointsByBackupVaultCommand, { NextToken: 'p2' })
      .resolves({ RecoveryPoints: [point('newer', 6)] });
    backup
      .on(ListCopyJobsCommand, { NextToken: undefined })
      .resolves({ CopyJobs: [copy('older', 28)], NextToken: 'c2' })
      .on(ListCopyJobsCommand, { NextToken: 'c2' })
      .resolves({ CopyJobs: [copy('newer', 4)] });

    const measured = await measure();

    expect(measured.map(({ ageHours }) => ageHours)).toEqual([6, 6]);
    expect(backup.commandCalls(ListRecoveryPointsByBackupVaultCommand)).toHaveLength(2);
    expect(backup.commandCalls(ListCopyJobsCommand)).toHaveLength(2);
  });
});
