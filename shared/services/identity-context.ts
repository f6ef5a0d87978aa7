/**
 * What the identity and access services need (members, API keys, support grants,
 * onboarding), created once per process. Tests build their own with other parts.
 */
import type { ApiKeyEnvironment } from '#shared/auth/api-key-format';
import { type RuntimeConfig, userPoolIssuer } from '#shared/config/runtime';
import { createPepperSource, type PepperSource } from '#shared/crypto/pepper';
import { ApiKeyStore } from '#shared/store/api-keys';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore } from '#shared/store/idempotency';
import { MemberStore } from '#shared/store/members';
import { MutationWriter } from '#shared/store/mutation';
import { SupportGrantStore } from '#shared/store/support-grants';
import { createUserDirectory, type UserDirectory } from '#shared/store/user-directory';

export interface IdentityContext {
  readonly config: RuntimeConfig;
  readonly clients: DataClients;
  readonly mutations: MutationWriter;
  readonly members: MemberStore;
  readonly apiKeys: ApiKeyStore;
  readonly supportGrants: SupportGrantStore;
  /** The API-key pepper (AUTH-5); nothing is read before the first key is made. */
  readonly pepper: PepperSource;
  /** `live` keys in AWS, `test` keys in the local runtime. */
  readonly keyEnvironment: ApiKeyEnvironment;
  readonly auditLog: AuditLog;
  /** Created on first use: only invitations and onboarding need it. */
  readonly directory: () => UserDirectory;
  /** The `iss` of the pool's tokens: with the subject, the identity a membership is for. */
  readonly issuer: string;
  readonly now: () => Date;
}

export function createIdentityContext(config: RuntimeConfig): IdentityContext {
  const auditLog = new AuditLog(config.stage);
  let directory: UserDirectory | undefined;
  return {
    config,
    clients: new DataClients(config),
    mutations: new MutationWriter(auditLog, new IdempotencyStore(config.stage)),
    members: new MemberStore(config.stage),
    apiKeys: new ApiKeyStore(config.stage),
    supportGrants: new SupportGrantStore(config.stage),
    pepper: createPepperSource({ ...config, secretArn: config.secretArns?.['api-key-pepper'] }),
    keyEnvironment: config.mode === 'local' ? 'test' : 'live',
    auditLog,
    directory: () => {
      directory ??= createUserDirectory(config);
      return directory;
    },
    issuer: userPoolIssuer(config),
    now: () => new Date(),
  };
}
