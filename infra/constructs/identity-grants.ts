import type * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import type { RouteGroup } from '#shared/http/routes';
import type { ApiKeyPepper } from './api-key-pepper';
import type { DataTables } from './data-tables';

/**
 * Attributes the authorizer may write on the members table: an API key's last-used time and
 * the counters of failed attempts (with their expiry). Key attributes are part of every
 * UpdateItem's attribute set.
 */
export const authorizerWritableAttributes = ['pk', 'sk', 'lastUsedAt', 'failures', 'ttl'] as const;

/** Cognito admin calls of invitations and onboarding: find a user by email, or create and invite one. */
export const invitationActions = ['cognito-idp:AdminGetUser', 'cognito-idp:AdminCreateUser'] as const;

export interface IdentityGrantsProps {
  readonly dataTables: DataTables;
  /** The REQUEST authorizer's execution role. */
  readonly authorizer: iam.IGrantable;
  /** Execution roles of the route groups. */
  readonly routeRoles: Readonly<Partial<Record<RouteGroup, iam.IGrantable>>>;
  readonly pepper: ApiKeyPepper;
  readonly userPool: cognito.IUserPool;
}

/**
 * What identity and access need beyond the route groups' tables (INF-2, least privilege):
 *
 * - the authorizer, a cross-tenant job with a role of its own: the API-key pepper; the
 *   tenant audit logs it writes to (support-grant access, counted windows of failed key
 *   attempts: put, get and query on entries, the head to fold); and on the members table,
 *   beyond its reads, UpdateItem of nothing but last-used time and failure counters;
 * - the API-key routes: the pepper, to hash new secrets;
 * - invitations (members) and onboarding (tenants): AdminGetUser and AdminCreateUser on
 *   the stage's user pool only.
 */
export class IdentityGrants extends Construct {
  /** Route groups that hash API-key secrets. */
  static readonly pepperReaderGroups: readonly RouteGroup[] = ['api-keys'];
  /** Route groups that invite people through the user pool. */
  static readonly invitingGroups: readonly RouteGroup[] = ['members', 'tenants'];

  constructor(scope: Construct, id: string, props: IdentityGrantsProps) {
    super(scope, id);
    const { dataTables, authorizer } = props;

    props.pepper.grantRead(authorizer);
    dataTables.grantItemReadWrite(authorizer, 'audit');
    dataTables.grantItemReadWrite(authorizer, 'auditHead');
    iam.Grant.addToPrincipal({
      grantee: authorizer,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: dataTables.resourceArns('members', []),
      conditions: {
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...authorizerWritableAttributes] },
        StringEqualsIfExists: { 'dynamodb:ReturnValues': ['NONE', 'UPDATED_NEW'] },
      },
    });
    dataTables.grantTableKey(authorizer, 'write');

    for (const group of IdentityGrants.pepperReaderGroups) {
      const role = props.routeRoles[group];
      if (role) props.pepper.grantRead(role);
    }
    for (const group of IdentityGrants.invitingGroups) {
      const role = props.routeRoles[group];
      if (role) props.userPool.grant(role, ...invitationActions);
    }
  }
}
