/**
 * The tenants that have an audit log, for cross-tenant jobs (the checkpoint signer). It
 * scans the audit head table, which holds one head per tenant and the markers of entries
 * not yet folded, so it stays small. Only a job's own role may scan it (AZ-3): tenant
 * sessions never can, and the local tenant guard refuses Scan too, so this takes the
 * platform client.
 */
import { type DynamoDBDocumentClient, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { isTenantId } from '#shared/tenancy/tenant-id';
import { tableName } from './tables';

export interface AuditTenant {
  readonly tenantId: string;
  /** Whether the tenant has a head (false: only entries no fold has reached yet). */
  readonly hasHead: boolean;
  /** When the head last moved, if it has one. */
  readonly headUpdatedAt: string | undefined;
}

/**
 * Every tenant with a head or with pending entries. A tenant whose first writer crashed
 * before folding has pending markers but no head yet, so both kinds of item count.
 */
export async function listAuditTenants(
  client: DynamoDBDocumentClient,
  stage: string,
): Promise<AuditTenant[]> {
  const found = new Map<string, AuditTenant>();
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({
        TableName: tableName(stage, 'auditHead'),
        // Tenant ids hold no `#`, so `#pending` can only be the marker partition's suffix.
        FilterExpression: 'sk = :head OR contains(pk, :pending)',
        ExpressionAttributeValues: { ':head': 'head', ':pending': '#pending' },
        ProjectionExpression: 'pk, sk, updatedAt',
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    for (const item of page.Items ?? []) {
      const [tenantId, kind] = String(item.pk).split('#');
      if (tenantId === undefined || !isTenantId(tenantId)) continue;
      const isHead = kind === 'head' && item.sk === 'head';
      if (!isHead && kind !== 'pending') continue;
      const known = found.get(tenantId);
      found.set(tenantId, {
        tenantId,
        hasHead: isHead || (known?.hasHead ?? false),
        headUpdatedAt: isHead ? (item.updatedAt as string | undefined) : known?.headUpdatedAt,
      });
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return [...found.values()].sort((a, b) => (a.tenantId < b.tenantId ? -1 : 1));
}
