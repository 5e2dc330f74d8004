import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { pinoRedaction } from './pino.js';
import { createScrubber } from './scrubber.js';

const CANARY = 'canary-pino-5e2a8c1f-do-not-print';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

describe('pinoRedaction', () => {
  it('keeps registered values out of messages, errors, bindings and credential fields', () => {
    const scrubber = createScrubber();
    scrubber.add(CANARY);
    const { lines, stream } = capture();
    const logger = pino({ ...pinoRedaction({ scrubber, paths: ['*.ssn'] }) }, stream);
    const child = logger.child({ connection: `postgres://app:${CANARY}@db/app` });
    child.info(`connecting with ${CANARY}`);
    child.error({ err: new Error(`auth failed for ${CANARY}`) }, 'failed');
    logger.info({ password: 'other-password-value', user: { ssn: '078-05-1120' } }, 'fields');
    logger.info({ headers: { authorization: `Bearer ${CANARY}` } }, 'nested');
    const output = lines.join('');
    expect(lines).toHaveLength(4);
    expect(output).not.toContain(CANARY);
    expect(output).not.toContain('other-password-value');
    expect(output).not.toContain('078-05-1120');
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(output).toContain('[REDACTED]');
    expect(output).toContain('connecting with');
  });
});
