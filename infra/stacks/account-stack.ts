import { Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { ApiGatewayLoggingRole } from '../constructs/api-gateway-logging-role';

export type AccountStackProps = StackProps;

/**
 * Settings that exist once per account and region and that every stage needs: API Gateway's
 * CloudWatch Logs role. Kept out of the stage stacks so that dev and prod never fight over it.
 */
export class AccountStack extends Stack {
  readonly apiGatewayLogging: ApiGatewayLoggingRole;

  constructor(scope: Construct, id: string, props: AccountStackProps) {
    super(scope, id, props);
    this.apiGatewayLogging = new ApiGatewayLoggingRole(this, 'ApiGatewayLogging');
  }
}
