import { Stack } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as guardduty from 'aws-cdk-lib/aws-guardduty';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as securityhub from 'aws-cdk-lib/aws-securityhub';
import { Construct } from 'constructs';
import { IncidentTopic } from './incident-topic';
import { StrongroomKey } from './strongroom-key';

/** The AWS Foundational Security Best Practices standard, as Security Hub names it in a region. */
export function foundationalStandardArn(partition: string, region: string): string {
  return `arn:${partition}:securityhub:${region}::standards/aws-foundational-security-best-practices/v/1.0.0`;
}

/** GuardDuty severities from this value up are high or critical. */
export const highSeverity = 7;

export interface ThreatDetectionProps {
  /**
   * Name part of the topic and key alias: `account` in the primary region, `account-<region>` elsewhere.
   */
  readonly scope: string;
  /**
   * Email addresses subscribed to the findings topic (each confirms its subscription).
   * @default - none: subscribe the on-call channel by hand
   */
  readonly incidentEmails?: readonly string[];
}

/**
 * Threat detection of one region (INF-6): a GuardDuty detector (with S3 data-event and Lambda
 * network-activity protection), Security Hub with the AWS Foundational Security Best
 * Practices standard and consolidated control findings, and an EventBridge rule that sends
 * high and critical findings of both to an encrypted incident topic (INC-1, AUD-5).
 */
export class ThreatDetection extends Construct {
  readonly detector: guardduty.CfnDetector;
  readonly hub: securityhub.CfnHub;
  readonly foundationalStandard: securityhub.CfnStandard;
  readonly findingsKey: StrongroomKey;
  readonly incidents: IncidentTopic;
  readonly findingsRule: events.Rule;

  constructor(scope: Construct, id: string, props: ThreatDetectionProps) {
    super(scope, id);
    const { partition, region, account } = Stack.of(this);

    this.detector = new guardduty.CfnDetector(this, 'Detector', {
      enable: true,
      findingPublishingFrequency: 'FIFTEEN_MINUTES',
      features: [
        { name: 'S3_DATA_EVENTS', status: 'ENABLED' },
        { name: 'LAMBDA_NETWORK_LOGS', status: 'ENABLED' },
      ],
    });

    this.hub = new securityhub.CfnHub(this, 'SecurityHub', {
      // Standards are chosen here, not by Security Hub's defaults.
      enableDefaultStandards: false,
      controlFindingGenerator: 'SECURITY_CONTROL',
      autoEnableControls: true,
    });
    this.foundationalStandard = new securityhub.CfnStandard(this, 'FoundationalBestPractices', {
      standardsArn: foundationalStandardArn(partition, region),
    });
    this.foundationalStandard.addResourceDependency(this.hub);

    this.findingsKey = new StrongroomKey(this, 'FindingsKey', {
      stage: props.scope,
      purpose: 'security-findings',
      viaServices: ['sns'],
    });
    this.incidents = new IncidentTopic(this, 'Incidents', {
      stage: props.scope,
      encryptionKey: this.findingsKey.key,
      emails: props.incidentEmails ?? [],
    });

    this.findingsRule = new events.Rule(this, 'HighSeverityFindings', {
      description: 'High and critical GuardDuty and Security Hub findings to the incident topic',
      eventPattern: {
        source: ['aws.guardduty', 'aws.securityhub'],
        detailType: ['GuardDuty Finding', 'Security Hub Findings - Imported'],
        // GuardDuty: detail.severity is a number; Security Hub: detail.findings[].Severity.Label.
        // EventBridge ORs the alternatives given through $or.
        detail: {
          $or: [
            { severity: [{ numeric: ['>=', highSeverity] }] },
            {
              findings: {
                Severity: { Label: ['HIGH', 'CRITICAL'] },
                Workflow: { Status: ['NEW'] },
                RecordState: ['ACTIVE'],
              },
            },
          ],
        },
      },
    });
    this.findingsRule.addTarget({ bind: () => ({ arn: this.incidents.topic.topicArn }) });
    // Only this rule may publish as EventBridge, and EventBridge may use the key for this topic only.
    this.incidents.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'HighSeverityFindingsRule',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.incidents.topic.topicArn],
        conditions: { ArnEquals: { 'aws:SourceArn': this.findingsRule.ruleArn } },
      }),
    );
    this.findingsKey.key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'EventBridgePublishesFindings',
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:events:${region}:${account}:rule/*` },
        },
      }),
    );
  }
}
