/**
 * The platform pieces a service needs, created once per process (module scope in a
 * handler). Tests build their own with other configuration.
 */
import type { RuntimeConfig } from '#shared/config/runtime';
import { createSecretSource } from '#shared/crypto/secrets';
import { CursorCodec } from '#shared/http/cursor';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { IdempotencyStore } from '#shared/store/idempotency';
import { InvoiceStore } from '#shared/store/invoices';
import { MutationWriter } from '#shared/store/mutation';
import { PaymentStore } from '#shared/store/payments';
import { SettingsStore } from '#shared/store/settings';

export interface ServiceContext {
  readonly config: RuntimeConfig;
  readonly clients: DataClients;
  readonly auditLog: AuditLog;
  readonly mutations: MutationWriter;
  readonly invoices: InvoiceStore;
  readonly payments: PaymentStore;
  readonly settings: SettingsStore;
  readonly cursors: CursorCodec;
  readonly now: () => Date;
}

export function createServiceContext(config: RuntimeConfig): ServiceContext {
  const auditLog = new AuditLog(config.stage);
  return {
    config,
    clients: new DataClients(config),
    auditLog,
    mutations: new MutationWriter(auditLog, new IdempotencyStore(config.stage)),
    invoices: new InvoiceStore(config.stage),
    payments: new PaymentStore(config.stage),
    settings: new SettingsStore(config.stage),
    cursors: new CursorCodec(createSecretSource(config)),
    now: () => new Date(),
  };
}
