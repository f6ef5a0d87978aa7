import { describe, expect, it } from 'vitest';
import {
  claimValues,
  type FederationProvider,
  federatedAttributes,
  federatedSignIn,
  parseFederationProviders,
} from '#shared/auth/federation';

const acme: FederationProvider = {
  name: 'acme-entra',
  tenantId: 'acme',
  groupRoles: { 'finance-admins': 'admin', 'ap-clerks': 'accountant', auditors: 'auditor' },
  mfaValues: ['mfa'],
};

const federated = (attributes: Record<string, string>) => ({
  sub: 'b4c1e5d2-0000-4000-8000-000000000001',
  identities: JSON.stringify([{ providerName: 'acme-entra', providerType: 'OIDC', userId: 'x' }]),
  ...attributes,
});

describe('[AUTH-3][AUTH-4] federated sign-in', () => {
  it('lets a user in with the IdP MFA claim and a mapped group, into the configured tenant', () => {
    const decision = federatedSignIn(
      [acme],
      federated({
        [federatedAttributes.mfa]: '["pwd","mfa"]',
        [federatedAttributes.groups]: '["ap-clerks","auditors","unrelated"]',
        // Whatever the IdP says about tenants is never read.
        'custom:tenant': 'globex',
      }),
    );
    expect(decision).toEqual({ allowed: true, provider: acme, roles: ['accountant', 'auditor'] });
  });

  it('refuses a user without the MFA claim, whatever the groups', () => {
    for (const mfa of [undefined, '', '["pwd"]', 'pwd otp', '["MFA"]']) {
      const decision = federatedSignIn(
        [acme],
        federated({
          ...(mfa === undefined ? {} : { [federatedAttributes.mfa]: mfa }),
          [federatedAttributes.groups]: '["finance-admins"]',
        }),
      );
      expect(decision.allowed, String(mfa)).toBe(false);
    }
  });

  it('refuses a user none of whose groups maps to a role, and a provider that is not configured', () => {
    expect(
      federatedSignIn(
        [acme],
        federated({ [federatedAttributes.mfa]: 'mfa', [federatedAttributes.groups]: 'staff' }),
      ).allowed,
    ).toBe(false);
    const other = federated({ [federatedAttributes.mfa]: 'mfa', [federatedAttributes.groups]: 'auditors' });
    other.identities = JSON.stringify([{ providerName: 'globex-okta' }]);
    expect(federatedSignIn([acme], other)).toEqual({
      allowed: false,
      reason: 'provider globex-okta is not configured',
    });
    expect(federatedSignIn([acme], { sub: 'pool-user' }).allowed).toBe(false);
  });

  it('reads multi-valued claims as JSON arrays, SAML lists or separated strings', () => {
    expect(claimValues('["a","b"]')).toEqual(['a', 'b']);
    expect(claimValues('[a, b]')).toEqual(['a', 'b']);
    expect(claimValues('a b,c')).toEqual(['a', 'b', 'c']);
    expect(claimValues('"a"')).toEqual(['a']);
    expect(claimValues(undefined)).toEqual([]);
  });

  it('refuses provider configurations that could widen access', () => {
    const valid = { name: 'acme-entra', tenantId: 'acme', groupRoles: { g: 'auditor' }, mfaValues: ['mfa'] };
    expect(parseFederationProviders([valid])).toEqual([valid]);
    for (const bad of [
      { ...valid, tenantId: 'platform' },
      { ...valid, tenantId: 'Acme' },
      { ...valid, groupRoles: { g: 'operator' } },
      { ...valid, groupRoles: { g: 'integration' } },
      { ...valid, groupRoles: {} },
      { ...valid, mfaValues: [] },
      { ...valid, name: 'acme_entra' },
    ]) {
      expect(() => parseFederationProviders([bad]), JSON.stringify(bad)).toThrow();
    }
    expect(() => parseFederationProviders([valid, valid])).toThrow('used twice');
  });
});
