/** Tenant ids (AZ-3): lowercase letters, digits and hyphens; never `#`. */
export const tenantIdPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function isTenantId(value: string): boolean {
  return tenantIdPattern.test(value);
}

/** The partition-key prefix every item of the tenant starts with. */
export function tenantPrefix(tenantId: string): string {
  if (!isTenantId(tenantId)) throw new Error(`invalid tenant id ${JSON.stringify(tenantId)}`);
  return `${tenantId}#`;
}
