/**
 * Deployment configuration, read from CDK context (cdk.json or `-c key=value`) and
 * validated before any construct exists, so a bad value fails synth with a message
 * that names the key and shows the value (INF-3, INF-5).
 */
import { isEuRegion } from '#shared/config/product';
import { type FederationConfig, parseFederationConfig } from './federation-config';

/** Context keys the app reads; nothing else is looked up (no context lookups, no AWS calls). */
export const contextKeys = {
  account: 'strongroom:account',
  primaryRegion: 'strongroom:primaryRegion',
  drRegion: 'strongroom:drRegion',
  stages: 'strongroom:stages',
  stageSettings: 'strongroom:stageSettings',
} as const;

export const defaultPrimaryRegion = 'eu-central-1';
export const defaultDrRegion = 'eu-west-1';
export const defaultStages = ['dev', 'prod'] as const;

/** Settings that differ between stages (INF-5). */
export interface StageConfig {
  /** Stage name, `[a-z0-9-]+`; part of every stack, key alias and table name. */
  readonly name: string;
  /** Origins allowed by CORS (API-4); empty means no browser origin at all. */
  readonly allowedOrigins: readonly string[];
  /** Stage-wide steady-state requests per second (AUTH-2). */
  readonly throttlingRateLimit: number;
  /** Stage-wide burst of requests (AUTH-2). */
  readonly throttlingBurstLimit: number;
  /** Requests per source IP per 5 minutes before the WAF rate rule blocks (AUTH-2, INF-4). */
  readonly wafRateLimitPerIp: number;
  /** Verified SES sender address for Cognito mail and email OTP (AUTH-3); unset disables email OTP. */
  readonly sesFromEmail: string | undefined;
  /**
   * Audit checkpoint signing key versions, current first (AUD-3, ENC-2). Each version is its
   * own asymmetric KMS key created by the stack; rotation prepends a new version and keeps
   * the old ones published for verifiers (docs/runbooks/audit-signing-key-rotation.md).
   */
  readonly auditSigningKeyVersions: readonly number[];
  /** Days every audit archive object stays locked in compliance mode (AUD-2, LOG-2). */
  readonly auditArchiveRetentionDays: number;
  /** Email addresses subscribed to the incident topic (INC-1); none means subscribe by hand. */
  readonly incidentEmails: readonly string[];
  /** Per-tenant OIDC and SAML identity providers (AUTH-4); none means pool users only. */
  readonly federation: FederationConfig | undefined;
  /**
   * Whether the stage's functions run in a private network: isolated subnets, VPC endpoints
   * with policies naming our resources, no route to the internet (INF-7).
   */
  readonly privateNetwork: boolean;
}

export interface StrongroomConfig {
  readonly account: string;
  readonly primaryRegion: string;
  readonly drRegion: string;
  readonly stages: readonly StageConfig[];
}

const stageDefaults: Omit<StageConfig, 'name'> = {
  allowedOrigins: [],
  throttlingRateLimit: 50,
  throttlingBurstLimit: 100,
  wafRateLimitPerIp: 1000,
  sesFromEmail: undefined,
  auditSigningKeyVersions: [1],
  // Financial records are kept ten years by default (DAT-4); a stage may say less, e.g. dev.
  auditArchiveRetentionDays: 3650,
  incidentEmails: [],
  federation: undefined,
  privateNetwork: false,
};

/** S3 Object Lock accepts default retention periods of 1 to 36,500 days. */
const maxArchiveRetentionDays = 36_500;

/** Reads a context value; the CLI passes `-c` values as strings, cdk.json as JSON. */
export type ContextReader = (key: string) => unknown;

export function loadConfig(read: ContextReader): StrongroomConfig {
  const account = readString(read, contextKeys.account);
  if (account === undefined || !/^\d{12}$/.test(account)) {
    throw new Error(`${contextKeys.account} must be a 12-digit aws account id, got ${show(account)}`);
  }
  const primaryRegion = readString(read, contextKeys.primaryRegion) ?? defaultPrimaryRegion;
  const drRegion = readString(read, contextKeys.drRegion) ?? defaultDrRegion;
  assertEuRegion(contextKeys.primaryRegion, primaryRegion);
  assertEuRegion(contextKeys.drRegion, drRegion);
  if (primaryRegion === drRegion) {
    throw new Error(`${contextKeys.drRegion} must differ from the primary region, got ${show(drRegion)}`);
  }

  const stageNames = readStageNames(read(contextKeys.stages));
  const settings = readObject(read(contextKeys.stageSettings), contextKeys.stageSettings);
  for (const name of Object.keys(settings)) {
    if (!stageNames.includes(name)) {
      throw new Error(`${contextKeys.stageSettings} names an undeclared stage, got ${show(name)}`);
    }
  }
  const stages = stageNames.map((name) => stageConfig(name, settings[name]));
  return { account, primaryRegion, drRegion, stages };
}

/** INF-3: any region outside the EU fails synth, naming the setting and the value. */
export function assertEuRegion(setting: string, region: string): void {
  if (!isEuRegion(region)) {
    throw new Error(`${setting} must be an eu region (eu data residency, INF-3), got ${show(region)}`);
  }
}

