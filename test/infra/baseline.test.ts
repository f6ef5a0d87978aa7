/**
 * The account baseline (INF-6) in the synthesized CloudFormation. The baseline stacks are
 * built in an app of their own, from cdk.json's configuration exactly as infra/build-app.ts
 * builds them, and synthesized once: no functions, so no bundling, and it takes a second.
 */
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '#infra/build-app';
import { loadConfig } from '#infra/config';
import { logRetention } from '#infra/constructs/encrypted-log-group';
import { foundationalStandardArn, highSeverity } from '#infra/constructs/threat-detection';
import {
  accountBaselineContextKey,
  accountBaselineEnabled,
  addAccountBaseline,
} from '#infra/stacks/baseline-stack';
import { tableIds, tableName } from '#shared/store/tables';
import { cdkContext, onlyResourceOf, resourcesOf, type TemplateResource } from './template';

type Json = Record<string, unknown>;
interface Statement {
  Sid?: string;
  Effect: string;
  Action: string | string[];
  Principal?: unknown;
  Resource?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

const config = loadConfig((key) => cdkContext[key]);
const stages = config.stages.map((stage) => stage.name);
let primary: Template;
let dr: Template;
let nagViolations: string[];

beforeAll(() => {
  const app = new App({ context: { ...cdkContext } });
  addAccountBaseline(app, config);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  primary = Template.fromJSON(assembly.getStackByName('strongroom-baseline').template as Json);
  dr = Template.fromJSON(assembly.getStackByName('strongroom-baseline-dr').template as Json);
  const report = new AwsSolutionsChecks().validateScope(app);
  nagViolations = report.violations.map((violation) => violation.ruleName);
});

const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : [value]);
const refTo = (value: unknown): string | undefined => {
  const object = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] } | undefined;
  return object?.Ref ?? object?.['Fn::GetAtt']?.[0];
};
const statementsOf = (resource: TemplateResource, property: string): Statement[] =>
  (resource.Properties[property] as { Statement: Statement[] }).Statement;

function trailBucket(): [string, TemplateResource] {
  const trail = onlyResourceOf(primary, 'AWS::CloudTrail::Trail')[1];
  const id = refTo(trail.Properties.S3BucketName);
  const bucket = resourcesOf(primary, 'AWS::S3::Bucket').find(([logicalId]) => logicalId === id);
  if (bucket === undefined) throw new Error('the trail names no bucket of its stack');
  return bucket;
}

