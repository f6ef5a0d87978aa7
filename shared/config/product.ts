/**
 * Product-wide settings that are the same in every stage and in the local runtime.
 * Deployers change them here (or in cdk.json context where noted).
 */

/** EU regions allowed to hold any stateful resource (INF-3). */
export const euRegions = [
  'eu-central-1',
  'eu-central-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'eu-south-1',
  'eu-south-2',
  'eu-north-1',
] as const;

export function isEuRegion(region: string): boolean {
  return (euRegions as readonly string[]).includes(region);
}

/** RFC 9116 security.txt values other than Expires, which is computed at synth or start. */
export const securityTxt = {
  contact: 'mailto:security@strongroom.example',
  policy: 'https://strongroom.example/security/policy',
  preferredLanguages: 'en, de, fr',
  canonical: 'https://api.strongroom.example/.well-known/security.txt',
} as const;

/** Days until security.txt expires; RFC 9116 recommends less than a year. */
export const securityTxtValidityDays = 180;

/** Largest request body the API accepts, in bytes (API-1). */
export const maxRequestBodyBytes = 64 * 1024;

/** Deepest JSON nesting the API accepts (API-1). */
export const maxJsonDepth = 8;

/** How long the authorizer may cache a member's tenant, roles and status (AUTH-6). */
export const memberCacheTtlSeconds = 60;

/** Expiry date for security.txt counted from `now`. */
export function securityTxtExpiry(now: Date): string {
  return new Date(now.getTime() + securityTxtValidityDays * 86_400_000).toISOString();
}
