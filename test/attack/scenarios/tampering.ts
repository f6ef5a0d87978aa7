/**
 * Tampering (AUD-2, AUD-3, BAK-3): the figure "undetected tampering" of `npm run attack`.
 * A tenant's log is exported as `strongroom-verify` reads it, with a checkpoint the tenant
 * kept from earlier; then:
 *
 * - fast-check changes the bundle: a flipped byte anywhere in an entry line, a line
 *   deleted, duplicated, swapped, appended or cut off, a header field changed, the key set
 *   replaced by an attacker's, a history rewritten consistently and re-signed with an
 *   attacker's key, and one rewritten and re-signed with the real key (an insider with
 *   signing access, caught by the tenant's kept checkpoint);
 * - the store is changed under the API: an entry edited, an entry deleted, the head's
 *   frontier replaced, an invoice rolled back to an older state that still opens (its
 *   seal is valid: only the log's item digests can tell).
 *
 * Invariant: the offline verifier (or the export, or the item-digest check of the restore
 * validation) refuses every one of them.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  type AttributeValue,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import type { BundleHeader } from '#shared/audit/bundle';
import { type AuditEntry, canonicalBytes, leafHash } from '#shared/audit/entry';
import { CompactRange } from '#shared/audit/merkle';
import {
  checkpointBody,
  formatSignedNote,
  noteKeyId,
  parseCheckpointBody,
  parseSignedNote,
} from '#shared/audit/signed-note';
import { verifyBundle } from '#shared/audit/verify';
import { type CheckpointSigner, LocalCheckpointSigner, signingKeyNamePrefix } from '#shared/crypto/signing';
import { signCheckpoint } from '#shared/services/audit';
import { exportAuditBundle } from '#shared/services/audit-export';
import { DataClients } from '#shared/store/dynamo';
import { tableName } from '#shared/store/tables';
import { call } from '#test/integration/support/http';
import { localRuntimeConfig } from '#test/integration/support/local-stack';
import { type AttackEnv, createAttackTenant } from '../support/env';
import { checkLedger } from '../support/ledger';
import { type ScenarioReport, Tally } from '../support/report';
import { type AttackSize, attackSeed, sized } from '../support/size';

interface TamperSettings {
  readonly bundleMutations: number;
  /** Store tampering rounds (each on a tenant of its own). */
  readonly storeRounds: number;
}

const settings = {
  bounded: { bundleMutations: 60, storeRounds: 1 },
  full: { bundleMutations: 3_000, storeRounds: 3 },
} satisfies Record<AttackSize, TamperSettings>;

type BundleMutation =
  | { readonly kind: 'flip'; readonly line: number; readonly offset: number; readonly mask: number }
  | { readonly kind: 'delete' | 'duplicate'; readonly line: number }
  | { readonly kind: 'swap'; readonly line: number; readonly other: number }
  | { readonly kind: 'truncate'; readonly keep: number }
  | { readonly kind: 'append'; readonly text: string }
  | { readonly kind: 'header'; readonly field: 'size' | 'tenantId' | 'origin' | 'root' | 'keys' }
  | {
      readonly kind: 'rewrite';
      readonly line: number;
      readonly change: 'outcome' | 'actor' | 'digest';
      readonly signer: 'attacker' | 'insider';
    };

const bundleMutation: fc.Arbitrary<BundleMutation> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      line: fc.nat(),
      offset: fc.nat(),
      mask: fc.integer({ min: 1, max: 255 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), line: fc.nat() }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('swap' as const), line: fc.nat(), other: fc.nat() }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      text: fc.constantFrom('', 'garbage', 'COPY'),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('header' as const),
      field: fc.constantFrom(
        'size' as const,
        'tenantId' as const,
        'origin' as const,
        'root' as const,
        'keys' as const,
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('rewrite' as const),
      line: fc.nat(),
      change: fc.constantFrom('outcome' as const, 'actor' as const, 'digest' as const),
      signer: fc.constantFrom('attacker' as const, 'insider' as const),
    }),
  },
);

