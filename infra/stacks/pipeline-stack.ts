import { type CfnElement, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as pipelines from 'aws-cdk-lib/pipelines';
import type { Construct, IConstruct } from 'constructs';
import packageJson from '../../package.json' with { type: 'json' };
import { EncryptedLogGroup } from '../constructs/encrypted-log-group';
import { cognitoJwksPublishStatements } from '../constructs/published-jwks';
import { keyAdministrationActions, keyUsageActions, StrongroomKey } from '../constructs/strongroom-key';
import { acknowledge, logicalIdOf } from '../nag-suppressions';
import type { PipelineConfig } from '../pipeline-config';
import type { StrongroomStage } from './strongroom-stage';

/** The synth step: install exactly the lockfile, run every test and gate, then synthesize (cdk-nag fails it on a finding). */
export const synthCommands = ['npm ci', 'npm test', 'npx cdk synth'] as const;

/** After each stage's deployment: publish its user pool's JWKS for the authorizer (INF-7, infra/publish-jwks.ts). */
export const publishJwksCommands = ['npm ci', 'npm run publish-jwks'] as const;

/**
 * The CDK CLI of self-mutation: the version package.json pins (the registry's `latest` tag
 * points at a 3.0.0 that cannot read aws-cdk-lib 2.276's cloud assembly).
 */
export const pipelineCliVersion: string = packageJson.devDependencies['aws-cdk'];

/** cdk-assets of the asset-publishing step, pinned rather than `latest`. */
export const pipelineAssetsCliVersion = '4.7.3';

export interface PipelineStackProps extends StackProps {
  /** Where the source comes from (CodeConnections connection, repository, branch). */
  readonly pipeline: PipelineConfig;
  /**
   * The stages in deployment order; every stage after the first waits for a manual approval.
   * @default - none; give at least one
   */
  readonly stages: readonly StrongroomStage[];
}

/**
 * The deployment pipeline (INF-8): CDK Pipelines with the source from a CodeConnections
 * connection; a synth step that runs `npm ci`, `npm test` (type-check, lint, secret scan,
 * every test, the security report with its policy gates) and `cdk synth` (cdk-nag fails
 * synthesis on any unacknowledged finding); self-mutation; the stages in order, each one
 * after the first behind a manual approval (dev, approval, prod). Artifacts are encrypted
 * with customer-managed keys with rotation (`crossAccountKeys`), build logs go to a log
 * group under a key of its own kept 36 months (LOG-2, security class), CodeBuild runs
 * unprivileged, and the pipeline deploys through the bootstrap deploy roles, whose
 * CloudFormation execution policy the bootstrap chooses (README).
 */
export class PipelineStack extends Stack {
  readonly pipeline: pipelines.CodePipeline;
  readonly logKey: StrongroomKey;
  readonly buildLogs: EncryptedLogGroup;
  /** The approval before each stage but the first, by stage name. */
  readonly approvals: ReadonlyMap<string, pipelines.ManualApprovalStep>;
  /** The step after each stage's deployment that publishes its user pool's JWKS, by stage name. */
  readonly jwksPublishers: ReadonlyMap<string, pipelines.CodeBuildStep>;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id, props);
    if (props.stages.length === 0) throw new Error('the pipeline needs at least one stage, got none');

    this.logKey = new StrongroomKey(this, 'LogKey', {
      stage: 'pipeline',
      purpose: 'build-logs',
      allowCloudWatchLogs: true,
    });
    this.buildLogs = new EncryptedLogGroup(this, 'BuildLogs', {
      logGroupName: '/strongroom/pipeline/builds',
      logClass: 'security',
      encryptionKey: this.logKey.key,
    });

    const { connectionArn, repository, branch } = props.pipeline;
    const source = pipelines.CodePipelineSource.connection(repository, branch, {
      connectionArn,
      triggerOnPush: true,
    });
    this.pipeline = new pipelines.CodePipeline(this, 'Pipeline', {
      pipelineName: 'strongroom',
      crossAccountKeys: true,
      enableKeyRotation: true,
      selfMutation: true,
      useChangeSets: true,
      publishAssetsInParallel: false,
      dockerEnabledForSynth: false,
      dockerEnabledForSelfMutation: false,
      cliVersion: pipelineCliVersion,
      cdkAssetsCliVersion: pipelineAssetsCliVersion,
      synth: new pipelines.ShellStep('Synth', {
        input: source,
        commands: [...synthCommands],
        primaryOutputDirectory: 'cdk.out',
      }),
      codeBuildDefaults: {
        buildEnvironment: {
          buildImage: codebuild.LinuxBuildImage.STANDARD_7_0,
          computeType: codebuild.ComputeType.MEDIUM,
          privileged: false,
        },
        logging: { cloudWatch: { logGroup: this.buildLogs.logGroup } },
        timeout: Duration.minutes(60),
      },
    });

    const approvals = new Map<string, pipelines.ManualApprovalStep>();
    const jwksPublishers = new Map<string, pipelines.CodeBuildStep>();
    props.stages.forEach((stage, index) => {
      const name = stage.platform.stageName;
      const approval =
        index === 0
          ? undefined
          : new pipelines.ManualApprovalStep(`Approve-${name}`, {
              comment: `Promote to ${name}: ${props.stages[index - 1]?.platform.stageName} is deployed; review its change sets and checks first (INF-8).`,
            });
      if (approval) approvals.set(name, approval);
      const { userPoolIdOutput, jwksSecretArnOutput } = stage.platform;
      const publisher = new pipelines.CodeBuildStep(`PublishJwks-${name}`, {
        input: source,
        commands: [...publishJwksCommands],
        envFromCfnOutputs: { USER_POOL_ID: userPoolIdOutput, JWKS_SECRET_ARN: jwksSecretArnOutput },
        rolePolicyStatements: cognitoJwksPublishStatements(
          stage.platform.account,
          stage.platform.region,
          name,
        ),
      });
      jwksPublishers.set(name, publisher);
      this.pipeline.addStage(stage, { pre: approval ? [approval] : [], post: [publisher] });
    });
    this.approvals = approvals;
    this.jwksPublishers = jwksPublishers;
    // Built now rather than at synthesis, so its constructs exist for the acknowledgements.
    this.pipeline.buildPipeline();
    // The DR-region support stack (artifact replication bucket and key) is as protected as this one.
    const { artifactBucket } = this.pipeline.pipeline;
    this.#hardenArtifactKey(artifactBucket.encryptionKey);
    this.#versionArtifacts(artifactBucket);
    for (const { stack, replicationBucket } of Object.values(this.pipeline.pipeline.crossRegionSupport)) {
      stack.terminationProtection = true;
      this.#hardenArtifactKey(replicationBucket.encryptionKey);
      this.#versionArtifacts(replicationBucket);
    }
    this.#limitAssetRole();
    this.#acknowledgeGeneratedGrants();
  }

  /**
   * The artifact keys CDK Pipelines creates get the policy of every Strongroom key (ENC-2,
   * ENC-4): account principals administer without using, and use the key only through S3
   * (artifacts are SSE-KMS objects); yearly rotation, a 30-day deletion window, RETAIN.
   */
  #hardenArtifactKey(key: kms.IKey | undefined): void {
    // The DR region's bucket names its key through an alias (so the pipeline can refer to it).
    const target = key !== undefined && 'aliasTargetKey' in key ? (key as kms.IAlias).aliasTargetKey : key;
    const cfnKey = target?.node.defaultChild as kms.CfnKey | undefined;
    if (cfnKey?.cfnResourceType !== 'AWS::KMS::Key')
      throw new Error('the pipeline has an artifact bucket without a customer-managed key');
    const { account, region, partition } = Stack.of(cfnKey);
    const root = { AWS: `arn:${partition}:iam::${account}:root` };
    const viaS3 = { 'kms:CallerAccount': account, 'kms:ViaService': `s3.${region}.amazonaws.com` };
    cfnKey.addPropertyOverride('KeyPolicy', {
      Version: '2012-10-17',
      Statement: [
        {
          Sid: 'KeyAdministrationWithoutUse',
          Effect: 'Allow',
          Principal: root,
          Action: [...keyAdministrationActions],
          Resource: '*',
        },
        {
          Sid: 'UseOnlyThroughS3',
          Effect: 'Allow',
          Principal: root,
          Action: [...keyUsageActions],
          Resource: '*',
          Condition: { StringEquals: viaS3 },
        },
      ],
    });
    cfnKey.addPropertyOverride('EnableKeyRotation', true);
    cfnKey.addPropertyOverride('RotationPeriodInDays', 365);
    cfnKey.addPropertyOverride('PendingWindowInDays', 30);
    cfnKey.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }

  /**
   * Artifact buckets keep earlier versions for 90 days, so an overwritten bundle or template
   * can be seen and compared; they stay on stack deletion like every other bucket (BAK-1).
   */
  #versionArtifacts(bucket: s3.IBucket): void {
    const cfnBucket = bucket.node.defaultChild as s3.CfnBucket | undefined;
    if (cfnBucket?.cfnResourceType !== 'AWS::S3::Bucket')
      throw new Error('the pipeline has no artifact bucket of its own');
    // Set on the L1 properties (not as overrides), so the policy packs see them too.
    cfnBucket.versioningConfiguration = { status: 'Enabled' };
    cfnBucket.lifecycleConfiguration = {
      rules: [
        {
          id: 'EarlierArtifactVersions',
          status: 'Enabled',
          noncurrentVersionExpiration: { noncurrentDays: 90 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    };
    cfnBucket.applyRemovalPolicy(RemovalPolicy.RETAIN);
  }

  /** A construct of the built pipeline, by its path below the pipeline; synthesis fails if CDK renamed it. */
  #generated(path: string): IConstruct {
    const found = this.pipeline.node.tryFindChild(path.split('/')[0] ?? '');
    let node: IConstruct | undefined = found;
    for (const part of path.split('/').slice(1)) node = node?.node.tryFindChild(part);
    if (node === undefined)
      throw new Error(`the built pipeline has no ${path}: update infra/stacks/pipeline-stack.ts`);
    return node;
  }

  /**
   * CDK Pipelines gives the asset-publishing role StartBuild on every CodeBuild project of the
   * account (one role shared by all asset projects). With a buildspec override that would run
   * anything under another project's role, e.g. self-mutation's, which can deploy: an explicit
   * Deny limits it to the asset projects themselves (INF-2).
   */
  #limitAssetRole(): void {
    const role = this.#generated('Assets/FileRole') as iam.Role;
    const projects = this.node
      .findAll()
      .filter((node): node is codebuild.Project => node instanceof codebuild.Project && node.role === role);
    if (projects.length === 0) throw new Error('the built pipeline has no asset project for its FileRole');
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheAssetProjects',
        effect: iam.Effect.DENY,
        actions: ['codebuild:StartBuild', 'codebuild:StopBuild', 'codebuild:StartBuildBatch'],
        notResources: projects.map((project) => project.projectArn),
      }),
    );
  }

  /** The wildcards CDK Pipelines' own grants carry, each acknowledged with its reason (INF-2). */
  #acknowledgeGeneratedGrants(): void {
    const artifacts = this.pipeline.pipeline.artifactBucket;
    const artifactObjects = `Resource::<${logicalIdOf(artifacts.node.defaultChild as CfnElement)}.Arn>/*`;
    const grant = (...findings: string[]) =>
      findings.map((finding) => ({
        rule: `AwsSolutions-IAM5[${finding}]`,
        reason: pipelineReasons.artifacts,
      }));
    const readWrite = grant(
      'Action::s3:Abort*',
      'Action::s3:DeleteObject*',
      'Action::s3:GetBucket*',
      'Action::s3:GetObject*',
      'Action::s3:List*',
      artifactObjects,
      'Action::kms:GenerateDataKey*',
      'Action::kms:ReEncrypt*',
    );
    const read = grant('Action::s3:GetBucket*', 'Action::s3:GetObject*', 'Action::s3:List*', artifactObjects);
    const codeBuild = (projectPath: string) => {
      const project = logicalIdOf(this.#generated(projectPath).node.defaultChild as CfnElement);
      const { region, account } = this;
      return [
        `Resource::arn:aws:logs:${region}:${account}:log-group:/aws/codebuild/<${project}>:*`,
        `Resource::arn:aws:codebuild:${region}:${account}:report-group/<${project}>-*`,
      ].map((finding) => ({
        rule: `AwsSolutions-IAM5[${finding}]`,
        reason: pipelineReasons.codeBuildDefaults,
      }));
    };
    const replication = Object.values(this.pipeline.pipeline.crossRegionSupport);

    acknowledge(
      this.#generated('Pipeline/Role/DefaultPolicy'),
      ...readWrite,
      ...replication.map(({ replicationBucket }) => {
        // Named physically (it lives in the support stack), so the name resolves to a literal here.
        const name: unknown = this.resolve(replicationBucket.bucketName);
        if (typeof name !== 'string') throw new Error('the replication bucket has no physical name');
        return {
          rule: `AwsSolutions-IAM5[Resource::arn:aws:s3:::${name}/*]`,
          reason: pipelineReasons.artifacts,
        };
      }),
      { rule: 'AwsSolutions-IAM5[Resource::*]', reason: pipelineReasons.replicationKey },
    );
    acknowledge(
      this.#generated(
        `Pipeline/Source/${sourceActionId(this.pipeline)}/CodePipelineActionRole/DefaultPolicy`,
      ),
      ...readWrite,
    );
    acknowledge(
      this.#generated('Pipeline/Build/Synth/CdkBuildProject/Role/DefaultPolicy'),
      ...readWrite,
      ...codeBuild('Pipeline/Build/Synth/CdkBuildProject'),
    );
    acknowledge(
      this.#generated('UpdatePipeline/SelfMutation/Role/DefaultPolicy'),
      ...read,
      ...grant('Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'),
      ...codeBuild('UpdatePipeline/SelfMutation'),
      {
        rule: `AwsSolutions-IAM5[Resource::arn:*:iam::${this.account}:role/*]`,
        reason: pipelineReasons.bootstrapRoles,
      },
      { rule: 'AwsSolutions-IAM5[Resource::*]', reason: pipelineReasons.selfMutationLookups },
    );
    acknowledge(
      this.#generated('Assets/FileRole/DefaultPolicy'),
      ...read,
      {
        rule: `AwsSolutions-IAM5[Resource::arn:aws:logs:${this.region}:${this.account}:log-group:/aws/codebuild/*]`,
        reason: pipelineReasons.assetRole,
      },
      {
        rule: `AwsSolutions-IAM5[Resource::arn:aws:codebuild:${this.region}:${this.account}:report-group/*]`,
        reason: pipelineReasons.assetRole,
      },
      { rule: 'AwsSolutions-IAM5[Resource::*]', reason: pipelineReasons.assetRole },
    );
    for (const [stageName, publisher] of this.jwksPublishers) {
      const project = `Pipeline/strongroom-${stageName}/${publisher.id}/${publisher.id}`;
      acknowledge(
        this.#generated(`${project}/Role/DefaultPolicy`),
        ...read,
        ...grant('Action::kms:GenerateDataKey*', 'Action::kms:ReEncrypt*'),
        ...codeBuild(project),
        {
          rule: `AwsSolutions-IAM5[Resource::arn:aws:kms:${this.region}:${this.account}:key/*]`,
          reason: pipelineReasons.jwksPublisherKey,
        },
      );
    }
    acknowledge(artifacts, { rule: 'AwsSolutions-S1', reason: pipelineReasons.artifactAccessLogs });
    for (const { replicationBucket } of replication) {
      acknowledge(replicationBucket, { rule: 'AwsSolutions-S1', reason: pipelineReasons.artifactAccessLogs });
    }
  }
}

