/**
 * Every cdk-nag acknowledgement of the app, each with the reason it is acceptable (INF-2).
 * Each one names one finding on the narrowest construct that carries it; nothing is
 * acknowledged for a whole stack or app. Acknowledgements are qualified with the plugin
 * (`AwsSolutions::`), so the validation report lists them as suppressed, with their reason,
 * and the templates carry them as `cdk_nag` metadata for reviewers.
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { routes } from '#shared/http/routes';
import type { AccountStack } from './stacks/account-stack';
import type { DrVaultStack } from './stacks/dr-vault-stack';
import type { PlatformStack } from './stacks/platform-stack';

export interface NagTargets {
  readonly account: AccountStack;
  readonly platforms: readonly PlatformStack[];
  readonly drVaults: readonly DrVaultStack[];
}

/** One acknowledgement: the rule (with its finding, if any) and why it is acceptable. */
export interface NagAcknowledgement {
  readonly rule: string;
  readonly reason: string;
}

export const nagPlugin = 'AwsSolutions';

export const reasons = {
  xrayWildcard:
    'X-Ray PutTraceSegments and PutTelemetryRecords support no resource-level permissions; this policy holds only those two actions.',
  lambdaAuthorizerNotCognito:
    'The REQUEST authorizer (functions/authorizer) verifies Cognito access tokens with aws-jwt-verify and also accepts our own API keys (AUTH-5), which a Cognito authorizer cannot; it reads tenant, roles and status from the members table (AUTH-6).',
  publicRoute:
    'Declared public in shared/http/routes.ts (permission "public"): liveness and RFC 9116 security.txt must be reachable without credentials; WAF and stage throttling still apply.',
  executionLogGroups:
    "API Gateway names execution log groups API-Gateway-Execution-Logs_<api id>/<stage> at run time; the role is API Gateway's account-wide logging role and may write only to that prefix.",
  accessLogGroups:
    "Access log groups of every stage live under /strongroom/<stage>/; the account-wide role cannot name stages that do not exist yet, so it gets the project's prefix.",
  describeLogGroups:
    'API Gateway checks for log groups with DescribeLogGroups, which IAM authorizes only on log-group:* of the account and region; it reveals names, not log data.',
  archiveReplication:
    "S3 replicates every new object version under tenants/ of the audit archive, whose keys are known only at run time, into the same prefix of the DR-region replica; the role reads versions with their retention and legal hold and writes replicas, never deletes. The replica's key is named by alias because its ARN lives in the other region's stack: the statement allows any key of that region only with kms:ResourceAliases naming the replica key's alias and only through S3 there.",
  archivePrefix:
    'The audit stream consumer archives objects whose keys are known only at run time (tenants/<tenant>/entries|leaves|checkpoints/...); the grant is PutObject and GetObject under tenants/ of the one archive bucket, puts are conditional (If-None-Match) and Object Lock in compliance mode keeps every version.',
  exportPrefix:
    'The export worker writes objects whose keys are known only at run time (tenants/<tenant>/<export id>.esdk); the grant is PutObject alone under tenants/ of the one exports bucket, with puts that never overwrite (If-None-Match).',
  tenantExportPrefix:
    "Tenant sessions read exports under tenants/<the session tenantId tag>/: the session's own tenant tag names the prefix, so a presigned link signed by one tenant's session opens that tenant's exports and nothing else (AZ-3).",
  exportFailureQueue:
    "This queue is the export worker's on-failure destination: Lambda sends it the stream position of an export given up after its retries, for an operator to look into. Nothing consumes it automatically; its depth raises an alarm on the incident topic.",
  streamFailureQueue:
    "This queue is the audit stream's on-failure destination: Lambda sends it the position of a batch given up after its retries, for an operator to replay. Nothing consumes it automatically, so a second dead-letter queue behind it would never receive anything; its depth raises an alarm on the incident topic.",
  publishedJwksRotation:
    "The secret holds the user pool's public JWKS, not a credential: there is nothing to rotate, and the pipeline writes it again after every deployment of the stage (npm run publish-jwks).",
  apiKeyPepperRotation:
    'The API-key pepper rotates by a versioned procedure (add v2, make it current; stored hashes name their version), not by a rotation Lambda: a new random value would silently invalidate every API key. See infra/constructs/api-key-pepper.ts.',
} as const;

/** The logical id of a resource, as cdk-nag prints it in a finding's `<id.Arn>` reference. */
export function logicalIdOf(element: CfnElement): string {
  const stack = Stack.of(element);
  return stack.resolve(stack.getLogicalId(element)) as string;
}

