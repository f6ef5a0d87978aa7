/**
 * Writes the report as Markdown (docs/security-report.md) and as a self-contained HTML page
 * (docs/security-report.html) from the same content.
 */
import type { CheckResult } from './evidence';
import type { ControlRow } from './model';
import { pciDss401 } from './pci-mapping';
import type { Finding, PolicyPackReport } from './policy-packs';
import type { SbomSummary, SupplyChainFacts } from './supply-chain';
import type { TestRun } from './test-results';

export interface ReportInputs {
  readonly generatedAt: string;
  readonly commit: string;
  readonly dirty: boolean;
  readonly rows: readonly ControlRow[];
  readonly tests: TestRun;
  readonly packs: PolicyPackReport;
  readonly sbom: SbomSummary;
  readonly supplyChain: SupplyChainFacts;
  readonly stacks: readonly { name: string; region: string; resources: number }[];
  readonly diagram: string;
  readonly controlsMd: string;
}

const badge = { green: '🟢 green', planned: '⚪ planned', red: '🔴 red' } as const;
const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const anchor = (id: string): string => id.toLowerCase();
const maxItems = 12;

function testSummary(row: ControlRow): string {
  const passed = row.tests.filter((test) => test.status === 'passed').length;
  const failed = row.tests.filter((test) => test.status === 'failed').length;
  const skipped = row.tests.filter((test) => test.status === 'skipped').length;
  if (row.tests.length === 0) return row.notRun.length > 0 ? `not run (${row.notRun.length} tagged)` : 'none';
  return [`${passed} passed`, failed > 0 ? `${failed} failed` : '', skipped > 0 ? `${skipped} skipped` : '']
    .filter(Boolean)
    .join(', ');
}

function checkSummary(row: ControlRow): string {
  if (row.checks.length === 0) return row.enforcement === 'app' ? 'n/a (app)' : '—';
  const passed = row.checks.filter((check) => check.passed).length;
  const resources = row.checks.reduce((sum, check) => sum + check.items.length, 0);
  return `${passed}/${row.checks.length} checks, ${resources} resources`;
}

function checkLines(check: CheckResult): string[] {
  const mark = check.passed ? '✅' : '❌';
  const lines = [`- ${mark} ${check.description}${check.problem ? ` — **${check.problem}**` : ''}`];
  if (check.items.length === 0) return lines;
  const shown = [...check.items].sort((a, b) => Number(a.ok) - Number(b.ok)).slice(0, maxItems);
  lines.push('', '  | Stack | Resource | Property | Value | OK |', '  |---|---|---|---|---|');
  for (const item of shown) {
    const resource = item.constructPath ?? item.logicalId;
    lines.push(
      `  | ${cell(item.stack)} | ${cell(`${item.type} \`${resource}\``)} | ${cell(item.property)} | \`${cell(item.value)}\` | ${item.ok ? '✅' : '❌'} |`,
    );
  }
  if (check.items.length > shown.length) {
    lines.push(
      `  | … | and ${check.items.length - shown.length} more ${check.items[0]?.type ?? ''} | | | ✅ all |`,
    );
  }
  lines.push('');
  return lines;
}

