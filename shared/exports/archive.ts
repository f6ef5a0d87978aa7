/**
 * The tenant export archive (DAT-1): a ustar file (README.txt with the verifier's
 * instructions, manifest.json, the opened data items, the AUD-4 audit bundle) inside one
 * AWS Encryption SDK message, so the tenant decrypts it with standard tools. The message's
 * encryption context names the tenant, the export and the purpose.
 *
 * The Encryption SDK for JavaScript authenticates the context but does not compare it with
 * anything: `decryptExport` compares the header's context with the expected one, key by
 * key, and refuses any difference before it returns a byte of plaintext (DESIGN.md, Keys).
 */
import { buildClient, CommitmentPolicy, type KeyringNode } from '@aws-crypto/client-node';
import { exportKeyPurpose } from '#shared/crypto/key-service';

/** The Encryption SDK adds this key itself (the signing suites' public key); it is never ours. */
const reservedContextKey = 'aws-crypto-public-key';

/** The archive's own name inside the tar, and the format id the manifest carries. */
export const exportFormat = 'strongroom-export/1';
export const exportRoot = 'strongroom-export';

export type ExportEncryptionContext = Readonly<Record<string, string>>;

/** The encryption context of one export: what a decrypting party must expect. */
export function exportEncryptionContext(tenantId: string, exportId: string): ExportEncryptionContext {
  return { purpose: exportKeyPurpose, tenantId, exportId };
}

/** The message's encryption context is not the one expected: a wrong, swapped or forged archive. */
export class ExportContextMismatchError extends Error {
  readonly code = 'export-context-mismatch';
  /** The context keys that differ (missing, different or unexpected); values are not repeated. */
  readonly keys: readonly string[];

  constructor(keys: readonly string[]) {
    super(
      `The export's encryption context does not match the expected one (${keys.join(', ')}): refusing to decrypt it.`,
    );
    this.name = 'ExportContextMismatchError';
    this.keys = keys;
  }
}

// One data key per message (no multi-keyring exports), committing suites only.
const client = buildClient({
  commitmentPolicy: CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT,
  maxEncryptedDataKeys: 1,
});

/** Encrypts the archive as one Encryption SDK message under the keyring, with the context. */
export async function encryptExport(
  keyring: KeyringNode,
  plaintext: Buffer,
  encryptionContext: ExportEncryptionContext,
): Promise<Buffer> {
  const { result } = await client.encrypt(keyring, plaintext, {
    encryptionContext: { ...encryptionContext },
  });
  return Buffer.from(result);
}

/** The keys on which two contexts differ, ignoring the SDK's own reserved key. */
export function contextDifferences(
  actual: Readonly<Record<string, string>>,
  expected: ExportEncryptionContext,
): string[] {
  const differing = new Set<string>();
  for (const [key, value] of Object.entries(expected)) {
    if (actual[key] !== value) differing.add(key);
  }
  for (const key of Object.keys(actual)) {
    if (key !== reservedContextKey && !(key in expected)) differing.add(key);
  }
  return [...differing].sort();
}

/**
 * Decrypts an export and returns the tar, only if the message's encryption context is
 * exactly `expected` (the SDK's reserved public-key entry aside). Throws
 * ExportContextMismatchError otherwise, and the SDK's own errors for a damaged message or a
 * keyring that cannot open it.
 */
export async function decryptExport(
  keyring: KeyringNode,
  ciphertext: Uint8Array,
  expected: ExportEncryptionContext,
): Promise<Buffer> {
  const { plaintext, messageHeader } = await client.decrypt(keyring, ciphertext);
  const differing = contextDifferences(messageHeader.encryptionContext, expected);
  if (differing.length > 0) {
    plaintext.fill(0);
    throw new ExportContextMismatchError(differing);
  }
  return Buffer.from(plaintext);
}

/** README.txt of the archive: what is in it and how to verify the audit log offline. */
export function exportInstructions(summary: {
  readonly tenantId: string;
  readonly exportId: string;
  readonly exportedAt: string;
  readonly auditEntries: number;
}): string {
  return `Strongroom tenant export (${exportFormat})

Tenant:     ${summary.tenantId}
Export:     ${summary.exportId}
Exported:   ${summary.exportedAt}

This archive holds everything Strongroom kept for the tenant:
  manifest.json      what the archive holds, with item counts per kind
  data/*.jsonl       the tenant's items (invoices, counterparties, payments, settings, ...),
                     one JSON object per line, decrypted from their sealed form, and its
                     members (identity, roles, status)
  audit.bundle       the tenant's audit log: ${summary.auditEntries} entries, the signed
                     checkpoints and the published signing keys (strongroom-audit-bundle/1)

Verify the audit log offline with strongroom-verify (the bin of the strongroom package,
Node.js 22 or later):

  npx strongroom-verify audit.bundle
      recomputes the Merkle tree from the entries, checks every checkpoint signature and the
      consistency of consecutive checkpoints, and names the first bad entry if there is one.

  npx strongroom-verify audit.bundle --keys keys.json
      trusts only the signing keys you saved from GET /audit/keys, not the bundle's own.

  npx strongroom-verify audit.bundle --trusted-checkpoint checkpoint.txt
      also proves that this log extends a checkpoint you kept from earlier
      (GET /audit/checkpoints/latest).

Exit status 0 means the log verified; anything else names what failed.
`;
}
