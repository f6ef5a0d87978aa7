/**
 * `strongroom-verify <bundle> [--keys keys.json] [--trusted-checkpoint note.txt] [--quiet]`:
 * verifies an audit export offline (docs/audit-bundle.md). Exit codes: 0 verified,
 * 1 the bundle does not verify (the first problem is named), 2 usage or unusable input
 * files, 3 the verification could not be completed (I/O or internal error).
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { Presets, SingleBar } from 'cli-progress';
import {
  AuditVerificationError,
  type BundleVerification,
  parseTrustedKeys,
  VerifierInputError,
  type VerifyBundleOptions,
  verifyBundle,
} from './verify';

export const exitCodes = { verified: 0, failed: 1, usage: 2, incomplete: 3 } as const;

const usage =
  'usage: strongroom-verify <bundle> [--keys keys.json] [--trusted-checkpoint note.txt] [--quiet]\n' +
  '  --keys FILE                the published key set (GET /audit/keys: its JSON body, or the keys array)\n' +
  '  --trusted-checkpoint FILE  a signed checkpoint you kept earlier (the note text, or the JSON body of\n' +
  '                             GET /audit/checkpoints/latest)\n' +
  '  --quiet                    no progress bar\n';

/** Logs at least this large get a progress bar (when stderr is a terminal). */
export const defaultProgressThreshold = 100_000;

export interface CliStreams {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: NodeJS.WritableStream & { readonly isTTY?: boolean };
}

class UsageError extends Error {
  readonly code = 'usage';
}

interface CliArguments {
  readonly bundle: string;
  readonly keys: string | undefined;
  readonly trustedCheckpoint: string | undefined;
  readonly quiet: boolean;
}

function parseCliArguments(argv: readonly string[]): CliArguments | 'help' {
  let parsed: ReturnType<typeof parseArgs<typeof config>>;
  const config = {
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      keys: { type: 'string' },
      'trusted-checkpoint': { type: 'string' },
      quiet: { type: 'boolean', short: 'q' },
      help: { type: 'boolean', short: 'h' },
    },
  } as const;
  try {
    parsed = parseArgs(config);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (parsed.values.help) return 'help';
  if (parsed.positionals.length !== 1) {
    throw new UsageError(parsed.positionals.length === 0 ? 'no bundle given' : 'give exactly one bundle');
  }
  return {
    bundle: parsed.positionals[0] as string,
    keys: parsed.values.keys,
    trustedCheckpoint: parsed.values['trusted-checkpoint'],
    quiet: parsed.values.quiet === true,
  };
}

async function readInput(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `cannot read the ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`,
    );
  }
}

async function assertReadableFile(path: string): Promise<void> {
  try {
    if (!(await stat(path)).isFile()) throw new UsageError(`the bundle ${path} is not a file`);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`cannot read the bundle ${path}: ${(error as NodeJS.ErrnoException).code ?? error}`);
  }
}

export async function runVerifyCli(
  argv: readonly string[],
  streams: CliStreams = { stdout: process.stdout, stderr: process.stderr },
  { progressThreshold = defaultProgressThreshold }: { readonly progressThreshold?: number } = {},
): Promise<number> {
  const { stdout, stderr } = streams;
  let bar: SingleBar | undefined;
  try {
    const parsed = parseCliArguments(argv);
    if (parsed === 'help') {
      stdout.write(usage);
      return exitCodes.verified;
    }
    const keys =
      parsed.keys === undefined ? undefined : parseTrustedKeys(await readInput(parsed.keys, 'keys file'));
    const trustedCheckpoint =
      parsed.trustedCheckpoint === undefined
        ? undefined
        : await readInput(parsed.trustedCheckpoint, 'trusted checkpoint');
    await assertReadableFile(parsed.bundle);
    const options: VerifyBundleOptions = {
      ...(keys ? { keys } : {}),
      ...(trustedCheckpoint === undefined ? {} : { trustedCheckpoint }),
      onHeader: (header) => {
        if (parsed.quiet || stderr.isTTY !== true || header.size < progressThreshold) return;
        bar = new SingleBar(
          {
            stream: stderr,
            format: 'Verifying {bar} {percentage}% | {value}/{total} entries | ETA {eta_formatted}',
            hideCursor: true,
            clearOnComplete: true,
          },
          Presets.shades_classic,
        );
        bar.start(header.size, 0);
      },
      onProgress: (verified) => bar?.update(verified),
    };
    const result = await verifyBundle(parsed.bundle, options);
    bar?.stop();
    bar = undefined;
    if (result.keysFromBundle) stderr.write(`${keysWarning}\n`);
    stdout.write(`${describeVerification(result, parsed)}\n`);
    return exitCodes.verified;
  } catch (error) {
    bar?.stop();
    if (error instanceof AuditVerificationError) {
      stderr.write(`strongroom-verify: NOT VERIFIED [${error.code}]: ${error.message}\n`);
      return exitCodes.failed;
    }
    if (error instanceof UsageError || error instanceof VerifierInputError) {
      stderr.write(`strongroom-verify: ${error.message}\n${usage}`);
      return exitCodes.usage;
    }
    stderr.write(
      `strongroom-verify: the verification could not be completed (this is not a verdict on the bundle): ${
        (error as Error).stack ?? error
      }\n`,
    );
    return exitCodes.incomplete;
  }
}