/** The source action's construct id: the repository with `/` replaced. */
function sourceActionId(pipeline: pipelines.CodePipeline): string {
  const source = pipeline.pipeline.stages[0]?.actions[0]?.actionProperties.actionName;
  if (source === undefined) throw new Error('the built pipeline has no source action');
  return source;
}

/** Why CDK Pipelines' generated grants carry wildcards (cdk-nag IAM5, S1). */
export const pipelineReasons = {
  artifacts:
    "CDK Pipelines grants each role read or write on the pipeline's own artifact buckets and their customer-managed keys only (grantRead/grantReadWrite expand to s3:GetObject*, s3:List*, kms:GenerateDataKey*, kms:ReEncrypt* and so on); object keys are pipeline execution ids known only at run time.",
  replicationKey:
    "The DR region's artifact replication key lives in the pipeline's support stack and is named by alias, so CDK cannot put its ARN in the pipeline role's policy; the statement holds only the artifact encryption actions (Decrypt, DescribeKey, Encrypt, GenerateDataKey*, ReEncrypt*).",
  codeBuildDefaults:
    "CodeBuild's default grants name the project's own log group (/aws/codebuild/<project>) and report groups (<project>-*); the builds log to the pipeline's KMS-encrypted log group and publish no reports.",
  bootstrapRoles:
    'Self-mutation and asset publishing assume the CDK bootstrap roles, whose names carry the bootstrap qualifier: the statement allows sts:AssumeRole only on roles tagged aws-cdk:bootstrap-role = deploy, file-publishing or image-publishing, in this account.',
  selfMutationLookups:
    'cdk deploy of the pipeline stack reads stack status (cloudformation:DescribeStacks) and lists the bootstrap bucket (s3:ListBucket); the statement holds only those two read actions.',
  assetRole:
    'CDK Pipelines shares one asset-publishing role between its asset projects and grants it CodeBuild logs, reports and StartBuild/StopBuild/BatchGetBuilds on any project; an explicit Deny (OnlyTheAssetProjects) limits starting and stopping builds to the asset projects themselves.',
  jwksPublisherKey:
    "The stage's JWKS secret key is created by the stage's own stack, so the pipeline cannot name its id; the statement allows only Decrypt, Encrypt and GenerateDataKey, only through Secrets Manager in the stage's region (kms:ViaService) and only for the stage's JWKS secret (kms:EncryptionContext:SecretARN).",
  artifactAccessLogs:
    'Pipeline artifact buckets (primary and DR-region replication) hold synthesized templates and function bundles, never customer data; they are KMS-encrypted with rotating keys, block public access and deny non-TLS requests, and pipeline executions are recorded by CloudTrail. A server access log bucket per region would log the pipeline reading its own artifacts.',
} as const;
