/**
 * Tenant export routes (DAT-1): a thin middy handler over the export service. In AWS the
 * export worker (functions/export-worker) is started by the data table's stream when the
 * export's record is committed; locally the same worker code runs in this process.
 */
import { loadRuntimeConfig } from '#shared/config/runtime';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import { createServiceContext } from '#shared/services/context';
import {
  type ExportContext,
  type ExportDispatcher,
  exportContext,
  exportView,
  getExport,
  inProcessDispatcher,
  startExport,
} from '#shared/services/exports';
import { createExportArchives } from '#shared/store/export-archives';

const config = loadRuntimeConfig();
const base = createServiceContext(config);
const archives = createExportArchives(config, (tenantId) => base.clients.tenantCredentials(tenantId));
// AWS: nothing to do here, the committed record reaches the worker through the table's stream.
const dispatch: ExportDispatcher =
  config.mode === 'local'
    ? inProcessDispatcher(
        () => context,
        () => base.clients.keyring.keyService.checkpointSigner(),
      )
    : () => undefined;
const context: ExportContext = exportContext(base, archives, dispatch);

/** The local gateway's own origin, for its one-time links (loopback only; no link elsewhere). */
function localOrigin(host: string | undefined): string | undefined {
  if (config.mode !== 'local' || host === undefined) return undefined;
  return /^(127\.0\.0\.1|localhost|\[::1\]):\d{1,5}$/.test(host) ? `http://${host}` : undefined;
}

export const handler = createRouteGroupHandler('exports', {
  startExport: async (request) => {
    const stored = await startExport(context, {
      principal: signedInPrincipal(request),
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
      respond: (record, auditEntryId) => ({
        statusCode: 202,
        headers: { 'Content-Type': 'application/json', Location: `/exports/${record.id}` },
        body: JSON.stringify({ ...exportView(record), auditEntryId }),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },

  getExport: async (request) => ({
    body: await getExport(
      context,
      signedInPrincipal(request),
      (request.params as { id: string }).id,
      localOrigin(request.headers.host),
    ),
  }),
});
