/**
 * Configuration guards that fail synth before any construct exists: EU residency (INF-3),
 * stage separation (INF-5) and the deployment settings. None of these synthesizes.
 */
import { App, Stack } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { assertEuResidency, buildApp } from '#infra/build-app';
import { contextKeys, loadConfig } from '#infra/config';
import cdkJson from '../../cdk.json' with { type: 'json' };

const context: Record<string, unknown> = cdkJson.context;
const read =
  (overrides: Record<string, unknown>) =>
  (key: string): unknown =>
    key in overrides ? overrides[key] : context[key];

describe('[INF-3] EU data residency', () => {
  it('fails synth for a primary region outside the EU, showing the value', () => {
    expect(() => buildApp({ context: { ...context, [contextKeys.primaryRegion]: 'us-east-1' } })).toThrow(
      'strongroom:primaryRegion must be an eu region (eu data residency, INF-3), got "us-east-1"',
    );
  });

  it('fails synth for a DR region outside the EU, showing the value', () => {
    expect(() => buildApp({ context: { ...context, [contextKeys.drRegion]: 'eu-east-9' } })).toThrow(
      /strongroom:drRegion must be an eu region .*got "eu-east-9"/,
    );
  });

  it('fails synth for any stack outside the EU, even one added outside the configuration', () => {
    const app = new App();
    new Stack(app, 'stray', { env: { account: '111122223333', region: 'us-west-2' } });
    expect(() => assertEuResidency(app)).toThrow(
      'stack stray must be in an eu region (INF-3), got "us-west-2"',
    );
    const agnostic = new App();
    new Stack(agnostic, 'nowhere');
    expect(() => assertEuResidency(agnostic)).toThrow(
      /stack nowhere must be in an eu region .*unresolved region/,
    );
  });

  it('keeps the DR copy in a different region from the primary', () => {
    expect(() => loadConfig(read({ [contextKeys.drRegion]: 'eu-central-1' }))).toThrow(
      'strongroom:drRegion must differ from the primary region, got "eu-central-1"',
    );
  });
});

describe('[INF-5] deployment configuration', () => {
  it('reads account, regions and the dev and prod stages from cdk.json', () => {
    const config = loadConfig(read({}));
    expect(config.account).toBe('111122223333');
    expect(config.primaryRegion).toBe('eu-central-1');
    expect(config.drRegion).toBe('eu-west-1');
    expect(config.stages.map((stage) => stage.name)).toEqual(['dev', 'prod']);
    expect(config.stages[1]?.allowedOrigins).toEqual(['https://app.strongroom.example']);
  });

  it('defaults the regions to eu-central-1 and eu-west-1 and the stages to dev and prod', () => {
    const config = loadConfig((key) => (key === contextKeys.account ? '111122223333' : undefined));
    expect([config.primaryRegion, config.drRegion]).toEqual(['eu-central-1', 'eu-west-1']);
    expect(config.stages.map((stage) => stage.name)).toEqual(['dev', 'prod']);
  });

  it('accepts stages and settings as strings from -c on the command line', () => {
    const config = loadConfig(
      read({
        [contextKeys.stages]: 'dev',
        [contextKeys.stageSettings]: '{"dev":{"throttlingRateLimit":5}}',
      }),
    );
    expect(config.stages.map((stage) => [stage.name, stage.throttlingRateLimit])).toEqual([['dev', 5]]);
  });

  it.each([
    [
      { [contextKeys.account]: undefined },
      'strongroom:account must be a 12-digit aws account id, got nothing',
    ],
    [{ [contextKeys.account]: '12345' }, 'strongroom:account must be a 12-digit aws account id, got "12345"'],
    [
      { [contextKeys.stages]: ['dev', 'Prod'] },
      'strongroom:stages entries must match [a-z0-9-]{1,16}, got "Prod"',
    ],
    [
      { [contextKeys.stages]: ['dev', 'dev'] },
      'strongroom:stages must not repeat a stage, got ["dev","dev"]',
    ],
    [
      { [contextKeys.stageSettings]: { test: {} } },
      'strongroom:stageSettings names an undeclared stage, got "test"',
    ],
    [
      { [contextKeys.stageSettings]: { dev: { allowedOrigins: ['*'] } } },
      'strongroom:stageSettings.dev.allowedOrigins must hold exact https origins, got "*"',
    ],
    [
      { [contextKeys.stageSettings]: { dev: { allowedOrigins: ['http://app.example'] } } },
      'strongroom:stageSettings.dev.allowedOrigins must hold exact https origins, got "http://app.example"',
    ],
    [
      { [contextKeys.stageSettings]: { dev: { throttlingRateLimit: 0 } } },
      'strongroom:stageSettings.dev.throttlingRateLimit must be an integer of at least 1, got 0',
    ],
    [
      { [contextKeys.stageSettings]: { dev: { wafRateLimit: 10 } } },
      'strongroom:stageSettings.dev has an unknown setting, got "wafRateLimit"',
    ],
  ])('refuses %j with a message that shows the bad value', (overrides, message) => {
    expect(() => loadConfig(read(overrides))).toThrow(message);
  });

  it('turns off CLI telemetry and runs the app through tsx', () => {
    expect(cdkJson['cli-telemetry']).toBe(false);
    expect(cdkJson.app).toBe('npx tsx infra/app.ts');
  });
});
