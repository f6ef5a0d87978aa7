/**
 * cognito-local, run in this process (no extra process to orphan), configured so that the
 * production verifier class accepts its tokens unchanged (AUTH-6): the issuer has the
 * Cognito form `https://cognito-idp.<region>.amazonaws.com/<poolId>`, the pool id has the
 * `<region>_<id>` form, and the app client's access tokens last 60 minutes.
 *
 * cognito-local's own entry point keeps its data under `./.cognito` of the working
 * directory and names pools `local_…`; we assemble the same services it assembles, with
 * our data folder, and create the pool with a Cognito-form id directly in its store.
 */
// Before cognito-local's modules: they load aws-sdk v2, whose end-of-support notice is not ours.
import './silence-aws-sdk-v2';
import { randomInt } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { type Config, DefaultConfig } from 'cognito-local/lib/server/config.js';
import { Router } from 'cognito-local/lib/server/Router.js';
import { createServer as createCognitoApp } from 'cognito-local/lib/server/server.js';
import { DateClock } from 'cognito-local/lib/services/clock.js';
import { type CognitoService, CognitoServiceFactoryImpl } from 'cognito-local/lib/services/cognitoService.js';
import type { Context } from 'cognito-local/lib/services/context.js';
import { CryptoService } from 'cognito-local/lib/services/crypto.js';
import { StormDBDataStoreFactory } from 'cognito-local/lib/services/dataStore/stormDb.js';
import type { Services } from 'cognito-local/lib/services/index.js';
import { LambdaService } from 'cognito-local/lib/services/lambda.js';
import { ConsoleMessageSender } from 'cognito-local/lib/services/messageDelivery/consoleMessageSender.js';
import { MessageDeliveryService } from 'cognito-local/lib/services/messageDelivery/messageDelivery.js';
import { MessagesService } from 'cognito-local/lib/services/messages.js';
import { otp } from 'cognito-local/lib/services/otp.js';
import { JwtTokenGenerator } from 'cognito-local/lib/services/tokenGenerator.js';
import { TriggersService } from 'cognito-local/lib/services/triggers/triggers.js';
import { UserPoolServiceFactoryImpl } from 'cognito-local/lib/services/userPoolService.js';
import { closeServer, listen } from './ports';
import { assertLoopback, cognitoIssuer, loopbackHost } from './settings';

/** Name of the local user pool; how a restart finds the pool it created before. */
export const localUserPoolName = 'strongroom-local';
const userPoolIdPattern = /^[a-z]{2}-[a-z]+-\d_[0-9A-Za-z]{9}$/;
const idAlphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

// cognito-local's own pino (its server needs a pino logger), resolved from where it is installed.
type PinoLogger = Parameters<typeof createCognitoApp>[1];
interface Pino {
  (options: object, destination: unknown): PinoLogger;
  destination(fd: number): unknown;
}
const pino = createRequire(createRequire(import.meta.url).resolve('cognito-local'))('pino') as Pino;

export interface CognitoLocalOptions {
  /** Folder for cognito-local's JSON stores (pools, users, clients); created by the caller. */
  readonly dataDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly region: string;
  /** Browser origins that may call it (a local web front end); other origins are refused. */
  readonly allowedOrigins: readonly string[];
  /** @default 127.0.0.1 */
  readonly host?: string;
  /** cognito-local's log level. @default 'error' */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

export interface CognitoLocal {
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly userPoolId: string;
  /** Exactly the `iss` claim of its tokens. */
  readonly issuer: string;
  stop(): Promise<void>;
}

export async function startCognitoLocal(options: CognitoLocalOptions): Promise<CognitoLocal> {
  const host = options.host ?? loopbackHost;
  assertLoopback(host);
  // Errors only, on stderr: at debug level cognito-local would log stored users, passwords included.
  const logger = pino({ level: options.logLevel ?? 'error', base: undefined }, pino.destination(2));
  const ctx: Context = { logger };
  const config: Config = {
    ...DefaultConfig,
    UserPoolDefaults: { UsernameAttributes: ['email'] },
    TokenConfig: { IssuerDomain: `https://cognito-idp.${options.region}.amazonaws.com` },
    ServerConfig: { hostname: host, port: options.port, development: false, https: false },
  };

  const clock = new DateClock();
  const dataStoreFactory = new StormDBDataStoreFactory(options.dataDir);
  const cognito = await new CognitoServiceFactoryImpl(
    options.dataDir,
    dataStoreFactory,
    new UserPoolServiceFactoryImpl(clock, dataStoreFactory),
  ).create(ctx, config.UserPoolDefaults);
  // No trigger functions are configured, so cognito-local never calls Lambda.
  const lambdaClient = {} as ConstructorParameters<typeof LambdaService>[1];
  const triggers = new TriggersService(
    clock,
    cognito,
    new LambdaService(config.TriggerFunctions, lambdaClient),
    new CryptoService(config.KMSConfig),
  );
  const services: Services = {
    clock,
    cognito,
    config,
    messages: new MessagesService(triggers, new MessageDeliveryService(new ConsoleMessageSender())),
    otp,
    tokenGenerator: new JwtTokenGenerator(clock, triggers, config.TokenConfig),
    triggers,
  };
  const userPoolId = await ensureUserPool(cognito, ctx, options.region);

  const app = createCognitoApp(Router(services), logger, config.ServerConfig, services).application as (
    request: IncomingMessage,
    response: ServerResponse,
  ) => void;
  const allowedOrigins = new Set(options.allowedOrigins);
  // cognito-local answers CORS for every origin; only the configured front ends may call it from a browser.
  const server = createHttpServer((request, response) => {
    const origin = request.headers.origin;
    if (origin !== undefined && !allowedOrigins.has(origin)) {
      response.writeHead(403, { 'Content-Type': 'application/json' }).end('{"message":"origin not allowed"}');
      return;
    }
    app(request, response);
  });
  await listen(server, host, options.port);
  const port = (server.address() as AddressInfo).port;

  return {
    endpoint: `http://${host}:${port}`,
    port,
    region: options.region,
    userPoolId,
    issuer: cognitoIssuer(options.region, userPoolId),
    stop: () => closeServer(server),
  };
}

/** The local pool, created once with an id in Cognito's `<region>_<9 characters>` form. */
async function ensureUserPool(cognito: CognitoService, ctx: Context, region: string): Promise<string> {
  const existing = (await cognito.listUserPools(ctx)).find(
    (pool) => pool.Name === localUserPoolName && userPoolIdPattern.test(pool.Id),
  );
  if (existing) return existing.Id;
  const suffix = Array.from({ length: 9 }, () => idAlphabet[randomInt(idAlphabet.length)]).join('');
  const id = `${region}_${suffix}`;
  const now = new Date();
  await cognito.createUserPool(ctx, {
    Id: id,
    Name: localUserPoolName,
    Arn: `arn:aws:cognito-idp:${region}:000000000000:userpool/${id}`,
    CreationDate: now,
    LastModifiedDate: now,
    UsernameAttributes: ['email'],
    AutoVerifiedAttributes: ['email'],
    // cognito-local has no SRP and sends no mail, so MFA is proven in the template, not here.
    MfaConfiguration: 'OFF',
    AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
    Policies: {
      PasswordPolicy: {
        MinimumLength: 14,
        RequireLowercase: true,
        RequireUppercase: true,
        RequireNumbers: true,
        RequireSymbols: true,
        TemporaryPasswordValidityDays: 1,
      },
    },
  });
  return id;
}
