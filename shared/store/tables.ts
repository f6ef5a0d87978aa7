/**
 * Every DynamoDB table of Strongroom, declared once. The CDK constructs build the
 * tables from this list and the local bootstrap creates them in DynamoDB Local.
 *
 * `scope: 'tenant'` means every partition key of the table and of each index starts
 * with `<tenantId>#` (AZ-3), so tenant-scoped sessions reach it under
 * `dynamodb:LeadingKeys`. `scope: 'platform'` indexes are read only by the
 * cross-tenant jobs that own them (for example the authorizer's identity lookup).
 */
export type TableScope = 'tenant' | 'platform';

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly scope: TableScope;
}

export interface TableDefinition {
  /** Stable logical id: the construct id in CDK and the table-name suffix everywhere. */
  readonly id: TableId;
  readonly description: string;
  readonly partitionKey: string;
  readonly sortKey: string;
  readonly scope: TableScope;
  readonly indexes: readonly IndexDefinition[];
  /** Attribute holding an epoch-seconds expiry, if the table uses TTL. */
  readonly timeToLiveAttribute?: string;
  /** Whether the table has a stream (new images) for pollers and archivers. */
  readonly stream: boolean;
  /**
   * The stream carries keys only, no item images: enough to start a job, nothing of the
   * items themselves. @default false (new images)
   */
  readonly streamKeysOnly?: boolean;
  /** Whether application roles may only put, get and query (AUD-2). */
  readonly appendOnly: boolean;
  /**
   * Whether tenant sessions may only read (get, query, condition checks); the platform's
   * own jobs (onboarding, termination, purge) write it. @default false
   */
  readonly tenantReadOnly?: boolean;
  /**
   * ENC-3: every item is sealed. All attributes except the table and index keys, the TTL
   * attribute and `plainAttributes` travel in the one `sealed` attribute, AES-256-GCM under
   * the tenant's data key (shared/crypto/seal.ts). Plain attributes are concurrency and
   * state metadata that conditions and filters need: never personal or banking data.
   */
  readonly sealed?: { readonly plainAttributes: readonly string[] };
}

/** The attribute that holds an item's sealed payload. */
export const sealedAttribute = 'sealed';

export const tableIds = ['data', 'members', 'audit', 'auditHead', 'idempotency', 'tenants'] as const;
export type TableId = (typeof tableIds)[number];

export const tables: Readonly<Record<TableId, TableDefinition>> = {
  data: {
    id: 'data',
    description: 'Tenant business items (invoices, counterparties, payments, settings).',
    partitionKey: 'pk',
    sortKey: 'sk',
    scope: 'tenant',
    // gsi1: items by status; gsi2: items by counterparty. Keys hold ids and states only.
    indexes: [
      { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk', scope: 'tenant' },
      { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk', scope: 'tenant' },
    ],
    // Keys only: an export record's insert starts the export worker (DAT-1); no item leaves in it.
    stream: true,
    streamKeysOnly: true,
    appendOnly: false,
    // `version` for If-Match conditions, `status` for the status filter, `sequence` for the
    // gap-free invoice number counter; everything else of an item is sealed.
    sealed: { plainAttributes: ['version', 'status', 'sequence'] },
  },
  members: {
    id: 'members',
    description: 'Members of each tenant: identity (issuer and subject), roles and status.',
    partitionKey: 'pk',
    sortKey: 'sk',
    scope: 'tenant',
    // Keyed by a pseudonymous identity id so the authorizer finds a caller's tenants. The
    // index projects every attribute, the seal included, so the authorizer opens what it finds.
    indexes: [{ name: 'byIdentity', partitionKey: 'identityId', sortKey: 'tenantId', scope: 'platform' }],
    // Windows of failed API-key attempts expire by themselves (AUTH-2); members and keys carry no ttl.
    timeToLiveAttribute: 'ttl',
    stream: false,
    appendOnly: false,
    // Issuer, subject, roles, status, labels, key hashes and grants are sealed. Plain besides the
    // keys, the index keys (identity id, tenant id) and `ttl`: `version` for If-Match conditions;
    // an API key's `lastUsedAt` and a failure window's `failures`, which the authorizer writes
    // with UpdateItem limited to exactly those attributes (AUTH-2, AUTH-5): sealing them would
    // need it to put whole items, roles included. A failure window (`<tenant>#apikey-failures`,
    // key id, source pseudonym and window start in its key) holds nothing else, so no seal.
    sealed: { plainAttributes: ['version', 'lastUsedAt', 'failures'] },
  },
  audit: {
    id: 'audit',
    description: 'Append-only audit entries and their sequence, per tenant (AUD-1, AUD-2).',
    partitionKey: 'pk',
    sortKey: 'sk',
    scope: 'tenant',
    indexes: [],
    stream: true,
    appendOnly: true,
  },
  auditHead: {
    id: 'auditHead',
    description: 'Per-tenant head of the audit log and the markers of entries not yet folded.',
    partitionKey: 'pk',
    sortKey: 'sk',
    scope: 'tenant',
    indexes: [],
    stream: false,
    appendOnly: false,
  },
  idempotency: {
    id: 'idempotency',
    description: 'Idempotency records: the request fingerprint and the response it produced (API-3).',
    partitionKey: 'pk',
    sortKey: 'sk',
    scope: 'tenant',
    indexes: [],
    timeToLiveAttribute: 'expiresAt',
    stream: false,
    appendOnly: false,
    // The stored responses carry personal data: fingerprint, response and time are sealed.
    sealed: { plainAttributes: [] },
  },
  tenants: {
    id: 'tenants',
    description:
      'Tenant registry: status (active, terminated, purged), tenant key reference and wrapped data keys by version.',
    partitionKey: 'pk',
    sortKey: 'sk',
    scope: 'tenant',
    indexes: [],
    stream: false,
    appendOnly: false,
    // A tenant session reads its own record (its wrapped data keys, its status) and checks
    // its status in every change; only platform jobs (onboarding, termination, purge) write it.
    tenantReadOnly: true,
  },
};

/** The physical table name for a stage, e.g. `strongroom-dev-data`. */
export function tableName(stage: string, id: TableId): string {
  return `strongroom-${stage}-${id}`;
}
