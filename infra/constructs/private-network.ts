import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, type IConstruct } from 'constructs';
import { acknowledge } from '../nag-suppressions';
import { EncryptedLogGroup } from './encrypted-log-group';

/**
 * AWS-managed prefix lists of the gateway endpoints' services. They are the same in every
 * account of a region; CloudFormation cannot return them, and a lookup would break offline
 * synthesis, so the EU regions are listed here (`aws ec2 describe-prefix-lists`).
 */
export const gatewayPrefixLists: Readonly<Record<string, GatewayPrefixLists>> = {
  'eu-central-1': { s3: 'pl-6ea54007', dynamodb: 'pl-66a5400f' },
  'eu-west-1': { s3: 'pl-6da54004', dynamodb: 'pl-6fa54006' },
  'eu-west-2': { s3: 'pl-7ca54015', dynamodb: 'pl-b3a742da' },
  'eu-west-3': { s3: 'pl-23ad484a', dynamodb: 'pl-abb451c2' },
};

/**
 * Every availability zone of an EU region: each has `a`, `b` and `c`. Stacks answer
 * `availabilityZones` with this instead of a context lookup, so synthesis stays offline.
 */
export function regionAvailabilityZones(region: string): string[] {
  return ['a', 'b', 'c'].map((zone) => `${region}${zone}`);
}

/** The prefix lists that security groups name to reach the gateway endpoints. */
export interface GatewayPrefixLists {
  readonly s3: string;
  readonly dynamodb: string;
}

/** Services the functions reach through gateway endpoints (free, routed by the subnets' route tables). */
export type GatewayEndpointName = 's3' | 'dynamodb';

/** Services the functions reach through interface endpoints (an ENI per AZ, private DNS). */
export type InterfaceEndpointName =
  | 'kms'
  | 'secretsmanager'
  | 'sts'
  | 'logs'
  | 'xray'
  | 'cognito-idp'
  | 'backup';

/**
 * Endpoints to another region's service (cross-region PrivateLink): `kms-dr`, the DR region's
 * KMS, where the purge schedules the deletion of each tenant key's replica (DAT-2). A network
 * has them when it is given a `drRegion`.
 */
export type CrossRegionEndpointName = 'kms-dr';

export type EndpointName = GatewayEndpointName | InterfaceEndpointName | CrossRegionEndpointName;

/** Every endpoint a platform stack's functions use: the default set of a network. */
export const allEndpoints: readonly EndpointName[] = [
  's3',
  'dynamodb',
  'kms',
  'secretsmanager',
  'sts',
  'logs',
  'xray',
  'cognito-idp',
  'backup',
];

/** Why the functions need each interface endpoint (INF-7); docs/network.md has the per-function table. */
export const interfaceEndpointReasons: Readonly<Record<InterfaceEndpointName, string>> = {
  kms: 'tenant data keys (GenerateDataKey, Decrypt), tenant key creation and deletion, checkpoint signing and the published signing keys',
  secretsmanager:
    "the API-key pepper (authorizer, API-key routes) and the user pool's published JWKS (authorizer)",
  sts: 'tenant sessions: AssumeRole and TagSession on the tenant access role (AZ-3)',
  logs: 'direct CloudWatch Logs API calls to the stage log groups; function output itself goes through the Lambda service',
  xray: 'active tracing: the X-Ray daemon in the execution environment sends segments from inside the VPC',
  'cognito-idp': 'invitations and onboarding (AdminGetUser, AdminCreateUser on the stage pool)',
  backup:
    'restore tests (the validation reads its restore jobs and reports their result, BAK-3), backup freshness (recovery points of the primary vault and copy jobs to the DR vault, BAK-2) and the advanced DynamoDB backup setting of the region',
};

const interfaceServices: Readonly<Record<InterfaceEndpointName, ec2.InterfaceVpcEndpointAwsService>> = {
  kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  secretsmanager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  sts: ec2.InterfaceVpcEndpointAwsService.STS,
  logs: ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
  xray: ec2.InterfaceVpcEndpointAwsService.XRAY,
  'cognito-idp': ec2.InterfaceVpcEndpointAwsService.COGNITO_IDP,
  backup: ec2.InterfaceVpcEndpointAwsService.BACKUP,
};

/** ENI management that EC2 authorizes on no resource: describing interfaces and subnets. */
export const eniDescribeActions = ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets'] as const;

/** ENI changes, each limited to the stage's VPC. */
export const eniChangeActions = [
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
] as const;

