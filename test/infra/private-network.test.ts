/**
 * The private network (INF-7) and the pipeline configuration (INF-8) on small stacks of
 * their own: functions are built without bundling (`aws:cdk:bundling-stacks: []`), and
 * nothing here synthesizes the app (test/infra/synthesized.test.ts proves the app).
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '#infra/build-app';
import { loadConfig } from '#infra/config';
import { allEndpoints, PrivateNetwork } from '#infra/constructs/private-network';
import { RouteFunction } from '#infra/constructs/route-function';
import { loadPipelineConfig, pipelineContextKey } from '#infra/pipeline-config';

const env = { account: '111122223333', region: 'eu-central-1' };

function newStack(region = env.region): Stack {
  return new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'test', {
    env: { ...env, region },
  });
}

function network(stack: Stack, props: Partial<ConstructorParameters<typeof PrivateNetwork>[2]> = {}) {
  const flowLogKey = new kms.Key(stack, 'LogKey', { enableKeyRotation: true });
  return new PrivateNetwork(stack, 'Network', { stage: 'prod', flowLogKey, ...props });
}

/** Gives every endpoint one statement, as StageEndpointPolicies does for a platform stack. */
function allowSomething(net: PrivateNetwork): void {
  for (const endpoint of allEndpoints) {
    net.allow(endpoint, {
      sid: 'Something',
      actions: [`${endpoint}:GetSomething`],
      resources: [`arn:aws:${endpoint}:eu-central-1:111122223333:thing/one`],
    });
  }
}

function routeFunction(stack: Stack, outsidePrivateNetwork?: string): RouteFunction {
  const key = new kms.Key(stack, `Key${stack.node.children.length}`, { enableKeyRotation: true });
  return new RouteFunction(stack, outsidePrivateNetwork ? 'Outside' : 'Inside', {
    stage: 'prod',
    name: outsidePrivateNetwork ? 'outside' : 'inside',
    projectRoot,
    entry: 'functions/public/handler.ts',
    description: 'test',
    environment: {},
    environmentKey: key,
    logKey: key,
    ...(outsidePrivateNetwork ? { outsidePrivateNetwork } : {}),
  });
}

describe('[INF-7] private network construct', () => {
  it('places a route function in the isolated subnets with its own group and ENI policy', () => {
    const stack = newStack();
    const net = network(stack);
    allowSomething(net);
    const fn = routeFunction(stack);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::Subnet', 3);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::InternetGateway', 0);
    const [fnId] = Object.keys(template.findResources('AWS::Lambda::Function'));
    const props = template.toJSON().Resources[fnId ?? ''].Properties;
    expect(props.VpcConfig.SubnetIds).toHaveLength(3);
    expect(JSON.stringify(props.VpcConfig.SecurityGroupIds)).toContain(
      stack.resolve(fn.securityGroup?.securityGroupId)['Fn::GetAtt'][0],
    );
    // Interface creation by ARN of subnets and group; changes only in this VPC.
    const policy = JSON.stringify(stack.resolve(fn.networkPolicy?.document));
    expect(policy).toContain('ec2:CreateNetworkInterface');
    expect(policy).toContain(':security-group/');
    expect(policy).toContain('"ec2:Vpc"');
  });

  it('fails synthesis for a function outside the network, unless it is exempted with a reason', () => {
    const stack = newStack();
    allowSomething(network(stack));
    new lambda.Function(stack, 'Stray', {
      runtime: lambda.Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('export const handler = async () => 1;'),
    });
    expect(() => Template.fromStack(stack)).toThrow(
      /function test\/Stray\/Resource is outside the private network/,
    );

    const exempted = newStack();
    allowSomething(network(exempted));
    routeFunction(exempted, 'Deploy-time only: reads a public document nobody else serves.');
    const template = Template.fromStack(exempted);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as {
      Properties: { VpcConfig?: unknown };
    }[];
    expect(fn?.Properties.VpcConfig).toBeUndefined();
    expect(() => routeFunction(newStackWithNetwork(), 'because')).toThrow(/needs a reason, got "because"/);
  });

  it('fails synthesis for an endpoint without a policy statement: it would allow any resource', () => {
    const stack = newStack();
    network(stack);
    expect(() => Template.fromStack(stack)).toThrow(/the s3 endpoint of test has no policy statement/);
  });

  it.each([
    [
      'a cidr that is too large',
      { cidr: '10.0.0.0/8' },
      /cidr must be an ipv4 range of \/16 to \/22, got "10.0.0.0\/8"/,
    ],
    [
      'a zone of another region',
      { availabilityZones: ['eu-west-1a'] },
      /zones of eu-central-1, got \["eu-west-1a"\]/,
    ],
    [
      'a prefix list that is not one',
      { prefixLists: { s3: 'pl-1', dynamodb: 'pl-66a5400f' } },
      /prefix lists of eu-central-1.*"pl-1"/,
    ],
    ['a stage with capitals', { stage: 'Prod' }, /stage must match \[a-z0-9-\]\+, got "Prod"/],
  ])('refuses %s', (_name, props, message) => {
    expect(() => network(newStack(), props)).toThrow(message);
  });

  it('needs the prefix lists of a region it does not know, and refuses a second network in a stack', () => {
    expect(() => network(newStack('eu-north-1'))).toThrow(/prefix lists of eu-north-1 .*got undefined/);
    const stack = newStack();
    network(stack);
    expect(
      () => new PrivateNetwork(stack, 'Again', { stage: 'prod', flowLogKey: new kms.Key(stack, 'K') }),
    ).toThrow(/already has a private network, got a second one: Again/);
  });

  it("[DAT-2] reaches the DR region's KMS through a cross-region endpoint that needs a policy of its own", () => {
    const stack = newStack();
    const net = network(stack, { drRegion: 'eu-west-1' });
    allowSomething(net);
    expect(() => Template.fromStack(stack)).toThrow(/the kms-dr endpoint of test has no policy statement/);
    net.allow('kms-dr', {
      sid: 'Replicas',
      actions: ['kms:ScheduleKeyDeletion'],
      resources: ['arn:aws:kms:eu-west-1:111122223333:key/*'],
    });
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: 'com.amazonaws.eu-west-1.kms',
      ServiceRegion: 'eu-west-1',
      VpcEndpointType: 'Interface',
      PrivateDnsEnabled: true,
    });
    const withoutDr = network(newStack());
    expect(() =>
      withoutDr.allow('kms-dr', { sid: 'Replicas', actions: ['kms:ScheduleKeyDeletion'], resources: ['*'] }),
    ).toThrow(/the private network has no kms-dr endpoint for statement Replicas/);
    expect(() => network(newStack(), { drRegion: 'Ireland' })).toThrow(/dr region must be a region name/);
  });

  it('refuses endpoint statements that name no action or a whole service', () => {
    const net = network(newStack());
    expect(() => net.allow('kms', { sid: 'All', actions: ['kms:*'], resources: ['*'] })).toThrow(
      /must name its actions, got \["kms:\*"\]/,
    );
    net.allow('kms', {
      sid: 'One',
      actions: ['kms:Sign'],
      resources: ['arn:aws:kms:eu-central-1:111122223333:key/a'],
    });
    expect(() =>
      net.allow('kms', {
        sid: 'One',
        actions: ['kms:Sign'],
        resources: ['arn:aws:kms:eu-central-1:111122223333:key/b'],
      }),
    ).toThrow(/already has a statement "One"/);
  });

  it('builds only the endpoints a stack asks for, and lets its functions reach only those', () => {
    const stack = newStack('eu-west-1');
    const net = network(stack, { endpoints: ['s3', 'backup'] });
    expect(() =>
      net.allow('kms', {
        sid: 'Absent',
        actions: ['kms:Sign'],
        resources: ['arn:aws:kms:eu-west-1:1:key/a'],
      }),
    ).toThrow(/has no kms endpoint for statement Absent/);
    net.allow('s3', { sid: 'One', actions: ['s3:PutObject'], resources: ['arn:aws:s3:::bucket/*'] });
    net.allow('backup', {
      sid: 'One',
      actions: ['backup:DescribeRegionSettings'],
      resources: ['*'],
    });
    const fn = routeFunction(stack);
    const template = Template.fromStack(stack);
    const services = Object.values(template.findResources('AWS::EC2::VPCEndpoint')).map((endpoint) =>
      JSON.stringify(endpoint.Properties.ServiceName),
    );
    expect(services).toHaveLength(2);
    expect(services.join()).toMatch(/\.s3/);
    expect(services.join()).toContain('com.amazonaws.eu-west-1.backup');
    const group =
      template.toJSON().Resources[stack.resolve(fn.securityGroup?.securityGroupId)['Fn::GetAtt'][0]];
    const egress = group.Properties.SecurityGroupEgress as { DestinationPrefixListId?: string }[];
    // The endpoints' group and the S3 prefix list; no route to DynamoDB's.
    expect(egress.map((rule) => rule.DestinationPrefixListId ?? 'endpoints').sort()).toEqual([
      'endpoints',
      'pl-6da54004',
    ]);
  });
});