/** A consistent bundle for the entries: leaf hashes, and every checkpoint size re-signed by `signer`. */
async function resign(
  header: BundleHeader,
  entries: readonly AuditEntry[],
  signer: CheckpointSigner,
): Promise<string> {
  const leaves = entries.map((entry) => leafHash(entry));
  const [current] = await signer.publicKeys();
  if (!current) throw new Error('no key');
  const checkpoints = [];
  for (const { size } of header.checkpoints) {
    const range = new CompactRange();
    for (const leaf of leaves.slice(0, size)) range.append(leaf);
    const body = checkpointBody({ origin: header.origin, size, root: range.root() });
    const signature = await signer.sign(Buffer.from(body, 'utf8'));
    checkpoints.push({
      size,
      note: formatSignedNote({
        body,
        signatures: [
          {
            keyName: signer.keyName,
            keyId: noteKeyId(signer.keyName, Buffer.from(current.publicKey, 'base64')),
            signature,
          },
        ],
      }),
    });
  }
  const head = JSON.stringify({ ...header, keys: await signer.publicKeys(), checkpoints });
  const lines = entries.map(
    (entry, index) =>
      `${(leaves[index] as Buffer).toString('base64')} ${canonicalBytes(entry).toString('utf8')}`,
  );
  return `${[head, ...lines].join('\n')}\n`;
}

function splitLines(bytes: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let index = bytes.indexOf(0x0a); index !== -1; index = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, index));
    start = index + 1;
  }
  return lines;
}

async function mutate(
  original: Buffer,
  mutation: BundleMutation,
  signers: { attacker: CheckpointSigner; insider: CheckpointSigner },
  trustedSize: number,
): Promise<Buffer | undefined> {
  const lines = splitLines(original);
  const entryLines = lines.slice(1);
  const header = JSON.parse((lines[0] as Buffer).toString('utf8')) as BundleHeader;
  const join = (all: readonly Buffer[]) => Buffer.concat(all.flatMap((line) => [line, Buffer.from('\n')]));
  const at = (index: number) => 1 + (index % Math.max(1, entryLines.length));
  switch (mutation.kind) {
    case 'flip': {
      const line = at(mutation.line);
      const bytes = Buffer.from(lines[line] as Buffer);
      const offset = mutation.offset % bytes.length;
      bytes[offset] = (bytes[offset] ?? 0) ^ mutation.mask;
      return join([...lines.slice(0, line), bytes, ...lines.slice(line + 1)]);
    }
    case 'delete':
      return join(lines.filter((_, index) => index !== at(mutation.line)));
    case 'duplicate': {
      const line = at(mutation.line);
      return join([...lines.slice(0, line + 1), lines[line] as Buffer, ...lines.slice(line + 1)]);
    }
    case 'swap': {
      const [a, b] = [at(mutation.line), at(mutation.other)];
      if (a === b || (lines[a] as Buffer).equals(lines[b] as Buffer)) return undefined;
      const swapped = [...lines];
      [swapped[a], swapped[b]] = [lines[b] as Buffer, lines[a] as Buffer];
      return join(swapped);
    }
    case 'truncate':
      return join(lines.slice(0, 1 + (mutation.keep % entryLines.length)));
    case 'append':
      return join([
        ...lines,
        mutation.text === 'COPY' ? (lines.at(-1) as Buffer) : Buffer.from(mutation.text),
      ]);
    case 'header': {
      const changed: Record<string, unknown> = { ...header };
      if (mutation.field === 'size') changed.size = header.size - 1;
      if (mutation.field === 'tenantId') changed.tenantId = `${header.tenantId}x`;
      if (mutation.field === 'origin') changed.origin = header.origin.replace('/audit', '/audit2');
      if (mutation.field === 'keys') {
        // The attacker's key set, and every checkpoint signed with it: the forgery a verifier
        // that trusts the bundle's own keys would take, were it not for the kept checkpoint.
        const entries = entryLines.map(
          (line) => JSON.parse(line.subarray(45).toString('utf8')) as AuditEntry,
        );
        return Buffer.from(await resign(header, entries, signers.attacker), 'utf8');
      }
      if (mutation.field === 'root') {
        const last = header.checkpoints.at(-1);
        if (!last) return undefined;
        const note = parseSignedNote(last.note);
        const checkpoint = parseCheckpointBody(note.body);
        const root = Buffer.from(checkpoint.root);
        root[0] = (root[0] ?? 0) ^ 1;
        const forged = formatSignedNote({ ...note, body: checkpointBody({ ...checkpoint, root }) });
        changed.checkpoints = [...header.checkpoints.slice(0, -1), { size: last.size, note: forged }];
      }
      return join([Buffer.from(JSON.stringify(changed)), ...entryLines]);
    }
    case 'rewrite': {
      const entries = entryLines.map((line) => JSON.parse(line.subarray(45).toString('utf8')) as AuditEntry);
      // The insider rewrites history the tenant already holds a checkpoint for: what a kept checkpoint is for.
      const limit = mutation.signer === 'insider' ? trustedSize : entries.length;
      if (limit === 0) return undefined;
      const index = mutation.line % limit;
      const entry = entries[index] as AuditEntry;
      entries[index] =
        mutation.change === 'outcome'
          ? { ...entry, outcome: entry.outcome === 'success' ? 'denied' : 'success' }
          : mutation.change === 'actor'
            ? { ...entry, actor: { ...entry.actor, id: 'usr_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' } }
            : { ...entry, itemDigest: Buffer.alloc(32, 7).toString('base64') };
      return Buffer.from(await resign(header, entries, signers[mutation.signer]), 'utf8');
    }
  }
}

