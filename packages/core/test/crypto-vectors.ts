// Known-answer test vectors transcribed from published standards.
//
// Pure data: no imports, no logic. Every value is lowercase hex with no separators;
// an empty string means a zero-length input. Plaintexts that a standard prints as
// text are stored as their hex bytes.

/** An AEAD known-answer vector. `nonce` is the IV for AES-GCM. Tags are 16 bytes. */
export interface AeadVector {
  name: string;
  key: string;
  nonce: string;
  plaintext: string;
  aad: string;
  ciphertext: string;
  tag: string;
}

/** An HKDF known-answer vector; `length` is L, the OKM length in bytes. */
export interface HkdfVector {
  name: string;
  ikm: string;
  salt: string;
  info: string;
  length: number;
  prk: string;
  okm: string;
}

/** An AES-GCM-SIV known-answer vector; `result` is ciphertext || tag, as RFC 8452 prints it. */
export interface SivVector {
  name: string;
  key: string;
  nonce: string;
  plaintext: string;
  aad: string;
  result: string;
}

// AES-256-GCM, 96-bit IV, 128-bit tag.
// Source: D. McGrew and J. Viega, "The Galois/Counter Mode of Operation (GCM)",
// revised specification submitted to NIST, Appendix B, Test Cases 13-16 (the 256-bit
// key cases with a 96-bit IV).
export const aes256GcmVectors: readonly AeadVector[] = [
  {
    // McGrew-Viega GCM spec, Appendix B, Test Case 13: empty plaintext, empty AAD.
    name: 'McGrew-Viega GCM Test Case 13',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    nonce: '000000000000000000000000',
    plaintext: '',
    aad: '',
    ciphertext: '',
    tag: '530f8afbc74536b9a963b4f1c4cb738b',
  },
  {
    // McGrew-Viega GCM spec, Appendix B, Test Case 14: one zero block, empty AAD.
    name: 'McGrew-Viega GCM Test Case 14',
    key: '0000000000000000000000000000000000000000000000000000000000000000',
    nonce: '000000000000000000000000',
    plaintext: '00000000000000000000000000000000',
    aad: '',
    ciphertext: 'cea7403d4d606b6e074ec5d3baf39d18',
    tag: 'd0d1c8a799996bf0265b98b5d48ab919',
  },
  {
    // McGrew-Viega GCM spec, Appendix B, Test Case 15: 64-byte plaintext, empty AAD.
    name: 'McGrew-Viega GCM Test Case 15',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    plaintext:
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
      '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255',
    aad: '',
    ciphertext:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
      '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad',
    tag: 'b094dac5d93471bdec1a502270e3cc6c',
  },
  {
    // McGrew-Viega GCM spec, Appendix B, Test Case 16: 60-byte plaintext, 20-byte AAD.
    name: 'McGrew-Viega GCM Test Case 16',
    key: 'feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308',
    nonce: 'cafebabefacedbaddecaf888',
    plaintext:
      'd9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72' +
      '1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39',
    aad: 'feedfacedeadbeeffeedfacedeadbeefabaddad2',
    ciphertext:
      '522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa' +
      '8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662',
    tag: '76fc6ece0f4e1768cddf8853bb2d551b',
  },
];

