/**
 * One synthesis for the infra tests: the whole app, built with cdk.json's context exactly
 * as `cdk synth` builds it, synthesized once per test module and shared by its tests.
 * Keep every test that needs the templates in the one module that imports `synthesized()`
 * (test/infra/synthesized.test.ts): vitest isolates modules per file, so a second file
 * would pay for a second synthesis.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp, type StrongroomApp } from '#infra/build-app';
import cdkJson from '../../cdk.json' with { type: 'json' };

/** cdk.json's context, as the CLI passes it to the app. */
export const cdkContext: Readonly<Record<string, unknown>> = cdkJson.context;

/** One violation in CDK's validation report. */
export interface ReportedViolation {
  readonly ruleName: string;
  readonly severity: string;
  readonly description: string;
  readonly violatingConstructs: readonly { readonly constructPath: string }[];
  readonly reason?: string;
  readonly acknowledgedId?: string;
}

/** CDK's validation report (validation-report.json in the cloud assembly). */
export interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly conclusion: string;
    readonly violations: readonly ReportedViolation[];
    readonly suppressedViolations?: readonly ReportedViolation[];
  }[];
}

export interface Synthesized extends StrongroomApp {
  readonly assembly: CloudAssembly;
  /** The moment given to the app as synthesis time. */
  readonly now: Date;
  readonly templates: ReadonlyMap<string, Template>;
  readonly report: ValidationReport;
  /** The template of a stack, by stack name. */
  template(stackName: string): Template;
}

let memo: Synthesized | undefined;

export function synthesized(): Synthesized {
  memo ??= synthesize();
  return memo;
}

function synthesize(): Synthesized {
  const now = new Date();
  const outdir = mkdtempSync(join(tmpdir(), 'strongroom-infra-'));
  const built = buildApp({ context: { ...cdkContext }, outdir, now });
  const assembly = built.app.synth();
  const templates = new Map<string, Template>();
  for (const stack of assembly.stacksRecursively) {
    templates.set(stack.stackName, Template.fromJSON(stack.template as Record<string, unknown>));
  }
  const report = JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  return {
    ...built,
    assembly,
    now,
    templates,
    report,
    template(stackName: string): Template {
      const template = templates.get(stackName);
      if (template === undefined) throw new Error(`no stack named ${stackName}`);
      return template;
    },
  };
}

/** A resource as it appears in a template. */
export interface TemplateResource {
  readonly Properties: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
  readonly Metadata?: Record<string, unknown>;
}

/** Every resource of one type in a template, as [logical id, resource]. */
export function resourcesOf(template: Template, type: string): [string, TemplateResource][] {
  return Object.entries(template.findResources(type)).map(([id, resource]) => [
    id,
    { Properties: {}, ...(resource as Partial<TemplateResource>) },
  ]);
}

/** The one resource of a type in a template; fails if there are none or several. */
export function onlyResourceOf(template: Template, type: string): [string, TemplateResource] {
  const found = resourcesOf(template, type);
  if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
  return found[0] as [string, TemplateResource];
}
