/**
 * API keys (AUTH-5, AZ-4): people with `apikey:write` create, rotate and revoke keys
 * with scopes no higher than their own roles. The secret is in the creation's (or the
 * rotation's) response and nowhere else, ever.
 */
import { type RouteDefinition, signedIn, tenantPeople } from '../route-definition';
import {
  apiKeyIdParams,
  apiKeyListQuery,
  apiKeyListResponse,
  apiKeyView,
  createApiKeyBody,
  issuedApiKeyResponse,
  rotateApiKeyBody,
} from '../schemas/api-keys';

export const apiKeyRoutes: readonly RouteDefinition[] = [
  {
    id: 'listApiKeys',
    method: 'GET',
    path: '/api-keys',
    group: 'api-keys',
    summary: "The tenant's API keys, newest first; never their secrets.",
    permission: 'apikey:read',
    principals: signedIn,
    query: apiKeyListQuery,
    response: apiKeyListResponse,
    successStatus: 200,
  },
  {
    id: 'getApiKey',
    method: 'GET',
    path: '/api-keys/{id}',
    group: 'api-keys',
    summary: 'One API key with its scopes, expiry and last-used time; never its secret.',
    permission: 'apikey:read',
    principals: signedIn,
    params: apiKeyIdParams,
    response: apiKeyView,
    successStatus: 200,
  },
  {
    id: 'createApiKey',
    method: 'POST',
    path: '/api-keys',
    group: 'api-keys',
    summary: 'Create an API key (or an agent key); the response shows its secret once.',
    permission: 'apikey:write',
    principals: tenantPeople,
    body: createApiKeyBody,
    response: issuedApiKeyResponse,
    successStatus: 201,
  },
  {
    id: 'rotateApiKey',
    method: 'POST',
    path: '/api-keys/{id}/rotate',
    group: 'api-keys',
    summary: 'A new secret for the key; the previous one keeps working for the overlap asked for.',
    permission: 'apikey:write',
    principals: tenantPeople,
    params: apiKeyIdParams,
    body: rotateApiKeyBody,
    response: issuedApiKeyResponse,
    successStatus: 200,
  },
  {
    id: 'revokeApiKey',
    method: 'DELETE',
    path: '/api-keys/{id}',
    group: 'api-keys',
    summary: 'Revoke the key; it stops working within the authorizer cache (60 s).',
    permission: 'apikey:write',
    principals: tenantPeople,
    params: apiKeyIdParams,
    successStatus: 204,
  },
];