// AEAD_CHACHA20_POLY1305, 96-bit nonce, 128-bit tag.
// Source: RFC 8439, "ChaCha20 and Poly1305 for IETF Protocols".
export const chacha20Poly1305Vectors: readonly AeadVector[] = [
  {
    // RFC 8439 Section 2.8.2, "Example and Test Vector for AEAD_CHACHA20_POLY1305".
    // Plaintext is the ASCII text "Ladies and Gentlemen of the class of '99: If I could
    // offer you only one tip for the future, sunscreen would be it." (114 bytes).
    // Nonce is the 32-bit fixed-common part 07000000 followed by the IV 4041424344454647.
    name: 'RFC 8439 Section 2.8.2',
    key: '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f',
    nonce: '070000004041424344454647',
    plaintext:
      '4c616469657320616e642047656e746c656d656e206f662074686520636c6173' +
      '73206f66202739393a204966204920636f756c64206f6666657220796f75206f' +
      '6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73' +
      '637265656e20776f756c642062652069742e',
    aad: '50515253c0c1c2c3c4c5c6c7',
    ciphertext:
      'd31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6' +
      '3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36' +
      '92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc' +
      '3ff4def08e4b7a9de576d26586cec64b6116',
    tag: '1ae10b594f09e26a7e902ecbd0600691',
  },
  {
    // RFC 8439 Appendix A.5, "ChaCha20-Poly1305 AEAD Decryption" (265 bytes).
    // Plaintext is the ASCII/UTF-8 text beginning "Internet-Drafts are draft documents
    // valid for a maximum of six months ..." and ending with U+201C/U+201D quotes.
    name: 'RFC 8439 Appendix A.5',
    key: '1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0',
    nonce: '000000000102030405060708',
    plaintext:
      '496e7465726e65742d4472616674732061726520647261667420646f63756d65' +
      '6e74732076616c696420666f722061206d6178696d756d206f6620736978206d' +
      '6f6e74687320616e64206d617920626520757064617465642c207265706c6163' +
      '65642c206f72206f62736f6c65746564206279206f7468657220646f63756d65' +
      '6e747320617420616e792074696d652e20497420697320696e617070726f7072' +
      '6961746520746f2075736520496e7465726e65742d4472616674732061732072' +
      '65666572656e6365206d6174657269616c206f7220746f206369746520746865' +
      '6d206f74686572207468616e206173202fe2809c776f726b20696e2070726f67' +
      '726573732e2fe2809d',
    aad: 'f33388860000000000004e91',
    ciphertext:
      '64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2' +
      '4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf' +
      '332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855' +
      '9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4' +
      'b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e' +
      'af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a' +
      '0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10' +
      '49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29' +
      'a6ad5cb4022b02709b',
    tag: 'eead9d67890cbb22392336fea1851f38',
  },
];

// HKDF with SHA-256.
// Source: RFC 5869, "HMAC-based Extract-and-Expand Key Derivation Function (HKDF)",
// Appendix A (Test Vectors).
export const hkdfSha256Vectors: readonly HkdfVector[] = [
  {
    // RFC 5869 Appendix A.1, Test Case 1: basic test case with SHA-256.
    name: 'RFC 5869 A.1 Test Case 1',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '000102030405060708090a0b0c',
    info: 'f0f1f2f3f4f5f6f7f8f9',
    length: 42,
    prk: '077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5',
    okm: '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
  },
  {
    // RFC 5869 Appendix A.2, Test Case 2: SHA-256 with longer inputs/outputs.
    name: 'RFC 5869 A.2 Test Case 2',
    ikm:
      '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f' +
      '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f' +
      '404142434445464748494a4b4c4d4e4f',
    salt:
      '606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f' +
      '808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f' +
      'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf',
    info:
      'b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf' +
      'd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef' +
      'f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff',
    length: 82,
    prk: '06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244',
    okm:
      'b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c' +
      '59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71' +
      'cc30c58179ec3e87c14c01d5c1f3434f1d87',
  },
  {
    // RFC 5869 Appendix A.3, Test Case 3: SHA-256 with zero-length salt and info.
    name: 'RFC 5869 A.3 Test Case 3',
    ikm: '0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b',
    salt: '',
    info: '',
    length: 42,
    prk: '19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04',
    okm: '8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8',
  },
];

