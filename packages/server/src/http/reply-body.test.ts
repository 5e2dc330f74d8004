import { fastifySecurityHeaders } from '@custos/core/http';
import fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { forgetReply, replyBodyOf, serializeReply } from './reply-body.js';

describe('the body of a reply, without parsing its text again', () => {
  it('gives back the object the text was serialised from, once', () => {
    const body = { data: { value: 'x', n: 1 } };
    const text = serializeReply(body);
    expect(text).toBe(JSON.stringify(body));
    expect(replyBodyOf(text)).toBe(body);
    // Taken: the slot keeps nothing, and the same text is now parsed.
    const again = replyBodyOf(text);
    expect(again).not.toBe(body);
    expect(again).toEqual(body);
  });

  it('parses a text that is not the last one serialised (another reply came in between)', () => {
    const first = { data: { who: 'first' } };
    const firstText = serializeReply(first);
    const second = { data: { who: 'second' } };
    const secondText = serializeReply(second);
    const parsed = replyBodyOf(firstText);
    expect(parsed).not.toBe(first);
    expect(parsed).toEqual(first);
    expect(replyBodyOf(secondText)).toBe(second);
  });

  it('an equal text from another object gives that object, which reads the same as JSON', () => {
    const held = { data: { when: new Date(0) } };
    serializeReply(held);
    expect(replyBodyOf(JSON.stringify({ data: { when: '1970-01-01T00:00:00.000Z' } }))).toBe(held);
  });

  it('null for an empty, non-string or non-JSON payload', () => {
    serializeReply({});
    expect(replyBodyOf('')).toBeNull();
    expect(replyBodyOf(Buffer.from('{}'))).toBeNull();
    expect(replyBodyOf('not json')).toBeNull();
  });

  it('forgets an unaudited reply, so nothing of it is held', () => {
    const keys = { keys: ['share-canary-1'], root_token: 'root-canary' };
    const text = serializeReply(keys);
    forgetReply();
    expect(replyBodyOf(text)).not.toBe(keys);
  });
  it('parses an envelope whose parts read as JSON only through their own toJSON', () => {
    for (const body of [
      { toJSON: () => ({ data: { a: 1 } }) },
      { data: { toJSON: () => ({ a: 1 }) } },
      { auth: { toJSON: () => ({ client_token: 't' }) } },
      { wrap_info: { toJSON: () => ({ token: 't' }) } },
    ]) {
      const text = serializeReply(body);
      const read = replyBodyOf(text);
      expect(read).not.toBe(body);
      expect(read).toEqual(JSON.parse(text));
    }
  });

  it('is read by the next onSend hook in the turn the reply was serialised in', async () => {
    // Found by an outside probe: an async onSend hook of the security headers ran first, so an
    // object changed right after it was sent could be audited as changed. The hooks before the
    // boundary's are callback hooks: nothing runs between serialisation and the read.
    const app = fastify();
    app.setReplySerializer(serializeReply);
    await app.register(fastifySecurityHeaders, { noStore: 'all' });
    const seen: unknown[] = [];
    app.addHook('onSend', async (_request, _reply, payload) => {
      seen.push((replyBodyOf(payload) as { value?: string }).value);
      return payload;
    });
    app.get('/', (_request, reply) => {
      const body = { value: 'sent' };
      void reply.send(body);
      body.value = 'changed after sending';
      return reply;
    });
    const answer = await app.inject({ method: 'GET', url: '/' });
    await app.close();
    expect(answer.json()).toEqual({ value: 'sent' });
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(seen).toEqual(['sent']);
  });
});
