/**
 * The architecture diagram of the report, drawn from the synthesized templates: one cluster
 * per stack, the resources a reviewer reasons about (API, firewall, user pool, functions,
 * tables, buckets, queues, topics, keys, vault, trail, detectors), and the edges the
 * templates imply: WAF association, API-to-function permissions, function access through
 * its role's policies, tenant sessions, stream and schedule triggers, alarms to topics and
 * encryption keys. Rendered to SVG by Graphviz compiled to WebAssembly (@viz-js/viz).
 */
import { instance } from '@viz-js/viz';
import type { CfnResource, StackTemplate } from './synth';

type Json = Record<string, unknown>;

interface NodeStyle {
  readonly label: string;
  readonly shape: string;
  readonly fill: string;
}

const styles: Readonly<Record<string, NodeStyle>> = {
  'AWS::ApiGateway::RestApi': { label: 'API Gateway', shape: 'box', fill: '#fde2c8' },
  'AWS::WAFv2::WebACL': { label: 'WAF web ACL', shape: 'octagon', fill: '#f8c9c9' },
  'AWS::Cognito::UserPool': { label: 'Cognito user pool', shape: 'box', fill: '#f8c9c9' },
  'AWS::Lambda::Function': { label: 'Lambda', shape: 'component', fill: '#fff2b3' },
  'AWS::DynamoDB::GlobalTable': { label: 'DynamoDB', shape: 'cylinder', fill: '#cfe3fb' },
  'AWS::S3::Bucket': { label: 'S3', shape: 'folder', fill: '#d7f0d0' },
  'AWS::SQS::Queue': { label: 'SQS', shape: 'box3d', fill: '#e9d9f7' },
  'AWS::SNS::Topic': { label: 'SNS', shape: 'box3d', fill: '#e9d9f7' },
  'AWS::KMS::Key': { label: 'KMS key', shape: 'note', fill: '#eeeeee' },
  'AWS::Backup::BackupVault': { label: 'Backup vault', shape: 'cylinder', fill: '#d7f0d0' },
  'AWS::Backup::BackupPlan': { label: 'Backup plan', shape: 'cds', fill: '#d7f0d0' },
  'AWS::SecretsManager::Secret': { label: 'Secrets Manager', shape: 'note', fill: '#ffe0f0' },
  'AWS::CloudTrail::Trail': { label: 'CloudTrail', shape: 'box', fill: '#f8c9c9' },
  'AWS::GuardDuty::Detector': { label: 'GuardDuty', shape: 'box', fill: '#f8c9c9' },
  'AWS::SecurityHub::Hub': { label: 'Security Hub', shape: 'box', fill: '#f8c9c9' },
  'AWS::Events::Rule': { label: 'EventBridge rule', shape: 'cds', fill: '#fff2b3' },
  'AWS::IAM::Role': { label: 'IAM role', shape: 'hexagon', fill: '#ffe0f0' },
};

/** Logical ids a value references through Ref or Fn::GetAtt. */
export function referencesIn(value: unknown, found = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencesIn(item, found);
  } else if (value && typeof value === 'object') {
    const object = value as Json;
    if (typeof object.Ref === 'string') found.add(object.Ref);
    const getAtt = object['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') found.add(getAtt[0]);
    for (const item of Object.values(object)) referencesIn(item, found);
  }
  return found;
}