// AEAD_AES_256_GCM_SIV.
// Source: RFC 8452, "AES-GCM-SIV: Nonce Misuse-Resistant Authenticated Encryption",
// Appendix C.2 (AEAD_AES_256_GCM_SIV). The RFC does not number its vectors; "vector n
// of 24" is the position in the order C.2 lists them.
export const aes256GcmSivVectors: readonly SivVector[] = [
  {
    // RFC 8452 Appendix C.2, vector 1 of 24: empty plaintext, empty AAD.
    name: 'RFC 8452 C.2 vector 1 (0-byte plaintext, no AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '',
    aad: '',
    result: '07f5f4169bbf55a8400cd47ea6fd400f',
  },
  {
    // RFC 8452 Appendix C.2, vector 2 of 24: 8-byte plaintext, empty AAD.
    name: 'RFC 8452 C.2 vector 2 (8-byte plaintext, no AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '0100000000000000',
    aad: '',
    result: 'c2ef328e5c71c83b843122130f7364b761e0b97427e3df28',
  },
  {
    // RFC 8452 Appendix C.2, vector 3 of 24: 12-byte plaintext, empty AAD.
    name: 'RFC 8452 C.2 vector 3 (12-byte plaintext, no AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '010000000000000000000000',
    aad: '',
    result: '9aab2aeb3faa0a34aea8e2b18ca50da9ae6559e48fd10f6e5c9ca17e',
  },
  {
    // RFC 8452 Appendix C.2, vector 4 of 24: 16-byte plaintext, empty AAD.
    name: 'RFC 8452 C.2 vector 4 (16-byte plaintext, no AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '01000000000000000000000000000000',
    aad: '',
    result: '85a01b63025ba19b7fd3ddfc033b3e76c9eac6fa700942702e90862383c6c366',
  },
  {
    // RFC 8452 Appendix C.2, vector 5 of 24: 32-byte plaintext, empty AAD.
    name: 'RFC 8452 C.2 vector 5 (32-byte plaintext, no AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '0100000000000000000000000000000002000000000000000000000000000000',
    aad: '',
    result:
      '4a6a9db4c8c6549201b9edb53006cba821ec9cf850948a7c86c68ac7539d027f' +
      'e819e63abcd020b006a976397632eb5d',
  },
  {
    // RFC 8452 Appendix C.2, vector 8 of 24: 8-byte plaintext, 1-byte AAD.
    name: 'RFC 8452 C.2 vector 8 (8-byte plaintext, 1-byte AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '0200000000000000',
    aad: '01',
    result: '1de22967237a813291213f267e3b452f02d01ae33e4ec854',
  },
  {
    // RFC 8452 Appendix C.2, vector 10 of 24: 16-byte plaintext, 1-byte AAD.
    name: 'RFC 8452 C.2 vector 10 (16-byte plaintext, 1-byte AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '02000000000000000000000000000000',
    aad: '01',
    result: 'c91545823cc24f17dbb0e9e807d5ec17b292d28ff61189e8e49f3875ef91aff7',
  },
  {
    // RFC 8452 Appendix C.2, vector 14 of 24: 4-byte plaintext, 12-byte AAD.
    name: 'RFC 8452 C.2 vector 14 (4-byte plaintext, 12-byte AAD)',
    key: '0100000000000000000000000000000000000000000000000000000000000000',
    nonce: '030000000000000000000000',
    plaintext: '02000000',
    aad: '010000000000000000000000',
    result: '22b3f4cd1835e517741dfddccfa07fa4661b74cf',
  },
  {
    // RFC 8452 Appendix C.2, vector 17 of 24: empty plaintext, empty AAD, random key/nonce.
    name: 'RFC 8452 C.2 vector 17 (0-byte plaintext, no AAD, random key)',
    key: 'e66021d5eb8e4f4066d4adb9c33560e4f46e44bb3da0015c94f7088736864200',
    nonce: 'e0eaf5284d884a0e77d31646',
    plaintext: '',
    aad: '',
    result: '169fbb2fbf389a995f6390af22228a62',
  },
  {
    // RFC 8452 Appendix C.2, vector 18 of 24: 3-byte plaintext, 5-byte AAD.
    name: 'RFC 8452 C.2 vector 18 (3-byte plaintext, 5-byte AAD)',
    key: 'bae8e37fc83441b16034566b7a806c46bb91c3c5aedb64a6c590bc84d1a5e269',
    nonce: 'e4b47801afc0577e34699b9e',
    plaintext: '671fdd',
    aad: '4fbdc66f14',
    result: '0eaccb93da9bb81333aee0c785b240d319719d',
  },
  {
    // RFC 8452 Appendix C.2, vector 21 of 24: 12-byte plaintext, 20-byte AAD.
    name: 'RFC 8452 C.2 vector 21 (12-byte plaintext, 20-byte AAD)',
    key: 'a44102952ef94b02b805249bac80e6f61455bfac8308a2d40d8c845117808235',
    nonce: '5c9e940fea2f582950a70d5a',
    plaintext: '1db2316fd568378da107b52b',
    aad: '0da55210cc1c1b0abde3b2f204d1e9f8b06bc47f',
    result: '8dbeb9f7255bf5769dd56692404099c2587f64979f21826706d497d5',
  },
];
