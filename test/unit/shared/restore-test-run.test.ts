import {
  BackupClient,
  ListRestoreJobsCommand,
  PutRestoreValidationResultCommand,
  type RestoreJobsListMember,
} from '@aws-sdk/client-backup';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { onRestoreJobEvent } from '#shared/services/restore-test-run';
import type { RestoreValidation } from '#shared/services/restore-validation';
import { BackupVaults } from '#shared/store/backup-vaults';
import { type TableId, tableIds } from '#shared/store/tables';

const backup = mockClient(BackupClient);
const arn = (name: string) => `arn:aws:dynamodb:eu-central-1:111122223333:table/${name}`;
const sourceTables = Object.fromEntries(tableIds.map((id) => [id, arn(`strongroom-dev-${id}`)])) as Record<
  TableId,
  string
>;
const planArn =
  'arn:aws:backup:eu-central-1:111122223333:restore-testing-plan:strongroom_dev_restore_tests-abc';
const job = (id: TableId, overrides: Partial<RestoreJobsListMember> = {}): RestoreJobsListMember => ({
  RestoreJobId: `job-${id}`,
  SourceResourceArn: sourceTables[id],
  CreatedResourceArn: arn(`restored-${id}`),
  Status: 'COMPLETED',
  CreationDate: new Date('2026-11-23T05:10:00Z'),
  ...overrides,
});

describe('[BAK-3] restore-test runs (AWS Backup mocked with aws-sdk-client-mock)', () => {
  let validated: Record<TableId, string>[];
  const passing: RestoreValidation = { ok: true, tenants: [], failures: [] };
  const context = (result: RestoreValidation = passing) => ({
    region: 'eu-central-1',
    sourceTables,
    vaults: new BackupVaults(() => new BackupClient({ region: 'eu-central-1' })),
    now: () => new Date('2026-11-23T06:00:00Z'),
    validate: async (names: Readonly<Record<TableId, string>>) => {
      validated.push({ ...names });
      return result;
    },
  });

  beforeEach(() => {
    backup.reset();
    validated = [];
  });

  it('ignores restores that are not restore tests, and jobs that did not complete', async () => {
    expect((await onRestoreJobEvent(context(), { status: 'COMPLETED' })).kind).toBe('ignored');
    expect(
      (await onRestoreJobEvent(context(), { status: 'RUNNING', restoreTestingPlanArn: planArn })).kind,
    ).toBe('ignored');
    expect(backup.calls()).toHaveLength(0);
  });

  it('waits until every table of the run is restored', async () => {
    backup.on(ListRestoreJobsCommand).resolves({ RestoreJobs: [job('data'), job('audit')] });
    const outcome = await onRestoreJobEvent(context(), {
      status: 'COMPLETED',
      restoreTestingPlanArn: planArn,
      restoreJobId: 'job-audit',
    });
    expect(outcome).toMatchObject({ kind: 'waiting' });
    expect(validated).toEqual([]);
  });

  it('validates the whole set once, under the restored names, and reports to every job', async () => {
    backup.on(ListRestoreJobsCommand).resolves({ RestoreJobs: tableIds.map((id) => job(id)) });
    backup.on(PutRestoreValidationResultCommand).resolves({});
    const failing: RestoreValidation = {
      ok: false,
      tenants: [],
      failures: [
        {
          tenantId: 't1',
          kind: 'item-digest',
          message: 'item t1#invoice/inv_1 is not the state entry aud_1 recorded',
        },
      ],
    };
    const outcome = await onRestoreJobEvent(context(failing), {
      status: 'COMPLETED',
      restoreTestingPlanArn: planArn,
      restoreJobId: 'job-tenants',
    });
    expect(outcome.kind).toBe('validated');
    expect(validated).toEqual([Object.fromEntries(tableIds.map((id) => [id, `restored-${id}`]))]);
    const reports = backup.commandCalls(PutRestoreValidationResultCommand).map((call) => call.args[0].input);
    expect(reports).toHaveLength(tableIds.length);
    for (const report of reports) {
      expect(report.ValidationStatus).toBe('FAILED');
      expect(report.ValidationStatusMessage).toContain('t1#invoice/inv_1');
    }
  });

  it('does not validate a run twice', async () => {
    backup
      .on(ListRestoreJobsCommand)
      .resolves({ RestoreJobs: tableIds.map((id) => job(id, { ValidationStatus: 'SUCCESSFUL' })) });
    const outcome = await onRestoreJobEvent(context(), {
      status: 'COMPLETED',
      restoreTestingPlanArn: planArn,
      restoreJobId: 'job-data',
    });
    expect(outcome.kind).toBe('ignored');
    expect(validated).toEqual([]);
  });
});
