/**
 * Federated sign-in in the template (AUTH-3, AUTH-4, AUTH-6): per-tenant OIDC and SAML
 * identity providers from configuration, with attribute mapping, their own app client, and
 * the pre-token-generation trigger that refuses users without the IdP's MFA claim. On a
 * small stack of its own (one function to bundle); the configuration parser's refusals too.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectRoot } from '#infra/build-app';
import { DataTables } from '#infra/constructs/data-tables';
import { IdentityFederation } from '#infra/constructs/identity-federation';
import { StrongroomKey } from '#infra/constructs/strongroom-key';
import { TenantKeyAccess } from '#infra/constructs/tenant-key-access';
import { UserDirectory } from '#infra/constructs/user-directory';
import { type FederationConfig, parseFederationConfig } from '#infra/federation-config';

const secretArn = 'arn:aws:secretsmanager:eu-central-1:111122223333:secret:acme-oidc-AbCdEf';

const settings = {
  domainPrefix: 'strongroom-dev-login',
  callbackUrls: ['https://app.dev.strongroom.example/auth/callback'],
  logoutUrls: ['https://app.dev.strongroom.example/'],
  identityProviders: [
    {
      name: 'acme-entra',
      type: 'oidc',
      tenantId: 'acme',
      issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
      clientId: 'acme-client',
      clientSecretArn: secretArn,
      claims: { email: 'email', groups: 'groups', mfa: 'amr' },
      groupRoles: { 'finance-admins': 'admin', 'ap-clerks': 'accountant' },
      mfaValues: ['mfa'],
    },
    {
      name: 'globex-okta',
      type: 'saml',
      tenantId: 'globex',
      metadataUrl: 'https://globex.okta.com/app/abc/sso/saml/metadata',
      claims: { email: 'email', groups: 'groups', mfa: 'authnContextClassRef' },
      groupRoles: { Accounting: 'accountant' },
      mfaValues: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor'],
    },
  ],
};

let template: Template;
let config: FederationConfig;

beforeAll(() => {
  config = parseFederationConfig(settings, 'federation') as FederationConfig;
  // Partition literals as cdk.json sets them: acknowledgements name ARNs as strings.
  const app = new App({ context: { '@aws-cdk/core:enablePartitionLiterals': true } });
  const stack = new Stack(app, 'test', { env: { account: '111122223333', region: 'eu-central-1' } });
  const users = new UserDirectory(stack, 'Users', { stage: 'dev' });
  const tableKey = new StrongroomKey(stack, 'TableKey', {
    stage: 'dev',
    purpose: 'tables',
    viaServices: ['dynamodb'],
  });
  const logKey = new StrongroomKey(stack, 'LogKey', {
    stage: 'dev',
    purpose: 'logs',
    allowCloudWatchLogs: true,
  });
  const functionKey = new StrongroomKey(stack, 'FunctionKey', {
    stage: 'dev',
    purpose: 'function-environment',
    viaServices: ['lambda'],
  });
  const dataTables = new DataTables(stack, 'Tables', { stage: 'dev', encryptionKey: tableKey.key });
  const federation = new IdentityFederation(stack, 'Federation', {
    stage: 'dev',
    userPool: users.userPool,
    config,
    dataTables,
    projectRoot,
    environment: {
      STRONGROOM_MODE: 'aws',
      STRONGROOM_STAGE: 'dev',
      COGNITO_USER_POOL_ID: users.userPool.userPoolId,
      COGNITO_CLIENT_ID: users.client.userPoolClientId,
    },
    environmentKey: functionKey.key,
    logKey: logKey.key,
  });
  // As the platform stack wires it: members are sealed (ENC-3), the trigger reads and writes them.
  new TenantKeyAccess(stack, 'TenantKeys', {
    stage: 'dev',
    drRegion: 'eu-west-1',
    dataTables,
    sealing: [],
    onboarding: [],
  }).grantDataKeyUse(federation.trigger);
  template = Template.fromStack(stack);
}, 120_000);

const resources = (type: string) =>
  Object.entries(template.findResources(type)) as [string, { Properties: Record<string, unknown> }][];

describe('[AUTH-4] per-tenant identity providers from configuration', () => {
  it('creates the OIDC provider with its issuer, a Secrets Manager reference for the client secret and the attribute mapping', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'acme-entra',
      ProviderType: 'OIDC',
      ProviderDetails: {
        client_id: 'acme-client',
        client_secret: `{{resolve:secretsmanager:${secretArn}:SecretString:clientSecret::}}`,
        oidc_issuer: 'https://login.microsoftonline.com/00000000-0000-0000-0000-000000000000/v2.0',
        authorize_scopes: 'openid email profile',
        attributes_request_method: 'GET',
      },
      AttributeMapping: { email: 'email', 'custom:idp_groups': 'groups', 'custom:idp_mfa': 'amr' },
    });
  });

  it('creates the SAML provider from its metadata URL with the attribute mapping', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolIdentityProvider', {
      ProviderName: 'globex-okta',
      ProviderType: 'SAML',
      ProviderDetails: {
        MetadataURL: 'https://globex.okta.com/app/abc/sso/saml/metadata',
        IDPSignout: false,
      },
      AttributeMapping: {
        email: 'email',
        'custom:idp_groups': 'groups',
        'custom:idp_mfa': 'authnContextClassRef',
      },
    });
  });

  it('signs federated users in through an app client of their own: code grant, 60-minute tokens, revocable, no attribute self-service', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'strongroom-dev-federated',
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      CallbackURLs: settings.callbackUrls,
      LogoutURLs: settings.logoutUrls,
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
      AccessTokenValidity: 60,
      IdTokenValidity: 60,
      EnableTokenRevocation: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: 'strongroom-dev-login' });
    const providerIds = resources('AWS::Cognito::UserPoolIdentityProvider').map(([id]) => id);
    const [, client] =
      resources('AWS::Cognito::UserPoolClient').find(
        ([, each]) => each.Properties.ClientName === 'strongroom-dev-federated',
      ) ?? [];
    expect(client?.Properties.SupportedIdentityProviders).toEqual(providerIds.map((id) => ({ Ref: id })));
    expect(client?.Properties.WriteAttributes).toEqual(['custom:idp_groups', 'custom:idp_mfa', 'email']);
  });

  it('keeps the API client to pool users, unable to write the attributes federation relies on', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      ClientName: 'strongroom-dev-api',
      SupportedIdentityProviders: ['COGNITO'],
      WriteAttributes: ['email'],
    });
    const [, pool] = resources('AWS::Cognito::UserPool')[0] ?? [];
    expect(pool?.Properties.Schema).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: 'idp_groups', Mutable: true }),
        expect.objectContaining({ Name: 'idp_mfa', Mutable: true }),
      ]),
    );
  });
});

describe('[AUTH-3] federated users need the MFA claim of their IdP', () => {
  it('runs the pre-token-generation trigger (V2_0) on every token the pool issues', () => {
    const [[triggerId]] = resources('AWS::Lambda::Function').filter(([, fn]) =>
      String(fn.Properties.FunctionName).endsWith('-identity-federation'),
    ) as [[string, unknown]];
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      LambdaConfig: {
        PreTokenGenerationConfig: { LambdaArn: { 'Fn::GetAtt': [triggerId, 'Arn'] }, LambdaVersion: 'V2_0' },
      },
    });
  });

  it('gives the trigger the providers, tenants, group maps and MFA values, and nothing secret or pool-specific', () => {
    const [[, trigger]] = resources('AWS::Lambda::Function').filter(([, fn]) =>
      String(fn.Properties.FunctionName).endsWith('-identity-federation'),
    ) as [[string, { Properties: Record<string, unknown> }]];
    const variables = (trigger.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(JSON.parse(String(variables.FEDERATION_PROVIDERS))).toEqual([
      {
        name: 'acme-entra',
        tenantId: 'acme',
        groupRoles: { 'finance-admins': 'admin', 'ap-clerks': 'accountant' },
        mfaValues: ['mfa'],
      },
      {
        name: 'globex-okta',
        tenantId: 'globex',
        groupRoles: { Accounting: 'accountant' },
        mfaValues: ['http://schemas.openid.net/pape/policies/2007/06/multi-factor'],
      },
    ]);
    expect(Object.keys(variables).filter((name) => name.startsWith('COGNITO_'))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('acme-client-secret-value');
  });
});

describe('[ENC-3][AUTH-4] the trigger opens and seals the members it keeps in line', () => {
  it('may Decrypt data keys of this stage only, read the key registry and check the tenant is active', () => {
    const [[, trigger]] = resources('AWS::Lambda::Function').filter(([, fn]) =>
      String(fn.Properties.FunctionName).endsWith('-identity-federation'),
    ) as [[string, { Properties: Record<string, unknown> }]];
    const roleId = (trigger.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
    const statements = resources('AWS::IAM::Policy')
      .filter(([, policy]) => JSON.stringify(policy.Properties.Roles).includes(roleId))
      .flatMap(
        ([, policy]) =>
          (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] }).Statement,
      );
    const kms = statements.filter((statement) => JSON.stringify(statement.Resource).includes(':key/*'));
    expect(kms.map((statement) => statement.Action)).toEqual(['kms:Decrypt']);
    expect(kms[0]?.Condition).toEqual({
      StringEquals: {
        'aws:ResourceTag/strongroom:stage': 'dev',
        'kms:EncryptionContext:purpose': 'tenant-data-key',
      },
    });
    const [[registryId]] = resources('AWS::DynamoDB::GlobalTable').filter(
      ([, table]) => table.Properties.TableName === 'strongroom-dev-tenants',
    ) as [[string, unknown]];
    const onRegistry = statements
      .filter((statement) => JSON.stringify(statement.Resource).includes(registryId))
      .flatMap((statement) => [statement.Action].flat().map(String));
    expect([...new Set(onRegistry)].sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
  });
});

describe('[AUTH-4] the federation configuration refuses what could widen access or leak a secret', () => {
  const provider = settings.identityProviders[0] as Record<string, unknown>;
  const withProvider = (changes: Record<string, unknown>) => ({
    ...settings,
    identityProviders: [{ ...provider, ...changes }],
  });

  it.each([
    [
      'an inline client secret',
      withProvider({ clientSecret: 'acme-client-secret-value' }),
      /never the secret itself/,
    ],
    [
      'a secret that is not in Secrets Manager',
      withProvider({ clientSecretArn: 'plain' }),
      /clientSecretArn/,
    ],
    ['the platform tenant', withProvider({ tenantId: 'platform' }), /customer tenant/],
    ['a group mapped to the operator', withProvider({ groupRoles: { ops: 'operator' } }), /person role/],
    ['no MFA values', withProvider({ mfaValues: [] }), /mfaValues/],
    ['a plain-http issuer', withProvider({ issuer: 'http://idp.example' }), /https/],
    ['a provider of another type', withProvider({ type: 'ldap' }), /oidc or saml/],
    ['a missing claim mapping', withProvider({ claims: { email: 'email', groups: 'groups' } }), /claims.mfa/],
    ['an http callback', { ...settings, callbackUrls: ['http://app.example/cb'] }, /callbackUrls/],
    ['a reserved domain prefix', { ...settings, domainPrefix: 'my-cognito' }, /domainPrefix/],
  ])('refuses %s', (_name, value, message) => {
    expect(() => parseFederationConfig(value, 'federation')).toThrow(message);
  });
});
