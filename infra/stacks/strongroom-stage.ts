import { Stage, type StageProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { StageConfig, StrongroomConfig } from '../config';
import { DrVaultStack } from './dr-vault-stack';
import { PlatformStack } from './platform-stack';

export interface StrongroomStageProps extends StageProps {
  /** The deployment stage (dev, prod) this Stage deploys (INF-5). */
  readonly stageConfig: StageConfig;
  /** Account and regions of the app (INF-3). */
  readonly config: StrongroomConfig;
  /** Project root with package.json and the handler modules. */
  readonly projectRoot: string;
  /**
   * The moment of synthesis, for security.txt's expiry (VUL-1).
   * @default new Date()
   */
  readonly now?: Date;
}

/**
 * One deployment stage as the pipeline deploys it (INF-5, INF-8): the platform stack in the
 * primary region and the DR vault stack in the second region (deployed first: the platform's
 * backup plan copies into its vault, which needs its region's advanced backup setting), with the stack names they
 * always had (`strongroom-<stage>-platform`, `strongroom-<stage>-dr`), so moving them into
 * the Stage changes no logical id and replaces nothing. The CLI still selects them as
 * `strongroom-<stage>/*` (a first deployment, a break-glass fix of dev), but prod goes
 * through the pipeline (README: "Deploying through the pipeline").
 */
export class StrongroomStage extends Stage {
  readonly platform: PlatformStack;
  readonly drVault: DrVaultStack;

  constructor(scope: Construct, id: string, props: StrongroomStageProps) {
    const { stageConfig, config } = props;
    if (id !== `strongroom-${stageConfig.name}`) {
      throw new Error(`stage id must be strongroom-${stageConfig.name}, got ${JSON.stringify(id)}`);
    }
    super(scope, id, { ...props, env: { account: config.account, region: config.primaryRegion } });
    const stage = stageConfig.name;
    this.platform = new PlatformStack(this, 'platform', {
      stackName: `strongroom-${stage}-platform`,
      env: { account: config.account, region: config.primaryRegion },
      description: `Strongroom ${stage}: keys, tables, identity, API and firewall`,
      terminationProtection: true,
      stageConfig,
      projectRoot: props.projectRoot,
      now: props.now,
      drRegion: config.drRegion,
    });
    this.drVault = new DrVaultStack(this, 'dr', {
      stackName: `strongroom-${stage}-dr`,
      env: { account: config.account, region: config.drRegion },
      description: `Strongroom ${stage}: disaster-recovery backup vault and audit archive replica in the second EU region`,
      terminationProtection: true,
      stage,
      projectRoot: props.projectRoot,
      privateNetwork: stageConfig.privateNetwork,
      auditArchiveRetentionDays: stageConfig.auditArchiveRetentionDays,
    });
    // The DR region's vault and advanced backup setting exist before the plan copies into them.
    this.platform.addStackDependency(this.drVault, 'the backup plan copies into the DR vault (BAK-2)');
    // App-level tags stop at a Stage's boundary: the stage tags its own stacks.
    Tags.of(this).add('strongroom:stage', stage);
    Tags.of(this).add('strongroom:project', 'strongroom');
  }
}
