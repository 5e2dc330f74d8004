import { inspect } from 'node:util';
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

  it('removes form-encoded, lowercase-percent, URL user-info and hex forms', () => {
    const value = "Sup3r!Secret(2024)~x'q";
    const scrubber = createScrubber();
    scrubber.add(value);
    const bytes = Buffer.from(value);
    const url = new URL('postgres://db.internal/app');
    url.username = 'app';
    url.password = value;
    const lowercase = (text: string) => text.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
    const texts = [
      'password=Sup3r%21Secret%282024%29%7Ex%27q', // URLSearchParams / form bodies
      `body=${new URLSearchParams({ password: value }).toString()}`,
      `lower=${lowercase(new URLSearchParams({ p: value }).toString())}`,
      `connect ${url.href} failed`,
      `hex ${bytes.toString('hex')} HEX ${bytes.toString('hex').toUpperCase()}`,
      `in a hex dump: 00ff${bytes.toString('hex')}ff00`,
    ];
    for (const text of texts) {
      const out = scrubber.redact(text);
      expect(out).toContain(REDACTED);
      expect(out).not.toMatch(/Sup3r|Secret|5375703372/i);
    }
    // Spaces: `+` in form bodies, `%20` elsewhere, lowercase escapes alike.
    const spaced = createScrubber();
    spaced.add('correct horse battery~staple');
    const form = new URLSearchParams({ p: 'correct horse battery~staple' }).toString().slice(2);
    expect(spaced.redact(`a=${form}&b=${lowercase(form)}`)).toBe(`a=${REDACTED}&b=${REDACTED}`);
  });

  it('scrubs string fields of an error, and causes that are not errors, without looping', () => {
    const scrubber = createScrubber();
    scrubber.add(CANARY);
    const plainCause = { message: `plain ${CANARY}`, detail: { deeper: [`x ${CANARY}`] } };
    const err = Object.assign(new Error('request failed', { cause: plainCause }), {
      config: { url: 'https://api.test/login', password: CANARY, headers: { auth: CANARY } },
      body: `token=${CANARY}`,
    });
    const cycle: Record<string, unknown> = { note: CANARY };
    cycle.self = cycle;
    (err.config as Record<string, unknown>).cycle = cycle;
    const stringCause = new Error('wrapped', { cause: `because ${CANARY}` });
    const frozen = Object.assign(new Error('frozen field'), { data: Object.freeze({ v: CANARY }) });
    scrubber.redactError(err);
    scrubber.redactError(stringCause);
    scrubber.redactError(frozen);
    const shown = inspect(err, { depth: 10 }) + inspect(stringCause) + JSON.stringify(plainCause);
    expect(shown).not.toContain(CANARY);
    expect(shown).toContain(REDACTED);
    expect(err.config.url).toBe('https://api.test/login');
    expect(stringCause.cause).toBe(`because ${REDACTED}`);
    // A frozen object cannot be changed; scrubbing goes on without throwing.
    expect(frozen.data.v).toBe(CANARY);
  });

  it('stops at a depth limit in deeply nested fields', () => {
    const scrubber = createScrubber();
    scrubber.add(CANARY);
    let nested: Record<string, unknown> = { leaf: CANARY };
    const levels: Record<string, unknown>[] = [nested];
    for (let i = 0; i < 50; i++) {
      nested = { next: nested, here: CANARY };
      levels.push(nested);
    }
    const err = Object.assign(new Error('deep'), { data: nested });
    expect(() => scrubber.redactError(err)).not.toThrow();
    // Near the error: scrubbed. Far below it: left alone (bounded work).
    expect(levels.at(-1)?.here).toBe(REDACTED);
    expect(levels[0]?.leaf).toBe(CANARY);
  });
});
