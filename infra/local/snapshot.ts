/**
 * Local backups (BAK-2, BAK-3 locally): an encrypted snapshot of every table, and the
 * restore test that loads one into a separate DynamoDB Local and validates it against the
 * audit log (shared/services/restore-validation.ts).
 *
 * A snapshot file is `strongroom-snapshot/1`:
 *
 * ```
 * line 1   strongroom-snapshot/1
 * line 2   header JSON (stage, time, tables and item counts): authenticated, not secret
 * rest     12-byte IV ‖ AES-256-GCM ciphertext ‖ 16-byte tag
 * ```
 *
 * The plaintext is one JSON line per item, `{"table": <id>, "item": <DynamoDB JSON>}`, the
 * items exactly as stored: sealed payloads stay sealed under the tenants' data keys. The
 * snapshot key is `<dataDir>/keys/backup.key` (0600). Neither it nor the tenant keys are in
 * the snapshot, so a purged tenant's items in an older snapshot stay unreadable (DAT-2).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  type DynamoDBClient,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import type { RuntimeConfig } from '#shared/config/runtime';
import { createCheckpointSigner } from '#shared/crypto/signing';
import { type RestoreValidation, validateRestoredTables } from '#shared/services/restore-validation';
import { AuditLog } from '#shared/store/audit-log';
import { DataClients } from '#shared/store/dynamo';
import { type TableId, tableIds, tableName } from '#shared/store/tables';
import { ensureTables } from './bootstrap-tables';
import { startDynamoDbLocal } from './dynamodb-local';
import { findFreePort } from './ports';
import { ensurePrivateDir } from './private-files';
import { loopbackHost } from './settings';

export const snapshotFormat = 'strongroom-snapshot/1';

type Item = Record<string, AttributeValue>;

export interface SnapshotHeader {
  readonly format: typeof snapshotFormat;
  readonly stage: string;
  readonly createdAt: string;
  /** Items per table. */
  readonly tables: Readonly<Record<string, number>>;
}

export interface SnapshotItem {
  readonly table: TableId;
  readonly item: Item;
}

/** The snapshot is not what was written with this data folder's backup key. */
export class SnapshotError extends Error {
  readonly code: 'snapshot-malformed' | 'snapshot-not-authentic' | 'snapshot-key-missing';
  constructor(code: SnapshotError['code'], message: string) {
    super(message);
    this.name = 'SnapshotError';
    this.code = code;
  }
}

function backupKeyFile(dataDir: string): string {
  return path.join(dataDir, 'keys', 'backup.key');
}

/** The local backup key: 32 random bytes in a 0600 file, created on first use. */
export async function backupKey(dataDir: string, create = true): Promise<Buffer> {
  const file = backupKeyFile(dataDir);
  if (create) {
    await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' }).catch(
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      },
    );
  }
  try {
    return Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SnapshotError('snapshot-key-missing', `no backup key at ${file}`);
    }
    throw error;
  }
}

// DynamoDB JSON with binary values as base64 (`{"B": {"$b64": "..."}}`).
function replacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return { $b64: Buffer.from(value).toString('base64') };
  if (
    value !== null &&
    typeof value === 'object' &&
    (value as { type?: unknown }).type === 'Buffer' &&
    Array.isArray((value as { data?: unknown }).data)
  ) {
    return { $b64: Buffer.from((value as { data: number[] }).data).toString('base64') };
  }
  return value;
}

function reviver(_key: string, value: unknown): unknown {
  if (value !== null && typeof value === 'object' && typeof (value as { $b64?: unknown }).$b64 === 'string') {
    return new Uint8Array(Buffer.from((value as { $b64: string }).$b64, 'base64'));
  }
  return value;
}

