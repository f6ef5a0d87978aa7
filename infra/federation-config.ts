/**
 * Federated sign-in settings of a stage (AUTH-4), from cdk.json context under
 * `strongroom:stageSettings.<stage>.federation`:
 *
 * ```json
 * {
 *   "domainPrefix": "strongroom-dev-login",
 *   "callbackUrls": ["https://app.dev.strongroom.example/auth/callback"],
 *   "logoutUrls": ["https://app.dev.strongroom.example/"],
 *   "identityProviders": [
 *     { "name": "acme-entra", "type": "oidc", "tenantId": "acme",
 *       "issuer": "https://login.microsoftonline.com/<tenant>/v2.0", "clientId": "<app id>",
 *       "clientSecretArn": "arn:aws:secretsmanager:eu-central-1:<account>:secret:acme-oidc-AbCdEf",
 *       "claims": { "email": "email", "groups": "groups", "mfa": "amr" },
 *       "groupRoles": { "finance-admins": "admin", "ap-clerks": "accountant" },
 *       "mfaValues": ["mfa"] },
 *     { "name": "globex-okta", "type": "saml", "tenantId": "globex",
 *       "metadataUrl": "https://globex.okta.com/app/abc/sso/saml/metadata",
 *       "claims": { "email": "email", "groups": "groups", "mfa": "authnContextClassRef" },
 *       "groupRoles": { "Accounting": "accountant" },
 *       "mfaValues": ["http://schemas.openid.net/pape/policies/2007/06/multi-factor"] }
 *   ]
 * }
 * ```
 *
 * The OIDC client secret stays in Secrets Manager (the template holds a dynamic reference
 * to its `clientSecret` field, never the value). The tenant of each provider is this
 * configuration's, never an IdP claim.
 */
import { type FederationProvider, parseFederationProviders } from '#shared/auth/federation';

export interface OidcProviderConfig extends FederationProvider {
  readonly type: 'oidc';
  readonly issuer: string;
  readonly clientId: string;
  /** A Secrets Manager secret whose JSON has the `clientSecret` field. */
  readonly clientSecretArn: string;
  readonly claims: ProviderClaims;
}

export interface SamlProviderConfig extends FederationProvider {
  readonly type: 'saml';
  readonly metadataUrl: string;
  readonly claims: ProviderClaims;
}

/** The IdP's claim (OIDC) or attribute (SAML) names for email, groups and the MFA assertion. */
export interface ProviderClaims {
  readonly email: string;
  readonly groups: string;
  readonly mfa: string;
}

export type IdentityProviderConfig = OidcProviderConfig | SamlProviderConfig;

export interface FederationConfig {
  /** Prefix of the user pool's Cognito domain for the hosted sign-in pages. */
  readonly domainPrefix: string;
  readonly callbackUrls: readonly string[];
  readonly logoutUrls: readonly string[];
  readonly identityProviders: readonly IdentityProviderConfig[];
}

const httpsUrl = /^https:\/\/[^\s/]+(\/\S*)?$/;

export function parseFederationConfig(raw: unknown, key: string): FederationConfig | undefined {
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Error(`${key} must be an object, got ${JSON.stringify(raw)}`);
  }
  const value = raw as Record<string, unknown>;
  const known = new Set(['domainPrefix', 'callbackUrls', 'logoutUrls', 'identityProviders']);
  for (const field of Object.keys(value)) {
    if (!known.has(field)) throw new Error(`${key} has an unknown setting, got ${JSON.stringify(field)}`);
  }
  const domainPrefix = value.domainPrefix;
  if (
    typeof domainPrefix !== 'string' ||
    !/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(domainPrefix) ||
    /aws|amazon|cognito/.test(domainPrefix)
  ) {
    throw new Error(
      `${key}.domainPrefix must be a Cognito domain prefix, got ${JSON.stringify(domainPrefix)}`,
    );
  }
  const urls = (field: 'callbackUrls' | 'logoutUrls') => {
    const list = value[field];
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      !list.every((url) => typeof url === 'string' && httpsUrl.test(url))
    ) {
      throw new Error(`${key}.${field} must be a non-empty list of https URLs, got ${JSON.stringify(list)}`);
    }
    return list as string[];
  };
  const rawProviders = value.identityProviders;
  if (!Array.isArray(rawProviders) || rawProviders.length === 0) {
    throw new Error(`${key}.identityProviders must list at least one provider`);
  }
  const common = parseFederationProviders(rawProviders);
  const identityProviders = rawProviders.map((entry, index): IdentityProviderConfig => {
    const where = `${key}.identityProviders[${index}]`;
    const provider = entry as Record<string, unknown>;
    const base = common[index] as FederationProvider;
    if (provider.type !== 'oidc' && provider.type !== 'saml') {
      throw new Error(`${where}.type must be oidc or saml, got ${JSON.stringify(provider.type)}`);
    }
    const fields = ['name', 'type', 'tenantId', 'claims', 'groupRoles', 'mfaValues'];
    fields.push(...(provider.type === 'oidc' ? ['issuer', 'clientId', 'clientSecretArn'] : ['metadataUrl']));
    for (const field of Object.keys(provider)) {
      if (!fields.includes(field)) {
        throw new Error(
          field === 'clientSecret'
            ? `${where}.clientSecret: give clientSecretArn, a Secrets Manager secret, never the secret itself`
            : `${where} has an unknown setting, got ${JSON.stringify(field)}`,
        );
      }
    }
    const claims = provider.claims as Record<string, unknown> | undefined;
    for (const claim of ['email', 'groups', 'mfa'] as const) {
      if (typeof claims?.[claim] !== 'string' || claims[claim] === '') {
        throw new Error(`${where}.claims.${claim} must name the IdP's claim or attribute`);
      }
    }
    const mapped = claims as unknown as ProviderClaims;
    if (provider.type === 'oidc') {
      if (typeof provider.issuer !== 'string' || !httpsUrl.test(provider.issuer)) {
        throw new Error(`${where}.issuer must be an https URL, got ${JSON.stringify(provider.issuer)}`);
      }
      if (typeof provider.clientId !== 'string' || provider.clientId === '') {
        throw new Error(`${where}.clientId must be the client id registered at the IdP`);
      }
      if (
        typeof provider.clientSecretArn !== 'string' ||
        !/^arn:aws:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+$/.test(provider.clientSecretArn)
      ) {
        throw new Error(
          `${where}.clientSecretArn must be a Secrets Manager secret ARN (never the secret itself)`,
        );
      }
      return {
        ...base,
        type: 'oidc',
        issuer: provider.issuer,
        clientId: provider.clientId,
        clientSecretArn: provider.clientSecretArn,
        claims: mapped,
      };
    }
    if (provider.type === 'saml') {
      if (typeof provider.metadataUrl !== 'string' || !httpsUrl.test(provider.metadataUrl)) {
        throw new Error(
          `${where}.metadataUrl must be an https URL, got ${JSON.stringify(provider.metadataUrl)}`,
        );
      }
      return { ...base, type: 'saml', metadataUrl: provider.metadataUrl, claims: mapped };
    }
    throw new Error(`${where}.type must be oidc or saml, got ${JSON.stringify(provider.type)}`);
  });
  return {
    domainPrefix,
    callbackUrls: urls('callbackUrls'),
    logoutUrls: urls('logoutUrls'),
    identityProviders,
  };
}
