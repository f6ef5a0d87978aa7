/**
 * A CloudFormation custom resource (BAK-2): turns on AWS Backup's advanced DynamoDB backup
 * features in the function's own region, which cross-region copies of DynamoDB backups need
 * and CloudFormation cannot set. Each region's stack has its own (the platform stack for the
 * primary region, the DR stack for the second), so no call leaves the region and, in a
 * private stage, it runs in the VPC: AWS Backup through the interface endpoint, the answer
 * to CloudFormation's presigned S3 URL through the S3 gateway endpoint (INF-7). Deleting the
 * resource leaves the setting on: other backups of the account may rely on it.
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
  const region = process.env.AWS_REGION ?? '';
  const physicalResourceId = `dynamodb-advanced-backup:${region}`;
  try {
    if (region === '') throw new Error('AWS_REGION is not set');
    if (event.RequestType !== 'Delete') await vaults.enableAdvancedDynamoDbBackups(region);
    logger.info('dynamodb advanced backup setting', { requestType: event.RequestType, region });
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
