/**
 * Per control, the CloudFormation that implements it: resource-type and property queries
 * over the synthesized templates. Each check lists the resources it looked at, the property
 * and value it read, and whether the value keeps the control's promise; a check that finds a
 * bad value, or finds nothing where something is required, turns the control's row red.
 */
import { routes } from '#shared/http/routes';
import { type CfnResource, constructPathOf, type StackTemplate } from './synth';

export interface EvidenceItem {
  readonly stack: string;
  readonly logicalId: string;
  readonly type: string;
  readonly constructPath: string | undefined;
  /** The property read, e.g. `SSESpecification.SSEType`. */
  readonly property: string;
  /** The value, shortened for the report; references shown as Ref(...) / GetAtt(...). */
  readonly value: string;
  readonly ok: boolean;
}

export interface CheckResult {
  readonly description: string;
  readonly items: readonly EvidenceItem[];
  /** True when nothing is wrong and, if required, something was found. */
  readonly passed: boolean;
  /** Why the check failed, if it did. */
  readonly problem?: string;
}

type Json = Record<string, unknown>;
type Statement = {
  Effect?: string;
  Action?: unknown;
  NotAction?: unknown;
  Resource?: unknown;
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
};

interface Found {
  readonly stack: StackTemplate;
  readonly id: string;
  readonly resource: CfnResource;
}

interface Check {
  readonly description: string;
  /** Which resources to look at. */
  readonly select: (stacks: readonly StackTemplate[]) => Found[];
  /** The property shown. */
  readonly property: string;
  readonly value: (found: Found) => unknown;
  readonly ok: (value: unknown, found: Found) => boolean;
  /** Whether finding no resource fails the check. @default true */
  readonly required?: boolean;
}

const props = (found: Found): Json => (found.resource.Properties ?? {}) as Json;
const list = (value: unknown): unknown[] =>
  value === undefined ? [] : Array.isArray(value) ? value : [value];

/** A property by dotted path; `[]` in a path maps over a list. */
export function at(value: unknown, path: string): unknown {
  if (path === '') return value;
  const [head, ...rest] = path.split('.');
  const tail = rest.join('.');
  if (head === undefined) return value;
  if (head.endsWith('[]')) {
    const items = (value as Json | undefined)?.[head.slice(0, -2)];
    return Array.isArray(items) ? items.map((item) => at(item, tail)) : undefined;
  }
  return at((value as Json | undefined)?.[head], tail);
}

/** A short, readable rendering of a template value. */
export function show(value: unknown): string {
  const text = JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      const object = item as Json;
      const keys = Object.keys(object);
      if (keys.length === 1 && keys[0] === 'Ref') return `Ref(${String(object.Ref)})`;
      if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
        return `GetAtt(${list(object['Fn::GetAtt']).join('.')})`;
      }
    }
    return item;
  });
  if (text === undefined) return '(not set)';
  const plain = text.replace(/^"(.*)"$/, '$1');
  return plain.length > 140 ? `${plain.slice(0, 137)}...` : plain;
}

function ofType(...types: string[]): (stacks: readonly StackTemplate[]) => Found[] {
  return (stacks) =>
    stacks.flatMap((stack) =>
      Object.entries(stack.resources)
        .filter(([, resource]) => types.includes(resource.Type))
        .map(([id, resource]) => ({ stack, id, resource })),
    );
}

function where(
  select: (stacks: readonly StackTemplate[]) => Found[],
  predicate: (found: Found) => boolean,
): (stacks: readonly StackTemplate[]) => Found[] {
  return (stacks) => select(stacks).filter(predicate);
}

function run(check: Check, stacks: readonly StackTemplate[]): CheckResult {
  const items = check.select(stacks).map((found) => {
    const value = check.value(found);
    return {
      stack: found.stack.name,
      logicalId: found.id,
      type: found.resource.Type,
      constructPath: constructPathOf(found.resource),
      property: check.property,
      value: show(value),
      ok: check.ok(value, found),
    };
  });
  const bad = items.filter((item) => !item.ok);
  if (bad.length > 0) {
    return {
      description: check.description,
      items,
      passed: false,
      problem: `${bad.length} resource(s) do not comply`,
    };
  }
  if (items.length === 0 && check.required !== false) {
    return {
      description: check.description,
      items,
      passed: false,
      problem: 'no such resource in the templates',
    };
  }
  return { description: check.description, items, passed: true };
}

const defined = (value: unknown): boolean => value !== undefined && value !== null && value !== '';
const isTrue = (value: unknown): boolean => value === true || value === 'true';
const retained = (found: Found): boolean =>
  found.resource.DeletionPolicy === 'Retain' && found.resource.UpdateReplacePolicy === 'Retain';

function policyStatements(found: Found): Statement[] {
  const properties = props(found);
  const documents: unknown[] = [];
  for (const key of ['PolicyDocument', 'KeyPolicy', 'AssumeRolePolicyDocument'])
    documents.push(properties[key]);
  for (const policy of list(properties.Policies)) documents.push((policy as Json).PolicyDocument);
  return documents.flatMap((document) => list((document as Json | undefined)?.Statement) as Statement[]);
}

