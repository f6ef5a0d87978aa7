/**
 * `npm run tenant-key-policies`: brings the key policy of every tenant key of a stage, in
 * both regions, to the policy new tenant keys get (shared/crypto/key-service.ts,
 * `tenantKeyPolicy`). Tenant keys are created at run time, so a policy change in a release
 * reaches existing keys only through this: keys created before exports (DAT-1) lack the
 * export purpose, and their tenants' exports fail until it runs. Reports by default;
 * `--apply` writes. Run with credentials of a key administrator of the stage's account.
 *
 *   npm run tenant-key-policies -- --stage prod --account 111122223333 \
 *     --region eu-central-1 --replica-region eu-west-1 [--apply]
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { KmsKeyService, reconcileTenantKeyPolicies } from '#shared/crypto/key-service';
import { translateConfig } from '#shared/store/dynamo';
import { TenantRegistry } from '#shared/store/tenants';

const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    account: { type: 'string' },
    region: { type: 'string' },
    'replica-region': { type: 'string' },
    apply: { type: 'boolean', default: false },
  },
});
const { stage, account, region } = values;
const replicaRegion = values['replica-region'];
if (!stage || !account || !region || !replicaRegion) {
  console.error(
    'usage: npm run tenant-key-policies -- --stage <stage> --account <account> --region <region> --replica-region <region> [--apply]',
  );
  process.exit(2);
}
const keys = new KmsKeyService({
  primary: new KMSClient({ region }),
  replica: (replica) => new KMSClient({ region: replica }),
  settings: { account, replicaRegion },
  stage,
  signer: () => {
    throw new Error('no checkpoint is signed here');
  },
});
const tenants = await new TenantRegistry(stage).list(
  DynamoDBDocumentClient.from(new DynamoDBClient({ region }), translateConfig),
);
const report = await reconcileTenantKeyPolicies(keys, tenants, values.apply);
for (const line of report.lines) console.log(line);
console.log(report.summary);
if (!values.apply && report.outdated > 0) process.exitCode = 1;