function newStackWithNetwork(): Stack {
  const stack = newStack();
  network(stack);
  return stack;
}

describe('[INF-7][INF-5] private network configuration', () => {
  const base = { 'strongroom:account': '111122223333' };
  it('is off unless a stage asks for it, and must be a boolean', () => {
    const config = loadConfig(
      (key) => ({ ...base, 'strongroom:stageSettings': { prod: { privateNetwork: true } } })[key as never],
    );
    expect(config.stages.map((stage) => [stage.name, stage.privateNetwork])).toEqual([
      ['dev', false],
      ['prod', true],
    ]);
    expect(() =>
      loadConfig(
        (key) => ({ ...base, 'strongroom:stageSettings': { prod: { privateNetwork: 'yes' } } })[key as never],
      ),
    ).toThrow(/strongroom:stageSettings.prod.privateNetwork must be true or false, got "yes"/);
  });
});

describe('[INF-8] pipeline configuration', () => {
  const valid = {
    connectionArn:
      'arn:aws:codeconnections:eu-central-1:111122223333:connection/00000000-0000-0000-0000-000000000000',
    repository: 'example-org/strongroom',
    branch: 'main',
  };
  const read = (value: unknown) => (key: string) => (key === pipelineContextKey ? value : undefined);

  it('reads the connection, repository and branch, also as JSON from -c', () => {
    expect(loadPipelineConfig(read(valid))).toEqual(valid);
    expect(loadPipelineConfig(read(JSON.stringify(valid)))).toEqual(valid);
  });

  it.each([
    ['nothing', undefined, /strongroom:pipeline must be an object, got nothing/],
    [
      'a connection outside the eu',
      { ...valid, connectionArn: valid.connectionArn.replace('eu-central-1', 'us-east-1') },
      /connectionArn must be a codeconnections connection arn in an eu region, got "arn:aws:codeconnections:us-east-1/,
    ],
    [
      'a repository url',
      { ...valid, repository: 'https://github.com/example-org/strongroom' },
      /repository must be owner\/name, got "https:/,
    ],
    ['a branch with ..', { ...valid, branch: 'main..x' }, /branch must be a branch name, got "main..x"/],
    ['an unknown setting', { ...valid, approvers: ['a'] }, /unknown setting, got "approvers"/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => loadPipelineConfig(read(value))).toThrow(message);
  });
});
