import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { TenantSessions } from '#shared/store/tenant-sessions';

const roleArn = 'arn:aws:iam::111122223333:role/strongroom-dev-TenantAccessRole';
const sts = mockClient(STSClient);

afterEach(() => sts.reset());

function credentials(expiresAt: number) {
  return {
    Credentials: {
      AccessKeyId: `AKIA${expiresAt}`,
      SecretAccessKey: 'secret',
      SessionToken: 'token',
      Expiration: new Date(expiresAt),
    },
  };
}

describe('[AZ-3] tenant sessions (AWS SDK mocked: STS is an AWS-only path)', () => {
  it('assumes the tenant access role with the tenant as the only session tag', async () => {
    sts.on(AssumeRoleCommand).resolves(credentials(3_600_000));
    const sessions = new TenantSessions(new STSClient({}), roleArn, { now: () => 0 });
    await sessions.credentials('t1');
    expect(sts.commandCalls(AssumeRoleCommand)[0]?.args[0].input).toEqual({
      RoleArn: roleArn,
      RoleSessionName: 'tenant-t1',
      DurationSeconds: 3600,
      Tags: [{ Key: 'tenantId', Value: 't1' }],
    });
  });

  it('caches per tenant, shares one call between concurrent requests and renews before expiry', async () => {
    let clock = 0;
    sts.on(AssumeRoleCommand).callsFake(() => credentials(clock + 3_600_000));
    const sessions = new TenantSessions(new STSClient({}), roleArn, { now: () => clock });
    const [a, b] = await Promise.all([sessions.credentials('t1'), sessions.credentials('t1')]);
    expect(a).toBe(b);
    await sessions.credentials('t10');
    expect(sts.commandCalls(AssumeRoleCommand).map((call) => call.args[0].input.Tags?.[0]?.Value)).toEqual([
      't1',
      't10',
    ]);
    clock = 3_600_000 - 5 * 60_000 - 1;
    expect(await sessions.credentials('t1')).toBe(a);
    clock += 2;
    expect(await sessions.credentials('t1')).not.toBe(a);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(3);
  });

  it('does not cache a failed AssumeRole, and refuses tenant ids that could widen the prefix', async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(new Error('throttled')).resolves(credentials(3_600_000));
    const sessions = new TenantSessions(new STSClient({}), roleArn, { now: () => 0 });
    await expect(sessions.credentials('t1')).rejects.toThrow('throttled');
    await expect(sessions.credentials('t1')).resolves.toMatchObject({ sessionToken: 'token' });
    expect(() => sessions.provider('t1#')).toThrow();
    expect(() => sessions.provider('')).toThrow();
    expect(() => new TenantSessions(new STSClient({}), 'not-an-arn')).toThrow();
  });
});
