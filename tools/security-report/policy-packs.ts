/**
 * Policy packs as a report (INF-2): AwsSolutions results come from the synth gate's
 * validation report; NIST 800-53 R5, PCI DSS 3.2.1 and HIPAA Security run on the same
 * construct tree (cdk-nag's validateScope, after synthesis); cfn-guard runs the Control Tower
 * rules bundled by @cdklabs/cdk-validator-cfnguard (its own cfn-guard binary, offline) on the
 * synthesized templates. Every finding is matched against infra/policy-pack-acknowledgements.ts.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { CfnGuardValidator } from '@cdklabs/cdk-validator-cfnguard';
import { CfnResource, type IPolicyValidationContextBeta1 } from 'aws-cdk-lib';
import { HIPAASecurityChecks, type NagPack, NIST80053R5Checks, PCIDSS321Checks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import {
  type Disposition,
  type PolicyPackAcknowledgement,
  type PolicyPackName,
  policyPackAcknowledgements,
} from '#infra/policy-pack-acknowledgements';
import { constructPathOf, type StackTemplate, type ValidationReport } from './synth';

export interface Finding {
  readonly pack: PolicyPackName;
  /** Rule without the pack prefix. */
  readonly rule: string;
  readonly description: string;
  readonly stack: string;
  readonly constructPath: string;
  readonly resourceType: string;
  readonly logicalId: string | undefined;
  /** The acknowledgement it matched, if any. */
  readonly acknowledgement: PolicyPackAcknowledgement | undefined;
}

export interface PackResult {
  readonly pack: PolicyPackName;
  readonly findings: readonly Finding[];
  readonly accepted: number;
  /** Acknowledged as open (tracked gaps). */
  readonly openAcknowledged: number;
  /** Not acknowledged at all. */
  readonly unacknowledged: number;
  /** Open findings: tracked gaps plus unacknowledged. */
  readonly open: number;
  /** cfn-guard: the Control Tower rule files run (those about resource types in the templates). */
  readonly rulesRun: number | undefined;
}

export interface AwsSolutionsResult {
  readonly violations: number;
  readonly acknowledged: number;
  readonly byRule: readonly { rule: string; count: number; reason: string }[];
}

export interface PolicyPackReport {
  readonly awsSolutions: AwsSolutionsResult;
  readonly packs: readonly PackResult[];
  /** Acknowledgements that matched no finding. */
  readonly stale: readonly PolicyPackAcknowledgement[];
}

function matches(ack: PolicyPackAcknowledgement, finding: Omit<Finding, 'acknowledgement'>): boolean {
  return (
    ack.packs.includes(finding.pack) &&
    ack.rule === finding.rule &&
    (ack.resourceTypes === undefined || ack.resourceTypes.includes(finding.resourceType)) &&
    (ack.constructPath === undefined || ack.constructPath.test(finding.constructPath))
  );
}

function acknowledge(
  finding: Omit<Finding, 'acknowledgement'>,
  used: Set<PolicyPackAcknowledgement>,
): Finding {
  const acknowledgement = policyPackAcknowledgements.find((ack) => matches(ack, finding));
  if (acknowledgement !== undefined) used.add(acknowledgement);
  return { ...finding, acknowledgement };
}

function summarize(pack: PolicyPackName, findings: Finding[], rulesRun: number | undefined): PackResult {
  const count = (disposition: Disposition) =>
    findings.filter((finding) => finding.acknowledgement?.disposition === disposition).length;
  const unacknowledged = findings.filter((finding) => finding.acknowledgement === undefined).length;
  const openAcknowledged = count('open');
  return {
    pack,
    findings,
    accepted: count('accepted'),
    openAcknowledged,
    unacknowledged,
    open: openAcknowledged + unacknowledged,
    rulesRun,
  };
}

function cfnResourcesByPath(app: IConstruct): Map<string, CfnResource> {
  const byPath = new Map<string, CfnResource>();
  for (const node of app.node.findAll())
    if (CfnResource.isCfnResource(node)) byPath.set(node.node.path, node);
  return byPath;
}

function runNagPack(
  pack: NagPack,
  name: PolicyPackName,
  app: IConstruct,
  byPath: Map<string, CfnResource>,
  used: Set<PolicyPackAcknowledgement>,
): PackResult {
  const report = pack.validateScope(app);
  const findings: Finding[] = [];
  for (const violation of report.violations) {
    const rule = violation.ruleName.replace(`${name}-`, '');
    for (const resource of violation.violatingResources) {
      const constructPath = resource.constructPath ?? '(unknown)';
      const construct = byPath.get(constructPath);
      findings.push(
        acknowledge(
          {
            pack: name,
            rule,
            description: violation.description,
            // Stage stacks sit under their Stage's path (strongroom-<stage>/platform/...).
            stack: construct?.stack.stackName ?? constructPath.split('/')[0] ?? '',
            constructPath,
            resourceType: construct?.cfnResourceType ?? 'unknown',
            logicalId: construct === undefined ? undefined : construct.stack.resolve(construct.logicalId),
          },
          used,
        ),
      );
    }
  }
  return summarize(name, findings, undefined);
}

