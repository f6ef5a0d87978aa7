import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { tableIds } from '#shared/store/tables';
import { appendOnlyActions, type DataTables, itemReadActions, itemWriteActions } from './data-tables';

/** The session tag that carries the tenant id (AZ-3). */
export const tenantSessionTag = 'tenantId';

/** Every partition key a tenant session touches must start with its own tenant id and `#`. */
export const tenantLeadingKeys = `\${aws:PrincipalTag/${tenantSessionTag}}#*`;

export interface TenantAccessRoleProps {
  /** The tables whose tenant items a session may reach. */
  readonly dataTables: DataTables;
  /** Execution roles that may open a tenant session; no other principal may. */
  readonly sessionRoles: readonly iam.IRole[];
}

/**
 * The tenant access role of DESIGN.md (AZ-3): a request handler assumes it with the tenant id
 * as a session tag and then reaches only items whose partition key starts with `<tenantId>#`,
 * through item actions only (no Scan, no PartiQL), only put, get and query on
 * append-only tables (AUD-2), and only reads of the tenant registry. A request without keys fails on the `Null` condition.
 */
export class TenantAccessRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: TenantAccessRoleProps) {
    super(scope, id);
    if (props.sessionRoles.length === 0) {
      throw new Error('tenant access role needs at least one session role, got none');
    }
    const sessionRoleArns = props.sessionRoles.map((role) => role.roleArn);

    this.role = new iam.Role(this, 'Role', {
      description: 'Tenant-scoped data access; assumed per request with the tenantId session tag',
      maxSessionDuration: Duration.hours(1),
      // The account trusts only the named execution roles, and only with exactly one tag: tenantId.
      assumedBy: new iam.SessionTagsPrincipal(
        new iam.PrincipalWithConditions(new iam.AccountPrincipal(Stack.of(this).account), {
          ArnEquals: { 'aws:PrincipalArn': sessionRoleArns },
          StringLike: { [`aws:RequestTag/${tenantSessionTag}`]: '?*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [tenantSessionTag] },
        }),
      ),
    });
    // A `#` in the tag would let one tenant's prefix reach into another's keys.
    this.role.assumeRolePolicy?.addStatements(
      new iam.PolicyStatement({
        sid: 'DenyTenantIdWithSeparator',
        effect: iam.Effect.DENY,
        principals: [new iam.AccountPrincipal(Stack.of(this).account)],
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        conditions: { StringLike: { [`aws:RequestTag/${tenantSessionTag}`]: '*#*' } },
      }),
    );

    const { dataTables } = props;
    for (const tableId of tableIds) {
      const definition = dataTables.definitions[tableId];
      if (definition.scope !== 'tenant') continue;
      const indexNames = definition.indexes
        .filter((index) => index.scope === 'tenant')
        .map((index) => index.name);
      this.role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: `TenantItems${tableId.charAt(0).toUpperCase()}${tableId.slice(1)}`,
          actions: definition.appendOnly
            ? [...appendOnlyActions]
            : definition.tenantReadOnly
              ? // The tenant registry: read, and condition checks of the tenant's status (DAT-2).
                [...itemReadActions, 'dynamodb:ConditionCheckItem']
              : [...itemReadActions, ...itemWriteActions],
          resources: dataTables.resourceArns(tableId, indexNames),
          conditions: {
            'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [tenantLeadingKeys] },
            Null: { 'dynamodb:LeadingKeys': 'false' },
          },
        }),
      );
    }
    dataTables.grantTableKey(this.role, 'write');

    for (const sessionRole of props.sessionRoles) {
      iam.Grant.addToPrincipal({
        grantee: sessionRole,
        actions: ['sts:AssumeRole', 'sts:TagSession'],
        resourceArns: [this.role.roleArn],
      });
    }
  }
}
