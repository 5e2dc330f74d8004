import { createHmac, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Secret } from '../redaction/index.js';
import {
  createMemoryWebhookReplayStore,
  createWebhookSigner,
  createWebhookVerifier,
  WEBHOOK_SIGNATURE_HEADER,
  WebhookRejected,
  type WebhookRejectionCode,
} from './index.js';

const current = randomBytes(32).toString('hex');
const previous = randomBytes(32).toString('base64url');
const body = JSON.stringify({ type: 'invoice.paid', invoiceId: 'in_1', amount: 4200 });
const at = new Date('2026-12-03T12:00:00.000Z');
const seconds = (n: number) => new Date(at.getTime() + n * 1000);

async function rejection(promise: Promise<unknown>): Promise<WebhookRejected> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WebhookRejected);
  return error as WebhookRejected;
}

async function expectCode(promise: Promise<unknown>, code: WebhookRejectionCode): Promise<void> {
  expect((await rejection(promise)).code).toBe(code);
}

describe('the signature scheme', () => {
  it('is HMAC-SHA256 over "<t>.<id>." and the raw body, in t=,id=,v1= (an independent computation)', () => {
    const signed = createWebhookSigner({ secrets: current }).sign({ body, id: 'evt_1', now: at });
    const t = at.getTime() / 1000;
    const expected = createHmac('sha256', current).update(`${t}.evt_1.${body}`).digest('hex');
    expect(signed.header).toBe(`t=${t},id=evt_1,v1=${expected}`);
    expect(signed.headers).toEqual({ [WEBHOOK_SIGNATURE_HEADER]: signed.header });
    expect(signed.timestamp).toEqual(at);
    expect(signed.id).toBe('evt_1');
  });

  it('matches a known-answer vector (computed with openssl dgst -sha256 -hmac)', async () => {
    const secret = Buffer.from(Array.from({ length: 32 }, (_, i) => i)).toString('hex');
    const now = new Date(1_764_763_200_000);
    const header =
      't=1764763200,id=evt_kat,v1=ade49575299eb3e8b83ce87f4eab3fefbe9dda1279343b61d609d502fd52560f';
    expect(
      createWebhookSigner({ secrets: secret }).sign({ body: '{"a":1}', id: 'evt_kat', now }).header,
    ).toBe(header);
    await expect(
      createWebhookVerifier({ secrets: secret }).verify({ header, body: '{"a":1}', now }),
    ).resolves.toMatchObject({ id: 'evt_kat' });
  });

  it('signs whole seconds and generates a random id when none is given', () => {
    const signer = createWebhookSigner({ secrets: current });
    const a = signer.sign({ body, now: new Date(at.getTime() + 999) });
    const b = signer.sign({ body, now: at });
    expect(a.timestamp).toEqual(at);
    expect(a.id).toMatch(/^wh_[A-Za-z0-9_-]{22}$/);
    expect(a.id).not.toBe(b.id);
  });

  it('signs bytes and text alike, and takes secrets as text, bytes or Secret', async () => {
    const bytes = randomBytes(32);
    for (const secret of [current, new Secret(current), bytes, new Secret(new Uint8Array(bytes))]) {
      const signed = createWebhookSigner({ secrets: secret }).sign({ body, now: at });
      const verifier = createWebhookVerifier({ secrets: secret });
      const ok = await verifier.verify({ header: signed.header, body: Buffer.from(body), now: at });
      expect(ok.body.toString('utf8')).toBe(body);
    }
  });
});

