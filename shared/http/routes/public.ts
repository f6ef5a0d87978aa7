/** Public routes: liveness and RFC 9116 security.txt (VUL-1). */
import type { RouteDefinition } from '../route-definition';
import { healthResponse } from '../schemas/common';

export const publicRoutes: readonly RouteDefinition[] = [
  {
    id: 'getHealth',
    method: 'GET',
    path: '/health',
    group: 'public',
    summary: 'Liveness of the API.',
    permission: 'public',
    principals: ['public'],
    response: healthResponse,
    successStatus: 200,
  },
  {
    id: 'getSecurityTxt',
    method: 'GET',
    path: '/.well-known/security.txt',
    group: 'public',
    summary: 'RFC 9116 security contact information.',
    permission: 'public',
    principals: ['public'],
    successStatus: 200,
    responseContentType: 'text/plain; charset=utf-8',
  },
];
