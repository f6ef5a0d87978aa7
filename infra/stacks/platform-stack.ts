import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { maxRequestBodyBytes, securityTxtExpiry } from '#shared/config/product';
import { authorizerModule, handlerModule, type RouteGroup, routeGroups } from '#shared/http/routes';
import { type TableId, tables } from '#shared/store/tables';
import type { StageConfig } from '../config';
import { ApiAlarms } from '../constructs/api-alarms';
import { ApiFirewall } from '../constructs/api-firewall';
import { ApiKeyPepper, apiKeyPepperSecretName } from '../constructs/api-key-pepper';
import { AuditArchiveBucket } from '../constructs/audit-archive-bucket';
import { AuditSigningKeys } from '../constructs/audit-signing-keys';
import { AuditStreamConsumer } from '../constructs/audit-stream-consumer';
import { StrongroomBackups } from '../constructs/backups';
import { CheckpointSignerJob } from '../constructs/checkpoint-signer-job';
import { DataTables } from '../constructs/data-tables';
import { ExportBucket } from '../constructs/export-bucket';
import { ExportWorker } from '../constructs/export-worker';
import { IdentityFederation } from '../constructs/identity-federation';
import { IdentityGrants } from '../constructs/identity-grants';
import { IncidentTopic } from '../constructs/incident-topic';
import { PrivateNetwork, regionAvailabilityZones } from '../constructs/private-network';
import { cognitoJwksSecretKey, PublishedJwks } from '../constructs/published-jwks';
import { RetentionJob } from '../constructs/retention-job';
import { RouteFunction } from '../constructs/route-function';
import { StageEndpointPolicies } from '../constructs/stage-endpoint-policies';
import { StrongroomApi } from '../constructs/strongroom-api';
import { StrongroomKey } from '../constructs/strongroom-key';
import { TenantAccessRole } from '../constructs/tenant-access-role';
import { TenantKeyAccess } from '../constructs/tenant-key-access';
import { TenantPurgeJob } from '../constructs/tenant-purge-job';
import { UserDirectory } from '../constructs/user-directory';

/**
 * Tables each route group's code touches. A request handler reaches them only through its
 * tenant session (AZ-3); only the cross-tenant groups below reach them with their own role.
 * A Record, so a new route group does not compile until someone decides its access.
 */
export const routeGroupTables: Readonly<Record<RouteGroup, readonly TableId[]>> = {
  public: [],
  invoices: ['data', 'audit', 'auditHead', 'idempotency'],
  counterparties: ['data', 'audit', 'auditHead', 'idempotency'],
  audit: ['audit', 'auditHead'],
  // Identity and access (members, API keys, support grants live in the members table).
  members: ['members', 'audit', 'auditHead', 'idempotency'],
  'api-keys': ['members', 'audit', 'auditHead', 'idempotency'],
  support: ['members', 'audit', 'auditHead', 'idempotency'],
  // Onboarding crosses tenants: the registry, the new tenant's owner and its first audit entry.
  tenants: ['members', 'audit', 'auditHead', 'idempotency', 'tenants'],
  // Termination (DAT-2): the registry is written with the platform's client, the entry in the tenant's log.
  lifecycle: ['data', 'audit', 'auditHead', 'idempotency', 'tenants'],
  settings: ['data', 'audit', 'auditHead', 'idempotency'],
  // Exports (DAT-1): the record, its entries; the export worker (ExportWorker) reads the rest.
  exports: ['data', 'audit', 'auditHead', 'idempotency'],
};

/**
 * Route groups that cross tenants (onboarding, termination): jobs with roles of their own
 * that reach their tables directly. Every other route group reaches tenant data only
 * through the tenant access role's session, tagged with the tenant (AZ-3).
 */
export const crossTenantGroups: readonly RouteGroup[] = ['tenants', 'lifecycle'];

/**
 * Route groups that publish the audit signing keys (GET /audit/keys): they get
 * AUDIT_SIGNING_KEYS and kms:GetPublicKey on every version, and nothing else of the keys.
 */
export const signingKeyReaderGroups: readonly RouteGroup[] = ['audit'];

