import { type Candidate, type Confidence, PROVIDER_PRIORITY, type Rule } from './rule.js';

const BEGIN = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY( BLOCK)?-----/g;
const MAX_KEY_CHARS = 64 * 1024;

/** The base64 body of a PEM block written in a file, a string literal or a JSON value. */
function base64Body(block: string): string {
  return block
    .replace(/\\[nr]/g, '')
    .replace(/^[A-Za-z-]+: .*$/gm, '')
    .replace(/[^A-Za-z0-9+/=]/g, '');
}

/** Whether an OpenSSH private key is protected by a passphrase (its cipher is not "none"). */
function opensshEncrypted(body: string): boolean {
  const bytes = Buffer.from(body, 'base64');
  const magic = 'openssh-key-v1\0';
  if (bytes.toString('latin1', 0, magic.length) !== magic) return false;
  const length = bytes.readUInt32BE(magic.length);
  return bytes.toString('latin1', magic.length + 4, magic.length + 4 + length) !== 'none';
}

function grade(kind: string, block: string, body: string): Confidence {
  if (kind.includes('ENCRYPTED') || block.includes('Proc-Type: 4,ENCRYPTED')) return 'low';
  if (kind.startsWith('OPENSSH') && opensshEncrypted(body)) return 'low';
  return 'high';
}

/**
 * PEM private keys of every kind (PKCS#1 RSA, SEC 1 EC, DSA, PKCS#8, encrypted PKCS#8, OpenSSH,
 * PGP private key blocks), in files or embedded in strings with `\n` escapes. The body must
 * hold key material (a header quoted in documentation is not reported); keys protected by a
 * passphrase are reported at low confidence.
 */
export const pemPrivateKey: Rule = {
  id: 'private-key',
  description: 'PEM or OpenSSH private key (RSA, EC, DSA, PKCS#8, OpenSSH, PGP)',
  source: 'https://www.rfc-editor.org/rfc/rfc7468',
  keywords: ['private key'],
  confidence: 'high',
  priority: PROVIDER_PRIORITY - 1,
  structured: true,
  wholeText: true,
  *find(text): Iterable<Candidate> {
    const begin = new RegExp(BEGIN);
    for (let match = begin.exec(text); match !== null; match = begin.exec(text)) {
      const kind = `${match[1] ?? ''}PRIVATE KEY${match[2] ?? ''}`;
      const endMarker = `-----END ${kind}-----`;
      const bodyStart = match.index + match[0].length;
      const endAt = text.indexOf(endMarker, bodyStart);
      if (endAt < 0 || endAt - bodyStart > MAX_KEY_CHARS) continue;
      const block = text.slice(bodyStart, endAt);
      const body = base64Body(block);
      if (body.length < 64) continue;
      yield {
        start: match.index,
        end: endAt + endMarker.length,
        confidence: grade(kind, block, body),
      };
      begin.lastIndex = endAt + endMarker.length;
    }
  },
};

/** PuTTY private key files (`.ppk`); unencrypted ones hold the key in the clear. */
export const puttyPrivateKey: Rule = {
  id: 'putty-private-key',
  description: 'PuTTY private key file (PPK)',
  source: 'https://the.earth.li/~sgtatham/putty/latest/htmldoc/AppendixC.html',
  keywords: ['putty-user-key-file'],
  confidence: 'high',
  priority: PROVIDER_PRIORITY,
  structured: true,
  wholeText: true,
  *find(text): Iterable<Candidate> {
    const header = /PuTTY-User-Key-File-\d: [^\r\n]+\r?\nEncryption: ([^\r\n]+)/g;
    for (let match = header.exec(text); match !== null; match = header.exec(text)) {
      const lines = /Private-Lines: (\d+)\r?\n/g;
      lines.lastIndex = match.index;
      const privateLines = lines.exec(text);
      if (privateLines === null) continue;
      let end = privateLines.index + privateLines[0].length;
      for (let i = 0; i < Number(privateLines[1]) && end < text.length; i++) {
        const next = text.indexOf('\n', end);
        end = next < 0 ? text.length : next + 1;
      }
      yield {
        start: match.index,
        end,
        confidence: match[1]?.trim() === 'none' ? 'high' : 'low',
      };
    }
  },
};
