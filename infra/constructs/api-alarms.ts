import { Duration } from 'aws-cdk-lib';
import type * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { apiMetrics, metricNamespace } from '#shared/observability/metrics';
import type { IncidentTopic } from './incident-topic';

export interface ApiAlarmsProps {
  /** Stage that owns the API. */
  readonly stage: string;
  /** The REST API whose stage metrics are watched. */
  readonly restApi: apigw.RestApi;
  /** The API's JSON access log group (one line per request, with `status`). */
  readonly accessLogGroup: logs.ILogGroup;
  /** Where the alarms go (INC-1). */
  readonly incidents: IncidentTopic;
  /**
   * 5xx answers in five minutes that raise an alarm.
   * @default 5
   */
  readonly serverErrorThreshold?: number;
  /**
   * 403 answers in five minutes that count as a spike of authorization denials.
   * @default 50
   */
  readonly denialThreshold?: number;
  /**
   * 401 answers in five minutes that count as a spike of authentication failures.
   * @default 200
   */
  readonly authenticationFailureThreshold?: number;
}

/**
 * Security alarms of the API (AUD-5, INC-1), each notifying the incident topic: server
 * errors (API Gateway 5XXError), and spikes of authorization denials (403) and
 * authentication failures (401). The last two come from metric filters on the access log,
 * which sees every answer, the gateway's own (authorizer denials) and the handlers'.
 */
export class ApiAlarms extends Construct {
  readonly serverErrors: cloudwatch.Alarm;
  readonly authorizationDenials: cloudwatch.Alarm;
  readonly authenticationFailures: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ApiAlarmsProps) {
    super(scope, id);
    const thresholds = {
      serverErrorThreshold: props.serverErrorThreshold ?? 5,
      denialThreshold: props.denialThreshold ?? 50,
      authenticationFailureThreshold: props.authenticationFailureThreshold ?? 200,
    };
    for (const [name, value] of Object.entries(thresholds)) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`api alarms ${name} must be a positive integer, got ${JSON.stringify(value)}`);
      }
    }
    const { stage } = props;
    const period = Duration.minutes(5);
    const spike = (threshold: number) => ({
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    this.serverErrors = props.restApi
      .metricServerError({ period, statistic: cloudwatch.Stats.SUM })
      .createAlarm(this, 'ServerErrors', {
        ...spike(thresholds.serverErrorThreshold),
        alarmName: `strongroom-${stage}-api-5xx`,
        alarmDescription: 'AUD-5: the API answers with server errors (5xx).',
      });

    // The access log's `status` is a JSON string (shared format in strongroom-api.ts).
    const countStatus = (filterId: string, metricName: string, status: string): cloudwatch.Metric => {
      const filter = new logs.MetricFilter(this, filterId, {
        logGroup: props.accessLogGroup,
        filterPattern: logs.FilterPattern.stringValue('$.status', '=', status),
        metricNamespace: metricNamespace(stage),
        metricName,
        metricValue: '1',
        unit: cloudwatch.Unit.COUNT,
      });
      return filter.metric({ period, statistic: cloudwatch.Stats.SUM });
    };
    this.authorizationDenials = countStatus(
      'DenialsFilter',
      apiMetrics.authorizationDenials,
      '403',
    ).createAlarm(this, 'AuthorizationDenials', {
      ...spike(thresholds.denialThreshold),
      alarmName: `strongroom-${stage}-api-authorization-denials`,
      alarmDescription:
        'AUD-5: a spike of authorization denials (403): probing across permissions or tenants.',
    });
    this.authenticationFailures = countStatus(
      'AuthenticationFailuresFilter',
      apiMetrics.authenticationFailures,
      '401',
    ).createAlarm(this, 'AuthenticationFailures', {
      ...spike(thresholds.authenticationFailureThreshold),
      alarmName: `strongroom-${stage}-api-authentication-failures`,
      alarmDescription:
        'AUD-5: a spike of authentication failures (401): credential stuffing or a leaked key.',
    });
    props.incidents.notify(this.serverErrors, this.authorizationDenials, this.authenticationFailures);
  }
}
