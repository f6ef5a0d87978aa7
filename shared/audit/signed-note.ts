/**
 * C2SP checkpoints (tlog-checkpoint) in C2SP signed notes (signed-note), signed with
 * Ed25519 (signature type 0x01). Key id = first 4 bytes of
 * SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key), as the signed-note spec defines, so
 * transparency-log tooling can verify Strongroom checkpoints as they are.
 */
import { createHash, createPublicKey, verify as verifySignature } from 'node:crypto';

export const ed25519SignatureType = 0x01;

export interface Checkpoint {
  /** Names the log: `<domain>/tenants/<tenantId>/audit`. */
  readonly origin: string;
  readonly size: number;
  readonly root: Buffer;
}

export interface NoteSignature {
  readonly keyName: string;
  readonly keyId: Buffer;
  readonly signature: Buffer;
}

export interface SignedNote {
  readonly body: string;
  readonly signatures: readonly NoteSignature[];
}

/** A public key a verifier trusts, as published in the key set. */
export interface NoteVerifierKey {
  readonly keyName: string;
  /** Raw 32-byte Ed25519 public key. */
  readonly publicKey: Buffer;
}

export function checkpointOrigin(domain: string, tenantId: string): string {
  return `${domain}/tenants/${tenantId}/audit`;
}

export function checkpointBody(checkpoint: Checkpoint): string {
  if (!/^[^\s+]+$/.test(checkpoint.origin)) throw new Error(`invalid checkpoint origin ${checkpoint.origin}`);
  return `${checkpoint.origin}\n${checkpoint.size}\n${checkpoint.root.toString('base64')}\n`;
}

export function parseCheckpointBody(body: string): Checkpoint {
  const lines = body.split('\n');
  const [origin, size, root] = lines;
  if (!origin || size === undefined || root === undefined || !/^(0|[1-9][0-9]*)$/.test(size)) {
    throw new Error('malformed checkpoint body');
  }
  const rootBytes = Buffer.from(root, 'base64');
  if (rootBytes.length !== 32 || rootBytes.toString('base64') !== root)
    throw new Error('malformed checkpoint root');
  return { origin, size: Number(size), root: rootBytes };
}

export function noteKeyId(keyName: string, publicKey: Buffer): Buffer {
  return createHash('sha256')
    .update(keyName)
    .update(Buffer.from([0x0a, ed25519SignatureType]))
    .update(publicKey)
    .digest()
    .subarray(0, 4);
}

/** The verifier key string of the signed-note spec: `<name>+<hex key id>+<base64(type ‖ key)>`. */
export function verifierKeyString(key: NoteVerifierKey): string {
  const encoded = Buffer.concat([Buffer.from([ed25519SignatureType]), key.publicKey]).toString('base64');
  return `${key.keyName}+${noteKeyId(key.keyName, key.publicKey).toString('hex')}+${encoded}`;
}

export function formatSignedNote(note: SignedNote): string {
  if (!note.body.endsWith('\n')) throw new Error('a note body ends with a newline');
  const lines = note.signatures.map(
    (signature) =>
      `\u2014 ${signature.keyName} ${Buffer.concat([signature.keyId, signature.signature]).toString('base64')}\n`,
  );
  return `${note.body}\n${lines.join('')}`;
}

export function parseSignedNote(text: string): SignedNote {
  const split = text.lastIndexOf('\n\n');
  if (split < 0 || !text.endsWith('\n')) throw new Error('malformed signed note');
  const body = text.slice(0, split + 1);
  const signatures = text
    .slice(split + 2, -1)
    .split('\n')
    .map((line) => {
      const match = /^\u2014 (\S+) ([A-Za-z0-9+/=]+)$/.exec(line);
      if (!match) throw new Error('malformed signature line');
      const bytes = Buffer.from(match[2] as string, 'base64');
      if (bytes.length < 5) throw new Error('malformed signature');
      return { keyName: match[1] as string, keyId: bytes.subarray(0, 4), signature: bytes.subarray(4) };
    });
  return { body, signatures };
}

function rawEd25519ToKeyObject(publicKey: Buffer) {
  // SubjectPublicKeyInfo prefix for Ed25519 (RFC 8410).
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
  return createPublicKey({ key: spki, format: 'der', type: 'spki' });
}

/** True when at least one signature on the note is a valid signature by one of the keys. */
export function verifySignedNote(note: SignedNote, keys: readonly NoteVerifierKey[]): boolean {
  return note.signatures.some((signature) =>
    keys.some(
      (key) =>
        key.keyName === signature.keyName &&
        noteKeyId(key.keyName, key.publicKey).equals(signature.keyId) &&
        signature.signature.length === 64 &&
        verifySignature(
          null,
          Buffer.from(note.body, 'utf8'),
          rawEd25519ToKeyObject(key.publicKey),
          signature.signature,
        ),
    ),
  );
}