const keysWarning =
  'Warning: no --keys file was given, so the checkpoint signatures were checked against the keys the bundle ' +
  'itself carries. That shows the bundle is self-consistent, not that Strongroom signed it: anyone able to ' +
  'rewrite the bundle could replace those keys too. Fetch the key set from GET /audit/keys (or another channel ' +
  'you trust) and pass it with --keys.';

const count = (value: number) => value.toLocaleString('en-US');
const plural = (value: number, one: string, many: string) => `${count(value)} ${value === 1 ? one : many}`;

/** The one-paragraph verdict a security team reads. */
export function describeVerification(
  result: BundleVerification,
  inputs: { readonly keys?: string | undefined } = {},
): string {
  const sentences: string[] = [];
  const signers = new Map<string, number>();
  for (const checkpoint of result.checkpoints) {
    const signer = `${checkpoint.keyName} (key id ${checkpoint.keyId})`;
    signers.set(signer, (signers.get(signer) ?? 0) + 1);
  }
  const signedBy = [...signers.entries()]
    .map(([signer, checkpoints]) =>
      signers.size === 1 ? signer : `${signer} for ${plural(checkpoints, 'checkpoint', 'checkpoints')}`,
    )
    .join(', ');
  const keySource = result.keysFromBundle
    ? 'checked against the keys carried in the bundle itself (no --keys file; see the warning)'
    : `checked against the trusted keys${inputs.keys ? ` in ${inputs.keys}` : ''}`;
  const first = result.checkpoints[0];
  const last = result.checkpoints.at(-1);
  if (!first || !last) {
    sentences.push(
      `The bundle for tenant ${result.tenantId} (log ${result.origin}, exported ${result.exportedAt}) holds no entries and no checkpoint: there is nothing to verify.`,
    );
  } else {
    sentences.push(
      `Verified ${plural(result.entries, 'entry', 'entries')} of tenant ${result.tenantId}'s audit log (${result.origin}, exported ${result.exportedAt});` +
        ` ${plural(result.checkpoints.length, 'checkpoint', 'checkpoints')} signed by ${signedBy}.`,
      `Every entry's bytes hash to the leaf hash the log recorded, and the RFC 9162 Merkle tree rebuilt from them has the signed root at each checkpoint size (${
        first === last ? count(first.size) : `${count(first.size)} to ${count(last.size)}`
      }); signatures were ${keySource}.`,
    );
    const betweenCheckpoints = result.checkpoints.filter((each) => each.size > 0).length - 1;
    if (betweenCheckpoints > 0) {
      sentences.push(
        `Each checkpoint is consistent with the one before it (${plural(betweenCheckpoints, 'RFC 9162 consistency proof', 'RFC 9162 consistency proofs')} built from the rebuilt tree and verified).`,
      );
    }
  }
  if (result.trustedCheckpoint) {
    const trusted = result.trustedCheckpoint;
    sentences.push(
      `Consistent with your trusted checkpoint of size ${count(trusted.size)} (signed by ${trusted.keyName}, key id ${trusted.keyId}): the history it covers is unchanged${
        last && trusted.size < last.size
          ? ` and the log only grew from there to ${count(last.size)} entries`
          : ''
      }.`,
    );
  } else if (last) {
    sentences.push(
      'No trusted checkpoint was given, so a history rewritten and re-signed by someone holding the signing key would not be detected: keep the last checkpoint of this bundle (or the body of GET /audit/checkpoints/latest) and pass it with --trusted-checkpoint next time.',
    );
  }
  if (last) sentences.push(`Root at size ${count(last.size)}: ${last.root.toString('base64')}.`);
  return sentences.join(' ');
}
