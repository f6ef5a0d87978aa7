/**
 * API keys (AUTH-5, AZ-1, AZ-4, AUD-1): create, rotate, revoke, list.
 *
 * - Scopes are roles no higher than the creator's own (`canGrant`); an agent key has the
 *   `agent` scope only. Only someone who could grant all of a key's scopes may rotate
 *   or revoke it.
 * - The secret exists in memory for one response. Stored: its HMAC-SHA-256 under the
 *   current pepper version. Not stored anywhere else, the idempotency table included: a
 *   retried creation (same Idempotency-Key) answers 409 naming the key it made, whose
 *   secret can only be replaced by a rotation.
 * - Each change is one transaction with its audit entry and the condition that the
 *   person acting is still an active member with the roles they acted with.
 */
import {
  type ApiKeyEnvironment,
  apiKeyHash,
  apiKeyIdPattern,
  formatApiKey,
  newApiKeySecret,
} from '#shared/auth/api-key-format';
import type { Principal } from '#shared/auth/principal';
import { ConflictError, ForbiddenError, MalformedRequestError, NotFoundError } from '#shared/domain/errors';
import { newId } from '#shared/domain/ids';
import { problem, problemContentType } from '#shared/http/problem';
import type { CreateApiKeyBody, RotateApiKeyBody } from '#shared/http/schemas/api-keys';
import { canGrantAll } from '#shared/rbac/permissions';
import type { ApiKeyRecord, StoredSecret } from '#shared/store/api-keys';
import { requestFingerprint, type StoredResponse } from '#shared/store/idempotency';
import { auditEntryFor } from './audit-entries';
import type { IdentityContext } from './identity-context';

export interface ApiKeyView {
  readonly id: string;
  readonly name: string;
  readonly kind: 'apiKey' | 'agent';
  readonly scopes: readonly string[];
  readonly status: 'active' | 'revoked';
  readonly createdAt: string;
  readonly createdBy: string;
  readonly expiresAt: string;
  readonly lastUsedAt?: string;
  readonly rotatedAt?: string;
  readonly revokedAt?: string;
  readonly previousSecretValidUntil?: string;
  readonly version: number;
}

/** What anyone may see of a key: never its hash, never its secret. */
export function apiKeyView(record: ApiKeyRecord): ApiKeyView {
  return {
    id: record.keyId,
    name: record.name,
    kind: record.kind,
    scopes: record.roles,
    status: record.status,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    expiresAt: record.expiresAt,
    ...(record.lastUsedAt === undefined ? {} : { lastUsedAt: record.lastUsedAt }),
    ...(record.rotatedAt === undefined ? {} : { rotatedAt: record.rotatedAt }),
    ...(record.revokedAt === undefined ? {} : { revokedAt: record.revokedAt }),
    ...(record.previous === undefined ? {} : { previousSecretValidUntil: record.previous.validUntil }),
    version: record.version,
  };
}

export interface IssuedApiKey {
  readonly view: ApiKeyView;
  /** The whole key, secret included: shown once, stored nowhere. */
  readonly key: string;
  readonly auditEntryId: string;
}

/** A response that was answered before, or the key just issued. */
export type IssueResult =
  | { readonly kind: 'issued'; readonly issued: IssuedApiKey }
  | { readonly kind: 'replayed'; readonly response: StoredResponse };

export interface ApiKeyCommand {
  readonly principal: Principal;
  readonly requestId: string;
  readonly idempotencyKey: string | undefined;
}