export function acknowledge(scope: IConstruct, ...acknowledgements: readonly NagAcknowledgement[]): void {
  for (const { rule, reason } of acknowledgements) {
    Validations.of(scope).acknowledge({ id: `${nagPlugin}::${rule}`, reason });
  }
}

export function acknowledgeNagFindings(targets: NagTargets): void {
  const logging = targets.account.apiGatewayLogging;
  const { region, account } = targets.account;
  const logGroupArn = (name: string): string => `arn:aws:logs:${region}:${account}:log-group:${name}`;
  acknowledge(
    logging.role,
    {
      rule: `AwsSolutions-IAM5[Resource::${logGroupArn('API-Gateway-Execution-Logs_*')}]`,
      reason: reasons.executionLogGroups,
    },
    { rule: `AwsSolutions-IAM5[Resource::${logGroupArn('/strongroom/*')}]`, reason: reasons.accessLogGroups },
    { rule: `AwsSolutions-IAM5[Resource::${logGroupArn('*')}]`, reason: reasons.describeLogGroups },
  );

  for (const platform of targets.platforms) {
    acknowledge(platform.apiKeyPepper.secret, {
      rule: 'AwsSolutions-SMG4',
      reason: reasons.apiKeyPepperRotation,
    });
    acknowledge(platform.publishedJwks.secret, {
      rule: 'AwsSolutions-SMG4',
      reason: reasons.publishedJwksRotation,
    });
    const jobs = [
      platform.checkpointSigner.function,
      platform.auditStream.function,
      platform.exportWorker.function,
      platform.tenantPurge.function,
      platform.retention.function,
      ...(platform.federation ? [platform.federation.trigger] : []),
    ];
    for (const fn of [...Object.values(platform.routeFunctions), platform.authorizerFunction, ...jobs]) {
      acknowledge(fn.tracingPolicy, { rule: 'AwsSolutions-IAM5[Resource::*]', reason: reasons.xrayWildcard });
    }
    const archiveBucket = logicalIdOf(platform.archive.bucket.node.defaultChild as CfnElement);
    acknowledge(platform.auditStream.function.role, {
      rule: `AwsSolutions-IAM5[Resource::<${archiveBucket}.Arn>/tenants/*]`,
      reason: reasons.archivePrefix,
    });
    const { replicationRole, replicaObjectsArn, replicaKeysArn } = platform.archive;
    if (replicationRole && replicaObjectsArn && replicaKeysArn) {
      acknowledge(
        replicationRole,
        {
          rule: `AwsSolutions-IAM5[Resource::<${archiveBucket}.Arn>/tenants/*]`,
          reason: reasons.archiveReplication,
        },
        { rule: `AwsSolutions-IAM5[Resource::${replicaObjectsArn}]`, reason: reasons.archiveReplication },
        { rule: `AwsSolutions-IAM5[Resource::${replicaKeysArn}]`, reason: reasons.archiveReplication },
      );
    }
    const exportBucket = logicalIdOf(platform.exportBucket.bucket.node.defaultChild as CfnElement);
    acknowledge(platform.exportWorker.function.role, {
      rule: `AwsSolutions-IAM5[Resource::<${exportBucket}.Arn>/tenants/*]`,
      reason: reasons.exportPrefix,
    });
    acknowledge(platform.tenantAccess.role, {
      rule: `AwsSolutions-IAM5[Resource::<${exportBucket}.Arn>/tenants/<aws:PrincipalTag/tenantId>/*]`,
      reason: reasons.tenantExportPrefix,
    });
    acknowledge(platform.exportWorker.deadLetters, {
      rule: 'AwsSolutions-SQS3',
      reason: reasons.exportFailureQueue,
    });
    acknowledge(platform.auditStream.deadLetters, {
      rule: 'AwsSolutions-SQS3',
      reason: reasons.streamFailureQueue,
    });
    for (const route of routes) {
      const method = platform.api.methods.get(route.id);
      if (method === undefined) throw new Error(`route ${route.id} has no method in ${platform.stackName}`);
      if (route.permission === 'public') {
        acknowledge(
          method,
          { rule: 'AwsSolutions-APIG4', reason: reasons.publicRoute },
          { rule: 'AwsSolutions-COG4', reason: reasons.publicRoute },
        );
      } else {
        acknowledge(method, { rule: 'AwsSolutions-COG4', reason: reasons.lambdaAuthorizerNotCognito });
      }
    }
  }
}