describe('verify', () => {
  const signer = createWebhookSigner({ secrets: current });
  const verifier = createWebhookVerifier({ secrets: current });

  it('round-trips: gives the signed id, time and body', async () => {
    const signed = signer.sign({ body, id: 'evt_42', now: at });
    const webhook = await verifier.verify({ header: signed.header, body, now: seconds(30) });
    expect(webhook).toEqual({ id: 'evt_42', timestamp: at, body: Buffer.from(body) });
  });

  it('refuses a changed body, one byte or one bit, and a body re-serialised', async () => {
    const { header } = signer.sign({ body, now: at });
    const bytes = Buffer.from(body);
    for (let i = 0; i < bytes.length; i += 7) {
      const tampered = Buffer.from(bytes);
      tampered[i] = (tampered[i] as number) ^ 1;
      await expectCode(
        verifier.verify({ header, body: tampered, now: at }),
        'ERR_WEBHOOK_SIGNATURE',
      );
    }
    const reformatted = JSON.stringify(JSON.parse(body), null, 2);
    await expectCode(
      verifier.verify({ header, body: reformatted, now: at }),
      'ERR_WEBHOOK_SIGNATURE',
    );
    await expectCode(
      verifier.verify({ header, body: `${body} `, now: at }),
      'ERR_WEBHOOK_SIGNATURE',
    );
    await expectCode(verifier.verify({ header, body: '', now: at }), 'ERR_WEBHOOK_SIGNATURE');
  });

  it('refuses a changed timestamp, id or signature (each is signed)', async () => {
    const { header } = signer.sign({ body, id: 'evt_1', now: at });
    const t = at.getTime() / 1000;
    const variants = [
      header.replace(`t=${t}`, `t=${t + 1}`),
      header.replace(`t=${t}`, `t=${t - 1}`),
      header.replace('id=evt_1', 'id=evt_2'),
      header.replace(/v1=([0-9a-f])/, (_, c: string) => `v1=${c === '0' ? '1' : '0'}`),
      header.replace(/v1=[0-9a-f]{64}/, `v1=${'0'.repeat(64)}`),
      `t=${t},id=evt_1,v1=${createHmac('sha256', previous).update(`${t}.evt_1.${body}`).digest('hex')}`,
    ];
    for (const variant of variants) {
      expect(variant).not.toBe(header);
      await expectCode(
        verifier.verify({ header: variant, body, now: at }),
        'ERR_WEBHOOK_SIGNATURE',
      );
    }
  });

  it('accepts upper-case hex, spaces after commas and a header sent twice (joined by Node.js)', async () => {
    const { header } = signer.sign({ body, id: 'evt_1', now: at });
    const [t, id, v1] = header.split(',') as [string, string, string];
    for (const variant of [
      header.replace(/v1=([0-9a-f]+)/, (_, hex: string) => `v1=${hex.toUpperCase()}`),
      `${t}, ${id}, ${v1}`,
      `${v1},${id},${t}`,
      [`${t},${id}`, v1],
      `${t},${id},v0=whatever,v2=future,${v1}`,
    ]) {
      await expect(verifier.verify({ header: variant, body, now: at })).resolves.toBeDefined();
    }
  });

  it('refuses a timestamp older than the tolerance, and one too far in the future', async () => {
    const { header } = signer.sign({ body, now: at });
    await expect(verifier.verify({ header, body, now: seconds(300) })).resolves.toBeDefined();
    await expect(verifier.verify({ header, body, now: seconds(-300) })).resolves.toBeDefined();
    const old = await rejection(verifier.verify({ header, body, now: seconds(301) }));
    expect(old.code).toBe('ERR_WEBHOOK_TIMESTAMP');
    expect(old.message).toMatch(/more than 300 s ago/);
    const future = await rejection(verifier.verify({ header, body, now: seconds(-301) }));
    expect(future.code).toBe('ERR_WEBHOOK_TIMESTAMP');
    expect(future.message).toMatch(/in the future/);
    const strict = createWebhookVerifier({ secrets: current, toleranceSeconds: 5 });
    await expectCode(strict.verify({ header, body, now: seconds(6) }), 'ERR_WEBHOOK_TIMESTAMP');
  });

  it('checks the signature before the timestamp: a forged old delivery is a forgery', async () => {
    const { header } = signer.sign({ body, now: at });
    await expectCode(
      verifier.verify({ header, body: 'forged', now: seconds(3600) }),
      'ERR_WEBHOOK_SIGNATURE',
    );
  });

  it('refuses a parsed body: its bytes are gone', async () => {
    const { header } = signer.sign({ body, now: at });
    await expect(
      verifier.verify({ header, body: JSON.parse(body) as unknown as string, now: at }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(/raw request body/),
    });
  });
});

