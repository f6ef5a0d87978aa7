import { ArnFormat, Stack } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { EncryptedLogGroup } from './encrypted-log-group';

/** AWS managed rule groups in front of the API (INF-4), in evaluation order after the rate rule. */
export const managedRuleGroups = [
  'AWSManagedRulesAmazonIpReputationList',
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
] as const;

/** WAF's largest body inspection size for API Gateway; anything larger is "oversize". */
const inspectionLimitBytes = 64 * 1024;

export interface ApiFirewallProps {
  /** Stage that owns the web ACL; part of its name and log group. */
  readonly stage: string;
  /** ARN of the API Gateway stage to protect. */
  readonly stageArn: string;
  /** Requests per source IP in any 5-minute window before the IP is blocked (AUTH-2). */
  readonly rateLimitPerIp: number;
  /** Largest request body in bytes; larger bodies are blocked before they reach a function (API-1). */
  readonly maxBodyBytes: number;
  /** Customer-managed key for the WAF log group (ENC-2). */
  readonly logKey: kms.IKey;
}

/**
 * A regional WAF web ACL on the API stage (INF-4): IP reputation, a per-IP rate-based rule,
 * the common and known-bad-inputs managed rule groups and a body size limit, with its logs
 * (authorization header and cookies redacted) in a KMS-encrypted security log group (LOG-2).
 */
export class ApiFirewall extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly association: wafv2.CfnWebACLAssociation;
  readonly logGroup: EncryptedLogGroup;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`api firewall stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (
      !Number.isInteger(props.rateLimitPerIp) ||
      props.rateLimitPerIp < 10 ||
      props.rateLimitPerIp > 2_000_000_000
    ) {
      throw new Error(
        `api firewall rate limit must be 10 to 2000000000, got ${JSON.stringify(props.rateLimitPerIp)}`,
      );
    }
    if (
      !Number.isInteger(props.maxBodyBytes) ||
      props.maxBodyBytes < 1 ||
      props.maxBodyBytes > inspectionLimitBytes
    ) {
      throw new Error(
        `api firewall max body must be 1 to ${inspectionLimitBytes} bytes, got ${JSON.stringify(props.maxBodyBytes)}`,
      );
    }
    const name = `strongroom-${props.stage}-api`;
    const visibility = (metricName: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });

    const managedRules: wafv2.CfnWebACL.RuleProperty[] = managedRuleGroups.map((groupName, index) => ({
      name: groupName,
      priority: 10 + index,
      overrideAction: { none: {} },
      statement: {
        managedRuleGroupStatement: {
          vendorName: 'AWS',
          name: groupName,
          // The common set blocks bodies over 8 KB; our own limit below is the API's (64 KiB).
          ...(groupName === 'AWSManagedRulesCommonRuleSet'
            ? { ruleActionOverrides: [{ name: 'SizeRestrictions_BODY', actionToUse: { count: {} } }] }
            : {}),
        },
      },
      visibilityConfig: visibility(`${name}-${groupName}`),
    }));

    this.webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility(name),
      associationConfig: { requestBody: { API_GATEWAY: { defaultSizeInspectionLimit: 'KB_64' } } },
      rules: [
        {
          name: 'RatePerIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              limit: props.rateLimitPerIp,
              aggregateKeyType: 'IP',
              evaluationWindowSec: 300,
            },
          },
          visibilityConfig: visibility(`${name}-rate-per-ip`),
        },
        ...managedRules,
        {
          name: 'BodySizeLimit',
          priority: 20,
          action: { block: {} },
          statement: {
            sizeConstraintStatement: {
              fieldToMatch: { body: { oversizeHandling: 'MATCH' } },
              comparisonOperator: 'GT',
              size: props.maxBodyBytes,
              textTransformations: [{ priority: 0, type: 'NONE' }],
            },
          },
          visibilityConfig: visibility(`${name}-body-size`),
        },
      ],
    });

    this.association = new wafv2.CfnWebACLAssociation(this, 'Association', {
      resourceArn: props.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    // WAF requires log group names that start with aws-waf-logs-.
    this.logGroup = new EncryptedLogGroup(this, 'Logs', {
      logGroupName: `aws-waf-logs-strongroom-${props.stage}`,
      logClass: 'security',
      encryptionKey: props.logKey,
    });
    const logGroupArn = Stack.of(this).formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: `aws-waf-logs-strongroom-${props.stage}`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    const logging = new wafv2.CfnLoggingConfiguration(this, 'Logging', {
      resourceArn: this.webAcl.attrArn,
      logDestinationConfigs: [logGroupArn],
      // Tokens and API keys never reach a log (SEC-1).
      redactedFields: [{ singleHeader: { Name: 'authorization' } }, { singleHeader: { Name: 'cookie' } }],
    });
    logging.node.addDependency(this.logGroup);
  }
}
