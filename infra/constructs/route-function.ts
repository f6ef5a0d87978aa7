import * as path from 'node:path';
import { Duration } from 'aws-cdk-lib';
import type * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Construct } from 'constructs';
import { EncryptedLogGroup, type LogClass } from './encrypted-log-group';
import { PrivateNetwork } from './private-network';

/** The Lambda runtime of every Strongroom function. */
export const functionRuntime = lambda.Runtime.NODEJS_24_X;

/** Template metadata key on a function of a private stage that stays outside the network, with the reason. */
export const outsidePrivateNetworkMetadata = 'strongroom:outsidePrivateNetwork';

/** ESM bundles still meet CommonJS dependencies that call `require`; give them one. */
const requireBanner =
  "import { createRequire as __createRequire } from 'node:module';const require = __createRequire(import.meta.url);";

/** What every function of a stage is built with; constructs that make functions take these and pass them on. */
export interface StageFunctionProps {
  /** Stage that owns the functions; part of their names and log groups. */
  readonly stage: string;
  /** Project root: the folder with package.json, package-lock.json and the handler modules. */
  readonly projectRoot: string;
  /** Runtime configuration shared by every function (shared/config/runtime.ts); nothing secret (SEC-1). */
  readonly environment: Readonly<Record<string, string>>;
  /** Customer-managed key of the functions' environment variables (ENC-2). */
  readonly environmentKey: kms.IKey;
  /** Customer-managed key of their log groups (ENC-2). */
  readonly logKey: kms.IKey;
}

export interface RouteFunctionProps extends StageFunctionProps {
  /** Short name, e.g. a route group or `authorizer`; part of the function name. */
  readonly name: string;
  /** Handler module relative to the project root, exporting `handler`. */
  readonly entry: string;
  /** What the function does, shown in the console. */
  readonly description: string;
  /**
   * Time limit of one invocation; API Gateway gives up after 29 seconds anyway.
   * @default Duration.seconds(10)
   */
  readonly timeout?: Duration;
  /**
   * Memory in MiB, which also buys CPU.
   * @default 1024
   */
  readonly memorySize?: number;
  /**
   * Retention class of the function's logs (LOG-2); jobs that watch the audit log write security logs.
   * @default 'application'
   */
  readonly logClass?: LogClass;
  /**
   * Why the function stays outside the stage's private network: only for a function that must
   * reach what no endpoint of the VPC serves, such as a public URL at deployment or another
   * region's API (INF-7 exemption, written to the template for reviewers).
   * @default - in the stage's private network, when the stack has one
   */
  readonly outsidePrivateNetwork?: string;
}

/**
 * One Lambda function for a route group, the authorizer or a job: nodejs24.x on ARM64, bundled
 * locally by esbuild as minified ESM with source maps, its own role that holds nothing
 * but its log stream (INF-2), its own KMS-encrypted log group with retention (LOG-2),
 * and environment variables encrypted under a customer-managed key (ENC-2). In a stack with a
 * PrivateNetwork it sits in the isolated subnets with a security group of its own (INF-7).
 */
export class RouteFunction extends Construct {
  readonly function: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly logGroup: EncryptedLogGroup;
  /** The only policy with `Resource: *`: X-Ray writes, which have no resource-level permissions. */
  readonly tracingPolicy: iam.Policy;
  /** The function's own security group, in a stage with a private network (INF-7). */
  readonly securityGroup: ec2.SecurityGroup | undefined;
  /** Its ENI permissions in the private network (describe on `*`, changes in the VPC only). */
  readonly networkPolicy: iam.Policy | undefined;

