/**
 * What a security reviewer checks in the synthesized CloudFormation. One synthesis of the
 * whole app (test/infra/template.ts) serves every test here.
 */
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { NIST80053R5Checks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { managedRuleGroups } from '#infra/constructs/api-firewall';
import { gatewayPrefixLists } from '#infra/constructs/private-network';
import { keyAdministrationActions } from '#infra/constructs/strongroom-key';
import { publishJwksCommands, synthCommands } from '#infra/stacks/pipeline-stack';
import { crossTenantGroups, routeGroupTables } from '#infra/stacks/platform-stack';
import { securityTxtValidityDays } from '#shared/config/product';
import { gatewayProblems, problemContentType, problemTypeBase } from '#shared/http/problem';
import { routeGroups, routes } from '#shared/http/routes';
import { securityHeaders } from '#shared/http/security-headers';
import { tableIds, tableName, tables } from '#shared/store/tables';
import { cdkContext, onlyResourceOf, resourcesOf, type Synthesized, synthesized } from './template';

type Json = Record<string, unknown>;
type Statement = {
  Effect: string;
  Action: string | string[];
  Resource?: unknown;
  Condition?: Json;
  Principal?: unknown;
  NotAction?: unknown;
};

let s: Synthesized;
let stageNames: string[];

beforeAll(() => {
  s = synthesized();
  stageNames = s.config.stages.map((stage) => stage.name);
});

const platformOf = (stage: string): Template => s.template(`strongroom-${stage}-platform`);
const drOf = (stage: string): Template => s.template(`strongroom-${stage}-dr`);
const allTemplates = (): [string, Template][] => [...s.templates.entries()];
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const json = (value: unknown): string => JSON.stringify(value);

/** Every IAM policy statement of a template: inline role policies, policies and managed policies. */
function iamStatements(template: Template): { where: string; statement: Statement }[] {
  const found: { where: string; statement: Statement }[] = [];
  for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
    for (const policy of (role.Properties.Policies as { PolicyDocument: { Statement: Statement[] } }[]) ??
      []) {
      for (const statement of policy.PolicyDocument.Statement) found.push({ where: id, statement });
    }
  }
  for (const type of ['AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy']) {
    for (const [id, policy] of resourcesOf(template, type)) {
      const document = policy.Properties.PolicyDocument as { Statement: Statement[] };
      for (const statement of document.Statement) found.push({ where: id, statement });
    }
  }
  return found;
}

/** The logical id a `{ "Fn::GetAtt": [id, "Arn"] }` or `{ Ref: id }` points at. */
function referencedId(value: unknown): string | undefined {
  const object = value as { 'Fn::GetAtt'?: [string, string]; Ref?: string } | undefined;
  return object?.['Fn::GetAtt']?.[0] ?? object?.Ref;
}

/**
 * Functions that serve no route: the audit ledger's, the exports', the backups' and the data
 * lifecycle's jobs.
 */
const jobFunctions = [
  'checkpoint-signer',
  'audit-stream',
  'export-worker',
  'backup-settings',
  'restore-validation',
  'backup-freshness',
  'tenant-purge',
  'retention',
] as const;

/** Jobs that write security logs (LOG-2: 36 months). */
const securityLogJobs = jobFunctions.join('|');

/**
 * Actions IAM authorizes on no resource but `*`, each in a policy of its own with nothing
 * else: X-Ray writes, AWS Backup's account settings, and restore-job reporting.
 */
const noResourceLevelActionSets: readonly (readonly string[])[] = [
  ['xray:PutTelemetryRecords', 'xray:PutTraceSegments'],
  ['backup:DescribeRegionSettings', 'backup:UpdateRegionSettings'],
  ['backup:DescribeRestoreJob', 'backup:ListRestoreJobs', 'backup:PutRestoreValidationResult'],
  // The freshness check's copy jobs (BAK-2).
  ['backup:ListCopyJobs'],
  // Onboarding creates tenant keys: CreateKey has no resource, its conditions pin the tags (ENC-4).
  ['kms:CreateKey'],
  // Lambda's management of the network interfaces of a function in the private network (INF-7).
  ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'],
];

/** The only managed policies a role may carry: AWS Backup's own, on roles only AWS Backup assumes. */
const awsBackupServicePolicies = [
  'AWSBackupServiceRolePolicyForBackup',
  'AWSBackupServiceRolePolicyForRestores',
] as const;

/** Whether a key is asymmetric (a signing key), which KMS cannot rotate. */
function isAsymmetric(key: { Properties: Record<string, unknown> }): boolean {
  const spec = key.Properties.KeySpec;
  return spec !== undefined && spec !== 'SYMMETRIC_DEFAULT';
}

function keyIdByAlias(template: Template, alias: string): string {
  const match = resourcesOf(template, 'AWS::KMS::Alias').find(
    ([, resource]) => resource.Properties.AliasName === alias,
  );
  const keyId = referencedId(match?.[1].Properties.TargetKeyId);
  if (keyId === undefined) throw new Error(`no key with alias ${alias}`);
  return keyId;
}

describe('[INF-3][INF-5] stacks, regions and stages', () => {
  it('puts every stack in an EU region with an explicit account', () => {
    for (const stack of s.assembly.stacksRecursively) {
      expect(stack.environment.account, stack.stackName).toBe(cdkContext['strongroom:account']);
      expect(stack.environment.region, stack.stackName).toMatch(/^eu-(central|west|south|north)-\d$/);
    }
  });

  it('deploys each stage as its own platform stack in the primary region and DR stack in the second region', () => {
    const names = s.assembly.stacksRecursively.map((stack) => stack.stackName).sort();
    const expected = [
      'strongroom-account',
      ...stageNames.flatMap((stage) => [`strongroom-${stage}-platform`, `strongroom-${stage}-dr`]),
      // The account baseline (INF-6), on unless strongroom:accountBaseline is false.
      'strongroom-baseline',
      'strongroom-baseline-dr',
      // The pipeline (INF-8) and its artifact replication stack in the DR region.
      'strongroom-pipeline',
      'strongroom-pipeline-support-eu-west-1',
    ].sort();
    expect(names).toEqual(expected);
    expect(stageNames).toEqual(['dev', 'prod']);
    for (const stack of s.assembly.stacksRecursively) {
      const region = /-(dr|eu-west-1)$/.test(stack.stackName) ? 'eu-west-1' : 'eu-central-1';
      expect(stack.environment.region, stack.stackName).toBe(region);
    }
  });

  it('gives every stage its own keys, tables and pool: no stage references another', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const aliases = resourcesOf(template, 'AWS::KMS::Alias').map(([, alias]) => alias.Properties.AliasName);
      expect(aliases.sort()).toEqual(
        [
          `alias/strongroom/${stage}/function-environment`,
          `alias/strongroom/${stage}/logs`,
          `alias/strongroom/${stage}/tables`,
          `alias/strongroom/${stage}/messaging`,
          `alias/strongroom/${stage}/audit-archive`,
          `alias/strongroom/${stage}/exports`,
          `alias/strongroom/${stage}/audit-signing`,
          `alias/strongroom/${stage}/audit-signing/1`,
          `alias/strongroom/${stage}/cognito-jwks`,
          `alias/strongroom/${stage}/api-key-pepper`,
          `alias/strongroom/${stage}/backups`,
        ].sort(),
      );
      const names = resourcesOf(template, 'AWS::DynamoDB::GlobalTable').map(
        ([, table]) => table.Properties.TableName,
      );
      expect(names.sort()).toEqual(tableIds.map((id) => tableName(stage, id)).sort());
      const text = json(template.toJSON());
      for (const other of stageNames.filter((each) => each !== stage)) {
        expect(text).not.toContain(`strongroom-${other}-`);
        expect(text).not.toContain(`Fn::ImportValue`);
      }
    }
  });

  it('protects every stack from deletion', () => {
    for (const stack of s.assembly.stacksRecursively)
      expect(stack.terminationProtection, stack.stackName).toBe(true);
  });
});

describe('[ENC-2][ENC-4] customer-managed keys', () => {
  it('rotates every symmetric key yearly, keeps every key on stack deletion and waits 30 days before deleting it', () => {
    for (const [name, template] of allTemplates()) {
      for (const [id, key] of resourcesOf(template, 'AWS::KMS::Key')) {
        if (isAsymmetric(key)) {
          // KMS cannot rotate asymmetric keys: docs/runbooks/audit-signing-key-rotation.md is the procedure.
          expect(key.Properties.EnableKeyRotation, `${name}/${id}`).not.toBe(true);
        } else {
          expect(key.Properties.EnableKeyRotation, `${name}/${id}`).toBe(true);
          expect(key.Properties.RotationPeriodInDays, `${name}/${id}`).toBe(365);
        }
        expect(key.Properties.PendingWindowInDays, `${name}/${id}`).toBe(30);
        expect(key.DeletionPolicy, `${name}/${id}`).toBe('Retain');
        expect(key.UpdateReplacePolicy, `${name}/${id}`).toBe('Retain');
      }
    }
  });

  it('separates key administration from key use: admins cannot encrypt or decrypt, use goes through a service', () => {
    const cryptoActions = [
      'kms:Encrypt',
      'kms:Decrypt',
      'kms:ReEncryptFrom',
      'kms:ReEncryptTo',
      'kms:GenerateDataKey',
    ];
    for (const [name, template] of allTemplates()) {
      for (const [id, key] of resourcesOf(template, 'AWS::KMS::Key')) {
        const statements = (key.Properties.KeyPolicy as { Statement: Statement[] }).Statement;
        for (const statement of statements) {
          const actions = list(statement.Action);
          expect(actions, `${name}/${id}`).not.toContain('kms:*');
          for (const action of actions) expect(String(action), `${name}/${id}`).not.toMatch(/\*/);
          const usesKey = actions.some(
            (action) => cryptoActions.includes(String(action)) || action === 'kms:CreateGrant',
          );
          if (!usesKey) continue;
          // Use of the key is through a named AWS service, by CloudWatch Logs for this account's groups,
          // or by CloudWatch alarms of this account publishing to an encrypted topic.
          const viaService = (statement.Condition?.StringEquals as Json | undefined)?.['kms:ViaService'];
          const logsContext = (statement.Condition?.ArnLike as Json | undefined)?.[
            'kms:EncryptionContext:aws:logs:arn'
          ];
          const alarmsOfAccount =
            json(statement.Principal).includes('cloudwatch.amazonaws.com') &&
            (statement.Condition?.StringEquals as Json | undefined)?.['aws:SourceAccount'] !== undefined
              ? statement
              : undefined;
          // The account baseline (INF-6): CloudTrail for this account's trail, EventBridge rules of this
          // account publishing findings to an encrypted topic.
          const conditions = statement.Condition?.StringEquals as Json | undefined;
          const baselineService =
            /"(cloudtrail|events)\.amazonaws\.com"/.test(json(statement.Principal)) &&
            (conditions?.['aws:SourceArn'] ?? conditions?.['aws:SourceAccount']) !== undefined
              ? statement
              : undefined;
          expect(
            viaService ?? logsContext ?? alarmsOfAccount ?? baselineService,
            `${name}/${id} ${json(statement)}`,
          ).toBeDefined();
        }
        const admin = statements.find((statement) => statement.Effect === 'Allow' && !statement.Condition);
        // Rotation does not apply to asymmetric keys, so their administrators lack only those actions.
        const administration = keyAdministrationActions.filter(
          (action) => !isAsymmetric(key) || !/Rotat/.test(action),
        );
        expect(list(admin?.Action).sort()).toEqual([...administration].sort());
      }
    }
  });

  it('keeps separate keys for tables, logs and function environments in each stage', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const ids = ['tables', 'logs', 'function-environment'].map((purpose) =>
        keyIdByAlias(template, `alias/strongroom/${stage}/${purpose}`),
      );
      expect(new Set(ids).size).toBe(3);
    }
  });
});

describe('[ENC-2][BAK-1] tables', () => {
  it('builds every declared table with its CMK, PITR, deletion protection and RETAIN', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const tableKey = keyIdByAlias(template, `alias/strongroom/${stage}/tables`);
      const built = resourcesOf(template, 'AWS::DynamoDB::GlobalTable');
      expect(built).toHaveLength(tableIds.length);
      for (const [id, table] of built) {
        const where = `${stage}/${id}`;
        expect(table.DeletionPolicy, where).toBe('Retain');
        expect(table.UpdateReplacePolicy, where).toBe('Retain');
        expect(table.Properties.SSESpecification, where).toEqual({ SSEEnabled: true, SSEType: 'KMS' });
        const replicas = table.Properties.Replicas as Json[];
        expect(replicas, where).toHaveLength(1);
        const [replica] = replicas as [Json];
        expect(replica.Region, where).toBe('eu-central-1');
        expect(replica.DeletionProtectionEnabled, where).toBe(true);
        expect((replica.PointInTimeRecoverySpecification as Json).PointInTimeRecoveryEnabled, where).toBe(
          true,
        );
        expect(referencedId((replica.SSESpecification as Json).KMSMasterKeyId), where).toBe(tableKey);
      }
    }
  });

  it('declares keys, indexes, TTL and streams exactly as shared/store/tables.ts', () => {
    const template = platformOf('dev');
    for (const tableId of tableIds) {
      const definition = tables[tableId];
      const [, table] = resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
        ([, each]) => each.Properties.TableName === tableName('dev', tableId),
      ) ?? [undefined, undefined];
      const props = table?.Properties as Json;
      expect(props.KeySchema).toEqual([
        { AttributeName: definition.partitionKey, KeyType: 'HASH' },
        { AttributeName: definition.sortKey, KeyType: 'RANGE' },
      ]);
      const indexes = (props.GlobalSecondaryIndexes as Json[] | undefined) ?? [];
      expect(indexes.map((index) => index.IndexName)).toEqual(definition.indexes.map((index) => index.name));
      // ENC-3: an index of a sealed table projects every attribute, the seal included, so what
      // is found through it opens (the authorizer's byIdentity lookups of sealed members).
      if (definition.sealed) {
        for (const index of indexes) {
          expect(index.Projection, `${tableId}/${String(index.IndexName)}`).toEqual({
            ProjectionType: 'ALL',
          });
        }
      }
      expect((props.TimeToLiveSpecification as Json | undefined)?.AttributeName).toBe(
        definition.timeToLiveAttribute,
      );
      expect((props.StreamSpecification as Json | undefined)?.StreamViewType).toBe(
        definition.stream ? (definition.streamKeysOnly ? 'KEYS_ONLY' : 'NEW_IMAGE') : undefined,
      );
    }
  });
});

