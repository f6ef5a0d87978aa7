/**
 * Finds the controls each test proves: tests carry control IDs in brackets at the start of
 * a describe or test name (`describe('[AZ-3][AUD-1] ...')`). This reads the test sources,
 * so it works without running anything; the report joins it with the results of a run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

export interface TaggedTest {
  /** Path relative to the repository root, with forward slashes. */
  readonly file: string;
  readonly line: number;
  readonly kind: 'describe' | 'it' | 'test';
  /** The name as written (placeholders such as `%s` not filled in). */
  readonly name: string;
  /** Control IDs the name carries. */
  readonly ids: readonly string[];
  /** `.skip`, `.todo` or `.fails`: such a test proves nothing. */
  readonly skipped: boolean;
}

/** `[ID]` tags anywhere in a test name, in order, without repeats. */
export function tagsIn(name: string): string[] {
  return [...new Set([...name.matchAll(/\[([A-Z]+-\d+)\]/g)].map((match) => match[1] as string))];
}

const testCall =
  /\b(describe|it|test)((?:\.[A-Za-z]+(?:\([^()]*\))?)*)\s*\(\s*(['"`])((?:\\.|(?!\3)[^\\])*)\3/g;

/** Tagged describe and test names in one source text. */
export function scanSource(file: string, source: string): TaggedTest[] {
  const found: TaggedTest[] = [];
  for (const match of source.matchAll(testCall)) {
    const name = match[4] ?? '';
    const ids = tagsIn(name);
    if (ids.length === 0) continue;
    const modifiers = match[2] ?? '';
    found.push({
      file,
      line: source.slice(0, match.index).split('\n').length,
      kind: match[1] as TaggedTest['kind'],
      name,
      ids,
      skipped: /\.(skip|todo|fails)\b/.test(modifiers),
    });
  }
  return found;
}

function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...testFiles(path));
    else if (/\.test\.[cm]?[jt]s$/.test(entry.name)) files.push(path);
  }
  return files.sort();
}

/** Every tagged describe and test under `<repoRoot>/test`. */
export function scanTestTags(repoRoot: string): TaggedTest[] {
  return testFiles(join(repoRoot, 'test')).flatMap((path) =>
    scanSource(relative(repoRoot, path).split('\\').join('/'), readFileSync(path, 'utf8')),
  );
}

/** Tagged tests by control ID (a test naming two controls counts for both). */
export function testsByControl(tests: readonly TaggedTest[]): Map<string, TaggedTest[]> {
  const byId = new Map<string, TaggedTest[]>();
  for (const test of tests) {
    for (const id of test.ids) byId.set(id, [...(byId.get(id) ?? []), test]);
  }
  return byId;
}
