/**
 * The permission catalogue (AZ-1) and the default roles of DESIGN.md.
 * Every route names exactly one permission; a role grants a set of them; anything
 * not granted is denied.
 */
export const permissions = [
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
  'support:grant',
] as const;

export type Permission = (typeof permissions)[number];

export const roleNames = [
  'owner',
  'admin',
  'accountant',
  'approver',
  'auditor',
  'integration',
  'agent',
] as const;
export type RoleName = (typeof roleNames)[number];

const readAll: readonly Permission[] = [
  'invoice:read',
  'counterparty:read',
  'payment:read',
  'settings:read',
  'member:read',
  'apikey:read',
  'audit:read',
];

export const roles: Readonly<Record<RoleName, readonly Permission[]>> = {
  owner: permissions,
  admin: [
    'invoice:read',
    'counterparty:read',
    'payment:read',
    'settings:read',
    'settings:write',
    'member:read',
    'member:write',
    'apikey:read',
    'apikey:write',
    'audit:read',
    'export:create',
  ],
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
  approver: ['invoice:read', 'invoice:approve', 'counterparty:read', 'payment:read', 'settings:read'],
  auditor: readAll,
  integration: ['invoice:read', 'invoice:create', 'counterparty:read', 'counterparty:write', 'payment:read'],
  // AZ-4: agents only propose drafts; no approve, pay, export or administration.
  agent: ['invoice:read', 'invoice:create', 'counterparty:read'],
};

export function isRoleName(value: string): value is RoleName {
  return (roleNames as readonly string[]).includes(value);
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
