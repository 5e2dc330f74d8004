import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWebhookSigner, createWebhookVerifier, WebhookRejected } from './index.js';

const secret = randomBytes(32).toString('hex');
const body = '{"type":"ping"}';
const at = new Date('2026-12-03T12:00:00.000Z');
const t = at.getTime() / 1000;
const signer = createWebhookSigner({ secrets: secret });
const verifier = createWebhookVerifier({ secrets: secret });
const { header } = signer.sign({ body, id: 'evt_1', now: at });
const v1 = header.slice(header.indexOf('v1='));

async function refusal(value: unknown): Promise<WebhookRejected> {
  const error = await verifier.verify({ header: value as string, body, now: at }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, String(value)).toBeInstanceOf(WebhookRejected);
  return error as WebhookRejected;
}

describe('malformed signature headers', () => {
  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['an empty list', []],
    ['without t=', `id=evt_1,${v1}`],
    ['without id=', `t=${t},${v1}`],
    ['without v1=', `t=${t},id=evt_1`],
    ['with t= twice', `t=${t},t=${t},id=evt_1,${v1}`],
    ['with id= twice', `t=${t},id=evt_1,id=evt_1,${v1}`],
    ['sent twice whole', [header, header]],
    ['with a negative t', `t=-${t},id=evt_1,${v1}`],
    ['with a fractional t', `t=${t}.5,id=evt_1,${v1}`],
    ['with t in milliseconds beyond 12 digits', `t=${at.getTime()}0,id=evt_1,${v1}`],
    ['with an empty t', `t=,id=evt_1,${v1}`],
    ['with an id holding a dot', `t=${t},id=evt.1,${v1}`],
    ['with an over-long id', `t=${t},id=${'a'.repeat(129)},${v1}`],
    ['with a short v1', `t=${t},id=evt_1,v1=abcd`],
    ['with a long v1', `t=${t},id=evt_1,${v1}00`],
    ['with a non-hex v1', `t=${t},id=evt_1,v1=${'g'.repeat(64)}`],
    ['with base64 in v1', `t=${t},id=evt_1,v1=${randomBytes(32).toString('base64')}`],
    ['with an element without =', `t=${t},id=evt_1,${v1},junk`],
    ['with an empty element', `t=${t},,id=evt_1,${v1}`],
    ['with a trailing comma', `${header},`],
    ['with a key of odd characters', `t=${t},id=evt_1,${v1},V1=x`],
    ['with 17 v1= signatures', `t=${t},id=evt_1${`,${v1}`.repeat(17)}`],
    ['with 33 elements', `t=${t},id=evt_1,${v1}${',v0=a'.repeat(30)}`],
    ['longer than 4096 characters', `t=${t},id=evt_1,${v1},v0=${'a'.repeat(4096)}`],
    ['of a Stripe form', `t=${t},${v1}`],
    ['with a semicolon separator', `t=${t};id=evt_1;${v1}`],
    ['not a string', 42],
  ])('refuses a header %s as ERR_WEBHOOK_MALFORMED, quoting nothing of it', async (_, value) => {
    const error = await refusal(value);
    expect(error.code).toBe('ERR_WEBHOOK_MALFORMED');
    expect(error.message).not.toContain(v1.slice(3, 19));
    expect(error.message).not.toContain('evt');
  });

  it('accepts exactly 16 signatures (a rotation needs 2 or 3)', async () => {
    const many = `t=${t},id=evt_1${`,v1=${'0'.repeat(64)}`.repeat(15)},${v1}`;
    await expect(verifier.verify({ header: many, body, now: at })).resolves.toBeDefined();
  });

  it('property: any header text is refused with a WebhookRejected or accepted only when authentic', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc
            .array(
              fc.oneof(
                fc.constantFrom(`t=${t}`, 'id=evt_1', v1, 'v0=x', '', ' ', '='),
                fc.string({ maxLength: 20 }),
                fc.string({ maxLength: 20 }).map((s) => `t=${s}`),
                fc.string({ maxLength: 20 }).map((s) => `id=${s}`),
                fc.string({ maxLength: 70 }).map((s) => `v1=${s}`),
              ),
              { maxLength: 8 },
            )
            .map((parts) => parts.join(',')),
        ),
        async (text) => {
          const outcome = await verifier.verify({ header: text, body, now: at }).then(
            () => 'accepted',
            (e: unknown) => e,
          );
          if (outcome === 'accepted') {
            // Only a header carrying the genuine t, id and signature verifies.
            expect(text).toContain(v1);
            expect(text).toContain(`t=${t}`);
            expect(text).toContain('id=evt_1');
          } else {
            expect(outcome).toBeInstanceOf(WebhookRejected);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('property: flipping any character of a genuine header never verifies', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: header.length - 1 }),
        fc.string({ minLength: 1, maxLength: 1 }),
        async (position, replacement) => {
          const mutated = header.slice(0, position) + replacement + header.slice(position + 1);
          fc.pre(mutated !== header);
          const outcome = await verifier.verify({ header: mutated, body, now: at }).then(
            () => 'accepted',
            (e: unknown) => e,
          );
          // Only the case of a hex digit may change: anything else is refused.
          if (outcome === 'accepted') expect(mutated.toLowerCase()).toBe(header.toLowerCase());
          else expect(outcome).toBeInstanceOf(WebhookRejected);
        },
      ),
      { numRuns: 500 },
    );
  });
});
