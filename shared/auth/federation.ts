/**
 * Federated sign-in (AUTH-3, AUTH-4): per-tenant OIDC and SAML identity providers of the
 * user pool, configured per stage (cdk.json). Cognito maps each IdP's claims to the user's
 * attributes at every sign-in; the pre-token-generation trigger
 * (functions/identity-federation) then decides with `federatedSignIn` below:
 *
 * - the provider is one we configured, and the tenant is the one configured for it, never
 *   anything the IdP says (AUTH-4);
 * - the IdP's MFA claim (mapped to `custom:idp_mfa`) holds one of the configured values,
 *   or the sign-in is refused (AUTH-3: Cognito's own MFA does not apply to federated users);
 * - the IdP's groups (mapped to `custom:idp_groups`) give the roles through the configured
 *   group → role map; no mapped group, no sign-in.
 */
import { isPersonRole } from '#shared/rbac/permissions';
import { isTenantId } from '#shared/tenancy/tenant-id';

/** What the trigger needs to know of a provider (no secrets, no URLs). */
export interface FederationProvider {
  /** The provider's name in the user pool; federated usernames start with `<name>_`. */
  readonly name: string;
  /** The one tenant this provider signs people into. */
  readonly tenantId: string;
  /** IdP group → role in the tenant (person roles only). */
  readonly groupRoles: Readonly<Record<string, string>>;
  /** Values of the IdP's MFA claim that prove a second factor (OIDC `amr` "mfa", SAML authn method URIs). */
  readonly mfaValues: readonly string[];
}

/** The user attributes the IdP claims are mapped to. */
export const federatedAttributes = { groups: 'custom:idp_groups', mfa: 'custom:idp_mfa' } as const;

export const providerNamePattern = /^[A-Za-z0-9][A-Za-z0-9-]{0,30}[A-Za-z0-9]$/;

/** Parses and checks the providers' runtime configuration (FEDERATION_PROVIDERS). */
export function parseFederationProviders(value: unknown): FederationProvider[] {
  if (!Array.isArray(value)) throw new Error('federation providers must be a list');
  const names = new Set<string>();
  return value.map((raw, index) => {
    const where = `federation provider ${index}`;
    const entry = raw as Partial<Record<keyof FederationProvider, unknown>>;
    if (typeof entry.name !== 'string' || !providerNamePattern.test(entry.name)) {
      throw new Error(
        `${where}: name must be 2 to 32 letters, digits or hyphens, got ${JSON.stringify(entry.name)}`,
      );
    }
    if (names.has(entry.name)) throw new Error(`${where}: name ${entry.name} is used twice`);
    names.add(entry.name);
    if (typeof entry.tenantId !== 'string' || !isTenantId(entry.tenantId) || entry.tenantId === 'platform') {
      throw new Error(
        `${where}: tenantId must be a customer tenant id, got ${JSON.stringify(entry.tenantId)}`,
      );
    }
    const groupRoles = entry.groupRoles as Record<string, unknown> | undefined;
    if (typeof groupRoles !== 'object' || groupRoles === null || Object.keys(groupRoles).length === 0) {
      throw new Error(`${where}: groupRoles must map at least one IdP group to a role`);
    }
    for (const [group, role] of Object.entries(groupRoles)) {
      if (typeof role !== 'string' || !isPersonRole(role)) {
        throw new Error(
          `${where}: group ${JSON.stringify(group)} must map to a person role, got ${JSON.stringify(role)}`,
        );
      }
    }
    const mfaValues = entry.mfaValues;
    if (
      !Array.isArray(mfaValues) ||
      mfaValues.length === 0 ||
      !mfaValues.every((each) => typeof each === 'string' && each !== '')
    ) {
      throw new Error(`${where}: mfaValues must list the MFA claim values that prove a second factor`);
    }
    return {
      name: entry.name,
      tenantId: entry.tenantId,
      groupRoles: groupRoles as Record<string, string>,
      mfaValues: mfaValues as string[],
    };
  });
}

/** The provider a federated user signed in with, from Cognito's `identities` attribute. */
export function providerNameOf(attributes: Readonly<Record<string, string | undefined>>): string | undefined {
  const identities = attributes.identities;
  if (identities === undefined) return undefined;
  try {
    const parsed = JSON.parse(identities) as { providerName?: unknown }[];
    const name = Array.isArray(parsed) ? parsed[0]?.providerName : undefined;
    return typeof name === 'string' ? name : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The values of a mapped multi-valued claim: IdPs and Cognito write them as a JSON array,
 * or as a list separated by commas, spaces or the `[a, b]` form of SAML mappings.
 */
export function claimValues(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed.map(String);
    if (typeof parsed === 'string') return [parsed];
  } catch {
    // not JSON: a separated list
  }
  return value
    .replace(/^\[|\]$/g, '')
    .split(/[\s,]+/)
    .map((each) => each.trim())
    .filter((each) => each !== '');
}

export type FederatedDecision =
  | { readonly allowed: true; readonly provider: FederationProvider; readonly roles: readonly string[] }
  | { readonly allowed: false; readonly reason: string };

/** Whether a federated sign-in may proceed, into which tenant and with which roles. */
export function federatedSignIn(
  providers: readonly FederationProvider[],
  attributes: Readonly<Record<string, string | undefined>>,
): FederatedDecision {
  const name = providerNameOf(attributes);
  if (name === undefined) return { allowed: false, reason: 'not a federated user' };
  const provider = providers.find((each) => each.name === name);
  if (!provider) return { allowed: false, reason: `provider ${name} is not configured` };
  const mfa = claimValues(attributes[federatedAttributes.mfa]);
  if (!mfa.some((value) => provider.mfaValues.includes(value))) {
    return {
      allowed: false,
      reason: `the identity provider ${name} did not assert multi-factor authentication`,
    };
  }
  const roles = [
    ...new Set(
      claimValues(attributes[federatedAttributes.groups]).flatMap((group) => {
        const role = provider.groupRoles[group];
        return role === undefined ? [] : [role];
      }),
    ),
  ].sort();
  if (roles.length === 0) {
    return { allowed: false, reason: `no group of the user maps to a role in tenant ${provider.tenantId}` };
  }
  return { allowed: true, provider, roles };
}
