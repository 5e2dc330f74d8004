import { access } from 'node:fs/promises';
import { CustosError } from '../../errors/index.js';

/** The part of the `pkcs11js` module this provider uses (kept narrow: the package is optional). */
export type Pkcs11Module = typeof import('pkcs11js');
export type Pkcs11Instance = InstanceType<Pkcs11Module['PKCS11']>;

/** A loaded, initialised PKCS#11 module, shared by every provider over the same library path. */
export interface Pkcs11Library {
  readonly binding: Pkcs11Module;
  readonly pkcs11: Pkcs11Instance;
  /**
   * Per token (slot), the sessions this process holds and the SHA-256 of the PIN it logged in
   * with: PKCS#11 login state is shared by every session of the application, so a second login
   * answers CKR_USER_ALREADY_LOGGED_IN without looking at the PIN, and closing the last session
   * logs out.
   */
  readonly logins: Map<string, { sessions: number; pinDigest: Buffer }>;
  /** Finalises the module once its last user releases it. */
  release(): void;
}

const open = new Map<string, { library: Pkcs11Library; users: number }>();

/** The optional peer dependency `pkcs11js`, with a clear error when it is not installed. */
async function importBinding(): Promise<Pkcs11Module> {
  try {
    const mod = (await import('pkcs11js')) as Pkcs11Module & { default?: Pkcs11Module };
    return mod.default ?? mod;
  } catch (err) {
    throw new CustosError(
      'ERR_KMS_PROVIDER_MISSING',
      'the PKCS#11 provider needs the optional peer dependency pkcs11js: npm install pkcs11js',
      { cause: err },
    );
  }
}

/**
 * Loads and initialises the PKCS#11 module at `path` (C_Initialize once per process and path;
 * PKCS#11 allows one initialisation per application), counting its users.
 */
export async function loadPkcs11Library(path: string): Promise<Pkcs11Library> {
  const held = open.get(path);
  if (held !== undefined) {
    held.users++;
    return held.library;
  }
  const binding = await importBinding();
  try {
    await access(path);
  } catch {
    throw new CustosError(
      'ERR_KMS_PROVIDER_MISSING',
      `the PKCS#11 module ${JSON.stringify(path)} does not exist or cannot be read (PKCS11_LIBRARY)`,
    );
  }
  const raced = open.get(path);
  if (raced !== undefined) {
    raced.users++;
    return raced.library;
  }
  const pkcs11 = new binding.PKCS11();
  try {
    pkcs11.load(path);
  } catch (err) {
    throw new CustosError(
      'ERR_KMS_PROVIDER_MISSING',
      `the file ${JSON.stringify(path)} cannot be loaded as a PKCS#11 module`,
      { cause: err },
    );
  }
  try {
    pkcs11.C_Initialize();
  } catch (err) {
    if (
      !(err instanceof binding.Pkcs11Error && err.code === binding.CKR_CRYPTOKI_ALREADY_INITIALIZED)
    ) {
      throw pkcs11Failure(binding, err, `initialising the PKCS#11 module ${JSON.stringify(path)}`);
    }
  }
  const entry = {
    users: 1,
    library: {
      binding,
      pkcs11,
      logins: new Map<string, { sessions: number; pinDigest: Buffer }>(),
      release() {
        entry.users--;
        if (entry.users > 0) return;
        open.delete(path);
        try {
          pkcs11.C_Finalize();
        } catch {
          // Already finalised: nothing left to release.
        }
      },
    },
  };
  open.set(path, entry);
  return entry.library;
}

/** The name of a PKCS#11 return value (`CKR_…`), or the hex code when the binding has no name. */
export function returnValueName(binding: Pkcs11Module, code: number): string {
  for (const [name, value] of Object.entries(binding)) {
    if (name.startsWith('CKR_') && value === code) return name;
  }
  return `0x${code.toString(16)}`;
}

/**
 * A typed error for a failed PKCS#11 call: `ERR_KMS_PROVIDER` naming the return value. The
 * binding's own message is kept only as its return-value name: a module's messages are not ours
 * to vouch for, and none of our arguments (a PIN, key material) is ever part of the text.
 */
export function pkcs11Failure(binding: Pkcs11Module, err: unknown, doing: string): CustosError {
  if (err instanceof binding.Pkcs11Error) {
    return new CustosError(
      'ERR_KMS_PROVIDER',
      `PKCS#11 failed ${doing}: ${returnValueName(binding, err.code)}`,
    );
  }
  return new CustosError(
    'ERR_KMS_PROVIDER',
    `PKCS#11 failed ${doing}: ${err instanceof Error ? err.name : 'unknown error'}`,
  );
}
