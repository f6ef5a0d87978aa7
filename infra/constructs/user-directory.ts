import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';

/** Access and ID token lifetime: at most 60 minutes (AUTH-6). */
export const accessTokenValidity = Duration.minutes(60);

/** Minimum password length (AUTH-1). */
export const minimumPasswordLength = 14;

export interface UserDirectoryProps {
  /** Stage that owns the pool; part of its name. */
  readonly stage: string;
  /**
   * Verified SES sender address; when set, Cognito mails through SES and email OTP
   * becomes a second MFA factor next to TOTP (AUTH-3).
   * @default - Cognito's own mailer, TOTP as the only MFA factor
   */
  readonly sesFromEmail?: string;
}

/**
 * The Cognito user pool and the API's public app client: Plus plan with threat protection
 * enforced, MFA required, strong passwords, 60-minute tokens, revocable refresh tokens
 * (AUTH-1, AUTH-2, AUTH-3, AUTH-6).
 */
export class UserDirectory extends Construct {
  readonly userPool: cognito.UserPool;
  readonly client: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props: UserDirectoryProps) {
    super(scope, id);
    if (!/^[a-z0-9-]+$/.test(props.stage)) {
      throw new Error(`user directory stage must match [a-z0-9-]+, got ${JSON.stringify(props.stage)}`);
    }
    if (props.sesFromEmail !== undefined && !/^[^@\s]+@[^@\s]+$/.test(props.sesFromEmail)) {
      throw new Error(
        `user directory sesFromEmail must be an email address, got ${JSON.stringify(props.sesFromEmail)}`,
      );
    }
    const withSes = props.sesFromEmail !== undefined;

    this.userPool = new cognito.UserPool(this, 'UserPool', {
      userPoolName: `strongroom-${props.stage}`,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      customThreatProtectionMode: cognito.CustomThreatProtectionMode.FULL_FUNCTION,
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false, email: withSes },
      passwordPolicy: {
        minLength: minimumPasswordLength,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        passwordHistorySize: 24,
        tempPasswordValidity: Duration.days(3),
      },
      // Members join by invitation from their tenant's owner or admin, never by self sign-up.
      selfSignUpEnabled: false,
      // Where federated sign-in maps the IdP's groups and MFA claim (AUTH-3, AUTH-4); only the
      // federated app client may write them (infra/constructs/identity-federation.ts).
      customAttributes: {
        idp_groups: new cognito.StringAttribute({ mutable: true, maxLen: 2048 }),
        idp_mfa: new cognito.StringAttribute({ mutable: true, maxLen: 2048 }),
      },
      signInAliases: { email: true },
      signInCaseSensitive: false,
      autoVerify: { email: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      email: withSes
        ? cognito.UserPoolEmail.withSES({
            fromEmail: props.sesFromEmail ?? '',
            sesRegion: Stack.of(this).region,
          })
        : cognito.UserPoolEmail.withCognito(),
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.client = this.userPool.addClient('ApiClient', {
      userPoolClientName: `strongroom-${props.stage}-api`,
      // USER_PASSWORD_AUTH lets Cognito see the password over TLS, so compromised-credential checks apply (AUTH-1).
      authFlows: { userPassword: true, userSrp: false, custom: false, adminUserPassword: false },
      generateSecret: false,
      disableOAuth: true,
      accessTokenValidity,
      idTokenValidity: accessTokenValidity,
      refreshTokenValidity: Duration.hours(12),
      authSessionValidity: Duration.minutes(3),
      enableTokenRevocation: true,
      preventUserExistenceErrors: true,
      // Pool users only; federated users sign in through the federated client.
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      // A user may change their email, never the attributes federated sign-in relies on.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true }),
    });

    // Explicit risk responses instead of Cognito's defaults (AUTH-1, AUTH-2): block sign-in, sign-up
    // and password change with a known-compromised password, and block high-risk sign-ins.
    new cognito.CfnUserPoolRiskConfigurationAttachment(this, 'RiskConfiguration', {
      userPoolId: this.userPool.userPoolId,
      clientId: 'ALL',
      compromisedCredentialsRiskConfiguration: {
        actions: { eventAction: 'BLOCK' },
        eventFilter: ['SIGN_IN', 'PASSWORD_CHANGE', 'SIGN_UP'],
      },
      accountTakeoverRiskConfiguration: {
        actions: {
          highAction: { eventAction: 'BLOCK', notify: false },
          mediumAction: { eventAction: 'MFA_REQUIRED', notify: false },
          lowAction: { eventAction: 'MFA_REQUIRED', notify: false },
        },
      },
    });
  }
}
