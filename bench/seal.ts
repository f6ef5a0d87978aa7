/**
 * Sealing (ENC-3) against raw AES-256-GCM, in the same run: sealing and opening a 1 KB
 * item payload (JSON serialisation, binding tags, associated data, AES-256-GCM, JSON
 * parsing) against encrypting and decrypting the same serialised bytes with bare
 * node:crypto AES-256-GCM (fresh IV, a tag, no associated data, no copies). Short batches of
 * each alternate, and the figure is the median over adjacent pairs, so a noisy neighbour on
 * the shared cores hurts both alike.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, randomFillSync } from 'node:crypto';
import { type DataKey, openValue, type SealBinding, sealValue } from '#shared/crypto/seal';
import { type Benchmark, type BenchRow, percentile } from './harness';

/** A counterparty-sized payload whose JSON is 1 KB (1024 bytes exactly). */
export function kilobytePayload(): Record<string, unknown> {
  const payload: Record<string, unknown> = {
    id: 'cp_01JZ8X6Q3W4E5R6T7Y8U9I0OPA',
    name: 'Muster Beratung GmbH',
    kind: 'supplier',
    iban: 'DE89370400440532013000',
    vatId: 'DE123456789',
    address: { street: 'Hauptstraße 1', postalCode: '10115', city: 'Berlin', country: 'DE' },
    version: 3,
    createdAt: '2026-05-01T10:00:00.000Z',
    createdBy: 'usr_0123456789abcdefghijklmnopqrstuv',
    notes: '',
  };
  const size = () => Buffer.byteLength(JSON.stringify(payload));
  payload.notes = 'x'.repeat(1024 - size());
  if (size() !== 1024) throw new Error(`payload is ${size()} bytes, not 1024`);
  return payload;
}

const pairs = 31;
const operationsPerRound = 2_000;

export const sealBenchmark: Benchmark = {
  name: 'seal 1 KB item',
  async run(): Promise<BenchRow[]> {
    const dataKey: DataKey = { version: 1, key: createSecretKey(randomBytes(32)) };
    // The same kind of key as the codec's: a KeyObject (a Buffer key is imported anew per call).
    const rawKey = createSecretKey(randomBytes(32));
    const binding: SealBinding = {
      tenantId: 'bench',
      table: 'data',
      pk: 'bench#counterparty',
      sk: 'cp_01JZ8X6Q3W4E5R6T7Y8U9I0OPA',
    };
    const payload = kilobytePayload();
    const bytes = Buffer.from(JSON.stringify(payload), 'utf8');

    let sink = 0;
    const sealRound = () => {
      const started = performance.now();
      for (let index = 0; index < operationsPerRound; index++) {
        const sealed = sealValue(dataKey, binding, payload);
        const opened = openValue(dataKey, binding, sealed) as { version: number };
        sink += opened.version;
      }
      return operationsPerRound / ((performance.now() - started) / 1000);
    };
    // The baseline does the least AES-GCM can do: IVs from a pool refilled in bulk (as the
    // codec does), no copies, no associated data, no serialisation.
    const ivs = Buffer.alloc(12 * operationsPerRound);
    const rawRound = () => {
      randomFillSync(ivs);
      const started = performance.now();
      for (let index = 0; index < operationsPerRound; index++) {
        const iv = ivs.subarray(index * 12, index * 12 + 12);
        const cipher = createCipheriv('aes-256-gcm', rawKey, iv);
        const ciphertext = cipher.update(bytes);
        cipher.final();
        const decipher = createDecipheriv('aes-256-gcm', rawKey, iv);
        decipher.setAuthTag(cipher.getAuthTag());
        const plaintext = decipher.update(ciphertext);
        decipher.final();
        sink += plaintext.length;
      }
      return operationsPerRound / ((performance.now() - started) / 1000);
    };

    // Warm both paths up, then alternate short batches; ratios of adjacent pairs, median.
    for (let warm = 0; warm < 3; warm++) {
      sealRound();
      rawRound();
    }
    const shares: number[] = [];
    const raw: number[] = [];
    for (let pair = 0; pair < pairs; pair++) {
      // Alternate which goes first, so neither always runs right after a warm cache.
      const [sealThroughput, rawThroughput] =
        pair % 2 === 0
          ? [sealRound(), rawRound()]
          : ([rawRound(), sealRound()].reverse() as [number, number]);
      shares.push(sealThroughput / rawThroughput);
      raw.push(rawThroughput);
    }
    const rawMedian = percentile(raw, 50);
    const share = percentile(shares, 50);
    if (sink === 0) throw new Error('nothing was measured');
    return [
      {
        name: 'seal + open of a 1 KB item (JSON, binding, AES-256-GCM)',
        // Scaled so that value / baseline is the median pairwise share (what the target is about).
        value: rawMedian * share,
        unit: 'items/s',
        baseline: { name: 'raw AES-256-GCM encrypt + decrypt of the same 1 KB (median)', value: rawMedian },
        higherIsBetter: true,
        target: '≥ 25% of raw',
        met: share >= 0.25,
      },
    ];
  },
};
