import { describe, expect, it } from 'vitest';
import { assertTenantScoped, TenantGuardError, tableDefinitionsByName } from '#shared/store/tenant-guard';

const definitions = tableDefinitionsByName('test');
const data = 'strongroom-test-data';
const audit = 'strongroom-test-audit';
const members = 'strongroom-test-members';
const check = (command: string, input: object, tenant = 't1') =>
  assertTenantScoped(command, input as never, tenant, definitions);

describe('[AZ-3] the local tenant guard mirrors the tenant access role', () => {
  it('allows item actions on keys that start with the tenant prefix', () => {
    expect(() =>
      check('GetItemCommand', { TableName: data, Key: { pk: { S: 't1#invoice' } } }),
    ).not.toThrow();
    expect(() =>
      check('QueryCommand', {
        TableName: data,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 't1#invoice' } },
      }),
    ).not.toThrow();
  });

  it('refuses t1 reaching t10 items: the prefix includes the # separator', () => {
    expect(() => check('GetItemCommand', { TableName: data, Key: { pk: { S: 't10#invoice' } } })).toThrow(
      TenantGuardError,
    );
    expect(() =>
      check('QueryCommand', {
        TableName: data,
        KeyConditionExpression: '#p = :v AND begins_with(sk, :s)',
        ExpressionAttributeNames: { '#p': 'pk' },
        ExpressionAttributeValues: { ':v': { S: 't10#invoice' }, ':s': { S: 'inv_' } },
      }),
    ).toThrow(TenantGuardError);
  });

  it('refuses requests without a partition key value (the Null condition)', () => {
    expect(() => check('GetItemCommand', { TableName: data, Key: { sk: { S: 'x' } } })).toThrow(
      TenantGuardError,
    );
    expect(() =>
      check('QueryCommand', {
        TableName: data,
        KeyConditionExpression: 'sk = :s',
        ExpressionAttributeValues: { ':s': { S: 't1#x' } },
      }),
    ).toThrow(TenantGuardError);
  });

  it('refuses Scan and PartiQL outright', () => {
    expect(() => check('ScanCommand', { TableName: data })).toThrow(TenantGuardError);
    expect(() => check('ExecuteStatementCommand', { Statement: `SELECT * FROM "${data}"` })).toThrow(
      TenantGuardError,
    );
  });

  it('checks every item of a transaction and of a batch', () => {
    const transaction = {
      TransactItems: [
        { Put: { TableName: data, Item: { pk: { S: 't1#invoice' } } } },
        { Put: { TableName: data, Item: { pk: { S: 't2#invoice' } } } },
      ],
    };
    expect(() => check('TransactWriteItemsCommand', transaction)).toThrow(TenantGuardError);
    expect(() =>
      check('BatchGetItemCommand', { RequestItems: { [data]: { Keys: [{ pk: { S: 't2#invoice' } }] } } }),
    ).toThrow(TenantGuardError);
  });

  it('[AUD-2] allows only put, get and query on audit entries', () => {
    const key = { pk: { S: 't1#entry' }, sk: { S: 'aud_1' } };
    expect(() => check('PutItemCommand', { TableName: audit, Item: key })).not.toThrow();
    expect(() => check('UpdateItemCommand', { TableName: audit, Key: key })).toThrow(TenantGuardError);
    expect(() => check('DeleteItemCommand', { TableName: audit, Key: key })).toThrow(TenantGuardError);
    expect(() =>
      check('TransactWriteItemsCommand', { TransactItems: [{ Delete: { TableName: audit, Key: key } }] }),
    ).toThrow(TenantGuardError);
  });

  it('keeps platform indexes (the identity lookup) out of tenant sessions', () => {
    expect(() =>
      check('QueryCommand', {
        TableName: members,
        IndexName: 'byIdentity',
        KeyConditionExpression: 'identityId = :i',
        ExpressionAttributeValues: { ':i': { S: 't1#usr' } },
      }),
    ).toThrow(TenantGuardError);
  });

  it('refuses tables it does not know', () => {
    expect(() => check('GetItemCommand', { TableName: 'other', Key: { pk: { S: 't1#x' } } })).toThrow(
      TenantGuardError,
    );
  });

  it('[DAT-2] lets a tenant session read and condition-check its registry record, never write it', () => {
    const tenants = 'strongroom-test-tenants';
    const key = { pk: { S: 't1#tenant' }, sk: { S: 'registry' } };
    expect(() => check('GetItemCommand', { TableName: tenants, Key: key })).not.toThrow();
    expect(() =>
      check('TransactWriteItemsCommand', {
        TransactItems: [{ ConditionCheck: { TableName: tenants, Key: key } }],
      }),
    ).not.toThrow();
    for (const [command, input] of [
      ['PutItemCommand', { TableName: tenants, Item: key }],
      ['UpdateItemCommand', { TableName: tenants, Key: key }],
      ['DeleteItemCommand', { TableName: tenants, Key: key }],
      ['BatchWriteItemCommand', { RequestItems: { [tenants]: [{ PutRequest: { Item: key } }] } }],
      ['TransactWriteItemsCommand', { TransactItems: [{ Put: { TableName: tenants, Item: key } }] }],
    ] as const) {
      expect(() => check(command, input), command).toThrow(/platform jobs only/);
    }
  });
});
