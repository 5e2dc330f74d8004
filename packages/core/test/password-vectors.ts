/**
 * Known-answer vectors for legacy formats, made by passlib 1.7.4 (an independent
 * implementation) with small costs so the tests run fast.
 */
export const PASSWORD = 'correct horse battery staple';
export const UNICODE_PASSWORD = 'pässwörd-ünïcode-🔑';
/** bcrypt_sha256 of a password longer than bcrypt's 72 bytes. */
export const LONG_PASSWORD = `${'x'.repeat(72)}tail-that-bcrypt-ignores`;

export const LEGACY_HASHES: Record<string, readonly [password: string, stored: string][]> = {
  'pbkdf2-sha256 (passlib)': [
    [
      PASSWORD,
      '$pbkdf2-sha256$1000$DyGkNIbwfs/Zm/N.r5USYg$p4r1mbaiHCFv83NR6YaKPbp5TRTxdYYOlfAcNnn14pQ',
    ],
    [
      UNICODE_PASSWORD,
      '$pbkdf2-sha256$1000$l/KesxZirBXCOGfsfW8tJQ$dgANEywZqIR7PSZBzGLFN59dGwweYFXxyYIOUu5XXaU',
    ],
  ],
  'pbkdf2_sha256 (Django)': [
    [PASSWORD, 'pbkdf2_sha256$1000$45posztjJY6U$zfnt8QjyFqKcP9AIec324GvenUkR5ar+CHc2ZXzdK/Y='],
    [
      UNICODE_PASSWORD,
      'pbkdf2_sha256$1000$joINV3qh4U4u$RriS13ut0YbFE8nhkRGdVmKfCeEYQ5aMAnDPOcTyyoY=',
    ],
  ],
  'scrypt (passlib)': [
    [
      PASSWORD,
      '$scrypt$ln=10,r=8,p=1$O8c4B0Co1XrPOccYI2SMEQ$Rv+yQkBuzvDtN+X/5d8U4WQLJJZoXHsBgekrDRc+8+w',
    ],
    [
      UNICODE_PASSWORD,
      '$scrypt$ln=10,r=8,p=1$T4kxJkRIKUXoHWMMYcy5tw$9ipFtJmRH43ISZ0dT7FS9DvpXio2vbFqpbGTLt0MRVk',
    ],
  ],
  'bcrypt $2b$': [
    [PASSWORD, '$2b$04$LST2eVcTHQuIUujPGRtmyumnKjLTkdqNfkBNaW3z0CpzaD9T42WXu'],
    [UNICODE_PASSWORD, '$2b$04$SVEhvSGPXCE59y6OgE9Izut4fEIqV0TRhrHqluYiojBMH1mEyWtCi'],
  ],
  'bcrypt $2a$': [
    [PASSWORD, '$2a$04$U.9QJDWyttbzjp5NF6sA2.2Mmw7J0vizWrd33Ff1U3YbTHHEZr.um'],
    [UNICODE_PASSWORD, '$2a$04$zlybW6v02M4e23SvZaqybuX274w6oXqX7kXBQYcWmKnbDDSKE/utS'],
  ],
  'bcrypt $2y$': [
    [PASSWORD, '$2y$04$8d512Rcha1eaOk4MFgEptOisVRDq/RDQ1UzIXicG9.HsvV2NrFXQ.'],
    [UNICODE_PASSWORD, '$2y$04$aw.mbjZDM1OuR51lJkVERO4jfrWkrE3GshuvNsDSlV3Gdi1zQYtEa'],
  ],
  'bcrypt-sha256 (passlib v1)': [
    [PASSWORD, '$bcrypt-sha256$2b,4$2hJFfSYtF0VY87621aJ1be$H7j1KzxLc4o4dLYm/EwHPeJFojnfGk.'],
  ],
  'bcrypt-sha256 (passlib v2)': [
    [
      PASSWORD,
      '$bcrypt-sha256$v=2,t=2b,r=4$8V7g.cSuvMgAJrSrKJixMO$PZyzI6npSNVEnEcsi0tJzg1jwAyUr1K',
    ],
    [
      UNICODE_PASSWORD,
      '$bcrypt-sha256$v=2,t=2b,r=4$GqApNwvOEP1nb5R1bFdIvO$Lb4V.fM5gPSrji62.PSJmj/dWAtEOra',
    ],
    [
      LONG_PASSWORD,
      '$bcrypt-sha256$v=2,t=2b,r=4$uEuRhA5QSbU.0qm7kw3ZnO$Fk2lzTeEcumq/wV7bmW1EPiJovRRftu',
    ],
  ],
};
