/**
 * The security documents stay consistent with the catalogue: the runbooks INC-1 asks for exist
 * and carry the notification clocks, and the threat model names only controls that exist and
 * covers every component.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { controlById, controls } from '#shared/controls/catalogue';

const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const read = (path: string): string => readFileSync(join(repoRoot, path), 'utf8');

describe('[INC-1] incident runbooks', () => {
  it('sets the GDPR and DORA notification clocks', () => {
    const runbook = read('docs/runbooks/incident-response.md');
    expect(runbook).toContain('not later than 72 hours after becoming aware');
    expect(runbook).toMatch(/within \*\*4 hours of classifying\*\* .*\*\*24 hours after becoming aware\*\*/);
    expect(runbook).toContain('**72 hours of submitting the initial notification**');
    expect(runbook).toContain('**one month of the latest updated intermediate report**');
    expect(runbook).toContain('2025/301');
    expect(runbook).toContain('[key-compromise runbook](key-compromise.md)');
  });

  it('covers every kind of key', () => {
    const runbook = read('docs/runbooks/key-compromise.md');
    for (const heading of ['## Tenant key', '## Table key', '## Audit signing key', '## API-key pepper']) {
      expect(runbook).toContain(heading);
    }
  });
});

describe('[BAK-4] the restore runbook', () => {
  it('documents the RPO (5 minutes with PITR, 24 hours across regions) and the RTO (4 hours)', () => {
    const runbook = read('docs/runbooks/restore.md');
    expect(runbook).toMatch(/RPO, same region\*\* *\| *≤ 5 minutes/);
    expect(runbook).toMatch(/RPO, region loss\*\* *\| *≤ 24 hours/);
    expect(runbook).toMatch(/RTO\*\* *\| *≤ 4 hours/);
  });
});

describe('the threat model', () => {
  const model = read('docs/threat-model.md');

  it('names only controls of the catalogue', () => {
    const prefixes = [...new Set(controls.map((control) => control.id.split('-')[0]))].join('|');
    const mentioned = model.matchAll(new RegExp(`\\b((?:${prefixes})-\\d+)\\b`, 'g'));
    const ids = [...new Set([...mentioned].map((match) => match[1] as string))];
    expect(ids.length).toBeGreaterThan(30);
    expect(ids.filter((id) => controlById(id) === undefined)).toEqual([]);
  });

  it('covers each component with all six STRIDE threats', () => {
    const components = [
      'API Gateway and WAF',
      'Authorizer',
      'Route handlers',
      'DynamoDB tables',
      'Audit ledger',
      'KMS keys',
      'Cognito',
      'Local runtime',
      'CI and the pipeline',
    ];
    const sections = model.split(/\n## /).slice(1);
    for (const component of components) {
      const section = sections.find((each) => each.startsWith(component));
      expect(section, component).toBeDefined();
      for (const letter of ['S', 'T', 'R', 'I', 'D', 'E']) {
        expect(section, `${component}: ${letter}`).toMatch(
          new RegExp(`^\\| (${letter}|[SDRE, ]*${letter}[SDRE, ]*) \\|`, 'm'),
        );
      }
    }
  });
});
