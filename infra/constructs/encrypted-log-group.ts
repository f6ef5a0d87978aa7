import { RemovalPolicy, Token } from 'aws-cdk-lib';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/** Log classes of LOG-2, each with its own retention. */
export type LogClass = 'application' | 'access' | 'security';

/** LOG-2: application logs 6 months, access logs 12 months, security logs 36 months. */
export const logRetention: Readonly<Record<LogClass, logs.RetentionDays>> = {
  application: logs.RetentionDays.SIX_MONTHS,
  access: logs.RetentionDays.ONE_YEAR,
  security: logs.RetentionDays.THREE_YEARS,
};

export interface EncryptedLogGroupProps {
  /** Physical log group name; fixed so that services writing by name find it. */
  readonly logGroupName: string;
  /** Retention class of the logs (LOG-2). */
  readonly logClass: LogClass;
  /** Customer-managed key that CloudWatch Logs may use for this account (ENC-2). */
  readonly encryptionKey: kms.IKey;
}

/** A log group encrypted under a customer-managed key, with retention by class, kept on stack deletion. */
export class EncryptedLogGroup extends Construct {
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    // A name may embed a token (an API id); only literal names can be checked here.
    if (!Token.isUnresolved(props.logGroupName) && !/^[\w#/.-]{1,512}$/.test(props.logGroupName)) {
      throw new Error(
        `log group name must match [\\w#/.-]{1,512}, got ${JSON.stringify(props.logGroupName)}`,
      );
    }
    if (!(props.logClass in logRetention)) {
      throw new Error(
        `log class must be application, access or security, got ${JSON.stringify(props.logClass)}`,
      );
    }
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      logGroupName: props.logGroupName,
      encryptionKey: props.encryptionKey,
      retention: logRetention[props.logClass],
      // Logs are evidence: they outlive the stack and expire only by retention.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}
