/**
 * Restore validation (BAK-3): checks restored tables against the audit log, as the AWS
 * restore-testing validation function and the local `npm run restore-test` both do.
 *
 * 1. The audit log of every tenant, up to its latest signed checkpoint, is written as a
 *    `strongroom-audit-bundle/1` file from the restored store and checked by the offline
 *    verifier (shared/audit/verify.ts) against the trusted signing keys: every entry's
 *    bytes against its leaf hash, every checkpoint signature, the consistency between
 *    checkpoints. Nothing is signed here: a tampered restored log cannot bless itself.
 * 2. Every restored item an entry describes (invoices, counterparties, settings) is opened
 *    and its digest compared with the `itemDigest` of the last entry about it: the item is
 *    exactly the state the log says the last change produced. An item the retention job
 *    removed (its last entry is `retention.remove`, DAT-4) is not looked for.
 *
 * A failure names what: the tenant, the entry position or id, the item's keys.
 */

import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { type BundleEntry, bundleFormat, writeBundle } from '#shared/audit/bundle';
import { type AuditEntry, canonicalBytes, itemDigest } from '#shared/audit/entry';
import { checkpointOrigin } from '#shared/audit/signed-note';
import { AuditVerificationError, verifyBundle } from '#shared/audit/verify';
import { SealedItemError } from '#shared/crypto/seal';
import type { PublishedSigningKey } from '#shared/crypto/signing';
import type { AuditLog } from '#shared/store/audit-log';
import { listAuditTenants } from '#shared/store/audit-tenants';
import type { DataClients } from '#shared/store/dynamo';
import { tableName } from '#shared/store/tables';
import { checkpointDomain } from './audit';
import { retentionRemovalAction } from './retention';

export interface RestoreValidationContext {
  readonly stage: string;
  readonly clients: DataClients;
  readonly auditLog: AuditLog;
}

export interface RestoreFailure {
  readonly tenantId: string;
  /** `audit-log`, `item-digest`, `item-missing` or `item-unreadable`. */
  readonly kind: string;
  readonly message: string;
}

export interface TenantValidation {
  readonly tenantId: string;
  /** Entries covered by a signed checkpoint and verified. */
  readonly verifiedEntries: number;
  /** Entries after the last signed checkpoint (verifiable only after the next signing). */
  readonly unsignedEntries: number;
  readonly checkedItems: number;
  /** Whether the tenant was purged (its items are gone and unreadable by design). */
  readonly purged: boolean;
  /**
   * Whether the tenant's key is gone (purged after the backup was taken): its restored items
   * cannot be opened, by design (DAT-2 crypto-shredding), so they are not checked.
   */
  readonly keyUnavailable: boolean;
}

export interface RestoreValidation {
  readonly ok: boolean;
  readonly tenants: readonly TenantValidation[];
  readonly failures: readonly RestoreFailure[];
}

/** Where the item an entry's target names lives, and which attribute holds its state. */
const itemLocations: Readonly<
  Record<string, (tenantId: string, id: string) => { pk: string; sk: string; attribute: string }>
> = {
  invoice: (tenantId, id) => ({ pk: `${tenantId}#invoice`, sk: id, attribute: 'invoice' }),
  counterparty: (tenantId, id) => ({ pk: `${tenantId}#counterparty`, sk: id, attribute: 'counterparty' }),
  settings: (tenantId) => ({ pk: `${tenantId}#settings`, sk: 'settings', attribute: 'settings' }),
};

async function* signedEntries(
  auditLog: AuditLog,
  client: ReturnType<DataClients['forTenant']>,
  tenantId: string,
  size: number,
  seen: (entry: AuditEntry) => void,
): AsyncGenerator<BundleEntry> {
  let next = 0;
  while (next < size) {
    const page = await auditLog.entriesFrom(client, tenantId, next, Math.min(500, size - next));
    if (page.length === 0) return;
    for (const { seq, entry, leafHash } of page) {
      if (seq >= size) return;
      seen(entry);
      yield { leafHash, entryBytes: canonicalBytes(entry) };
      next++;
    }
  }
}

