import { CustomResource, Duration } from 'aws-cdk-lib';
import type * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import { acknowledge, reasons } from '../nag-suppressions';
import { RouteFunction } from './route-function';

/** The fetcher's handler module, relative to the project root. */
export const cognitoJwksModule = 'functions/cognito-jwks/handler.ts';

/**
 * Why the fetcher is the one function of a private stage outside its network (INF-7
 * exemption): docs/network.md, "The Cognito JWKS: preloaded at deployment".
 */
export const cognitoJwksExemption =
  "Deploy-time custom resource only: CloudFormation invokes it when the stage's user pool is created or replaced, to read the pool's public JWKS from https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json. Cognito documents its PrivateLink endpoint for the user pools API, not for the pool's .well-known documents; an unauthenticated request through the endpoint meets the endpoint policy, which admits our account's principals only; and a pool with a domain (federated sign-in) cannot be used through the endpoint at all. It holds no permission besides its log group and can fetch nothing but that URL; no request, token or tenant data reaches it.";

export interface CognitoJwksProps {
  /** Stage that owns the fetcher. */
  readonly stage: string;
  /** Project root with package.json and the handler modules. */
  readonly projectRoot: string;
  /** Runtime configuration shared by every function (shared/config/runtime.ts); nothing secret. */
  readonly environment: Readonly<Record<string, string>>;
  /** Customer-managed key of the function's environment (ENC-2). */
  readonly environmentKey: kms.IKey;
  /** Customer-managed key of its log group (ENC-2). */
  readonly logKey: kms.IKey;
  /** The pool whose signing keys the authorizer trusts. */
  readonly userPool: cognito.IUserPool;
}

/**
 * The user pool's JWKS, read once at deployment (INF-7, AUTH-6): a custom resource whose
 * function fetches `https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json`,
 * checks it holds RS256 public keys only, and returns it as `value` for the authorizer's
 * `COGNITO_JWKS`. The authorizer then verifies tokens without any network path to Cognito,
 * which a stage with a private network does not have. A new pool id runs it again.
 */
export class CognitoJwks extends Construct {
  readonly function: RouteFunction;
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: CognitoJwksProps) {
    super(scope, id);
    this.function = new RouteFunction(this, 'Fetcher', {
      stage: props.stage,
      name: 'cognito-jwks',
      entry: cognitoJwksModule,
      description: `Strongroom ${props.stage}: reads the user pool's public JWKS at deployment`,
      projectRoot: props.projectRoot,
      environment: props.environment,
      environmentKey: props.environmentKey,
      logKey: props.logKey,
      logClass: 'security',
      timeout: Duration.seconds(30),
      memorySize: 256,
      outsidePrivateNetwork: cognitoJwksExemption,
    });
    acknowledge(this.function.tracingPolicy, {
      rule: 'AwsSolutions-IAM5[Resource::*]',
      reason: reasons.xrayWildcard,
    });
    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: this.function.function.functionArn,
      resourceType: 'Custom::CognitoJwks',
      properties: { UserPoolId: props.userPool.userPoolId },
    });
  }

  /** The JWKS as compact JSON, resolved at deployment. */
  get value(): string {
    return this.resource.getAttString('Jwks');
  }
}