const quote = (text: string): string => `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

function nameOf(id: string, resource: CfnResource, aliases: Map<string, string>): string {
  const properties = (resource.Properties ?? {}) as Json;
  const named =
    properties.FunctionName ??
    properties.TableName ??
    properties.BucketName ??
    properties.QueueName ??
    properties.TopicName ??
    properties.BackupVaultName ??
    properties.BackupPlanName ??
    properties.TrailName ??
    properties.UserPoolName ??
    properties.Name ??
    aliases.get(id);
  if (typeof named === 'string') return named.replace(/-\d{12}-[a-z]+-[a-z]+-\d$/, '-<account>-<region>');
  return id.replace(/[0-9A-F]{8}$/, '');
}

/** Whether a role is a tenant access role (its policy keys item access to a session tag). */
function isTenantRole(stack: StackTemplate, roleId: string): boolean {
  return Object.values(stack.resources).some(
    (resource) =>
      (resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::Role') &&
      JSON.stringify(resource.Properties ?? {}).includes('dynamodb:LeadingKeys') &&
      (resource.Type === 'AWS::IAM::Role'
        ? stack.resources[roleId] === resource
        : referencesIn(resource.Properties?.Roles).has(roleId)),
  );
}

/** The Graphviz source of the architecture. */
export function architectureDot(stacks: readonly StackTemplate[]): string {
  const lines = [
    'digraph strongroom {',
    '  graph [rankdir=LR, fontname="Helvetica", fontsize=11, compound=true, newrank=true, nodesep=0.15, ranksep=0.6];',
    '  node [fontname="Helvetica", fontsize=9, style="filled", penwidth=0.8];',
    '  edge [fontname="Helvetica", fontsize=8, color="#555555", arrowsize=0.6];',
    '  internet [label="Clients\\n(HTTPS, TLS 1.2+)", shape=ellipse, fillcolor="#ffffff"];',
  ];
  const edges = new Set<string>();
  const edge = (from: string, to: string, attributes: string): void => {
    if (from !== to) edges.add(`  ${quote(from)} -> ${quote(to)} [${attributes}];`);
  };
  for (const stack of stacks) {
    const node = (id: string): string => `${stack.name}/${id}`;
    const aliases = new Map<string, string>();
    for (const resource of Object.values(stack.resources)) {
      if (resource.Type !== 'AWS::KMS::Alias') continue;
      const target = [...referencesIn(resource.Properties?.TargetKeyId)][0];
      if (target !== undefined) aliases.set(target, String(resource.Properties?.AliasName ?? ''));
    }
    const shown = new Set(
      Object.entries(stack.resources)
        .filter(
          ([id, resource]) =>
            (resource.Type in styles && resource.Type !== 'AWS::IAM::Role') ||
            (resource.Type === 'AWS::IAM::Role' && isTenantRole(stack, id)),
        )
        .map(([id]) => id),
    );
    lines.push(`  subgraph ${quote(`cluster_${stack.name}`)} {`);
    lines.push(`    label=${quote(`${stack.name} (${stack.region})`)}; style="rounded"; color="#999999";`);
    for (const id of shown) {
      const resource = stack.resources[id] as CfnResource;
      const style = styles[resource.Type] as NodeStyle;
      const label =
        resource.Type === 'AWS::IAM::Role'
          ? 'tenant access role\\n(LeadingKeys = tenant#)'
          : nameOf(id, resource, aliases);
      lines.push(
        `    ${quote(node(id))} [label=${quote(`${style.label}\\n${label}`)}, shape=${style.shape}, fillcolor=${quote(style.fill)}];`,
      );
    }
    const alarms = Object.values(stack.resources).filter(
      (resource) => resource.Type === 'AWS::CloudWatch::Alarm',
    );
    if (alarms.length > 0) {
      lines.push(
        `    ${quote(node('alarms'))} [label=${quote(`CloudWatch alarms (${alarms.length})`)}, shape=box, fillcolor="#fde2c8"];`,
      );
    }
    lines.push('  }');

    // Which functions each role belongs to, and what each role's policies reference.
    const functionsOfRole = new Map<string, string[]>();
    for (const [id, resource] of Object.entries(stack.resources)) {
      if (resource.Type !== 'AWS::Lambda::Function') continue;
      for (const role of referencesIn(resource.Properties?.Role)) {
        functionsOfRole.set(role, [...(functionsOfRole.get(role) ?? []), id]);
      }
    }
    for (const [id, resource] of Object.entries(stack.resources)) {
      const properties = (resource.Properties ?? {}) as Json;
      switch (resource.Type) {
        case 'AWS::RestApi':
          break;
        case 'AWS::WAFv2::WebACLAssociation': {
          const acl = [...referencesIn(properties.WebACLArn)][0];
          const api = [...referencesIn(properties.ResourceArn)].find(
            (ref) => stack.resources[ref]?.Type === 'AWS::ApiGateway::RestApi',
          );
          if (acl && api) {
            edge('internet', node(acl), 'label="requests"');
            edge(node(acl), node(api), 'label="filters"');
          }
          break;
        }
        case 'AWS::Lambda::Permission': {
          const fn = [...referencesIn(properties.FunctionName)][0];
          const api = [...referencesIn(properties.SourceArn)].find(
            (ref) => stack.resources[ref]?.Type === 'AWS::ApiGateway::RestApi',
          );
          if (fn && api) edge(node(api), node(fn), 'label="invokes"');
          break;
        }
        case 'AWS::ApiGateway::Authorizer': {
          const api = [...referencesIn(properties.RestApiId)][0];
          const pool = Object.entries(stack.resources).find(
            ([, each]) => each.Type === 'AWS::Cognito::UserPool',
          )?.[0];
          if (api && pool) edge(node(api), node(pool), 'style=dotted, label="tokens issued by"');
          break;
        }
        case 'AWS::IAM::Policy':
        case 'AWS::IAM::Role': {
          const roles = resource.Type === 'AWS::IAM::Role' ? [id] : [...referencesIn(properties.Roles)];
          const targets = [
            ...referencesIn(
              resource.Type === 'AWS::IAM::Role' ? properties.Policies : properties.PolicyDocument,
            ),
          ].filter((ref) => shown.has(ref) && stack.resources[ref]?.Type !== 'AWS::KMS::Key');
          for (const role of roles) {
            const from = isTenantRole(stack, role) ? [role] : (functionsOfRole.get(role) ?? []);
            for (const source of from) {
              for (const target of targets) {
                const type = stack.resources[target]?.Type;
                const label = type === 'AWS::IAM::Role' ? 'assumes (tenant tag)' : '';
                edge(node(source), node(target), label ? `label=${quote(label)}, color="#b03060"` : '');
              }
            }
          }
          break;
        }
        case 'AWS::Lambda::EventSourceMapping': {
          const fn = [...referencesIn(properties.FunctionName)][0];
          const table = [...referencesIn(properties.EventSourceArn)][0];
          if (fn && table) edge(node(table), node(fn), 'label="stream", style=bold');
          break;
        }
        case 'AWS::Events::Rule': {
          for (const target of referencesIn(properties.Targets)) {
            if (shown.has(target)) edge(node(id), node(target), 'label="triggers"');
          }
          break;
        }
        case 'AWS::CloudWatch::Alarm': {
          for (const target of referencesIn(properties.AlarmActions)) {
            if (shown.has(target)) edge(node('alarms'), node(target), 'label="notify"');
          }
          break;
        }
        case 'AWS::CloudTrail::Trail': {
          for (const target of referencesIn(properties.S3BucketName))
            edge(node(id), node(target), 'label="log files"');
          break;
        }
        default:
          break;
      }
      // Encryption: a dashed edge to the key of every shown resource that names one.
      if (shown.has(id) && resource.Type !== 'AWS::IAM::Role') {
        const keyProperties = [
          properties.SSESpecification,
          properties.Replicas,
          properties.BucketEncryption,
          properties.KmsMasterKeyId,
          properties.EncryptionKeyArn,
          properties.KMSKeyId,
          properties.KmsKeyArn,
        ];
        for (const key of referencesIn(keyProperties)) {
          if (stack.resources[key]?.Type === 'AWS::KMS::Key')
            edge(node(id), node(key), 'style=dashed, arrowhead=none, color="#999999"');
        }
      }
    }
  }
  lines.push(...[...edges].sort(), '}');
  return `${lines.join('\n')}\n`;
}

/** Graphviz puts its title inside a group; an accessible SVG names itself as its first child. */
export function accessibleSvg(svg: string, title: string): string {
  return svg.replace(
    /<svg\b[^>]*>/,
    (open) => `${open.replace(/^<svg/, '<svg role="img"')}\n<title>${title}</title>`,
  );
}

/** Renders Graphviz source to SVG with Graphviz compiled to WebAssembly. */
export async function renderSvg(dot: string): Promise<string> {
  const viz = await instance();
  return accessibleSvg(
    viz.renderString(dot, { format: 'svg', engine: 'dot' }),
    'Strongroom architecture: stacks, resources and their relations, from the synthesized CloudFormation',
  );
}
