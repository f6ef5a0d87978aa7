/**
 * The security report's rows (tools/security-report/model.ts): a control turns red when it is
 * removed from the code, when its tests fail or do not exist, or when a CloudFormation check
 * fails; a planned control with a reason is shown as planned.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { type Control, controls } from '#shared/controls/catalogue';
import type { CheckResult } from '#tools/security-report/evidence';
import { buildRows } from '#tools/security-report/model';
import type { TestOutcome } from '#tools/security-report/test-results';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const md = controls.map((control) => ({ id: control.id, area: control.area, text: control.text }));
const passing = (id: string): TestOutcome => ({
  file: 'test/x.test.ts',
  name: `[${id}] works`,
  status: 'passed',
  ids: [id],
});
const allPassing = new Map(controls.map((control) => [control.id, [passing(control.id)]]));
const check = (passed: boolean): CheckResult => ({
  description: 'a check',
  items: [],
  passed,
  ...(passed ? {} : { problem: 'bad' }),
});

function rows(overrides: {
  catalogue?: readonly Control[];
  outcomes?: Map<string, TestOutcome[]>;
  checks?: Map<string, CheckResult[]>;
}) {
  return buildRows({
    repoRoot,
    controlsMd: md,
    checks: overrides.checks ?? new Map(),
    outcomes: overrides.outcomes ?? allPassing,
    tagged: new Map(),
    ...(overrides.catalogue ? { catalogue: overrides.catalogue } : {}),
  });
}

describe('security report rows', () => {
  it('are green for implemented controls with passing tests, and planned for planned ones', () => {
    for (const row of rows({})) {
      const control = controls.find((each) => each.id === row.id);
      expect(row.status, row.id).toBe(control?.status === 'planned' ? 'planned' : 'green');
    }
  });

  it('turn red when a control is removed from the catalogue', () => {
    const row = rows({ catalogue: controls.filter((control) => control.id !== 'ENC-2') }).find(
      (each) => each.id === 'ENC-2',
    );
    expect(row?.status).toBe('red');
    expect(row?.catalogue).toBe('missing');
    expect(row?.problems.join(' ')).toContain('removed from the code');
  });

  it('turn red when a tagged test fails or none exists', () => {
    const outcomes = new Map(allPassing);
    outcomes.set('ENC-1', [passing('ENC-1'), { ...passing('ENC-1'), status: 'failed' }]);
    outcomes.delete('AZ-1');
    const result = rows({ outcomes });
    expect(result.find((row) => row.id === 'ENC-1')?.status).toBe('red');
    expect(result.find((row) => row.id === 'AZ-1')?.problems).toContain('No test carries this control ID.');
  });

  it('turn red when a CloudFormation check fails', () => {
    const result = rows({ checks: new Map([['ENC-2', [check(true), check(false)]]]) });
    expect(result.find((row) => row.id === 'ENC-2')?.status).toBe('red');
  });

  it("turn red when the catalogue changes a control's words", () => {
    const changed = controls.map((control) =>
      control.id === 'API-2' ? { ...control, text: 'Something else.' } : control,
    );
    expect(rows({ catalogue: changed }).find((row) => row.id === 'API-2')?.status).toBe('red');
  });
});