describe('[ENC-2][LOG-2] log groups', () => {
  it('encrypts every log group with the logs key and sets a retention', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const logKey = keyIdByAlias(template, `alias/strongroom/${stage}/logs`);
      const groups = resourcesOf(template, 'AWS::Logs::LogGroup');
      expect(groups.length).toBeGreaterThanOrEqual(6);
      for (const [id, group] of groups) {
        expect(referencedId(group.Properties.KmsKeyId), `${stage}/${id}`).toBe(logKey);
        expect(group.Properties.RetentionInDays, `${stage}/${id}`).toBeGreaterThanOrEqual(180);
        expect(group.DeletionPolicy, `${stage}/${id}`).toBe('Retain');
      }
    }
    for (const [name, template] of allTemplates()) {
      for (const [id, group] of resourcesOf(template, 'AWS::Logs::LogGroup')) {
        expect(group.Properties.KmsKeyId, `${name}/${id}`).toBeDefined();
        expect(group.Properties.RetentionInDays, `${name}/${id}`).toBeDefined();
      }
    }
  });

  it('keeps application logs 6 months, access logs 12 months and security logs 36 months', () => {
    const template = platformOf('prod');
    const retentionOf = (name: string | RegExp): unknown[] =>
      resourcesOf(template, 'AWS::Logs::LogGroup')
        .filter(([, group]) => {
          const groupName = json(group.Properties.LogGroupName);
          return typeof name === 'string' ? groupName === json(name) : name.test(groupName);
        })
        .map(([, group]) => group.Properties.RetentionInDays);
    expect(retentionOf('/strongroom/prod/api-access')).toEqual([365]);
    expect(retentionOf('aws-waf-logs-strongroom-prod')).toEqual([1096]);
    // One application log group per route group and one for the authorizer.
    expect(retentionOf(new RegExp(`/strongroom/prod/functions/(?!${securityLogJobs})`))).toEqual(
      Array(routeGroups.length + 1).fill(180),
    );
    // The audit ledger's and the backups' jobs write security logs (mismatches, failed signing, restore tests).
    expect(retentionOf(new RegExp(`/strongroom/prod/functions/(${securityLogJobs})"`))).toEqual(
      Array(jobFunctions.length).fill(1096),
    );
    expect(retentionOf(/API-Gateway-Execution-Logs_/)).toEqual([180]);
  });

  it('creates the execution log group before the stage, so API Gateway never creates an unencrypted one', () => {
    const template = platformOf('dev');
    const executionLogs = resourcesOf(template, 'AWS::Logs::LogGroup').filter(([, group]) =>
      json(group.Properties.LogGroupName).includes('API-Gateway-Execution-Logs_'),
    );
    expect(executionLogs).toHaveLength(1);
    expect(json(executionLogs[0]?.[1].Properties.LogGroupName)).toContain('/dev');
    const [, stage] = onlyResourceOf(template, 'AWS::ApiGateway::Stage');
    expect(list(stage.DependsOn)).toContain(executionLogs[0]?.[0]);
  });
});

describe('[INF-2][AZ-3][AUD-2] least privilege', () => {
  it('has no IAM statement with action * on resource *, and no Allow of a whole service', () => {
    for (const [name, template] of allTemplates()) {
      for (const { where, statement } of iamStatements(template)) {
        const actions = list(statement.Action).map(String);
        const resources = list(statement.Resource);
        expect(statement.NotAction, `${name}/${where}`).toBeUndefined();
        expect(actions.includes('*') && resources.includes('*'), `${name}/${where}`).toBe(false);
        for (const action of actions) expect(action, `${name}/${where}`).not.toMatch(/^\*$|:\*$/);
      }
    }
  });

  it('allows Resource * only for actions with no resource-level permissions (X-Ray writes, backup settings, restore jobs)', () => {
    for (const [name, template] of allTemplates()) {
      // CDK Pipelines' generated grants have a test of their own ([INF-8]).
      if (name.startsWith('strongroom-pipeline')) continue;
      for (const { where, statement } of iamStatements(template)) {
        if (!list(statement.Resource).includes('*')) continue;
        const actions = list(statement.Action).map(String).sort();
        expect(
          noResourceLevelActionSets.map((set) => json(set)),
          `${name}/${where}`,
        ).toContain(json(actions));
      }
    }
  });

  it("attaches no managed policy to any role, but AWS Backup's own to roles only AWS Backup assumes", () => {
    for (const [name, template] of allTemplates()) {
      for (const [id, role] of resourcesOf(template, 'AWS::IAM::Role')) {
        const managed = role.Properties.ManagedPolicyArns;
        if (managed === undefined) continue;
        expect(json(role.Properties.AssumeRolePolicyDocument), `${name}/${id}`).toContain(
          'backup.amazonaws.com',
        );
        expect(json(role.Properties.AssumeRolePolicyDocument), `${name}/${id}`).not.toContain(
          'lambda.amazonaws.com',
        );
        for (const arn of list(managed)) {
          expect(
            awsBackupServicePolicies.some((policy) =>
              json(arn).includes(`:iam::aws:policy/service-role/${policy}`),
            ),
            `${name}/${id}`,
          ).toBe(true);
        }
      }
    }
  });

  it('never allows PartiQL or table administration, and Scan only to the cross-tenant jobs on the tables they list', () => {
    for (const [name, template] of allTemplates()) {
      const tableOf = (id: string) =>
        resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(([, table]) =>
          String(table.Properties.TableName).endsWith(`-${id}`),
        )?.[0];
      // A cross-tenant job's own role (AZ-3): the signer lists tenants' heads, the purge the keys
      // of a terminated tenant's items and the registry, the retention job the registry.
      const scans: Readonly<Record<string, readonly (string | undefined)[]>> = {
        CheckpointSignerFunctionRole: [tableOf('auditHead')],
        TenantPurgeFunctionRole: ['data', 'idempotency', 'members', 'tenants'].map(tableOf),
        RetentionFunctionRole: [tableOf('tenants')],
      };
      for (const { where, statement } of iamStatements(template)) {
        for (const action of list(statement.Action).map(String)) {
          expect(action, `${name}/${where}`).not.toMatch(
            /^dynamodb:(PartiQL.*|ExecuteStatement|BatchExecuteStatement|ExecuteTransaction|DeleteTable|UpdateTable|CreateTable|Restore.*)$/,
          );
          if (action !== 'dynamodb:Scan') continue;
          // The restore-test validation reads the copies AWS Backup restores under names it picks (BAK-3).
          if (/^BackupsValidationFunctionRole/.test(where)) {
            expect(json(statement.Resource), `${name}/${where}`).toMatch(/:table\/\*"$/);
            expect(list(statement.Action).map(String).sort(), `${name}/${where}`).toEqual(
              ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'].sort(),
            );
            continue;
          }
          const job = Object.keys(scans).find((prefix) => where.startsWith(prefix));
          expect(job, `${name}/${where}: Scan`).toBeDefined();
          for (const resource of list(statement.Resource))
            expect(scans[job ?? ''], `${name}/${where}`).toContain(referencedId(resource));
        }
      }
    }
  });

  it('gives every function a role of its own', () => {
    for (const stage of stageNames) {
      const roles = resourcesOf(platformOf(stage), 'AWS::Lambda::Function').map(([, fn]) =>
        referencedId(fn.Properties.Role),
      );
      expect(roles.length).toBe(routeGroups.length + 1 + jobFunctions.length);
      expect(new Set(roles).size).toBe(roles.length);
    }
  });

  it('lets nobody update or delete audit entries: put, get and query only', () => {
    const template = platformOf('dev');
    const auditTable = resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
      ([, table]) => table.Properties.TableName === tableName('dev', 'audit'),
    )?.[0];
    expect(auditTable).toBeDefined();
    let checked = 0;
    for (const { where, statement } of iamStatements(template)) {
      if (!json(statement.Resource).includes(`"${auditTable}"`)) continue;
      // The stream consumer reads the table's change stream: records, never items.
      if (json(statement.Resource).includes('"StreamArn"')) {
        expect(list(statement.Resource).map(json), where).toEqual([
          json({ 'Fn::GetAtt': [auditTable, 'StreamArn'] }),
        ]);
        for (const action of list(statement.Action).map(String)) {
          expect(action, where).toMatch(
            /^dynamodb:(DescribeStream|GetRecords|GetShardIterator|ListStreams)$/,
          );
        }
        continue;
      }
      checked++;
      expect(list(statement.Action).sort(), where).toEqual([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
      ]);
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });

  it('scopes the tenant access role to the session tenant by LeadingKeys, with a Null condition', () => {
    const template = platformOf('dev');
    const tenantRoles = resourcesOf(template, 'AWS::IAM::Role').filter(([id]) =>
      id.startsWith('TenantAccess'),
    );
    expect(tenantRoles).toHaveLength(1);
    const [roleId, role] = tenantRoles[0] ?? ['', { Properties: {} }];
    const trust = (role.Properties.AssumeRolePolicyDocument as { Statement: Statement[] }).Statement;
    const allow = trust.find((statement) => statement.Effect === 'Allow');
    expect(list(allow?.Action).sort()).toEqual(['sts:AssumeRole', 'sts:TagSession']);
    expect(allow?.Condition?.['ForAllValues:StringEquals']).toEqual({ 'aws:TagKeys': ['tenantId'] });
    // Only the roles of route groups that touch tenant tables, and the export worker, may assume it.
    const sessionGroups = routeGroups.filter((group) => routeGroupTables[group].length > 0);
    expect((allow?.Condition?.ArnEquals as Json | undefined)?.['aws:PrincipalArn']).toHaveLength(
      sessionGroups.length + 1,
    );
    expect(
      trust.some((statement) => statement.Effect === 'Deny' && json(statement.Condition).includes('*#*')),
    ).toBe(true);

    const statements = iamStatements(template).filter(({ where }) => where.startsWith('TenantAccess'));
    const dataStatements = statements.filter(({ statement }) =>
      list(statement.Action).some((a) => String(a).startsWith('dynamodb:')),
    );
    expect(dataStatements).toHaveLength(tableIds.filter((id) => tables[id].scope === 'tenant').length);
    for (const { statement } of dataStatements) {
      expect(statement.Condition).toEqual({
        // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM per session
        'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['${aws:PrincipalTag/tenantId}#*'] },
        Null: { 'dynamodb:LeadingKeys': 'false' },
      });
      for (const resource of list(statement.Resource)) expect(json(resource)).not.toContain('/index/*');
      // The platform-scoped identity index never appears in a tenant session.
      expect(json(statement.Resource)).not.toContain('byIdentity');
    }
    expect(roleId).toMatch(/^TenantAccess/);
  });

  it('lets request handlers reach tenant data only through the tenant session: their own roles read only the key registry', () => {
    const template = platformOf('dev');
    const functions = new Map(
      resourcesOf(template, 'AWS::Lambda::Function').map(([, fn]) => [
        String(fn.Properties.FunctionName).replace(/^strongroom-dev-/, ''),
        fn,
      ]),
    );
    const [tenantRoleId] =
      resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.startsWith('TenantAccess')) ?? [];
    const registry = resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
      ([, table]) => table.Properties.TableName === 'strongroom-dev-tenants',
    )?.[0];
    for (const group of routeGroups.filter((each) => routeGroupTables[each].length > 0)) {
      const fn = functions.get(group);
      const variables = (fn?.Properties.Environment as { Variables: Json } | undefined)?.Variables ?? {};
      const roleId = referencedId(fn?.Properties.Role);
      const dynamo = iamStatements(template)
        .filter(({ where }) => where.startsWith(String(roleId).replace(/[0-9A-F]{8}$/, '')))
        .map(({ statement }) => statement)
        .filter((statement) =>
          list(statement.Action).some((action) => String(action).startsWith('dynamodb:')),
        );
      if (crossTenantGroups.includes(group)) {
        // Onboarding and termination cross tenants: roles of their own, their tables directly.
        expect(variables.TENANT_ACCESS_ROLE_ARN, group).toBeUndefined();
        expect(dynamo.length, group).toBeGreaterThan(0);
        continue;
      }
      expect(referencedId(variables.TENANT_ACCESS_ROLE_ARN), group).toBe(tenantRoleId);
      // Its own role: reads of the key registry and checks of the tenant's status, nothing else.
      for (const statement of dynamo) {
        for (const action of list(statement.Action)) {
          expect([
            'dynamodb:BatchGetItem',
            'dynamodb:GetItem',
            'dynamodb:Query',
            'dynamodb:ConditionCheckItem',
          ]).toContain(action);
        }
        expect(list(statement.Resource).map(referencedId), group).toEqual([registry]);
      }
    }
  });

  it('[AUTH-2][AUTH-5][AZ-5] gives the authorizer member reads, audit appends and only last-used and failure counters to write', () => {
    const template = platformOf('dev');
    const tables = new Map(
      resourcesOf(template, 'AWS::DynamoDB::GlobalTable').map(([id, table]) => [
        id,
        String(table.Properties.TableName),
      ]),
    );
    const tableOf = (resource: unknown): string => {
      const id =
        referencedId(resource) ??
        referencedId((resource as { 'Fn::Join'?: [string, unknown[]] })['Fn::Join']?.[1][0]);
      return (tables.get(id ?? '') ?? '').replace(/^strongroom-dev-/, '');
    };
    const dynamo = iamStatements(template)
      .filter(({ where }) => where.startsWith('AuthorizerRole'))
      .map(({ statement }) => statement)
      .filter((statement) => list(statement.Action).some((a) => String(a).startsWith('dynamodb:')));
    const byTable = new Map<string, Statement[]>();
    for (const statement of dynamo) {
      for (const resource of list(statement.Resource)) {
        byTable.set(tableOf(resource), [...(byTable.get(tableOf(resource)) ?? []), statement]);
      }
    }
    expect([...byTable.keys()].sort()).toEqual(['audit', 'auditHead', 'members', 'tenants']);
    // The key registry (ENC-3): reads of the wrapped data keys that open sealed members, nothing else.
    const registryActions = (byTable.get('tenants') ?? []).flatMap((statement) =>
      list(statement.Action).map(String),
    );
    expect([...new Set(registryActions)].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
    // Members: reads (the identity index for the caller's tenants, grants by tenant), and one write.
    const memberActions = (byTable.get('members') ?? []).flatMap((statement) =>
      list(statement.Action).map(String),
    );
    expect([...new Set(memberActions)].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    expect(json(byTable.get('members'))).toContain('/index/byIdentity');
    const update = (byTable.get('members') ?? []).find((statement) =>
      list(statement.Action).includes('dynamodb:UpdateItem'),
    );
    expect(list(update?.Action)).toEqual(['dynamodb:UpdateItem']);
    expect(update?.Condition).toEqual({
      'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk', 'lastUsedAt', 'failures', 'ttl'] },
      StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] },
    });
    // Audit entries of support access and failed key attempts: put, get and query only (AUD-2).
    const auditActions = (byTable.get('audit') ?? []).flatMap((statement) =>
      list(statement.Action).map(String),
    );
    expect([...new Set(auditActions)].sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    // No Scan, no PartiQL, no deletes of members or keys anywhere in its policy.
    const all = dynamo.flatMap((statement) => list(statement.Action).map(String));
    for (const action of ['dynamodb:Scan', 'dynamodb:PartiQLSelect', 'dynamodb:ExecuteStatement']) {
      expect(all).not.toContain(action);
    }
    expect(json(byTable.get('members'))).not.toContain('DeleteItem');
  });

  it('[AUTH-5][SEC-1][ENC-2] keeps the API-key pepper in Secrets Manager under its own key, read by the authorizer and the API-key routes only', () => {
    const template = platformOf('dev');
    const [secretId, secret] = resourcesOf(template, 'AWS::SecretsManager::Secret').find(
      ([, each]) => each.Properties.Name === 'strongroom/dev/api-key-pepper',
    ) ?? ['', { Properties: {} }];
    expect(secret.Properties).toMatchObject({
      Name: 'strongroom/dev/api-key-pepper',
      GenerateSecretString: {
        SecretStringTemplate: '{"current":"v1"}',
        GenerateStringKey: 'v1',
        PasswordLength: 64,
        ExcludePunctuation: true,
      },
    });
    expect(secret.DeletionPolicy).toBe('Retain');
    const keyId = referencedId(secret.Properties.KmsKeyId);
    const [, key] = resourcesOf(template, 'AWS::KMS::Key').find(([id]) => id === keyId) ?? [];
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    // Nothing of the value in the template: no SecretString, and no function environment holds it.
    expect(secret.Properties.SecretString).toBeUndefined();
    const readers = iamStatements(template)
      .filter(({ statement }) => list(statement.Action).includes('secretsmanager:GetSecretValue'))
      .filter(({ statement }) =>
        list(statement.Resource).some((resource) => referencedId(resource) === secretId),
      )
      .map(({ where }) => where.replace(/DefaultPolicy.*$/, ''));
    expect(readers.sort()).toEqual(['AuthorizerRole', 'RouteapikeysRole']);
    for (const [, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const variables = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      if (variables?.SECRET_ARNS === undefined) continue;
      expect(json(variables.SECRET_ARNS)).toContain(secretId);
      expect(json(variables.SECRET_ARNS)).toContain('api-key-pepper');
    }
  });

  it('[AUTH-1] lets only the members and onboarding routes invite people, on the stage pool only', () => {
    const template = platformOf('dev');
    const [poolId] = onlyResourceOf(template, 'AWS::Cognito::UserPool');
    const inviting = iamStatements(template).filter(({ statement }) =>
      list(statement.Action).some((action) => String(action).startsWith('cognito-idp:')),
    );
    expect(inviting.map(({ where }) => where.replace(/DefaultPolicy.*$/, '')).sort()).toEqual([
      'RoutemembersRole',
      'RoutetenantsRole',
    ]);
    for (const { statement } of inviting) {
      expect(list(statement.Action).sort()).toEqual([
        'cognito-idp:AdminCreateUser',
        'cognito-idp:AdminGetUser',
      ]);
      expect(referencedId(statement.Resource)).toBe(poolId);
    }
  });
});