describe('[INF-6] the account trail', () => {
  it('logs management events of every region, with log file validation, under its own rotating key', () => {
    const [, trail] = onlyResourceOf(primary, 'AWS::CloudTrail::Trail');
    expect(trail.Properties).toMatchObject({
      IsLogging: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
    });
    const keyId = refTo(trail.Properties.KMSKeyId);
    const key = resourcesOf(primary, 'AWS::KMS::Key').find(([id]) => id === keyId)?.[1];
    expect(key?.Properties.EnableKeyRotation).toBe(true);
    expect(key?.DeletionPolicy).toBe('Retain');
    const cloudTrail = statementsOf(key as TemplateResource, 'KeyPolicy').filter(
      (statement) => JSON.stringify(statement.Principal) === '{"Service":"cloudtrail.amazonaws.com"}',
    );
    expect(cloudTrail.flatMap((statement) => statement.Action).sort()).toEqual([
      'kms:DescribeKey',
      'kms:GenerateDataKey',
    ]);
    for (const statement of cloudTrail)
      expect(statement.Condition?.StringEquals?.['aws:SourceArn']).toBeDefined();
    expect(onlyResourceOf(dr, 'AWS::GuardDuty::Detector')).toBeDefined();
    expect(resourcesOf(dr, 'AWS::CloudTrail::Trail')).toEqual([]);
  });

  it('logs data events on every table and every bucket of every stage', () => {
    const [, trail] = onlyResourceOf(primary, 'AWS::CloudTrail::Trail');
    const selectors = trail.Properties.AdvancedEventSelectors as {
      FieldSelectors: { Field: string; Equals?: string[]; StartsWith?: string[] }[];
    }[];
    const field = (selector: (typeof selectors)[number], name: string) =>
      selector.FieldSelectors.find((each) => each.Field === name);
    expect(selectors.some((selector) => field(selector, 'eventCategory')?.Equals?.[0] === 'Management')).toBe(
      true,
    );
    const dataOn = (type: string): string[] =>
      selectors
        .filter((selector) => field(selector, 'resources.type')?.Equals?.includes(type))
        .flatMap((selector) => {
          expect(field(selector, 'eventCategory')?.Equals).toEqual(['Data']);
          return field(selector, 'resources.ARN')?.StartsWith ?? [];
        });
    const tablePrefixes = dataOn('AWS::DynamoDB::Table');
    const objectPrefixes = dataOn('AWS::S3::Object');
    for (const stage of stages) {
      for (const region of [config.primaryRegion, config.drRegion]) {
        for (const id of tableIds) {
          const arn = `arn:aws:dynamodb:${region}:${config.account}:table/${tableName(stage, id)}`;
          expect(
            tablePrefixes.some((prefix) => arn.startsWith(prefix)),
            arn,
          ).toBe(true);
        }
      }
      // The audit archive and its access logs (infra/constructs/audit-archive-bucket.ts).
      const archive = `arn:aws:s3:::strongroom-${stage}-audit-archive-${config.account}-${config.primaryRegion}/tenants/t1/x`;
      expect(
        objectPrefixes.some((prefix) => archive.startsWith(prefix)),
        archive,
      ).toBe(true);
    }
    // Never its own bucket: that would log its own deliveries.
    const ownBucket = `arn:aws:s3:::strongroom-account-trail-${config.account}-${config.primaryRegion}/AWSLogs/x`;
    expect(objectPrefixes.some((prefix) => ownBucket.startsWith(prefix))).toBe(false);
  });

  it('delivers to a bucket of its own: KMS, TLS only, no public access, access logs, versions locked, retained', () => {
    const [bucketId, bucket] = trailBucket();
    const encryption = bucket.Properties.BucketEncryption as {
      ServerSideEncryptionConfiguration: {
        ServerSideEncryptionByDefault: { SSEAlgorithm: string; KMSMasterKeyID?: unknown };
      }[];
    };
    const byDefault = encryption.ServerSideEncryptionConfiguration[0]?.ServerSideEncryptionByDefault;
    expect(byDefault?.SSEAlgorithm).toBe('aws:kms');
    expect(byDefault?.KMSMasterKeyID).toBeDefined();
    expect(bucket.Properties.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(bucket.Properties.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(bucket.Properties.ObjectLockEnabled).toBe(true);
    expect(bucket.Properties.LoggingConfiguration).toMatchObject({
      DestinationBucketName: { Ref: expect.any(String) },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.UpdateReplacePolicy).toBe('Retain');

    const [policyId, policy] = resourcesOf(primary, 'AWS::S3::BucketPolicy').find(
      ([, each]) => refTo(each.Properties.Bucket) === bucketId,
    ) ?? [undefined, undefined];
    const statements = statementsOf(policy as TemplateResource, 'PolicyDocument');
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    for (const statement of statements.filter((each) => each.Effect === 'Allow')) {
      expect(statement.Principal).toEqual({ Service: 'cloudtrail.amazonaws.com' });
      expect(statement.Condition?.StringEquals?.['aws:SourceArn']).toBeDefined();
    }
    const [, trail] = onlyResourceOf(primary, 'AWS::CloudTrail::Trail');
    expect(list(trail.DependsOn)).toContain(policyId);
  });

  it('sends the trail to a KMS-encrypted log group kept 36 months (security class)', () => {
    const [, trail] = onlyResourceOf(primary, 'AWS::CloudTrail::Trail');
    const groupId = refTo(trail.Properties.CloudWatchLogsLogGroupArn);
    const group = resourcesOf(primary, 'AWS::Logs::LogGroup').find(([id]) => id === groupId)?.[1];
    expect(group?.Properties.RetentionInDays).toBe(Number(logRetention.security));
    expect(group?.Properties.KmsKeyId).toBeDefined();
    expect(group?.DeletionPolicy).toBe('Retain');
    expect(refTo(trail.Properties.CloudWatchLogsRoleArn)).toBeDefined();
  });
});

describe('[INF-6][INC-1] GuardDuty and Security Hub in both regions', () => {
  it.each([
    ['primary', () => primary, config.primaryRegion],
    ['DR', () => dr, config.drRegion],
  ])(
    'enables GuardDuty and the AWS Foundational Security Best Practices standard (%s)',
    (_name, template, region) => {
      const [, detector] = onlyResourceOf(template(), 'AWS::GuardDuty::Detector');
      expect(detector.Properties.Enable).toBe(true);
      expect(detector.Properties.Features).toEqual(
        expect.arrayContaining([
          { Name: 'S3_DATA_EVENTS', Status: 'ENABLED' },
          { Name: 'LAMBDA_NETWORK_LOGS', Status: 'ENABLED' },
        ]),
      );
      const [hubId, hub] = onlyResourceOf(template(), 'AWS::SecurityHub::Hub');
      expect(hub.Properties).toMatchObject({
        EnableDefaultStandards: false,
        ControlFindingGenerator: 'SECURITY_CONTROL',
      });
      const [, standard] = onlyResourceOf(template(), 'AWS::SecurityHub::Standard');
      expect(standard.Properties.StandardsArn).toBe(foundationalStandardArn('aws', region));
      expect(list(standard.DependsOn)).toContain(hubId);
    },
  );

  it('sends high and critical findings to an encrypted incident topic, and nothing else may publish as EventBridge', () => {
    for (const template of [primary, dr]) {
      const [ruleId, rule] = onlyResourceOf(template, 'AWS::Events::Rule');
      const pattern = rule.Properties.EventPattern as Json;
      expect(pattern.source).toEqual(['aws.guardduty', 'aws.securityhub']);
      expect(JSON.stringify(pattern)).toContain(`">=",${highSeverity}`);
      const [topicId, topic] = onlyResourceOf(template, 'AWS::SNS::Topic');
      expect(topic.Properties.KmsMasterKeyId).toBeDefined();
      expect((rule.Properties.Targets as { Arn: unknown }[]).map((target) => refTo(target.Arn))).toEqual([
        topicId,
      ]);
      const [, topicPolicy] = onlyResourceOf(template, 'AWS::SNS::TopicPolicy');
      const fromEvents = statementsOf(topicPolicy, 'PolicyDocument').filter(
        (statement) => JSON.stringify(statement.Principal) === '{"Service":"events.amazonaws.com"}',
      );
      expect(fromEvents).toHaveLength(1);
      expect(refTo(fromEvents[0]?.Condition?.ArnEquals?.['aws:SourceArn'])).toBe(ruleId);
    }
  });
});

describe('[INF-6][INF-2] baseline configuration and cdk-nag', () => {
  it('leaves no AwsSolutions finding in the baseline stacks', () => {
    expect(nagViolations).toEqual([]);
  });

  it('is on unless strongroom:accountBaseline is false', () => {
    expect(accountBaselineEnabled(() => undefined)).toBe(true);
    expect(accountBaselineEnabled(() => 'true')).toBe(true);
    expect(accountBaselineEnabled(() => false)).toBe(false);
    expect(accountBaselineEnabled(() => 'false')).toBe(false);
    expect(() => accountBaselineEnabled(() => 'yes')).toThrow(
      /strongroom:accountBaseline must be true or false, got "yes"/,
    );
  });

  it('leaves the baseline out of the app when the flag is false', () => {
    // No bundling: this builds the app's constructs only, to see which stacks it has.
    const built = buildApp({
      context: { ...cdkContext, [accountBaselineContextKey]: false, 'aws:cdk:bundling-stacks': [] },
    });
    expect(built.baselines).toEqual([]);
    const names = built.app.node.children.map((child) => child.node.id);
    expect(names).not.toContain('strongroom-baseline');
    expect(names).toContain('strongroom-account');
  });
});