describe('rotation: the previous secret within its grace window (seed 001: webhook secrets, 180 d / 72 h)', () => {
  const rotatedAt = at;
  const graceEnd = new Date(rotatedAt.getTime() + 72 * 3600 * 1000);
  const receiver = createWebhookVerifier({
    secrets: [current, { secret: previous, notAfter: graceEnd }],
  });

  it('accepts a delivery signed only with the previous secret until notAfter, refuses it from then on', async () => {
    const oldSender = createWebhookSigner({ secrets: previous });
    const justBefore = new Date(graceEnd.getTime() - 1000);
    const signed = oldSender.sign({ body, now: justBefore });
    await expect(
      receiver.verify({ header: signed.header, body, now: justBefore }),
    ).resolves.toBeDefined();
    const late = oldSender.sign({ body, now: graceEnd });
    const refused = await rejection(receiver.verify({ header: late.header, body, now: graceEnd }));
    expect(refused.code).toBe('ERR_WEBHOOK_SECRET_RETIRED');
    expect(refused.message).toContain('secret #2');
    expect(refused.message).toContain(graceEnd.toISOString());
  });

  it('judges the window by the verifier clock: a signed time before notAfter does not reopen it', async () => {
    const backdated = createWebhookSigner({ secrets: previous }).sign({ body, now: seconds(0) });
    await expectCode(
      createWebhookVerifier({
        secrets: [current, { secret: previous, notAfter: seconds(100) }],
        toleranceSeconds: 3600,
      }).verify({ header: backdated.header, body, now: seconds(100) }),
      'ERR_WEBHOOK_SECRET_RETIRED',
    );
  });

  it('a sender mid-rotation signs with both secrets: receivers holding either verify (several v1=)', async () => {
    const sender = createWebhookSigner({
      secrets: [current, { secret: previous, notAfter: graceEnd }],
    });
    const signed = sender.sign({ body, now: at });
    expect(signed.header.match(/v1=/g)).toHaveLength(2);
    for (const secrets of [current, previous]) {
      const verifier = createWebhookVerifier({ secrets });
      await expect(
        verifier.verify({ header: signed.header, body, now: at }),
      ).resolves.toBeDefined();
    }
    // After the grace end the sender drops the previous secret by itself.
    const after = sender.sign({ body, now: graceEnd });
    expect(after.header.match(/v1=/g)).toHaveLength(1);
    await expectCode(
      createWebhookVerifier({ secrets: previous }).verify({
        header: after.header,
        body,
        now: graceEnd,
      }),
      'ERR_WEBHOOK_SIGNATURE',
    );
  });

  it('a signer whose every secret is past its window refuses to sign', () => {
    const signer = createWebhookSigner({ secrets: [{ secret: previous, notAfter: graceEnd }] });
    expect(() => signer.sign({ body, now: graceEnd })).toThrow(
      expect.objectContaining({ code: 'ERR_WEBHOOK_SECRET_RETIRED' }),
    );
  });
});

describe('replay', () => {
  it('accepts a signed delivery once within the window; a retry signed anew passes', async () => {
    const verifier = createWebhookVerifier({
      secrets: current,
      replay: createMemoryWebhookReplayStore(),
    });
    const signer = createWebhookSigner({ secrets: current });
    const first = signer.sign({ body, id: 'evt_1', now: at });
    await expect(verifier.verify({ header: first.header, body, now: at })).resolves.toBeDefined();
    const again = await rejection(verifier.verify({ header: first.header, body, now: seconds(1) }));
    expect(again.code).toBe('ERR_WEBHOOK_REPLAYED');
    const retry = signer.sign({ body, id: 'evt_1', now: seconds(2) });
    await expect(
      verifier.verify({ header: retry.header, body, now: seconds(2) }),
    ).resolves.toBeDefined();
  });

  it('claims only authentic, timely deliveries: a forgery cannot burn a real delivery', async () => {
    const claimed: string[] = [];
    const verifier = createWebhookVerifier({
      secrets: current,
      replay: {
        async claim(key) {
          claimed.push(key);
          return true;
        },
      },
    });
    const signed = createWebhookSigner({ secrets: current }).sign({ body, id: 'evt_9', now: at });
    await expectCode(
      verifier.verify({ header: signed.header, body: 'forged', now: at }),
      'ERR_WEBHOOK_SIGNATURE',
    );
    await expectCode(
      verifier.verify({ header: signed.header, body, now: seconds(999) }),
      'ERR_WEBHOOK_TIMESTAMP',
    );
    expect(claimed).toEqual([]);
    await verifier.verify({ header: signed.header, body, now: at });
    expect(claimed).toEqual([`evt_9.${at.getTime() / 1000}`]);
  });

  it('remembers a delivery as long as it could be accepted (ttl to timestamp + tolerance)', async () => {
    const ttls: number[] = [];
    const verifier = createWebhookVerifier({
      secrets: current,
      toleranceSeconds: 300,
      replay: {
        async claim(_key, ttlSeconds) {
          ttls.push(ttlSeconds);
          return true;
        },
      },
    });
    const signed = createWebhookSigner({ secrets: current }).sign({ body, now: at });
    await verifier.verify({ header: signed.header, body, now: seconds(-200) });
    await verifier.verify({ header: signed.header, body, now: seconds(250) });
    expect(ttls[0]).toBeGreaterThanOrEqual(500);
    expect(ttls[1]).toBeGreaterThanOrEqual(50);
    expect(ttls[1]).toBeLessThan(60);
  });
});

