import { createPublicKey } from 'node:crypto';
import { effectiveState, type TransitKeyPolicy } from '@custos/core/internal/transit';
import {
  kmsDisabled,
  kmsErrorOf,
  kmsInvalidState,
  kmsNotFound,
  kmsUnsupported,
  kmsValidation,
} from './kms-error.js';
import { aliasArnOf, keyArnOf } from './kms-key-id.js';
import { type KmsCall, keyEntryOf, keyMetadata, kmsSpecOf, specOf } from './kms-keys.js';

const DAY_SECONDS = 86_400;

/** The key's policy, or NotFoundException. */
async function policyOf(call: KmsCall, name: string): Promise<TransitKeyPolicy> {
  const described = await call.deps.transit.describe(name).catch((err) => {
    throw kmsErrorOf(err);
  });
  if (described === undefined) throw kmsNotFound(`key ${name} does not exist`);
  return described.policy;
}

/** Runs a transit change, AWS's errors for transit's refusals. */
async function transit<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw kmsErrorOf(err);
  }
}

/** DescribeKey. */
export async function describeKey(call: KmsCall, name: string) {
  return { KeyMetadata: await keyMetadata(call.deps, await policyOf(call, name)) };
}

/** A page of names after `marker` (the last name of the previous page). */
function page<T>(items: readonly T[], nameOf: (item: T) => string, limit: number, marker?: string) {
  const start = marker === undefined ? 0 : items.findIndex((i) => nameOf(i) > marker);
  const rest = start === -1 ? [] : items.slice(start);
  const shown = rest.slice(0, limit);
  const truncated = rest.length > limit;
  return {
    shown,
    truncated,
    ...(truncated ? { next: nameOf(shown[shown.length - 1] as T) } : {}),
  };
}

/** ListKeys: every transit key (judged as a LIST of the keys), sorted by id. */
export async function listKeys(call: KmsCall, limit: number, marker: string | undefined) {
  const names = await call.deps.transit.list();
  const { shown, truncated, next } = page(names, (n) => n, limit, marker);
  return {
    Keys: shown.map((name) => ({ KeyId: name, KeyArn: keyArnOf(call.deps.site, name) })),
    Truncated: truncated,
    ...(next === undefined ? {} : { NextMarker: next }),
  };
}

/** ListAliases: every alias, or those of one key, sorted by name. */
export async function listAliases(
  call: KmsCall,
  input: { limit: number; marker: string | undefined; forKey: string | null | undefined },
) {
  const all = await call.deps.store.listAliases();
  const chosen =
    input.forKey === undefined ? all : all.filter((a) => a.entry.target === input.forKey);
  const { shown, truncated, next } = page(chosen, (a) => a.alias, input.limit, input.marker);
  return {
    Aliases: shown.map(({ alias, entry }) => ({
      AliasName: alias,
      AliasArn: aliasArnOf(call.deps.site, alias),
      TargetKeyId: entry.target,
      CreationDate: entry.created,
      LastUpdatedDate: entry.updated,
    })),
    Truncated: truncated,
    ...(next === undefined ? {} : { NextMarker: next }),
  };
}

/** An alias's target must exist and not be pending deletion (as AWS). */
async function assertAliasTarget(call: KmsCall, name: string) {
  const policy = await policyOf(call, name);
  if (effectiveState(policy.state, policy.expires_at, call.deps.now()) === 'pending_deletion')
    throw kmsInvalidState(`key ${name} is pending deletion`);
}

/** CreateAlias. */
export async function createAlias(call: KmsCall, alias: string, target: string) {
  await assertAliasTarget(call, target);
  await call.deps.store.createAlias(alias, target, Math.floor(call.deps.now() / 1000));
  return {};
}

/** UpdateAlias: the alias names another key (of the same usage, as AWS requires). */
export async function updateAlias(call: KmsCall, alias: string, target: string) {
  await assertAliasTarget(call, target);
  const current = await call.deps.store.resolveAlias(alias);
  if (current === undefined) throw kmsNotFound(`alias ${alias} does not exist`);
  const [from, to] = await Promise.all([
    call.deps.transit.describe(current),
    call.deps.transit.describe(target),
  ]);
  if (
    from !== undefined &&
    to !== undefined &&
    (await kmsSpecOf(call.deps, from.policy))?.keyUsage !==
      (await kmsSpecOf(call.deps, to.policy))?.keyUsage
  )
    throw kmsValidation('an alias can only move to a key of the same KeyUsage');
  await call.deps.store.updateAlias(alias, target, Math.floor(call.deps.now() / 1000));
  return {};
}

/** DeleteAlias. */
export async function deleteAlias(call: KmsCall, alias: string) {
  if (!(await call.deps.store.deleteAlias(alias)))
    throw kmsNotFound(`alias ${alias} does not exist`);
  return {};
}

/** Enable/DisableKeyRotation: transit's `auto_rotate_period` (days × 86,400 s, or 0). */
export async function setKeyRotation(call: KmsCall, name: string, days: number) {
  const policy = await policyOf(call, name);
  if (specOf(policy.type)?.keySpec !== 'SYMMETRIC_DEFAULT')
    throw kmsUnsupported('automatic rotation is for symmetric encryption keys only');
  assertChangeable(policy, call.deps.now());
  await transit(() =>
    call.deps.transit.configure(name, { autoRotatePeriodSeconds: days * DAY_SECONDS }),
  );
  return {};
}

