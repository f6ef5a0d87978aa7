import { Duration } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { corsAllowHeaders } from '#shared/http/cors';
import { gatewayProblems, problem, problemContentType } from '#shared/http/problem';
import { routes as declaredRoutes, type RouteDefinition, type RouteGroup } from '#shared/http/routes';
import { securityHeaders } from '#shared/http/security-headers';
import { EncryptedLogGroup } from './encrypted-log-group';

/**
 * Enhanced TLS policy of the API (ENC-1): TLS 1.3, and TLS 1.2 with forward-secret and
 * post-quantum key exchange only; with strict endpoint access a client cannot bypass it.
 */
export const apiSecurityPolicy = apigw.SecurityPolicy.TLS13_1_2_PFS_PQ_2025_09;
export const apiEndpointAccessMode = apigw.EndpointAccessMode.STRICT;

/** Headers a browser may send cross-origin (API-4). */

/** One access log line per request, as JSON, with no body and no token (LOG-1, SEC-1). */
const accessLogFields = {
  requestId: apigw.AccessLogField.contextRequestId(),
  extendedRequestId: apigw.AccessLogField.contextExtendedRequestId(),
  requestTimeEpoch: apigw.AccessLogField.contextRequestTimeEpoch(),
  sourceIp: apigw.AccessLogField.contextIdentitySourceIp(),
  httpMethod: apigw.AccessLogField.contextHttpMethod(),
  resourcePath: apigw.AccessLogField.contextResourcePath(),
  protocol: apigw.AccessLogField.contextProtocol(),
  status: apigw.AccessLogField.contextStatus(),
  responseLength: apigw.AccessLogField.contextResponseLength(),
  responseLatency: apigw.AccessLogField.contextResponseLatency(),
  integrationLatency: apigw.AccessLogField.contextIntegrationLatency(),
  principalId: apigw.AccessLogField.contextAuthorizerPrincipalId(),
  tenantId: apigw.AccessLogField.contextAuthorizer('tenantId'),
  authorizerError: apigw.AccessLogField.contextAuthorizerError(),
  errorType: apigw.AccessLogField.contextErrorResponseType(),
  wafStatus: apigw.AccessLogField.contextWafResponseCode(),
};

/** A static header value for API Gateway: the whole value between single quotes. */
function staticHeaderValue(value: string): string {
  return `'${value}'`;
}

export interface StrongroomApiProps {
  /** Stage that owns the API; also the API Gateway stage name. */
  readonly stage: string;
  /**
   * Routes to build, one method each.
   * @default - `routes` from shared/http/routes.ts
   */
  readonly routes?: readonly RouteDefinition[];
  /** The function serving each route group. */
  readonly routeFunctions: Readonly<Record<RouteGroup, lambda.IFunction>>;
  /** The REQUEST authorizer function (tokens and API keys). */
  readonly authorizerFunction: lambda.IFunction;
  /** Customer-managed key for the access and execution log groups (ENC-2). */
  readonly logKey: kms.IKey;
  /** Stage-wide steady-state requests per second (AUTH-2). */
  readonly throttlingRateLimit: number;
  /** Stage-wide burst (AUTH-2). */
  readonly throttlingBurstLimit: number;
  /**
   * Exact origins that may call the API from a browser (API-4).
   * @default - none: no CORS preflight methods at all
   */
  readonly allowedOrigins?: readonly string[];
}

/**
 * The REST API, built from the route table: a Lambda proxy method per route, a REQUEST
 * authorizer on every non-public route, a request validator, enhanced TLS with strict
 * endpoint access, gateway responses as problem details with the security headers, JSON
 * access logs and error-level execution logs in KMS-encrypted log groups, stage throttling
 * and X-Ray tracing.
 */
