import { describe, expect, it } from 'vitest';
import { hex, randomString } from '../../test/generate.js';
import { isProtectedValue } from './protected-values.js';

describe('isProtectedValue', () => {
  const body = () => randomString(24);
  it.each([
    ['Vault transit', () => `vault:v1:${body()}`],
    ['Vault transit, later key version', () => `vault:v12:${body()}`],
    ['custos envelope', () => `custos:${randomString(20)}`],
    [
      'custos envelope with _ and -',
      () => `custos:${randomString(9)}_${randomString(5)}-${randomString(4)}`,
    ],
    ['enc: dotenv value', () => `enc:${body()}`],
    ['SOPS', () => `ENC[AES256_GCM,data:${body()}]`],
    ['Ansible Vault', () => `$ANSIBLE_VAULT;1.1;AES256\n${hex(40)}`],
    ['bcrypt', () => `$2b$12$${body()}`],
    ['bcrypt 2a', () => `$2a$10$${body()}`],
    ['bcrypt 2x', () => `$2x$10$${body()}`],
    ['bcrypt 2y', () => `$2y$10$${body()}`],
    ['bcrypt 2', () => `$2$10$${body()}`],
    ['Argon2id', () => `$argon2id$v=19$${body()}`],
    ['Argon2i', () => `$argon2i$v=19$${body()}`],
    ['Argon2d', () => `$argon2d$v=19$${body()}`],
    ['scrypt', () => `$scrypt$ln=16$${body()}`],
    ['PBKDF2', () => `$pbkdf2-sha256$29000$${body()}`],
    ['MD5 crypt', () => `$1$${body()}`],
    ['SHA-256 crypt', () => `$5$${body()}`],
    ['SHA-512 crypt', () => `$6$${body()}`],
    ['yescrypt', () => `$y$j9T$${body()}`],
    ['crypt $7$', () => `$7$${body()}`],
    ['LDAP SSHA', () => `{SSHA}${body()}`],
    ['LDAP SHA', () => `{SHA}${body()}`],
    ['LDAP SSHA256', () => `{SSHA256}${body()}`],
    ['LDAP SSHA512', () => `{SSHA512}${body()}`],
    ['LDAP BCRYPT', () => `{BCRYPT}${body()}`],
    ['LDAP CRYPT', () => `{CRYPT}${body()}`],
    ['LDAP PBKDF2 with a hash name', () => `{PBKDF2-SHA256}${body()}`],
    ['sha1 digest', () => `sha1:${hex(40)}`],
    ['sha256 integrity', () => `sha256-${body()}`],
    ['sha384 integrity', () => `sha384-${body()}`],
    ['sha512 integrity', () => `SHA512-${body()}`],
    ['PGP message', () => `-----BEGIN PGP MESSAGE-----\n${body()}`],
  ])('%s is protected', (_what, value) => {
    expect(isProtectedValue(value())).toBe(true);
  });

  it.each([
    ['a random value', () => body()],
    ['a word before vault:', () => `x vault:v1:${body()}`],
    ['vault without a version', () => `vault:vx:${body()}`],
    ['a short custos body', () => `custos:${randomString(19)}`],
    ['a custos body with a dot', () => `custos:${randomString(10)}.${randomString(10)}`],
    ['enc without its colon', () => `enc${body()}`],
    ['bcrypt with one cost digit', () => `$2b$1$${body()}`],
    ['bcrypt 2c', () => `$2c$10$${body()}`],
    ['argon2 without a variant', () => `$argon2$v=19$${body()}`],
    ['crypt $3$', () => `$3$${body()}`],
    ['LDAP MD5', () => `{MD5}${body()}`],
    ['LDAP SHA without its brace', () => `{SHA${body()}`],
    ['sha2', () => `sha2-${body()}`],
    ['sha256 without a separator', () => `sha256${body()}`],
    ['a PGP public key', () => `-----BEGIN PGP PUBLIC KEY BLOCK-----\n${body()}`],
  ])('%s is not protected', (_what, value) => {
    expect(isProtectedValue(value())).toBe(false);
  });
});
