import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { signingKeyNamePrefix } from '#shared/crypto/signing';
import { keyAdministrationActions } from './strongroom-key';

/** Key administration of an asymmetric key: rotation actions do not apply to it. */
const signingKeyAdministrationActions = keyAdministrationActions.filter(
  (action) => !/Rotat/.test(action),
) as readonly string[];

/** One version of the audit signing key. */
export interface AuditSigningKeyVersion {
  readonly version: number;
  readonly key: kms.Key;
  /** Signed-note key name: `strongroom.dev/<stage>/audit-signing/<version>`. */
  readonly keyName: string;
}

export interface AuditSigningKeysProps {
  /** Stage that owns the keys; part of their aliases and signed-note key names (INF-5). */
  readonly stage: string;
  /**
   * Key versions, current first. Each version is its own KMS key; older versions stay
   * published so verifiers can check older checkpoints (ENC-2: rotation by procedure).
   * @default [1]
   */
  readonly versions?: readonly number[];
}

/**
 * The audit checkpoint signing keys of a stage (AUD-3, ENC-2, ENC-4): asymmetric KMS keys
 * (ECC_NIST_EDWARDS25519, SIGN_VERIFY) kept on stack deletion with a 30-day deletion
 * window. Their key policies separate administrators (account principals, no
 * cryptographic use) from users (only the roles named through `grantSign` and
 * `grantPublicKeyRead`). The current key carries `alias/strongroom/<stage>/audit-signing`;
 * every version also has `alias/strongroom/<stage>/audit-signing/<version>`.
 * Asymmetric keys do not rotate automatically: see docs/runbooks/audit-signing-key-rotation.md.
 */
export class AuditSigningKeys extends Construct {
  readonly versions: readonly AuditSigningKeyVersion[];
  readonly current: AuditSigningKeyVersion;
  readonly alias: kms.Alias;
  readonly #signers: iam.IRole[] = [];
  readonly #readers: iam.IRole[] = [];

  constructor(scope: Construct, id: string, props: AuditSigningKeysProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`audit signing keys stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    const versions = props.versions ?? [1];
    if (
      versions.length === 0 ||
      !versions.every((version) => Number.isInteger(version) && version >= 1) ||
      new Set(versions).size !== versions.length
    ) {
      throw new Error(
        `audit signing key versions must be distinct positive integers, current first, got ${JSON.stringify(versions)}`,
      );
    }
    this.versions = versions.map((version) => {
      const key = new kms.Key(this, `Key${version}`, {
        description: `Strongroom ${props.stage}: audit checkpoint signing, version ${version}`,
        keySpec: kms.KeySpec.ECC_NIST_EDWARDS25519,
        keyUsage: kms.KeyUsage.SIGN_VERIFY,
        pendingWindow: Duration.days(30),
        removalPolicy: RemovalPolicy.RETAIN,
        policy: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'KeyAdministrationWithoutUse',
              principals: [new iam.AccountRootPrincipal()],
              actions: [...signingKeyAdministrationActions],
              resources: ['*'],
            }),
          ],
        }),
      });
      new kms.Alias(this, `Alias${version}`, {
        aliasName: `alias/strongroom/${props.stage}/audit-signing/${version}`,
        targetKey: key,
      });
      return { version, key, keyName: `${signingKeyNamePrefix(props.stage)}/audit-signing/${version}` };
    });
    this.current = this.versions[0] as AuditSigningKeyVersion;
    this.alias = new kms.Alias(this, 'CurrentAlias', {
      aliasName: `alias/strongroom/${props.stage}/audit-signing`,
      targetKey: this.current.key,
    });
  }

  /** The AUDIT_SIGNING_KEYS value: JSON `[{keyArn, keyName}]`, current first (shared/config/runtime.ts). */
  get environmentValue(): string {
    return Stack.of(this).toJsonString(
      this.versions.map(({ key, keyName }) => ({ keyArn: key.keyArn, keyName })),
    );
  }

  /**
   * Signing with the current key and reading every version's public key: what the
   * checkpoint signer needs, and nothing more (no Sign with older versions).
   */
  grantSign(role: iam.IRole): void {
    if (this.#signers.length === 0) {
      this.current.key.addToResourcePolicy(
        this.#userStatement('SignOnlyByNamedRoles', 'kms:Sign', this.#signers),
      );
    }
    this.#signers.push(role);
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['kms:Sign'],
      resourceArns: [this.current.key.keyArn],
    });
    this.grantPublicKeyRead(role);
  }

  /** Reading the public keys of every version, to publish the key set (GET /audit/keys). */
  grantPublicKeyRead(role: iam.IRole): void {
    if (this.#readers.length === 0) {
      for (const { key } of this.versions) {
        key.addToResourcePolicy(
          this.#userStatement('PublicKeyOnlyByNamedRoles', 'kms:GetPublicKey', this.#readers),
        );
      }
    }
    if (this.#readers.includes(role)) return;
    this.#readers.push(role);
    iam.Grant.addToPrincipal({
      grantee: role,
      actions: ['kms:GetPublicKey'],
      resourceArns: this.versions.map(({ key }) => key.keyArn),
    });
  }

  /**
   * Key users (ENC-4): account principals, but only the named roles, and only the one action.
   * The role list is read when the template is written, so later grants join the statement.
   */
  #userStatement(sid: string, action: string, roles: readonly iam.IRole[]): iam.PolicyStatement {
    return new iam.PolicyStatement({
      sid,
      principals: [new iam.AccountRootPrincipal()],
      actions: [action],
      resources: ['*'],
      conditions: {
        ArnEquals: { 'aws:PrincipalArn': Lazy.list({ produce: () => roles.map((role) => role.roleArn) }) },
      },
    });
  }
}
