/** API-key schemas (AUTH-5, AZ-4): the secret appears in exactly one response, the creation's (or a rotation's). */
import { z } from 'zod';
import { apiKeyIdPattern } from '#shared/auth/api-key-format';
import { agentScopes, apiKeyScopes } from '#shared/rbac/permissions';
import { text } from './common';

export const apiKeyId = z.string().regex(apiKeyIdPattern, 'must be an API key id');
export const apiKeyIdParams = z.strictObject({ id: apiKeyId });

const scope = z.enum([...apiKeyScopes, ...agentScopes]);

export const createApiKeyBody = z
  .strictObject({
    /** A label for people, such as "ERP sync"; not a secret, shown in lists. */
    name: text(1, 100),
    /** `agent` keys are AI agents (AZ-4): scope `agent` only, a stated reason on every write. */
    kind: z.enum(['apiKey', 'agent']).default('apiKey'),
    scopes: z
      .array(scope)
      .min(1)
      .max(apiKeyScopes.length)
      .refine((list) => new Set(list).size === list.length, { message: 'must not repeat a scope' }),
    /** Keys always expire: 1 to 365 days. */
    expiresInDays: z.number().int().min(1).max(365).default(90),
  })
  .refine((body) => (body.kind === 'agent') === body.scopes.includes('agent'), {
    message: 'an agent key has exactly the agent scope, and only agent keys have it',
    path: ['scopes'],
  })
  .refine((body) => body.kind !== 'agent' || body.scopes.length === 1, {
    message: 'an agent key has exactly the agent scope',
    path: ['scopes'],
  });
export type CreateApiKeyBody = z.infer<typeof createApiKeyBody>;

export const rotateApiKeyBody = z
  .strictObject({
    /** How long the previous secret keeps working, so integrations switch without downtime: 0 to 24 hours. */
    overlapSeconds: z.number().int().min(0).max(86_400).default(0),
  })
  .optional();
export type RotateApiKeyBody = z.infer<typeof rotateApiKeyBody>;

export const apiKeyView = z.strictObject({
  id: apiKeyId,
  name: z.string(),
  kind: z.enum(['apiKey', 'agent']),
  scopes: z.array(z.string()),
  status: z.enum(['active', 'revoked']),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string(),
  lastUsedAt: z.string().optional(),
  rotatedAt: z.string().optional(),
  revokedAt: z.string().optional(),
  /** During a rotation's overlap: until when the previous secret works. */
  previousSecretValidUntil: z.string().optional(),
  version: z.number().int(),
});

/** The one response that carries the key: store it now, it is never shown again. */
export const issuedApiKeyResponse = apiKeyView.extend({
  key: z.string(),
  auditEntryId: z.string(),
});

export const apiKeyListQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).optional(),
  cursor: z.string().max(200).optional(),
});

export const apiKeyListResponse = z.strictObject({
  items: z.array(apiKeyView),
  nextCursor: z.string().optional(),
});
