/**
 * Tenant data export routes (DAT-1): the owner or an admin starts an export of the whole
 * tenant and follows it; a complete export carries a short-lived download link.
 */
import { type RouteDefinition, tenantPeople } from '../route-definition';
import { exportParams, exportView, startExportBody } from '../schemas/exports';

export const exportRoutes: readonly RouteDefinition[] = [
  {
    id: 'startExport',
    method: 'POST',
    path: '/exports',
    group: 'exports',
    summary:
      "Start an export of the tenant's data, audit bundle and verifier instructions as one AWS Encryption SDK message (owner or admin); answers 202 with the export's Location. Audited.",
    permission: 'export:create',
    principals: tenantPeople,
    body: startExportBody,
    response: exportView,
    successStatus: 202,
  },
  {
    id: 'getExport',
    method: 'GET',
    path: '/exports/{id}',
    group: 'exports',
    summary:
      'Status and progress of an export; when complete, a download link that works for minutes (locally once).',
    permission: 'export:create',
    principals: tenantPeople,
    params: exportParams,
    response: exportView,
    successStatus: 200,
  },
];