describe('[ENC-1][API-5][AUTH-2][LOG-1] the REST API', () => {
  it('uses an enhanced TLS security policy with strict endpoint access on a regional endpoint', () => {
    for (const stage of stageNames) {
      platformOf(stage).hasResourceProperties('AWS::ApiGateway::RestApi', {
        SecurityPolicy: Match.stringLikeRegexp('^SecurityPolicy_TLS1[23]_'),
        EndpointAccessMode: 'STRICT',
        EndpointConfiguration: { Types: ['REGIONAL'] },
      });
    }
  });

  it('logs every request as JSON to the access log group, errors only in execution logs, no bodies', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const settings = s.config.stages.find((each) => each.name === stage);
      const [, apiStage] = onlyResourceOf(template, 'AWS::ApiGateway::Stage');
      const access = apiStage.Properties.AccessLogSetting as { DestinationArn: unknown; Format: string };
      const format = JSON.parse(access.Format) as Json;
      expect(format.requestId).toBe('$context.requestId');
      expect(format.tenantId).toBe('$context.authorizer.tenantId');
      expect(json(access.DestinationArn)).toContain('AccessLogs');
      expect(apiStage.Properties.TracingEnabled).toBe(true);
      expect(apiStage.Properties.MethodSettings).toEqual([
        {
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
          ThrottlingRateLimit: settings?.throttlingRateLimit,
          ThrottlingBurstLimit: settings?.throttlingBurstLimit,
        },
      ]);
    }
  });

  it('builds one method per route: public routes open, every other route behind the REQUEST authorizer', () => {
    const template = platformOf('dev');
    const methods = resourcesOf(template, 'AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    expect(methods).toHaveLength(routes.length);
    const [authorizerId] = onlyResourceOf(template, 'AWS::ApiGateway::Authorizer');
    const validators = resourcesOf(template, 'AWS::ApiGateway::RequestValidator');
    expect(validators).toHaveLength(1);
    for (const route of routes) {
      const method = methods.find(([, m]) => m.Properties.OperationName === route.id)?.[1].Properties as Json;
      expect(method, route.id).toBeDefined();
      expect(method.HttpMethod).toBe(route.method);
      expect(referencedId(method.RequestValidatorId)).toBe(validators[0]?.[0]);
      if (route.permission === 'public') {
        expect(method.AuthorizationType, route.id).toBe('NONE');
      } else {
        expect(method.AuthorizationType, route.id).toBe('CUSTOM');
        expect(referencedId(method.AuthorizerId), route.id).toBe(authorizerId);
      }
    }
  });

  it('configures the authorizer as REQUEST on the Authorization header with no gateway cache', () => {
    platformOf('dev').hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 0,
    });
  });

  it('answers every gateway error as problem details with the security headers', () => {
    const template = platformOf('dev');
    const responses = resourcesOf(template, 'AWS::ApiGateway::GatewayResponse');
    expect(responses).toHaveLength(Object.keys(gatewayProblems).length);
    for (const [type, expected] of Object.entries(gatewayProblems)) {
      const response = responses.find(([, each]) => each.Properties.ResponseType === type)?.[1]
        .Properties as Json;
      expect(response, type).toBeDefined();
      expect(response.StatusCode, type).toBe(String(expected.status));
      const headers = response.ResponseParameters as Record<string, string>;
      expect(headers['gatewayresponse.header.Content-Type'], type).toBe(`'${problemContentType}'`);
      for (const [name, value] of Object.entries(securityHeaders)) {
        expect(headers[`gatewayresponse.header.${name}`], `${type} ${name}`).toBe(`'${value}'`);
      }
      const template = (response.ResponseTemplates as Record<string, string>)['application/json'] ?? '';
      const body = JSON.parse(template) as Json;
      expect(body, type).toMatchObject({
        type: `${problemTypeBase}${expected.code}`,
        status: expected.status,
        code: expected.code,
        detail: expected.detail,
        requestId: '$context.requestId',
      });
    }
  });

  it('offers CORS preflight only for the configured origins', () => {
    const template = platformOf('prod');
    const preflights = resourcesOf(template, 'AWS::ApiGateway::Method').filter(
      ([, m]) => m.Properties.HttpMethod === 'OPTIONS',
    );
    expect(preflights.length).toBeGreaterThan(0);
    for (const [, preflight] of preflights) {
      const text = json(preflight.Properties.Integration);
      expect(text).toContain('https://app.strongroom.example');
      expect(text).not.toContain("'*'");
    }
  });
});

describe('[INF-4][AUTH-2] the web ACL', () => {
  it('runs the managed rule groups and a per-IP rate rule in front of the stage', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const limit = s.config.stages.find((each) => each.name === stage)?.wafRateLimitPerIp;
      const [aclId, acl] = onlyResourceOf(template, 'AWS::WAFv2::WebACL');
      expect(acl.Properties.Scope).toBe('REGIONAL');
      const rules = acl.Properties.Rules as Json[];
      const groupNames = rules
        .map((rule) => ((rule.Statement as Json).ManagedRuleGroupStatement as Json | undefined)?.Name)
        .filter((name) => name !== undefined);
      expect(groupNames.sort()).toEqual([...managedRuleGroups].sort());
      const rate = rules.find((rule) => (rule.Statement as Json).RateBasedStatement !== undefined);
      expect((rate?.Statement as Json | undefined)?.RateBasedStatement).toMatchObject({
        Limit: limit,
        AggregateKeyType: 'IP',
      });
      expect(rate?.Action).toEqual({ Block: {} });

      const [, association] = onlyResourceOf(template, 'AWS::WAFv2::WebACLAssociation');
      expect(referencedId(association.Properties.WebACLArn)).toBe(aclId);
      const [stageId] = onlyResourceOf(template, 'AWS::ApiGateway::Stage');
      const [restApiId] = onlyResourceOf(template, 'AWS::ApiGateway::RestApi');
      expect(json(association.Properties.ResourceArn)).toContain(restApiId);
      expect(json(association.Properties.ResourceArn)).toContain(`"/stages/",{"Ref":"${stageId}"}`);
    }
  });

  it('logs to a security log group with the authorization header redacted', () => {
    platformOf('dev').hasResourceProperties('AWS::WAFv2::LoggingConfiguration', {
      LogDestinationConfigs: [Match.stringLikeRegexp(':log-group:aws-waf-logs-strongroom-dev$')],
      RedactedFields: Match.arrayWith([{ SingleHeader: { Name: 'authorization' } }]),
    });
  });
});

describe('[AUTH-1][AUTH-2][AUTH-3][AUTH-6] the user pool', () => {
  it('is on the Plus plan with threat protection enforced for standard and custom auth', () => {
    platformOf('prod').hasResourceProperties('AWS::Cognito::UserPool', {
      UserPoolTier: 'PLUS',
      UserPoolAddOns: {
        AdvancedSecurityMode: 'ENFORCED',
        AdvancedSecurityAdditionalFlows: { CustomAuthMode: 'ENFORCED' },
      },
      DeletionProtection: 'ACTIVE',
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    });
  });

  it('requires MFA by TOTP, never SMS, and a 14-character password with every character class', () => {
    const [, pool] = onlyResourceOf(platformOf('prod'), 'AWS::Cognito::UserPool');
    expect(pool.Properties.MfaConfiguration).toBe('ON');
    expect(pool.Properties.EnabledMfas).toContain('SOFTWARE_TOKEN_MFA');
    expect(pool.Properties.EnabledMfas).not.toContain('SMS_MFA');
    expect((pool.Properties.Policies as Json).PasswordPolicy).toMatchObject({
      MinimumLength: 14,
      RequireLowercase: true,
      RequireUppercase: true,
      RequireNumbers: true,
      RequireSymbols: true,
    });
  });

  it('issues 60-minute access tokens to a public client that signs in with USER_PASSWORD_AUTH and revokes tokens', () => {
    const [, client] = onlyResourceOf(platformOf('prod'), 'AWS::Cognito::UserPoolClient');
    expect(client.Properties).toMatchObject({
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      TokenValidityUnits: { AccessToken: 'minutes', IdToken: 'minutes' },
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: false,
    });
    expect((client.Properties.ExplicitAuthFlows as string[]).sort()).toEqual([
      'ALLOW_REFRESH_TOKEN_AUTH',
      'ALLOW_USER_PASSWORD_AUTH',
    ]);
  });

  it('blocks compromised credentials on sign-in, sign-up and password change', () => {
    platformOf('prod').hasResourceProperties('AWS::Cognito::UserPoolRiskConfigurationAttachment', {
      ClientId: 'ALL',
      CompromisedCredentialsRiskConfiguration: {
        Actions: { EventAction: 'BLOCK' },
        EventFilter: ['SIGN_IN', 'PASSWORD_CHANGE', 'SIGN_UP'],
      },
      AccountTakeoverRiskConfiguration: { Actions: { HighAction: { EventAction: 'BLOCK', Notify: false } } },
    });
  });
});

describe('[ENC-2][VUL-1] functions', () => {
  it('runs every function on nodejs24.x, ARM64, with tracing and its environment encrypted under a CMK', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const functionKey = keyIdByAlias(template, `alias/strongroom/${stage}/function-environment`);
      const functions = resourcesOf(template, 'AWS::Lambda::Function');
      expect(functions).toHaveLength(routeGroups.length + 1 + jobFunctions.length);
      for (const [id, fn] of functions) {
        const props = fn.Properties as Json;
        expect(props.Runtime, id).toBe('nodejs24.x');
        expect(props.Architectures, id).toEqual(['arm64']);
        expect(referencedId(props.KmsKeyArn), id).toBe(functionKey);
        expect(props.TracingConfig, id).toEqual({ Mode: 'Active' });
        expect((props.LoggingConfig as Json).LogFormat, id).toBe('JSON');
        expect(referencedId((props.LoggingConfig as Json).LogGroup), id).toMatch(/Logs/);
      }
    }
  });

  it('passes the runtime configuration of shared/config/runtime.ts, and nothing secret', () => {
    const template = platformOf('prod');
    for (const [id, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
      const variables = ((fn.Properties as Json).Environment as { Variables: Json }).Variables;
      expect(variables.STRONGROOM_MODE, id).toBe('aws');
      expect(variables.STRONGROOM_STAGE, id).toBe('prod');
      expect(referencedId(variables.COGNITO_USER_POOL_ID), id).toMatch(/UserPool/);
      expect(referencedId(variables.COGNITO_CLIENT_ID), id).toMatch(/ApiClient/);
      expect(variables.ALLOWED_ORIGINS, id).toBe('https://app.strongroom.example');
      const expires = Date.parse(String(variables.SECURITY_TXT_EXPIRES));
      expect(expires - s.now.getTime(), id).toBe(securityTxtValidityDays * 86_400_000);
      for (const [name, value] of Object.entries(variables)) {
        // SECRET_ARNS names where secrets are (ARNs of Secrets Manager secrets), never what they are.
        if (name === 'SECRET_ARNS') {
          const refs = json(value).match(/"Ref":"[A-Za-z0-9]+"/g) ?? [];
          expect(refs.length, id).toBeGreaterThan(0);
          for (const ref of refs) {
            const secretId = ref.slice(7, -1);
            expect(template.toJSON().Resources[secretId]?.Type, id).toBe('AWS::SecretsManager::Secret');
          }
          continue;
        }
        expect(name, id).not.toMatch(/SECRET|PASSWORD|PEPPER|TOKEN|PRIVATE/);
      }
    }
  });

  it('bundles each route group, the authorizer and the audit jobs from their handler modules', () => {
    const template = platformOf('dev');
    const names = resourcesOf(template, 'AWS::Lambda::Function').map(
      ([, fn]) => (fn.Properties as Json).FunctionName,
    );
    expect(names.sort()).toEqual(
      ['authorizer', ...routeGroups, ...jobFunctions].map((group) => `strongroom-dev-${group}`).sort(),
    );
  });
});

describe('[ENC-5][BAK-2] the DR vault', () => {
  it('keeps a locked vault per stage in the second region under a key of that region', () => {
    for (const stage of stageNames) {
      const template = drOf(stage);
      const vaultKey = keyIdByAlias(template, `alias/strongroom/${stage}/dr-backups`);
      const [, vault] = onlyResourceOf(template, 'AWS::Backup::BackupVault');
      expect(vault.DeletionPolicy).toBe('Retain');
      expect(vault.Properties.BackupVaultName).toBe(`strongroom-${stage}-dr`);
      expect(referencedId(vault.Properties.EncryptionKeyArn)).toBe(vaultKey);
      expect((vault.Properties.LockConfiguration as Json).MinRetentionDays).toBe(35);
      expect(json(vault.Properties.AccessPolicy)).toContain('backup:DeleteRecoveryPoint');
      expect(json(template.toJSON())).toContain('backup.eu-west-1.amazonaws.com');
    }
  });
});

