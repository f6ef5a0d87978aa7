import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface ApiGatewayLoggingRoleProps {
  /**
   * Log group name prefixes API Gateway may write to (access logs of every stage).
   * @default ['/strongroom/']
   */
  readonly accessLogPrefixes?: readonly string[];
}

/**
 * API Gateway's account-wide CloudWatch Logs role for this region, needed for access and
 * execution logs. It is one setting per account and region, so it lives in one stack that
 * every stage depends on. The role may write only to API Gateway's execution log groups and
 * to the named access log prefixes, instead of AWS's managed policy that reaches every group.
 */
export class ApiGatewayLoggingRole extends Construct {
  readonly role: iam.Role;
  readonly account: apigw.CfnAccount;

  constructor(scope: Construct, id: string, props: ApiGatewayLoggingRoleProps = {}) {
    super(scope, id);
    const prefixes = props.accessLogPrefixes ?? ['/strongroom/'];
    if (prefixes.length === 0)
      throw new Error('api gateway logging role needs an access log prefix, got none');
    for (const prefix of prefixes) {
      if (!/^\/[\w/.-]*\/$/.test(prefix)) {
        throw new Error(`access log prefix must start and end with a slash, got ${JSON.stringify(prefix)}`);
      }
    }
    const stack = Stack.of(this);
    const logGroupArn = (name: string): string =>
      stack.formatArn({
        service: 'logs',
        resource: 'log-group',
        resourceName: name,
        arnFormat: ArnFormat.COLON_RESOURCE_NAME,
      });
    const groups = [
      logGroupArn('API-Gateway-Execution-Logs_*'),
      ...prefixes.map((prefix) => logGroupArn(`${prefix}*`)),
    ];

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      description: 'API Gateway writes access and execution logs of Strongroom stages',
      inlinePolicies: {
        WriteApiLogs: new iam.PolicyDocument({
          statements: [
            new iam.PolicyStatement({
              sid: 'WriteStrongroomApiLogGroups',
              actions: [
                'logs:CreateLogGroup',
                'logs:CreateLogStream',
                'logs:DescribeLogStreams',
                'logs:PutLogEvents',
              ],
              // A trailing `*` in a log group ARN also covers that group's log streams.
              resources: groups,
            }),
            new iam.PolicyStatement({
              sid: 'FindLogGroups',
              actions: ['logs:DescribeLogGroups'],
              resources: [logGroupArn('*')],
            }),
          ],
        }),
      },
    });
    // Stages keep logging while a replacement rolls out; the role outlives the stack.
    this.role.applyRemovalPolicy(RemovalPolicy.RETAIN);

    this.account = new apigw.CfnAccount(this, 'Account', { cloudWatchRoleArn: this.role.roleArn });
  }
}
