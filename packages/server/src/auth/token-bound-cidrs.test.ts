import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storageKinds } from '../../test/harness.js';
import { openTokenTestbed, type TokenTestbed } from '../../test/token-store.js';

describe.each(await storageKinds())('tokens bound to CIDR blocks on %s', (kind) => {
  let bed: TokenTestbed;
  beforeAll(async () => {
    bed = await openTokenTestbed(kind);
  });
  afterAll(async () => {
    await bed.close();
  });

  it('refuse other addresses (or none) before a use is spent, for service and batch tokens', async () => {
    const tokens = bed.node.tokens;
    const service = await tokens.create({
      policies: ['app'],
      path: 'auth/token/create',
      numUses: 2,
      boundCidrs: ['10.0.0.0/8'],
    });
    const batch = await tokens.create({
      policies: ['app'],
      path: 'auth/token/create',
      type: 'batch',
      boundCidrs: ['10.0.0.0/8'],
    });
    for (const { token } of [service, batch]) {
      for (const address of ['127.0.0.1', '::ffff:11.0.0.1', 'garbage', undefined]) {
        await expect(tokens.authenticate(token, address)).rejects.toMatchObject({
          code: 'ERR_PERMISSION_DENIED',
        });
      }
    }
    // No use was spent by the refusals: both uses are still there.
    expect((await tokens.lookup(service.token))?.numUses).toBe(2);
    await tokens.authenticate(service.token, '::ffff:10.9.9.9');
    await tokens.authenticate(service.token, '10.0.0.1');
    expect(await tokens.lookup(service.token)).toBeUndefined();
    expect(await tokens.authenticate(batch.token, '10.2.3.4')).toMatchObject({
      boundCidrs: ['10.0.0.0/8'],
    });
  });
});