/** One statement of an endpoint policy: our account's principals, these actions, these resources. */
export interface EndpointStatement {
  /** Statement id, unique within the endpoint's policy. */
  readonly sid: string;
  readonly actions: readonly string[];
  /** ARNs of our own resources; `*` only for services without resource-level permissions (X-Ray). */
  readonly resources: readonly string[];
  /**
   * Extra conditions (e.g. a resource tag for keys created at run time).
   * @default - only the principal-account condition
   */
  readonly conditions?: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /**
   * Whether principals of any account may use the statement: only for CloudFormation's
   * presigned custom-resource response URLs, which CloudFormation signs, not us.
   * @default false
   */
  readonly anyAccount?: boolean;
}

/** How one function sits in the network: what RouteFunction passes to the Lambda function. */
export interface FunctionPlacement {
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets: ec2.SubnetSelection;
  readonly securityGroup: ec2.SecurityGroup;
  /** The ENI permissions; the function must depend on it (Lambda checks them when it creates the function). */
  readonly policy: iam.Policy;
}

export interface PrivateNetworkProps {
  /** Stage that owns the network; part of the VPC and log group names. */
  readonly stage: string;
  /** Customer-managed key of the flow log group (ENC-2). */
  readonly flowLogKey: kms.IKey;
  /**
   * The VPC's address range, /16 to /22.
   * @default '10.40.0.0/16'
   */
  readonly cidr?: string;
  /**
   * Availability zones of the isolated subnets: every zone of the region.
   * @default - `a`, `b` and `c` of the stack's region (every zone of each EU region)
   */
  readonly availabilityZones?: readonly string[];
  /**
   * The S3 and DynamoDB prefix lists of the region, for the security groups' egress rules.
   * @default - gatewayPrefixLists[region]
   */
  readonly prefixLists?: GatewayPrefixLists;
  /**
   * The endpoints the stack's functions use; each needs at least one policy statement. A
   * function's security group reaches the gateway prefix lists of the chosen gateway endpoints.
   * @default allEndpoints (every endpoint a platform stack uses)
   */
  readonly endpoints?: readonly EndpointName[];
  /**
   * The second region whose KMS the functions reach through a cross-region interface endpoint
   * (`kms-dr`): the purge schedules each tenant key's replica for deletion there (DAT-2).
   * @default - no cross-region endpoint
   */
  readonly drRegion?: string;
}

/** Why the ENI permissions of a function in the network carry wildcards (cdk-nag IAM5). */
export const networkReasons = {
  describe:
    'ec2:DescribeNetworkInterfaces and ec2:DescribeSubnets support no resource-level permissions; Lambda calls them to manage the function ENIs in the isolated subnets. This statement holds only those two actions.',
  interfaces:
    "Lambda creates the function's network interfaces when it creates or updates the function, so their ids are unknown: creation is limited to the isolated subnets and the function's own security group by ARN, and deleting or re-addressing an interface to interfaces of this VPC (ec2:Vpc).",
} as const;

const registry = new WeakMap<Stack, PrivateNetwork>();

/**
 * The stage's private network (INF-7, INF-1): a VPC with one isolated subnet per
 * availability zone and no internet or NAT gateway, so functions have no route to the
 * internet; gateway endpoints for DynamoDB and S3 and interface endpoints (private DNS) for
 * the other services the functions call (all of them for a platform stack, a chosen subset
 * for a stack with fewer functions, `endpoints`), each with a policy that names our resources only
 * (statements come from `allow`, and synthesis fails for an endpoint without one); one
 * security group per function whose only egress is HTTPS to the endpoints; VPC flow logs of
 * all traffic to a KMS-encrypted log group kept 36 months (LOG-2, security class).
 *
 * Every Lambda function of the stack must sit in the network (RouteFunction places itself,
 * see `of`) or be exempted with a reason; synthesis fails otherwise.
 */
export class PrivateNetwork extends Construct {
  /** The private network of the stack that holds `scope`, if the stage has one. */
  static of(scope: IConstruct): PrivateNetwork | undefined {
    return registry.get(Stack.of(scope));
  }

  readonly vpc: ec2.Vpc;
  readonly subnets: ec2.SubnetSelection = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
  readonly endpointSecurityGroup: ec2.SecurityGroup;
  /** The gateway endpoints the network has (props.endpoints). */
  readonly gatewayEndpoints: Readonly<Partial<Record<GatewayEndpointName, ec2.GatewayVpcEndpoint>>>;
  /** The interface endpoints the network has (props.endpoints). */
  readonly interfaceEndpoints: Readonly<Partial<Record<InterfaceEndpointName, ec2.InterfaceVpcEndpoint>>>;
  /** Interface endpoints to another region's service, when the network has a DR region. */
  readonly crossRegionEndpoints: Readonly<Partial<Record<CrossRegionEndpointName, ec2.InterfaceVpcEndpoint>>>;
  readonly flowLogGroup: EncryptedLogGroup;
  readonly flowLog: ec2.FlowLog;
  readonly prefixLists: GatewayPrefixLists;
  readonly #sids = new Map<EndpointName, Set<string>>();
  readonly #exempt = new Map<IConstruct, string>();

