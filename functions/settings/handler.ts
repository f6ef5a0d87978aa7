/** Tenant settings routes: a thin middy handler over the settings service. */
import { loadRuntimeConfig } from '#shared/config/runtime';
import type { TenantSettings } from '#shared/domain/settings';
import { etagOf, ifMatchVersions } from '#shared/http/etag';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { SettingsBody } from '#shared/http/schemas/settings';
import { createServiceContext } from '#shared/services/context';
import { getSettings, updateSettings } from '#shared/services/settings';

const context = createServiceContext(loadRuntimeConfig());

// Defaults that were never saved present as version 1, so the first update can name them.
const view = (settings: TenantSettings) => ({ ...settings, version: Math.max(settings.version, 1) });

export const handler = createRouteGroupHandler('settings', {
  getSettings: async (request) => {
    const settings = view(await getSettings(context, signedInPrincipal(request)));
    return { body: settings, headers: { ETag: etagOf(settings.version) } };
  },

  updateSettings: async (request) => {
    const stored = await updateSettings(context, {
      principal: signedInPrincipal(request),
      requestId: request.requestId,
      body: request.body as SettingsBody,
      expectedVersions: ifMatchVersions(request.headers['if-match']),
      respond: (settings) => ({
        statusCode: 200,
        headers: { 'Content-Type': 'application/json', ETag: etagOf(settings.version) },
        body: JSON.stringify(view(settings)),
      }),
    });
    return { status: stored.statusCode, text: stored.body, headers: stored.headers };
  },
});
