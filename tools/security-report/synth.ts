/**
 * Synthesizes the app for the report exactly as `cdk synth` does (infra/build-app.ts's
 * buildApp with cdk.json's context), offline, into a folder of its own.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { buildApp, type StrongroomApp } from '#infra/build-app';

/** A resource as it appears in a template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DeletionPolicy?: string;
  readonly UpdateReplacePolicy?: string;
  readonly DependsOn?: string | string[];
  readonly Metadata?: Record<string, unknown>;
}

export interface StackTemplate {
  readonly name: string;
  readonly account: string;
  readonly region: string;
  readonly templatePath: string;
  readonly resources: Readonly<Record<string, CfnResource>>;
}

/** One violation in CDK's validation report (validation-report.json of the cloud assembly). */
export interface ReportedViolation {
  readonly ruleName: string;
  readonly severity?: string;
  readonly description?: string;
  readonly violatingConstructs: readonly { readonly constructPath: string }[];
  readonly reason?: string;
  readonly acknowledgedId?: string;
}

export interface ValidationReport {
  readonly pluginReports: readonly {
    readonly pluginName: string;
    readonly conclusion?: string;
    readonly violations: readonly ReportedViolation[];
    readonly suppressedViolations?: readonly ReportedViolation[];
  }[];
}

export interface Synthesis {
  readonly built: StrongroomApp;
  readonly assembly: CloudAssembly;
  readonly stacks: readonly StackTemplate[];
  readonly validation: ValidationReport;
}

export function synthesize(context: Record<string, unknown>, now = new Date()): Synthesis {
  const outdir = mkdtempSync(join(tmpdir(), 'strongroom-report-'));
  // Path metadata (as the CDK CLI writes it) lets the report name each resource's construct.
  const built = buildApp({ context: { ...context, 'aws:cdk:enable-path-metadata': true }, outdir, now });
  const assembly = built.app.synth();
  const stacks = assembly.stacksRecursively.map((stack) => ({
    name: stack.stackName,
    account: stack.environment.account,
    region: stack.environment.region,
    templatePath: stack.templateFullPath,
    resources: ((stack.template as { Resources?: Record<string, CfnResource> }).Resources ?? {}) as Record<
      string,
      CfnResource
    >,
  }));
  const validation = JSON.parse(
    readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8'),
  ) as ValidationReport;
  return { built, assembly, stacks, validation };
}

/** The construct path CDK records on a resource (`aws:cdk:path`), if any. */
export function constructPathOf(resource: CfnResource): string | undefined {
  const path = resource.Metadata?.['aws:cdk:path'];
  return typeof path === 'string' ? path : undefined;
}
