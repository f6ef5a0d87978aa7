/**
 * One mutation, one DynamoDB transaction: the change, its pending audit entry and the
 * idempotency record are committed together or not at all (AUD-1, API-3). After the
 * commit the writer folds the audit log (group commit) so the entry gets its sequence.
 *
 * Every change with business writes also carries a condition on the tenant registry that
 * the tenant is active (or has no record), so a terminated tenant is read-only from the
 * moment its termination commits (DAT-2). Audit-only commits (access events, failed
 * attempts) carry no such condition: a terminated tenant's log still records them.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  type DynamoDBDocumentClient,
  TransactWriteCommand,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import type { AuditEntry } from '#shared/audit/entry';
import {
  ConflictError,
  ContentionError,
  IdempotencyKeyReuseError,
  StrongroomError,
} from '#shared/domain/errors';
import { logger } from '#shared/observability/logger';
import type { AuditLog } from './audit-log';
import type { IdempotencyRecord, IdempotencyStore, StoredResponse } from './idempotency';
import { TenantRegistry } from './tenants';

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const maxCommitAttempts = 3;

/** DAT-2: the tenant is terminated (or purged); its data can be read and exported, not changed. */
export class TenantReadOnlyError extends StrongroomError {
  readonly code = 'tenant-read-only';
  readonly status = 403;
}

export interface MutationRequest {
  readonly tenantId: string;
  /** The business writes, each with its own condition. */
  readonly writes: readonly TransactItem[];
  readonly entry: AuditEntry;
  readonly idempotency?: { readonly key: string; readonly record: IdempotencyRecord };
  readonly now: Date;
  /**
   * The error for a failed condition, given the indexes of the failed writes in
   * `writes`; by default a ConflictError.
   */
  readonly conditionFailed?: (failedWrites: readonly number[]) => Error;
  /**
   * Whether the change needs an active tenant. @default true when there are business
   * writes; termination, purge and exports of a terminated tenant say false.
   */
  readonly requireActiveTenant?: boolean;
}

export type MutationResult =
  | { readonly kind: 'committed'; readonly auditSequence: number | undefined }
  | { readonly kind: 'replayed'; readonly response: StoredResponse };

export class MutationWriter {
  readonly #auditLog: AuditLog;
  readonly #idempotency: IdempotencyStore;
  readonly #registry: TenantRegistry;

  constructor(auditLog: AuditLog, idempotency: IdempotencyStore, registry?: TenantRegistry) {
    this.#auditLog = auditLog;
    this.#idempotency = idempotency;
    this.#registry = registry ?? new TenantRegistry(idempotency.stage);
  }

  /** A stored response for the key, or undefined when the request is new. */
  async replay(
    client: DynamoDBDocumentClient,
    tenantId: string,
    key: string,
    fingerprint: string,
  ): Promise<StoredResponse | undefined> {
    const record = await this.#idempotency.find(client, tenantId, key);
    if (!record) return undefined;
    if (record.fingerprint !== fingerprint) {
      throw new IdempotencyKeyReuseError('This Idempotency-Key was already used for a different request.');
    }
    return record.response;
  }

  async commit(client: DynamoDBDocumentClient, request: MutationRequest): Promise<MutationResult> {
    const { tenantId, idempotency } = request;
    const items: TransactItem[] = [...request.writes, ...this.#auditLog.pendingEntryWrites(request.entry)];
    if (idempotency)
      items.push(this.#idempotency.recordWrite(tenantId, idempotency.key, idempotency.record, request.now));
    const activeCheckAt =
      (request.requireActiveTenant ?? request.writes.length > 0)
        ? items.push(this.#registry.activeCheck(tenantId)) - 1
        : -1;

    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(new TransactWriteCommand({ TransactItems: items }));
        break;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        if (idempotency) {
          // A concurrent duplicate may have committed first: answer as it did.
          const replayed = await this.replay(
            client,
            tenantId,
            idempotency.key,
            idempotency.record.fingerprint,
          );
          if (replayed) return { kind: 'replayed', response: replayed };
        }
        if (activeCheckAt >= 0 && reasons[activeCheckAt]?.Code === 'ConditionalCheckFailed') {
          throw new TenantReadOnlyError(
            'This tenant is terminated: its data can be read and exported, but not changed.',
          );
        }
        const failedWrites = reasons
          .slice(0, request.writes.length)
          .flatMap((reason, index) => (reason.Code === 'ConditionalCheckFailed' ? [index] : []));
        if (failedWrites.length > 0) {
          throw (
            request.conditionFailed?.(failedWrites) ??
            new ConflictError('The resource changed or already exists; read it again and retry.')
          );
        }
        if (reasons.some((reason) => reason.Code === 'ConditionalCheckFailed')) {
          throw new ConflictError('The change collided with another one; retry it.');
        }
        // Only transaction conflicts are left: nothing was written, so trying again is safe.
        if (
          attempt >= maxCommitAttempts ||
          !reasons.some((reason) => reason.Code === 'TransactionConflict')
        ) {
          throw new ContentionError('The change collided with concurrent writes; retry it.');
        }
      }
    }

    let auditSequence: number | undefined;
    try {
      auditSequence = await this.#auditLog.fold(client, tenantId, request.entry.id);
    } catch (error) {
      // The change and its entry are committed; the poller folds what is left.
      logger.warn('audit fold deferred', { entryId: request.entry.id, error });
    }
    return { kind: 'committed', auditSequence };
  }
}
