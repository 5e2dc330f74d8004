/**
 * Entry of a startup snapshot (bundled to one script by `random-pool.test.ts`): draws nonces
 * while the snapshot is built, so the nonce pool holds a block at that moment, then prints the
 * nonces of a few encryptions in each process started from the snapshot, all under one fixed
 * key (the case where a repeated nonce breaks AES-GCM). Key objects cannot be in a snapshot,
 * so the keyring is made after start.
 */
import { startupSnapshot } from 'node:v8';
import { Keyring, parseEnvelope } from '../crypto/index.js';
import { noncePool } from './random-pool.js';

const beforeSnapshot = Array.from({ length: 4 }, () => noncePool.take(12).toString('hex'));

startupSnapshot.setDeserializeMainFunction(() => {
  const keyring = new Keyring();
  keyring.createKey('snapshot', { material: Buffer.alloc(32, 7) });
  const afterStart = Array.from({ length: 4 }, () =>
    parseEnvelope(keyring.encrypt('snapshot', 'x')).nonce.toString('hex'),
  );
  process.stdout.write(JSON.stringify({ beforeSnapshot, afterStart }));
});