export interface PlatformStackProps extends StackProps {
  /** The stage this stack deploys; every key, table and log group is its own (INF-5). */
  readonly stageConfig: StageConfig;
  /** Project root with package.json and the handler modules. */
  readonly projectRoot: string;
  /**
   * The moment of synthesis; security.txt expires a fixed time after it (VUL-1).
   * @default new Date()
   */
  readonly now?: Date;
  /** The second EU region: its DR vault receives copies of every backup (BAK-2, ENC-5). */
  readonly drRegion: string;
}

/**
 * One stage of Strongroom in the primary EU region: keys, tables, user pool, functions,
 * the REST API and its web ACL, the audit ledger's signer, stream consumer and archive,
 * and the security alarms with their incident topic.
 */
export class PlatformStack extends Stack {
  readonly stageName: string;
  readonly tableKey: StrongroomKey;
  readonly logKey: StrongroomKey;
  readonly functionKey: StrongroomKey;
  readonly dataTables: DataTables;
  readonly users: UserDirectory;
  readonly routeFunctions: Readonly<Record<RouteGroup, RouteFunction>>;
  readonly authorizerFunction: RouteFunction;
  readonly tenantAccess: TenantAccessRole;
  readonly api: StrongroomApi;
  readonly firewall: ApiFirewall;
  readonly messagingKey: StrongroomKey;
  readonly archiveKey: StrongroomKey;
  readonly signingKeys: AuditSigningKeys;
  readonly incidents: IncidentTopic;
  readonly archive: AuditArchiveBucket;
  readonly checkpointSigner: CheckpointSignerJob;
  readonly exportKey: StrongroomKey;
  /** Finished tenant exports (DAT-1). */
  readonly exportBucket: ExportBucket;
  /** Builds tenant exports, started by the data table's stream (DAT-1). */
  readonly exportWorker: ExportWorker;
  readonly auditStream: AuditStreamConsumer;
  readonly backups: StrongroomBackups;
  readonly tenantKeys: TenantKeyAccess;
  /** The daily purge of terminated tenants after their export window (DAT-2). */
  readonly tenantPurge: TenantPurgeJob;
  /** The daily removal of records whose retention expired (DAT-4). */
  readonly retention: RetentionJob;
  readonly apiAlarms: ApiAlarms;
  readonly apiKeyPepper: ApiKeyPepper;
  /** Per-tenant identity providers, when the stage configures them (AUTH-3, AUTH-4). */
  readonly federation: IdentityFederation | undefined;
  /** The stage's private network, when its configuration asks for one (INF-7). */
  readonly network: PrivateNetwork | undefined;
  /** The user pool's JWKS, read at deployment for the authorizer (INF-7, AUTH-6). */
  readonly publishedJwks: PublishedJwks;
  /** The user pool id, for the pipeline's PublishJwks step. */
  readonly userPoolIdOutput: CfnOutput;
  /** The published JWKS secret's ARN, for the pipeline's PublishJwks step. */
  readonly jwksSecretArnOutput: CfnOutput;

  /** The region's zones without a context lookup (the private network spans every one, INF-7). */
  override get availabilityZones(): string[] {
    return regionAvailabilityZones(this.region);
  }

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    const stage = props.stageConfig.name;
    this.stageName = stage;

    // ENC-4: one key per purpose, each usable only through the service that needs it.
    this.tableKey = new StrongroomKey(this, 'TableKey', {
      stage,
      purpose: 'tables',
      viaServices: ['dynamodb'],
    });
    this.logKey = new StrongroomKey(this, 'LogKey', { stage, purpose: 'logs', allowCloudWatchLogs: true });
    this.functionKey = new StrongroomKey(this, 'FunctionKey', {
      stage,
      purpose: 'function-environment',
      viaServices: ['lambda'],
    });
    // Queues and the incident topic; CloudWatch alarms publish through it (INC-1).
    this.messagingKey = new StrongroomKey(this, 'MessagingKey', {
      stage,
      purpose: 'messaging',
      viaServices: ['sqs', 'sns'],
      allowCloudWatchAlarms: true,
    });
    this.archiveKey = new StrongroomKey(this, 'AuditArchiveKey', {
      stage,
      purpose: 'audit-archive',
      viaServices: ['s3'],
    });
    this.exportKey = new StrongroomKey(this, 'ExportKey', { stage, purpose: 'exports', viaServices: ['s3'] });
    this.signingKeys = new AuditSigningKeys(this, 'AuditSigningKeys', {
      stage,
      versions: props.stageConfig.auditSigningKeyVersions,
    });
    this.incidents = new IncidentTopic(this, 'Incidents', {
      stage,
      encryptionKey: this.messagingKey.key,
      emails: props.stageConfig.incidentEmails,
    });

