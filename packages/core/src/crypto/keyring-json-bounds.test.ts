import { describe, expect, it } from 'vitest';
import { Keyring } from './keyring.js';
import { loadKeyring, serializeKeyring } from './keyring-json.js';

// biome-ignore lint/suspicious/noExplicitAny: the cases edit arbitrary parts of parsed JSON
type Json = any;

/** One GCM key (versions 1 and 2) and one SIV key, as parsed JSON. */
function sample(): Json {
  const keyring = new Keyring();
  keyring.createKey('fields');
  keyring.rotate('fields');
  keyring.createKey('search', { algorithm: 'aes-256-gcm-siv' });
  return JSON.parse(serializeKeyring(keyring));
}

function edited(edit: (j: Json) => void): Json {
  const json = sample();
  edit(json);
  return json;
}

function refused(edit: (j: Json) => void, message: string): void {
  expect(() => loadKeyring(edited(edit))).toThrow(
    expect.objectContaining({ code: 'ERR_MALFORMED_KEYRING', message }),
  );
}

function accepted(edit: (j: Json) => void): Keyring {
  return loadKeyring(edited(edit));
}

describe('loadKeyring bounds', () => {
  it('needs an object with a keys array', () => {
    for (const input of [null, [], 'null', '[]', 42]) {
      expect(() => loadKeyring(input), String(input)).toThrow(
        expect.objectContaining({ message: 'keyring must be an object' }),
      );
    }
    refused((j) => {
      j.keys = {};
    }, 'keyring: "keys" must be an array');
    refused((j) => {
      j.keys[0] = [];
    }, 'keys[0] must be an object');
    refused((j) => {
      j.keys[0].versions = [];
    }, 'keys[0].versions must be a non-empty array');
    refused((j) => {
      j.keys[0].versions = {};
    }, 'keys[0].versions must be a non-empty array');
    expect(loadKeyring('{"custos":"keyring","formatVersion":1,"keys":[]}').keyNames()).toEqual([]);
  });

  it('takes version numbers from 1 to 2^32-1, each greater than the one before', () => {
    const top = accepted((j) => {
      j.keys[0].versions[1].version = 0xffffffff;
      j.keys[0].primaryVersion = 0xffffffff;
    });
    expect(top.info('fields').primaryVersion).toBe(0xffffffff);
    const range = 'must be an integer from 1 to 2^32-1';
    refused((j) => {
      j.keys[0].versions[1].version = 2 ** 32;
    }, `keys[0].versions[1].version ${range}`);
    refused((j) => {
      j.keys[0].versions[0].version = 0;
    }, `keys[0].versions[0].version ${range}`);
    refused((j) => {
      j.keys[0].versions[0].version = 1.5;
    }, `keys[0].versions[0].version ${range}`);
    refused((j) => {
      j.keys[0].primaryVersion = '2';
    }, `keys[0].primaryVersion ${range}`);
    refused((j) => {
      j.keys[0].minDecryptionVersion = 0;
    }, `keys[0].minDecryptionVersion ${range}`);
    refused((j) => {
      j.keys[0].versions[1].version = 1;
    }, 'keys[0].versions[1].version must be greater than the one before it');
  });

  it('takes a minimum decryption version up to the primary', () => {
    const atPrimary = accepted((j) => {
      j.keys[0].minDecryptionVersion = 2;
    });
    expect(atPrimary.info('fields').minDecryptionVersion).toBe(2);
    refused((j) => {
      j.keys[0].minDecryptionVersion = 3;
      j.keys[0].versions.push({ ...j.keys[0].versions[1], version: 3 });
    }, 'keys[0].minDecryptionVersion must not exceed primaryVersion');
  });

  it('takes encryption counters from 0 up to the largest safe integer', () => {
    const counted = accepted((j) => {
      j.keys[0].versions[0].encryptions = 0;
      j.keys[0].versions[1].encryptions = 7;
    });
    expect(counted.info('fields').versions.map((v) => v.encryptions)).toEqual([0, 7]);
    for (const encryptions of [-1, 1.5, 2 ** 53, '3']) {
      refused((j) => {
        j.keys[0].versions[0].encryptions = encryptions;
      }, 'keys[0].versions[0].encryptions must be a non-negative integer');
    }
  });

  it('takes an encryption limit from 1 to 2^32 for random nonces, and none for SIV', () => {
    expect(accepted((j) => (j.keys[0].encryptionLimit = 1)).info('fields').encryptionLimit).toBe(1);
    expect(
      accepted((j) => (j.keys[0].encryptionLimit = 2 ** 32)).info('fields').encryptionLimit,
    ).toBe(2 ** 32);
    for (const limit of [0, 1.5, null, '5']) {
      refused((j) => {
        j.keys[0].encryptionLimit = limit;
      }, 'keys[0].encryptionLimit must be a positive integer');
    }
    refused((j) => {
      j.keys[0].encryptionLimit = 2 ** 32 + 1;
    }, 'keys[0].encryptionLimit must not exceed 2^32 (NIST SP 800-38D)');
    expect(accepted((j) => delete j.keys[1].encryptionLimit).info('search').encryptionLimit).toBe(
      null,
    );
    for (const limit of [5, 0]) {
      refused((j) => {
        j.keys[1].encryptionLimit = limit;
      }, 'keys[1].encryptionLimit must be null');
    }
  });

  it('needs a name that is a string', () => {
    for (const name of [7, null, ['fields']]) {
      refused((j) => {
        j.keys[1].name = name;
      }, 'keys[1].name must be a string');
    }
  });

  it('needs a whole lowercase hex id, a whole UTC timestamp and a known state', () => {
    for (const id of ['0123456789abcdef0', 'x0123456789abcdef', '0123456789ABCDEF', 42]) {
      refused(
        (j) => {
          j.keys[0].id = id;
        },
        typeof id === 'string'
          ? 'keys[0].id must be 16 lowercase hex characters'
          : 'keys[0].id must be a string',
      );
    }
    expect(
      accepted((j) => (j.keys[0].versions[0].createdAt = '2030-01-02T03:04:05Z')).info('fields')
        .versions[0]?.createdAt,
    ).toBe('2030-01-02T03:04:05Z');
    for (const createdAt of [
      'x2030-01-02T03:04:05Z',
      '2030-01-02T03:04:05Zx',
      '2030-01-02T03:04:05.Z',
      '2030-01-02 03:04:05Z',
      '2030-01-02T03:04:05+01:00',
    ]) {
      refused((j) => {
        j.keys[0].versions[0].createdAt = createdAt;
      }, 'keys[0].versions[0].createdAt must be an ISO 8601 UTC timestamp');
    }
    refused((j) => {
      j.keys[0].versions[0].createdAt = 0;
    }, 'keys[0].versions[0].createdAt must be a string');
    refused((j) => {
      j.keys[0].versions[0].state = 1;
    }, 'keys[0].versions[0].state must be one of enabled, decrypt-only, disabled, destroyed');
  });

  it('needs the primary to be enabled and every kept version to hold a 32-byte key', () => {
    refused((j) => {
      j.keys[0].versions[1].state = 'decrypt-only';
    }, 'keys[0].primaryVersion must name an enabled version');
    refused((j) => {
      j.keys[0].versions[0].key = 7;
    }, 'keys[0].versions[0].key must be a base64 string');
    refused((j) => {
      j.keys[0].versions[0].key = Buffer.alloc(33).toString('base64');
    }, 'keys[0].versions[0].key must decode to 32 bytes, got 33');
    const decryptOnly = accepted((j) => {
      j.keys[0].versions[0].state = 'decrypt-only';
    });
    expect(decryptOnly.info('fields').versions[0]?.state).toBe('decrypt-only');
  });
});