async function validateTenant(
  context: RestoreValidationContext,
  tenantId: string,
  keys: readonly PublishedSigningKey[],
  workDir: string,
  failures: RestoreFailure[],
): Promise<TenantValidation> {
  const client = context.clients.forTenant(tenantId);
  const [head, checkpoints, record] = await Promise.all([
    context.auditLog.head(client, tenantId),
    context.auditLog.checkpoints(client, tenantId),
    context.clients.keyring.registry.get(context.clients.platform(), tenantId),
  ]);
  const purged = record?.status === 'purged';
  const signed = checkpoints
    .filter((checkpoint) => checkpoint.size <= head.size)
    .sort((a, b) => a.size - b.size);
  const size = signed.at(-1)?.size ?? 0;
  const latestByTarget = new Map<string, AuditEntry>();
  let verifiedEntries = 0;

  if (size > 0) {
    const file = join(workDir, `${tenantId}.bundle`);
    await writeBundle(
      createWriteStream(file),
      {
        format: bundleFormat,
        tenantId,
        origin: checkpointOrigin(checkpointDomain, tenantId),
        size,
        keys,
        checkpoints: signed.map(({ size, note }) => ({ size, note })),
        exportedAt: new Date().toISOString(),
      },
      signedEntries(context.auditLog, client, tenantId, size, (entry) => {
        const target = `${entry.target.type}\0${entry.target.id}`;
        if (entry.itemDigest !== undefined) latestByTarget.set(target, entry);
        // DAT-4: after its retention removal an item is expected gone, not at its last state.
        if (entry.action === retentionRemovalAction) latestByTarget.delete(target);
      }),
    );
    try {
      const verified = await verifyBundle(file, { keys, workers: 0 });
      verifiedEntries = verified.entries;
    } catch (error) {
      const position =
        error instanceof AuditVerificationError && error.position !== undefined
          ? ` at position ${error.position}${error.entryId ? ` (entry ${error.entryId})` : ''}`
          : '';
      failures.push({
        tenantId,
        kind: 'audit-log',
        message: `the audit log of ${tenantId} fails verification${position}: ${(error as Error).message}`,
      });
    }
  }

  let checkedItems = 0;
  let keyUnavailable = false;
  if (!purged) {
    for (const entry of latestByTarget.values()) {
      const locate = itemLocations[entry.target.type];
      if (!locate) continue;
      const { pk, sk, attribute } = locate(tenantId, entry.target.id);
      const where = `${pk}/${sk}`;
      let item: Record<string, unknown> | undefined;
      try {
        const result = await client.send(
          new GetCommand({
            TableName: tableName(context.stage, 'data'),
            Key: { pk, sk },
            ConsistentRead: true,
          }),
        );
        item = result.Item;
      } catch (error) {
        if (error instanceof SealedItemError && error.code === 'sealed-item-key-unavailable') {
          keyUnavailable = true;
          break;
        }
        failures.push({
          tenantId,
          kind: 'item-unreadable',
          message: `item ${where} does not open: ${(error as Error).message}`,
        });
        continue;
      }
      checkedItems++;
      if (!item) {
        failures.push({
          tenantId,
          kind: 'item-missing',
          message: `item ${where} is missing, but entry ${entry.id} (${entry.action}) produced it`,
        });
      } else if (itemDigest(item[attribute]) !== entry.itemDigest) {
        failures.push({
          tenantId,
          kind: 'item-digest',
          message: `item ${where} is not the state entry ${entry.id} (${entry.action}) recorded: its digest differs`,
        });
      }
    }
  }
  return {
    tenantId,
    verifiedEntries,
    unsignedEntries: head.size - size,
    checkedItems,
    purged,
    keyUnavailable,
  };
}

/** Validates every tenant with an audit log in the (restored) store the context points at. */
export async function validateRestoredTables(
  context: RestoreValidationContext,
  trustedKeys: readonly PublishedSigningKey[],
  options: { readonly tenants?: readonly string[] } = {},
): Promise<RestoreValidation> {
  const workDir = await mkdtemp(join(tmpdir(), 'strongroom-restore-'));
  const failures: RestoreFailure[] = [];
  const tenants: TenantValidation[] = [];
  try {
    for (const { tenantId } of await listAuditTenants(context.clients.platform(), context.stage)) {
      if (options.tenants && !options.tenants.includes(tenantId)) continue;
      tenants.push(await validateTenant(context, tenantId, trustedKeys, workDir, failures));
    }
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
  return { ok: failures.length === 0, tenants, failures };
}