export class StrongroomApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly authorizer: apigw.RequestAuthorizer;
  readonly accessLogs: EncryptedLogGroup;
  readonly executionLogs: EncryptedLogGroup;
  /** Every route's method, by route id. */
  readonly methods: ReadonlyMap<string, apigw.Method>;
  /** Methods that API Gateway answers itself for CORS preflight. */
  readonly preflightMethods: readonly apigw.Method[];

  constructor(scope: Construct, id: string, props: StrongroomApiProps) {
    super(scope, id);
    const { stage } = props;
    if (!/^[a-z0-9-]+$/.test(stage)) {
      throw new Error(`strongroom api stage must match [a-z0-9-]+, got ${JSON.stringify(stage)}`);
    }
    for (const [name, value] of [
      ['throttlingRateLimit', props.throttlingRateLimit],
      ['throttlingBurstLimit', props.throttlingBurstLimit],
    ] as const) {
      if (!Number.isInteger(value) || value < 1) {
        throw new Error(`strongroom api ${name} must be a positive integer, got ${JSON.stringify(value)}`);
      }
    }
    const routes = props.routes ?? declaredRoutes;
    if (routes.length === 0) throw new Error('strongroom api needs at least one route, got none');
    const allowedOrigins = props.allowedOrigins ?? [];
    for (const origin of allowedOrigins) {
      if (!/^https:\/\/[a-z0-9.-]+(:\d+)?$/.test(origin)) {
        throw new Error(
          `strongroom api allowed origins must be exact https origins, got ${JSON.stringify(origin)}`,
        );
      }
    }

    this.accessLogs = new EncryptedLogGroup(this, 'AccessLogs', {
      logGroupName: `/strongroom/${stage}/api-access`,
      logClass: 'access',
      encryptionKey: props.logKey,
    });

    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: `strongroom-${stage}`,
      description: `Strongroom API (${stage})`,
      // Regional: requests terminate in the EU region, not at a global edge (INF-3).
      endpointConfiguration: { types: [apigw.EndpointType.REGIONAL] },
      // The account-level logging role belongs to the account stack, not to a stage.
      cloudWatchRole: false,
      failOnWarnings: true,
      deployOptions: {
        stageName: stage,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs.logGroup),
        accessLogFormat: apigw.AccessLogFormat.custom(JSON.stringify(accessLogFields)),
        // Errors only and never request or response bodies: bodies hold personal data (DAT-3).
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit,
      },
      defaultCorsPreflightOptions:
        allowedOrigins.length === 0
          ? undefined
          : {
              allowOrigins: [...allowedOrigins],
              allowMethods: [...new Set(routes.map((route) => route.method))],
              allowHeaders: [...corsAllowHeaders],
              allowCredentials: false,
              maxAge: Duration.minutes(10),
            },
    });

    // Enhanced TLS policy with strict endpoint access; the L2 does not expose them for a RestApi.
    const cfnApi = this.restApi.node.defaultChild as apigw.CfnRestApi;
    cfnApi.securityPolicy = apiSecurityPolicy;
    cfnApi.endpointAccessMode = apiEndpointAccessMode;

    // API Gateway would create this group itself, unencrypted and kept forever; create it first.
    this.executionLogs = new EncryptedLogGroup(this, 'ExecutionLogs', {
      logGroupName: `API-Gateway-Execution-Logs_${this.restApi.restApiId}/${stage}`,
      logClass: 'application',
      encryptionKey: props.logKey,
    });
    this.restApi.deploymentStage.node.addDependency(this.executionLogs);

    this.authorizer = new apigw.RequestAuthorizer(this, 'Authorizer', {
      authorizerName: `strongroom-${stage}-authorizer`,
      handler: props.authorizerFunction,
      identitySources: [apigw.IdentitySource.header('Authorization')],
      // The authorizer caches members itself for at most 60 s (AUTH-6); a gateway cache keyed by
      // the header alone would also outlive a revoked API key.
      resultsCacheTtl: Duration.seconds(0),
    });

    const validator = this.restApi.addRequestValidator('RequestValidator', {
      requestValidatorName: `strongroom-${stage}-validator`,
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    const integrations = new Map<RouteGroup, apigw.LambdaIntegration>();
    const integrationFor = (group: RouteGroup): apigw.LambdaIntegration => {
      let integration = integrations.get(group);
      if (integration === undefined) {
        // Test invocations from the console would bypass the authorizer; do not allow them.
        integration = new apigw.LambdaIntegration(props.routeFunctions[group], {
          proxy: true,
          allowTestInvoke: false,
        });
        integrations.set(group, integration);
      }
      return integration;
    };

    const methods = new Map<string, apigw.Method>();
    for (const route of routes) {
      if (methods.has(route.id)) throw new Error(`route id declared twice, got ${JSON.stringify(route.id)}`);
      const isPublic = route.permission === 'public';
      const pathParameters = [...route.path.matchAll(/\{(\w+)\}/g)].map((match) => match[1] ?? '');
      const method = this.restApi.root
        .resourceForPath(route.path)
        .addMethod(route.method, integrationFor(route.group), {
          operationName: route.id,
          authorizationType: isPublic ? apigw.AuthorizationType.NONE : apigw.AuthorizationType.CUSTOM,
          authorizer: isPublic ? undefined : this.authorizer,
          requestValidator: validator,
          requestParameters: Object.fromEntries(
            pathParameters.map((name) => [`method.request.path.${name}`, true]),
          ),
        });
      methods.set(route.id, method);
    }
    this.methods = methods;
    this.preflightMethods = this.restApi.methods.filter((method) => method.httpMethod === 'OPTIONS');

    // API Gateway's own answers are problem details with the security headers (API-5).
    const responseHeaders: Record<string, string> = {
      ...Object.fromEntries(
        Object.entries(securityHeaders).map(([name, value]) => [name, staticHeaderValue(value)]),
      ),
      'Content-Type': staticHeaderValue(problemContentType),
    };
    for (const [type, { status, code, detail }] of Object.entries(gatewayProblems)) {
      const body = problem(status, code, detail, { requestId: '$context.requestId' });
      this.restApi.addGatewayResponse(`Problem${type}`, {
        type: apigw.ResponseType.of(type),
        statusCode: String(status),
        responseHeaders,
        templates: { 'application/json': JSON.stringify(body) },
      });
    }
  }

  /** ARN of the deployed stage, for the web ACL association. */
  get stageArn(): string {
    return this.restApi.deploymentStage.stageArn;
  }
}
