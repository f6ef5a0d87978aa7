import { type App, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ContextReader, StrongroomConfig } from '../config';
import { AccountTrail } from '../constructs/account-trail';
import { ThreatDetection } from '../constructs/threat-detection';

/**
 * Context flag that turns the account baseline off (`-c strongroom:accountBaseline=false`),
 * for accounts whose organization already runs an organization trail, GuardDuty and Security
 * Hub through a delegated administrator: a second detector or hub in the same account and
 * region fails to deploy. On by default, so a fresh account gets the baseline.
 */
export const accountBaselineContextKey = 'strongroom:accountBaseline';

/** Whether the app includes the account baseline stacks (INF-6); true unless the flag says false. */
export function accountBaselineEnabled(read: ContextReader): boolean {
  const value = read(accountBaselineContextKey);
  if (value === undefined || value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new Error(`${accountBaselineContextKey} must be true or false, got ${JSON.stringify(value)}`);
}

export interface BaselineStackProps extends StackProps {
  /** Stages whose tables and buckets the trail logs data events for. */
  readonly stages: readonly string[];
  /**
   * Whether this stack holds the account's trail; it is multi-region, so only one stack does.
   * @default false
   */
  readonly trail?: boolean;
  /**
   * Regions whose Strongroom tables the trail logs data events for.
   * @default - the stack's region
   */
  readonly tableRegions?: readonly string[];
  /**
   * Email addresses subscribed to the findings topic.
   * @default - none
   */
  readonly incidentEmails?: readonly string[];
}

/**
 * The account baseline of one region (INF-6): GuardDuty, Security Hub with the AWS
 * Foundational Security Best Practices standard, high-severity findings to an incident topic,
 * and, in the primary region, the multi-region CloudTrail trail with data events.
 */
export class BaselineStack extends Stack {
  readonly trail: AccountTrail | undefined;
  readonly threats: ThreatDetection;

  constructor(scope: Construct, id: string, props: BaselineStackProps) {
    super(scope, id, props);
    this.trail =
      props.trail === true
        ? new AccountTrail(this, 'Trail', {
            stages: props.stages,
            ...(props.tableRegions === undefined ? {} : { tableRegions: props.tableRegions }),
          })
        : undefined;
    this.threats = new ThreatDetection(this, 'ThreatDetection', {
      scope: 'account',
      incidentEmails: props.incidentEmails ?? [],
    });
  }
}

/**
 * Adds the baseline stacks to the app: `strongroom-baseline` in the primary region (trail,
 * GuardDuty, Security Hub) and `strongroom-baseline-dr` in the DR region (GuardDuty, Security
 * Hub), both with explicit account and region (INF-3) and termination protection.
 */
export function addAccountBaseline(app: App, config: StrongroomConfig): BaselineStack[] {
  const stages = config.stages.map((stage) => stage.name);
  const incidentEmails = [...new Set(config.stages.flatMap((stage) => stage.incidentEmails))];
  const primary = new BaselineStack(app, 'strongroom-baseline', {
    env: { account: config.account, region: config.primaryRegion },
    description: 'Strongroom: account baseline (CloudTrail with data events, GuardDuty, Security Hub)',
    terminationProtection: true,
    stages,
    trail: true,
    tableRegions: [config.primaryRegion, config.drRegion],
    incidentEmails,
  });
  const dr = new BaselineStack(app, 'strongroom-baseline-dr', {
    env: { account: config.account, region: config.drRegion },
    description: 'Strongroom: account baseline of the DR region (GuardDuty, Security Hub)',
    terminationProtection: true,
    stages,
    incidentEmails,
  });
  for (const stack of [primary, dr]) Tags.of(stack).add('strongroom:baseline', 'account');
  return [primary, dr];
}