export async function tamperScenario(env: AttackEnv, size: AttackSize): Promise<ScenarioReport> {
  const config = sized(settings, size, 'TAMPERING');
  const tally = new Tally('tampering');
  const seed = attackSeed(size);
  const work = await mkdtemp(path.join(tmpdir(), 'strongroom-tamper-'));
  const prefix = signingKeyNamePrefix(env.stack.stage);
  const insider = new LocalCheckpointSigner(env.stack.dataDir, prefix);
  const attacker = new LocalCheckpointSigner(work, prefix);
  const context = { clients: env.identities.clients, auditLog: env.ledger.auditLog, now: () => new Date() };
  const rawClient = DataClients.rawClient(localRuntimeConfig(env.stack));
  try {
    // A tenant with some history, a checkpoint it kept, more history, and its export.
    const tenant = await createAttackTenant(env, 'tamper');
    await tenant.world.invoice('issued', true);
    await tenant.world.counterparty(true);
    const kept = await signCheckpoint(context, insider, tenant.tenantId);
    await tenant.world.invoice('approved', true);
    await tenant.world.member(true);
    const bundleFile = path.join(work, 'export.bundle');
    await exportAuditBundle(context, insider, tenant.tenantId, createWriteStream(bundleFile));
    const keys = await insider.publicKeys();
    const verify = (file: string) =>
      verifyBundle(file, { keys, trustedCheckpoint: kept?.note ?? '', workers: 0 });
    try {
      await verify(bundleFile);
    } catch (error) {
      tally.fail('otherViolations', `the untouched export does not verify: ${(error as Error).message}`);
    }
    const original = await readFile(bundleFile);

    // The bundle, changed.
    const mutations = fc.sample(bundleMutation, { numRuns: config.bundleMutations, seed });
    const tampered = path.join(work, 'tampered.bundle');
    for (const [index, mutation] of mutations.entries()) {
      const changed = await mutate(original, mutation, { attacker, insider }, kept?.size ?? 0);
      if (!changed || changed.equals(original)) continue;
      tally.requests++;
      await writeFile(tampered, changed);
      // With the published keys, and with only the bundle's own keys and the kept checkpoint.
      for (const [how, options] of [
        ['the published keys', { keys, trustedCheckpoint: kept?.note ?? '', workers: 0 }],
        ["the bundle's own keys", { trustedCheckpoint: kept?.note ?? '', workers: 0 }],
      ] as const) {
        try {
          await verifyBundle(tampered, options);
          tally.fail(
            'undetectedTampering',
            `the verifier, trusting ${how}, accepts a bundle with ${JSON.stringify(mutation)} (seed ${seed}, case ${index})`,
          );
        } catch {
          // Caught, as it must be.
        }
      }
    }

    // The store, changed under the API.
    for (let round = 0; round < config.storeRounds; round++) {
      for (const attack of storeAttacks) {
        const victim = await createAttackTenant(env, `tamper-${attack.name}`);
        const invoice = await victim.world.invoice('submitted', true);
        // The item as stored, sealed: what a backup or a copy of the table holds.
        const older = await rawClient.send(
          new GetItemCommand({
            TableName: tableName(env.stack.stage, 'data'),
            Key: { pk: { S: `${victim.tenantId}#invoice` }, sk: { S: invoice.id } },
            ConsistentRead: true,
          }),
        );
        await call(env.gateway, 'POST', `/invoices/${invoice.id}/approve`, {
          token: victim.approver.token,
          body: {},
          headers: { 'if-match': `"v${invoice.version}"` },
        });
        await victim.world.counterparty(true);
        await signCheckpoint(context, insider, victim.tenantId);
        tally.requests++;
        await attack.run(env, victim.tenantId, {
          invoiceId: invoice.id,
          olderItem: older.Item ?? {},
          rawClient,
        });
        const caught = await detected(env, context, insider, victim.tenantId, work);
        if (attack.name === 'nothing' && caught) {
          tally.fail(
            'otherViolations',
            'an untouched store is reported as tampered: the checks prove nothing',
          );
        } else if (attack.name !== 'nothing' && !caught) {
          tally.fail(
            'undetectedTampering',
            `${attack.name} goes unnoticed by the export, the verifier and the item digests`,
          );
        }
      }
    }
  } finally {
    rawClient.destroy();
    await rm(work, { recursive: true, force: true });
  }
  return tally.report();
}

