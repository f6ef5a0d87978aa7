import { Stack } from 'aws-cdk-lib';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

export interface IncidentTopicProps {
  /** Stage that owns the topic; part of its name (INF-5). */
  readonly stage: string;
  /** Customer-managed key of the topic (ENC-2); its policy must let CloudWatch alarms use it. */
  readonly encryptionKey: kms.IKey;
  /**
   * Email addresses subscribed to the topic (each confirms its subscription).
   * @default - none: subscribe the on-call channel by hand
   */
  readonly emails?: readonly string[];
}

/**
 * The incident topic of a stage (INC-1): every security alarm notifies it. Encrypted with
 * a customer-managed key, TLS-only, and only CloudWatch alarms of this account and region
 * may publish besides the account's own principals.
 */
export class IncidentTopic extends Construct {
  readonly topic: sns.Topic;
  readonly #action: actions.SnsAction;

  constructor(scope: Construct, id: string, props: IncidentTopicProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`incident topic stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    for (const email of props.emails ?? []) {
      if (!/^[^@\s]+@[^@\s]+$/.test(email)) {
        throw new Error(`incident topic subscriber must be an email address, got ${JSON.stringify(email)}`);
      }
    }
    const { account, region, partition } = Stack.of(this);
    this.topic = new sns.Topic(this, 'Topic', {
      topicName: `strongroom-${props.stage}-incidents`,
      displayName: `Strongroom ${props.stage} security incidents`,
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, so CloudWatch alarms are allowed by name.
    this.topic.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarmsOfThisAccountAndRegion',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          StringEquals: { 'aws:SourceAccount': account },
          ArnLike: { 'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${account}:alarm:*` },
        },
      }),
    );
    for (const email of props.emails ?? [])
      this.topic.addSubscription(new subscriptions.EmailSubscription(email));
    this.#action = new actions.SnsAction(this.topic);
  }

  /** Sends the alarm's ALARM transitions to the topic. */
  notify(...alarms: readonly cloudwatch.Alarm[]): void {
    for (const alarm of alarms) alarm.addAlarmAction(this.#action);
  }
}
