/**
 * Audit checkpoint signing keys (AUD-3). A `CheckpointSigner` signs note bodies with
 * Ed25519 and publishes the key set verifiers trust; in AWS the private key never
 * leaves KMS (key spec ECC_NIST_EDWARDS25519), locally it is a node:crypto key in a
 * 0600 file under the local data folder, generated at first use.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetPublicKeyCommand, KMSClient, SignCommand } from '@aws-sdk/client-kms';
import { noteKeyId, verifierKeyString } from '#shared/audit/signed-note';
import type { RuntimeConfig } from '#shared/config/runtime';

export interface PublishedSigningKey {
  /** Signed-note key name. */
  readonly keyName: string;
  /** Hex key id as in the signed-note spec. */
  readonly keyId: string;
  readonly algorithm: 'ed25519';
  /** Raw 32-byte public key, base64. */
  readonly publicKey: string;
  /** The signed-note verifier key string (`name+id+base64`). */
  readonly verifierKey: string;
  /** Whether new checkpoints are signed with it; older keys stay for older checkpoints. */
  readonly current: boolean;
}

export interface CheckpointSigner {
  readonly keyName: string;
  sign(message: Buffer): Promise<Buffer>;
  publicKeys(): Promise<PublishedSigningKey[]>;
}

const spkiEd25519Prefix = Buffer.from('302a300506032b6570032100', 'hex');

/** The raw 32-byte Ed25519 key inside a DER SubjectPublicKeyInfo. */
export function rawEd25519PublicKey(spki: Uint8Array): Buffer {
  const der = Buffer.from(spki);
  if (der.length !== 44 || !der.subarray(0, 12).equals(spkiEd25519Prefix)) {
    throw new Error('not an Ed25519 SubjectPublicKeyInfo');
  }
  return der.subarray(12);
}

export function publishedKey(keyName: string, publicKey: Buffer, current: boolean): PublishedSigningKey {
  return {
    keyName,
    keyId: noteKeyId(keyName, publicKey).toString('hex'),
    algorithm: 'ed25519',
    publicKey: publicKey.toString('base64'),
    verifierKey: verifierKeyString({ keyName, publicKey }),
    current,
  };
}

/** Local signer: one Ed25519 key per version in `<dataDir>/keys/audit-signing-<version>.pem`. */
export class LocalCheckpointSigner implements CheckpointSigner {
  readonly keyName: string;
  readonly #file: string;
  #key: Promise<KeyObject> | undefined;

  constructor(dataDir: string, keyNamePrefix: string, version = 1) {
    this.keyName = `${keyNamePrefix}/audit-signing/${version}`;
    this.#file = join(dataDir, 'keys', `audit-signing-${version}.pem`);
  }

  async sign(message: Buffer): Promise<Buffer> {
    return sign(null, message, await this.#privateKey());
  }

  async publicKeys(): Promise<PublishedSigningKey[]> {
    const spki = createPublicKey(await this.#privateKey()).export({ format: 'der', type: 'spki' });
    return [publishedKey(this.keyName, rawEd25519PublicKey(spki), true)];
  }

  #privateKey(): Promise<KeyObject> {
    this.#key ??= this.#load();
    return this.#key;
  }

  async #load(): Promise<KeyObject> {
    try {
      return createPrivateKey(await readFile(this.#file, 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const { privateKey } = generateKeyPairSync('ed25519');
    await mkdir(join(this.#file, '..'), { recursive: true, mode: 0o700 });
    // 'wx' never overwrites a key another process created meanwhile; then read the winner.
    await writeFile(this.#file, privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
      flag: 'wx',
    }).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    return createPrivateKey(await readFile(this.#file, 'utf8'));
  }
}

/**
 * KMS signer: signs with the current key (pure Ed25519, ED25519_SHA_512 over the raw
 * message) and publishes the current and previous keys so verifiers follow rotation.
 */
export class KmsCheckpointSigner implements CheckpointSigner {
  readonly keyName: string;
  readonly #kms: KMSClient;
  readonly #keys: readonly { keyArn: string; keyName: string }[];
  #published: Promise<PublishedSigningKey[]> | undefined;

  /** `keys` lists the signing keys, current first. */
  constructor(kms: KMSClient, keys: readonly { keyArn: string; keyName: string }[]) {
    const current = keys[0];
    if (!current) throw new Error('at least one audit signing key is required');
    this.#kms = kms;
    this.#keys = keys;
    this.keyName = current.keyName;
  }

  async sign(message: Buffer): Promise<Buffer> {
    const current = this.#keys[0] as { keyArn: string };
    const result = await this.#kms.send(
      new SignCommand({
        KeyId: current.keyArn,
        Message: message,
        MessageType: 'RAW',
        SigningAlgorithm: 'ED25519_SHA_512',
      }),
    );
    if (!result.Signature) throw new Error('KMS returned no signature');
    return Buffer.from(result.Signature);
  }

  publicKeys(): Promise<PublishedSigningKey[]> {
    this.#published ??= Promise.all(
      this.#keys.map(async ({ keyArn, keyName }, position) => {
        const result = await this.#kms.send(new GetPublicKeyCommand({ KeyId: keyArn }));
        if (!result.PublicKey) throw new Error(`KMS returned no public key for ${keyName}`);
        return publishedKey(keyName, rawEd25519PublicKey(result.PublicKey), position === 0);
      }),
    );
    return this.#published;
  }
}

/** Names Strongroom's signing keys: `strongroom.dev/<stage>/audit-signing/<version>`. */
export function signingKeyNamePrefix(stage: string): string {
  return `strongroom.dev/${stage}`;
}

/** The signer of this runtime: a local key file, or the KMS keys named in the configuration. */
export function createCheckpointSigner(config: RuntimeConfig): CheckpointSigner {
  if (config.mode === 'local') {
    if (!config.localDataDir) throw new Error('the local runtime needs a data folder for its signing key');
    return new LocalCheckpointSigner(config.localDataDir, signingKeyNamePrefix(config.stage));
  }
  return new KmsCheckpointSigner(new KMSClient({ region: config.region }), config.auditSigningKeys ?? []);
}
