/**
 * `@custos/core/internal/pkcs11`: the PKCS#11 building blocks of the field-encryption provider
 * (module loading shared per path, slot lookup, the login shared by this process's sessions, key
 * versions by `CKA_ID`, typed errors naming a `CKR_…` value), reused by the server's PKCS#11 seal
 * so both agree on one login per token.
 *
 * Internal and unversioned: not part of the library's promise. Only `@custos/server` imports it.
 * Applications use `openPkcs11Kms` from `@custos/core/kms`.
 *
 * @example
 * ```ts
 * import { loadPkcs11Library, findSlot, login } from '@custos/core/internal/pkcs11';
 * ```
 * @module
 */
export {
  loadPkcs11Library,
  type Pkcs11Instance,
  type Pkcs11Library,
  type Pkcs11Module,
  pkcs11Failure,
  returnValueName,
} from '../kms/pkcs11/pkcs11-binding.js';
export { findKeyVersions, findSlot, login } from '../kms/pkcs11/pkcs11-kms.js';