export async function createApiKey(
  context: IdentityContext,
  command: ApiKeyCommand & { readonly body: CreateApiKeyBody },
): Promise<IssueResult> {
  const { principal, body } = command;
  if (!canGrantAll(principal.roles, body.scopes)) {
    throw new ForbiddenError('You cannot give a key a scope whose permissions you do not hold yourself.');
  }
  const fingerprint = requestFingerprint(principal.actorId, 'createApiKey', body);
  const replayed = await replay(context, command, fingerprint);
  if (replayed) return { kind: 'replayed', response: replayed };

  const now = context.now();
  const keyId = newId('key', now.getTime());
  const secret = newApiKeySecret();
  const record: ApiKeyRecord = {
    tenantId: principal.tenantId,
    keyId,
    kind: body.kind,
    name: body.name,
    roles: body.scopes,
    status: 'active',
    createdAt: now.toISOString(),
    createdBy: principal.actorId,
    expiresAt: new Date(now.getTime() + body.expiresInDays * 86_400_000).toISOString(),
    ...(await storedSecret(context, keyId, secret)),
    version: 1,
  };
  const issued = await commitKeyChange(context, command, {
    action: 'apikey.create',
    record,
    previous: undefined,
    fingerprint,
    detail: { kind: record.kind, scopes: [...record.roles], expiresAt: record.expiresAt },
    now,
  });
  if (issued.kind === 'replayed') return issued;
  return {
    kind: 'issued',
    issued: {
      view: apiKeyView(record),
      key: keyString(context.keyEnvironment, keyId, secret),
      auditEntryId: issued.entryId,
    },
  };
}

export async function rotateApiKey(
  context: IdentityContext,
  command: ApiKeyCommand & { readonly id: string; readonly body: RotateApiKeyBody },
): Promise<IssueResult> {
  const { principal } = command;
  const overlapSeconds = command.body?.overlapSeconds ?? 0;
  const fingerprint = requestFingerprint(principal.actorId, 'rotateApiKey', {
    id: command.id,
    overlapSeconds,
  });
  const replayed = await replay(context, command, fingerprint);
  if (replayed) return { kind: 'replayed', response: replayed };
  const current = await changeableKey(context, principal, command.id);
  if (current.status !== 'active')
    throw new ConflictError('A revoked key cannot be rotated; create a new one.');

  const now = context.now();
  const secret = newApiKeySecret();
  const { previous: _lapsed, ...rest } = current;
  const record: ApiKeyRecord = {
    ...rest,
    ...(await storedSecret(context, current.keyId, secret)),
    ...(overlapSeconds > 0
      ? {
          previous: {
            secretHash: current.secretHash,
            pepperVersion: current.pepperVersion,
            validUntil: new Date(now.getTime() + overlapSeconds * 1000).toISOString(),
          },
        }
      : {}),
    rotatedAt: now.toISOString(),
    version: current.version + 1,
  };
  const issued = await commitKeyChange(context, command, {
    action: 'apikey.rotate',
    record,
    previous: current,
    fingerprint,
    detail: { overlapSeconds },
    now,
  });
  if (issued.kind === 'replayed') return issued;
  return {
    kind: 'issued',
    issued: {
      view: apiKeyView(record),
      key: keyString(context.keyEnvironment, current.keyId, secret),
      auditEntryId: issued.entryId,
    },
  };
}

export async function revokeApiKey(
  context: IdentityContext,
  command: ApiKeyCommand & { readonly id: string },
): Promise<StoredResponse> {
  const { principal } = command;
  const fingerprint = requestFingerprint(principal.actorId, 'revokeApiKey', { id: command.id });
  const replayed = await replay(context, command, fingerprint);
  if (replayed) return replayed;
  const current = await changeableKey(context, principal, command.id);
  if (current.status === 'revoked') throw new NotFoundError('No active API key with this id.');
  const now = context.now();
  const { previous: _lapsed, ...rest } = current;
  const record: ApiKeyRecord = {
    ...rest,
    status: 'revoked',
    revokedAt: now.toISOString(),
    version: current.version + 1,
  };
  const result = await commitKeyChange(context, command, {
    action: 'apikey.revoke',
    record,
    previous: current,
    fingerprint,
    detail: { scopes: [...record.roles] },
    now,
    response: { statusCode: 204, headers: {}, body: '' },
  });
  return result.kind === 'replayed' ? result.response : { statusCode: 204, headers: {}, body: '' };
}

export async function getApiKey(
  context: IdentityContext,
  principal: Principal,
  id: string,
): Promise<ApiKeyRecord> {
  const record = apiKeyIdPattern.test(id)
    ? await context.apiKeys.get(context.clients.forTenant(principal.tenantId), principal.tenantId, id)
    : undefined;
  // Another tenant's key id and one that never existed look the same (AZ-3).
  if (!record) throw new NotFoundError('No API key with this id.');
  return record;
}