  constructor(scope: Construct, id: string, props: PrivateNetworkProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const { region } = stack;
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`private network stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (Token.isUnresolved(region)) {
      throw new Error('private network needs a stack with an explicit region, got an unresolved region');
    }
    if (registry.has(stack)) {
      throw new Error(`stack ${stack.stackName} already has a private network, got a second one: ${id}`);
    }
    const cidr = props.cidr ?? '10.40.0.0/16';
    const cidrMatch = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
    const prefix = Number(cidrMatch?.[5]);
    if (
      !cidrMatch ||
      cidrMatch.slice(1, 5).some((part) => Number(part) > 255) ||
      prefix < 16 ||
      prefix > 22
    ) {
      throw new Error(
        `private network cidr must be an ipv4 range of /16 to /22, got ${JSON.stringify(cidr)}`,
      );
    }
    const zones = props.availabilityZones ?? regionAvailabilityZones(region);
    if (
      zones.length === 0 ||
      new Set(zones).size !== zones.length ||
      !zones.every((zone) => new RegExp(`^${region}[a-z]$`).test(zone))
    ) {
      throw new Error(
        `private network availability zones must be distinct zones of ${region}, got ${JSON.stringify(zones)}`,
      );
    }
    const prefixLists = props.prefixLists ?? gatewayPrefixLists[region];
    if (
      prefixLists === undefined ||
      !/^pl-[0-9a-f]{8,17}$/.test(prefixLists.s3) ||
      !/^pl-[0-9a-f]{8,17}$/.test(prefixLists.dynamodb)
    ) {
      throw new Error(
        `private network needs the s3 and dynamodb prefix lists of ${region} (aws ec2 describe-prefix-lists), got ${JSON.stringify(prefixLists)}`,
      );
    }
    this.prefixLists = prefixLists;
    registry.set(stack, this);

    this.vpc = new ec2.Vpc(this, 'Vpc', {
      vpcName: `strongroom-${props.stage}`,
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      // Explicit zones: no availability-zone lookup, so synthesis stays offline.
      availabilityZones: [...zones],
      natGateways: 0,
      createInternetGateway: false,
      subnetConfiguration: [
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: Math.min(prefix + 4, 26) },
      ],
      // Restricting the default group takes a custom-resource Lambda outside the VPC; nothing
      // uses the default group (every ENI has its own), see the NIST acknowledgement.
      restrictDefaultSecurityGroup: false,
    });
    for (const subnet of this.vpc.isolatedSubnets) {
      Validations.of(subnet).acknowledge({
        id: 'CloudFormation-Validate::W3010',
        reason:
          'INF-7 asks for a subnet in every zone of the region, by name: each EU region has a, b and c. Fn::GetAZs would depend on the default subnets of the account.',
      });
    }

    this.flowLogGroup = new EncryptedLogGroup(this, 'FlowLogs', {
      logGroupName: `/strongroom/${props.stage}/network/flow-logs`,
      logClass: 'security',
      encryptionKey: props.flowLogKey,
    });
    this.flowLog = new ec2.FlowLog(this, 'FlowLog', {
      flowLogName: `strongroom-${props.stage}-vpc`,
      resourceType: ec2.FlowLogResourceType.fromVpc(this.vpc),
      destination: ec2.FlowLogDestination.toCloudWatchLogs(this.flowLogGroup.logGroup),
      trafficType: ec2.FlowLogTrafficType.ALL,
      maxAggregationInterval: ec2.FlowLogMaxAggregationInterval.ONE_MINUTE,
    });

    const chosen = new Set(props.endpoints ?? allEndpoints);
    if (chosen.size === 0) {
      throw new Error('private network needs at least one endpoint, got none');
    }
    const gateways: Partial<Record<GatewayEndpointName, ec2.GatewayVpcEndpoint>> = {};
    for (const [name, id, service] of [
      ['dynamodb', 'DynamoDbEndpoint', ec2.GatewayVpcEndpointAwsService.DYNAMODB],
      ['s3', 'S3Endpoint', ec2.GatewayVpcEndpointAwsService.S3],
    ] as const) {
      if (chosen.has(name))
        gateways[name] = this.vpc.addGatewayEndpoint(id, { service, subnets: [this.subnets] });
    }
    this.gatewayEndpoints = gateways;

    this.endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: `Strongroom ${props.stage}: interface endpoints, HTTPS from the stage functions only`,
      allowAllOutbound: false,
    });
    const endpoints: Partial<Record<InterfaceEndpointName, ec2.InterfaceVpcEndpoint>> = {};
    for (const name of Object.keys(interfaceServices) as InterfaceEndpointName[]) {
      if (!chosen.has(name)) continue;
      endpoints[name] = this.vpc.addInterfaceEndpoint(`${pascal(name)}Endpoint`, {
        service: interfaceServices[name],
        subnets: this.subnets,
        privateDnsEnabled: true,
        securityGroups: [this.endpointSecurityGroup],
        // No ingress from the whole VPC: each function's security group is allowed by name.
        open: false,
      });
    }
    this.interfaceEndpoints = endpoints;
    if (props.drRegion !== undefined && !/^[a-z]{2}-[a-z]+-\d$/.test(props.drRegion)) {
      throw new Error(
        `private network dr region must be a region name, got ${JSON.stringify(props.drRegion)}`,
      );
    }
    this.crossRegionEndpoints =
      props.drRegion === undefined || props.drRegion === region
        ? {}
        : {
            // Cross-region PrivateLink: kms.<dr region>.amazonaws.com resolves to this endpoint.
            'kms-dr': this.vpc.addInterfaceEndpoint('DrKmsEndpoint', {
              service: new ec2.InterfaceVpcEndpointService(`com.amazonaws.${props.drRegion}.kms`, 443),
              serviceRegion: props.drRegion,
              subnets: this.subnets,
              privateDnsEnabled: true,
              securityGroups: [this.endpointSecurityGroup],
              open: false,
            }),
          };

    this.node.addValidation({
      validate: () => {
        const errors: string[] = [];
        for (const name of [
          ...Object.keys(this.gatewayEndpoints),
          ...Object.keys(endpoints),
          ...Object.keys(this.crossRegionEndpoints),
        ]) {
          if ((this.#sids.get(name as EndpointName)?.size ?? 0) === 0) {
            errors.push(
              `the ${name} endpoint of ${stack.stackName} has no policy statement: it would allow any resource (INF-7)`,
            );
          }
        }
        for (const node of stack.node.findAll()) {
          if (!(node instanceof lambda.CfnFunction) || node.vpcConfig !== undefined) continue;
          if ([...this.#exempt.keys()].some((exempt) => node.node.path.startsWith(`${exempt.node.path}/`)))
            continue;
          errors.push(
            `function ${node.node.path} is outside the private network of ${stack.stackName} (INF-7)`,
          );
        }
        return errors;
      },
    });
  }

  /** An ARN as cdk-nag prints it in a finding: pseudo parameters that are tokens as `<AWS::Name>`. */
  #nagArn(service: string, resource: string): string {
    const { partition, region, account } = Stack.of(this);
    const shown = (value: string, name: string) => (Token.isUnresolved(value) ? `<AWS::${name}>` : value);
    return `arn:${shown(partition, 'Partition')}:${service}:${shown(region, 'Region')}:${shown(account, 'AccountId')}:${resource}`;
  }

  /** An ARN of this account and region. */
  #arn(service: string, resource: string): string {
    const { partition, region, account } = Stack.of(this);
    return `arn:${partition}:${service}:${region}:${account}:${resource}`;
  }

  /** Adds a statement to an endpoint's policy; every endpoint needs at least one. */
  allow(endpoint: EndpointName, statement: EndpointStatement): void {
    if (!/^[A-Za-z0-9]+$/.test(statement.sid)) {
      throw new Error(`endpoint statement sid must be alphanumeric, got ${JSON.stringify(statement.sid)}`);
    }
    const sids = this.#sids.get(endpoint) ?? new Set<string>();
    if (sids.has(statement.sid)) {
      throw new Error(`the ${endpoint} endpoint already has a statement ${JSON.stringify(statement.sid)}`);
    }
    if (statement.actions.length === 0 || statement.resources.length === 0) {
      throw new Error(`endpoint statement ${statement.sid} needs actions and resources, got none`);
    }
    if (statement.actions.some((action) => action === '*' || action.endsWith(':*'))) {
      throw new Error(
        `endpoint statement ${statement.sid} must name its actions, got ${JSON.stringify(statement.actions)}`,
      );
    }
    const target =
      endpoint === 's3' || endpoint === 'dynamodb'
        ? this.gatewayEndpoints[endpoint]
        : endpoint === 'kms-dr'
          ? this.crossRegionEndpoints[endpoint]
          : this.interfaceEndpoints[endpoint];
    if (target === undefined) {
      throw new Error(`the private network has no ${endpoint} endpoint for statement ${statement.sid}`);
    }
    sids.add(statement.sid);
    this.#sids.set(endpoint, sids);
    const conditions: Record<string, Record<string, unknown>> = {};
    for (const [operator, values] of Object.entries(statement.conditions ?? {})) {
      conditions[operator] = { ...values };
    }
    if (statement.anyAccount !== true) {
      conditions.StringEquals = {
        ...conditions.StringEquals,
        'aws:PrincipalAccount': Stack.of(this).account,
      };
    }
    target.addToPolicy(
      new iam.PolicyStatement({
        sid: statement.sid,
        principals: [new iam.AnyPrincipal()],
        actions: [...statement.actions],
        resources: [...statement.resources],
        conditions,
      }),
    );
  }

  /**
   * Places one function: a security group of its own whose only egress is HTTPS to the
   * interface endpoints and to the prefix lists of the network's gateway endpoints (their
   * routes), and the ENI permissions Lambda needs, limited to this VPC's subnets.
   */
  placeFunction(scope: Construct, role: iam.IRole, functionName: string): FunctionPlacement {
    const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc: this.vpc,
      description: `${functionName}: HTTPS to the VPC endpoints only`,
      allowAllOutbound: false,
    });
    // The three egress rules inline in the group (a stage stack is bounded at 500 resources);
    // the endpoints' group takes the matching ingress as a resource of its own, so no cycle.
    const https = { ipProtocol: 'tcp', fromPort: 443, toPort: 443 };
    (securityGroup.node.defaultChild as ec2.CfnSecurityGroup).securityGroupEgress = [
      {
        ...https,
        destinationSecurityGroupId: this.endpointSecurityGroup.securityGroupId,
        description: 'interface endpoints',
      },
      ...(this.gatewayEndpoints.dynamodb === undefined
        ? []
        : [
            {
              ...https,
              destinationPrefixListId: this.prefixLists.dynamodb,
              description: 'DynamoDB through its gateway endpoint',
            },
          ]),
      ...(this.gatewayEndpoints.s3 === undefined
        ? []
        : [
            {
              ...https,
              destinationPrefixListId: this.prefixLists.s3,
              description: 'S3 through its gateway endpoint',
            },
          ]),
    ];
    this.endpointSecurityGroup.addIngressRule(securityGroup, ec2.Port.tcp(443), functionName);
    const subnetArns = this.vpc.isolatedSubnets.map((subnet) =>
      this.#arn('ec2', `subnet/${subnet.subnetId}`),
    );
    const policy = new iam.Policy(scope, 'NetworkPolicy', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'DescribeHasNoResourceLevelPermissions',
          actions: [...eniDescribeActions],
          resources: ['*'],
        }),
        new iam.PolicyStatement({
          sid: 'InterfacesInTheIsolatedSubnets',
          actions: ['ec2:CreateNetworkInterface'],
          resources: [
            this.#arn('ec2', 'network-interface/*'),
            ...subnetArns,
            this.#arn('ec2', `security-group/${securityGroup.securityGroupId}`),
          ],
        }),
        new iam.PolicyStatement({
          sid: 'OnlyInterfacesOfThisVpc',
          actions: [...eniChangeActions],
          resources: [this.#arn('ec2', 'network-interface/*')],
          conditions: { ArnEquals: { 'ec2:Vpc': this.vpc.vpcArn } },
        }),
      ],
    });
    acknowledge(
      policy,
      { rule: 'AwsSolutions-IAM5[Resource::*]', reason: networkReasons.describe },
      {
        rule: `AwsSolutions-IAM5[Resource::${this.#nagArn('ec2', 'network-interface/*')}]`,
        reason: networkReasons.interfaces,
      },
    );
    return { vpc: this.vpc, vpcSubnets: this.subnets, securityGroup, policy };
  }

  /**
   * Lets one construct's functions stay outside the network; only for functions that must reach
   * what no endpoint of the VPC serves, with the reason shown to reviewers.
   */
  exempt(scope: IConstruct, reason: string): void {
    if (reason.trim().length < 20) {
      throw new Error(`an exemption from the private network needs a reason, got ${JSON.stringify(reason)}`);
    }
    this.#exempt.set(scope, reason);
  }

  /** Constructs whose functions stay outside the network, with their reasons. */
  get exemptions(): ReadonlyMap<IConstruct, string> {
    return this.#exempt;
  }
}

function pascal(name: string): string {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}