/** Buckets that receive server access logs of other buckets (SSE-S3 is all S3 delivers to). */
function accessLogTargets(stacks: readonly StackTemplate[]): Set<string> {
  const targets = new Set<string>();
  for (const found of ofType('AWS::S3::Bucket')(stacks)) {
    const target = at(props(found), 'LoggingConfiguration.DestinationBucketName') as Json | undefined;
    if (typeof target?.Ref === 'string') targets.add(`${found.stack.name}/${target.Ref}`);
  }
  return targets;
}

const hstsOk = (value: unknown): boolean => {
  const text = String(value ?? '');
  const maxAge = Number(/max-age=(\d+)/.exec(text)?.[1] ?? 0);
  return maxAge >= 31_536_000 && text.includes('includeSubDomains') && text.includes('preload');
};

const securityHeaders = [
  'Strict-Transport-Security',
  'Content-Security-Policy',
  'X-Content-Type-Options',
  'Cache-Control',
  'Referrer-Policy',
];

const euRegion = /^eu-(central|west|south|north)-\d$/;

/** The IAM policy variable tenant sessions are scoped by (not a template string). */
const tenantKeyPrefix = ['$', '{aws:PrincipalTag/tenantId}#*'].join('');

/** One pseudo-resource per stack, for checks on the stacks themselves. */
function stacksThemselves(stacks: readonly StackTemplate[]): Found[] {
  return stacks.map((stack) => ({
    stack,
    id: stack.name,
    resource: {
      Type: 'AWS::CloudFormation::Stack',
      Properties: { account: stack.account, region: stack.region },
    },
  }));
}

