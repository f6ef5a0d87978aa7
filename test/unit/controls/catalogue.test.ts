/**
 * The controls catalogue (shared/controls/catalogue.ts) against CONTROLS.md and the tests:
 * every control of CONTROLS.md is in the catalogue and nothing else is; every implemented
 * control has a test whose name carries its ID; every planned one says why.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { controlIdPattern, controls } from '#shared/controls/catalogue';
import { controlsMdPath, parseControlsMd, readControlsMd } from '#tools/security-report/controls-md';
import { scanSource, scanTestTags, tagsIn, testsByControl } from '#tools/security-report/test-tags';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const tagged = scanTestTags(repoRoot);
const byControl = testsByControl(tagged);
const controlsMd = readControlsMd(repoRoot);

describe('the controls catalogue', () => {
  it('has unique, well-formed IDs', () => {
    const ids = controls.map((control) => control.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(controlIdPattern);
  });

  it.each(controls.map((control) => [control.id, control] as const))(
    '%s is proven by a tagged test or planned with a reason',
    (id, control) => {
      const proving = (byControl.get(id) ?? []).filter((test) => !test.skipped);
      if (control.status === 'planned') {
        expect(control.reason.trim().length, `${id} is planned without a reason`).toBeGreaterThan(20);
      } else {
        expect(
          proving.map((test) => `${test.file}:${test.line}`),
          `${id} is implemented but no describe or test name carries [${id}]; tag the tests that prove it, or mark it planned with a reason`,
        ).not.toEqual([]);
      }
    },
  );

  it.each(controls.map((control) => [control.id, control] as const))(
    '%s names code paths that exist and a plausible enforcement',
    (id, control) => {
      for (const path of control.code) {
        expect(existsSync(join(repoRoot, path)), `${id} names ${path}, which does not exist`).toBe(true);
      }
      if (control.enforcement === 'aws' && control.status === 'implemented') {
        expect(
          control.resourceTypes.length + control.code.length,
          `${id} is enforced by AWS but names nothing`,
        ).toBeGreaterThan(0);
      }
      for (const type of control.resourceTypes) expect(type).toMatch(/^AWS::[A-Za-z0-9]+::[A-Za-z0-9]+$/);
    },
  );

  it('is tagged by tests only with IDs it knows', () => {
    const known = new Set(controls.map((control) => control.id));
    const unknown = tagged.flatMap((test) =>
      test.ids.filter((id) => !known.has(id)).map((id) => `[${id}] in ${test.file}:${test.line}`),
    );
    expect(unknown).toEqual([]);
  });
});

describe('the catalogue agrees with CONTROLS.md', () => {
  // CI and every developer checkout have shared/ beside the repository: a missing
  // CONTROLS.md is a broken checkout, not a reason to skip the comparison.
  it('finds CONTROLS.md beside the repository', () => {
    expect(controlsMd, `CONTROLS.md not found at ${controlsMdPath(repoRoot)}`).toBeDefined();
  });

  it('has every control of CONTROLS.md, and no other', () => {
    const documented = (controlsMd?.entries ?? []).map((entry) => entry.id);
    const catalogued = controls.map((control) => control.id);
    expect(
      documented.filter((id) => !catalogued.includes(id)),
      'in CONTROLS.md, missing from the catalogue',
    ).toEqual([]);
    expect(
      catalogued.filter((id) => !documented.includes(id)),
      'in the catalogue, missing from CONTROLS.md',
    ).toEqual([]);
  });

  it('states each control in the words of CONTROLS.md', () => {
    for (const entry of controlsMd?.entries ?? []) {
      const control = controls.find((candidate) => candidate.id === entry.id);
      if (control === undefined) continue;
      expect({ id: control.id, area: control.area, text: control.text }).toEqual(entry);
    }
  });
});

describe('test tag scanning', () => {
  it('finds tags in describe, it, test and their modifiers', () => {
    const source = [
      "DESCRIBE('[AZ-3][AUD-1] a suite', () => {",
      "  IT('[API-1] a test', () => {});",
      "  IT.skip('[API-2] skipped', () => {});",
      "  DESCRIBE.each(modes)('[AUD-3] verifier (%s)', () => {});",
      '  TEST(`[ENC-1] template literal`, () => {});',
      "  IT('untagged', () => {});",
      '});',
    ]
      .join('\n')
      // Upper case in this file, so the scanner does not count the fixture as tagged tests of the project.
      .replace(/\b(DESCRIBE|IT|TEST)\b/g, (name) => name.toLowerCase());
    const found = scanSource('x.test.ts', source);
    expect(found.map((test) => [test.kind, test.ids, test.skipped, test.line])).toEqual([
      ['describe', ['AZ-3', 'AUD-1'], false, 1],
      ['it', ['API-1'], false, 2],
      ['it', ['API-2'], true, 3],
      ['describe', ['AUD-3'], false, 4],
      ['test', ['ENC-1'], false, 5],
    ]);
    expect(tagsIn('[A-1] and [B-22] and [A-1] and [not-1]')).toEqual(['A-1', 'B-22']);
  });

  it('parses CONTROLS.md rows under their headings', () => {
    const parsed = parseControlsMd('## Area one\n| ID | Control |\n|---|---|\n| X-1 | Does `a` \\| b. |\n');
    expect(parsed).toEqual([{ id: 'X-1', area: 'Area one', text: 'Does `a` \\| b.' }]);
  });
});
