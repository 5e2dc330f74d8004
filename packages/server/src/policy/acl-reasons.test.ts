import { describe, expect, it } from 'vitest';
import { Acl } from './acl.js';
import { policyFromDocument } from './policy-parse.js';

// The reason `decide` gives for each verdict, word for word: `sys/policies/explain` shows it to
// the operator who asks why a request was refused or allowed.
describe('ACL decisions and their reasons', () => {
  const policy = (name: string, rules: Record<string, Record<string, unknown>>) =>
    policyFromDocument(name, { path: rules }, '');
  const acl = new Acl([
    policy('readers', {
      'secret/data/app/*': { capabilities: ['read', 'list'] },
      'secret/data/ops/*': { capabilities: ['read'] },
      'sys/rotate': { capabilities: ['update'] },
      'secret/data/forms/*': {
        capabilities: ['update', 'delete'],
        denied_parameters: { admin: [] },
      },
    }),
    policy('writers', {
      'secret/data/app/*': { capabilities: ['read', 'update'] },
      'secret/data/ops/*': { capabilities: ['deny'] },
    }),
    policy('auditors', { 'secret/data/ops/*': { capabilities: ['deny'] } }),
  ]);

  it('names the root policy, and a path no rule matches', () => {
    expect(new Acl([], { root: true }).decide('anything/at/all', 'sudo')).toEqual({
      allowed: true,
      reason: 'the root policy allows everything',
    });
    expect(acl.decide('kv/other', 'read')).toEqual({
      allowed: false,
      reason: "no rule of the token's policies matches the path",
    });
  });

  it('names the rule and every policy that denies, grants, or lacks the capability', () => {
    expect(acl.decide('secret/data/ops/db', 'read')).toMatchObject({
      allowed: false,
      reason:
        'rule "secret/data/ops/*": policy "writers", "auditors" says deny, which refuses every operation',
    });
    expect(acl.decide('secret/data/app/db', 'read')).toMatchObject({
      allowed: true,
      reason: 'rule "secret/data/app/*" grants read (from policy "readers", "writers")',
    });
    expect(acl.decide('secret/data/app/db', 'delete')).toMatchObject({
      allowed: false,
      reason: 'rule "secret/data/app/*" grants read, list, update, not delete',
    });
    expect(acl.decide('sys/rotate', 'update', { sudo: true })).toMatchObject({
      allowed: false,
      reason: 'rule "sys/rotate" grants update but the path needs sudo too',
    });
  });

  it('says whether a constrained rule had its parameters checked', () => {
    const path = 'secret/data/forms/signup';
    const from = 'rule "secret/data/forms/*"';
    expect(acl.decide(path, 'update', { data: { admin: true } })).toMatchObject({
      allowed: false,
      reason: `${from}: parameter "admin" is denied by denied_parameters`,
    });
    expect(acl.decide(path, 'update', { data: { name: 'x' } }).reason).toBe(
      `${from} grants update (from policy "readers"), and the parameters keep its constraints`,
    );
    expect(acl.decide(path, 'update').reason).toBe(
      `${from} grants update (from policy "readers"); its parameter constraints were not checked (no parameters given)`,
    );
    // A delete carries no parameters to constrain.
    expect(acl.decide(path, 'delete').reason).toBe(`${from} grants delete (from policy "readers")`);
  });
});
