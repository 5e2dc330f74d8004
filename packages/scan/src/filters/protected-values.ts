/**
 * Values that are already protected: ciphertexts (Vault transit, custos envelopes, `enc:`
 * dotenv values, SOPS, Ansible Vault) and password hashes (bcrypt, Argon2 and other PHC or crypt
 * strings, LDAP schemes). Reporting them would only teach people to ignore the scanner.
 */
const PROTECTED =
  /^(?:vault:v\d+:|custos:[A-Za-z0-9_-]{20}|enc:|ENC\[|\$ANSIBLE_VAULT;|\$2[abxy]?\$\d\d\$|\$argon2(?:id|i|d)\$|\$scrypt\$|\$pbkdf2|\$[156y7]\$|\{(?:SSHA|SHA|SSHA256|SSHA512|BCRYPT|CRYPT|PBKDF2)[^}]*\}|sha(?:1|256|384|512)[-:]|-----BEGIN PGP MESSAGE)/i;

/**
 * Whether `value` is encrypted or hashed.
 *
 * @example
 * ```ts
 * isProtectedValue('vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w=='); // true
 * ```
 */
export function isProtectedValue(value: string): boolean {
  return PROTECTED.test(value);
}
