import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type { Construct } from 'constructs';
import {
  type AdvancedBackupSetting,
  addAdvancedBackupSetting,
  allowRegionSettings,
} from '../constructs/advanced-backup-setting';
import { AuditArchiveReplica } from '../constructs/audit-archive-replica';
import { PrivateNetwork, regionAvailabilityZones } from '../constructs/private-network';
import { allowCustomResourceResponses, allowTraces } from '../constructs/stage-endpoint-policies';
import { StrongroomKey } from '../constructs/strongroom-key';

/** Shortest retention any recovery point in the DR vault may have (BAK-2). */
export const drMinimumRetention = Duration.days(35);

/** The DR region's VPC range: apart from the primary region's (10.40.0.0/16), should they ever be joined. */
export const drNetworkCidr = '10.41.0.0/16';

export interface DrVaultStackProps extends StackProps {
  /** Stage whose backups the vault receives; each stage has its own vault and key (INF-5). */
  readonly stage: string;
  /** Project root with package.json and the handler modules (the setting function). */
  readonly projectRoot: string;
  /**
   * Whether the stage runs its functions in a private network (INF-7): then the setting
   * function sits in a VPC of this region with the S3, Backup and X-Ray endpoints only.
   * @default false
   */
  readonly privateNetwork?: boolean;
  /** Days each replicated audit archive object stays locked, as in the primary archive (AUD-2). */
  readonly auditArchiveRetentionDays: number;
}

/**
 * The disaster-recovery side of one stage in the second EU region: the vault that receives
 * copies of the stage's backups, re-encrypted there under a key that lives in that region
 * (ENC-5, BAK-2), and the region's advanced DynamoDB backup setting, which those copies need
 * and which this stack sets itself (a custom resource in this region, no cross-region call),
 * and the replica of the stage's audit archive, which the primary archive replicates into (AUD-2).
 * In a stage with a private network the setting's function runs in a VPC of this region like
 * every function of the platform stack (INF-7): isolated subnets in every zone, flow logs,
 * and only the endpoints it uses, each with a policy naming only our resources.
 */
export class DrVaultStack extends Stack {
  readonly vaultKey: StrongroomKey;
  readonly vault: backup.BackupVault;
  /** Key of the setting function's and the flow logs' log groups (ENC-2). */
  readonly logKey: StrongroomKey;
  /** Key of the setting function's environment (ENC-2). */
  readonly functionKey: StrongroomKey;
  readonly network: PrivateNetwork | undefined;
  readonly advancedDynamoDbSetting: AdvancedBackupSetting;

  /** The region's zones without a context lookup (the private network spans every one, INF-7). */
  override get availabilityZones(): string[] {
    return regionAvailabilityZones(this.region);
  }
  readonly auditArchiveReplica: AuditArchiveReplica;

  constructor(scope: Construct, id: string, props: DrVaultStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.vaultKey = new StrongroomKey(this, 'VaultKey', {
      stage,
      purpose: 'dr-backups',
      viaServices: ['backup'],
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: `strongroom-${stage}-dr`,
      encryptionKey: this.vaultKey.key,
      removalPolicy: RemovalPolicy.RETAIN,
      // Nobody deletes a recovery point by hand; only its lifecycle does.
      blockRecoveryPointDeletion: true,
      // Governance-mode lock for now; compliance mode (changeableFor) is a deliberate later step.
      lockConfiguration: { minRetention: drMinimumRetention },
    });

    this.logKey = new StrongroomKey(this, 'LogKey', { stage, purpose: 'logs', allowCloudWatchLogs: true });
    this.functionKey = new StrongroomKey(this, 'FunctionKey', {
      stage,
      purpose: 'function-environment',
      viaServices: ['lambda'],
    });
    // INF-7: before the function, which places itself in it (RouteFunction).
    this.network = props.privateNetwork
      ? new PrivateNetwork(this, 'Network', {
          stage,
          flowLogKey: this.logKey.key,
          cidr: drNetworkCidr,
          endpoints: ['s3', 'backup', 'xray'],
        })
      : undefined;
    this.advancedDynamoDbSetting = addAdvancedBackupSetting(this, {
      stage,
      projectRoot: props.projectRoot,
      environment: { STRONGROOM_MODE: 'aws', STRONGROOM_STAGE: stage },
      environmentKey: this.functionKey.key,
      logKey: this.logKey.key,
    });
    if (this.network) {
      allowCustomResourceResponses(this.network);
      allowTraces(this.network);
      allowRegionSettings(this.network, this.advancedDynamoDbSetting);
    }
    this.auditArchiveReplica = new AuditArchiveReplica(this, 'AuditArchiveReplica', {
      stage: props.stage,
      retentionDays: props.auditArchiveRetentionDays,
    });
  }
}
