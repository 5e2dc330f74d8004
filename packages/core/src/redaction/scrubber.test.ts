import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createScrubber, REDACTED } from './scrubber.js';
import { Secret } from './secret.js';

const CANARY = 'canary-3b9f1d7e-do/not+print=?&"\\';

describe('createScrubber', () => {
  it('removes a value in its plain, JSON, URL-encoded and base64 forms', () => {
    const scrubber = createScrubber();
    scrubber.add(new Secret(CANARY));
    const bytes = Buffer.from(CANARY);
    const texts = [
      `plain ${CANARY} end`,
      JSON.stringify({ password: CANARY }),
      `https://api.test/?token=${encodeURIComponent(CANARY)}`,
      `form=${encodeURIComponent(CANARY).replace(/%20/g, '+')}`,
      `b64 ${bytes.toString('base64')}`,
      `b64url ${bytes.toString('base64url')}`,
      `Authorization: Basic ${Buffer.from(`user:${CANARY}`).toString('base64')}`,
      `blob ${Buffer.concat([Buffer.from('xy'), bytes, Buffer.from('zzz')]).toString('base64url')}`,
    ];
    for (const text of texts) {
      const out = scrubber.redact(text);
      expect(out).toContain(REDACTED);
      expect(out).not.toContain(CANARY);
      expect(out).not.toContain(JSON.stringify(CANARY).slice(1, -1));
      expect(out).not.toContain(encodeURIComponent(CANARY));
      expect(out).not.toContain(bytes.toString('base64').slice(0, 20));
    }
  });

  it('finds a value at any offset inside base64 data', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 8, maxLength: 40 }),
        fc.uint8Array({ maxLength: 7 }),
        fc.uint8Array({ maxLength: 7 }),
        (value, before, after) => {
          const scrubber = createScrubber();
          scrubber.add(value);
          const blob = Buffer.concat([before, Buffer.from(value), after]);
          for (const encoding of ['base64', 'base64url'] as const) {
            const out = scrubber.redact(blob.toString(encoding));
            // What is left around [REDACTED] carries at most the bits of the neighbouring bytes.
            expect(out).toContain(REDACTED);
            const decodedLeft = out.split(REDACTED).join('');
            expect(decodedLeft.length).toBeLessThanOrEqual(
              Math.ceil(((before.length + after.length) * 8) / 6) + 8,
            );
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('ignores short values and leaves unrelated text alone', () => {
    const scrubber = createScrubber();
    scrubber.add('true');
    scrubber.add('12345');
    expect(scrubber.size).toBe(0);
    expect(scrubber.redact('enabled: true, port 12345')).toBe('enabled: true, port 12345');
    scrubber.add('hunter2-long');
    expect(scrubber.redact('nothing secret here')).toBe('nothing secret here');
    expect(scrubber.size).toBe(1);
  });

  it('handles regular-expression characters and overlapping values, longest first', () => {
    const scrubber = createScrubber();
    scrubber.add('a.b*c+d?');
    scrubber.add('a.b*c+d?-extended');
    expect(scrubber.redact('x a.b*c+d?-extended y a.b*c+d? z axbxc')).toBe(
      `x ${REDACTED} y ${REDACTED} z axbxc`,
    );
  });

  it('scrubs an error message, stack, cause chain and aggregate errors in place', () => {
    const scrubber = createScrubber();
    scrubber.add(CANARY);
    const inner = new Error(`inner ${CANARY}`);
    const outer = new Error(`outer ${CANARY}`, { cause: inner });
    const aggregate = new AggregateError([new Error(`one ${CANARY}`)], `all ${CANARY}`);
    const cyclic = new Error(`cyclic ${CANARY}`);
    (cyclic as { cause?: unknown }).cause = cyclic;
    for (const err of [outer, aggregate, cyclic]) {
      expect(scrubber.redactError(err)).toBe(err);
    }
    const texts = [outer, inner, aggregate, aggregate.errors[0], cyclic].flatMap((e) => [
      (e as Error).message,
      (e as Error).stack ?? '',
    ]);
    for (const text of texts) expect(text).not.toContain(CANARY);
    expect(scrubber.redactError('not an error')).toBe('not an error');
  });
});