function controlSection(row: ControlRow): string[] {
  const lines = [`### ${row.id}: ${row.title}`, '', `> ${row.text}`, ''];
  lines.push(
    `**Status:** ${badge[row.status]} · **Catalogue:** ${row.catalogue} · **Enforced by:** ${row.enforcement ?? '—'}${
      row.resourceTypes.length > 0
        ? ` · **Resource types:** ${row.resourceTypes.map((type) => `\`${type}\``).join(', ')}`
        : ''
    }`,
    '',
  );
  if (row.plannedReason) lines.push(`**Planned:** ${row.plannedReason}`, '');
  if (row.problems.length > 0)
    lines.push('**Why red / what is missing:**', '', ...row.problems.map((problem) => `- ${problem}`), '');
  if (row.code.length > 0) {
    lines.push(
      `**Code:** ${row.code.map((path) => (path.exists ? `[\`${path.path}\`](../${path.path})` : `\`${path.path}\` (missing)`)).join(', ')}`,
      '',
    );
  }
  if (row.checks.length > 0)
    lines.push('**CloudFormation (synthesized templates):**', '', ...row.checks.flatMap(checkLines));
  lines.push(`**Tests:** ${testSummary(row)}`, '');
  const byFile = new Map<string, typeof row.tests>();
  for (const test of row.tests) byFile.set(test.file, [...(byFile.get(test.file) ?? []), test]);
  for (const [file, tests] of [...byFile].sort(([a], [b]) => a.localeCompare(b))) {
    const failed = tests.filter((test) => test.status === 'failed');
    const suites = [...new Set(tests.map((test) => test.name.split(' > ')[0] ?? test.name))];
    lines.push(
      `- [\`${file}\`](../${file}): ${tests.filter((test) => test.status === 'passed').length}/${tests.length} passed — ${suites
        .slice(0, 4)
        .map((suite) => `“${cell(suite)}”`)
        .join('; ')}${suites.length > 4 ? ` and ${suites.length - 4} more` : ''}`,
    );
    for (const test of failed) lines.push(`  - ❌ ${cell(test.name)}`);
  }
  for (const test of row.notRun)
    lines.push(`- not run here: \`${test.file}:${test.line}\` “${cell(test.name)}”`);
  if (byFile.size > 0 || row.notRun.length > 0) lines.push('');
  if (row.openItems.length > 0)
    lines.push('**Open items:**', '', ...row.openItems.map((item) => `- ${item}`), '');
  return lines;
}

function findingLine(finding: Finding): string {
  const ack = finding.acknowledgement;
  const state =
    ack === undefined ? '❗ unacknowledged' : ack.disposition === 'open' ? '🟠 open' : '✔ accepted';
  return `| ${cell(finding.rule)} | ${cell(finding.resourceType)} | \`${cell(finding.constructPath)}\` | ${state} | ${cell(ack?.category ?? '')} |`;
}

