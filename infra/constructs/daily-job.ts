import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type { Construct } from 'constructs';
import type { IncidentTopic } from './incident-topic';
import type { RouteFunction } from './route-function';

/** How a once-a-day job (tenant purge, retention) is started and watched. */
export interface DailyJobSchedule {
  /** The EventBridge rule's name. */
  readonly ruleName: string;
  /** The rule's description. */
  readonly description: string;
  /** When the job runs. */
  readonly schedule: events.Schedule;
  /** The failure alarm's name. */
  readonly alarmName: string;
  /** What a failure means and where to look (the alarm's description, INC-1). */
  readonly alarmDescription: string;
  /** Where the failure alarm goes (INC-1). */
  readonly incidents: IncidentTopic;
}

/**
 * Starts `job` from an EventBridge rule (`Schedule` in `scope`) and raises `Failed` in `scope`
 * on any failed run of the day, to the incident topic. A run is retried twice within six
 * hours: the daily jobs are safe to run again, and tomorrow's run picks up what failed.
 */
export function scheduleDailyJob(
  scope: Construct,
  job: RouteFunction,
  options: DailyJobSchedule,
): { readonly rule: events.Rule; readonly failureAlarm: cloudwatch.Alarm } {
  const rule = new events.Rule(scope, 'Schedule', {
    ruleName: options.ruleName,
    description: options.description,
    schedule: options.schedule,
    targets: [new targets.LambdaFunction(job.function, { maxEventAge: Duration.hours(6), retryAttempts: 2 })],
  });
  const failureAlarm = job.function
    .metricErrors({ period: Duration.days(1), statistic: cloudwatch.Stats.SUM })
    .createAlarm(scope, 'Failed', {
      alarmName: options.alarmName,
      alarmDescription: options.alarmDescription,
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  options.incidents.notify(failureAlarm);
  return { rule, failureAlarm };
}
