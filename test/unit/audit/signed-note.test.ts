import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  checkpointBody,
  checkpointOrigin,
  formatSignedNote,
  noteKeyId,
  parseCheckpointBody,
  parseSignedNote,
  verifierKeyString,
  verifySignedNote,
} from '#shared/audit/signed-note';

// The public example of the signed-note format (golang.org/x/mod/sumdb/note documentation):
// a verifier key and a note signed by it. Public material only.
const exampleVerifierKey = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const exampleNote =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n\n" +
  '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';

function exampleKey() {
  const [keyName = '', , encoded = ''] = exampleVerifierKey.split('+');
  return { keyName, publicKey: Buffer.from(encoded, 'base64').subarray(1) };
}

function freshKey(keyName: string) {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
  return { keyName, privateKey, publicKey: Buffer.from(raw) };
}

describe('[AUD-3] C2SP signed notes and checkpoints', () => {
  it('computes key ids and verifier keys exactly as the signed-note spec example', () => {
    const key = exampleKey();
    expect(noteKeyId(key.keyName, key.publicKey).toString('hex')).toBe('c74f20a3');
    expect(verifierKeyString(key)).toBe(exampleVerifierKey);
  });

  it('verifies the spec example note and refuses it once a byte changes', () => {
    expect(verifySignedNote(parseSignedNote(exampleNote), [exampleKey()])).toBe(true);
    const tampered = exampleNote.replace('cryptography', 'cryptographY');
    expect(verifySignedNote(parseSignedNote(tampered), [exampleKey()])).toBe(false);
  });

  it('round-trips a signed checkpoint and refuses another key or a moved root', () => {
    const key = freshKey('strongroom.example/audit-signing/1');
    const origin = checkpointOrigin('strongroom.example', 'demo');
    const body = checkpointBody({ origin, size: 42, root: Buffer.alloc(32, 7) });
    expect(body).toBe(
      `strongroom.example/tenants/demo/audit\n42\n${Buffer.alloc(32, 7).toString('base64')}\n`,
    );
    const signature = sign(null, Buffer.from(body), key.privateKey);
    const text = formatSignedNote({
      body,
      signatures: [{ keyName: key.keyName, keyId: noteKeyId(key.keyName, key.publicKey), signature }],
    });
    const parsed = parseSignedNote(text);
    expect(parsed.body).toBe(body);
    expect(parseCheckpointBody(parsed.body)).toEqual({ origin, size: 42, root: Buffer.alloc(32, 7) });
    expect(verifySignedNote(parsed, [key])).toBe(true);
    expect(verifySignedNote(parsed, [freshKey(key.keyName)])).toBe(false);
    const moved = text.replace('\n42\n', '\n43\n');
    expect(verifySignedNote(parseSignedNote(moved), [key])).toBe(false);
  });

  it('refuses malformed checkpoint bodies', () => {
    expect(() => parseCheckpointBody('origin\n-1\nAAAA\n')).toThrow();
    expect(() => parseCheckpointBody('origin\n1\nnot-base64\n')).toThrow();
    expect(() => parseCheckpointBody(`origin\n01\n${Buffer.alloc(32).toString('base64')}\n`)).toThrow();
  });
});
