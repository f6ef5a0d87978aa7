/**
 * Regression test for a defect the concurrency scenario (scenarios/concurrency.ts) found,
 * named after the invariant it protects (API-3): writers racing with one ETag get one
 * winner and, for the others, the answer of any stale If-Match, 412 (never a lost update,
 * never a 409 that a client cannot tell from "already exists").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStack } from '#test/integration/support/local-stack';
import { type AttackEnv, type AttackTenant, createAttackTenant, startAttackEnv } from './support/env';
import { RawConnection } from './support/raw-http';

let env: AttackEnv;
let tenant: AttackTenant;

beforeAll(async () => {
  env = await startAttackEnv(localStack());
  tenant = await createAttackTenant(env, 'if-match');
});

afterAll(async () => {
  await env?.close();
});

describe('[API-3] writers racing with one ETag', () => {
  it('change a member once; the other writers get 412 precondition-failed', async () => {
    const member = await tenant.world.member(true);
    const connections = Array.from({ length: 6 }, () => new RawConnection(env.endpoint));
    const replies = await Promise.all(
      connections.map((connection, index) =>
        connection.send({
          method: 'PATCH',
          target: `/members/${member.id}`,
          headers: [
            ['authorization', `Bearer ${tenant.owner.token}`],
            ['content-type', 'application/json'],
            ['if-match', `"v${member.version}"`],
          ],
          body: JSON.stringify({ roles: [index % 2 === 0 ? 'auditor' : 'approver'] }),
        }),
      ),
    );
    for (const connection of connections) connection.close();
    const statuses = replies.map((reply) => reply.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(1);
    for (const reply of replies.filter((each) => each.status !== 200)) {
      // 503 contention is the store's own answer when transactions collide: retry later.
      expect([412, 503]).toContain(reply.status);
      if (reply.status === 412)
        expect(JSON.parse(reply.body.toString('utf8'))).toMatchObject({ code: 'precondition-failed' });
    }
  });
});
