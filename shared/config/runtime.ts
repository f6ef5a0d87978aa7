/**
 * Runtime configuration of a handler, read once from the environment. The CDK stack
 * sets these variables on every function; the local runtime sets them before it
 * loads the handlers. Nothing secret is ever passed this way (SEC-1).
 */
export type RuntimeMode = 'aws' | 'local';

export interface RuntimeConfig {
  readonly mode: RuntimeMode;
  readonly stage: string;
  readonly region: string;
  /** DynamoDB Local endpoint, only in local mode. */
  readonly dynamoEndpoint: string | undefined;
  readonly userPoolId: string;
  readonly userPoolClientId: string;
  /** cognito-local's endpoint, only in local mode (invitations create users there). */
  readonly cognitoEndpoint?: string;
  /**
   * The tenant access role (AWS mode): tenant-scoped data clients sign with its session,
   * tagged with the tenant (AZ-3). Unset for cross-tenant jobs, which use their own role.
   */
  readonly tenantAccessRoleArn?: string;
  /** Folder with local key material, secrets and data (local mode only). */
  readonly localDataDir: string | undefined;
  readonly securityTxtExpires: string;
  readonly allowedOrigins: readonly string[];
  /** Checkpoint signing keys in KMS, current first (AWS mode; locally a key file is used). */
  readonly auditSigningKeys?: readonly { readonly keyArn: string; readonly keyName: string }[];
  /** Secrets Manager ARNs by secret name (AWS mode): the values never pass through the environment. */
  readonly secretArns?: Readonly<Record<string, string>>;
}

/** The `iss` claim of the configured pool's access tokens (Cognito's form, cognito-local's too). */
export function userPoolIssuer(config: Pick<RuntimeConfig, 'region' | 'userPoolId'>): string {
  return `https://cognito-idp.${config.region}.amazonaws.com/${config.userPoolId}`;
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`missing environment variable ${name}`);
  return value;
}

export function loadRuntimeConfig(env: NodeJS.ProcessEnv = process.env): RuntimeConfig {
  const mode = env.STRONGROOM_MODE === 'local' ? 'local' : 'aws';
  return {
    mode,
    stage: required(env, 'STRONGROOM_STAGE'),
    region: required(env, 'AWS_REGION'),
    dynamoEndpoint: mode === 'local' ? required(env, 'DYNAMODB_ENDPOINT') : undefined,
    userPoolId: env.COGNITO_USER_POOL_ID ?? '',
    userPoolClientId: env.COGNITO_CLIENT_ID ?? '',
    ...(mode === 'local' && env.COGNITO_ENDPOINT ? { cognitoEndpoint: env.COGNITO_ENDPOINT } : {}),
    ...(env.TENANT_ACCESS_ROLE_ARN ? { tenantAccessRoleArn: env.TENANT_ACCESS_ROLE_ARN } : {}),
    localDataDir: mode === 'local' ? required(env, 'STRONGROOM_DATA_DIR') : undefined,
    securityTxtExpires: env.SECURITY_TXT_EXPIRES ?? '',
    allowedOrigins: (env.ALLOWED_ORIGINS ?? '').split(',').filter((origin) => origin !== ''),
    auditSigningKeys: parseSigningKeys(env.AUDIT_SIGNING_KEYS),
    secretArns: parseSecretArns(env.SECRET_ARNS),
  };
}

function parseSigningKeys(value: string | undefined): NonNullable<RuntimeConfig['auditSigningKeys']> {
  if (value === undefined || value === '') return [];
  const parsed: unknown = JSON.parse(value);
  if (
    !Array.isArray(parsed) ||
    !parsed.every((key) => typeof key?.keyArn === 'string' && typeof key?.keyName === 'string')
  ) {
    throw new Error('AUDIT_SIGNING_KEYS must be a JSON array of {keyArn, keyName}');
  }
  return parsed.map((key: { keyArn: string; keyName: string }) => ({
    keyArn: key.keyArn,
    keyName: key.keyName,
  }));
}

function parseSecretArns(value: string | undefined): Record<string, string> {
  if (value === undefined || value === '') return {};
  const parsed: unknown = JSON.parse(value);
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    !Object.values(parsed).every((arn) => typeof arn === 'string')
  ) {
    throw new Error('SECRET_ARNS must be a JSON object of secret names to ARNs');
  }
  return parsed as Record<string, string>;
}
