/**
 * Deploy-time custom resource (INF-7, AUTH-6): fetches the stage user pool's public JWKS
 * from Cognito once, so the authorizer gets it in its environment and never fetches keys at
 * run time (shared/auth/cognito-jwks.ts says why). It runs only when CloudFormation creates
 * or updates the resource, holds no permission beyond its log group, and can fetch nothing
 * but the JWKS URL of a pool id of its own region.
 */
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { fetchCognitoJwks } from '#shared/auth/cognito-jwks';
import { logger } from '#shared/observability/logger';

/** The data the resource returns: `Jwks`, the compact JSON the authorizer reads from COGNITO_JWKS. */
export interface CognitoJwksData {
  readonly Jwks: string;
}

export interface CognitoJwksDependencies {
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** @default process.env.AWS_REGION */
  readonly region?: string;
}

export function createCognitoJwksHandler(deps: CognitoJwksDependencies = {}) {
  const fetchImpl = deps.fetch ?? fetch;
  return async function handle(
    event: CloudFormationCustomResourceEvent,
    context: Pick<Context, 'logStreamName'>,
  ) {
    const physicalId =
      event.RequestType === 'Create' ? `cognito-jwks-${event.LogicalResourceId}` : event.PhysicalResourceId;
    let status: 'SUCCESS' | 'FAILED' = 'SUCCESS';
    let reason = `see ${context.logStreamName}`;
    let data: CognitoJwksData | undefined;
    if (event.RequestType !== 'Delete') {
      try {
        const userPoolId = String(event.ResourceProperties.UserPoolId);
        const region = deps.region ?? process.env.AWS_REGION ?? '';
        data = { Jwks: await fetchCognitoJwks(region, userPoolId, fetchImpl) };
        logger.info('cognito jwks fetched', { userPoolId, bytes: data.Jwks.length });
      } catch (error) {
        status = 'FAILED';
        reason = error instanceof Error ? error.message : 'unknown error';
        logger.error('cognito jwks not fetched', { reason });
      }
    }
    const body = JSON.stringify({
      Status: status,
      Reason: reason,
      PhysicalResourceId: physicalId,
      StackId: event.StackId,
      RequestId: event.RequestId,
      LogicalResourceId: event.LogicalResourceId,
      ...(data === undefined ? {} : { Data: data }),
    });
    // CloudFormation waits for this answer at the presigned URL it gave.
    const answer = await fetchImpl(event.ResponseURL, {
      method: 'PUT',
      body,
      headers: { 'content-type': '' },
      signal: AbortSignal.timeout(10_000),
    });
    if (!answer.ok) throw new Error(`cloudformation response answered ${answer.status}`);
  };
}

export const handler = createCognitoJwksHandler();