describe('[AUD-2][AUD-3][ENC-2][ENC-4] audit checkpoint signing keys', () => {
  it('creates an Ed25519 SIGN_VERIFY key per stage, kept on deletion with a 30-day window, under the audit-signing alias', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const keyId = keyIdByAlias(template, `alias/strongroom/${stage}/audit-signing`);
      expect(keyIdByAlias(template, `alias/strongroom/${stage}/audit-signing/1`)).toBe(keyId);
      const key = template.toJSON().Resources[keyId] as {
        Properties: Json;
        DeletionPolicy: string;
        UpdateReplacePolicy: string;
      };
      expect(key.Properties).toMatchObject({
        KeySpec: 'ECC_NIST_EDWARDS25519',
        KeyUsage: 'SIGN_VERIFY',
        PendingWindowInDays: 30,
      });
      expect(key.DeletionPolicy).toBe('Retain');
      expect(key.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('lets only the signer, the export worker and the purge sign and only they and the audit routes read the public key; admins do neither', () => {
    const template = platformOf('dev');
    const keyId = keyIdByAlias(template, 'alias/strongroom/dev/audit-signing');
    const statements = (
      (template.toJSON().Resources[keyId] as { Properties: Json }).Properties.KeyPolicy as {
        Statement: Statement[];
      }
    ).Statement;
    const roleOf = (prefix: string) =>
      resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.startsWith(prefix))?.[0];
    const signerRole = roleOf('CheckpointSignerFunctionRole');
    // Exports sign too (DESIGN.md): each tenant export's audit bundle ends at a checkpoint signed for it.
    const exportWorkerRole = roleOf('ExportWorkerFunctionRole');
    // The purge signs the final checkpoint of a purged tenant's log (DAT-2).
    const purgeRole = roleOf('TenantPurgeFunctionRole');
    const auditRouteRole = roleOf('RouteauditRole');
    const principalsOf = (action: string) => {
      const found = statements.filter((statement) => list(statement.Action).includes(action));
      expect(found, action).toHaveLength(1);
      const condition = found[0]?.Condition?.ArnEquals as Json;
      return list(condition['aws:PrincipalArn']).map(referencedId).sort();
    };
    expect(principalsOf('kms:Sign')).toEqual([signerRole, exportWorkerRole, purgeRole].sort());
    expect(principalsOf('kms:GetPublicKey')).toEqual(
      [signerRole, exportWorkerRole, purgeRole, auditRouteRole].sort(),
    );
    const admin = statements.find((statement) => !statement.Condition);
    expect(list(admin?.Action)).not.toContain('kms:Sign');
    expect(list(admin?.Action)).not.toContain('kms:GetPublicKey');

    // The IAM side: Sign appears on the signer's, the export worker's and the purge's roles only, on that key only.
    const signing = iamStatements(template).filter(({ statement }) =>
      list(statement.Action).includes('kms:Sign'),
    );
    expect(signing.map(({ where }) => where.replace(/DefaultPolicy.*$/, '')).sort()).toEqual([
      'CheckpointSignerFunctionRole',
      'ExportWorkerFunctionRole',
      'TenantPurgeFunctionRole',
    ]);
    for (const { statement } of signing) expect(list(statement.Resource).map(referencedId)).toEqual([keyId]);
    const publicKeyReaders = iamStatements(template)
      .filter(({ statement }) => list(statement.Action).includes('kms:GetPublicKey'))
      .map(({ where }) => where.replace(/DefaultPolicy.*$/, ''))
      .sort();
    expect(publicKeyReaders).toEqual([
      'CheckpointSignerFunctionRole',
      'ExportWorkerFunctionRole',
      'RouteauditRole',
      'TenantPurgeFunctionRole',
    ]);
  });

  it('passes AUDIT_SIGNING_KEYS (current first, with signed-note key names) to the audit routes, the signer, the export worker and the purge only', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const keyId = keyIdByAlias(template, `alias/strongroom/${stage}/audit-signing`);
      const withKeys = resourcesOf(template, 'AWS::Lambda::Function')
        .filter(([, fn]) => json(fn.Properties.Environment).includes('AUDIT_SIGNING_KEYS'))
        .map(([, fn]) => {
          const variables = (fn.Properties.Environment as { Variables: Json }).Variables;
          const value = json(variables.AUDIT_SIGNING_KEYS);
          expect(value).toContain(`\\"keyName\\":\\"strongroom.dev/${stage}/audit-signing/1\\"`);
          expect(value).toContain(`"Fn::GetAtt":["${keyId}","Arn"]`);
          return fn.Properties.FunctionName;
        });
      expect(withKeys.sort()).toEqual([
        `strongroom-${stage}-audit`,
        `strongroom-${stage}-checkpoint-signer`,
        `strongroom-${stage}-export-worker`,
        `strongroom-${stage}-tenant-purge`,
      ]);
    }
  });
});

describe('[AUD-3][AUD-5] the scheduled checkpoint signer', () => {
  it('runs every 5 minutes from an EventBridge rule', () => {
    const template = platformOf('prod');
    const signer = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Properties.FunctionName === 'strongroom-prod-checkpoint-signer',
    )?.[0];
    const [, rule] = resourcesOf(template, 'AWS::Events::Rule').find(
      ([, each]) => each.Properties.Name === 'strongroom-prod-checkpoint-signer',
    ) ?? ['', { Properties: {} }];
    expect(rule.Properties.ScheduleExpression).toBe('rate(5 minutes)');
    expect(rule.Properties.State).toBe('ENABLED');
    const targets = rule.Properties.Targets as Json[];
    expect(targets.map((target) => referencedId(target.Arn))).toEqual([signer]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: { 'Fn::GetAtt': [signer, 'Arn'] },
    });
  });

  it('lets the signer scan only the head table and reach the audit tables with item actions (no update or delete of entries)', () => {
    const template = platformOf('dev');
    const tableId = (id: string) =>
      resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
        ([, table]) => table.Properties.TableName === tableName('dev', id as never),
      )?.[0];
    const statements = iamStatements(template).filter(({ where }) =>
      where.startsWith('CheckpointSignerFunctionRole'),
    );
    const dynamo = statements.filter(({ statement }) =>
      list(statement.Action).some((action) => String(action).startsWith('dynamodb:')),
    );
    const byTable = new Map(
      dynamo.map(({ statement }) => [referencedId(list(statement.Resource)[0]), statement]),
    );
    expect([...byTable.keys()].sort()).toEqual([tableId('audit'), tableId('auditHead')].sort());
    expect(list(byTable.get(tableId('audit'))?.Action).sort()).toEqual([
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
    ]);
    expect(list(byTable.get(tableId('auditHead'))?.Action)).toContain('dynamodb:Scan');
  });

  it('alarms on stale checkpoints, also when the signer stops reporting', () => {
    const template = platformOf('prod');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'strongroom-prod-audit-checkpoints-stale',
      Namespace: 'Strongroom/prod',
      MetricName: 'OldestUnsignedEntryAgeSeconds',
      Dimensions: [{ Name: 'service', Value: 'checkpoint-signer' }],
      TreatMissingData: 'breaching',
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });
});

describe('[AUD-2][ENC-1][ENC-2][INF-1][LOG-2] the audit archive', () => {
  const archiveOf = (stage: string) => {
    const template = platformOf(stage);
    const found = resourcesOf(template, 'AWS::S3::Bucket').find(
      ([, bucket]) => (bucket.Properties.ObjectLockEnabled as boolean | undefined) === true,
    );
    if (!found) throw new Error(`no object lock bucket in ${stage}`);
    return { template, id: found[0], bucket: found[1] };
  };

  it('locks every object in compliance mode for the stage retention, versioned and kept on stack deletion', () => {
    for (const stage of stageNames) {
      const { bucket } = archiveOf(stage);
      const days = s.config.stages.find((each) => each.name === stage)?.auditArchiveRetentionDays;
      expect(days).toBe(stage === 'prod' ? 3650 : 1);
      expect(bucket.Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } },
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
    }
  });

  it('encrypts with its own CMK, blocks all public access, refuses plain HTTP and logs access to a log bucket', () => {
    for (const stage of stageNames) {
      const { template, id, bucket } = archiveOf(stage);
      const archiveKey = keyIdByAlias(template, `alias/strongroom/${stage}/audit-archive`);
      const [rule] = (bucket.Properties.BucketEncryption as { ServerSideEncryptionConfiguration: Json[] })
        .ServerSideEncryptionConfiguration as [Json];
      expect(rule.BucketKeyEnabled).toBe(true);
      expect((rule.ServerSideEncryptionByDefault as Json).SSEAlgorithm).toBe('aws:kms');
      expect(referencedId((rule.ServerSideEncryptionByDefault as Json).KMSMasterKeyID)).toBe(archiveKey);
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      const logging = bucket.Properties.LoggingConfiguration as Json;
      const logBucket = referencedId(logging.DestinationBucketName);
      expect(logBucket).toBeDefined();
      expect(logBucket).not.toBe(id);
      const policy = resourcesOf(template, 'AWS::S3::BucketPolicy').find(
        ([, each]) => referencedId(each.Properties.Bucket) === id,
      )?.[1];
      const statements =
        (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
      expect(
        statements.some(
          (statement) =>
            statement.Effect === 'Deny' &&
            json(statement.Condition) === json({ Bool: { 'aws:SecureTransport': 'false' } }),
        ),
      ).toBe(true);
      expect(
        statements.some(
          (statement) =>
            statement.Effect === 'Deny' && json(statement.Condition).includes('"s3:TlsVersion":1.2'),
        ),
      ).toBe(true);
    }
  });

  it('lets only the stream consumer put and get objects under tenants/, with no delete, retention or listing', () => {
    const { template, id } = archiveOf('dev');
    const onArchive = iamStatements(template).filter(
      ({ where, statement }) =>
        json(statement.Resource).includes(`"${id}"`) && !where.startsWith('AuditArchiveReplicationRole'),
    );
    expect(onArchive.map(({ where }) => where)).toEqual([expect.stringMatching(/^AuditStreamFunctionRole/)]);
    const statement = onArchive[0]?.statement;
    expect(list(statement?.Action).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(json(statement?.Resource)).toContain('"/tenants/*"');
  });
});

describe('[AUD-2][BAK-2][ENC-5] the audit archive replica in the DR region', () => {
  const account = cdkContext['strongroom:account'];
  const replicaName = (stage: string) => `strongroom-${stage}-audit-replica-${account}-eu-west-1`;
  const bucketWhere = (template: Template, matches: (bucket: { Properties: Json }) => boolean) => {
    const found = resourcesOf(template, 'AWS::S3::Bucket').find(([, bucket]) => matches(bucket));
    if (!found) throw new Error('no such bucket');
    return found[1];
  };

  it('replicates every object under tenants/ to the DR region, re-encrypted under that region\u2019s key, never a delete marker', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const archive = bucketWhere(template, (bucket) => bucket.Properties.ObjectLockEnabled === true);
      const replication = archive.Properties.ReplicationConfiguration as { Role: unknown; Rules: Json[] };
      expect(referencedId(replication.Role)).toMatch(/^AuditArchiveReplicationRole/);
      expect(replication.Rules).toEqual([
        expect.objectContaining({
          Status: 'Enabled',
          Priority: 1,
          Filter: { Prefix: 'tenants/' },
          DeleteMarkerReplication: { Status: 'Disabled' },
          SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
          Destination: expect.objectContaining({
            Bucket: `arn:aws:s3:::${replicaName(stage)}`,
            EncryptionConfiguration: {
              ReplicaKmsKeyID: `arn:aws:kms:eu-west-1:${account}:alias/strongroom/${stage}/audit-archive-replica`,
            },
            Metrics: { Status: 'Enabled' },
          }),
        }),
      ]);
    }
  });

  it('keeps the replica locked in compliance mode for the stage retention, under a DR-region CMK, kept on stack deletion', () => {
    for (const stage of stageNames) {
      const template = drOf(stage);
      const days = s.config.stages.find((each) => each.name === stage)?.auditArchiveRetentionDays;
      const replica = bucketWhere(template, (bucket) => bucket.Properties.BucketName === replicaName(stage));
      expect(replica.Properties.ObjectLockConfiguration).toEqual({
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: days } },
      });
      expect(replica.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(replica.DeletionPolicy).toBe('Retain');
      const [rule] = (replica.Properties.BucketEncryption as { ServerSideEncryptionConfiguration: Json[] })
        .ServerSideEncryptionConfiguration as [Json];
      expect(referencedId((rule.ServerSideEncryptionByDefault as Json).KMSMasterKeyID)).toBe(
        keyIdByAlias(template, `alias/strongroom/${stage}/audit-archive-replica`),
      );
      expect(replica.Properties.PublicAccessBlockConfiguration).toMatchObject({ BlockPublicPolicy: true });
      expect(replica.Properties.LoggingConfiguration).toBeDefined();
    }
  });

  it('replicates with a role that reads archive versions and writes replicas, deletes nothing, and uses each key only through S3 in its region', () => {
    const template = platformOf('prod');
    const statements = iamStatements(template)
      .filter(({ where }) => where.startsWith('AuditArchiveReplicationRole'))
      .map(({ statement }) => statement);
    const actions = statements.flatMap((statement) => list(statement.Action)).sort();
    expect(actions).toEqual(
      [
        'kms:Decrypt',
        'kms:Encrypt',
        'kms:GenerateDataKey',
        's3:GetObjectLegalHold',
        's3:GetObjectRetention',
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionTagging',
        's3:GetReplicationConfiguration',
        's3:ListBucket',
        's3:ReplicateObject',
        's3:ReplicateTags',
      ].sort(),
    );
    const writes = statements.find((statement) => list(statement.Action).includes('s3:ReplicateObject'));
    expect(writes?.Resource).toBe(`arn:aws:s3:::${replicaName('prod')}/tenants/*`);
    const encrypt = statements.find((statement) => list(statement.Action).includes('kms:Encrypt'));
    expect(encrypt?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' },
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': ['alias/strongroom/prod/audit-archive-replica'] },
    });
    const decrypt = statements.find((statement) => list(statement.Action).includes('kms:Decrypt'));
    expect(decrypt?.Condition).toEqual({
      StringEquals: { 'kms:ViaService': 's3.eu-central-1.amazonaws.com' },
    });
  });
});

