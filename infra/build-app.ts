/**
 * Builds the whole CDK app from configuration, without synthesizing it, so the CLI entry
 * (infra/app.ts) and the infra tests construct exactly the same thing.
 */
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Aspects, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks, WriteNagSuppressionsToCloudFormationAspect } from 'cdk-nag';
import { isEuRegion } from '#shared/config/product';
import { loadConfig, type StrongroomConfig } from './config';
import { acknowledgeNagFindings } from './nag-suppressions';
import { loadPipelineConfig } from './pipeline-config';
import { AccountStack } from './stacks/account-stack';
import { accountBaselineEnabled, addAccountBaseline, type BaselineStack } from './stacks/baseline-stack';
import type { DrVaultStack } from './stacks/dr-vault-stack';
import { PipelineStack } from './stacks/pipeline-stack';
import type { PlatformStack } from './stacks/platform-stack';
import { StrongroomStage } from './stacks/strongroom-stage';

/** The project root: the folder above infra/. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface StrongroomApp {
  readonly app: App;
  readonly config: StrongroomConfig;
  readonly account: AccountStack;
  readonly platforms: readonly PlatformStack[];
  readonly drVaults: readonly DrVaultStack[];
  /** Each deployment stage as a Stage (platform and DR stacks), in pipeline order (INF-5, INF-8). */
  readonly stages: readonly StrongroomStage[];
  /** The pipeline that deploys the stages: dev, a manual approval, prod (INF-8). */
  readonly pipeline: PipelineStack;
  /** The account baseline (INF-6); empty when `strongroom:accountBaseline` is false. */
  readonly baselines: readonly BaselineStack[];
}

export interface BuildAppOptions extends AppProps {
  /**
   * The moment of synthesis, for security.txt's expiry.
   * @default new Date()
   */
  readonly now?: Date;
}

export function buildApp(options: BuildAppOptions = {}): StrongroomApp {
  const { now, ...appProps } = options;
  const app = new App(appProps);
  const config = loadConfig((key) => app.node.tryGetContext(key));
  const primary = { account: config.account, region: config.primaryRegion };

  const account = new AccountStack(app, 'strongroom-account', {
    env: primary,
    description: 'Strongroom: account-wide settings of the primary region',
    terminationProtection: true,
  });
  // Stages are Stages (not top-level stacks) so the pipeline can deploy them; their stacks keep
  // their names and logical ids.
  const stages = config.stages.map(
    (stageConfig) =>
      new StrongroomStage(app, `strongroom-${stageConfig.name}`, { stageConfig, config, projectRoot, now }),
  );
  const platforms = stages.map((stage) => stage.platform);
  const drVaults = stages.map((stage) => stage.drVault);
  // API Gateway needs the account stack's logging role before a stage logs; a dependency cannot
  // cross into a Stage, so the account stack is deployed first, at bootstrap (README).
  const baselines = accountBaselineEnabled((key) => app.node.tryGetContext(key))
    ? addAccountBaseline(app, config)
    : [];
  Tags.of(app).add('strongroom:project', 'strongroom');

  // Before the pipeline: adding a stage to it synthesizes the stage, acknowledgements included.
  acknowledgeNagFindings({ account, platforms, drVaults });
  // The app's aspects stop at a Stage: each stage writes its acknowledgements into its templates itself.
  for (const stage of stages) Aspects.of(stage).add(new WriteNagSuppressionsToCloudFormationAspect());
  const pipeline = new PipelineStack(app, 'strongroom-pipeline', {
    env: primary,
    description: 'Strongroom: the deployment pipeline (synth, tests and gates, dev, approval, prod)',
    terminationProtection: true,
    pipeline: loadPipelineConfig((key) => app.node.tryGetContext(key)),
    stages,
  });
  assertEuResidency(app);
  // Acknowledged findings are also written into the templates' metadata, for reviewers of the CloudFormation.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return { app, config, account, platforms, drVaults, stages, pipeline, baselines };
}

/**
 * INF-3, checked on the finished tree as well as on the configuration: a stack added later
 * with another region, or with no region at all, fails synth too.
 */
export function assertEuResidency(app: App): void {
  for (const child of app.node.findAll()) {
    if (!Stack.isStack(child)) continue;
    const { region } = child;
    if (Token.isUnresolved(region) || !isEuRegion(region)) {
      const shown = Token.isUnresolved(region) ? 'an unresolved region' : JSON.stringify(region);
      throw new Error(`stack ${child.stackName} must be in an eu region (INF-3), got ${shown}`);
    }
  }
}