  constructor(scope: Construct, id: string, props: RouteFunctionProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`route function stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (!/^[a-z][a-z0-9-]*$/.test(props.name)) {
      throw new Error(`route function name must match [a-z][a-z0-9-]*, got ${JSON.stringify(props.name)}`);
    }
    if (
      path.isAbsolute(props.entry) ||
      props.entry.split(/[\\/]/).includes('..') ||
      !props.entry.endsWith('.ts')
    ) {
      throw new Error(
        `route function entry must be a .ts path inside the project, got ${JSON.stringify(props.entry)}`,
      );
    }
    const memorySize = props.memorySize ?? 1024;
    if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10_240) {
      throw new Error(`route function memory must be 128 to 10240 mib, got ${JSON.stringify(memorySize)}`);
    }
    const functionName = `strongroom-${props.stage}-${props.name}`;

    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${functionName} only`,
    });
    this.logGroup = new EncryptedLogGroup(this, 'Logs', {
      logGroupName: `/strongroom/${props.stage}/functions/${props.name}`,
      logClass: props.logClass ?? 'application',
      encryptionKey: props.logKey,
    });
    // INF-7: in a stage with a private network, the function sits in its isolated subnets.
    const network = PrivateNetwork.of(this);
    if (network !== undefined && props.outsidePrivateNetwork !== undefined) {
      network.exempt(this, props.outsidePrivateNetwork);
    }
    const placement =
      network !== undefined && props.outsidePrivateNetwork === undefined
        ? network.placeFunction(this, this.role, functionName)
        : undefined;
    this.securityGroup = placement?.securityGroup;
    this.networkPolicy = placement?.policy;

    this.function = new nodejs.NodejsFunction(this, 'Function', {
      functionName,
      description: props.description,
      entry: path.join(props.projectRoot, props.entry),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: path.join(props.projectRoot, 'package-lock.json'),
      runtime: functionRuntime,
      architecture: lambda.Architecture.ARM_64,
      memorySize,
      timeout: props.timeout ?? Duration.seconds(10),
      role: this.role,
      logGroup: this.logGroup.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      applicationLogLevelV2: lambda.ApplicationLogLevel.INFO,
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      // Stack traces point at the TypeScript sources through the bundled source maps.
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      environmentEncryption: props.environmentKey,
      ...(placement === undefined
        ? {}
        : {
            vpc: placement.vpc,
            vpcSubnets: placement.vpcSubnets,
            securityGroups: [placement.securityGroup],
          }),
      bundling: {
        forceDockerBundling: false,
        format: nodejs.OutputFormat.ESM,
        target: 'node24',
        mainFields: ['module', 'main'],
        banner: requireBanner,
        minify: true,
        logLevel: nodejs.LogLevel.WARNING,
        sourceMap: true,
        sourcesContent: false,
        // Ship the SDK versions pinned in package-lock.json, not whatever the runtime carries.
        bundleAwsSDK: true,
      },
    });
    this.logGroup.logGroup.grantWrite(this.role);

    // Active X-Ray tracing, with its permissions in a policy of their own: X-Ray has no resource-level
    // permissions, so this one policy carries `Resource: *` and nothing else may (INF-2).
    (this.function.node.defaultChild as lambda.CfnFunction).tracingConfig = { mode: lambda.Tracing.ACTIVE };
    this.tracingPolicy = new iam.Policy(this, 'TracingPolicy', {
      roles: [this.role],
      statements: [
        new iam.PolicyStatement({
          sid: 'XRayHasNoResourceLevelPermissions',
          actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
          resources: ['*'],
        }),
      ],
    });
    this.function.node.addDependency(this.tracingPolicy);
    // Lambda creates the function's network interfaces with these permissions, at creation.
    if (placement !== undefined) this.function.node.addDependency(placement.policy);
    if (network !== undefined && props.outsidePrivateNetwork !== undefined) {
      // Reviewers of the template see why this function has no VpcConfig.
      (this.function.node.defaultChild as lambda.CfnFunction).addMetadata(
        outsidePrivateNetworkMetadata,
        props.outsidePrivateNetwork,
      );
    }
    // Lambda decrypts the environment through its own service; the key policy allows nothing else.
    props.environmentKey.grant(this.role, 'kms:Decrypt');
  }
}
