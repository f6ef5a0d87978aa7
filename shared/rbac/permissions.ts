/**
 * The permission catalogue (AZ-1) and the default roles of DESIGN.md.
 * Every route names exactly one permission; a role grants a set of them; anything
 * not granted is denied.
 *
 * Tenant permissions act inside one tenant; platform permissions act outside every
 * tenant (onboarding) and belong only to the platform operator, a member of the reserved
 * `platform` tenant. No tenant role holds a platform permission, not even the owner.
 */
export const tenantPermissions = [
  'invoice:read',
  'invoice:create',
  'invoice:submit',
  'invoice:approve',
  'invoice:issue',
  'invoice:void',
  'counterparty:read',
  'counterparty:write',
  'payment:read',
  'payment:create',
  'settings:read',
  'settings:write',
  'member:read',
  'member:write',
  'apikey:read',
  'apikey:write',
  'audit:read',
  'export:create',
  'tenant:terminate',
  'support:read',
  'support:grant',
] as const;

export const platformPermissions = ['tenant:create'] as const;

export const permissions = [...tenantPermissions, ...platformPermissions] as const;

export type Permission = (typeof permissions)[number];
export type TenantPermission = (typeof tenantPermissions)[number];

export const roleNames = [
  'owner',
  'admin',
  'accountant',
  'approver',
  'auditor',
  'integration',
  'agent',
  'operator',
] as const;
export type RoleName = (typeof roleNames)[number];

/** Roles people hold in a tenant (the members API grants only these). */
export const personRoles = ['owner', 'admin', 'accountant', 'approver', 'auditor'] as const;
export type PersonRole = (typeof personRoles)[number];

/**
 * Scopes an API key of kind `apiKey` may carry. No key approves (a checker is a person,
 * AZ-2) or administers (members, keys and settings routes accept people only), and no key
 * is an owner.
 */
export const apiKeyScopes = ['integration', 'accountant', 'auditor'] as const;
export type ApiKeyScope = (typeof apiKeyScopes)[number];

/** The one scope of an API key of kind `agent` (AZ-4). */
export const agentScopes = ['agent'] as const;

/**
 * Roles an owner may give the platform operator in a support grant (AZ-5): reading,
 * or a maker's or checker's hands; never administration, so nothing the operator does
 * under a grant (an API key, a member, another grant) outlives it.
 */
export const supportGrantRoles = ['auditor', 'accountant', 'approver'] as const;
export type SupportGrantRole = (typeof supportGrantRoles)[number];

/** The reserved tenant whose members are the platform operators; never onboarded as a customer. */
export const platformTenantId = 'platform';

const readAll: readonly TenantPermission[] = [
  'invoice:read',
  'counterparty:read',
  'payment:read',
  'settings:read',
  'member:read',
  'apikey:read',
  'audit:read',
  'support:read',
];

export const roles: Readonly<Record<RoleName, readonly Permission[]>> = {
  // Everything a tenant can do, termination and support grants included; nothing of the platform.
  owner: tenantPermissions,
  // Members, keys and settings, and reading everything. Not a maker or checker.
  admin: [...readAll, 'settings:write', 'member:write', 'apikey:write', 'export:create'],
  // The maker: drafts, submit, counterparties, payments.
  accountant: [
    'invoice:read',
    'invoice:create',
    'invoice:submit',
    'invoice:issue',
    'invoice:void',
    'counterparty:read',
    'counterparty:write',
    'payment:read',
    'payment:create',
    'settings:read',
  ],
  // The checker: approves or rejects within a limit.
  approver: ['invoice:read', 'invoice:approve', 'counterparty:read', 'payment:read', 'settings:read'],
  // Reads everything including the audit log; writes nothing.
  auditor: readAll,
  // An API key's role: scoped machine access for an ERP or bank integration.
  integration: ['invoice:read', 'invoice:create', 'counterparty:read', 'counterparty:write', 'payment:read'],
  // AZ-4: agents only propose drafts; no approve, pay, export or administration.
  agent: ['invoice:read', 'invoice:create', 'counterparty:read'],
  // The platform operator: onboards tenants, sees no tenant data (AZ-5: only under a support grant).
  operator: platformPermissions,
};

export function isRoleName(value: string): value is RoleName {
  return (roleNames as readonly string[]).includes(value);
}

export function isPersonRole(value: string): value is PersonRole {
  return (personRoles as readonly string[]).includes(value);
}

export function isPermission(value: string): value is Permission {
  return (permissions as readonly string[]).includes(value);
}

/** The union of the permissions the given roles grant; unknown role names grant nothing. */
export function permissionsOf(roleList: readonly string[]): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  for (const role of roleList) {
    if (isRoleName(role)) for (const permission of roles[role]) granted.add(permission);
  }
  return granted;
}

/**
 * Whether someone holding `granterRoles` may give `role` to someone else (a member, an
 * API key, a support grant): only when every permission of that role is already theirs.
 * "A role above one's own" is one whose permissions are not a subset of the granter's
 * (DESIGN.md, Roles). An unknown role is never grantable.
 */
export function canGrant(granterRoles: readonly string[], role: string): boolean {
  if (!isRoleName(role)) return false;
  const own = permissionsOf(granterRoles);
  return roles[role].every((permission) => own.has(permission));
}

/** Whether the granter may give every one of `roleList` (and the list is not empty). */
export function canGrantAll(granterRoles: readonly string[], roleList: readonly string[]): boolean {
  return roleList.length > 0 && roleList.every((role) => canGrant(granterRoles, role));
}
