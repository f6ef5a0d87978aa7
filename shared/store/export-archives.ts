/**
 * Where finished exports are kept and how they are handed out (DAT-1). In AWS the message is
 * an object in the exports bucket (`tenants/<tenantId>/<exportId>.esdk`, SSE-KMS under the
 * bucket's key, expired by a lifecycle rule) and a download is an S3 presigned GET, signed
 * with the tenant's session (which may read only its own prefix) and valid for minutes.
 * Locally the message is a file of the data folder (mode 0600) and a download is a one-time
 * link that the local gateway serves (`/local-downloads/<token>`): a random token, stored
 * only as its SHA-256, redeemed once, expired after minutes.
 */
import { createHash, randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readFile, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { tenantPrefix } from '#shared/tenancy/tenant-id';

/** How long a download link works. */
export const downloadLinkSeconds = 5 * 60;

/** Objects of the exports bucket live under this prefix, then the tenant id. */
export const exportObjectPrefix = 'tenants/';

/** The path of local one-time links on the local gateway. */
export const localDownloadPath = '/local-downloads/';

export interface DownloadLink {
  readonly url: string;
  readonly expiresAt: string;
}

export interface ExportArchives {
  /** Stores the message; returns its object key. */
  put(tenantId: string, exportId: string, message: Buffer): Promise<string>;
  /** A short-lived link to the stored message. `origin` is the caller's API origin (local links). */
  downloadLink(
    tenantId: string,
    objectKey: string,
    now: Date,
    origin: string | undefined,
  ): Promise<DownloadLink>;
}

export function exportObjectKey(tenantId: string, exportId: string): string {
  tenantPrefix(tenantId);
  if (!/^exp_[0-9A-Z]{26}$/.test(exportId)) throw new Error(`invalid export id ${JSON.stringify(exportId)}`);
  return `${exportObjectPrefix}${tenantId}/${exportId}.esdk`;
}

// ---------------------------------------------------------------------------------------
// Local

interface LocalLink {
  readonly file: string;
  readonly tenantId: string;
  readonly expiresAt: number;
}

/**
 * The local gateway's one-time links, shared in-process by the exports handler (issues) and
 * the gateway (redeems). Only token hashes are kept; a redeemed or expired token is gone.
 */
export class LocalDownloadLinks {
  readonly #links = new Map<string, LocalLink>();

  issue(
    file: string,
    tenantId: string,
    now: number,
    seconds = downloadLinkSeconds,
  ): { token: string; expiresAt: number } {
    this.#sweep(now);
    const token = randomBytes(32).toString('base64url');
    const expiresAt = now + seconds * 1000;
    this.#links.set(hashOf(token), { file, tenantId, expiresAt });
    return { token, expiresAt };
  }

  /** The link's file if the token is live; the token is spent either way. */
  redeem(token: string, now: number): LocalLink | undefined {
    const key = hashOf(token);
    const link = this.#links.get(key);
    this.#links.delete(key);
    this.#sweep(now);
    return link && link.expiresAt > now ? link : undefined;
  }

  #sweep(now: number): void {
    for (const [key, link] of this.#links) if (link.expiresAt <= now) this.#links.delete(key);
  }
}

function hashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64');
}

/** The one registry of this process (the local gateway runs the handlers in-process). */
export const localDownloadLinks = new LocalDownloadLinks();

export class LocalExportArchives implements ExportArchives {
  readonly #dir: string;
  readonly #links: LocalDownloadLinks;

  constructor(dataDir: string, links: LocalDownloadLinks = localDownloadLinks) {
    this.#dir = join(dataDir, 'exports');
    this.#links = links;
  }

