/**
 * Tenant sessions (AZ-3): in AWS a request handler's own role reaches no tenant data. Its
 * tenant-scoped data client signs with the credentials of the tenant access role, assumed
 * with the tenant id as the `tenantId` session tag, so IAM itself refuses any item whose
 * partition key does not begin with `<tenantId>#` (`dynamodb:LeadingKeys`), any request
 * without keys (`Null`), Scan and PartiQL, and changes to audit entries
 * (infra/constructs/tenant-access-role.ts). The local tenant guard checks the same rules
 * in-process, in both modes.
 *
 * Any handler may assume any tenant's session: the tenant it asks for must come only from
 * the authorizer's verified context (DataClients.forTenant is called with
 * `principal.tenantId`, never with a request value).
 *
 * Credentials are cached per tenant per container and renewed five minutes before expiry;
 * concurrent requests of one tenant share one AssumeRole call.
 */
import { AssumeRoleCommand, type STSClient } from '@aws-sdk/client-sts';
import { tenantPrefix } from '#shared/tenancy/tenant-id';

/** The session tag the tenant access role's policy reads (aws:PrincipalTag/tenantId). */
export const tenantSessionTagKey = 'tenantId';

export interface SessionCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  readonly expiration: Date;
}

export interface TenantSessionsOptions {
  /** Session length; the role allows at most an hour. @default 3600 */
  readonly durationSeconds?: number;
  /** Renew this long before expiry. @default 5 minutes */
  readonly refreshMarginMs?: number;
  readonly now?: () => number;
}

export class TenantSessions {
  readonly #sts: Pick<STSClient, 'send'>;
  readonly #roleArn: string;
  readonly #durationSeconds: number;
  readonly #refreshMarginMs: number;
  readonly #now: () => number;
  readonly #sessions = new Map<string, Promise<SessionCredentials>>();

  constructor(sts: Pick<STSClient, 'send'>, roleArn: string, options: TenantSessionsOptions = {}) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(roleArn)) {
      throw new Error(`tenant sessions need the tenant access role's ARN, got ${JSON.stringify(roleArn)}`);
    }
    this.#sts = sts;
    this.#roleArn = roleArn;
    this.#durationSeconds = options.durationSeconds ?? 3600;
    this.#refreshMarginMs = options.refreshMarginMs ?? 5 * 60_000;
    this.#now = options.now ?? Date.now;
  }

  /** The credential provider of one tenant's data client. */
  provider(tenantId: string): () => Promise<SessionCredentials> {
    tenantPrefix(tenantId);
    return () => this.credentials(tenantId);
  }

  async credentials(tenantId: string): Promise<SessionCredentials> {
    const cached = this.#sessions.get(tenantId);
    if (cached) {
      const session = await cached.catch(() => undefined);
      if (session && session.expiration.getTime() - this.#refreshMarginMs > this.#now()) return session;
    }
    const assuming = this.#assume(tenantId);
    this.#sessions.set(tenantId, assuming);
    try {
      return await assuming;
    } catch (error) {
      // A failed AssumeRole is not cached: the next request tries again.
      if (this.#sessions.get(tenantId) === assuming) this.#sessions.delete(tenantId);
      throw error;
    }
  }

  async #assume(tenantId: string): Promise<SessionCredentials> {
    const result = await this.#sts.send(
      new AssumeRoleCommand({
        RoleArn: this.#roleArn,
        RoleSessionName: `tenant-${tenantId}`.slice(0, 64),
        DurationSeconds: this.#durationSeconds,
        Tags: [{ Key: tenantSessionTagKey, Value: tenantId }],
      }),
    );
    const credentials = result.Credentials;
    if (
      !credentials?.AccessKeyId ||
      !credentials.SecretAccessKey ||
      !credentials.SessionToken ||
      !credentials.Expiration
    ) {
      throw new Error('STS returned no credentials for the tenant session');
    }
    return {
      accessKeyId: credentials.AccessKeyId,
      secretAccessKey: credentials.SecretAccessKey,
      sessionToken: credentials.SessionToken,
      expiration: credentials.Expiration,
    };
  }
}
