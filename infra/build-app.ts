/**
 * Builds the whole CDK app from configuration, without synthesizing it, so the CLI entry
 * (infra/app.ts) and the infra tests construct exactly the same thing.
 */
import { fileURLToPath } from 'node:url';
import { App, type AppProps, Stack, Tags, Token, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { isEuRegion } from '#shared/config/product';
import { loadConfig, type StrongroomConfig } from './config';
import { acknowledgeNagFindings } from './nag-suppressions';
import { AccountStack } from './stacks/account-stack';
import { accountBaselineEnabled, addAccountBaseline, type BaselineStack } from './stacks/baseline-stack';
import { DrVaultStack } from './stacks/dr-vault-stack';
import { PlatformStack } from './stacks/platform-stack';

/** The project root: the folder above infra/. */
export const projectRoot = fileURLToPath(new URL('..', import.meta.url));

export interface StrongroomApp {
  readonly app: App;
  readonly config: StrongroomConfig;
  readonly account: AccountStack;
  readonly platforms: readonly PlatformStack[];
  readonly drVaults: readonly DrVaultStack[];
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
  const dr = { account: config.account, region: config.drRegion };

  const account = new AccountStack(app, 'strongroom-account', {
    env: primary,
    description: 'Strongroom: account-wide settings of the primary region',
    terminationProtection: true,
  });
  const platforms: PlatformStack[] = [];
  const drVaults: DrVaultStack[] = [];
  for (const stageConfig of config.stages) {
    const stage = stageConfig.name;
    const platform = new PlatformStack(app, `strongroom-${stage}-platform`, {
      env: primary,
      description: `Strongroom ${stage}: keys, tables, identity, API and firewall`,
      terminationProtection: true,
      stageConfig,
      projectRoot,
      now,
      drRegion: config.drRegion,
    });
    platform.addStackDependency(account, 'API Gateway needs the account logging role before stages log');
    const drVault = new DrVaultStack(app, `strongroom-${stage}-dr`, {
      env: dr,
      description: `Strongroom ${stage}: disaster-recovery backup vault in the second EU region`,
      terminationProtection: true,
      stage,
    });
    for (const stack of [platform, drVault]) Tags.of(stack).add('strongroom:stage', stage);
    platforms.push(platform);
    drVaults.push(drVault);
  }
  const baselines = accountBaselineEnabled((key) => app.node.tryGetContext(key))
    ? addAccountBaseline(app, config)
    : [];
  Tags.of(app).add('strongroom:project', 'strongroom');

  assertEuResidency(app);
  acknowledgeNagFindings({ account, platforms, drVaults });
  // Acknowledged findings are also written into the templates' metadata, for reviewers of the CloudFormation.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { writeSuppressionsToCloudFormation: true }));
  return { app, config, account, platforms, drVaults, baselines };
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