describe('[DAT-1][ENC-2][INF-1][AZ-3] tenant exports', () => {
  const bucketOf = (stage: string) => {
    const template = platformOf(stage);
    const found = resourcesOf(template, 'AWS::S3::Bucket').find(
      ([, bucket]) =>
        json(bucket.Properties.BucketName).includes(`strongroom-${stage}-exports-`) &&
        !json(bucket.Properties.BucketName).includes('-exports-logs-'),
    );
    if (!found) throw new Error(`no exports bucket in ${stage}`);
    return { template, id: found[0], bucket: found[1] };
  };
  const roleId = (template: Template, prefix: string) =>
    resourcesOf(template, 'AWS::IAM::Role').find(([id]) => id.startsWith(prefix))?.[0];
  const must = <T>(value: T | undefined, what: string): T => {
    if (value === undefined) throw new Error(`no ${what}`);
    return value;
  };

  it('keeps exports under their own CMK, versioned, retained, expired after 7 days, TLS only, private and logged', () => {
    for (const stage of stageNames) {
      const { template, id, bucket } = bucketOf(stage);
      const exportKey = keyIdByAlias(template, `alias/strongroom/${stage}/exports`);
      const [rule] = (bucket.Properties.BucketEncryption as { ServerSideEncryptionConfiguration: Json[] })
        .ServerSideEncryptionConfiguration as [Json];
      expect(rule.BucketKeyEnabled).toBe(true);
      expect((rule.ServerSideEncryptionByDefault as Json).SSEAlgorithm).toBe('aws:kms');
      expect(referencedId((rule.ServerSideEncryptionByDefault as Json).KMSMasterKeyID)).toBe(exportKey);
      expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
      expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
      expect(bucket.DeletionPolicy).toBe('Retain');
      expect(bucket.UpdateReplacePolicy).toBe('Retain');
      const rules = (bucket.Properties.LifecycleConfiguration as { Rules: Json[] }).Rules;
      expect(rules).toContainEqual(
        expect.objectContaining({ Id: 'ExportsExpire', ExpirationInDays: 7, Status: 'Enabled' }),
      );
      const logBucket = referencedId((bucket.Properties.LoggingConfiguration as Json).DestinationBucketName);
      expect(logBucket).toBeDefined();
      expect(logBucket).not.toBe(id);
      const policy = resourcesOf(template, 'AWS::S3::BucketPolicy').find(
        ([, each]) => referencedId(each.Properties.Bucket) === id,
      )?.[1];
      const statements =
        (policy?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
      expect(
        statements.some(
          (statement) =>
            statement.Effect === 'Deny' &&
            json(statement.Condition) === json({ Bool: { 'aws:SecureTransport': 'false' } }),
        ),
      ).toBe(true);
      expect(
        statements.some(
          (statement) =>
            statement.Effect === 'Deny' && json(statement.Condition).includes('"s3:TlsVersion":1.2'),
        ),
      ).toBe(true);
    }
  });

  it('lets the worker only put under tenants/ and a tenant session only get its own tenant prefix', () => {
    const { template, id } = bucketOf('dev');
    const onBucket = iamStatements(template).filter(({ statement }) =>
      json(statement.Resource).includes(`"${id}"`),
    );
    const byRole = new Map(
      onBucket.map(({ where, statement }) => [where.replace(/DefaultPolicy.*$/, ''), statement]),
    );
    expect([...byRole.keys()].sort()).toEqual(['ExportWorkerFunctionRole', 'TenantAccessRole']);
    const worker = byRole.get('ExportWorkerFunctionRole');
    expect(list(worker?.Action)).toEqual(['s3:PutObject']);
    expect(json(worker?.Resource)).toContain('"/tenants/*"');
    const tenant = byRole.get('TenantAccessRole');
    expect(list(tenant?.Action)).toEqual(['s3:GetObject']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, resolved by IAM per session
    expect(json(tenant?.Resource)).toContain('/tenants/${aws:PrincipalTag/tenantId}/*');
  });

  it('starts the worker from the data table stream (keys only), filtered to inserts of export records', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const dataTable = must(
        resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
          ([, table]) => table.Properties.TableName === tableName(stage, 'data'),
        ),
        'data table',
      );
      expect((dataTable[1].Properties.StreamSpecification as Json).StreamViewType).toBe('KEYS_ONLY');
      const worker = must(
        resourcesOf(template, 'AWS::Lambda::Function').find(
          ([, fn]) => fn.Properties.FunctionName === `strongroom-${stage}-export-worker`,
        ),
        'export worker',
      );
      const [, mapping] = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').find(
        ([, each]) => referencedId(each.Properties.EventSourceArn) === dataTable[0],
      ) ?? ['', { Properties: {} }];
      expect(mapping.Properties).toMatchObject({
        FunctionName: { Ref: worker[0] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        MaximumRetryAttempts: 2,
      });
      const filters = (mapping.Properties.FilterCriteria as { Filters: { Pattern: string }[] }).Filters;
      expect(filters.map((filter) => JSON.parse(filter.Pattern))).toEqual([
        { eventName: ['INSERT'], dynamodb: { Keys: { sk: { S: [{ prefix: 'exp_' }] } } } },
      ]);
      const destination = (mapping.Properties.DestinationConfig as { OnFailure: { Destination: unknown } })
        .OnFailure.Destination;
      const [, queue] = resourcesOf(template, 'AWS::SQS::Queue').find(
        ([queueId]) => queueId === referencedId(destination),
      ) ?? ['', { Properties: {} }];
      expect(queue.Properties.KmsMasterKeyId).toBeDefined();
      const variables = (worker[1].Properties.Environment as { Variables: Json }).Variables;
      expect(referencedId(variables.EXPORTS_BUCKET)).toBe(bucketOf(stage).id);
      expect(referencedId(variables.TENANT_ACCESS_ROLE_ARN)).toBe(roleId(template, 'TenantAccessRole'));
      expect((worker[1].Properties as Json).Timeout).toBe(900);
    }
  });

  it('lets the worker use tenant keys only to make export data keys (and unwrap data keys), on this stage', () => {
    const template = platformOf('dev');
    const kmsOnTenantKeys = iamStatements(template).filter(
      ({ where, statement }) =>
        where.startsWith('ExportWorkerFunctionRole') && json(statement.Resource).includes(':key/*'),
    );
    expect(
      kmsOnTenantKeys
        .map(({ statement }) => [list(statement.Action).join(','), json(statement.Condition)])
        .sort(),
    ).toEqual(
      [
        [
          'kms:GenerateDataKey',
          json({
            StringEquals: {
              'aws:ResourceTag/strongroom:stage': 'dev',
              'kms:EncryptionContext:purpose': 'strongroom-tenant-export',
            },
          }),
        ],
        [
          'kms:Decrypt',
          json({
            StringEquals: {
              'aws:ResourceTag/strongroom:stage': 'dev',
              'kms:EncryptionContext:purpose': 'tenant-data-key',
            },
          }),
        ],
      ].sort(),
    );
  });

  it('gives the exports route its bucket name, and lets the export objects through the S3 endpoint of prod', () => {
    const { template, id } = bucketOf('prod');
    const route = must(
      resourcesOf(template, 'AWS::Lambda::Function').find(
        ([, fn]) => fn.Properties.FunctionName === 'strongroom-prod-exports',
      ),
      'exports route function',
    );
    const variables = (route[1].Properties.Environment as { Variables: Json }).Variables;
    expect(referencedId(variables.EXPORTS_BUCKET)).toBe(id);
    const s3Endpoint = must(
      resourcesOf(template, 'AWS::EC2::VPCEndpoint').find(([, endpoint]) =>
        json(endpoint.Properties.ServiceName).includes('.s3'),
      ),
      'S3 endpoint',
    );
    const statements = (
      s3Endpoint[1].Properties.PolicyDocument as { Statement: (Statement & { Sid: string })[] }
    ).Statement;
    const exports = statements.find((statement) => statement.Sid === 'ExportObjects');
    expect(list(exports?.Action).sort()).toEqual(['s3:GetObject', 's3:PutObject']);
    expect(json(exports?.Resource)).toContain(`"${id}"`);
    expect(json(exports?.Resource)).toContain('"/tenants/*"');
  });
});

describe('[AUD-2] the audit stream consumer', () => {
  it('reads the audit table stream with bisection, retries, partial batch responses and an encrypted failure queue', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const auditTable = resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
        ([, table]) => table.Properties.TableName === tableName(stage, 'audit'),
      )?.[0];
      const consumer = resourcesOf(template, 'AWS::Lambda::Function').find(
        ([, fn]) => fn.Properties.FunctionName === `strongroom-${stage}-audit-stream`,
      )?.[0];
      const [, mapping] = resourcesOf(template, 'AWS::Lambda::EventSourceMapping').find(
        ([, each]) => referencedId(each.Properties.EventSourceArn) === auditTable,
      ) ?? ['', { Properties: {} }];
      expect(mapping.Properties).toMatchObject({
        EventSourceArn: { 'Fn::GetAtt': [auditTable, 'StreamArn'] },
        FunctionName: { Ref: consumer },
        StartingPosition: 'TRIM_HORIZON',
        BisectBatchOnFunctionError: true,
        MaximumRetryAttempts: 10,
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        ParallelizationFactor: 1,
      });
      const queueId = referencedId(
        (mapping.Properties.DestinationConfig as { OnFailure: { Destination: unknown } }).OnFailure
          .Destination,
      );
      const [, queue] = resourcesOf(template, 'AWS::SQS::Queue').find(([id]) => id === queueId) ?? [
        '',
        { Properties: {} },
      ];
      expect(json(queue.Properties.QueueName)).toContain('audit-stream-dead-letters');
      expect(referencedId(queue.Properties.KmsMasterKeyId)).toBe(
        keyIdByAlias(template, `alias/strongroom/${stage}/messaging`),
      );
      const queuePolicy = resourcesOf(template, 'AWS::SQS::QueuePolicy')[0]?.[1];
      expect(json(queuePolicy?.Properties.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
      const consumerFunction = resourcesOf(template, 'AWS::Lambda::Function').find(([id]) => id === consumer);
      const env =
        (consumerFunction?.[1].Properties.Environment as { Variables: Json } | undefined)?.Variables ?? {};
      expect(referencedId(env.AUDIT_ARCHIVE_BUCKET)).toMatch(/^AuditArchiveBucket/);
    }
  });

  it('gives the consumer what folding needs and nothing that changes an entry', () => {
    const template = platformOf('dev');
    const actions = iamStatements(template)
      .filter(({ where }) => where.startsWith('AuditStreamFunctionRole'))
      .flatMap(({ statement }) => list(statement.Action).map(String));
    expect(actions).toEqual(
      expect.arrayContaining(['dynamodb:GetRecords', 'dynamodb:UpdateItem', 'sqs:SendMessage']),
    );
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('s3:DeleteObject');
    expect(actions.filter((action) => action.includes('*'))).toEqual([]);
  });
});

describe('[AUD-5][INC-1][ENC-2] security alarms and the incident topic', () => {
  it('encrypts the incident topic with a CMK, refuses plain HTTP and lets only this account\u2019s alarms publish', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const [topicId, topic] = onlyResourceOf(template, 'AWS::SNS::Topic');
      expect(topic.Properties.TopicName).toBe(`strongroom-${stage}-incidents`);
      expect(referencedId(topic.Properties.KmsMasterKeyId)).toBe(
        keyIdByAlias(template, `alias/strongroom/${stage}/messaging`),
      );
      const [, policy] = onlyResourceOf(template, 'AWS::SNS::TopicPolicy');
      expect(list(policy.Properties.Topics).map(referencedId)).toEqual([topicId]);
      const statements = (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
      expect(
        statements.some(
          (statement) => statement.Effect === 'Deny' && json(statement.Condition).includes('SecureTransport'),
        ),
      ).toBe(true);
      const publish = statements.find((statement) =>
        json(statement.Principal).includes('cloudwatch.amazonaws.com'),
      );
      expect(publish?.Condition).toMatchObject({ StringEquals: { 'aws:SourceAccount': '111122223333' } });
    }
  });

  it('sends every security alarm to the incident topic', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const [topicId] = onlyResourceOf(template, 'AWS::SNS::Topic');
      const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm');
      const names = alarms.map(([, alarm]) => alarm.Properties.AlarmName).sort();
      expect(names).toEqual(
        [
          'api-5xx',
          'api-authentication-failures',
          'api-authorization-denials',
          'audit-archive-mismatch',
          'audit-archive-replication-failures',
          'audit-checkpoints-stale',
          'audit-stream-dead-letters',
          'audit-stream-errors',
          'audit-stream-iterator-age',
          'audit-table-mutations',
          'backups-stale-dr',
          'backups-stale-primary',
          'export-worker-dead-letters',
          'export-worker-errors',
          'restore-test-failed',
          'retention-failed',
          'tenant-purge-failed',
        ].map((name) => `strongroom-${stage}-${name}`),
      );
      for (const [id, alarm] of alarms) {
        expect(list(alarm.Properties.AlarmActions).map(referencedId), id).toEqual([topicId]);
      }
    }
  });

  it('watches 5xx from API Gateway, archive mismatches, and 401 and 403 spikes from the access log', () => {
    const template = platformOf('prod');
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'strongroom-prod-api-5xx',
      Namespace: 'AWS/ApiGateway',
      MetricName: '5XXError',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: 'strongroom-prod-audit-archive-mismatch',
      Namespace: 'Strongroom/prod',
      MetricName: 'ArchiveMismatch',
      Dimensions: [{ Name: 'service', Value: 'audit-stream' }],
      Threshold: 1,
    });
    const filters = resourcesOf(template, 'AWS::Logs::MetricFilter');
    const patterns = filters.map(([, filter]) => filter.Properties.FilterPattern).sort();
    expect(patterns).toEqual(['{ $.status = "401" }', '{ $.status = "403" }']);
    for (const [, filter] of filters) {
      expect(referencedId(filter.Properties.LogGroupName)).toMatch(/^ApiAccessLogs/);
    }
  });
});

describe('[INF-2][VUL-3] cdk-nag and synthesis messages', () => {
  it('leaves no unacknowledged finding: AwsSolutions errors and warnings, CloudFormation schema checks', () => {
    const nag = s.report.pluginReports.find((report) => report.pluginName === 'AwsSolutions');
    expect(nag, 'the AwsSolutions pack ran').toBeDefined();
    const open = nag?.violations.map((violation) => `${violation.severity} ${violation.ruleName}`) ?? [];
    expect(open).toEqual([]);
    for (const report of s.report.pluginReports) {
      expect(report.violations.map((violation) => `${report.pluginName}: ${violation.ruleName}`)).toEqual([]);
    }
  });

  it('gives every acknowledgement a written reason on a named construct', () => {
    const nag = s.report.pluginReports.find((report) => report.pluginName === 'AwsSolutions');
    const suppressed = nag?.suppressedViolations ?? [];
    expect(suppressed.length).toBeGreaterThan(0);
    for (const violation of suppressed) {
      expect(violation.reason?.length ?? 0, violation.ruleName).toBeGreaterThan(60);
      expect(violation.acknowledgedId, violation.ruleName).toMatch(/^AwsSolutions::AwsSolutions-/);
      for (const construct of violation.violatingConstructs) {
        // Never a whole stack: acknowledgements sit on the construct that carries the finding.
        expect(construct.constructPath.split('/').length, violation.ruleName).toBeGreaterThan(2);
      }
    }
  });

  it('acknowledges public access only on the routes declared public', () => {
    const nag = s.report.pluginReports.find((report) => report.pluginName === 'AwsSolutions');
    const publicPaths = (nag?.suppressedViolations ?? [])
      .filter((violation) => violation.ruleName === 'AwsSolutions-APIG4')
      .flatMap((violation) => violation.violatingConstructs.map((construct) => construct.constructPath));
    const publicRoutes = routes.filter((route) => route.permission === 'public');
    expect(publicPaths).toHaveLength(publicRoutes.length * stageNames.length);
    for (const path of publicPaths) {
      expect(
        publicRoutes.some((route) => path.includes(`${route.path}/${route.method}/`)),
        path,
      ).toBe(true);
    }
  });

  it('records acknowledgements in the template metadata for reviewers', () => {
    const text = json(platformOf('dev').toJSON());
    expect(text).toContain('"cdk_nag"');
    expect(text).toContain('AwsSolutions-COG4');
  });

  it('raises no error or warning annotation in any stack', () => {
    for (const stack of s.assembly.stacksRecursively) {
      const messages = stack.messages
        .filter((message) => message.level === 'error' || message.level === 'warning')
        .map((message) => `${message.level} ${message.id}: ${json(message.entry.data)}`);
      expect(messages, stack.stackName).toEqual([]);
    }
  });
});