    // INF-7: before any function, which each place themselves in it (RouteFunction).
    this.network = props.stageConfig.privateNetwork
      ? new PrivateNetwork(this, 'Network', { stage, flowLogKey: this.logKey.key, drRegion: props.drRegion })
      : undefined;

    this.dataTables = new DataTables(this, 'Tables', { stage, encryptionKey: this.tableKey.key });
    // Finished tenant exports (DAT-1), each an Encryption SDK message under the tenant's key.
    this.exportBucket = new ExportBucket(this, 'Exports', { stage, encryptionKey: this.exportKey.key });
    this.users = new UserDirectory(this, 'Users', { stage, sesFromEmail: props.stageConfig.sesFromEmail });
    this.apiKeyPepper = new ApiKeyPepper(this, 'ApiKeyPepper', { stage });
    // Secret ARNs by name (SECRET_ARNS); the values are read at run time, never passed (SEC-1).
    const pepperArns = JSON.stringify({ [apiKeyPepperSecretName]: this.apiKeyPepper.secretArn });

    const environment: Record<string, string> = {
      STRONGROOM_MODE: 'aws',
      STRONGROOM_STAGE: stage,
      COGNITO_USER_POOL_ID: this.users.userPool.userPoolId,
      COGNITO_CLIENT_ID: this.users.client.userPoolClientId,
      SECURITY_TXT_EXPIRES: securityTxtExpiry(props.now ?? new Date()),
      ALLOWED_ORIGINS: props.stageConfig.allowedOrigins.join(','),
    };
    const functionProps = {
      stage,
      projectRoot: props.projectRoot,
      environment,
      environmentKey: this.functionKey.key,
      logKey: this.logKey.key,
    };
    this.publishedJwks = new PublishedJwks(this, 'PublishedJwks', { stage });
    this.federation =
      props.stageConfig.federation === undefined
        ? undefined
        : new IdentityFederation(this, 'Federation', {
            ...functionProps,
            userPool: this.users.userPool,
            config: props.stageConfig.federation,
            dataTables: this.dataTables,
          });

    const routeFunctions = {} as Record<RouteGroup, RouteFunction>;
    for (const group of routeGroups) {
      const publishesKeys = signingKeyReaderGroups.includes(group);
      routeFunctions[group] = new RouteFunction(this, `Route-${group}`, {
        ...functionProps,
        environment: {
          ...environment,
          ...(publishesKeys ? { AUDIT_SIGNING_KEYS: this.signingKeys.environmentValue } : {}),
          ...(IdentityGrants.pepperReaderGroups.includes(group) ? { SECRET_ARNS: pepperArns } : {}),
          ...(group === 'exports' ? { EXPORTS_BUCKET: this.exportBucket.bucket.bucketName } : {}),
        },
        name: group,
        entry: handlerModule(group),
        description: `Strongroom ${stage}: ${group} routes`,
      });
    }
    this.routeFunctions = routeFunctions;
    this.authorizerFunction = new RouteFunction(this, 'Authorizer', {
      ...functionProps,
      environment: {
        ...environment,
        // And the pool's keys as the pipeline published them (no key fetch from a private network, INF-7).
        SECRET_ARNS: JSON.stringify({
          [apiKeyPepperSecretName]: this.apiKeyPepper.secretArn,
          [cognitoJwksSecretKey]: this.publishedJwks.secretArn,
        }),
        // Access tokens of federated sign-in come from their own app client.
        ...(this.federation ? { COGNITO_FEDERATED_CLIENT_ID: this.federation.client.userPoolClientId } : {}),
      },
      name: 'authorizer',
      entry: authorizerModule,
      description: `Strongroom ${stage}: request authorizer (tokens and API keys)`,
    });

