/**
 * Log redaction (LOG-1): whatever reaches a log line passes through this replacer first.
 * Attributes whose names say they are secret or personal are replaced whole; in every
 * other string, tokens (JWTs, `Bearer …`), Strongroom API keys, email addresses and IBANs
 * are replaced where they appear, so an error message that quotes one cannot leak it.
 * Logs keep pseudonymous ids (actor, tenant, request, item ids) and nothing else (DAT-3).
 */

/** Attribute names whose values never reach a log, whatever they hold. */
const secretKeys =
  /^(authorization|cookie|set-cookie|password|passwd|secret|client_?secret|token|access_?token|id_?token|refresh_?token|api_?key|x-api-key|pepper|iban|email|e-?mail|tax_?id|vat_?id|address|body)$/i;

const patterns: readonly [RegExp, string][] = [
  // JWTs (three base64url parts, the first a JSON header), with or without a scheme.
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, '[REDACTED:token]'],
  [/\b(Bearer|ApiKey|Basic)\s+[^\s"',;]+/gi, '$1 [REDACTED]'],
  // Strongroom API keys: srk_<env>_<id>_<secret>.
  [/\bsrk_[A-Za-z0-9_-]{8,}/g, '[REDACTED:api-key]'],
  [/[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g, '[REDACTED:email]'],
  // IBANs, printed whole or in groups of four (ISO 13616: country, check digits, BBAN). Not a
  // part of a hyphenated id: a UUID's last group (`…-de4851691234`) has the same shape.
  [/(?<![\w-])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![\w-])/gi, '[REDACTED:iban]'],
];

export const redactedValue = '[REDACTED]';

/** Redacts the secrets and personal data `patterns` recognise in a string. */
export function redactText(text: string): string {
  let result = text;
  for (const [pattern, replacement] of patterns) result = result.replace(pattern, replacement);
  return result;
}

/** A JSON.stringify replacer (Powertools' `jsonReplacerFn`) that redacts as described above. */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (key !== '' && secretKeys.test(key) && value !== undefined && value !== null) return redactedValue;
  if (typeof value === 'string') return redactText(value);
  return value;
}