describe('[BAK-1][BAK-2][BAK-3][ENC-4][ENC-5][AUD-5] backups, copies to the DR region and restore tests', () => {
  it('backs up every table daily, keeps 35 days, and copies each recovery point to the DR vault for 35 days', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const [, plan] = onlyResourceOf(template, 'AWS::Backup::BackupPlan');
      const rules = (plan.Properties.BackupPlan as { BackupPlanRule: Json[] }).BackupPlanRule;
      expect(rules).toHaveLength(1);
      const [rule] = rules as [Json];
      expect(rule.ScheduleExpression).toBe('cron(0 3 * * ? *)');
      expect(rule.Lifecycle).toEqual({ DeleteAfterDays: 35 });
      const copies = rule.CopyActions as { DestinationBackupVaultArn: unknown; Lifecycle: Json }[];
      expect(copies).toHaveLength(1);
      expect(copies[0]?.Lifecycle).toEqual({ DeleteAfterDays: 35 });
      // The fixed ARN of the DR stack's vault in the second EU region.
      const drRegion = s.config.drRegion;
      expect(json(copies[0]?.DestinationBackupVaultArn)).toContain(`:backup:${drRegion}:`);
      expect(json(copies[0]?.DestinationBackupVaultArn)).toContain(`:backup-vault:strongroom-${stage}-dr`);
      const [, vault] = resourcesOf(template, 'AWS::Backup::BackupVault')[0] ?? ['', { Properties: {} }];
      expect(vault.DeletionPolicy).toBe('Retain');
      expect(vault.Properties.EncryptionKeyArn).toBeDefined();
      expect(vault.Properties.LockConfiguration).toEqual({ MinRetentionDays: 35 });

      const [, selection] = onlyResourceOf(template, 'AWS::Backup::BackupSelection');
      const resources = (selection.Properties.BackupSelection as { Resources: unknown[] }).Resources;
      expect(resources).toHaveLength(tableIds.length);

      // The DR vault lives under a key of its own region (ENC-5), locked for at least 35 days.
      const [, drVault] = onlyResourceOf(drOf(stage), 'AWS::Backup::BackupVault');
      expect(drVault.Properties.BackupVaultName).toBe(`strongroom-${stage}-dr`);
      expect(drVault.Properties.LockConfiguration).toEqual({ MinRetentionDays: 35 });
      expect(json(drVault.Properties.EncryptionKeyArn)).toContain('VaultKey');
    }
  });

  it('gives each region its own backup key, rotated and usable only through AWS Backup', () => {
    for (const [template, purpose] of [
      [platformOf('dev'), 'backups'],
      [drOf('dev'), 'dr-backups'],
    ] as const) {
      const [, alias] = resourcesOf(template, 'AWS::KMS::Alias').find(
        ([, each]) => each.Properties.AliasName === `alias/strongroom/dev/${purpose}`,
      ) ?? ['', { Properties: {} }];
      const keyId = referencedId(alias.Properties.TargetKeyId);
      const key = resourcesOf(template, 'AWS::KMS::Key').find(([id]) => id === keyId)?.[1];
      expect(key?.Properties.EnableKeyRotation, purpose).toBe(true);
      const statements =
        (key?.Properties.KeyPolicy as { Statement: Statement[] } | undefined)?.Statement ?? [];
      const use = statements.find((statement) => list(statement.Action).includes('kms:Decrypt'));
      expect(json(use?.Condition), purpose).toContain('backup.');
    }
  });

  it('sets the advanced DynamoDB backup setting of each region from a custom resource of that region', () => {
    for (const stage of stageNames) {
      for (const [template, region] of [
        [platformOf(stage), s.config.primaryRegion],
        [drOf(stage), s.config.drRegion],
      ] as const) {
        const [settingId, resource] = onlyResourceOf(template, 'Custom::DynamoDbAdvancedBackupSetting');
        // Each stack sets its own region's: no call crosses regions.
        expect(resource.Properties.Region, `${stage} ${region}`).toBe(region);
        expect(resource.Properties.Regions).toBeUndefined();
        const settingsStatements = iamStatements(template).filter(({ statement }) =>
          list(statement.Action).includes('backup:UpdateRegionSettings'),
        );
        expect(settingsStatements).toHaveLength(1);
        expect(list(settingsStatements[0]?.statement.Action).sort()).toEqual([
          'backup:DescribeRegionSettings',
          'backup:UpdateRegionSettings',
        ]);
        if (region === s.config.primaryRegion) {
          // The plan waits for the setting: cross-region copies of DynamoDB backups need it.
          const [planId] = onlyResourceOf(template, 'AWS::Backup::BackupPlan');
          expect(list(template.toJSON().Resources[planId].DependsOn)).toContain(settingId);
        }
      }
      // The DR stack (vault and setting) deploys before the platform stack whose plan copies into it.
      const platform = s.stages.find((each) => each.platform.stageName === stage)?.platform;
      expect(platform?.dependencies.map((dependency) => dependency.stackName)).toContain(
        `strongroom-${stage}-dr`,
      );
    }
  });

  it("reads the DR copies through the primary region: no IAM statement of the platform names the DR region's AWS Backup", () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      for (const { where, statement } of iamStatements(template)) {
        expect(json(statement.Resource), where).not.toContain(`:backup:${s.config.drRegion}:`);
      }
      const freshness = iamStatements(template).filter(({ where }) => where.includes('FreshnessFunction'));
      const backupActions = freshness
        .flatMap(({ statement }) => list(statement.Action).map(String))
        .filter((action) => action.startsWith('backup:'));
      expect(backupActions.sort()).toEqual(['backup:ListCopyJobs', 'backup:ListRecoveryPointsByBackupVault']);
      const onVault = freshness.find(({ statement }) =>
        list(statement.Action).includes('backup:ListRecoveryPointsByBackupVault'),
      );
      expect(json(onVault?.statement.Resource)).toMatch(/BackupsVault[A-Z0-9]+","BackupVaultArn"/);
      // The function is told the DR vault's ARN, to find the copy jobs that went there.
      const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(
        ([, each]) => each.Properties.FunctionName === `strongroom-${stage}-backup-freshness`,
      ) ?? ['', { Properties: {} }];
      const backups = json((fn.Properties.Environment as { Variables: Json }).Variables.BACKUPS);
      expect(backups).toContain(`:backup:${s.config.drRegion}:`);
      expect(backups).toContain(`backup-vault:strongroom-${stage}-dr`);
    }
  });

  it('runs a restore testing plan over every table whose restore-job events start the validation function', () => {
    const template = platformOf('dev');
    const [, plan] = onlyResourceOf(template, 'AWS::Backup::RestoreTestingPlan');
    expect(plan.Properties.RecoveryPointSelection).toMatchObject({
      Algorithm: 'LATEST_WITHIN_WINDOW',
      RecoveryPointTypes: ['SNAPSHOT'],
    });
    const [, selection] = onlyResourceOf(template, 'AWS::Backup::RestoreTestingSelection');
    expect(selection.Properties.ProtectedResourceType).toBe('DynamoDB');
    expect(selection.Properties.ProtectedResourceArns as unknown[]).toHaveLength(tableIds.length);
    expect(selection.Properties.ValidationWindowHours).toBeGreaterThan(0);

    const rules = resourcesOf(template, 'AWS::Events::Rule').filter(([, rule]) =>
      String(json(rule.Properties.EventPattern)).includes('Restore Job State Change'),
    );
    expect(rules).toHaveLength(1);
    const [, rule] = rules[0] as [string, { Properties: Json }];
    expect(rule.Properties.EventPattern).toMatchObject({
      source: ['aws.backup'],
      detail: { status: ['COMPLETED'], restoreTestingPlanArn: [{ exists: true }] },
    });
    const target = (rule.Properties.Targets as { Arn: unknown }[])[0];
    const [validationId] = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, fn]) => fn.Properties.FunctionName === 'strongroom-dev-restore-validation',
    ) ?? [''];
    expect(json(target?.Arn)).toContain(validationId);

    // It reports to AWS Backup and may only read the restored copies.
    const statements = iamStatements(template).filter(({ where }) => where.includes('ValidationFunction'));
    const actions = statements.flatMap(({ statement }) => list(statement.Action));
    expect(actions).toContain('backup:PutRestoreValidationResult');
    const onCopies = statements.find(({ statement }) => json(statement.Resource).includes(':table/*'));
    expect(list(onCopies?.statement.Action).sort()).toEqual(
      ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:Scan'].sort(),
    );
  });

  it('alarms on a failed restore test and on stale backups in either region, to the incident topic', () => {
    const template = platformOf('dev');
    const alarms = resourcesOf(template, 'AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    const failed = alarms.find((alarm) => alarm.MetricName === 'RestoreValidationFailed');
    expect(failed).toMatchObject({ Threshold: 1, AlarmName: 'strongroom-dev-restore-test-failed' });
    expect(json(failed?.AlarmActions)).toContain('Incidents');
    const stale = alarms.filter((alarm) => alarm.MetricName === 'NewestRecoveryPointAgeHours');
    expect(stale).toHaveLength(2);
    for (const alarm of stale) {
      expect(alarm.TreatMissingData).toBe('breaching');
      expect(alarm.Threshold).toBe(26);
    }
    expect(stale.map((alarm) => json(alarm.Dimensions)).join()).toContain(s.config.drRegion);
    const dr = stale.find((alarm) => alarm.AlarmName === 'strongroom-dev-backups-stale-dr');
    expect(String(dr?.AlarmDescription)).toContain('copy jobs');
  });
});

describe('[ENC-3][ENC-4] IAM for tenant keys, limited by tag', () => {
  const statementsOf = (template: Template, group: string) => {
    const [fnId, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, each]) => each.Properties.FunctionName === `strongroom-dev-${group}`,
    ) ?? ['', { Properties: {} }];
    const roleId = referencedId(fn.Properties.Role);
    expect(roleId, fnId).toBeDefined();
    return iamStatements(template)
      .filter(({ where }) => where === roleId || where.startsWith(String(roleId).replace(/[0-9A-F]{8}$/, '')))
      .map(({ statement }) => statement);
  };

  it('lets request handlers only Decrypt data keys of this stage, for the tenant-data-key context', () => {
    const template = platformOf('dev');
    for (const group of ['invoices', 'counterparties', 'settings', 'lifecycle']) {
      const kms = statementsOf(template, group).filter((statement) =>
        list(statement.Action).some(
          (action) => String(action).startsWith('kms:') && json(statement.Resource).includes(':key/*'),
        ),
      );
      expect(kms, group).toHaveLength(1);
      expect(list(kms[0]?.Action), group).toEqual(['kms:Decrypt']);
      expect(kms[0]?.Condition, group).toEqual({
        StringEquals: {
          'aws:ResourceTag/strongroom:stage': 'dev',
          'kms:EncryptionContext:purpose': 'tenant-data-key',
        },
      });
    }
  });

  it('lets onboarding create only tagged multi-Region symmetric keys, replicate them and make data keys; never delete them', () => {
    const template = platformOf('dev');
    const statements = statementsOf(template, 'tenants');
    const create = statements.find(
      (statement) =>
        json(statement.Action) === json('kms:CreateKey') && list(statement.Resource).includes('*'),
    );
    expect(create?.Condition).toEqual({
      StringEquals: {
        'aws:RequestTag/strongroom:stage': 'dev',
        'kms:KeySpec': 'SYMMETRIC_DEFAULT',
        'kms:KeyUsage': 'ENCRYPT_DECRYPT',
      },
      Bool: { 'kms:MultiRegion': 'true' },
      'ForAllValues:StringEquals': { 'aws:TagKeys': ['strongroom:tenant', 'strongroom:stage'] },
      Null: { 'aws:RequestTag/strongroom:tenant': 'false' },
    });
    const actions = statements.flatMap((statement) => list(statement.Action).map(String));
    expect(actions).toContain('kms:ReplicateKey');
    expect(actions).toContain('kms:GenerateDataKey');
    for (const never of ['kms:ScheduleKeyDeletion', 'kms:DisableKey', 'kms:CancelKeyDeletion']) {
      expect(actions).not.toContain(never);
    }
    for (const statement of statements.filter((each) => json(each.Resource).includes(':key/*'))) {
      expect(json(statement.Condition)).toContain('strongroom:stage');
    }
    // The replica is created in the DR region.
    expect(json(statements)).toContain(`:kms:${s.config.drRegion}:`);
    const [, fn] = resourcesOf(template, 'AWS::Lambda::Function').find(
      ([, each]) => each.Properties.FunctionName === 'strongroom-dev-tenants',
    ) ?? ['', { Properties: {} }];
    const variables = (fn.Properties.Environment as { Variables: Record<string, string> }).Variables;
    expect(JSON.parse(variables.TENANT_KEYS ?? '{}')).toMatchObject({
      replicaRegion: s.config.drRegion,
      deletionWindowDays: 30,
    });
  });

  it('lets the authorizer open sealed members, API keys and grants: Decrypt of data keys only, registry reads only', () => {
    const template = platformOf('dev');
    const statements = statementsOf(template, 'authorizer');
    const tenantKeys = statements.filter((statement) => json(statement.Resource).includes(':key/*'));
    expect(tenantKeys).toHaveLength(1);
    expect(list(tenantKeys[0]?.Action)).toEqual(['kms:Decrypt']);
    expect(tenantKeys[0]?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/strongroom:stage': 'dev',
        'kms:EncryptionContext:purpose': 'tenant-data-key',
      },
    });
    // Only this stage's primary tenant keys, never the DR replicas. It seals nothing and
    // commits no business change, so it makes no data key and checks no tenant status (the
    // registry reads are the whole of its registry access: the test above).
    expect(json(tenantKeys[0]?.Resource)).not.toContain(s.config.drRegion);
  });

  it('gives every function that reads or writes the members table a way to open it (ENC-3)', () => {
    const template = platformOf('dev');
    for (const group of routeGroups.filter((each) => routeGroupTables[each].includes('members'))) {
      const unwrap = statementsOf(template, group).filter(
        (statement) =>
          json(statement.Resource).includes(':key/*') &&
          json(list(statement.Action)) === json(['kms:Decrypt']) &&
          json(statement.Condition).includes('tenant-data-key'),
      );
      expect(unwrap, group).toHaveLength(1);
    }
  });

  it('gives no request handler any other KMS action on tenant keys', () => {
    const template = platformOf('dev');
    for (const group of routeGroups.filter((each) => each !== 'tenants')) {
      const actions = statementsOf(template, group)
        .filter((statement) => json(statement.Resource).includes(':key/*'))
        .flatMap((statement) => list(statement.Action).map(String));
      for (const action of actions) expect(['kms:Decrypt'], `${group} ${action}`).toContain(action);
    }
  });
});

/** Functions of a private stage that stay outside its network, each with its documented reason (INF-7). */
const outsideTheNetwork: Readonly<Record<string, string>> = {};

/** Every endpoint of a private stage: gateway endpoints by service suffix, interface endpoints by service name. */
const gatewayServices = ['dynamodb', 's3'] as const;
const interfaceServices = ['kms', 'secretsmanager', 'sts', 'logs', 'xray', 'cognito-idp', 'backup'] as const;
/** Interface endpoints to the DR region's services (cross-region PrivateLink): its KMS, for the purge. */
const crossRegionServices = ['kms'] as const;

