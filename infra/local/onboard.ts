/**
 * `npm run onboard -- <tenant-id> <owner-email>`: the platform operator's onboarding, run
 * against the running local stack (`npm start`). It calls the same onboarding service as
 * `POST /tenants`: registers the tenant id, creates the owner in cognito-local and as a
 * member, and starts the tenant's audit log. cognito-local sends no invitation mail, so
 * the command gives the owner a generated password, kept in the 0600 passwords file next
 * to the demo users' (never printed): `npm run -s token -- <owner-email>` then signs in.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { AdminSetUserPasswordCommand } from '@aws-sdk/client-cognito-identity-provider';
import { StrongroomError } from '#shared/domain/errors';
import { createIdentityContext } from '#shared/services/identity-context';
import { onboardTenant } from '#shared/services/onboarding';
import { tenantKeyProvisioner } from '#shared/store/tenant-keyring';
import { cognitoLocalClient } from './cognito-app-client';
import { readJsonFile, writePrivateFile } from './private-files';
import { runningStackConfig } from './running-stack';
import type { DemoPasswordsFile } from './seed';
import { dataLayout } from './settings';

async function main(): Promise<void> {
  const [tenantId, ownerEmail] = process.argv.slice(2);
  if (tenantId === undefined || ownerEmail === undefined || process.argv.length !== 4) {
    throw new Error('usage: npm run onboard -- <tenant-id> <owner-email>');
  }
  const config = await runningStackConfig();
  const layout = dataLayout(config.localDataDir);
  const identity = createIdentityContext(config);
  const context = { ...identity, keys: tenantKeyProvisioner(identity.clients.keyring) };
  const email = ownerEmail.toLowerCase();
  const stored = await onboardTenant(context, {
    tenantId,
    ownerEmail: email,
    // The command runs with the operator's own access to the machine: a system actor.
    actor: { id: 'onboard-command', kind: 'system' },
    requestId: randomUUID(),
    idempotencyKey: undefined,
    respond: (tenant, owner) => ({
      statusCode: 201,
      headers: {},
      body: JSON.stringify({ tenantId: tenant.tenantId, ownerId: owner.identityId, keys: tenant.keys }),
    }),
  });
  const created = JSON.parse(stored.body) as {
    tenantId: string;
    ownerId: string;
    keys: Record<string, string>;
  };

  // Written before cognito-local learns it, so a crash never leaves a password nobody knows.
  const passwords = ((await readJsonFile(layout.demoUsers)) ?? {}) as DemoPasswordsFile;
  const password = `${randomBytes(24).toString('base64url')}-Aa1`;
  passwords[email] = { tenantId, role: 'owner', password };
  await writePrivateFile(layout.demoUsers, `${JSON.stringify(passwords, null, 2)}\n`);
  const cognito = cognitoLocalClient(config.cognitoEndpoint ?? '', config.region);
  await cognito.send(
    new AdminSetUserPasswordCommand({
      UserPoolId: config.userPoolId,
      Username: email,
      Password: password,
      Permanent: true,
    }),
  );
  cognito.destroy();
  context.clients.platform().destroy();

  process.stdout.write(
    [
      `Tenant ${created.tenantId} onboarded with its own key (${created.keys.keyId ?? created.keys.status}); its owner is member ${created.ownerId}.`,
      `The owner's password is in ${path.relative(process.cwd(), layout.demoUsers) || layout.demoUsers} (mode 0600). Sign in:`,
      `  TOKEN=$(npm run -s token -- ${email})`,
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  const message = error instanceof StrongroomError || error instanceof Error ? error.message : String(error);
  process.stderr.write(`npm run onboard failed: ${message}\n`);
  process.exit(1);
});