/** The checks of each control; controls without CloudFormation have none. */
export function checksFor(stacks: readonly StackTemplate[]): Map<string, CheckResult[]> {
  const logTargets = accessLogTargets(stacks);
  const checks: Record<string, Check[]> = {
    'ENC-1': [
      {
        description: 'Every REST API uses an enhanced TLS 1.2+ security policy with strict endpoint access',
        select: ofType('AWS::ApiGateway::RestApi'),
        property: 'SecurityPolicy, EndpointAccessMode',
        value: (found) => ({
          SecurityPolicy: props(found).SecurityPolicy,
          EndpointAccessMode: props(found).EndpointAccessMode,
        }),
        ok: (value) => {
          const { SecurityPolicy, EndpointAccessMode } = value as Json;
          return /^SecurityPolicy_TLS1[23]_/.test(String(SecurityPolicy)) && EndpointAccessMode === 'STRICT';
        },
      },
      {
        description: 'Every bucket policy denies requests without TLS (aws:SecureTransport=false)',
        select: ofType('AWS::S3::BucketPolicy'),
        property: 'PolicyDocument: Deny when aws:SecureTransport=false',
        value: (found) =>
          policyStatements(found).find(
            (statement) =>
              statement.Effect === 'Deny' && statement.Condition?.Bool?.['aws:SecureTransport'] === 'false',
          )?.Condition,
        ok: defined,
      },
      {
        description: 'Every API Gateway response sends HSTS (max-age>=31536000; includeSubDomains; preload)',
        select: ofType('AWS::ApiGateway::GatewayResponse'),
        property: 'ResponseParameters.gatewayresponse.header.Strict-Transport-Security',
        value: (found) =>
          (props(found).ResponseParameters as Json | undefined)?.[
            'gatewayresponse.header.Strict-Transport-Security'
          ],
        ok: hstsOk,
      },
    ],
    'ENC-2': [
      {
        description: 'Every DynamoDB table is encrypted with a customer-managed KMS key in every replica',
        select: ofType('AWS::DynamoDB::GlobalTable'),
        property: 'SSESpecification.SSEType, Replicas[].SSESpecification.KMSMasterKeyId',
        value: (found) => ({
          SSEType: at(props(found), 'SSESpecification.SSEType'),
          keys: at(props(found), 'Replicas[].SSESpecification.KMSMasterKeyId'),
        }),
        ok: (value) => {
          const { SSEType, keys } = value as { SSEType: unknown; keys: unknown };
          return SSEType === 'KMS' && list(keys).length > 0 && list(keys).every(defined);
        },
      },
      {
        description: 'Every log group is encrypted with a customer-managed KMS key',
        select: ofType('AWS::Logs::LogGroup'),
        property: 'KmsKeyId',
        value: (found) => props(found).KmsKeyId,
        ok: defined,
      },
      {
        description:
          'Every bucket is encrypted with a customer-managed KMS key (server access log buckets: SSE-S3, the only encryption S3 log delivery supports)',
        select: ofType('AWS::S3::Bucket'),
        property: 'BucketEncryption...ServerSideEncryptionByDefault',
        value: (found) =>
          at(
            props(found),
            'BucketEncryption.ServerSideEncryptionConfiguration[].ServerSideEncryptionByDefault',
          ),
        ok: (value, found) => {
          const rule = list(value)[0] as Json | undefined;
          if (rule?.SSEAlgorithm === 'aws:kms' && defined(rule.KMSMasterKeyID)) return true;
          return rule?.SSEAlgorithm === 'AES256' && logTargets.has(`${found.stack.name}/${found.id}`);
        },
      },
      {
        description: 'Every topic and queue is encrypted with a customer-managed KMS key',
        select: ofType('AWS::SNS::Topic', 'AWS::SQS::Queue'),
        property: 'KmsMasterKeyId',
        value: (found) => props(found).KmsMasterKeyId,
        ok: (value) => defined(value) && !String(show(value)).startsWith('alias/aws/'),
      },
      {
        description: 'Every function environment is encrypted with a customer-managed KMS key',
        select: where(ofType('AWS::Lambda::Function'), (found) => defined(props(found).Environment)),
        property: 'KmsKeyArn',
        value: (found) => props(found).KmsKeyArn,
        ok: defined,
      },
      {
        description: 'Every backup vault, secret and trail is encrypted with a customer-managed KMS key',
        select: ofType('AWS::Backup::BackupVault', 'AWS::SecretsManager::Secret', 'AWS::CloudTrail::Trail'),
        property: 'EncryptionKeyArn / KmsKeyId / KMSKeyId',
        value: (found) => props(found).EncryptionKeyArn ?? props(found).KmsKeyId ?? props(found).KMSKeyId,
        ok: defined,
      },
      {
        description: 'Every symmetric key rotates automatically (asymmetric signing keys rotate by runbook)',
        select: ofType('AWS::KMS::Key'),
        property: 'KeySpec, EnableKeyRotation',
        value: (found) => ({
          KeySpec: props(found).KeySpec ?? 'SYMMETRIC_DEFAULT',
          EnableKeyRotation: props(found).EnableKeyRotation,
        }),
        ok: (value) => {
          const { KeySpec, EnableKeyRotation } = value as Json;
          return KeySpec !== 'SYMMETRIC_DEFAULT' || isTrue(EnableKeyRotation);
        },
      },
    ],
    'ENC-4': [
      {
        description: 'One key per purpose, named by alias (CDK Pipelines names its artifact keys itself)',
        // The pipeline refers to its DR-region artifact key by the alias CDK generated.
        select: where(
          ofType('AWS::KMS::Alias'),
          (found) => !found.stack.name.startsWith('strongroom-pipeline'),
        ),
        property: 'AliasName',
        value: (found) => props(found).AliasName,
        ok: (value) => /^alias\/strongroom\/[a-z0-9-]+\/[a-z0-9/-]+$/.test(String(value)),
      },
      {
        description:
          'No key policy statement lets one principal both administer and use a key; deletion waits 30 days',
        select: ofType('AWS::KMS::Key'),
        property: 'KeyPolicy (admin and use split), PendingWindowInDays',
        value: (found) => ({
          mixed: policyStatements(found).filter((statement) => {
            const actions = list(statement.Action).map(String);
            const administers = actions.some((action) => action === 'kms:PutKeyPolicy' || action === 'kms:*');
            const uses = actions.some((action) =>
              /^kms:(Encrypt|Decrypt|GenerateDataKey|Sign|\*)/.test(action),
            );
            return statement.Effect === 'Allow' && administers && uses;
          }).length,
          PendingWindowInDays: props(found).PendingWindowInDays,
        }),
        ok: (value) => (value as Json).mixed === 0 && Number((value as Json).PendingWindowInDays) >= 7,
      },
    ],
    'ENC-5': [
      {
        description: 'The DR vault in the second region is encrypted with a key of its own stack (region)',
        select: where(ofType('AWS::Backup::BackupVault'), (found) => found.stack.name.endsWith('-dr')),
        property: 'EncryptionKeyArn',
        value: (found) => props(found).EncryptionKeyArn,
        ok: (value, found) => {
          const keyId = (value as { 'Fn::GetAtt'?: string[] } | undefined)?.['Fn::GetAtt']?.[0];
          return keyId !== undefined && found.stack.resources[keyId]?.Type === 'AWS::KMS::Key';
        },
      },
    ],
    'SEC-1': [
      {
        description:
          'No function environment variable holds a literal secret (names like SECRET, PASSWORD, PEPPER, TOKEN, PRIVATE_KEY)',
        select: ofType('AWS::Lambda::Function'),
        property: 'Environment.Variables (secret-like names with literal values)',
        value: (found) =>
          Object.entries((at(props(found), 'Environment.Variables') as Json | undefined) ?? {})
            .filter(
              ([name, value]) =>
                /SECRET|PASSWORD|PEPPER|TOKEN|PRIVATE_?KEY/i.test(name) &&
                typeof value === 'string' &&
                !/^(arn:|\/)/.test(value),
            )
            .map(([name]) => name),
        ok: (value) => list(value).length === 0,
      },
    ],
    'AUTH-1': [
      {
        description: 'Password policy: at least 14 characters with complexity',
        select: ofType('AWS::Cognito::UserPool'),
        property: 'Policies.PasswordPolicy',
        value: (found) => at(props(found), 'Policies.PasswordPolicy'),
        ok: (value) => {
          const policy = (value ?? {}) as Json;
          return (
            Number(policy.MinimumLength) >= 14 &&
            ['RequireLowercase', 'RequireUppercase', 'RequireNumbers', 'RequireSymbols'].every((key) =>
              isTrue(policy[key]),
            )
          );
        },
      },
      {
        description: 'Compromised-credential checks: threat protection enforced (Plus feature plan)',
        select: ofType('AWS::Cognito::UserPool'),
        property: 'UserPoolTier, UserPoolAddOns.AdvancedSecurityMode',
        value: (found) => ({
          UserPoolTier: props(found).UserPoolTier,
          AdvancedSecurityMode: at(props(found), 'UserPoolAddOns.AdvancedSecurityMode'),
        }),
        ok: (value) => (value as Json).AdvancedSecurityMode === 'ENFORCED',
      },
      {
        description: 'Sign-in where Cognito sees the password (USER_PASSWORD_AUTH over TLS)',
        select: ofType('AWS::Cognito::UserPoolClient'),
        property: 'ExplicitAuthFlows',
        value: (found) => props(found).ExplicitAuthFlows,
        ok: (value) => list(value).includes('ALLOW_USER_PASSWORD_AUTH'),
      },
    ],
    'AUTH-2': [
      {
        description: 'A WAF rate-based rule per IP',
        select: ofType('AWS::WAFv2::WebACL'),
        property: 'Rules[].Statement.RateBasedStatement',
        value: (found) => list(at(props(found), 'Rules[].Statement.RateBasedStatement')).filter(defined),
        ok: (value) => list(value).some((rule) => (rule as Json).AggregateKeyType === 'IP'),
      },
      {
        description: 'Stage throttling',
        select: ofType('AWS::ApiGateway::Stage'),
        property: 'MethodSettings[].ThrottlingRateLimit / ThrottlingBurstLimit',
        value: (found) => at(props(found), 'MethodSettings[]'),
        ok: (value) =>
          list(value).some(
            (setting) =>
              defined((setting as Json).ThrottlingRateLimit) &&
              defined((setting as Json).ThrottlingBurstLimit),
          ),
      },
    ],
    'AUTH-3': [
      {
        description: 'MFA required (TOTP, optionally email OTP)',
        select: ofType('AWS::Cognito::UserPool'),
        property: 'MfaConfiguration, EnabledMfas',
        value: (found) => ({
          MfaConfiguration: props(found).MfaConfiguration,
          EnabledMfas: props(found).EnabledMfas,
        }),
        ok: (value) =>
          (value as Json).MfaConfiguration === 'ON' &&
          list((value as Json).EnabledMfas).includes('SOFTWARE_TOKEN_MFA'),
      },
    ],
    'AUTH-4': [
      {
        description: 'Per-tenant identity providers',
        select: ofType('AWS::Cognito::UserPoolIdentityProvider'),
        property: 'ProviderType',
        value: (found) => props(found).ProviderType,
        ok: (value) => value === 'OIDC' || value === 'SAML',
        // Providers exist only for tenants configured with one.
        required: false,
      },
    ],
    'AUTH-6': [
      {
        description: 'Access tokens live at most 60 minutes; refresh tokens revocable',
        select: ofType('AWS::Cognito::UserPoolClient'),
        property: 'AccessTokenValidity (TokenValidityUnits.AccessToken), EnableTokenRevocation',
        value: (found) => ({
          AccessTokenValidity: props(found).AccessTokenValidity,
          unit: at(props(found), 'TokenValidityUnits.AccessToken') ?? 'hours',
          EnableTokenRevocation: props(found).EnableTokenRevocation,
        }),
        ok: (value) => {
          const { AccessTokenValidity, unit, EnableTokenRevocation } = value as Json;
          const minutes =
            Number(AccessTokenValidity) * (unit === 'minutes' ? 1 : unit === 'hours' ? 60 : 1440);
          return minutes > 0 && minutes <= 60 && EnableTokenRevocation !== false;
        },
      },
      {
        description: 'A REQUEST authorizer on the API (tokens and API keys)',
        select: ofType('AWS::ApiGateway::Authorizer'),
        property: 'Type, AuthorizerResultTtlInSeconds',
        value: (found) => ({ Type: props(found).Type, ttl: props(found).AuthorizerResultTtlInSeconds }),
        ok: (value) => (value as Json).Type === 'REQUEST' && Number((value as Json).ttl ?? 300) <= 60,
      },
    ],
    'AZ-1': [
      {
        description: 'Every non-OPTIONS method goes through the authorizer, or is declared public',
        select: where(ofType('AWS::ApiGateway::Method'), (found) => props(found).HttpMethod !== 'OPTIONS'),
        property: 'AuthorizationType',
        value: (found) => props(found).AuthorizationType,
        ok: (value, found) => value === 'CUSTOM' || isPublicMethod(found),
      },
    ],
    'AZ-3': [
      {
        description:
          'The tenant access role allow-lists item actions under dynamodb:LeadingKeys like the tenant tag and #, with a Null condition',
        select: where(ofType('AWS::IAM::Role', 'AWS::IAM::Policy'), (found) =>
          JSON.stringify(found.resource.Properties ?? {}).includes('dynamodb:LeadingKeys'),
        ),
        property: 'Statement Condition (dynamodb:LeadingKeys, Null)',
        value: (found) =>
          policyStatements(found)
            .filter((statement) => JSON.stringify(statement.Condition ?? {}).includes('dynamodb:LeadingKeys'))
            .map((statement) => statement.Condition),
        ok: (value) => {
          const text = JSON.stringify(value);
          return text.includes(tenantKeyPrefix) && text.includes('"Null"');
        },
      },
      {
        description: 'No IAM statement allows PartiQL',
        select: ofType('AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'),
        property: 'Statement[].Action (dynamodb:PartiQL*)',
        value: (found) =>
          policyStatements(found)
            .filter((statement) => statement.Effect === 'Allow')
            .flatMap((statement) => list(statement.Action).map(String))
            .filter((action) => /^dynamodb:(PartiQL|\*)/.test(action)),
        ok: (value) => list(value).length === 0,
      },
    ],
    'AUD-2': [
      {
        description: 'The audit archive keeps every object version under Object Lock in compliance mode',
        select: where(
          ofType('AWS::S3::Bucket'),
          (found) => isTrue(props(found).ObjectLockEnabled) && found.stack.name.endsWith('-platform'),
        ),
        property: 'ObjectLockConfiguration.Rule.DefaultRetention',
        value: (found) => at(props(found), 'ObjectLockConfiguration.Rule.DefaultRetention'),
        ok: (value) => (value as Json | undefined)?.Mode === 'COMPLIANCE',
      },
      {
        description: 'No IAM statement allows updating or deleting audit entries',
        select: ofType('AWS::IAM::Role', 'AWS::IAM::Policy'),
        property: 'Statement[] on the audit table: UpdateItem / DeleteItem',
        value: (found) =>
          policyStatements(found)
            .filter((statement) => statement.Effect === 'Allow' && referencesAuditTable(found, statement))
            .flatMap((statement) => list(statement.Action).map(String))
            .filter((action) => /^dynamodb:(UpdateItem|DeleteItem|BatchWriteItem|\*)$/.test(action)),
        ok: (value) => list(value).length === 0,
      },
    ],
    'AUD-3': [
      {
        description: 'Checkpoints are signed by an asymmetric KMS key (Ed25519, SIGN_VERIFY)',
        select: where(
          ofType('AWS::KMS::Key'),
          (found) => defined(props(found).KeySpec) && props(found).KeySpec !== 'SYMMETRIC_DEFAULT',
        ),
        property: 'KeySpec, KeyUsage',
        value: (found) => ({ KeySpec: props(found).KeySpec, KeyUsage: props(found).KeyUsage }),
        ok: (value) =>
          (value as Json).KeySpec === 'ECC_NIST_EDWARDS25519' && (value as Json).KeyUsage === 'SIGN_VERIFY',
      },
      {
        description: 'A schedule runs the checkpoint signer',
        select: where(ofType('AWS::Events::Rule'), (found) => defined(props(found).ScheduleExpression)),
        property: 'ScheduleExpression',
        value: (found) => props(found).ScheduleExpression,
        ok: (value) => /^rate\(|^cron\(/.test(String(value)),
      },
    ],
    'AUD-5': [
      {
        description: 'Every alarm notifies a topic',
        select: ofType('AWS::CloudWatch::Alarm'),
        property: 'AlarmActions',
        value: (found) => props(found).AlarmActions,
        ok: (value) => list(value).length > 0,
      },
    ],
    'INF-1': [
      {
        description: 'Every bucket blocks all public access',
        select: ofType('AWS::S3::Bucket'),
        property: 'PublicAccessBlockConfiguration',
        value: (found) => props(found).PublicAccessBlockConfiguration,
        ok: (value) => {
          const block = (value ?? {}) as Json;
          return ['BlockPublicAcls', 'BlockPublicPolicy', 'IgnorePublicAcls', 'RestrictPublicBuckets'].every(
            (key) => isTrue(block[key]),
          );
        },
      },
      {
        description: 'No table has a resource policy open to everyone (IAM-only access)',
        select: ofType('AWS::DynamoDB::GlobalTable'),
        property: 'Replicas[].ResourcePolicy',
        value: (found) => at(props(found), 'Replicas[].ResourcePolicy'),
        ok: (value) => !JSON.stringify(value ?? null).includes('"Principal":"*"'),
      },
    ],
    'INF-2': [
      {
        description: 'No IAM statement allows action * on resource *',
        select: ofType('AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy'),
        property: 'Statement[] Allow * on *',
        value: (found) =>
          policyStatements(found).filter(
            (statement) =>
              statement.Effect === 'Allow' &&
              list(statement.Action).includes('*') &&
              list(statement.Resource).includes('*'),
          ).length,
        ok: (value) => value === 0,
      },
      {
        description:
          'No role has an AWS managed policy, except AWS service roles (service-role/ policies) whose AwsSolutions-IAM4 acknowledgement gives a reason',
        select: ofType('AWS::IAM::Role'),
        property: 'ManagedPolicyArns',
        value: (found) => props(found).ManagedPolicyArns,
        ok: (value, found) => {
          const arns = list(value).map((arn) => JSON.stringify(arn));
          if (arns.length === 0) return true;
          const acknowledged = JSON.stringify(found.resource.Metadata?.cdk_nag ?? {}).includes(
            'AwsSolutions-IAM4',
          );
          return acknowledged && arns.every((arn) => arn.includes(':iam::aws:policy/service-role/'));
        },
      },
    ],
    'INF-3': [
      {
        description: 'Every stack has an explicit account and an EU region',
        select: stacksThemselves,
        property: 'account, region',
        value: (found) => props(found),
        ok: (value) =>
          /^\d{12}$/.test(String((value as Json).account)) && euRegion.test(String((value as Json).region)),
      },
    ],
    'INF-5': [
      {
        description: 'Each stage has its own platform and DR stacks, and its own keys',
        select: where(
          stacksThemselves,
          (found) =>
            /^strongroom-[a-z0-9-]+-(platform|dr)$/.test(found.stack.name) &&
            !found.stack.name.startsWith('strongroom-baseline'),
        ),
        property: 'key aliases of the stack',
        value: (found) =>
          Object.values(found.stack.resources)
            .filter((resource) => resource.Type === 'AWS::KMS::Alias')
            .map((resource) => String(resource.Properties?.AliasName)),
        ok: (value, found) => {
          const stage = /^strongroom-([a-z0-9-]+)-(platform|dr)$/.exec(found.stack.name)?.[1];
          return (
            list(value).length > 0 &&
            list(value).every((alias) => String(alias).startsWith(`alias/strongroom/${stage}/`))
          );
        },
      },
    ],
    'INF-4': [
      {
        description: 'A web ACL with AWS managed rule groups and a rate-based rule',
        select: ofType('AWS::WAFv2::WebACL'),
        property: 'Rules[].Statement (managed groups, rate-based)',
        value: (found) =>
          list(at(props(found), 'Rules[].Statement')).map((statement) =>
            (statement as Json).ManagedRuleGroupStatement
              ? String(at(statement, 'ManagedRuleGroupStatement.Name'))
              : Object.keys(statement as Json)[0],
          ),
        ok: (value) =>
          list(value).includes('RateBasedStatement') &&
          list(value).some((name) => String(name).startsWith('AWSManagedRules')),
      },
      {
        description: 'The web ACL is associated with the API stage',
        select: ofType('AWS::WAFv2::WebACLAssociation'),
        property: 'ResourceArn',
        value: (found) => props(found).ResourceArn,
        ok: defined,
      },
    ],
    'INF-6': [
      {
        description:
          'A multi-region trail with log file validation, KMS encryption and data events on tables and objects',
        select: ofType('AWS::CloudTrail::Trail'),
        property: 'IsMultiRegionTrail, EnableLogFileValidation, KMSKeyId, data event types',
        value: (found) => ({
          IsMultiRegionTrail: props(found).IsMultiRegionTrail,
          EnableLogFileValidation: props(found).EnableLogFileValidation,
          KMSKeyId: props(found).KMSKeyId,
          data: list(at(props(found), 'AdvancedEventSelectors[].FieldSelectors'))
            .flatMap((selectors) => list(selectors))
            .filter((selector) => (selector as Json).Field === 'resources.type')
            .flatMap((selector) => list((selector as Json).Equals)),
        }),
        ok: (value) => {
          const trail = value as Json;
          return (
            isTrue(trail.IsMultiRegionTrail) &&
            isTrue(trail.EnableLogFileValidation) &&
            defined(trail.KMSKeyId) &&
            list(trail.data).includes('AWS::DynamoDB::Table') &&
            list(trail.data).includes('AWS::S3::Object')
          );
        },
      },
      {
        description: 'GuardDuty is enabled in every baseline region',
        select: ofType('AWS::GuardDuty::Detector'),
        property: 'Enable',
        value: (found) => props(found).Enable,
        ok: isTrue,
      },
      {
        description: 'Security Hub runs the AWS Foundational Security Best Practices standard',
        select: ofType('AWS::SecurityHub::Standard'),
        property: 'StandardsArn',
        value: (found) => props(found).StandardsArn,
        ok: (value) => /standards\/aws-foundational-security-best-practices\/v\/1\.0\.0$/.test(String(value)),
      },
    ],
    'INF-7': [
      {
        description:
          'Functions of a stage with a private network run in its subnets, or carry the reason they stay outside',
        select: where(ofType('AWS::Lambda::Function'), (found) =>
          Object.values(found.stack.resources).some((resource) => resource.Type === 'AWS::EC2::VPC'),
        ),
        property: 'VpcConfig.SubnetIds, Metadata.strongroom:outsidePrivateNetwork',
        value: (found) =>
          at(props(found), 'VpcConfig.SubnetIds') ??
          found.resource.Metadata?.['strongroom:outsidePrivateNetwork'],
        ok: (value) => (typeof value === 'string' ? value.length > 0 : list(value).length > 0),
      },
      {
        description: 'Every VPC endpoint has a policy of its own statements',
        select: ofType('AWS::EC2::VPCEndpoint'),
        property: 'PolicyDocument.Statement',
        value: (found) => at(props(found), 'PolicyDocument.Statement'),
        ok: (value) => list(value).length > 0,
      },
      {
        description: 'No internet or NAT gateway',
        select: ofType(
          'AWS::EC2::InternetGateway',
          'AWS::EC2::NatGateway',
          'AWS::EC2::EgressOnlyInternetGateway',
        ),
        property: 'Type',
        value: (found) => found.resource.Type,
        ok: () => false,
        required: false,
      },
    ],
    'INF-8': [
      {
        description: 'A deployment pipeline',
        select: ofType('AWS::CodePipeline::Pipeline'),
        property: 'Stages[].Name',
        value: (found) => at(props(found), 'Stages[].Name'),
        ok: defined,
      },
    ],
    'BAK-1': [
      {
        description: 'Every table: point-in-time recovery in every replica, deletion protection, RETAIN',
        select: ofType('AWS::DynamoDB::GlobalTable'),
        property: 'Replicas[].PointInTimeRecoverySpecification, DeletionProtectionEnabled, DeletionPolicy',
        value: (found) => ({
          pitr: at(props(found), 'Replicas[].PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled'),
          protection: at(props(found), 'Replicas[].DeletionProtectionEnabled'),
          DeletionPolicy: found.resource.DeletionPolicy,
        }),
        ok: (value, found) => {
          const { pitr, protection } = value as Json;
          return (
            list(pitr).length > 0 &&
            list(pitr).every(isTrue) &&
            list(protection).every(isTrue) &&
            retained(found)
          );
        },
      },
      {
        description:
          'Every other stateful resource (bucket, key, log group, vault, user pool) is retained on stack deletion',
        select: ofType(
          'AWS::S3::Bucket',
          'AWS::KMS::Key',
          'AWS::Logs::LogGroup',
          'AWS::Backup::BackupVault',
          'AWS::Cognito::UserPool',
        ),
        property: 'DeletionPolicy / UpdateReplacePolicy',
        value: (found) =>
          `${found.resource.DeletionPolicy ?? 'Delete'} / ${found.resource.UpdateReplacePolicy ?? 'Delete'}`,
        ok: (_value, found) => retained(found),
      },
    ],
    'BAK-2': [
      {
        description: 'A daily backup plan',
        select: ofType('AWS::Backup::BackupPlan'),
        property: 'BackupPlan.BackupPlanRule[].ScheduleExpression',
        value: (found) => at(props(found), 'BackupPlan.BackupPlanRule[].ScheduleExpression'),
        ok: defined,
      },
    ],
    'BAK-3': [
      {
        description: 'A restore testing plan',
        select: ofType('AWS::Backup::RestoreTestingPlan'),
        property: 'ScheduleExpression',
        value: (found) => props(found).ScheduleExpression,
        ok: defined,
      },
    ],
    'LOG-1': [
      {
        description: 'API access logs on every stage',
        select: ofType('AWS::ApiGateway::Stage'),
        property: 'AccessLogSetting.DestinationArn',
        value: (found) => at(props(found), 'AccessLogSetting.DestinationArn'),
        ok: defined,
      },
    ],
    'LOG-2': [
      {
        description: 'Every log group keeps its class retention: 6, 12 or 36 months',
        select: ofType('AWS::Logs::LogGroup'),
        property: 'RetentionInDays',
        value: (found) => props(found).RetentionInDays,
        ok: (value) => [180, 365, 1096].includes(Number(value)),
      },
      {
        description: 'Log buckets expire objects by lifecycle',
        select: where(ofType('AWS::S3::Bucket'), (found) =>
          logTargets.has(`${found.stack.name}/${found.id}`),
        ),
        property: 'LifecycleConfiguration.Rules[].ExpirationInDays',
        value: (found) => at(props(found), 'LifecycleConfiguration.Rules[].ExpirationInDays'),
        ok: (value) => list(value).some((days) => Number(days) > 0),
      },
    ],
    'INC-1': [
      {
        description: 'Incident topics, encrypted',
        select: where(ofType('AWS::SNS::Topic'), (found) =>
          String(props(found).TopicName ?? '').endsWith('-incidents'),
        ),
        property: 'TopicName, KmsMasterKeyId',
        value: (found) => ({
          TopicName: props(found).TopicName,
          KmsMasterKeyId: props(found).KmsMasterKeyId,
        }),
        ok: (value) => defined((value as Json).KmsMasterKeyId),
      },
      {
        description: 'Security alarms and findings rules notify an incident topic',
        select: (stacks) => [
          ...ofType('AWS::CloudWatch::Alarm')(stacks),
          ...where(ofType('AWS::Events::Rule'), (found) =>
            list(at(props(found), 'EventPattern.source')).some((source) =>
              ['aws.guardduty', 'aws.securityhub'].includes(String(source)),
            ),
          )(stacks),
        ],
        property: 'AlarmActions / Targets[].Arn',
        value: (found) => props(found).AlarmActions ?? at(props(found), 'Targets[].Arn'),
        ok: (value, found) =>
          list(value).some((target) => {
            const id = (target as Json).Ref;
            return typeof id === 'string' && found.stack.resources[id]?.Type === 'AWS::SNS::Topic';
          }),
      },
    ],
    'VUL-1': [
      {
        description: "security.txt's Expires is computed at synthesis and is less than a year away",
        select: where(ofType('AWS::Lambda::Function'), (found) =>
          defined(at(props(found), 'Environment.Variables.SECURITY_TXT_EXPIRES')),
        ),
        property: 'Environment.Variables.SECURITY_TXT_EXPIRES',
        value: (found) => at(props(found), 'Environment.Variables.SECURITY_TXT_EXPIRES'),
        ok: (value) => {
          const days = (Date.parse(String(value)) - Date.now()) / 86_400_000;
          return days > 0 && days < 366;
        },
      },
    ],
    'API-2': [
      {
        description: 'Every API Gateway response carries the security headers',
        select: ofType('AWS::ApiGateway::GatewayResponse'),
        property: 'ResponseParameters (security headers)',
        value: (found) =>
          securityHeaders.filter(
            (header) =>
              !defined(
                (props(found).ResponseParameters as Json | undefined)?.[`gatewayresponse.header.${header}`],
              ),
          ),
        ok: (value) => list(value).length === 0,
      },
    ],
    'API-4': [
      {
        description: 'No wildcard origin in CORS responses',
        select: ofType('AWS::ApiGateway::Method', 'AWS::ApiGateway::GatewayResponse'),
        property: 'Access-Control-Allow-Origin',
        value: (found) =>
          (JSON.stringify(found.resource.Properties ?? {}).match(/Access-Control-Allow-Origin":"([^"]*)"/) ??
            [])[1],
        ok: (value) => value !== "'*'",
        required: false,
      },
    ],
    'API-5': [
      {
        description: "API Gateway's own responses are RFC 9457 problem details",
        select: ofType('AWS::ApiGateway::GatewayResponse'),
        property: 'ResponseParameters Content-Type',
        value: (found) =>
          (props(found).ResponseParameters as Json | undefined)?.['gatewayresponse.header.Content-Type'],
        ok: (value) => String(value).includes('application/problem+json'),
      },
      {
        description: 'WAF blocks (the WAF_FILTERED gateway response) are problem details too',
        select: where(
          ofType('AWS::ApiGateway::GatewayResponse'),
          (found) => props(found).ResponseType === 'WAF_FILTERED',
        ),
        property: 'ResponseType, ResponseParameters Content-Type',
        value: (found) =>
          (props(found).ResponseParameters as Json | undefined)?.['gatewayresponse.header.Content-Type'],
        ok: (value) => String(value).includes('application/problem+json'),
      },
    ],
  };
  const results = new Map<string, CheckResult[]>();
  for (const [id, list] of Object.entries(checks))
    results.set(
      id,
      list.map((check) => run(check, stacks)),
    );
  return results;
}

/** Methods of the routes declared public in shared/http/routes.ts (no authorizer by design). */
function isPublicMethod(found: Found): boolean {
  const path = constructPathOf(found.resource) ?? '';
  return (
    props(found).AuthorizationType === 'NONE' &&
    routes.some((route) => route.permission === 'public' && path.includes(`${route.path}/${route.method}/`))
  );
}

function referencesAuditTable(found: Found, statement: Statement): boolean {
  const text = JSON.stringify(statement.Resource ?? '');
  return Object.entries(found.stack.resources).some(
    ([id, resource]) =>
      resource.Type === 'AWS::DynamoDB::GlobalTable' &&
      /-audit$/.test(String(resource.Properties?.TableName ?? '')) &&
      text.includes(`"${id}"`),
  );
}
