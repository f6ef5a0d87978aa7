import { BackupClient, UpdateRegionSettingsCommand } from '@aws-sdk/client-backup';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler } from '#functions/backup-settings/handler';

const backup = mockClient(BackupClient);
const event = (type: 'Create' | 'Update' | 'Delete'): CloudFormationCustomResourceEvent =>
  ({
    RequestType: type,
    ServiceToken: 'arn:aws:lambda:eu-west-1:111122223333:function:strongroom-prod-backup-settings',
    ResponseURL: 'https://cloudformation-custom-resource-response-euwest1.s3.eu-west-1.amazonaws.com/x',
    StackId: 'stack',
    RequestId: 'request',
    LogicalResourceId: 'AdvancedDynamoDbBackups',
    ResourceType: 'Custom::DynamoDbAdvancedBackupSetting',
    ResourceProperties: { ServiceToken: 'x', Region: 'eu-west-1' },
    ...(type === 'Create'
      ? {}
      : { PhysicalResourceId: 'dynamodb-advanced-backup:eu-west-1', OldResourceProperties: {} }),
  }) as CloudFormationCustomResourceEvent;

describe('[BAK-2][INF-7] the advanced backup setting custom resource (AWS Backup and the response URL mocked)', () => {
  let answers: { url: string; body: Record<string, unknown> }[];
  let regions: string[];

  beforeEach(() => {
    backup.reset();
    answers = [];
    regions = [];
    backup.on(UpdateRegionSettingsCommand).callsFake(async (_input, getClient) => {
      regions.push(await (getClient() as BackupClient).config.region());
      return {};
    });
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      answers.push({ url, body: JSON.parse(String(init?.body)) });
      return new Response('', { status: 200 });
    });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
    vi.unstubAllGlobals();
  });

  it("turns the setting on in the function's own region only, and answers CloudFormation", async () => {
    await handler(event('Create'), {} as Context);

    expect(regions).toEqual(['eu-west-1']);
    expect(backup.commandCalls(UpdateRegionSettingsCommand)[0]?.args[0].input).toEqual({
      ResourceTypeOptInPreference: { DynamoDB: true },
      ResourceTypeManagementPreference: { DynamoDB: true },
    });
    expect(answers).toEqual([
      {
        url: event('Create').ResponseURL,
        body: expect.objectContaining({
          Status: 'SUCCESS',
          PhysicalResourceId: 'dynamodb-advanced-backup:eu-west-1',
        }),
      },
    ]);
  });

  it('leaves the setting on when the resource is deleted', async () => {
    await handler(event('Delete'), {} as Context);

    expect(backup.commandCalls(UpdateRegionSettingsCommand)).toHaveLength(0);
    expect(answers[0]?.body).toMatchObject({ Status: 'SUCCESS' });
  });

  it('answers FAILED when AWS Backup refuses, so the deployment stops', async () => {
    backup.on(UpdateRegionSettingsCommand).rejects(new Error('AccessDeniedException'));

    await handler(event('Update'), {} as Context);

    expect(answers[0]?.body).toMatchObject({ Status: 'FAILED', Reason: 'AccessDeniedException' });
  });
});