function policyPackLines(packs: PolicyPackReport): string[] {
  const lines = [
    '## Policy packs',
    '',
    'cdk-nag **AwsSolutions** is the synth gate (infra/build-app.ts): any unacknowledged finding fails synthesis. ' +
      'NIST 800-53 R5, PCI DSS 3.2.1 and HIPAA Security (cdk-nag) and **cfn-guard** with the AWS Control Tower rules ' +
      '(`@cdklabs/cdk-validator-cfnguard`, cfn-guard bundled, offline) run as a report on the same synthesis; their ' +
      'acknowledgements live in [`infra/policy-pack-acknowledgements.ts`](../infra/policy-pack-acknowledgements.ts). ' +
      '*Open* counts the findings acknowledged as tracked gaps plus any unacknowledged ones.',
    '',
    '| Pack | Findings | Accepted (reasoned) | Open: tracked gaps | Open: unacknowledged | **Open total** |',
    '|---|---|---|---|---|---|',
    `| AwsSolutions (synth gate) | ${packs.awsSolutions.violations + packs.awsSolutions.acknowledged} | ${packs.awsSolutions.acknowledged} | 0 | ${packs.awsSolutions.violations} | **${packs.awsSolutions.violations}** |`,
  ];
  for (const pack of packs.packs) {
    const rules = pack.rulesRun === undefined ? '' : ` (${pack.rulesRun} rule files)`;
    lines.push(
      `| ${pack.pack}${rules} | ${pack.findings.length} | ${pack.accepted} | ${pack.openAcknowledged} | ${pack.unacknowledged} | **${pack.open}** |`,
    );
  }
  lines.push(
    '',
    '### Acknowledgement categories',
    '',
    '| Category | Disposition | Packs: findings | Controls | Reason |',
    '|---|---|---|---|---|',
  );
  const categories = new Map<
    string,
    { disposition: string; reason: string; controls: Set<string>; counts: Map<string, number> }
  >();
  for (const pack of packs.packs) {
    for (const finding of pack.findings) {
      const ack = finding.acknowledgement;
      if (ack === undefined) continue;
      const entry = categories.get(ack.category) ?? {
        disposition: ack.disposition,
        reason: ack.reason,
        controls: new Set<string>(),
        counts: new Map<string, number>(),
      };
      for (const control of ack.controls) entry.controls.add(control);
      entry.counts.set(pack.pack, (entry.counts.get(pack.pack) ?? 0) + 1);
      categories.set(ack.category, entry);
    }
  }
  for (const [category, entry] of [...categories].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(
      `| ${cell(category)} | ${entry.disposition} | ${[...entry.counts].map(([pack, count]) => `${pack}: ${count}`).join(', ')} | ${[...entry.controls].join(', ')} | ${cell(entry.reason)} |`,
    );
  }
  lines.push(
    '',
    '### AwsSolutions acknowledgements (synth gate)',
    '',
    '| Rule | Findings | Reason |',
    '|---|---|---|',
  );
  for (const rule of packs.awsSolutions.byRule)
    lines.push(`| ${rule.rule} | ${rule.count} | ${cell(rule.reason)} |`);
  const pci = packs.packs.find((pack) => pack.pack === 'PCI.DSS.321');
  if (pci !== undefined) {
    const rules = [...new Set(pci.findings.map((finding) => finding.rule))].sort();
    lines.push(
      '',
      '### PCI DSS 3.2.1 findings mapped to PCI DSS v4.0.1',
      '',
      "cdk-nag's newest PCI pack checks PCI DSS 3.2.1 (retired 31 March 2024). The v4.0.1 column is our mapping, following the " +
        'PCI SSC summary of changes from v3.2.1 to v4.0 ([`tools/security-report/pci-mapping.ts`](../tools/security-report/pci-mapping.ts)); ' +
        'it is guidance for an assessor, not an assessment.',
      '',
      '| Rule | Findings | Open | PCI DSS 3.2.1 | PCI DSS v4.0.1 |',
      '|---|---|---|---|---|',
    );
    for (const rule of rules) {
      const findings = pci.findings.filter((finding) => finding.rule === rule);
      const open = findings.filter((finding) => finding.acknowledgement?.disposition !== 'accepted').length;
      const mapping = pciDss401[rule];
      lines.push(
        `| ${rule} | ${findings.length} | ${open} | ${mapping?.v321 ?? '—'} | ${mapping?.v401 ?? '**no mapping recorded**'} |`,
      );
    }
  }
  if (packs.stale.length > 0) {
    lines.push('', '### Stale acknowledgements (match no finding)', '');
    for (const ack of packs.stale) lines.push(`- ${ack.packs.join(', ')} ${ack.rule} (${ack.category})`);
  }
  lines.push('', '### All findings', '');
  for (const pack of packs.packs) {
    lines.push(
      `<details><summary>${pack.pack}: ${pack.findings.length} findings, ${pack.open} open</summary>`,
      '',
      '| Rule | Type | Construct | State | Category |',
      '|---|---|---|---|---|',
      ...[...pack.findings]
        .sort((a, b) => a.rule.localeCompare(b.rule) || a.constructPath.localeCompare(b.constructPath))
        .map(findingLine),
      '',
      '</details>',
      '',
    );
  }
  return lines;
}

