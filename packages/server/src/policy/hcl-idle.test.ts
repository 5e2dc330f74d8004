import { afterEach, describe, expect, it, vi } from 'vitest';
import { hclParserLoaded, PARSER_IDLE_MS, parseHcl } from './hcl.js';

const policy = (n: number) => `path "secret/${n}/*" {\n  capabilities = ["read"]\n}\n`;
const parsed = (n: number) => ({ path: { [`secret/${n}/*`]: [{ capabilities: ['read'] }] } });

// The parser's worker holds tens of MiB: a server keeps it only while policies are being written.
describe('the HCL parser thread when idle', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('stops once no parse came for a while, and starts again for the next', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(hclParserLoaded()).toBe(false);
    expect(await parseHcl(policy(1))).toEqual(parsed(1));
    expect(hclParserLoaded()).toBe(true);
    // A parse within the idle time keeps it loaded for another idle time.
    vi.advanceTimersByTime(PARSER_IDLE_MS - 1);
    expect(await parseHcl(policy(2))).toEqual(parsed(2));
    vi.advanceTimersByTime(PARSER_IDLE_MS - 1);
    expect(hclParserLoaded()).toBe(true);
    vi.advanceTimersByTime(1);
    expect(hclParserLoaded()).toBe(false);
    expect(await parseHcl(policy(3))).toEqual(parsed(3));
    expect(hclParserLoaded()).toBe(true);
  });

  it('is not stopped while a parse is in flight', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    await parseHcl(policy(4));
    const slow = parseHcl(policy(5).repeat(2000));
    vi.advanceTimersByTime(PARSER_IDLE_MS + 1);
    expect(hclParserLoaded()).toBe(true);
    expect(Object.keys((await slow).path as object)).toEqual(['secret/5/*']);
  });
});