describe('[INF-7][INF-1] private network of prod', () => {
  const prod = (): Template => platformOf('prod');
  const functionsOf = (template: Template) =>
    resourcesOf(template, 'AWS::Lambda::Function').map(([id, fn]) => ({
      id,
      name: String(fn.Properties.FunctionName).replace(/^strongroom-(dev|prod)-/, ''),
      fn,
    }));

  it('is on by configuration for prod and off for dev', () => {
    expect(s.config.stages.map((stage) => [stage.name, stage.privateNetwork])).toEqual([
      ['dev', false],
      ['prod', true],
    ]);
  });

  it('puts every prod function in the isolated subnets with a security group of its own, but the documented JWKS fetcher', () => {
    const template = prod();
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet').map(([id]) => id);
    const groups = new Set<string>();
    const functions = functionsOf(template);
    expect(functions.length).toBe(routeGroups.length + 1 + jobFunctions.length);
    for (const { id, name, fn } of functions) {
      const vpc = fn.Properties.VpcConfig as
        | { SubnetIds: unknown[]; SecurityGroupIds: unknown[] }
        | undefined;
      if (name in outsideTheNetwork) {
        expect(vpc, id).toBeUndefined();
        continue;
      }
      expect(vpc?.SubnetIds.map(referencedId).sort(), id).toEqual(subnets.sort());
      expect(vpc?.SecurityGroupIds, id).toHaveLength(1);
      const group = referencedId(vpc?.SecurityGroupIds[0]) ?? '';
      expect(groups.has(group), `${id} shares ${group}`).toBe(false);
      groups.add(group);
      // Lambda creates the function's interfaces with its role: the ENI policy exists first.
      expect(
        list(fn.DependsOn).some((dependency) => String(dependency).includes('NetworkPolicy')),
        id,
      ).toBe(true);
    }
    expect(groups.size).toBe(functions.length - Object.keys(outsideTheNetwork).length);
    // The exemptions are exactly the documented ones, each with its reason in the template metadata.
    for (const { id, name, fn } of functions.filter(({ name }) => name in outsideTheNetwork)) {
      expect((fn as { Metadata?: Json }).Metadata?.['strongroom:outsidePrivateNetwork'], id).toBe(
        outsideTheNetwork[name],
      );
    }
  });

  it("runs the DR stack's setting function in a VPC of the second region with only the endpoints it uses", () => {
    const template = drOf('prod');
    const [, fn] = onlyResourceOf(template, 'AWS::Lambda::Function');
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet');
    expect(subnets.map(([, subnet]) => subnet.Properties.AvailabilityZone).sort()).toEqual(
      ['a', 'b', 'c'].map((zone) => `${s.config.drRegion}${zone}`),
    );
    const vpc = fn.Properties.VpcConfig as { SubnetIds: unknown[]; SecurityGroupIds: unknown[] } | undefined;
    expect(vpc?.SubnetIds.map(referencedId).sort()).toEqual(subnets.map(([id]) => id).sort());
    expect(vpc?.SecurityGroupIds).toHaveLength(1);
    for (const type of [
      'AWS::EC2::InternetGateway',
      'AWS::EC2::NatGateway',
      'AWS::EC2::VPCGatewayAttachment',
    ]) {
      expect(resourcesOf(template, type), type).toHaveLength(0);
    }
    const [, flowLog] = onlyResourceOf(template, 'AWS::EC2::FlowLog');
    expect(flowLog.Properties).toMatchObject({ ResourceType: 'VPC', TrafficType: 'ALL' });
    // Out only on 443, to the interface endpoints and the S3 prefix list (no DynamoDB here).
    const group = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(
      ([id]) => id === referencedId(vpc?.SecurityGroupIds[0]),
    )?.[1];
    const egress = list(group?.Properties.SecurityGroupEgress) as Json[];
    expect(
      egress.map((rule) => [rule.FromPort, rule.ToPort, rule.DestinationPrefixListId ?? 'endpoints']).sort(),
    ).toEqual([
      [443, 443, 'endpoints'],
      [443, 443, gatewayPrefixLists[s.config.drRegion]?.s3],
    ]);
    // dev's DR stack has the function, but no network.
    const dev = drOf('dev');
    expect(resourcesOf(dev, 'AWS::EC2::VPC')).toHaveLength(0);
    for (const [id, each] of resourcesOf(dev, 'AWS::Lambda::Function')) {
      expect(each.Properties.VpcConfig, id).toBeUndefined();
    }
  });

  it('has no route to the internet: no internet, egress-only or NAT gateway, isolated subnets in every availability zone', () => {
    const template = prod();
    for (const type of [
      'AWS::EC2::InternetGateway',
      'AWS::EC2::EgressOnlyInternetGateway',
      'AWS::EC2::NatGateway',
      'AWS::EC2::VPCGatewayAttachment',
      'AWS::EC2::EIP',
      'AWS::EC2::TransitGatewayAttachment',
      'AWS::EC2::VPCPeeringConnection',
    ]) {
      expect(resourcesOf(template, type), type).toHaveLength(0);
    }
    for (const [id, route] of resourcesOf(template, 'AWS::EC2::Route')) {
      expect(route.Properties.DestinationCidrBlock, id).not.toBe('0.0.0.0/0');
    }
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet').map(([, subnet]) => subnet.Properties);
    expect(subnets.map((subnet) => subnet.AvailabilityZone).sort()).toEqual(
      ['a', 'b', 'c'].map((zone) => `${s.config.primaryRegion}${zone}`),
    );
    for (const subnet of subnets) expect(subnet.MapPublicIpOnLaunch).toBe(false);
    expect(resourcesOf(template, 'AWS::EC2::VPC')).toHaveLength(1);
  });

  it('lets each function out only on 443, to the interface endpoints and the S3 and DynamoDB gateway prefix lists', () => {
    const template = prod();
    const [endpointGroup] = resourcesOf(template, 'AWS::EC2::SecurityGroup').find(([id]) =>
      id.startsWith('NetworkEndpointSecurityGroup'),
    ) ?? [''];
    const prefixLists = gatewayPrefixLists[s.config.primaryRegion];
    expect(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress')).toHaveLength(0);
    const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup');
    const inNetwork = functionsOf(template).length - Object.keys(outsideTheNetwork).length;
    expect(groups.length).toBe(1 + inNetwork);
    for (const [id, group] of groups) {
      const egress = list(group.Properties.SecurityGroupEgress) as Json[];
      expect(group.Properties.SecurityGroupIngress, id).toBeUndefined();
      if (id === endpointGroup) {
        // Endpoints start nothing: only the "match no traffic" rule that removes EC2's default allow-all.
        expect(egress, id).toEqual([
          expect.objectContaining({ CidrIp: '255.255.255.255/32', IpProtocol: 'icmp' }),
        ]);
        continue;
      }
      expect(egress, id).toHaveLength(3);
      for (const rule of egress) {
        expect(rule, id).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
        expect(rule.CidrIp, id).toBeUndefined();
      }
      expect(
        egress
          .map((rule) => referencedId(rule.DestinationSecurityGroupId) ?? rule.DestinationPrefixListId)
          .sort(),
        id,
      ).toEqual([endpointGroup, prefixLists?.s3, prefixLists?.dynamodb].sort());
    }
    const ingress = resourcesOf(template, 'AWS::EC2::SecurityGroupIngress');
    expect(ingress).toHaveLength(inNetwork);
    for (const [id, rule] of ingress) {
      expect(rule.Properties, id).toMatchObject({ IpProtocol: 'tcp', FromPort: 443, ToPort: 443 });
      expect(referencedId(rule.Properties.GroupId), id).toBe(endpointGroup);
      expect(referencedId(rule.Properties.SourceSecurityGroupId), id).toMatch(/SecurityGroup/);
    }
  });

  it("stays inside CloudFormation's 500 resources per stack, with room for a few more functions", () => {
    // The prod platform stack holds 463 since the data lifecycle jobs (DAT-2, DAT-4: about 23
    // resources with their network placement and the DR region's KMS endpoint). A function in
    // the network costs about 10: the next jobs belong in a nested stack of their own.
    for (const [name, template] of allTemplates()) {
      expect(Object.keys(template.toJSON().Resources).length, name).toBeLessThan(475);
    }
  });

  it('synthesizes without a context lookup (no availability-zone or prefix-list lookup)', () => {
    const nested = [s.assembly, ...s.stages.map((stage) => s.assembly.getNestedAssembly(stage.artifactId))];
    for (const assembly of nested) expect(assembly.manifest.missing ?? [], assembly.directory).toEqual([]);
  });

  it('has every endpoint, each with a policy that names our resources for our account only', () => {
    // The platform stack has every endpoint; the DR stack only those its setting function uses.
    for (const [template, region, gateways, interfaces] of [
      [prod(), s.config.primaryRegion, gatewayServices, [...interfaceServices, ...crossRegionServices]],
      [drOf('prod'), s.config.drRegion, ['s3'], ['backup', 'xray']],
    ] as const) {
      const endpoints = resourcesOf(template, 'AWS::EC2::VPCEndpoint').map(([id, endpoint]) => ({
        id,
        service: /\.([a-z0-9-]+)"\]*\}*$/.exec(json(endpoint.Properties.ServiceName))?.[1] ?? '',
        endpoint: endpoint.Properties,
      }));
      expect(
        endpoints
          .filter(({ endpoint }) => endpoint.VpcEndpointType === 'Gateway')
          .map((e) => e.service)
          .sort(),
      ).toEqual([...gateways].sort());
      expect(
        endpoints
          .filter(({ endpoint }) => endpoint.VpcEndpointType === 'Interface')
          .map((e) => e.service)
          .sort(),
      ).toEqual([...interfaces].sort());
      for (const { id, service, endpoint } of endpoints) {
        if (endpoint.VpcEndpointType === 'Interface') {
          expect(endpoint.PrivateDnsEnabled, id).toBe(true);
          expect(list(endpoint.SecurityGroupIds).map(referencedId), id).toEqual([
            expect.stringMatching(/^NetworkEndpointSecurityGroup/),
          ]);
        }
        const statements =
          (endpoint.PolicyDocument as { Statement: (Statement & { Sid?: string })[] } | undefined)
            ?.Statement ?? [];
        expect(statements.length, id).toBeGreaterThan(0);
        for (const statement of statements) {
          expect(statement.Effect, id).toBe('Allow');
          for (const action of list(statement.Action)) {
            expect(String(action), id).toMatch(
              new RegExp(`^${service === 'cognito-idp' ? 'cognito-idp' : service}:[A-Za-z]+$`),
            );
          }
          const resources = list(statement.Resource).map(json);
          const anyResource = resources.includes('"*"');
          const conditions = json(statement.Condition);
          if (statement.Sid === 'CustomResourceResponses') {
            // CloudFormation signs its presigned response URLs: any account, one bucket of the region.
            expect(resources, id).toEqual([
              json(`arn:aws:s3:::cloudformation-custom-resource-response-${region.replace(/-/g, '')}/*`),
            ]);
            continue;
          }
          expect(conditions, `${id} ${statement.Sid}`).toContain(
            `"aws:PrincipalAccount":"${cdkContext['strongroom:account']}"`,
          );
          if (anyResource) {
            // Only where the service has no resource to name: X-Ray, restore jobs (by role), key creation (by tag).
            expect(
              [
                'TracesHaveNoResourceLevelPermissions',
                'RestoreJobsHaveNoResourceLevelPermissions',
                'CopyJobsHaveNoResourceLevelPermissions',
                'RegionSettingsHaveNoResourceLevelPermissions',
                'CreateTenantKeysOfThisStage',
              ],
              id,
            ).toContain(statement.Sid);
            if (statement.Sid !== 'TracesHaveNoResourceLevelPermissions')
              expect(conditions, id).toMatch(/PrincipalArn|RequestTag/);
          }
          for (const resource of resources) {
            // Resources of the stack by reference; written ARNs are this account's, and a pattern is
            // either the stage's own prefix or narrowed by a tag or the one role that may use it.
            if (resource.startsWith('"arn:')) {
              expect(resource, id).toContain(`:${cdkContext['strongroom:account']}:`);
              if (resource.includes('*') && !resource.includes(':log-group:/strongroom/prod/')) {
                expect(conditions, `${id} ${resource}`).toMatch(/ResourceTag|RequestTag|PrincipalArn/);
              }
            }
          }
        }
      }
    }
  });

  it('names the stage tables, archive, signing keys, secret, tenant role and pool in the endpoint policies', () => {
    const template = prod();
    const policyOf = (service: string) =>
      json(
        resourcesOf(template, 'AWS::EC2::VPCEndpoint').find(
          ([, endpoint]) =>
            endpoint.Properties.ServiceRegion === undefined &&
            json(endpoint.Properties.ServiceName).includes(`.${service}`),
        )?.[1].Properties.PolicyDocument,
      );
    for (const table of tableIds) expect(policyOf('dynamodb')).toContain(`Tables${table}`);
    expect(policyOf('s3')).toMatch(/AuditArchiveBucket[A-Z0-9]+","Arn"\]\},"\/tenants\/\*"/);
    expect(policyOf('kms')).toContain('AuditSigningKeysKey1');
    expect(policyOf('kms')).toContain('"aws:ResourceTag/strongroom:stage":"prod"');
    expect(policyOf('secretsmanager')).toContain('ApiKeyPepperSecret');
    expect(policyOf('sts')).toContain('TenantAccessRole');
    expect(policyOf('cognito-idp')).toContain('UsersUserPool');
    expect(policyOf('logs')).toContain('log-group:/strongroom/prod/*');
  });

  it('logs all VPC traffic to a KMS-encrypted log group kept 36 months', () => {
    const template = prod();
    const [, flowLog] = onlyResourceOf(template, 'AWS::EC2::FlowLog');
    expect(flowLog.Properties).toMatchObject({
      ResourceType: 'VPC',
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
    });
    expect(referencedId(flowLog.Properties.ResourceId)).toMatch(/^NetworkVpc/);
    const group = template.toJSON().Resources[referencedId(flowLog.Properties.LogGroupName) ?? ''] as {
      Properties: Json;
    };
    expect(group.Properties).toMatchObject({
      LogGroupName: '/strongroom/prod/network/flow-logs',
      RetentionInDays: 1096,
    });
    expect(referencedId(group.Properties.KmsKeyId)).toBe(
      keyIdByAlias(template, 'alias/strongroom/prod/logs'),
    );
  });

  it("gives the authorizer the pool's JWKS as the pipeline published it, readable by the authorizer only, written by no function", () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const secrets = resourcesOf(template, 'AWS::SecretsManager::Secret').filter(([, each]) =>
        String(each.Properties.Name).endsWith('/cognito-jwks'),
      );
      expect(secrets).toHaveLength(1);
      const [secretId, secret] = secrets[0] as (typeof secrets)[number];
      expect(secret.Properties.Name).toBe(`strongroom/${stage}/cognito-jwks`);
      expect(referencedId(secret.Properties.KmsKeyId)).toBe(
        keyIdByAlias(template, `alias/strongroom/${stage}/cognito-jwks`),
      );
      const authorizer = functionsOf(template).find(({ name }) => name === 'authorizer');
      const variables =
        (authorizer?.fn.Properties.Environment as { Variables?: Json } | undefined)?.Variables ?? {};
      expect(JSON.stringify(variables.SECRET_ARNS)).toContain(
        `\\"cognito-jwks\\":\\"",{"Ref":"${secretId}"}`,
      );
      expect(variables).not.toHaveProperty('COGNITO_JWKS');
      // Who may read or write it in the stage: the authorizer reads, nobody writes.
      const touching = iamStatements(template).filter(({ statement }) =>
        json(statement.Resource).includes(`"${secretId}"`),
      );
      expect(touching.length).toBeGreaterThan(0);
      for (const { where } of touching) expect(where).toMatch(/^Authorizer/);
      expect(touching.flatMap(({ statement }) => list(statement.Action))).toEqual([
        'secretsmanager:GetSecretValue',
      ]);
      expect(resourcesOf(template, 'Custom::CognitoJwks')).toHaveLength(0);
    }
  });

  it('keeps dev without a VPC, as its configuration says', () => {
    for (const template of [platformOf('dev'), drOf('dev')]) {
      for (const type of [
        'AWS::EC2::VPC',
        'AWS::EC2::VPCEndpoint',
        'AWS::EC2::SecurityGroup',
        'AWS::EC2::FlowLog',
      ]) {
        expect(resourcesOf(template, type), type).toHaveLength(0);
      }
      for (const { id, fn } of functionsOf(template)) expect(fn.Properties.VpcConfig, id).toBeUndefined();
    }
  });

  it('leaves no NIST 800-53 R5 LambdaInsideVPC finding in prod: every function is in the network', () => {
    const prodStage = s.stages.find((stage) => stage.platform.stageName === 'prod');
    if (prodStage === undefined) throw new Error('no prod stage');
    const report = new NIST80053R5Checks().validateScope(prodStage);
    const outside = report.violations
      .filter((violation) => violation.ruleName === 'NIST.800.53.R5-LambdaInsideVPC')
      .flatMap((violation) => violation.violatingResources.map((resource) => resource.constructPath ?? ''));
    // The DR stack's setting function and both backup jobs run in their region's network.
    expect(outside).toEqual([]);
  });
});

