/**
 * The S3 archive sink against a mocked S3 client (aws-sdk-client-mock): S3 is an AWS-only
 * path, so these tests pin the requests it sends and how it reads S3's answers (AUD-2).
 * The same outcomes against real files are proven by test/integration/audit-stream.test.ts.
 */

import {
  GetObjectCommand,
  type GetObjectCommandOutput,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { S3ArchiveSink } from '#shared/store/s3-archive';

const s3 = mockClient(S3Client);
const bucket = 'strongroom-dev-audit-archive-111122223333-eu-central-1';
const key = 'tenants/demo/entries/aud_01.json';
const bytes = Buffer.from('{"id":"aud_01"}');

const s3Error = (name: string, status: number) =>
  new S3ServiceException({ name, $fault: 'client', $metadata: { httpStatusCode: status } });
/** The part of the SDK's streaming body the sink reads. */
const body = (content: Buffer) =>
  ({
    transformToByteArray: async () => new Uint8Array(content),
  }) as unknown as GetObjectCommandOutput['Body'];

afterEach(() => s3.reset());

describe('[AUD-2] S3ArchiveSink with a mocked S3 client (AWS-only path)', () => {
  it('writes with a conditional put (If-None-Match: *) and a SHA-256 checksum: written', async () => {
    s3.on(PutObjectCommand).resolves({});
    const sink = new S3ArchiveSink(new S3Client({ region: 'eu-central-1' }), bucket);
    expect(await sink.putOnce(key, bytes)).toBe('written');
    const [put] = s3.commandCalls(PutObjectCommand);
    expect(put?.args[0].input).toMatchObject({
      Bucket: bucket,
      Key: key,
      IfNoneMatch: '*',
      ChecksumAlgorithm: 'SHA256',
      ContentType: 'application/json',
    });
    expect(s3.commandCalls(GetObjectCommand)).toHaveLength(0);
  });

  it('reads the existing object back when the put is refused (412) and finds the same bytes: identical', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand, { Bucket: bucket, Key: key }).resolves({ Body: body(bytes) });
    const sink = new S3ArchiveSink(new S3Client({ region: 'eu-central-1' }), bucket);
    expect(await sink.putOnce(key, bytes)).toBe('identical');
  });

  it('reports other bytes under the key as a mismatch and never overwrites', async () => {
    s3.on(PutObjectCommand).rejects(s3Error('PreconditionFailed', 412));
    s3.on(GetObjectCommand).resolves({ Body: body(Buffer.from('{"id":"aud_01","outcome":"denied"}')) });
    const sink = new S3ArchiveSink(new S3Client({ region: 'eu-central-1' }), bucket);
    expect(await sink.putOnce(key, bytes)).toBe('mismatch');
    // One conditional put, no second attempt that could replace anything.
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(1);
  });

  it('tries again after a concurrent conditional write (409), and surfaces other errors', async () => {
    s3.on(PutObjectCommand).rejectsOnce(s3Error('ConditionalRequestConflict', 409)).resolves({});
    const sink = new S3ArchiveSink(new S3Client({ region: 'eu-central-1' }), bucket);
    expect(await sink.putOnce(key, bytes)).toBe('written');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(2);

    s3.reset();
    s3.on(PutObjectCommand).rejects(s3Error('AccessDenied', 403));
    await expect(sink.putOnce(key, bytes)).rejects.toThrow();
  });

  it('refuses keys that are not plain relative paths and names that are not buckets', async () => {
    const sink = new S3ArchiveSink(new S3Client({ region: 'eu-central-1' }), bucket);
    await expect(sink.putOnce('tenants/../x.json', bytes)).rejects.toThrow(
      /archive key must be plain path segments/,
    );
    expect(() => new S3ArchiveSink(new S3Client({ region: 'eu-central-1' }), 'Not_A_Bucket')).toThrow(
      /got "Not_A_Bucket"/,
    );
  });
});
