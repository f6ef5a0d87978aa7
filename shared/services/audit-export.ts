/**
 * Audit export (AUD-3, AUD-4): a tenant's whole log as a `strongroom-audit-bundle/1` file
 * (docs/audit-bundle.md) that `strongroom-verify` checks offline. The export signs a fresh
 * checkpoint first, so the bundle ends at a signed checkpoint covering everything logged
 * up to the export, then streams the entries page by page with the leaf hashes the log
 * recorded: nothing is recomputed here, so the verifier checks what the store holds.
 */
import type { Writable } from 'node:stream';
import { type BundleEntry, type BundleHeader, bundleFormat, writeBundle } from '#shared/audit/bundle';
import { canonicalBytes } from '#shared/audit/entry';
import { checkpointOrigin } from '#shared/audit/signed-note';
import type { CheckpointSigner } from '#shared/crypto/signing';
import type { AuditLog, StoredCheckpoint } from '#shared/store/audit-log';
import { type AuditServiceContext, checkpointDomain, signCheckpoint } from './audit';

/** Entries read from the store per page. */
export const exportPageSize = 500;

/** The store does not hold a consecutive log up to the signed size: the export stops rather than write a gap. */
export class AuditExportError extends Error {
  readonly code = 'audit-export-inconsistent';

  constructor(message: string) {
    super(message);
    this.name = 'AuditExportError';
  }
}

export interface AuditExportSummary {
  readonly tenantId: string;
  readonly size: number;
  readonly checkpoints: number;
  /** The checkpoint the bundle ends at (undefined for an empty log). */
  readonly checkpoint: StoredCheckpoint | undefined;
  readonly bytes: number;
}

/** Writes the tenant's audit log to `output` as a bundle; ends `output` when done. */
export async function exportAuditBundle(
  context: AuditServiceContext,
  signer: CheckpointSigner,
  tenantId: string,
  output: Writable,
  options: { readonly signFresh?: boolean } = {},
): Promise<AuditExportSummary> {
  const client = context.clients.forTenant(tenantId);
  // Jobs that hold the signing key end the bundle at a fresh checkpoint; the API, which
  // must not sign (only the scheduled signer may), ends it at the latest signed one.
  const signed =
    options.signFresh === false
      ? await context.auditLog.latestCheckpoint(client, tenantId)
      : await signCheckpoint(context, signer, tenantId);
  const size = signed?.size ?? 0;
  const [stored, keys] = await Promise.all([
    context.auditLog.checkpoints(client, tenantId),
    signer.publicKeys(),
  ]);
  const checkpoints = stored.filter((checkpoint) => checkpoint.size <= size).sort((a, b) => a.size - b.size);
  // The signed checkpoint is stored before signCheckpoint returns; keep it even if a read lags.
  if (signed && checkpoints.at(-1)?.size !== size) checkpoints.push(signed);

  const header: BundleHeader = {
    format: bundleFormat,
    tenantId,
    origin: checkpointOrigin(checkpointDomain, tenantId),
    size,
    keys,
    checkpoints: checkpoints.map(({ size, note }) => ({ size, note })),
    exportedAt: context.now().toISOString(),
  };
  const { bytes } = await writeBundle(output, header, logEntries(context.auditLog, client, tenantId, size));
  return { tenantId, size, checkpoints: checkpoints.length, checkpoint: signed, bytes };
}

async function* logEntries(
  auditLog: AuditLog,
  client: ReturnType<AuditServiceContext['clients']['forTenant']>,
  tenantId: string,
  size: number,
): AsyncGenerator<BundleEntry> {
  let next = 0;
  while (next < size) {
    const page = await auditLog.entriesFrom(client, tenantId, next, Math.min(exportPageSize, size - next));
    if (page.length === 0) {
      throw new AuditExportError(
        `the audit log of ${tenantId} ends at ${next}, but its checkpoint covers ${size}`,
      );
    }
    for (const { seq, entry, leafHash } of page) {
      if (seq >= size) return;
      if (seq !== next) {
        throw new AuditExportError(
          `the audit log of ${tenantId} has no entry at position ${next} (next is ${seq})`,
        );
      }
      yield { leafHash, entryBytes: canonicalBytes(entry) };
      next++;
    }
  }
}
