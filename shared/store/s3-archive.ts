/**
 * The audit archive in S3 (AUD-2): a bucket with Object Lock in compliance mode. Every
 * object is written with a conditional put (`If-None-Match: *`), so S3 itself refuses to
 * replace an existing key; on that refusal the object is read back and compared. Object
 * Lock keeps every version for the retention period, so even a writer with more rights
 * than ours could not destroy what was archived first.
 */
import {
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import {
  type ArchiveOutcome,
  type ArchiveSink,
  archiveContentType,
  assertArchiveKey,
} from '#shared/audit/archive';

/** Concurrent conditional writes of one key get 409 ConditionalRequestConflict; try again this often. */
const maxConflictAttempts = 4;

export class S3ArchiveSink implements ArchiveSink {
  readonly location: string;
  readonly #s3: Pick<S3Client, 'send'>;
  readonly #bucket: string;

  constructor(s3: Pick<S3Client, 'send'>, bucket: string) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
      throw new Error(`archive bucket must be an s3 bucket name, got ${JSON.stringify(bucket)}`);
    }
    this.#s3 = s3;
    this.#bucket = bucket;
    this.location = `s3://${bucket}`;
  }

  async putOnce(key: string, bytes: Uint8Array): Promise<ArchiveOutcome> {
    assertArchiveKey(key);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#s3.send(
          new PutObjectCommand({
            Bucket: this.#bucket,
            Key: key,
            Body: bytes,
            ContentType: archiveContentType(key),
            // Object Lock buckets require an integrity checksum on every put.
            ChecksumAlgorithm: 'SHA256',
            IfNoneMatch: '*',
          }),
        );
        return 'written';
      } catch (error) {
        const status = (error as S3ServiceException).$metadata?.httpStatusCode;
        const name = (error as Error).name;
        if (status === 412 || name === 'PreconditionFailed') break;
        if ((status === 409 || name === 'ConditionalRequestConflict') && attempt < maxConflictAttempts) {
          await new Promise((resolve) => setTimeout(resolve, 50 * attempt));
          continue;
        }
        throw error;
      }
    }
    const existing = await this.#s3.send(new GetObjectCommand({ Bucket: this.#bucket, Key: key }));
    if (!existing.Body) throw new Error(`archive object ${key} has no body`);
    const stored = Buffer.from(await existing.Body.transformToByteArray());
    return stored.equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
      ? 'identical'
      : 'mismatch';
  }
}
