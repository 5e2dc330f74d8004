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
});