describe('secrets are checked at construction', () => {
  it.each([
    ['short', 'a1B2c3D4e5F6g7H8'],
    ['a placeholder', 'change-me-change-me-change-me-change-me'],
    ['repetitive', 'abababababababababababababababababab'],
  ])('refuses a %s secret, naming it, never printing it', (_, weak) => {
    for (const make of [
      () => createWebhookSigner({ secrets: weak }),
      () =>
        createWebhookVerifier({
          secrets: [current, { secret: weak, name: 'WEBHOOK_SECRET_PREVIOUS' }],
        }),
    ]) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(error).toMatchObject({ code: 'ERR_WEAK_SECRET' });
      expect(String((error as Error).message)).not.toContain(weak);
      expect(String((error as Error).stack)).not.toContain(weak);
    }
  });

  it('refuses short or repetitive bytes, duplicates, empty lists, bad dates and bad options', () => {
    const bad: [() => unknown, string][] = [
      [() => createWebhookSigner({ secrets: randomBytes(31) }), 'ERR_WEAK_SECRET'],
      [() => createWebhookSigner({ secrets: Buffer.alloc(64, 7) }), 'ERR_WEAK_SECRET'],
      [() => createWebhookVerifier({ secrets: [current, current] }), 'ERR_WEAK_SECRET'],
      [
        () => createWebhookVerifier({ secrets: [current, Buffer.from(current)] }),
        'ERR_WEAK_SECRET',
      ],
      [() => createWebhookVerifier({ secrets: [] }), 'ERR_INVALID_ARGUMENT'],
      [
        () => createWebhookVerifier({ secrets: Array.from({ length: 9 }, () => randomBytes(32)) }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () => createWebhookVerifier({ secrets: [{ secret: current, notAfter: 'tomorrow' }] }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () =>
          createWebhookVerifier({
            secrets: [{ secret: current, notAfter: '2026-12-06T09:00:00' }],
          }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () =>
          createWebhookVerifier({ secrets: [{ secret: current, notAfter: new Date(Number.NaN) }] }),
        'ERR_INVALID_ARGUMENT',
      ],
      [() => createWebhookVerifier({ secrets: 42 as unknown as string }), 'ERR_INVALID_ARGUMENT'],
      [
        () => createWebhookVerifier({ secrets: current, toleranceSeconds: 0 }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () => createWebhookVerifier({ secrets: current, toleranceSeconds: 1.5 }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () => createWebhookVerifier({ secrets: current, toleranceSeconds: 86_401 }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () => createWebhookSigner({ secrets: current }).sign({ body, id: 'a.b' }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () => createWebhookSigner({ secrets: current }).sign({ body, id: '' }),
        'ERR_INVALID_ARGUMENT',
      ],
      [
        () => createWebhookSigner({ secrets: current }).sign({ body, now: new Date(Number.NaN) }),
        'ERR_INVALID_ARGUMENT',
      ],
    ];
    for (const [make, code] of bad) expect(make).toThrow(expect.objectContaining({ code }));
  });
});

describe('no secret or signature in any output', () => {
  it('a canary secret and the full signature never appear in an error, its stack or inspect', async () => {
    const canary = `CANARY${randomBytes(24).toString('hex')}`;
    const signed = createWebhookSigner({ secrets: canary }).sign({ body, now: at });
    const signature = (/v1=([0-9a-f]{64})/.exec(signed.header) as RegExpExecArray)[1] as string;
    const verifiers = [
      createWebhookVerifier({ secrets: canary, replay: createMemoryWebhookReplayStore() }),
      createWebhookVerifier({ secrets: [current, { secret: canary, notAfter: seconds(-1) }] }),
      createWebhookVerifier({ secrets: current }),
    ];
    const errors: unknown[] = [];
    for (const verifier of verifiers) {
      for (const attempt of [
        { header: signed.header, body, now: at },
        { header: signed.header, body, now: at },
        { header: signed.header, body: 'x', now: at },
        { header: signed.header, body, now: seconds(9999) },
        { header: `${signed.header},t=1`, body, now: at },
        { header: signed.header.replace('v1=', `v1=${canary}`), body, now: at },
      ]) {
        await verifier.verify(attempt).catch((e: unknown) => errors.push(e));
      }
    }
    const codes = new Set(errors.map((e) => (e as WebhookRejected).code));
    expect([...codes].sort()).toEqual(
      [
        'ERR_WEBHOOK_MALFORMED',
        'ERR_WEBHOOK_REPLAYED',
        'ERR_WEBHOOK_SECRET_RETIRED',
        'ERR_WEBHOOK_SIGNATURE',
        'ERR_WEBHOOK_TIMESTAMP',
      ].sort(),
    );
    for (const error of errors) {
      const text = `${(error as Error).message}\n${(error as Error).stack}\n${inspect(error)}\n${JSON.stringify(error)}`;
      expect(text).not.toContain(canary);
      expect(text).not.toContain(signature);
      expect(text).not.toContain(signature.slice(0, 16));
    }
    expect(inspect(createWebhookVerifier({ secrets: canary }), { depth: 10 })).not.toContain(
      canary,
    );
  });
});
