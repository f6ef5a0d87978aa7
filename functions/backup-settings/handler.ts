/**
 * A CloudFormation custom resource (BAK-2): turns on AWS Backup's advanced DynamoDB backup
 * features in each configured region (the primary and the DR region), which cross-region
 * copies of DynamoDB backups need and CloudFormation cannot set. Deleting the resource
 * leaves the setting on: other backups of the account may rely on it.
 */
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { logger } from '#shared/observability/logger';
import { BackupVaults } from '#shared/store/backup-vaults';

const vaults = new BackupVaults();

async function respond(
  event: CloudFormationCustomResourceEvent,
  status: 'SUCCESS' | 'FAILED',
  reason: string,
  physicalResourceId: string,
): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason.slice(0, 500),
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
  });
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`CloudFormation refused the response: ${response.status}`);
}

export async function handler(
  event: CloudFormationCustomResourceEvent,
  lambdaContext: Context,
): Promise<void> {
  logger.addContext(lambdaContext);
  const regions = (event.ResourceProperties.Regions as string[] | undefined) ?? [];
  const physicalResourceId = `dynamodb-advanced-backup:${regions.join(',')}`;
  try {
    if (event.RequestType !== 'Delete') {
      for (const region of regions) await vaults.enableAdvancedDynamoDbBackups(region);
    }
    logger.info('dynamodb advanced backup setting', { requestType: event.RequestType, regions });
    await respond(event, 'SUCCESS', 'advanced DynamoDB backup features on', physicalResourceId);
  } catch (error) {
    logger.error('dynamodb advanced backup setting failed', { error });
    await respond(
      event,
      'FAILED',
      error instanceof Error ? error.message : String(error),
      physicalResourceId,
    );
  }
}
