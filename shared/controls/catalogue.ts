/**
 * The controls catalogue of CONTROLS.md in code: every control with its stable ID, the text
 * CONTROLS.md gives it, where it is enforced ('aws': a managed service the stacks configure;
 * 'app': our own code, which also runs locally; 'both'), the CloudFormation resource types
 * and code paths that enforce it, and whether it is implemented or planned (with the reason).
 *
 * Tests prove controls by carrying their IDs in brackets in a describe or test name, e.g.
 * `describe('[AZ-3] tenant isolation', ...)`. test/unit/controls/catalogue.test.ts fails when
 * an implemented control has no such test, when a planned control gives no reason, and when
 * this catalogue and CONTROLS.md disagree; `npm run security-report` joins the catalogue, the
 * synthesized templates and the test results into docs/security-report.md.
 *
 * Pure data: no AWS, CDK or Node types, so infra/, tools/ and tests can all read it.
 */

/** Where a control is enforced. */
export type Enforcement = 'aws' | 'app' | 'both';

interface ControlBase {
  /** Stable ID, e.g. `ENC-2`. */
  readonly id: string;
  /** The CONTROLS.md section it belongs to. */
  readonly area: string;
  /** A short title for tables. */
  readonly title: string;
  /** The control as CONTROLS.md states it (verbatim, Markdown). */
  readonly text: string;
  readonly enforcement: Enforcement;
  /** CloudFormation resource types that implement it (empty for app-only controls). */
  readonly resourceTypes: readonly string[];
  /** Files (relative to the repository root) whose code enforces or documents it. */
  readonly code: readonly string[];
  /** Known gaps that do not (yet) break the control's promise, shown in the report. */
  readonly openItems?: readonly string[];
}

export interface ImplementedControl extends ControlBase {
  readonly status: 'implemented';
}

export interface PlannedControl extends ControlBase {
  readonly status: 'planned';
  /** Why it is not implemented yet and what is missing. */
  readonly reason: string;
}

export type Control = ImplementedControl | PlannedControl;

/** A control ID as tests write it: letters, a dash, a number. */
export const controlIdPattern = /^[A-Z]+-\d+$/;

