/**
 * `custos server` on SIGTERM: the request in flight finishes with 200, new connections are
 * refused, the audit file ends with the server's close entry and verifies; a second signal exits
 * at once.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { custos, startCustos } from '../../../test/cli.js';

function serveDev(args: string[]) {
  const child = startCustos(['server', '--dev', ...args]);
  let output = '';
  const url = new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk;
      const match = /Listening on:\s+(http:\/\/\S+)/.exec(output);
      if (match && /Root token/.test(output)) resolve(match[1] as string);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', (code) => reject(new Error(`server exited with ${code}: ${output}`)));
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, url, exited, output: () => output };
}

/** A write sent in two halves over a raw socket; resolves once the server has the first half. */
async function slowWrite(url: string, token: string, path: string, body: string) {
  const socket = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    received += chunk;
  });
  socket.on('error', () => {});
  const response = new Promise<string>((resolve) => socket.once('close', () => resolve(received)));
  const half = Math.floor(body.length / 2);
  socket.write(
    `POST /v1/${path} HTTP/1.1\r\nhost: localhost\r\nx-vault-token: ${token}\r\n` +
      `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `connection: close\r\n\r\n${body.slice(0, half)}`,
  );
  // The server has the request once a request on another connection has been answered after it.
  await fetch(`${url}/v1/sys/health`);
  return { finish: () => socket.write(body.slice(half)), response };
}

function refused(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(url).port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

async function until(check: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 20));
}

describe('custos server on SIGTERM', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-cli-shutdown-'));
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('finishes the request in flight, refuses new connections and closes the audit log', async () => {
    const token = `root-${randomBytes(8).toString('hex')}`;
    const auditFile = join(dir, 'audit.log');
    const server = serveDev(['--dev-root-token-id', token, '--audit-file', auditFile]);
    children.push(server.child);
    const url = await server.url;
    const slow = await slowWrite(url, token, 'secret/data/in-flight', '{"data":{"k":"v"}}');
    server.child.kill('SIGTERM');
    await until(() => refused(url));
    slow.finish();
    expect(await slow.response).toMatch(/^HTTP\/1\.1 200 /);
    expect(await server.exited).toBe(0);
    expect(server.output()).toMatch(/shutting down/);

    const verified = await custos(['audit', 'verify', auditFile]);
    expect(verified.code).toBe(0);
    expect(verified.stdout).toMatch(/end of the file: +closed by the server/);
  });

  it('exits at once on a second signal while a request is stuck', async () => {
    const token = `root-${randomBytes(8).toString('hex')}`;
    const server = serveDev(['--dev-root-token-id', token]);
    children.push(server.child);
    const url = await server.url;
    await slowWrite(url, token, 'secret/data/stuck', '{"data":{"k":"v"}}');
    server.child.kill('SIGTERM');
    await until(() => /shutting down/.test(server.output()));
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(2);
    expect(server.output()).toMatch(/second signal: exiting without waiting/);
  });
});