/** The Control Tower guard rule files that mention a resource type present in the templates. */
export function guardRuleFiles(types: ReadonlySet<string>): string[] {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('@cdklabs/cdk-validator-cfnguard/package.json')), 'rules');
  const files: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir).sort()) {
      const path = join(dir, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.guard')) {
        const mentioned = readFileSync(path, 'utf8').match(/AWS::[A-Za-z0-9]+::[A-Za-z0-9]+/g) ?? [];
        if (mentioned.some((type) => types.has(type))) files.push(path);
      }
    }
  };
  walk(root);
  return files;
}

function runGuard(stacks: readonly StackTemplate[], used: Set<PolicyPackAcknowledgement>): PackResult {
  const types = new Set(
    stacks.flatMap((stack) => Object.values(stack.resources).map((resource) => resource.Type)),
  );
  // Rules about other resource types can only be "not applicable"; leaving them out keeps the run short.
  const rules = guardRuleFiles(types);
  const validator = new CfnGuardValidator({
    controlTowerRulesEnabled: false,
    rules,
    maxBuffer: 256 * 1024 * 1024,
  });
  const report = validator.validate({
    templatePaths: stacks.map((stack) => stack.templatePath),
  } as IPolicyValidationContextBeta1);
  const byTemplate = new Map(stacks.map((stack) => [stack.templatePath, stack]));
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const violation of report.violations) {
    for (const resource of violation.violatingResources) {
      const stack = byTemplate.get(resource.templatePath);
      const logicalId =
        resource.resourceLogicalId ??
        /^\/Resources\/([^/]+)/.exec(resource.locations[0] ?? '')?.[1] ??
        undefined;
      const key = `${violation.ruleName}|${resource.templatePath}|${logicalId}`;
      if (stack === undefined || logicalId === undefined || seen.has(key)) continue;
      seen.add(key);
      const cfn = stack.resources[logicalId];
      findings.push(
        acknowledge(
          {
            pack: 'cfn-guard',
            rule: violation.ruleName,
            description: violation.description ?? '',
            stack: stack.name,
            constructPath: (cfn && constructPathOf(cfn)) ?? `${stack.name}/${logicalId}`,
            resourceType: cfn?.Type ?? 'unknown',
            logicalId,
          },
          used,
        ),
      );
    }
  }
  return summarize('cfn-guard', findings, rules.length);
}

function awsSolutionsOf(validation: ValidationReport): AwsSolutionsResult {
  const report = validation.pluginReports.find((each) => each.pluginName === 'AwsSolutions');
  const suppressed = report?.suppressedViolations ?? [];
  const byRule = new Map<string, { rule: string; count: number; reason: string }>();
  for (const violation of suppressed) {
    const rule = violation.ruleName.replace(/\[.*$/, '');
    const reason = violation.reason ?? '';
    const entry = byRule.get(`${rule}|${reason}`) ?? { rule, count: 0, reason };
    entry.count += violation.violatingConstructs.length;
    byRule.set(`${rule}|${reason}`, entry);
  }
  return {
    violations: (report?.violations ?? []).reduce((sum, each) => sum + each.violatingConstructs.length, 0),
    acknowledged: suppressed.reduce((sum, each) => sum + each.violatingConstructs.length, 0),
    byRule: [...byRule.values()].sort((a, b) => a.rule.localeCompare(b.rule) || b.count - a.count),
  };
}

/** Runs every report pack on the synthesized app (call after `app.synth()`). */
export function runPolicyPacks(
  app: IConstruct,
  stacks: readonly StackTemplate[],
  validation: ValidationReport,
): PolicyPackReport {
  const used = new Set<PolicyPackAcknowledgement>();
  const byPath = cfnResourcesByPath(app);
  const packs = [
    runNagPack(new NIST80053R5Checks(), 'NIST.800.53.R5', app, byPath, used),
    runNagPack(new PCIDSS321Checks(), 'PCI.DSS.321', app, byPath, used),
    runNagPack(new HIPAASecurityChecks(), 'HIPAA.Security', app, byPath, used),
    runGuard(stacks, used),
  ];
  return {
    awsSolutions: awsSolutionsOf(validation),
    packs,
    stale: policyPackAcknowledgements.filter((ack) => !used.has(ack)),
  };
}
