/** Members routes: a thin middy handler over the members service (AZ-1, AUTH-6). */
import { loadRuntimeConfig } from '#shared/config/runtime';
import { signedInPrincipal } from '#shared/http/request';
import { createRouteGroupHandler } from '#shared/http/route-handler';
import type { InviteMemberBody, UpdateMemberBody } from '#shared/http/schemas/members';
import { createIdentityContext } from '#shared/services/identity-context';
import {
  getMember,
  inviteMember,
  listMembers,
  memberEtag,
  memberView,
  removeMember,
  updateMember,
} from '#shared/services/members';
import type { StoredResponse } from '#shared/store/idempotency';
import type { Member } from '#shared/store/members';

const context = createIdentityContext(loadRuntimeConfig());

function memberResponse(statusCode: number, member: Member, auditEntryId: string): StoredResponse {
  return {
    statusCode,
    headers: {
      'Content-Type': 'application/json',
      ETag: memberEtag(member),
      Location: `/members/${member.identityId}`,
    },
    body: JSON.stringify({ ...memberView(member), auditEntryId }),
  };
}

const fromStored = (stored: StoredResponse) => ({
  status: stored.statusCode,
  text: stored.body,
  headers: stored.headers,
});

export const handler = createRouteGroupHandler('members', {
  listMembers: async (request) => {
    const { limit, cursor } = request.query as { limit?: number; cursor?: string };
    const page = await listMembers(context, signedInPrincipal(request), limit ?? 50, cursor);
    return {
      body: {
        items: page.items.map(memberView),
        ...(page.nextCursor === undefined ? {} : { nextCursor: page.nextCursor }),
      },
    };
  },

  getMember: async (request) => {
    const { id } = request.params as { id: string };
    const member = await getMember(context, signedInPrincipal(request), id);
    return { body: memberView(member), headers: { ETag: memberEtag(member) } };
  },

  inviteMember: async (request) =>
    fromStored(
      await inviteMember(context, {
        principal: signedInPrincipal(request),
        body: request.body as InviteMemberBody,
        requestId: request.requestId,
        idempotencyKey: request.idempotencyKey,
        respond: (member, auditEntryId) => memberResponse(201, member, auditEntryId),
      }),
    ),

  updateMember: async (request) => {
    const { id } = request.params as { id: string };
    return fromStored(
      await updateMember(context, {
        principal: signedInPrincipal(request),
        id,
        body: request.body as UpdateMemberBody,
        ifMatch: request.headers['if-match'],
        requestId: request.requestId,
        idempotencyKey: request.idempotencyKey,
        respond: (member, auditEntryId) => memberResponse(200, member, auditEntryId),
      }),
    );
  },

  removeMember: async (request) => {
    const { id } = request.params as { id: string };
    const stored = await removeMember(context, {
      principal: signedInPrincipal(request),
      id,
      requestId: request.requestId,
      idempotencyKey: request.idempotencyKey,
    });
    return { status: stored.statusCode, headers: stored.headers };
  },
});
