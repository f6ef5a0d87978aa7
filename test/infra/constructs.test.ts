/**
 * Construct variants and prop validation, on small stacks of their own: no functions,
 * so no bundling, and nothing here synthesizes the app.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import { describe, expect, it } from 'vitest';
import { ApiFirewall } from '#infra/constructs/api-firewall';
import { AuditArchiveBucket } from '#infra/constructs/audit-archive-bucket';
import { AuditArchiveReplica } from '#infra/constructs/audit-archive-replica';
import { DataTables } from '#infra/constructs/data-tables';
import { EncryptedLogGroup } from '#infra/constructs/encrypted-log-group';
import { StrongroomKey } from '#infra/constructs/strongroom-key';
import { UserDirectory } from '#infra/constructs/user-directory';

const env = { account: '111122223333', region: 'eu-central-1' };
const newStack = (): Stack => new Stack(new App(), 'test', { env });

describe('[AUTH-3] MFA factors', () => {
  it('offers email OTP next to TOTP only when an SES sender is configured', () => {
    const withoutSes = newStack();
    new UserDirectory(withoutSes, 'Users', { stage: 'dev' });
    Template.fromStack(withoutSes).hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
    });

    const withSes = newStack();
    new UserDirectory(withSes, 'Users', { stage: 'dev', sesFromEmail: 'no-reply@strongroom.example' });
    Template.fromStack(withSes).hasResourceProperties('AWS::Cognito::UserPool', {
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA', 'EMAIL_OTP'],
      EmailConfiguration: { EmailSendingAccount: 'DEVELOPER', From: 'no-reply@strongroom.example' },
    });
  });
});

describe('prop validation names the bad value', () => {
  it.each([
    [
      'a key without a user',
      () => new StrongroomKey(newStack(), 'Key', { stage: 'dev', purpose: 'spare' }),
      /"spare" has no user/,
    ],
    [
      'a key purpose with capitals',
      () =>
        new StrongroomKey(newStack(), 'Key', { stage: 'dev', purpose: 'Tables', viaServices: ['dynamodb'] }),
      /purpose must match .*got "Tables"/,
    ],
    [
      'a via-service that is not an endpoint prefix',
      () =>
        new StrongroomKey(newStack(), 'Key', {
          stage: 'dev',
          purpose: 'tables',
          viaServices: ['dynamodb.amazonaws.com'],
        }),
      /via-service must be an endpoint prefix, got "dynamodb.amazonaws.com"/,
    ],
    [
      'a log group name with spaces',
      () => {
        const stack = newStack();
        const key = new kms.Key(stack, 'Key');
        return new EncryptedLogGroup(stack, 'Logs', {
          logGroupName: 'my logs',
          logClass: 'access',
          encryptionKey: key,
        });
      },
      /log group name must match .*got "my logs"/,
    ],
    [
      'a WAF rate limit below 10',
      () => {
        const stack = newStack();
        const key = new kms.Key(stack, 'Key');
        return new ApiFirewall(stack, 'Firewall', {
          stage: 'dev',
          stageArn: 'arn:aws:apigateway:eu-central-1::/restapis/abc/stages/dev',
          rateLimitPerIp: 5,
          maxBodyBytes: 1024,
          logKey: key,
        });
      },
      /rate limit must be 10 to 2000000000, got 5/,
    ],
    [
      'a body limit beyond what WAF can inspect',
      () => {
        const stack = newStack();
        const key = new kms.Key(stack, 'Key');
        return new ApiFirewall(stack, 'Firewall', {
          stage: 'dev',
          stageArn: 'arn:aws:apigateway:eu-central-1::/restapis/abc/stages/dev',
          rateLimitPerIp: 100,
          maxBodyBytes: 1_000_000,
          logKey: key,
        });
      },
      /max body must be 1 to 65536 bytes, got 1000000/,
    ],
    [
      'an index the table does not declare',
      () => {
        const stack = newStack();
        const tables = new DataTables(stack, 'Tables', {
          stage: 'dev',
          encryptionKey: new kms.Key(stack, 'Key'),
        });
        return tables.resourceArns('members', ['byEmail']);
      },
      /table members has no index "byEmail"/,
    ],
    [
      'a stage name with an underscore',
      () => new UserDirectory(newStack(), 'Users', { stage: 'dev_1' }),
      /got "dev_1"/,
    ],
    [
      'an audit archive replicated into its own region',
      () => {
        const stack = newStack();
        return new AuditArchiveBucket(stack, 'Archive', {
          stage: 'dev',
          retentionDays: 1,
          encryptionKey: new kms.Key(stack, 'Key'),
          replicaRegion: 'eu-central-1',
        });
      },
      /audit archive replica region must differ from the archive's, got "eu-central-1"/,
    ],
    [
      'an audit archive replica locked for no day',
      () => new AuditArchiveReplica(newStack(), 'Replica', { stage: 'dev', retentionDays: 0 }),
      /audit archive replica retention must be 1 to 36500 days, got 0/,
    ],
  ])('refuses %s', (_what, build, message) => {
    expect(build).toThrow(message);
  });
});