describe('[INF-8] deployment pipeline', () => {
  const pipelineTemplate = (): Template => s.template('strongroom-pipeline');
  const pipelineStages = () =>
    onlyResourceOf(pipelineTemplate(), 'AWS::CodePipeline::Pipeline')[1].Properties.Stages as {
      Name: string;
      Actions: {
        Name: string;
        RunOrder?: number;
        ActionTypeId: { Category: string; Provider: string };
        Configuration?: Json;
      }[];
    }[];

  it('takes the source from the configured connection, synthesizes, updates itself, then deploys dev, waits for approval and deploys prod', () => {
    const stages = pipelineStages();
    expect(stages.map((stage) => stage.Name)).toEqual([
      'Source',
      'Build',
      'UpdatePipeline',
      'Assets',
      'strongroom-dev',
      'strongroom-prod',
    ]);
    const [source] = stages[0]?.Actions ?? [];
    const configured = cdkContext['strongroom:pipeline'] as Json;
    expect(source?.ActionTypeId.Provider).toBe('CodeStarSourceConnection');
    expect(source?.Configuration).toMatchObject({
      ConnectionArn: configured.connectionArn,
      FullRepositoryId: configured.repository,
      BranchName: configured.branch,
    });
    const dev = stages.find((stage) => stage.Name === 'strongroom-dev');
    const prod = stages.find((stage) => stage.Name === 'strongroom-prod');
    expect(dev?.Actions.some((action) => action.ActionTypeId.Category === 'Approval')).toBe(false);
    const approvals = prod?.Actions.filter((action) => action.ActionTypeId.Category === 'Approval') ?? [];
    expect(approvals).toHaveLength(1);
    const deploys = prod?.Actions.filter((action) => action.ActionTypeId.Provider === 'CloudFormation') ?? [];
    // The prod platform and DR stacks, each a change set created and then executed.
    expect(deploys.map((action) => action.Name).sort()).toEqual(
      ['dr.Deploy', 'dr.Prepare', 'platform.Deploy', 'platform.Prepare'].sort(),
    );
    for (const deploy of deploys) expect(deploy.RunOrder ?? 1).toBeGreaterThan(approvals[0]?.RunOrder ?? 1);
    for (const stage of [dev, prod]) {
      const names = (stage?.Actions ?? []).map((action) => action.Configuration?.StackName);
      expect(names).toEqual(expect.arrayContaining([`${stage?.Name}-platform`, `${stage?.Name}-dr`]));
    }
  });

  it("publishes each stage's user pool JWKS after its deployment, with write access to that stage's JWKS secret only", () => {
    const template = pipelineTemplate();
    for (const stage of pipelineStages().filter(({ Name }) => Name.startsWith('strongroom-'))) {
      const name = stage.Name.replace('strongroom-', '');
      const publish = stage.Actions.find((action) => action.Name === `PublishJwks-${name}`);
      const deploys = stage.Actions.filter((action) => action.ActionTypeId.Provider === 'CloudFormation');
      for (const deploy of deploys) expect(publish?.RunOrder ?? 0).toBeGreaterThan(deploy.RunOrder ?? 1);
      const variables = JSON.parse(String(publish?.Configuration?.EnvironmentVariables)) as {
        name: string;
        value: string;
      }[];
      expect(Object.fromEntries(variables.map((each) => [each.name, each.value]))).toEqual({
        USER_POOL_ID: expect.stringMatching(/\.UserPoolId\}$/),
        JWKS_SECRET_ARN: expect.stringMatching(/\.CognitoJwksSecretArn\}$/),
      });
      const projectId = referencedId(publish?.Configuration?.ProjectName);
      const [, project] =
        resourcesOf(template, 'AWS::CodeBuild::Project').find(([id]) => id === projectId) ?? [];
      const buildspec = JSON.parse(String((project?.Properties.Source as Json | undefined)?.BuildSpec)) as {
        phases: { build: { commands: string[] } };
      };
      expect(buildspec.phases.build.commands).toEqual([...publishJwksCommands]);
      expect((project?.Properties.Environment as Json | undefined)?.PrivilegedMode).toBe(false);
      const role = referencedId(project?.Properties.ServiceRole);
      const secretWrites = iamStatements(template).filter(({ statement }) =>
        list(statement.Action).includes('secretsmanager:PutSecretValue'),
      );
      const own = secretWrites.filter(({ where }) =>
        where.startsWith(String(role).replace(/Role[A-F0-9]{8}$/, 'Role')),
      );
      expect(own).toHaveLength(1);
      expect(list(own[0]?.statement.Resource)).toEqual([
        `arn:aws:secretsmanager:${s.config.primaryRegion}:${s.config.account}:secret:strongroom/${name}/cognito-jwks-??????`,
      ]);
    }
  });

  it('runs npm ci, npm test and cdk synth in an unprivileged build that logs to a KMS-encrypted group', () => {
    const template = pipelineTemplate();
    const projects = resourcesOf(template, 'AWS::CodeBuild::Project');
    const synth = projects.find(([, project]) => json(project.Properties.Source).includes('npm test'));
    const buildspec = JSON.parse(String((synth?.[1].Properties.Source as Json | undefined)?.BuildSpec)) as {
      phases: { build: { commands: string[] } };
    };
    expect(buildspec.phases.build.commands).toEqual([...synthCommands]);
    expect(synthCommands).toEqual(['npm ci', 'npm test', 'npx cdk synth']);
    const [logGroupId, logGroup] = resourcesOf(template, 'AWS::Logs::LogGroup').find(
      ([, group]) => group.Properties.LogGroupName === '/strongroom/pipeline/builds',
    ) ?? ['', { Properties: {} }];
    expect(logGroup.Properties.RetentionInDays).toBe(1096);
    expect(referencedId(logGroup.Properties.KmsKeyId)).toBe(
      keyIdByAlias(template, 'alias/strongroom/pipeline/build-logs'),
    );
    for (const [id, project] of projects) {
      expect((project.Properties.Environment as Json).PrivilegedMode, id).toBe(false);
      expect(project.Properties.EncryptionKey, id).toBeDefined();
      expect(json(project.Properties.LogsConfig), id).toContain(logGroupId);
    }
  });

  it('encrypts the artifacts of both regions under customer-managed keys', () => {
    const [, pipeline] = onlyResourceOf(pipelineTemplate(), 'AWS::CodePipeline::Pipeline');
    const stores = pipeline.Properties.ArtifactStores as {
      Region: string;
      ArtifactStore: { EncryptionKey: { Type: string } };
    }[];
    expect(stores.map((store) => store.Region).sort()).toEqual(
      [s.config.drRegion, s.config.primaryRegion].sort(),
    );
    for (const store of stores) expect(store.ArtifactStore.EncryptionKey.Type).toBe('KMS');
    const support = s.template('strongroom-pipeline-support-eu-west-1');
    const [, bucket] = onlyResourceOf(support, 'AWS::S3::Bucket');
    expect(json(bucket.Properties.BucketEncryption)).toContain('aws:kms');
  });

  it('allows Resource * only where CDK Pipelines cannot name the resource, and limits the asset role to its projects', () => {
    const allowed = [
      // The DR region's artifact key, named by alias in the support stack.
      ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
      // cdk deploy of the pipeline itself finds the bootstrap resources.
      ['cloudformation:DescribeStacks', 's3:ListBucket'],
      // The asset role's builds: denied again for every project but the asset projects.
      ['codebuild:BatchGetBuilds', 'codebuild:StartBuild', 'codebuild:StopBuild'],
    ].map((actions) => json(actions));
    const statements = iamStatements(pipelineTemplate());
    for (const { where, statement } of statements) {
      if (!list(statement.Resource).includes('*') || statement.Effect === 'Deny') continue;
      expect(allowed, where).toContain(json(list(statement.Action).map(String).sort()));
    }
    const deny = statements.find(
      ({ statement }) => (statement as { Sid?: string }).Sid === 'OnlyTheAssetProjects',
    );
    expect(deny?.statement.Effect).toBe('Deny');
    expect(json((deny?.statement as { NotResource?: unknown } | undefined)?.NotResource)).toMatch(
      /PipelineAssetsFileAsset/,
    );
  });
});

describe('[DAT-2][DAT-4] the scheduled data lifecycle jobs', () => {
  const functionOf = (template: Template, name: string) =>
    resourcesOf(template, 'AWS::Lambda::Function').find(([, fn]) => fn.Properties.FunctionName === name) ?? [
      '',
      { Properties: {} as Json },
    ];
  const roleStatements = (template: Template, name: string) => {
    const roleId = String(referencedId(functionOf(template, name)[1].Properties.Role));
    const prefix = roleId.replace(/[0-9A-F]{8}$/, '');
    return iamStatements(template)
      .filter(({ where }) => where === roleId || where.startsWith(prefix))
      .map(({ statement }) => statement);
  };

  it('runs the purge and the retention job daily from EventBridge rules', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      for (const [job, expression] of [
        ['tenant-purge', 'cron(15 2 * * ? *)'],
        ['retention', 'cron(15 3 * * ? *)'],
      ] as const) {
        const [fnId] = functionOf(template, `strongroom-${stage}-${job}`);
        const [, rule] = resourcesOf(template, 'AWS::Events::Rule').find(
          ([, each]) => each.Properties.Name === `strongroom-${stage}-${job}`,
        ) ?? ['', { Properties: {} as Json }];
        expect(rule.Properties.ScheduleExpression, job).toBe(expression);
        expect(rule.Properties.State, job).toBe('ENABLED');
        expect(
          (rule.Properties.Targets as Json[]).map((target) => referencedId(target.Arn)),
          job,
        ).toEqual([fnId]);
        template.hasResourceProperties('AWS::Lambda::Permission', {
          Action: 'lambda:InvokeFunction',
          Principal: 'events.amazonaws.com',
          FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
        });
      }
    }
  });

  it('puts both jobs in the private network of prod', () => {
    const template = platformOf('prod');
    const subnets = resourcesOf(template, 'AWS::EC2::Subnet').map(([id]) => id);
    for (const job of ['tenant-purge', 'retention']) {
      const [, fn] = functionOf(template, `strongroom-prod-${job}`);
      const vpc = fn.Properties.VpcConfig as { SubnetIds: unknown[] } | undefined;
      expect(vpc?.SubnetIds.map(referencedId).sort(), job).toEqual(subnets.sort());
    }
  });

  it('lets only the purge schedule key deletion, of this stage’s tenant keys (primary and DR replica) by tag', () => {
    for (const stage of stageNames) {
      const template = platformOf(stage);
      const deletions = iamStatements(template).filter(({ statement }) =>
        list(statement.Action).includes('kms:ScheduleKeyDeletion'),
      );
      expect(deletions.map(({ where }) => where.replace(/[0-9A-F]{8}$/, ''))).toEqual([
        expect.stringMatching(/^TenantPurgeFunctionRole/),
      ]);
      const statement = deletions[0]?.statement;
      expect(list(statement?.Action)).toEqual(['kms:ScheduleKeyDeletion']);
      expect(list(statement?.Resource).map(String).sort()).toEqual(
        [s.config.primaryRegion, s.config.drRegion]
          .map((region) => `arn:aws:kms:${region}:${cdkContext['strongroom:account']}:key/*`)
          .sort(),
      );
      expect(statement?.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/strongroom:stage': stage } });
      // The purge reaches KMS through the key service's settings and signs the final checkpoint.
      const [, purge] = functionOf(template, `strongroom-${stage}-tenant-purge`);
      const variables = (purge.Properties.Environment as { Variables: Record<string, string> }).Variables;
      expect(JSON.parse(variables.TENANT_KEYS ?? '{}')).toMatchObject({ replicaRegion: s.config.drRegion });
      expect(variables.AUDIT_SIGNING_KEYS).toBeDefined();
      const actions = roleStatements(template, `strongroom-${stage}-tenant-purge`).flatMap((each) =>
        list(each.Action).map(String),
      );
      expect(actions).toContain('kms:Sign');
      for (const never of ['kms:CreateKey', 'kms:DisableKey', 'kms:CancelKeyDeletion'])
        expect(actions, never).not.toContain(never);
      // On tenant keys it may schedule deletion and nothing else: it opens no tenant data.
      const onTenantKeys = roleStatements(template, `strongroom-${stage}-tenant-purge`).filter((each) =>
        json(each.Resource).includes(':key/*'),
      );
      expect(onTenantKeys.flatMap((each) => list(each.Action))).toEqual(['kms:ScheduleKeyDeletion']);
    }
  });

  it('lets the retention job open sealed items and delete data items, and never touch keys or entries otherwise', () => {
    const template = platformOf('dev');
    const statements = roleStatements(template, 'strongroom-dev-retention');
    const onTenantKeys = statements.filter((statement) => json(statement.Resource).includes(':key/*'));
    expect(onTenantKeys.flatMap((statement) => list(statement.Action))).toEqual(['kms:Decrypt']);
    expect(onTenantKeys[0]?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/strongroom:stage': 'dev',
        'kms:EncryptionContext:purpose': 'tenant-data-key',
      },
    });
    const tableIdOf = (id: string) =>
      resourcesOf(template, 'AWS::DynamoDB::GlobalTable').find(
        ([, table]) => table.Properties.TableName === tableName('dev', id as never),
      )?.[0];
    const dynamo = statements.filter((statement) =>
      list(statement.Action).some((action) => String(action).startsWith('dynamodb:')),
    );
    const tablesOf = (found: readonly Statement[]) =>
      tableIds.filter((id) =>
        found.some((statement) => json(statement.Resource).includes(`"${tableIdOf(id)}"`)),
      );
    // Deletes: expired data items, and the fold's pending markers in the head table (never an audit entry).
    expect(
      tablesOf(dynamo.filter((statement) => list(statement.Action).includes('dynamodb:DeleteItem'))).sort(),
    ).toEqual(['auditHead', 'data']);
    expect(tablesOf(dynamo).sort()).toEqual(['audit', 'auditHead', 'data', 'tenants']);
    expect(tablesOf(dynamo.filter((statement) => list(statement.Action).includes('dynamodb:Scan')))).toEqual([
      'tenants',
    ]);
    expect(json(statements)).not.toContain('kms:ScheduleKeyDeletion');
  });

  it('reaches the DR region’s KMS in prod through a cross-region endpoint that only schedules tenant key replicas for deletion', () => {
    const template = platformOf('prod');
    const [id, endpoint] =
      resourcesOf(template, 'AWS::EC2::VPCEndpoint').find(
        ([, each]) => each.Properties.ServiceRegion !== undefined,
      ) ?? [];
    expect(id).toBeDefined();
    expect(endpoint?.Properties).toMatchObject({
      ServiceName: `com.amazonaws.${s.config.drRegion}.kms`,
      ServiceRegion: s.config.drRegion,
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
    });
    const statements =
      (endpoint?.Properties.PolicyDocument as { Statement: Statement[] } | undefined)?.Statement ?? [];
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({
      Action: 'kms:ScheduleKeyDeletion',
      Resource: `arn:aws:kms:${s.config.drRegion}:${cdkContext['strongroom:account']}:key/*`,
      Condition: {
        StringEquals: {
          'aws:ResourceTag/strongroom:stage': 'prod',
          'aws:PrincipalAccount': cdkContext['strongroom:account'],
        },
        Null: { 'aws:ResourceTag/strongroom:tenant': 'false' },
      },
    });
    // dev has no network, hence no endpoint.
    expect(resourcesOf(platformOf('dev'), 'AWS::EC2::VPCEndpoint')).toEqual([]);
  });
});
