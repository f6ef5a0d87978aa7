import { describe, expect, it } from 'vitest';
import { fromAuthorizerContext, toAuthorizerContext } from '#shared/auth/principal';
import {
  agentScopes,
  apiKeyScopes,
  canGrant,
  canGrantAll,
  permissionsOf,
  personRoles,
  platformPermissions,
  roleNames,
  roles,
  supportGrantRoles,
  tenantPermissions,
} from '#shared/rbac/permissions';

describe('[AZ-1] the role catalogue of DESIGN.md', () => {
  it('gives the owner every tenant permission and no platform permission', () => {
    expect(new Set(roles.owner)).toEqual(new Set(tenantPermissions));
    for (const permission of platformPermissions)
      expect(permissionsOf(['owner']).has(permission)).toBe(false);
  });

  it('gives platform permissions to the operator only, and the operator no tenant permission', () => {
    for (const role of roleNames) {
      const holdsPlatform = roles[role].some((permission) =>
        (platformPermissions as readonly string[]).includes(permission),
      );
      expect(holdsPlatform, role).toBe(role === 'operator');
    }
    expect(
      roles.operator.some((permission) => (tenantPermissions as readonly string[]).includes(permission)),
    ).toBe(false);
  });

  it('makes the admin administer members, keys and settings, read everything, and neither make nor check', () => {
    const admin = permissionsOf(['admin']);
    for (const permission of ['member:write', 'apikey:write', 'settings:write'] as const) {
      expect(admin.has(permission), permission).toBe(true);
    }
    for (const permission of [
      'invoice:create',
      'invoice:approve',
      'payment:create',
      'tenant:terminate',
      'support:grant',
    ] as const) {
      expect(admin.has(permission), permission).toBe(false);
    }
  });

  it('separates maker and checker: the accountant cannot approve, the approver cannot create or pay', () => {
    expect(permissionsOf(['accountant']).has('invoice:approve')).toBe(false);
    const approver = permissionsOf(['approver']);
    for (const permission of ['invoice:create', 'invoice:submit', 'payment:create'] as const) {
      expect(approver.has(permission), permission).toBe(false);
    }
  });

  it('keeps termination and support grants with the owner alone', () => {
    for (const role of roleNames) {
      expect(permissionsOf([role]).has('tenant:terminate'), role).toBe(role === 'owner');
      expect(permissionsOf([role]).has('support:grant'), role).toBe(role === 'owner');
    }
  });

  it('lets no API key scope, agent or support grant carry administration', () => {
    for (const role of [...apiKeyScopes, ...agentScopes, ...supportGrantRoles]) {
      const granted = permissionsOf([role]);
      for (const permission of [
        'member:write',
        'apikey:write',
        'settings:write',
        'support:grant',
        'tenant:terminate',
      ] as const) {
        expect(granted.has(permission), `${role} ${permission}`).toBe(false);
      }
    }
    expect(apiKeyScopes).not.toContain('approver');
  });
});

describe('[AZ-1] canGrant: nobody grants a role above their own', () => {
  it('lets the owner grant every person role', () => {
    for (const role of personRoles) expect(canGrant(['owner'], role), role).toBe(true);
  });

  it('lets the admin grant only roles within its own permissions: admin and auditor', () => {
    const grantable = roleNames.filter((role) => canGrant(['admin'], role));
    expect(grantable.sort()).toEqual(['admin', 'auditor']);
  });

  it('never grants the owner role to anyone but an owner, nor the platform operator to anyone', () => {
    for (const role of roleNames) {
      expect(canGrant([role], 'owner'), role).toBe(role === 'owner');
      expect(canGrant([role], 'operator'), role).toBe(role === 'operator');
    }
  });

  it('is exactly the subset relation on permissions, for every pair of roles', () => {
    for (const granter of roleNames) {
      for (const role of roleNames) {
        const subset = roles[role].every((permission) => permissionsOf([granter]).has(permission));
        expect(canGrant([granter], role), `${granter} grants ${role}`).toBe(subset);
      }
    }
  });

  it('takes the union of the granter roles, refuses unknown roles and empty lists', () => {
    expect(canGrant(['accountant', 'approver'], 'approver')).toBe(true);
    expect(canGrant(['owner'], 'root')).toBe(false);
    expect(canGrant([], 'auditor')).toBe(false);
    expect(canGrantAll(['owner'], [])).toBe(false);
    expect(canGrantAll(['admin'], ['auditor', 'accountant'])).toBe(false);
    expect(canGrantAll(['owner'], ['auditor', 'accountant'])).toBe(true);
  });
});

describe('[AZ-5] the operator principal', () => {
  it('round-trips through the authorizer context with its support grant', () => {
    const principal = {
      kind: 'operator' as const,
      actorId: 'usr_op',
      tenantId: 'demo',
      roles: ['auditor'],
      supportGrantId: 'sgr_01',
    };
    expect(fromAuthorizerContext({ ...toAuthorizerContext(principal) })).toEqual(principal);
  });

  it('is no principal at all without a support grant', () => {
    expect(
      fromAuthorizerContext({ kind: 'operator', actorId: 'usr_op', tenantId: 'demo', roles: 'auditor' }),
    ).toBe(undefined);
  });
});