    // The authorizer finds a caller's memberships through the platform-scoped identity index.
    this.dataTables.grantItemRead(this.authorizerFunction.role, 'members', ['byIdentity']);
    this.publishedJwks.grantRead(this.authorizerFunction.role);
    // What identity and access need beyond their tables: the pepper, the user pool, the
    // authorizer's narrow writes (AUTH-2, AUTH-5, AZ-5).
    new IdentityGrants(this, 'IdentityGrants', {
      dataTables: this.dataTables,
      authorizer: this.authorizerFunction.role,
      routeRoles: Object.fromEntries(routeGroups.map((group) => [group, routeFunctions[group].role])),
      pepper: this.apiKeyPepper,
      userPool: this.users.userPool,
    });
    // Tenant exports (DAT-1): the worker the data table's stream starts.
    this.exportWorker = new ExportWorker(this, 'ExportWorker', {
      ...functionProps,
      queueKey: this.messagingKey.key,
      dataTables: this.dataTables,
      bucket: this.exportBucket,
      signingKeys: this.signingKeys,
      incidents: this.incidents,
    });
    // The worker reaches tenant data like a route function: only through tenant sessions (AZ-3).
    const sessionRoles = [this.exportWorker.function.role];
    for (const group of routeGroups) {
      const tableIds = routeGroupTables[group];
      if (tableIds.length === 0) continue;
      const role = routeFunctions[group].role;
      sessionRoles.push(role);
      if (crossTenantGroups.includes(group)) {
        for (const tableId of tableIds) this.dataTables.grantItemReadWrite(role, tableId);
      } else {
        // AZ-3: no tenant data with its own role; it reads only the key registry (sealing, ENC-3).
        this.dataTables.grantItemRead(role, 'tenants');
      }
    }
    for (const group of signingKeyReaderGroups)
      this.signingKeys.grantPublicKeyRead(routeFunctions[group].role);
    this.tenantAccess = new TenantAccessRole(this, 'TenantAccess', {
      dataTables: this.dataTables,
      sessionRoles,
    });
    for (const group of routeGroups) {
      if (routeGroupTables[group].length > 0 && !crossTenantGroups.includes(group)) {
        routeFunctions[group].function.addEnvironment(
          'TENANT_ACCESS_ROLE_ARN',
          this.tenantAccess.role.roleArn,
        );
      }
    }
    this.exportWorker.function.function.addEnvironment(
      'TENANT_ACCESS_ROLE_ARN',
      this.tenantAccess.role.roleArn,
    );
    // A presigned download link is signed with the tenant's session: it opens that tenant's exports only.
    this.exportBucket.grantTenantRead(this.tenantAccess.role);
    // Tenant keys (ENC-3, ENC-4): every group that touches sealed tables unwraps data keys; onboarding creates keys.
    this.tenantKeys = new TenantKeyAccess(this, 'TenantKeys', {
      stage,
      drRegion: props.drRegion,
      dataTables: this.dataTables,
      sealing: routeGroups
        .filter((group) => routeGroupTables[group].some((table) => tables[table].sealed !== undefined))
        .map((group) => routeFunctions[group])
        .concat(this.exportWorker.function),
      onboarding: [routeFunctions.tenants],
    });
    this.tenantKeys.grantExportEncryption(this.exportWorker.function.role);
    // ENC-3: members, API keys and support grants are sealed. The authorizer opens them (it
    // writes only plain counters); the federation trigger reads and writes members.
    this.tenantKeys.grantDataKeyOpening(this.authorizerFunction);
    if (this.federation) this.tenantKeys.grantDataKeyUse(this.federation.trigger);