function stageConfig(name: string, raw: unknown): StageConfig {
  const key = `${contextKeys.stageSettings}.${name}`;
  const values = readObject(raw, key);
  const known = new Set(Object.keys(stageDefaults));
  for (const field of Object.keys(values)) {
    if (!known.has(field)) throw new Error(`${key} has an unknown setting, got ${show(field)}`);
  }
  const origins = values.allowedOrigins ?? stageDefaults.allowedOrigins;
  if (!Array.isArray(origins) || !origins.every((origin) => typeof origin === 'string')) {
    throw new Error(`${key}.allowedOrigins must be a list of strings, got ${show(origins)}`);
  }
  for (const origin of origins) {
    // Only exact https origins: a wildcard or http origin would defeat API-4.
    if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(origin)) {
      throw new Error(`${key}.allowedOrigins must hold exact https origins, got ${show(origin)}`);
    }
  }
  const sesFromEmail = values.sesFromEmail ?? stageDefaults.sesFromEmail;
  if (
    sesFromEmail !== undefined &&
    (typeof sesFromEmail !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(sesFromEmail))
  ) {
    throw new Error(`${key}.sesFromEmail must be an email address, got ${show(sesFromEmail)}`);
  }
  const signingVersions = values.auditSigningKeyVersions ?? stageDefaults.auditSigningKeyVersions;
  if (
    !Array.isArray(signingVersions) ||
    signingVersions.length === 0 ||
    !signingVersions.every((version) => Number.isInteger(version) && version >= 1 && version <= 999) ||
    new Set(signingVersions).size !== signingVersions.length
  ) {
    throw new Error(
      `${key}.auditSigningKeyVersions must be a non-empty list of distinct versions 1 to 999, current first, got ${show(signingVersions)}`,
    );
  }
  const incidentEmails = values.incidentEmails ?? stageDefaults.incidentEmails;
  if (
    !Array.isArray(incidentEmails) ||
    !incidentEmails.every((email) => typeof email === 'string' && /^[^@\s]+@[^@\s]+$/.test(email))
  ) {
    throw new Error(`${key}.incidentEmails must be a list of email addresses, got ${show(incidentEmails)}`);
  }
  const retention = values.auditArchiveRetentionDays ?? stageDefaults.auditArchiveRetentionDays;
  if (
    typeof retention !== 'number' ||
    !Number.isInteger(retention) ||
    retention < 1 ||
    retention > maxArchiveRetentionDays
  ) {
    throw new Error(
      `${key}.auditArchiveRetentionDays must be an integer of 1 to ${maxArchiveRetentionDays}, got ${show(retention)}`,
    );
  }
  const privateNetwork = values.privateNetwork ?? stageDefaults.privateNetwork;
  if (typeof privateNetwork !== 'boolean') {
    throw new Error(`${key}.privateNetwork must be true or false, got ${show(privateNetwork)}`);
  }
  return {
    name,
    allowedOrigins: origins,
    throttlingRateLimit: positiveNumber(key, 'throttlingRateLimit', values.throttlingRateLimit),
    throttlingBurstLimit: positiveNumber(key, 'throttlingBurstLimit', values.throttlingBurstLimit),
    // WAF rate-based rules accept 10 to 2,000,000,000 requests per evaluation window.
    wafRateLimitPerIp: positiveNumber(key, 'wafRateLimitPerIp', values.wafRateLimitPerIp, 10),
    sesFromEmail,
    auditSigningKeyVersions: signingVersions as number[],
    auditArchiveRetentionDays: retention,
    incidentEmails: incidentEmails as string[],
    federation: parseFederationConfig(values.federation, `${key}.federation`),
    privateNetwork,
  };
}

function positiveNumber(
  key: string,
  field: 'throttlingRateLimit' | 'throttlingBurstLimit' | 'wafRateLimitPerIp',
  raw: unknown,
  minimum = 1,
): number {
  const value = raw ?? stageDefaults[field];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < minimum) {
    throw new Error(`${key}.${field} must be an integer of at least ${minimum}, got ${show(value)}`);
  }
  return value;
}

function readStageNames(raw: unknown): readonly string[] {
  const names =
    raw === undefined
      ? [...defaultStages]
      : typeof raw === 'string'
        ? raw.split(',').map((name) => name.trim())
        : raw;
  if (!Array.isArray(names) || names.length === 0) {
    throw new Error(`${contextKeys.stages} must be a non-empty list of stage names, got ${show(raw)}`);
  }
  for (const name of names) {
    if (typeof name !== 'string' || !/^[a-z0-9-]{1,16}$/.test(name)) {
      throw new Error(`${contextKeys.stages} entries must match [a-z0-9-]{1,16}, got ${show(name)}`);
    }
  }
  if (new Set(names).size !== names.length) {
    throw new Error(`${contextKeys.stages} must not repeat a stage, got ${show(names)}`);
  }
  return names as string[];
}

function readString(read: ContextReader, key: string): string | undefined {
  const value = read(key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new Error(`${key} must be a string, got ${show(value)}`);
  return value;
}

function readObject(raw: unknown, key: string): Record<string, unknown> {
  if (raw === undefined) return {};
  // `-c` on the command line delivers JSON objects as strings.
  const value = typeof raw === 'string' ? parseJson(raw, key) : raw;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${key} must be an object, got ${show(raw)}`);
  }
  return value as Record<string, unknown>;
}

function parseJson(text: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${key} must be json, got ${show(text)}`);
  }
}

function show(value: unknown): string {
  return value === undefined ? 'nothing' : JSON.stringify(value);
}