export const controls: readonly Control[] = [
  {
    id: 'ENC-1',
    area: 'Encryption and keys',
    title: 'TLS everywhere, HSTS, TLS-only buckets',
    text: 'TLS 1.2+ on every public endpoint, HTTP refused; HSTS (`max-age>=31536000; includeSubDomains; preload`). Buckets deny `aws:SecureTransport=false`.',
    enforcement: 'both',
    resourceTypes: ['AWS::ApiGateway::RestApi', 'AWS::ApiGateway::GatewayResponse', 'AWS::S3::BucketPolicy'],
    code: ['infra/constructs/strongroom-api.ts', 'shared/http/security-headers.ts'],
    status: 'implemented',
    openItems: [
      'A custom domain with its own TLS policy is not configured yet: the API is reached on its execute-api endpoint.',
    ],
  },
  {
    id: 'ENC-2',
    area: 'Encryption and keys',
    title: 'Encryption at rest under customer-managed keys',
    text: 'Everything at rest is AES-256 under customer-managed KMS keys: tables, buckets, log groups, topics, queues, Lambda environment, backup vaults, secrets. Symmetric keys rotate automatically; asymmetric signing keys rotate by a documented procedure and verifiers accept the published key set.',
    enforcement: 'aws',
    resourceTypes: [
      'AWS::KMS::Key',
      'AWS::DynamoDB::GlobalTable',
      'AWS::Logs::LogGroup',
      'AWS::S3::Bucket',
      'AWS::SNS::Topic',
      'AWS::SQS::Queue',
      'AWS::Lambda::Function',
      'AWS::Backup::BackupVault',
    ],
    code: [
      'infra/constructs/strongroom-key.ts',
      'infra/constructs/audit-signing-keys.ts',
      'docs/runbooks/audit-signing-key-rotation.md',
    ],
    status: 'implemented',
    openItems: [
      'Server access log buckets use SSE-S3 (AES-256), because S3 server access logging cannot deliver to SSE-KMS buckets.',
    ],
  },
  {
    id: 'ENC-3',
    area: 'Encryption and keys',
    title: 'Tenant items sealed with AES-256-GCM',
    text: "Every tenant item's payload (all attributes except key and index attributes) is sealed with AES-256-GCM under the tenant's data key; the associated data binds tenant, table, item key and key version, so a ciphertext moved to another tenant, item or table does not decrypt. Index attributes hold no personal or banking data.",
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/crypto/seal.ts', 'shared/store/item-sealing.ts', 'shared/store/tenant-keyring.ts'],
    status: 'implemented',
  },
  {
    id: 'ENC-4',
    area: 'Encryption and keys',
    title: 'Key separation and split knowledge',
    text: "Key separation and split knowledge: separate keys for tables, audit signing, backups (per region), logs, and one multi-Region key per tenant that wraps that tenant's data keys; key administrators cannot use keys and key users cannot administer them; deletion only after a waiting period.",
    enforcement: 'aws',
    resourceTypes: ['AWS::KMS::Key', 'AWS::KMS::Alias'],
    code: ['infra/constructs/strongroom-key.ts', 'shared/crypto/key-service.ts'],
    status: 'implemented',
    openItems: [
      'Per-tenant multi-Region keys are created at onboarding by the tenant key service, so they do not appear in the templates.',
    ],
  },
  {
    id: 'ENC-5',
    area: 'Encryption and keys',
    title: 'DR copies re-encrypted in the DR region',
    text: 'Backup copies in the second region are re-encrypted under a key that lives in that region.',
    enforcement: 'aws',
    resourceTypes: ['AWS::Backup::BackupVault', 'AWS::KMS::Key'],
    code: ['infra/stacks/dr-vault-stack.ts'],
    status: 'implemented',
  },
  {
    id: 'SEC-1',
    area: 'Secrets',
    title: 'Secrets only in Secrets Manager or KMS',
    text: 'Secrets (API-key pepper, integration credentials, signing material) live in Secrets Manager or KMS; never in source, templates, environment variables in plain text, or logs.',
    enforcement: 'both',
    resourceTypes: ['AWS::Lambda::Function'],
    code: ['shared/crypto/secrets.ts', 'shared/crypto/pepper.ts'],
    status: 'implemented',
  },
  {
    id: 'SEC-2',
    area: 'Secrets',
    title: 'CI fails on committed secrets and vulnerable production dependencies',
    text: 'CI fails on a committed secret (scanner over the tree) and on a high or critical advisory in production dependencies.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['.secretlintrc.json', 'tools/security-report/supply-chain.ts'],
    status: 'implemented',
    openItems: [
      "npm run audit:prod (npm audit --omit=dev --audit-level=high) needs the registry's advisory API, so it is not part of the offline npm test; the registry mirror this project's CI reaches answers HTTP 405 to the advisory endpoint, so until CI has an advisory source the audit runs by hand or in a CI with registry access",
    ],
  },
  {
    id: 'AUTH-1',
    area: 'Authentication',
    title: 'Cognito sign-in with strong passwords and compromised-credential checks',
    text: 'Email + password sign-in through Cognito (the API never sees passwords), password policy of at least 14 characters with complexity, compromised-credential checks on sign-up, password change and sign-in (a sign-in flow where Cognito sees the password, over TLS).',
    enforcement: 'aws',
    resourceTypes: ['AWS::Cognito::UserPool', 'AWS::Cognito::UserPoolClient'],
    code: ['infra/constructs/user-directory.ts'],
    status: 'implemented',
  },
  {
    id: 'AUTH-2',
    area: 'Authentication',
    title: 'Brute-force protection and rate limiting',
    text: 'Brute-force protection and rate limiting: Cognito threat protection enforced, WAF rate-based rule per IP, stage and per-tenant throttling, and app-level throttling of failed API-key attempts per key id and source address that slows an attacker without letting a stranger lock out a working integration.',
    enforcement: 'both',
    resourceTypes: ['AWS::WAFv2::WebACL', 'AWS::ApiGateway::Stage', 'AWS::Cognito::UserPool'],
    code: ['infra/constructs/api-firewall.ts', 'shared/auth/failed-attempts.ts'],
    status: 'implemented',
    openItems: [
      'Per-tenant throttling (usage plans per tenant) is not configured yet; stage throttling and the WAF rate rule apply to every tenant.',
    ],
  },
  {
    id: 'AUTH-3',
    area: 'Authentication',
    title: 'MFA for every user',
    text: "MFA required for every Cognito user: TOTP (RFC 6238) or email OTP (through SES); federated users must present their identity provider's MFA claim, or are refused.",
    enforcement: 'aws',
    resourceTypes: ['AWS::Cognito::UserPool'],
    code: ['infra/constructs/user-directory.ts'],
    status: 'implemented',
  },
  {
    id: 'AUTH-4',
    area: 'Authentication',
    title: 'Per-tenant SSO (OIDC and SAML)',
    text: "SSO: per-tenant OIDC and SAML 2.0 identity providers from configuration; IdP groups map to roles; tenant taken from configuration, never from the IdP's free-form claims.",
    enforcement: 'both',
    resourceTypes: ['AWS::Cognito::UserPoolIdentityProvider'],
    code: [
      'infra/constructs/identity-federation.ts',
      'infra/federation-config.ts',
      'functions/identity-federation/handler.ts',
      'docs/identity.md',
    ],
    status: 'implemented',
    openItems: [
      'cdk.json configures no tenant identity provider, so the synthesized templates hold none; the infra tests synthesize providers from a test configuration.',
    ],
  },
  {
    id: 'AUTH-5',
    area: 'Authentication',
    title: 'API keys: HMAC-stored, scoped, expiring, revocable',
    text: 'API keys: 256-bit random secret with a recognisable prefix, shown once, stored only as HMAC-SHA-256 under a pepper from Secrets Manager, compared in constant time; scoped roles, expiry, revocation, last-used time.',
    enforcement: 'app',
    resourceTypes: [],
    code: [
      'shared/auth/api-key-format.ts',
      'shared/auth/api-key-authenticator.ts',
      'shared/services/api-keys.ts',
      'shared/crypto/pepper.ts',
    ],
    status: 'implemented',
  },
  {
    id: 'AUTH-6',
    area: 'Authentication',
    title: 'Token verification; identity from the JWT, access from the members table',
    text: "Tokens: signature, issuer, client, `token_use` and expiry verified on every call; access tokens live at most 60 minutes; refresh tokens revocable. The JWT proves identity only: tenant, roles and status come from the members table (cached at most 60 s), so a removed member loses access within a minute. In AWS only the configured pool's keys are trusted; a token signed with the development issuer's published key is refused.",
    enforcement: 'both',
    resourceTypes: ['AWS::Cognito::UserPoolClient', 'AWS::ApiGateway::Authorizer'],
    code: ['functions/authorizer/handler.ts', 'shared/auth/ttl-cache.ts'],
    status: 'implemented',
  },
  {
    id: 'AZ-1',
    area: 'Authorization and tenancy',
    title: 'RBAC with a permission per route, default deny',
    text: 'RBAC with a permission catalogue; every route declares one permission; default deny; a route without a declaration fails the build.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/rbac/permissions.ts', 'shared/http/routes.ts', 'shared/http/route-definition.ts'],
    status: 'implemented',
  },
  {
    id: 'AZ-2',
    area: 'Authorization and tenancy',
    title: 'Separation of duties (maker-checker, limits, dual approval)',
    text: 'Separation of duties: maker-checker (nobody approves what they created or submitted), approval limits per approver, dual approval above a tenant threshold.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/domain/invoices.ts'],
    status: 'implemented',
  },
  {
    id: 'AZ-3',
    area: 'Authorization and tenancy',
    title: 'Tenant isolation',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: CONTROLS.md quotes an IAM policy variable, not a template.
    text: "Tenant isolation: tenant ids match `[a-z0-9-]+`; every partition key, index keys included, begins with the tenant id and `#`; in AWS request handlers reach data only through a tenant-scoped IAM session whose policy allow-lists item actions (no Scan, no PartiQL) under `dynamodb:LeadingKeys` like `${aws:PrincipalTag/tenantId}#*` with a `Null` condition so key-less requests fail; cross-tenant jobs have roles of their own; locally a guard on the data client enforces the same rule. No request reaches another tenant's data.",
    enforcement: 'both',
    resourceTypes: ['AWS::IAM::Role'],
    code: [
      'shared/tenancy/tenant-id.ts',
      'shared/store/tenant-guard.ts',
      'infra/constructs/tenant-access-role.ts',
      'shared/store/tenant-sessions.ts',
    ],
    status: 'implemented',
  },
  {
    id: 'AZ-4',
    area: 'Authorization and tenancy',
    title: 'Agents only propose',
    text: 'Humans stay in the loop: agent principals may only propose (create drafts with recorded reasoning and inputs); they never approve, post, pay, export or administer.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/rbac/permissions.ts'],
    status: 'implemented',
  },
  {
    id: 'AZ-5',
    area: 'Authorization and tenancy',
    title: 'Operator access only under owner-approved support grants',
    text: "Operator access to a tenant's data happens only under a support grant that the tenant's owner approved, limited in scope and time, and audited in the tenant's own log.",
    enforcement: 'app',
    resourceTypes: [],
    code: [
      'shared/auth/support-access.ts',
      'shared/store/support-grants.ts',
      'shared/http/routes/support.ts',
    ],
    status: 'implemented',
  },
  {
    id: 'AUD-1',
    area: 'Audit',
    title: 'Every material action audited in the same transaction',
    text: 'Every material action (each mutation, permission or key change, export, termination, support grant; failed API-key attempts as counted windows) is recorded with actor, time, action, target, outcome, request id, a digest of the item state it produced, and for agents the reasoning and a digest of the inputs; it is written in the same transaction as the change, so no change exists without its entry.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/services/audit-entries.ts', 'shared/store/mutation.ts'],
    status: 'implemented',
  },
  {
    id: 'AUD-2',
    area: 'Audit',
    title: 'Append-only log with an Object Lock archive',
    text: "Append-only: application roles may only put, get and query entries (no update, no delete; the log's head lives in its own table); entries and checkpoints are streamed with conditional writes to an S3 Object Lock archive in compliance mode, so an overwrite is both detected and recoverable.",
    enforcement: 'both',
    resourceTypes: ['AWS::S3::Bucket', 'AWS::IAM::Policy', 'AWS::Lambda::EventSourceMapping'],
    code: [
      'infra/constructs/audit-archive-bucket.ts',
      'infra/constructs/audit-archive-replica.ts',
      'infra/constructs/audit-stream-consumer.ts',
      'shared/audit/archive.ts',
    ],
    status: 'implemented',
  },
  {
    id: 'AUD-3',
    area: 'Audit',
    title: 'Tamper-evident, independently verifiable log',
    text: 'Tamper-evident and independently verifiable: per-tenant Merkle log (RFC 9162 hashing), checkpoints in the C2SP signed-note format signed by a KMS asymmetric key, inclusion and consistency proofs over the API, and an offline verifier that needs nothing but an export and the published keys, and that takes a checkpoint the tenant kept from earlier, so a rewritten and re-signed history is caught.',
    enforcement: 'both',
    resourceTypes: ['AWS::KMS::Key', 'AWS::Events::Rule'],
    code: [
      'shared/audit/merkle.ts',
      'shared/audit/signed-note.ts',
      'shared/audit/verify.ts',
      'bin/strongroom-verify.mjs',
    ],
    status: 'implemented',
  },
  {
    id: 'AUD-4',
    area: 'Audit',
    title: 'Auditors read, filter, page and export the log',
    text: 'Auditors read, filter, page and export the audit log through the API.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/http/routes/audit.ts', 'shared/services/audit-export.ts'],
    status: 'implemented',
  },
  {
    id: 'AUD-5',
    area: 'Audit',
    title: 'Security alarms',
    text: 'Security-relevant events raise alarms (auth-failure spikes, lockouts, 5xx, WAF blocks, failed restore test, stale backup, stale checkpoint).',
    enforcement: 'aws',
    resourceTypes: ['AWS::CloudWatch::Alarm'],
    code: [
      'infra/constructs/api-alarms.ts',
      'infra/constructs/checkpoint-signer-job.ts',
      'infra/constructs/audit-stream-consumer.ts',
    ],
    status: 'implemented',
    openItems: [
      'No alarm watches WAF blocks yet (the web ACL publishes its metrics; an alarm on a block spike is still to come).',
    ],
  },
  {
    id: 'INF-1',
    area: 'Infrastructure',
    title: 'No data store reachable from the internet',
    text: 'No data store is reachable from the internet: IAM-only DynamoDB, all public access blocked on buckets.',
    enforcement: 'aws',
    resourceTypes: ['AWS::S3::Bucket', 'AWS::DynamoDB::GlobalTable'],
    code: ['infra/constructs/data-tables.ts', 'infra/constructs/audit-archive-bucket.ts'],
    status: 'implemented',
  },
  {
    id: 'INF-2',
    area: 'Infrastructure',
    title: 'Least privilege; every cdk-nag finding fixed or acknowledged',
    text: 'Least privilege: one role per function with only the actions and resources it needs; no `*` action on `*` resource; every cdk-nag finding fixed or acknowledged with a written reason.',
    enforcement: 'aws',
    resourceTypes: ['AWS::IAM::Role', 'AWS::IAM::Policy'],
    code: ['infra/nag-suppressions.ts', 'infra/policy-pack-acknowledgements.ts', 'infra/build-app.ts'],
    status: 'implemented',
  },
  {
    id: 'INF-3',
    area: 'Infrastructure',
    title: 'EU data residency',
    text: 'EU data residency: every stateful resource in an EU region; synthesis fails for any other region.',
    enforcement: 'aws',
    resourceTypes: [],
    code: ['infra/config.ts', 'infra/build-app.ts', 'shared/config/product.ts'],
    status: 'implemented',
  },
  {
    id: 'INF-4',
    area: 'Infrastructure',
    title: 'WAF in front of the API',
    text: 'A WAF web ACL with managed rule groups and a rate-based rule in front of the API.',
    enforcement: 'aws',
    resourceTypes: ['AWS::WAFv2::WebACL', 'AWS::WAFv2::WebACLAssociation'],
    code: ['infra/constructs/api-firewall.ts'],
    status: 'implemented',
  },
  {
    id: 'INF-5',
    area: 'Infrastructure',
    title: 'Separate stages',
    text: 'Stages (dev, prod) are separate stacks with separate keys and data, chosen by configuration.',
    enforcement: 'aws',
    resourceTypes: [],
    code: ['infra/config.ts', 'infra/build-app.ts'],
    status: 'implemented',
  },
  {
    id: 'INF-6',
    area: 'Infrastructure',
    title: 'Account baseline: CloudTrail, GuardDuty, Security Hub',
    text: 'An account baseline stack: CloudTrail with data events on the tables and buckets, GuardDuty, Security Hub with the AWS Foundational Security Best Practices standard.',
    enforcement: 'aws',
    resourceTypes: [
      'AWS::CloudTrail::Trail',
      'AWS::GuardDuty::Detector',
      'AWS::SecurityHub::Hub',
      'AWS::SecurityHub::Standard',
    ],
    code: [
      'infra/stacks/baseline-stack.ts',
      'infra/constructs/account-trail.ts',
      'infra/constructs/threat-detection.ts',
    ],
    status: 'implemented',
  },
  {
    id: 'INF-7',
    area: 'Infrastructure',
    title: 'No internet route from functions',
    text: 'No route to the internet from the functions in production: they run in isolated subnets and reach AWS services only through VPC endpoints whose policies name our own resources; security groups allow only what each function needs.',
    enforcement: 'aws',
    resourceTypes: ['AWS::EC2::VPC', 'AWS::EC2::VPCEndpoint', 'AWS::EC2::SecurityGroup', 'AWS::EC2::FlowLog'],
    code: [
      'infra/constructs/private-network.ts',
      'infra/constructs/stage-endpoint-policies.ts',
      'infra/constructs/route-function.ts',
      'infra/constructs/cognito-jwks.ts',
      'infra/constructs/advanced-backup-setting.ts',
      'infra/stacks/dr-vault-stack.ts',
      'shared/auth/cognito-jwks.ts',
      'shared/services/backup-freshness.ts',
      'functions/cognito-jwks/handler.ts',
    ],
    status: 'implemented',
    openItems: [
      'On by stage configuration (strongroom:stageSettings.<stage>.privateNetwork): on for prod, off for dev.',
      "One prod function stays outside the network, with its reason in the template: the Cognito JWKS fetcher, a deploy-time custom resource (Cognito documents its PrivateLink endpoint for the user pools API, not for the pool's .well-known/jwks.json). The backup jobs read only the primary region (copy jobs), and each region's stack sets its own advanced backup setting from inside its own VPC.",
      'A user pool with a domain (federated sign-in) cannot be used through the cognito-idp endpoint: invitations and onboarding of such a stage need another path to Cognito.',
      'Tenant-key deletion in the DR region (purge) needs a cross-region KMS endpoint (PrivateLink cross-region) once the purge job runs in prod.',
      'The X-Ray endpoint policy names actions only: X-Ray has no resource-level permissions.',
    ],
  },
  {
    id: 'INF-8',
    area: 'Infrastructure',
    title: 'Deployments only through a pipeline',
    text: 'Deployments only through a pipeline: synth, tests and policy gates, a dev stage, an explicit approval, then prod; nobody deploys prod by hand.',
    enforcement: 'aws',
    resourceTypes: ['AWS::CodePipeline::Pipeline', 'AWS::CodeBuild::Project'],
    code: ['infra/stacks/pipeline-stack.ts', 'infra/stacks/strongroom-stage.ts', 'infra/pipeline-config.ts'],
    status: 'implemented',
    openItems: [
      'The account-wide stacks (strongroom-account, the baseline) are deployed once at bootstrap, not by the pipeline.',
      'With dev and prod in one account the bootstrap deploy role can deploy either; a prod account bootstrapped to trust only the pipeline account makes the pipeline the only way into prod.',
      'The CloudFormation execution role is whatever cdk bootstrap was given (--cloudformation-execution-policies): README says how to narrow it.',
    ],
  },
  {
    id: 'BAK-1',
    area: 'Backups and continuity',
    title: 'PITR, deletion protection and RETAIN',
    text: 'Point-in-time recovery on every table; deletion protection and RETAIN on every stateful resource.',
    enforcement: 'aws',
    resourceTypes: ['AWS::DynamoDB::GlobalTable'],
    code: ['infra/constructs/data-tables.ts'],
    status: 'implemented',
  },
  {
    id: 'BAK-2',
    area: 'Backups and continuity',
    title: 'Daily backups copied to a second EU region',
    text: 'Daily encrypted backups kept at least 35 days, copied to a vault in a second EU region (optionally another account or a logically air-gapped vault); the account setting that cross-region copy of DynamoDB backups needs is set by the stack.',
    enforcement: 'aws',
    resourceTypes: ['AWS::Backup::BackupVault', 'AWS::Backup::BackupPlan'],
    code: ['infra/constructs/backups.ts', 'infra/stacks/dr-vault-stack.ts'],
    status: 'implemented',
  },
  {
    id: 'BAK-3',
    area: 'Backups and continuity',
    title: 'Scheduled restore tests validated against the audit log',
    text: 'Scheduled restore tests (an AWS Backup restore testing plan): each restored table is validated against the audit log (entries, item digests, signed checkpoints); the result is a metric, an audit entry and, on failure, an alarm.',
    enforcement: 'both',
    resourceTypes: ['AWS::Backup::RestoreTestingPlan'],
    code: [
      'infra/constructs/backups.ts',
      'shared/services/restore-test-run.ts',
      'functions/restore-validation/handler.ts',
    ],
    status: 'implemented',
  },
  {
    id: 'BAK-4',
    area: 'Backups and continuity',
    title: 'Documented RPO and RTO with a restore runbook',
    text: 'Documented RPO (≤ 5 minutes with PITR, ≤ 24 hours cross-region) and RTO (≤ 4 hours), with a restore runbook.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['docs/runbooks/restore.md'],
    status: 'implemented',
  },
  {
    id: 'LOG-1',
    area: 'Logging and retention',
    title: 'Structured, redacted logs; API access logs',
    text: 'Structured JSON logs with request id and tenant id; secrets, tokens and personal data redacted; API access logs on.',
    enforcement: 'both',
    resourceTypes: ['AWS::ApiGateway::Stage'],
    code: ['shared/observability/logger.ts'],
    status: 'implemented',
  },
  {
    id: 'LOG-2',
    area: 'Logging and retention',
    title: 'Retention by log class',
    text: 'Retention by class: application logs 6 months, access logs 12 months, security logs 36 months; audit archive years (configurable); all automated.',
    enforcement: 'aws',
    resourceTypes: ['AWS::Logs::LogGroup', 'AWS::S3::Bucket'],
    code: ['infra/constructs/encrypted-log-group.ts'],
    status: 'implemented',
  },
  {
    id: 'INC-1',
    area: 'Incident response',
    title: 'Incident topic and runbooks',
    text: 'Security alarms reach an incident topic; runbooks set the breach-notification path (GDPR 72 hours, DORA initial report timelines) and the key-compromise and restore procedures.',
    enforcement: 'both',
    resourceTypes: ['AWS::SNS::Topic', 'AWS::CloudWatch::Alarm'],
    code: [
      'infra/constructs/incident-topic.ts',
      'docs/runbooks/incident-response.md',
      'docs/runbooks/key-compromise.md',
      'docs/runbooks/restore.md',
    ],
    status: 'implemented',
  },
  {
    id: 'DAT-1',
    area: 'Data lifecycle and privacy',
    title: 'Tenant data export',
    text: 'Tenant data export (portability) on demand: an encrypted archive with the data, the audit log, its checkpoints and the verifier instructions; the export is itself audited.',
    enforcement: 'both',
    resourceTypes: ['AWS::S3::Bucket', 'AWS::Lambda::EventSourceMapping', 'AWS::KMS::Key'],
    code: [
      'shared/services/exports.ts',
      'shared/exports/archive.ts',
      'shared/store/export-archives.ts',
      'shared/services/audit-export.ts',
      'shared/http/routes/exports.ts',
      'functions/exports/handler.ts',
      'functions/export-worker/handler.ts',
      'infra/constructs/export-bucket.ts',
      'infra/constructs/export-worker.ts',
    ],
    status: 'implemented',
    openItems: [
      'Tenant keys created before this change carry a key policy that allows only the tenant-data-key purpose; they need PutKeyPolicy with the new policy (tenantKeyPolicy) before their exports can be encrypted in AWS.',
      'An S3 presigned link works any number of times until it expires (5 minutes); only the local link is one-time.',
      'The archive is built in memory (about 2 GB of worker memory); very large tenants need a streaming build.',
    ],
  },
  {
    id: 'DAT-2',
    area: 'Data lifecycle and privacy',
    title: 'Termination and crypto-shredding',
    text: 'Termination: the tenant turns read-only, stays exportable for 30 days, then its items are deleted and its own KMS key is scheduled for deletion (crypto-shredding: its items become unreadable in every backup too), with a final audit entry and checkpoint.',
    enforcement: 'both',
    resourceTypes: [],
    code: ['shared/services/lifecycle.ts', 'shared/crypto/key-service.ts'],
    status: 'implemented',
    openItems: [
      'The purge runs as a platform job function (purgeExpiredTenants); its schedule in the stacks is still to come.',
    ],
  },
  {
    id: 'DAT-3',
    area: 'Data lifecycle and privacy',
    title: 'Data minimisation in audit entries and logs',
    text: 'Data minimisation: audit entries and logs carry pseudonymous ids, never emails, names or bank details.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/services/audit-entries.ts', 'shared/observability/logger.ts'],
    status: 'implemented',
  },
  {
    id: 'DAT-4',
    area: 'Data lifecycle and privacy',
    title: 'Tenant-configured retention above the legal minimum',
    text: 'Tenants configure the retention of their own records, never below the legal minimum for financial records (10 years by default, configurable per jurisdiction); a scheduled job enforces it and audits what it removed.',
    enforcement: 'app',
    resourceTypes: [],
    code: [
      'shared/config/retention.ts',
      'shared/domain/settings.ts',
      'shared/services/settings.ts',
      'shared/services/retention.ts',
      'infra/local/retention.ts',
    ],
    status: 'implemented',
    openItems: [
      'The daily schedule of the retention job in the stacks is still to come; it runs on demand (npm run retention).',
    ],
  },
  {
    id: 'VUL-1',
    area: 'Vulnerability handling and supply chain',
    title: 'security.txt (RFC 9116)',
    text: '`/.well-known/security.txt` per RFC 9116 (Contact, Expires under a year away and computed when the stack is built or started, Policy, Preferred-Languages, Canonical).',
    enforcement: 'app',
    resourceTypes: ['AWS::Lambda::Function'],
    code: ['shared/config/product.ts', 'shared/http/routes/public.ts'],
    status: 'implemented',
  },
  {
    id: 'VUL-2',
    area: 'Vulnerability handling and supply chain',
    title: 'CycloneDX SBOM on every build',
    text: 'An SBOM (CycloneDX) is produced with every build.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['tools/security-report/supply-chain.ts', 'package.json'],
    status: 'implemented',
  },
  {
    id: 'VUL-3',
    area: 'Vulnerability handling and supply chain',
    title: 'Static gates on every change',
    text: 'Static checks gate every change: strict type-check, lint, cdk-nag, tests.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['tsconfig.json', 'biome.json', 'infra/build-app.ts'],
    status: 'implemented',
    openItems: [
      'The gates run in npm test, which the synth step of the pipeline runs before anything is deployed (INF-8).',
    ],
  },
  {
    id: 'API-1',
    area: 'API hardening',
    title: 'Schema validation and problem details',
    text: 'Every input is validated against a schema (unknown fields rejected, sizes and nesting bounded, money as integer minor units, strings that cannot be canonicalized, such as lone surrogates, rejected); errors are RFC 9457 problem details without internals.',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/http/request.ts', 'shared/http/problem.ts', 'shared/http/schemas/common.ts'],
    status: 'implemented',
  },
  {
    id: 'API-2',
    area: 'API hardening',
    title: 'Security headers on every response',
    text: "Security headers on every response: HSTS, `Content-Security-Policy: default-src 'none'; frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`, `Cache-Control: no-store`, `Referrer-Policy: no-referrer`.",
    enforcement: 'both',
    resourceTypes: ['AWS::ApiGateway::GatewayResponse'],
    code: ['shared/http/security-headers.ts'],
    status: 'implemented',
  },
  {
    id: 'API-3',
    area: 'API hardening',
    title: 'Idempotency keys and optimistic concurrency',
    text: '`Idempotency-Key` on every POST, recorded in the same transaction as the change with the response it produced, so a retry after any crash replays and never acts twice; optimistic concurrency with ETag / If-Match on updates (no lost update).',
    enforcement: 'app',
    resourceTypes: [],
    code: ['shared/store/idempotency.ts', 'shared/http/etag.ts'],
    status: 'implemented',
  },
  {
    id: 'API-4',
    area: 'API hardening',
    title: 'CORS limited to configured origins',
    text: 'CORS limited to configured origins.',
    enforcement: 'both',
    resourceTypes: ['AWS::ApiGateway::Method'],
    code: ['shared/http/cors.ts'],
    status: 'implemented',
  },
  {
    id: 'API-5',
    area: 'API hardening',
    title: 'Gateway and WAF responses are problem details',
    text: "API Gateway's own responses (401, 403, 413, 429, 5xx) and WAF blocks are problem details with the same security headers.",
    enforcement: 'aws',
    resourceTypes: ['AWS::ApiGateway::GatewayResponse', 'AWS::WAFv2::WebACL'],
    code: ['infra/constructs/strongroom-api.ts', 'shared/http/problem.ts'],
    status: 'implemented',
  },
];

const byId = new Map(controls.map((control) => [control.id, control]));

/** The control with this ID, or undefined. */
export function controlById(id: string): Control | undefined {
  return byId.get(id);
}
