import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as backup from 'aws-cdk-lib/aws-backup';
import type { Construct } from 'constructs';
import { StrongroomKey } from '../constructs/strongroom-key';

/** Shortest retention any recovery point in the DR vault may have (BAK-2). */
export const drMinimumRetention = Duration.days(35);

export interface DrVaultStackProps extends StackProps {
  /** Stage whose backups the vault receives; each stage has its own vault and key (INF-5). */
  readonly stage: string;
}

/**
 * The disaster-recovery vault of one stage in the second EU region: copies of the stage's
 * backups are re-encrypted there under a key that lives in that region (ENC-5, BAK-2).
 * The backup plan that copies into it arrives with the backup issue.
 */
export class DrVaultStack extends Stack {
  readonly vaultKey: StrongroomKey;
  readonly vault: backup.BackupVault;

  constructor(scope: Construct, id: string, props: DrVaultStackProps) {
    super(scope, id, props);
    this.vaultKey = new StrongroomKey(this, 'VaultKey', {
      stage: props.stage,
      purpose: 'dr-backups',
      viaServices: ['backup'],
    });
    this.vault = new backup.BackupVault(this, 'Vault', {
      backupVaultName: `strongroom-${props.stage}-dr`,
      encryptionKey: this.vaultKey.key,
      removalPolicy: RemovalPolicy.RETAIN,
      // Nobody deletes a recovery point by hand; only its lifecycle does.
      blockRecoveryPointDeletion: true,
      // Governance-mode lock for now; compliance mode (changeableFor) is a deliberate later step.
      lockConfiguration: { minRetention: drMinimumRetention },
    });
  }
}