interface StoreAttack {
  readonly name: string;
  run(
    env: AttackEnv,
    tenantId: string,
    targets: { invoiceId: string; olderItem: Record<string, AttributeValue>; rawClient: DynamoDBClient },
  ): Promise<void>;
}

const raw = (env: AttackEnv) => env.identities.clients.platform();
// The platform client seals what it writes to sealed tables; the audit tables are not sealed.
const storeAttacks: readonly StoreAttack[] = [
  // The control: with nothing changed, nothing may be reported.
  { name: 'nothing', run: async () => undefined },
  {
    name: 'an-edited-entry',
    async run(env, tenantId) {
      const [first] = await env.ledger.auditLog.entriesFrom(
        env.identities.clients.forTenant(tenantId),
        tenantId,
        1,
        1,
      );
      if (!first) throw new Error('no entry to edit');
      await raw(env).send(
        new UpdateCommand({
          TableName: tableName(env.stack.stage, 'audit'),
          Key: { pk: `${tenantId}#entry`, sk: first.entry.id },
          UpdateExpression: 'SET #entry.#outcome = :outcome',
          ExpressionAttributeNames: { '#entry': 'entry', '#outcome': 'outcome' },
          ExpressionAttributeValues: { ':outcome': first.entry.outcome === 'success' ? 'denied' : 'success' },
        }),
      );
    },
  },
  {
    name: 'a-deleted-entry',
    async run(env, tenantId) {
      const [first] = await env.ledger.auditLog.entriesFrom(
        env.identities.clients.forTenant(tenantId),
        tenantId,
        1,
        1,
      );
      if (!first) throw new Error('no entry to delete');
      await raw(env).send(
        new DeleteCommand({
          TableName: tableName(env.stack.stage, 'audit'),
          Key: { pk: `${tenantId}#entry`, sk: first.entry.id },
        }),
      );
    },
  },
  {
    name: 'a-replaced-frontier',
    async run(env, tenantId) {
      await raw(env).send(
        new UpdateCommand({
          TableName: tableName(env.stack.stage, 'auditHead'),
          Key: { pk: `${tenantId}#head`, sk: 'head' },
          UpdateExpression: 'SET frontier = :frontier',
          ExpressionAttributeValues: { ':frontier': [Buffer.alloc(32, 9).toString('base64')] },
        }),
      );
    },
  },
  {
    name: 'a-rolled-back-invoice',
    async run(env, _tenantId, targets) {
      // The older sealed item, put back byte for byte: its seal still opens (same tenant, item and key).
      await targets.rawClient.send(
        new PutItemCommand({ TableName: tableName(env.stack.stage, 'data'), Item: targets.olderItem }),
      );
    },
  },
];

/** Whether the export, the offline verifier or the item digests refuse the tenant's store now. */
async function detected(
  env: AttackEnv,
  context: {
    clients: AttackEnv['identities']['clients'];
    auditLog: AttackEnv['ledger']['auditLog'];
    now: () => Date;
  },
  signer: CheckpointSigner,
  tenantId: string,
  work: string,
): Promise<boolean> {
  // More history after the change, as a working tenant would have.
  try {
    const ledger = await checkLedger(env.ledger, tenantId, { verifier: true });
    if (ledger.logProblems.length > 0 || ledger.partialWrites.length > 0) return true;
  } catch {
    return true;
  }
  const file = path.join(work, `${tenantId}.bundle`);
  try {
    await exportAuditBundle(context, signer, tenantId, createWriteStream(file));
    await verifyBundle(file, { keys: await signer.publicKeys(), workers: 0 });
    return false;
  } catch {
    return true;
  }
}
