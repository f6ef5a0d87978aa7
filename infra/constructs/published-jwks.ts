import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { grantSecretRead } from './api-key-pepper';
import { StrongroomKey } from './strongroom-key';

/** The key of the JWKS secret in the authorizer's SECRET_ARNS (shared/config/runtime.ts). */
export const cognitoJwksSecretKey = 'cognito-jwks';

/** The secret's name for a stage: the pipeline's PublishJwks step and `npm run publish-jwks` write it. */
export function cognitoJwksSecretName(stage: string): string {
  return `strongroom/${stage}/${cognitoJwksSecretKey}`;
}

/**
 * What a publisher may do, for a stage in an account and region: write and read that stage's
 * JWKS secret only, with its key used through Secrets Manager for that secret only. The
 * pipeline holds these (it does not know the secret's or key's generated ids, hence the
 * name patterns); nothing else writes the secret.
 */
export function cognitoJwksPublishStatements(
  account: string,
  region: string,
  stage: string,
): iam.PolicyStatement[] {
  // Secrets Manager appends "-" and six random characters to a secret's name in its ARN.
  const secretArn = `arn:aws:secretsmanager:${region}:${account}:secret:${cognitoJwksSecretName(stage)}-??????`;
  return [
    new iam.PolicyStatement({
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resources: [secretArn],
    }),
    new iam.PolicyStatement({
      actions: ['kms:Decrypt', 'kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [`arn:aws:kms:${region}:${account}:key/*`],
      conditions: {
        StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` },
        StringLike: { 'kms:EncryptionContext:SecretARN': secretArn },
      },
    }),
  ];
}

export interface PublishedJwksProps {
  /** Stage that owns the secret; part of its name. */
  readonly stage: string;
}

/**
 * The user pool's public JWKS as the authorizer trusts it (INF-7, AUTH-6): a Secrets Manager
 * secret that the pipeline writes after each deployment of the stage (`npm run publish-jwks`)
 * and the authorizer reads through the Secrets Manager endpoint, so no function of a private
 * stage needs the internet for Cognito's keys. The keys are public; the secret is for their
 * integrity (whoever can write it decides which tokens pass), under a key of its own and
 * written by the pipeline's publish step only.
 *
 * It is created with a random value, which the authorizer refuses as a JWKS: until the first
 * publication every token is refused. The L1 secret for the reason ApiKeyPepper gives.
 */
export class PublishedJwks extends Construct {
  readonly secret: secretsmanager.CfnSecret;
  readonly encryptionKey: StrongroomKey;

  constructor(scope: Construct, id: string, props: PublishedJwksProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`published jwks stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    this.encryptionKey = new StrongroomKey(this, 'Key', {
      stage: props.stage,
      purpose: 'cognito-jwks',
      viaServices: ['secretsmanager'],
    });
    this.secret = new secretsmanager.CfnSecret(this, 'Secret', {
      name: cognitoJwksSecretName(props.stage),
      description:
        "The user pool's public JWKS the authorizer trusts (AUTH-6, INF-7); written by the pipeline's PublishJwks step (npm run publish-jwks)",
      kmsKeyId: this.encryptionKey.key.keyArn,
      // A placeholder no verifier accepts as a JWKS; the publish step replaces it.
      generateSecretString: { passwordLength: 32, excludePunctuation: true, includeSpace: false },
    });
    // The publish step writes it again after every deployment.
    this.secret.applyRemovalPolicy(RemovalPolicy.DESTROY);
  }

  get secretArn(): string {
    return this.secret.ref;
  }

  /** Reading the JWKS: GetSecretValue on this secret, and Decrypt of its key through Secrets Manager only. */
  grantRead(grantee: iam.IGrantable): void {
    grantSecretRead(grantee, this.secretArn, this.encryptionKey.key.keyArn, Stack.of(this).region);
  }
}
