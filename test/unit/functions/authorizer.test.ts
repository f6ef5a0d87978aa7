/**
 * The authorizer's decisions with a stand-in verifier and member directory; the real
 * Cognito tokens and members table are exercised by the integration tests.
 */
import type { APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AuthorizerDependencies } from '#functions/authorizer/handler';
import type { Member } from '#shared/store/members';
import { identityIdOf } from '#shared/store/members';

let createAuthorizerHandler: typeof import('#functions/authorizer/handler').createAuthorizerHandler;

beforeAll(async () => {
  Object.assign(process.env, {
    STRONGROOM_MODE: 'local',
    STRONGROOM_STAGE: 'unit',
    AWS_REGION: 'eu-central-1',
    DYNAMODB_ENDPOINT: 'http://127.0.0.1:9',
    STRONGROOM_DATA_DIR: '/nonexistent',
    COGNITO_USER_POOL_ID: 'eu-central-1_unittest',
    COGNITO_CLIENT_ID: 'unittestclient',
    STRONGROOM_LOG_LEVEL: 'SILENT',
  });
  ({ createAuthorizerHandler } = await import('#functions/authorizer/handler'));
});

const issuer = 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_unittest';
const token = 'aaa.bbb.ccc';
const methodArn = 'arn:aws:execute-api:eu-central-1:111111111111:api/prod/GET/invoices';

function member(tenantId: string, status: Member['status'] = 'active'): Member {
  return {
    tenantId,
    identityId: identityIdOf(issuer, 'alice'),
    issuer,
    subject: 'alice',
    roles: ['accountant'],
    status,
    createdAt: '2026-01-01T00:00:00Z',
  };
}

function setup(
  memberships: () => Member[],
  verify: (token: string) => Promise<{ iss: string; sub: string }>,
) {
  let clock = 1_000_000;
  let lookups = 0;
  const deps: AuthorizerDependencies = {
    verifier: { verify },
    clients: { platform: () => ({}) as never },
    members: {
      findByIdentity: async () => {
        lookups++;
        return memberships();
      },
    },
    now: () => clock,
  };
  return {
    authorize: createAuthorizerHandler(deps),
    advance: (ms: number) => {
      clock += ms;
    },
    lookups: () => lookups,
  };
}

function event(headers: Record<string, string>): APIGatewayRequestAuthorizerEvent {
  return { type: 'REQUEST', methodArn, headers } as unknown as APIGatewayRequestAuthorizerEvent;
}

const validToken = async () => ({ iss: issuer, sub: 'alice' });

describe('[AUTH-6] the authorizer', () => {
  it('refuses a missing or malformed Authorization header with Unauthorized', async () => {
    const { authorize } = setup(() => [member('t1')], validToken);
    await expect(authorize(event({}))).rejects.toThrow('Unauthorized');
    await expect(authorize(event({ Authorization: 'Basic abc' }))).rejects.toThrow('Unauthorized');
  });

  it('refuses a token the verifier rejects with Unauthorized', async () => {
    const { authorize } = setup(
      () => [member('t1')],
      async () => {
        throw new Error('bad signature');
      },
    );
    await expect(authorize(event({ Authorization: `Bearer ${token}` }))).rejects.toThrow('Unauthorized');
  });

  it('takes tenant and roles from the members table, not the token', async () => {
    const { authorize } = setup(() => [member('t1')], validToken);
    const result = await authorize(event({ authorization: `Bearer ${token}` }));
    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow', Resource: methodArn });
    expect(result.context).toEqual({
      kind: 'user',
      actorId: identityIdOf(issuer, 'alice'),
      tenantId: 't1',
      roles: 'accountant',
    });
  });

  it('denies a person of several tenants unless the request names one of theirs', async () => {
    const { authorize } = setup(() => [member('t1'), member('t2')], validToken);
    const unnamed = await authorize(event({ authorization: `Bearer ${token}` }));
    expect(unnamed.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    const named = await authorize(event({ authorization: `Bearer ${token}`, 'x-strongroom-tenant': 't2' }));
    expect(named.context?.tenantId).toBe('t2');
    const foreign = await authorize(event({ authorization: `Bearer ${token}`, 'x-strongroom-tenant': 't3' }));
    expect(foreign.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
  });

  it('caches memberships for at most 60 seconds, so a removal takes effect within a minute', async () => {
    let status: Member['status'] = 'active';
    const { authorize, advance, lookups } = setup(() => [member('t1', status)], validToken);
    const call = () => authorize(event({ authorization: `Bearer ${token}` }));
    expect((await call()).policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    status = 'removed';
    advance(59_000);
    expect((await call()).policyDocument.Statement[0]).toMatchObject({ Effect: 'Allow' });
    expect(lookups()).toBe(1);
    advance(1_001);
    expect((await call()).policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
    expect(lookups()).toBe(2);
  });
});

describe('[AZ-1][AZ-5] roles the authorizer honours, whatever the members table says', () => {
  it('honours person roles in customer tenants and only the operator role in the platform tenant', async () => {
    const { memberRoles } = await import('#functions/authorizer/handler');
    expect(
      memberRoles({ tenantId: 't1', roles: ['accountant', 'operator', 'integration', 'agent', 'root'] }),
    ).toEqual(['accountant']);
    expect(memberRoles({ tenantId: 'platform', roles: ['operator', 'owner'] })).toEqual(['operator']);
  });

  it('gives a customer-tenant member holding a stray operator role no platform permission', async () => {
    const stray = { ...member('t1'), roles: ['auditor', 'operator'] };
    const { authorize } = setup(() => [stray], validToken);
    const result = await authorize(event({ authorization: `Bearer ${token}` }));
    expect(result.context?.roles).toBe('auditor');
    // And naming another tenant makes it no operator either.
    const elsewhere = await authorize(
      event({ authorization: `Bearer ${token}`, 'x-strongroom-tenant': 't2' }),
    );
    expect(elsewhere.policyDocument.Statement[0]).toMatchObject({ Effect: 'Deny' });
  });
});