/** Seals items into snapshot bytes with the backup key. */
export function encodeSnapshot(header: SnapshotHeader, items: readonly SnapshotItem[], key: Buffer): Buffer {
  const headerLine = Buffer.from(`${snapshotFormat}\n${JSON.stringify(header)}\n`, 'utf8');
  const plaintext = Buffer.from(items.map((each) => JSON.stringify(each, replacer)).join('\n'), 'utf8');
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(headerLine);
  return Buffer.concat([headerLine, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

/** Opens snapshot bytes; throws SnapshotError when a byte changed or the key is another. */
export function decodeSnapshot(
  bytes: Buffer,
  key: Buffer,
  file = 'the snapshot',
): {
  header: SnapshotHeader;
  items: SnapshotItem[];
} {
  const first = bytes.indexOf(0x0a);
  const second = first < 0 ? -1 : bytes.indexOf(0x0a, first + 1);
  if (second < 0 || bytes.subarray(0, first).toString('utf8') !== snapshotFormat) {
    throw new SnapshotError('snapshot-malformed', `${file} is not a ${snapshotFormat} file`);
  }
  const headerLine = bytes.subarray(0, second + 1);
  const body = bytes.subarray(second + 1);
  if (body.length < 12 + 16) throw new SnapshotError('snapshot-malformed', `${file} is truncated`);
  const decipher = createDecipheriv('aes-256-gcm', key, body.subarray(0, 12), { authTagLength: 16 });
  decipher.setAAD(headerLine);
  decipher.setAuthTag(body.subarray(body.length - 16));
  let plaintext: Buffer;
  try {
    plaintext = Buffer.concat([decipher.update(body.subarray(12, body.length - 16)), decipher.final()]);
  } catch {
    throw new SnapshotError(
      'snapshot-not-authentic',
      `${file} does not authenticate: a byte of it was changed, or it was written with another backup key`,
    );
  }
  let header: SnapshotHeader;
  try {
    header = JSON.parse(bytes.subarray(first + 1, second).toString('utf8')) as SnapshotHeader;
  } catch {
    throw new SnapshotError('snapshot-malformed', `${file} has no readable header`);
  }
  const text = plaintext.toString('utf8');
  const items = text === '' ? [] : text.split('\n').map((line) => JSON.parse(line, reviver) as SnapshotItem);
  return { header, items };
}

/** Every item of every table, as stored (raw client: nothing is opened). */
export async function scanAllTables(client: DynamoDBClient, stage: string): Promise<SnapshotItem[]> {
  const items: SnapshotItem[] = [];
  for (const table of tableIds) {
    let start: Item | undefined;
    do {
      const page = await client.send(
        new ScanCommand({
          TableName: tableName(stage, table),
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) items.push({ table, item });
      start = page.LastEvaluatedKey;
    } while (start);
  }
  return items;
}

export interface WrittenSnapshot {
  readonly file: string;
  readonly header: SnapshotHeader;
}

/** Writes an encrypted snapshot of every table under `<dataDir>/backups/` (mode 0600). */
export async function writeSnapshot(
  client: DynamoDBClient,
  stage: string,
  dataDir: string,
  now: Date = new Date(),
): Promise<WrittenSnapshot> {
  const items = await scanAllTables(client, stage);
  const counts: Record<string, number> = Object.fromEntries(tableIds.map((id) => [id, 0]));
  for (const { table } of items) counts[table] = (counts[table] ?? 0) + 1;
  const header: SnapshotHeader = {
    format: snapshotFormat,
    stage,
    createdAt: now.toISOString(),
    tables: counts,
  };
  const folder = path.join(dataDir, 'backups');
  await ensurePrivateDir(folder);
  const file = path.join(folder, `snapshot-${now.toISOString().replace(/[:.]/g, '-')}.bin`);
  await writeFile(file, encodeSnapshot(header, items, await backupKey(dataDir)), { mode: 0o600, flag: 'wx' });
  return { file, header };
}

/** Loads items into tables (created from tables.ts if missing). */
export async function loadItems(
  client: DynamoDBClient,
  stage: string,
  items: readonly SnapshotItem[],
): Promise<void> {
  await ensureTables(client, stage);
  for (const table of tableIds) {
    const ofTable = items.filter((each) => each.table === table).map((each) => each.item);
    for (let offset = 0; offset < ofTable.length; offset += 25) {
      let request: Record<string, { PutRequest: { Item: Item } }[]> | undefined = {
        [tableName(stage, table)]: ofTable
          .slice(offset, offset + 25)
          .map((Item) => ({ PutRequest: { Item } })),
      };
      while (request && Object.keys(request).length > 0) {
        const result = await client.send(new BatchWriteItemCommand({ RequestItems: request }));
        request = result.UnprocessedItems as typeof request;
      }
    }
  }
}

export interface RestoredStore {
  readonly config: RuntimeConfig;
  readonly header: SnapshotHeader;
  stop(): Promise<void>;
}

/**
 * Restores a snapshot into a new DynamoDB Local of its own (a temporary folder, a free
 * port), never into the running store. The tenant keys stay those of `dataDir`.
 */
export async function restoreSnapshot(
  file: string,
  dataDir: string,
  base: Pick<RuntimeConfig, 'region' | 'userPoolId' | 'userPoolClientId' | 'allowedOrigins'>,
): Promise<RestoredStore> {
  const { header, items } = decodeSnapshot(await readFile(file), await backupKey(dataDir, false), file);
  const folder = await mkdtemp(path.join(path.dirname(file), '.restore-'));
  const dynamodb = await startDynamoDbLocal({ dbPath: folder, port: await findFreePort(loopbackHost) });
  const stop = async () => {
    await dynamodb.stop();
    await rm(folder, { recursive: true, force: true });
  };
  try {
    const config: RuntimeConfig = {
      mode: 'local',
      stage: header.stage,
      region: base.region,
      dynamoEndpoint: dynamodb.endpoint,
      userPoolId: base.userPoolId,
      userPoolClientId: base.userPoolClientId,
      localDataDir: dataDir,
      securityTxtExpires: '',
      allowedOrigins: base.allowedOrigins,
    };
    const raw = DataClients.rawClient(config);
    try {
      await loadItems(raw, header.stage, items);
    } finally {
      raw.destroy();
    }
    return { config, header, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The restore test: restore into a separate store, validate against the audit log, stop it. */
export async function restoreTest(
  file: string,
  dataDir: string,
  base: Pick<RuntimeConfig, 'region' | 'userPoolId' | 'userPoolClientId' | 'allowedOrigins'>,
  options: { readonly tenants?: readonly string[] } = {},
): Promise<RestoreValidation & { readonly header: SnapshotHeader }> {
  const restored = await restoreSnapshot(file, dataDir, base);
  try {
    // The trusted keys are the published signing keys of this data folder, not the snapshot's.
    const keys = await createCheckpointSigner(restored.config).publicKeys();
    const clients = new DataClients(restored.config, { keyring: { provisionMissing: false } });
    const result = await validateRestoredTables(
      { stage: restored.config.stage, clients, auditLog: new AuditLog(restored.config.stage) },
      keys,
      options,
    );
    return { ...result, header: restored.header };
  } finally {
    await restored.stop();
  }
}
