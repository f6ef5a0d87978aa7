/**
 * Audit entries (AUD-1): who did what to which target, with what outcome, and a digest
 * of the item state the action produced. Entry bytes are RFC 8785 canonical JSON and
 * the leaf hash follows RFC 9162 (SHA-256 over 0x00 ‖ entry bytes), so the entry can be
 * hashed before its position in the log is known.
 */
import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';

export type ActorKind = 'user' | 'apiKey' | 'agent' | 'operator' | 'system';
export type AuditOutcome = 'success' | 'denied' | 'failure';

export interface AuditEntry {
  /** Entry format version, so verifiers can tell layouts apart. */
  readonly v: 1;
  readonly id: string;
  readonly tenantId: string;
  readonly time: string;
  /** Pseudonymous actor id (DAT-3): never an email or a name. */
  readonly actor: { readonly id: string; readonly kind: ActorKind };
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly outcome: AuditOutcome;
  readonly requestId: string;
  /** Base64 SHA-256 of the canonical JSON of the item state the action produced. */
  readonly itemDigest?: string;
  /** AZ-4: what an agent said it was doing, and a digest of the inputs it sent. */
  readonly agent?: { readonly reason: string; readonly inputDigest: string };
  /**
   * Facts about the action an auditor needs without the item: roles granted, a grant's
   * expiry, a count of failed attempts in a window. Pseudonymous ids only (DAT-3).
   */
  readonly detail?: Readonly<Record<string, string | number | boolean | readonly string[]>>;
}

/** RFC 8785 canonical JSON bytes of a value; throws on values JSON cannot represent. */
export function canonicalBytes(value: unknown): Buffer {
  const text = canonicalize(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return Buffer.from(text, 'utf8');
}

/** Digest of an item state, as recorded in the entry that produced it. */
export function itemDigest(item: unknown): string {
  return createHash('sha256').update(canonicalBytes(item)).digest('base64');
}

const leafPrefix = Buffer.from([0x00]);

/** RFC 9162 leaf hash of an entry: SHA-256(0x00 ‖ canonical entry bytes). */
export function leafHash(entry: AuditEntry): Buffer {
  return createHash('sha256').update(leafPrefix).update(canonicalBytes(entry)).digest();
}