/** A key whose settings may change: Enabled (AWS refuses a disabled one too). */
function assertChangeable(policy: TransitKeyPolicy, nowMs: number) {
  const state = effectiveState(policy.state, policy.expires_at, nowMs);
  if (state === 'pending_deletion') throw kmsInvalidState(`key ${policy.name} is pending deletion`);
  if (state !== 'active' && state !== 'rotating')
    throw kmsDisabled(`key ${policy.name} is disabled (${state})`);
}

/** GetKeyRotationStatus. */
export async function getKeyRotationStatus(call: KmsCall, name: string) {
  const policy = await policyOf(call, name);
  const enabled = policy.auto_rotate_period > 0;
  return {
    KeyId: keyArnOf(call.deps.site, name),
    KeyRotationEnabled: enabled,
    ...(enabled
      ? { RotationPeriodInDays: Math.floor(policy.auto_rotate_period / DAY_SECONDS) }
      : {}),
  };
}

/** EnableKey / DisableKey: transit's `active` / `inactive`. */
export async function setKeyEnabled(call: KmsCall, name: string, enabled: boolean) {
  const policy = await policyOf(call, name);
  const state = effectiveState(policy.state, policy.expires_at, call.deps.now());
  if (state === 'pending_deletion') throw kmsInvalidState(`key ${name} is pending deletion`);
  await transit(() => call.deps.transit.setState(name, enabled ? 'active' : 'inactive'));
  return {};
}

/**
 * ScheduleKeyDeletion: transit's `pending_deletion` (no operation uses the key from now on),
 * with the deletion date recorded. custos never deletes key material by the clock: once the
 * date has passed the key stays PendingDeletion until an operator deletes it through transit
 * (`deletion_allowed`), or cancels (docs/aws.md).
 */
export async function scheduleKeyDeletion(call: KmsCall, name: string, days: number) {
  const policy = await policyOf(call, name);
  const nowMs = call.deps.now();
  const entry = await keyEntryOf(call.deps, policy);
  const pending = effectiveState(policy.state, policy.expires_at, nowMs) === 'pending_deletion';
  const deletionDate =
    pending && entry.deletionDate !== undefined
      ? entry.deletionDate
      : Math.floor(nowMs / 1000) + days * DAY_SECONDS;
  if (!pending) {
    await call.deps.store.setKeyEntry(name, {
      ...entry,
      keyCreated: policy.created_time,
      deletionDate,
    });
    await transit(() => call.deps.transit.setState(name, 'pending_deletion'));
  }
  return {
    KeyId: keyArnOf(call.deps.site, name),
    DeletionDate: deletionDate,
    KeyState: 'PendingDeletion',
    PendingWindowInDays: Math.round((deletionDate - Math.floor(nowMs / 1000)) / DAY_SECONDS),
  };
}

/**
 * CancelKeyDeletion: back to Disabled (transit `inactive`), as in AWS; a key revoked before
 * goes back to `revoked` (revocation is final in transit).
 */
export async function cancelKeyDeletion(call: KmsCall, name: string) {
  const policy = await policyOf(call, name);
  if (effectiveState(policy.state, policy.expires_at, call.deps.now()) !== 'pending_deletion')
    throw kmsInvalidState(`key ${name} is not pending deletion`);
  await transit(() =>
    call.deps.transit.setState(
      name,
      (policy.revoked_time ?? null) === null ? 'inactive' : 'revoked',
    ),
  );
  const { deletionDate: _, ...rest } = await keyEntryOf(call.deps, policy);
  await call.deps.store.setKeyEntry(name, { ...rest, keyCreated: policy.created_time });
  return { KeyId: keyArnOf(call.deps.site, name) };
}

/**
 * GetPublicKey: the latest version's public key as DER SubjectPublicKeyInfo (what AWS returns),
 * for signing keys; a symmetric key has none (UnsupportedOperationException).
 */
export async function getPublicKey(call: KmsCall, name: string) {
  const described = await call.deps.transit.describe(name).catch((err) => {
    throw kmsErrorOf(err);
  });
  if (described === undefined) throw kmsNotFound(`key ${name} does not exist`);
  const { policy, versions } = described;
  const spec = await kmsSpecOf(call.deps, policy);
  if (spec === undefined || spec.keySpec === 'SYMMETRIC_DEFAULT' || spec.keySpec === 'HMAC_256')
    throw kmsUnsupported(`key ${name} (${policy.type}) has no public key`);
  if (effectiveState(policy.state, policy.expires_at, call.deps.now()) === 'pending_deletion')
    throw kmsInvalidState(`key ${name} is pending deletion`);
  const latest = versions.find((v) => v.version === policy.latest_version);
  if (latest?.public_key === undefined) throw kmsNotFound(`key ${name} has no public key`);
  const key =
    policy.type === 'ed25519'
      ? createPublicKey({
          key: {
            kty: 'OKP',
            crv: 'Ed25519',
            x: Buffer.from(latest.public_key, 'base64').toString('base64url'),
          },
          format: 'jwk',
        })
      : createPublicKey(latest.public_key);
  return {
    KeyId: keyArnOf(call.deps.site, name),
    PublicKey: key.export({ type: 'spki', format: 'der' }).toString('base64'),
    CustomerMasterKeySpec: spec.keySpec,
    KeySpec: spec.keySpec,
    KeyUsage: spec.keyUsage,
    ...(spec.signingAlgorithms === undefined
      ? {}
      : { SigningAlgorithms: [...spec.signingAlgorithms] }),
    ...(spec.encryptionAlgorithms === undefined
      ? {}
      : { EncryptionAlgorithms: [...spec.encryptionAlgorithms] }),
  };
}