    this.api = new StrongroomApi(this, 'Api', {
      stage,
      routeFunctions: Object.fromEntries(
        routeGroups.map((group) => [group, routeFunctions[group].function]),
      ) as Record<RouteGroup, RouteFunction['function']>,
      authorizerFunction: this.authorizerFunction.function,
      logKey: this.logKey.key,
      throttlingRateLimit: props.stageConfig.throttlingRateLimit,
      throttlingBurstLimit: props.stageConfig.throttlingBurstLimit,
      allowedOrigins: props.stageConfig.allowedOrigins,
    });

    this.firewall = new ApiFirewall(this, 'Firewall', {
      stage,
      stageArn: this.api.stageArn,
      rateLimitPerIp: props.stageConfig.wafRateLimitPerIp,
      maxBodyBytes: maxRequestBodyBytes,
      logKey: this.logKey.key,
    });

    this.apiAlarms = new ApiAlarms(this, 'ApiAlarms', {
      stage,
      restApi: this.api.restApi,
      accessLogGroup: this.api.accessLogs.logGroup,
      incidents: this.incidents,
    });

    // The audit ledger's jobs (AUD-2, AUD-3, AUD-5): cross-tenant, each with a role of its own.
    this.archive = new AuditArchiveBucket(this, 'AuditArchive', {
      stage,
      retentionDays: props.stageConfig.auditArchiveRetentionDays,
      encryptionKey: this.archiveKey.key,
      replicaRegion: props.drRegion,
    });
    if (this.archive.replicationFailures) this.incidents.notify(this.archive.replicationFailures);
    this.checkpointSigner = new CheckpointSignerJob(this, 'CheckpointSigner', {
      ...functionProps,
      dataTables: this.dataTables,
      signingKeys: this.signingKeys,
      incidents: this.incidents,
    });
    this.auditStream = new AuditStreamConsumer(this, 'AuditStream', {
      ...functionProps,
      queueKey: this.messagingKey.key,
      dataTables: this.dataTables,
      archive: this.archive,
      incidents: this.incidents,
    });

    // Backups and restore tests (BAK-1 … BAK-3): daily, 35 days, copied to the DR region.
    this.backups = new StrongroomBackups(this, 'Backups', {
      ...functionProps,
      dataTables: this.dataTables,
      drRegion: props.drRegion,
      incidents: this.incidents,
    });

    // Data lifecycle jobs (DAT-2, DAT-4): daily, cross-tenant, each with a role of its own.
    this.tenantPurge = new TenantPurgeJob(this, 'TenantPurge', {
      ...functionProps,
      dataTables: this.dataTables,
      signingKeys: this.signingKeys,
      tenantKeys: this.tenantKeys,
      incidents: this.incidents,
    });
    this.retention = new RetentionJob(this, 'Retention', {
      ...functionProps,
      dataTables: this.dataTables,
      tenantKeys: this.tenantKeys,
      incidents: this.incidents,
    });

    if (this.network) {
      // INF-7: every endpoint names the stage's own resources only.
      new StageEndpointPolicies(this, 'EndpointPolicies', {
        stage,
        network: this.network,
        dataTables: this.dataTables,
        archive: this.archive,
        exportBucket: this.exportBucket,
        signingKeys: this.signingKeys,
        secretArns: [this.apiKeyPepper.secretArn, this.publishedJwks.secretArn],
        tenantAccessRole: this.tenantAccess.role,
        userPool: this.users.userPool,
        backups: this.backups,
        drRegion: props.drRegion,
      });
    }

    new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url });
    this.userPoolIdOutput = new CfnOutput(this, 'UserPoolId', { value: this.users.userPool.userPoolId });
    this.jwksSecretArnOutput = new CfnOutput(this, 'CognitoJwksSecretArn', {
      value: this.publishedJwks.secretArn,
    });
    new CfnOutput(this, 'UserPoolClientId', { value: this.users.client.userPoolClientId });
    new CfnOutput(this, 'TenantAccessRoleArn', { value: this.tenantAccess.role.roleArn });
    new CfnOutput(this, 'AuditArchiveBucketName', { value: this.archive.bucket.bucketName });
    new CfnOutput(this, 'ExportsBucketName', { value: this.exportBucket.bucket.bucketName });
    new CfnOutput(this, 'IncidentTopicArn', { value: this.incidents.topic.topicArn });
  }
}