export async function listApiKeys(
  context: IdentityContext,
  principal: Principal,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: ApiKeyRecord[]; nextCursor: string | undefined }> {
  let after: string | undefined;
  if (cursor !== undefined) {
    after = /^[A-Za-z0-9_-]{1,100}$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString() : '';
    if (!apiKeyIdPattern.test(after)) throw new MalformedRequestError('The cursor is not valid.');
  }
  const page = await context.apiKeys.list(
    context.clients.forTenant(principal.tenantId),
    principal.tenantId,
    limit,
    after,
  );
  return {
    items: page.items,
    nextCursor: page.lastKey === undefined ? undefined : Buffer.from(page.lastKey).toString('base64url'),
  };
}

function keyString(environment: ApiKeyEnvironment, keyId: string, secret: string): string {
  return formatApiKey(environment, keyId, secret);
}

async function storedSecret(context: IdentityContext, keyId: string, secret: string): Promise<StoredSecret> {
  const peppers = await context.pepper.get();
  const pepper = peppers.peppers.get(peppers.current) as Buffer;
  return { secretHash: apiKeyHash(pepper, keyId, secret).toString('base64'), pepperVersion: peppers.current };
}

async function replay(
  context: IdentityContext,
  command: ApiKeyCommand,
  fingerprint: string,
): Promise<StoredResponse | undefined> {
  if (command.idempotencyKey === undefined) return undefined;
  return context.mutations.replay(
    context.clients.forTenant(command.principal.tenantId),
    command.principal.tenantId,
    command.idempotencyKey,
    fingerprint,
  );
}

async function changeableKey(
  context: IdentityContext,
  principal: Principal,
  id: string,
): Promise<ApiKeyRecord> {
  const record = await getApiKey(context, principal, id);
  if (!canGrantAll(principal.roles, record.roles)) {
    throw new ForbiddenError('This key has a scope whose permissions you do not hold yourself.');
  }
  return record;
}

/**
 * What a retry with the same Idempotency-Key gets instead of the secret: the secret was
 * shown once and is stored nowhere, so it cannot be shown again.
 */
function secretShownOnce(keyId: string, requestId: string): StoredResponse {
  return {
    statusCode: 409,
    headers: { 'Content-Type': problemContentType },
    body: JSON.stringify(
      problem(
        409,
        'secret-shown-once',
        `This Idempotency-Key already issued a secret for ${keyId}; it is shown only once. Rotate the key for a new secret, or revoke it.`,
        { keyId, requestId },
      ),
    ),
  };
}

interface KeyChange {
  readonly action: 'apikey.create' | 'apikey.rotate' | 'apikey.revoke';
  readonly record: ApiKeyRecord;
  readonly previous: ApiKeyRecord | undefined;
  readonly fingerprint: string;
  readonly detail: Record<string, string | number | string[]>;
  readonly now: Date;
  /** What a retry gets; by default the secret-shown-once problem. */
  readonly response?: StoredResponse;
}

async function commitKeyChange(
  context: IdentityContext,
  command: ApiKeyCommand,
  change: KeyChange,
): Promise<{ kind: 'committed'; entryId: string } | { kind: 'replayed'; response: StoredResponse }> {
  const { principal } = command;
  const entry = {
    ...auditEntryFor(
      { principal, requestId: command.requestId, agentReason: undefined, inputs: null },
      {
        action: change.action,
        target: { type: 'apiKey', id: change.record.keyId },
        itemState: change.record,
      },
      change.now,
    ),
    detail: change.detail,
  };
  const stored = change.response ?? secretShownOnce(change.record.keyId, command.requestId);
  const client = context.clients.forTenant(principal.tenantId);
  const result = await context.mutations.commit(client, {
    tenantId: principal.tenantId,
    writes: [
      context.apiKeys.write(change.record, change.previous),
      await context.members.stillActive(client, principal.tenantId, principal.actorId, principal.roles),
    ],
    entry,
    ...(command.idempotencyKey === undefined
      ? {}
      : {
          idempotency: {
            key: command.idempotencyKey,
            record: { fingerprint: change.fingerprint, response: stored },
          },
        }),
    now: change.now,
  });
  return result.kind === 'replayed' ? result : { kind: 'committed', entryId: entry.id };
}