export function renderMarkdown(inputs: ReportInputs): string {
  const { rows } = inputs;
  const count = (status: ControlRow['status']) => rows.filter((row) => row.status === status).length;
  const outcomes = inputs.tests.outcomes;
  const lines = [
    '# Strongroom security report',
    '',
    `Generated by \`npm run security-report\` from commit \`${inputs.commit}\`${inputs.dirty ? ' (with uncommitted changes)' : ''} on ${inputs.generatedAt}. ` +
      'Do not edit: it is rebuilt from the code. It joins the controls catalogue ([`shared/controls/catalogue.ts`](../shared/controls/catalogue.ts), ' +
      `the IDs of ${inputs.controlsMd}), the synthesized CloudFormation of every stack, and the results of the tests that carry each control's ID.`,
    '',
    `**${rows.length} controls: ${count('green')} 🟢 green, ${count('planned')} ⚪ planned, ${count('red')} 🔴 red.** ` +
      `Tests: ${outcomes.filter((test) => test.status === 'passed').length} passed, ${outcomes.filter((test) => test.status === 'failed').length} failed, ` +
      `${outcomes.filter((test) => test.status === 'skipped').length} skipped (${inputs.tests.source}, started ${inputs.tests.startedAt}). ` +
      `Open policy-pack findings: ${inputs.packs.packs.map((pack) => `${pack.pack} ${pack.open}`).join(', ')}; AwsSolutions ${inputs.packs.awsSolutions.violations}.`,
    '',
    'Status: 🟢 implemented, proven by passing tagged tests and, where it has CloudFormation, by every check below; ' +
      '⚪ planned, with the reason (its partial tests and checks still shown); 🔴 anything else, including a control of CONTROLS.md missing from the catalogue.',
    '',
    '## Architecture',
    '',
    'Drawn from the synthesized templates (Graphviz compiled to WebAssembly): one box per stack; solid edges are invocations and ' +
      "data access granted by each function's role, red edges tenant sessions, dashed edges the KMS key that encrypts a resource.",
    '',
    `![Architecture of the synthesized stacks](${inputs.diagram})`,
    '',
    '| Stack | Region | Resources |',
    '|---|---|---|',
    ...inputs.stacks.map((stack) => `| ${stack.name} | ${stack.region} | ${stack.resources} |`),
    '',
    '## Controls',
    '',
    '| ID | Control | Enforced | Status | Tests | CloudFormation | Open items |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (row) =>
        `| [${row.id}](#${anchor(`${row.id}-${row.title}`)
          .replace(/[^a-z0-9 -]/g, '')
          .replace(
            / /g,
            '-',
          )}) | ${cell(row.title)} | ${row.enforcement ?? '—'} | ${badge[row.status]} | ${testSummary(row)} | ${checkSummary(row)} | ${row.openItems.length + (row.plannedReason ? 1 : 0)} |`,
    ),
    '',
    ...policyPackLines(inputs.packs),
    '## Supply chain',
    '',
    `- **SBOM (VUL-2):** ${inputs.sbom.format} ${inputs.sbom.specVersion}, ${inputs.sbom.components} components (${inputs.sbom.production} production), ` +
      `from \`npm sbom --sbom-format cyclonedx --package-lock-only\` (offline). \`npm run sbom\` writes \`cdk.out/sbom.cdx.json\`${inputs.supplyChain.sbomInBuild ? ' and `npm run synth` runs it after every synthesis' : ''}; this report writes one beside itself.`,
    `- **Secret scan (SEC-2):** \`npm run secrets\` = \`${inputs.supplyChain.secretScan ?? 'missing'}\`${inputs.supplyChain.secretScanInTest ? ', run by `npm test`' : ' (**not in npm test**)'}; rules: ${inputs.supplyChain.secretlintRules.join(', ') || 'none'}.`,
    `- **Production dependency audit (SEC-2):** \`npm run audit:prod\` = \`${inputs.supplyChain.audit ?? 'missing'}\`; it needs the registry's advisory API, so it runs outside the offline \`npm test\` (see SEC-2's open item).`,
    '',
    '## Controls in detail',
    '',
  ];
  lines.push(
    '## How this report is made and kept current',
    '',
    '- `npm run security-report` runs the tests (vitest, every project, JSON reporter), synthesizes the app offline with ' +
      "`infra/build-app.ts` and cdk.json's context (cdk-nag AwsSolutions runs as the synth gate), queries the templates per " +
      'control ([`tools/security-report/evidence.ts`](../tools/security-report/evidence.ts)), runs the report packs, writes the SBOM and ' +
      'renders this page, its HTML twin and the diagram into `docs/`.',
    '- `npm test` (and so CI, `.ci/run`) builds the same report from the current code after its own test run, reading that ' +
      "run's JSON results instead of testing twice, into `cdk.out/security-report/`, and **fails on a red row or an " +
      'unacknowledged policy-pack finding**. It also warns when this committed copy shows a different status for a control.',
    '- A control is proven by tests whose describe or test name carries its ID in brackets (`[ENC-2]`); ' +
      '`test/unit/controls/catalogue.test.ts` fails when an implemented control has none, when a planned one gives no reason, ' +
      'and when the catalogue and CONTROLS.md disagree.',
    '',
  );
  let area = '';
  for (const row of rows) {
    if (row.area !== area) {
      area = row.area;
      lines.push(`## ${area}`, '');
    }
    lines.push(...controlSection(row));
  }
  return `${lines
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}

const escapeHtml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function inline(text: string): string {
  let html = escapeHtml(text);
  html = html.replace(/!\[([^\]]*)\]\(([^)]+)\)/g, '<img alt="$1" src="$2">');
  html = html.replace(/\[([^\]]+)\]\(([^)]+)\)/g, '<a href="$2">$1</a>');
  html = html.replace(/`([^`]+)`/g, '<code>$1</code>');
  html = html.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>');
  html = html.replace(/(^|[\s(])\*([^*\s][^*]*)\*/g, '$1<em>$2</em>');
  return html.replace(/\\\|/g, '|');
}

const splitRow = (line: string): string[] =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((part) => part.trim());

/** A small Markdown-to-HTML conversion for this report's own Markdown (headings, lists, tables, quotes). */
export function renderHtml(markdown: string): string {
  const out: string[] = [];
  const lines = markdown.split('\n');
  let index = 0;
  let list = false;
  const closeList = (): void => {
    if (list) out.push('</ul>');
    list = false;
  };
  while (index < lines.length) {
    const line = lines[index] ?? '';
    const trimmed = line.trim();
    if (trimmed.startsWith('|') && (lines[index + 1] ?? '').trim().startsWith('|---')) {
      closeList();
      const header = splitRow(trimmed);
      out.push(
        '<table><thead><tr>',
        ...header.map((text) => `<th>${inline(text)}</th>`),
        '</tr></thead><tbody>',
      );
      index += 2;
      while ((lines[index] ?? '').trim().startsWith('|')) {
        out.push('<tr>', ...splitRow(lines[index] ?? '').map((text) => `<td>${inline(text)}</td>`), '</tr>');
        index += 1;
      }
      out.push('</tbody></table>');
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(trimmed);
    if (heading) {
      closeList();
      const level = heading[1]?.length ?? 1;
      const text = heading[2] ?? '';
      const id = text
        .toLowerCase()
        .replace(/[^a-z0-9 -]/g, '')
        .replace(/ /g, '-');
      out.push(`<h${level} id="${id}">${inline(text)}</h${level}>`);
    } else if (/^\s*- /.test(line)) {
      if (!list) out.push('<ul>');
      list = true;
      out.push(`<li>${inline(line.replace(/^\s*- /, ''))}</li>`);
    } else if (trimmed.startsWith('>')) {
      closeList();
      out.push(`<blockquote>${inline(trimmed.replace(/^>\s?/, ''))}</blockquote>`);
    } else if (trimmed.startsWith('<')) {
      closeList();
      out.push(trimmed);
    } else if (trimmed === '') {
      closeList();
    } else {
      closeList();
      out.push(`<p>${inline(trimmed)}</p>`);
    }
    index += 1;
  }
  closeList();
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><title>Strongroom security report</title>',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<style>',
    'body{font-family:system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#1b1b1b;line-height:1.45}',
    'table{border-collapse:collapse;margin:0.5em 0 1em;font-size:0.9em}th,td{border:1px solid #d0d0d0;padding:4px 6px;vertical-align:top;text-align:left}',
    'th{background:#f3f3f3}code{background:#f5f5f5;padding:0 3px;border-radius:3px;font-size:0.92em;word-break:break-all}',
    'blockquote{border-left:4px solid #ccc;margin:0.5em 0;padding:0.2em 1em;color:#333;background:#fafafa}',
    'img{max-width:100%;border:1px solid #ddd}h2{border-bottom:1px solid #ddd;padding-bottom:0.2em;margin-top:2em}',
    '</style></head><body>',
    ...out,
    '</body></html>',
    '',
  ].join('\n');
}