  file(objectKey: string): string {
    return join(this.#dir, ...objectKey.split('/'));
  }

  async put(tenantId: string, exportId: string, message: Buffer): Promise<string> {
    const objectKey = exportObjectKey(tenantId, exportId);
    const file = this.file(objectKey);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const temporary = `${file}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w', 0o600);
    try {
      await handle.chmod(0o600);
      await handle.writeFile(message);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, file);
    await chmod(file, 0o600);
    return objectKey;
  }

  async downloadLink(
    tenantId: string,
    objectKey: string,
    now: Date,
    origin: string | undefined,
  ): Promise<DownloadLink> {
    const { token, expiresAt } = this.#links.issue(this.file(objectKey), tenantId, now.getTime());
    return {
      url: `${origin ?? ''}${localDownloadPath}${token}`,
      expiresAt: new Date(expiresAt).toISOString(),
    };
  }

  /** Reads a redeemed link's file (the local gateway). */
  static read(file: string): Promise<Buffer> {
    return readFile(file);
  }
}

// ---------------------------------------------------------------------------------------
// AWS

export interface S3ExportArchivesOptions {
  readonly bucket: string;
  readonly region: string;
  /** Credentials of the tenant's session, which may read only `tenants/<tenantId>/` (presigning). */
  readonly tenantCredentials?: (tenantId: string) => S3ClientConfig['credentials'] | undefined;
}

export class S3ExportArchives implements ExportArchives {
  readonly #options: S3ExportArchivesOptions;
  readonly #writer: S3Client;
  readonly #readers = new Map<string, S3Client>();

  constructor(options: S3ExportArchivesOptions) {
    this.#options = options;
    this.#writer = new S3Client({ region: options.region });
  }

  async put(tenantId: string, exportId: string, message: Buffer): Promise<string> {
    const objectKey = exportObjectKey(tenantId, exportId);
    // The bucket's default encryption (SSE-KMS with its key) applies; the put never overwrites.
    await this.#writer.send(
      new PutObjectCommand({
        Bucket: this.#options.bucket,
        Key: objectKey,
        Body: message,
        ContentType: 'application/octet-stream',
        IfNoneMatch: '*',
      }),
    );
    return objectKey;
  }

  async downloadLink(tenantId: string, objectKey: string, now: Date): Promise<DownloadLink> {
    if (!objectKey.startsWith(`${exportObjectPrefix}${tenantId}/`)) {
      throw new Error(`object ${objectKey} is not one of tenant ${tenantId}'s exports`);
    }
    let reader = this.#readers.get(tenantId);
    if (!reader) {
      const credentials = this.#options.tenantCredentials?.(tenantId);
      reader = new S3Client({ region: this.#options.region, ...(credentials ? { credentials } : {}) });
      this.#readers.set(tenantId, reader);
    }
    const url = await getSignedUrl(
      reader,
      new GetObjectCommand({
        Bucket: this.#options.bucket,
        Key: objectKey,
        ResponseContentDisposition: `attachment; filename="${objectKey.split('/').at(-1) ?? 'export.esdk'}"`,
      }),
      { expiresIn: downloadLinkSeconds, signingDate: now },
    );
    return { url, expiresAt: new Date(now.getTime() + downloadLinkSeconds * 1000).toISOString() };
  }
}

/** The archives of this runtime: the data folder locally, the exports bucket (EXPORTS_BUCKET) in AWS. */
export function createExportArchives(
  config: {
    readonly mode: 'aws' | 'local';
    readonly region: string;
    readonly localDataDir: string | undefined;
  },
  tenantCredentials: S3ExportArchivesOptions['tenantCredentials'],
  env: NodeJS.ProcessEnv = process.env,
): ExportArchives {
  if (config.mode === 'local') {
    if (!config.localDataDir) throw new Error('the local runtime needs a data folder for its exports');
    return new LocalExportArchives(config.localDataDir);
  }
  const bucket = env.EXPORTS_BUCKET;
  if (!bucket) throw new Error('missing environment variable EXPORTS_BUCKET');
  return new S3ExportArchives({ bucket, region: config.region, tenantCredentials });
}
