import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { CustosError } from '@custos/core/errors';

/**
 * HCL, read by HashiCorp's own parser (`@cdktf/hcl2json`: the Go `hcl/v2` library compiled to
 * WebAssembly, shipped inside the npm package; nothing is downloaded), in a worker thread:
 * - a parse runs synchronously inside the WebAssembly runtime, and a large policy takes seconds
 *   (about 2 s for 256 KiB), which on the server's thread would stall every request;
 * - the package sets globals (`Go`, `fs`, `require`) when it loads; they stay in the worker.
 * The worker starts on the first HCL text (the package compiles its WebAssembly on import, about
 * a second), serves every parse after it, and is started again if it dies or is stopped. Loaded,
 * it holds about 50 MiB (the WebAssembly runtime and its heap) that a server would otherwise keep
 * for good after its first policy write: it stops once no parse came for {@link PARSER_IDLE_MS}.
 */

/** Longest policy text read as HCL (Vault has no limit; its parser is native). */
export const MAX_HCL_POLICY_CHARS = 256 * 1024;

/** How long one parse may take before the worker is stopped and the parse refused. */
const PARSE_TIMEOUT_MS = 30_000;

/**
 * How long the parser stays loaded after its last parse. Policies are written rarely and in
 * bursts (a deployment tool writing dozens): a burst pays the start-up once.
 */
export const PARSER_IDLE_MS = 15_000;

/**
 * The worker's code, given as text (`eval`), so it is the same whether the server runs from its
 * TypeScript sources (tests) or from `dist`. Dynamic imports only: the text is read as CommonJS
 * or as a module depending on the process's flags (`--input-type`), and works as either.
 */
const WORKER_SOURCE = `
(async () => {
  const { parentPort, workerData } = await import('node:worker_threads');
  const { parse } = await import(workerData.parser);
  parentPort.on('message', ({ id, text }) => {
    parse('policy', text).then(
      (value) => parentPort.postMessage({ id, value }),
      (err) => parentPort.postMessage({ id, error: String((err && err.message) || err) }),
    );
  });
})();
`;

type Reply = { id: number; value?: Record<string, unknown>; error?: string };
interface Pending {
  resolve(reply: Reply): void;
  reject(err: Error): void;
}

let worker: Worker | undefined;
let nextId = 0;
const pending = new Map<number, Pending>();
let idleStop: NodeJS.Timeout | undefined;

/**
 * Whether the HCL parser's worker is loaded (started by a parse, stopped when idle or dead).
 *
 * @example
 * ```ts
 * await parseHcl('path "a" { capabilities = ["read"] }');
 * hclParserLoaded(); // true, until PARSER_IDLE_MS pass without a parse
 * ```
 */
export function hclParserLoaded(): boolean {
  return worker !== undefined;
}

/** Stops `idle` once {@link PARSER_IDLE_MS} pass with no parse started (a parse clears this). */
function stopWhenIdle(idle: Worker): void {
  clearTimeout(idleStop);
  // Any parse since would have cleared this, so `idle` is still the worker (or one that died).
  idleStop = setTimeout(() => {
    worker = undefined;
    void idle.terminate();
  }, PARSER_IDLE_MS);
  idleStop.unref();
}

function stopWorker(reason: Error): void {
  const stopped = worker;
  worker = undefined;
  for (const waiting of pending.values()) waiting.reject(reason);
  pending.clear();
  void stopped?.terminate();
}

function parserWorker(): Worker {
  if (worker !== undefined) return worker;
  const parser = pathToFileURL(createRequire(import.meta.url).resolve('@cdktf/hcl2json')).href;
  const started = new Worker(WORKER_SOURCE, { eval: true, workerData: { parser } });
  started.on('message', (reply: Reply) => {
    pending.get(reply.id)?.resolve(reply);
    pending.delete(reply.id);
    if (pending.size === 0) {
      started.unref();
      stopWhenIdle(started);
    }
  });
  // Not the caller's fault: a 500 (an unexpected error), and the next parse starts a new worker.
  const failed = () => new Error('the HCL parser stopped; the policy was not read');
  started.on('error', () => {
    if (worker === started) stopWorker(failed());
  });
  started.on('exit', () => {
    if (worker === started) stopWorker(failed());
  });
  // An idle parser never keeps the process alive; a busy one does (see parseInWorker).
  started.unref();
  worker = started;
  return started;
}

function parseInWorker(text: string): Promise<Reply> {
  const id = nextId++;
  clearTimeout(idleStop);
  const target = parserWorker();
  return new Promise<Reply>((resolve, reject) => {
    const timer = setTimeout(() => {
      if (worker === target) {
        stopWorker(
          new CustosError(
            'ERR_INVALID_REQUEST',
            `policy took longer than ${PARSE_TIMEOUT_MS / 1000} s to read as HCL`,
          ),
        );
      }
    }, PARSE_TIMEOUT_MS);
    timer.unref();
    const settle = () => clearTimeout(timer);
    pending.set(id, {
      resolve: (reply) => {
        settle();
        resolve(reply);
      },
      reject: (err) => {
        settle();
        reject(err);
      },
    });
    // Held alive while a parse is pending, or a caller awaiting it could see the process end.
    target.ref();
    target.postMessage({ id, text });
  });
}

/**
 * HCL text as the JSON value `hcl2json` makes of it: a block `path "a" { … }` becomes
 * `{"path": {"a": [{…}]}}` (a list per label, one entry per block: two blocks for one label
 * are two entries; keys come back sorted), attributes stay as they are written.
 *
 * A syntax error is `ERR_INVALID_REQUEST` with the parser's own diagnosis (line, column and
 * what is wrong; it does not quote the text). An expression where a literal belongs
 * (`${var.x}`, `upper("read")`, a variable) is refused: a policy holds literal values only, and
 * the parser would hand an expression back as the string `"${…}"`. Text longer than
 * {@link MAX_HCL_POLICY_CHARS} is refused before it is parsed.
 *
 * @example
 * ```ts
 * await parseHcl('path "secret/*" { capabilities = ["read"] }');
 * // { path: { 'secret/*': [{ capabilities: ['read'] }] } }
 * ```
 */
export async function parseHcl(text: string): Promise<Record<string, unknown>> {
  if (text.length > MAX_HCL_POLICY_CHARS) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `policy is longer than ${MAX_HCL_POLICY_CHARS} characters`,
    );
  }
  const reply = await parseInWorker(text);
  if (reply.error !== undefined || reply.value === undefined) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      `policy is not valid HCL: ${diagnosis(reply.error ?? '')}`,
    );
  }
  if (holdsExpression(reply.value)) {
    throw new CustosError(
      'ERR_INVALID_REQUEST',
      'policy is not valid: HCL expressions (interpolation, template directives, variables, function calls) are not allowed in a policy; write literal values',
    );
  }
  return reply.value;
}

/** The parser's diagnostics without its wrapping (`parse config: [ … ]`). */
function diagnosis(message: string): string {
  const inner = /^parse config: \[(.*)\]$/s.exec(message)?.[1] ?? message;
  // Diagnostics are short; a bound keeps a pathological one out of the log.
  return inner.length > 500 ? `${inner.slice(0, 500)}…` : inner;
}

/** Whether some string (a key or a value) is an expression the converter wrote out as text. */
function holdsExpression(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${') || value.includes('%{');
  if (Array.isArray(value)) return value.some(holdsExpression);
  if (typeof value === 'object' && value !== null)
    return Object.entries(value).some(([k, v]) => holdsExpression(k) || holdsExpression(v));
  return false;
}
