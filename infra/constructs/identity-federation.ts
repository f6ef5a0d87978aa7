import { Duration, SecretValue } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import type { FederationProvider } from '#shared/auth/federation';
import type { FederationConfig, IdentityProviderConfig } from '../federation-config';
import type { DataTables } from './data-tables';
import { RouteFunction } from './route-function';
import { accessTokenValidity } from './user-directory';

/** The trigger's handler module, relative to the project root. */
export const federationTriggerModule = 'functions/identity-federation/handler.ts';

export interface IdentityFederationProps {
  readonly stage: string;
  readonly userPool: cognito.UserPool;
  readonly config: FederationConfig;
  /** The members and audit tables the trigger keeps federated memberships in. */
  readonly dataTables: DataTables;
  /** Project root, environment and keys of every Strongroom function. */
  readonly projectRoot: string;
  /**
   * The runtime configuration of the functions; user pool references are left out (the
   * pool references the trigger, so the trigger must not reference the pool).
   */
  readonly environment: Readonly<Record<string, string>>;
  readonly environmentKey: kms.IKey;
  readonly logKey: kms.IKey;
}

/**
 * Per-tenant OIDC and SAML identity providers from configuration (AUTH-4), and the rules
 * their users sign in under (AUTH-3):
 *
 * - each provider maps the IdP's email, groups and MFA claim to the user's `email`,
 *   `custom:idp_groups` and `custom:idp_mfa`;
 * - a public app client of its own signs people in through the providers with the
 *   authorization code grant (PKCE) on the pool's Cognito domain, tokens of 60 minutes,
 *   revocable; its tokens cannot change user attributes (no `aws.cognito.signin.user.admin`);
 * - the pre-token-generation trigger (V2_0, functions/identity-federation) refuses a
 *   sign-in without the IdP's MFA claim or without a group that maps to a role, and keeps
 *   the configured tenant's member record in line with the groups.
 */
export class IdentityFederation extends Construct {
  readonly providers: readonly cognito.IUserPoolIdentityProvider[];
  readonly client: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  readonly trigger: RouteFunction;

  constructor(scope: Construct, id: string, props: IdentityFederationProps) {
    super(scope, id);
    const { userPool, config } = props;

    this.providers = config.identityProviders.map((provider) => this.#provider(userPool, provider));

    this.domain = userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: config.domainPrefix } });
    this.client = userPool.addClient('FederatedClient', {
      userPoolClientName: `strongroom-${props.stage}-federated`,
      generateSecret: false,
      // Only the hosted sign-in through the providers: no password flows on this client.
      authFlows: { userPassword: false, userSrp: false, custom: false, adminUserPassword: false },
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [...config.callbackUrls],
        logoutUrls: [...config.logoutUrls],
      },
      supportedIdentityProviders: this.providers.map((provider) =>
        cognito.UserPoolClientIdentityProvider.custom(provider.providerName),
      ),
      accessTokenValidity,
      idTokenValidity: accessTokenValidity,
      refreshTokenValidity: Duration.hours(12),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
      // Attribute mapping writes these at every sign-in; nobody else does.
      writeAttributes: new cognito.ClientAttributes()
        .withStandardAttributes({ email: true })
        .withCustomAttributes('idp_groups', 'idp_mfa'),
    });
    for (const provider of this.providers) this.client.node.addDependency(provider);

    const runtimeProviders: FederationProvider[] = config.identityProviders.map(
      ({ name, tenantId, groupRoles, mfaValues }) => ({ name, tenantId, groupRoles, mfaValues }),
    );
    const environment = Object.fromEntries(
      Object.entries(props.environment).filter(([name]) => !name.startsWith('COGNITO_')),
    );
    this.trigger = new RouteFunction(this, 'Trigger', {
      stage: props.stage,
      name: 'identity-federation',
      projectRoot: props.projectRoot,
      entry: federationTriggerModule,
      description: `Strongroom ${props.stage}: federated sign-in (IdP MFA claim, groups to roles)`,
      environment: { ...environment, FEDERATION_PROVIDERS: JSON.stringify(runtimeProviders) },
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      timeout: Duration.seconds(5),
    });
    // A cross-tenant job: the configured tenants' member records and their audit logs.
    for (const tableId of ['members', 'audit', 'auditHead'] as const) {
      props.dataTables.grantItemReadWrite(this.trigger.role, tableId);
    }
    userPool.addTrigger(
      cognito.UserPoolOperation.PRE_TOKEN_GENERATION_CONFIG,
      this.trigger.function,
      cognito.LambdaVersion.V2_0,
    );
  }

  #provider(userPool: cognito.UserPool, provider: IdentityProviderConfig): cognito.IUserPoolIdentityProvider {
    const attributeMapping: cognito.AttributeMapping = {
      email: cognito.ProviderAttribute.other(provider.claims.email),
      // CloudFormation wants the full attribute names here, `custom:` prefix included.
      custom: {
        'custom:idp_groups': cognito.ProviderAttribute.other(provider.claims.groups),
        'custom:idp_mfa': cognito.ProviderAttribute.other(provider.claims.mfa),
      },
    };
    if (provider.type === 'oidc') {
      return new cognito.UserPoolIdentityProviderOidc(this, `Oidc-${provider.name}`, {
        userPool,
        name: provider.name,
        issuerUrl: provider.issuer,
        clientId: provider.clientId,
        // A dynamic reference: CloudFormation resolves it at deploy time; the value is never in the template.
        clientSecret: SecretValue.secretsManager(provider.clientSecretArn, {
          jsonField: 'clientSecret',
        }).unsafeUnwrap(),
        scopes: ['openid', 'email', 'profile'],
        attributeRequestMethod: cognito.OidcAttributeRequestMethod.GET,
        attributeMapping,
      });
    }
    return new cognito.UserPoolIdentityProviderSaml(this, `Saml-${provider.name}`, {
      userPool,
      name: provider.name,
      metadata: cognito.UserPoolIdentityProviderSamlMetadata.url(provider.metadataUrl),
      attributeMapping,
      idpSignout: false,
    });
  }
}
