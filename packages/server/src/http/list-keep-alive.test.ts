/**
 * The `LIST` method on a kept-alive connection: every `LIST` after the first arrives on the
 * connection list-method.ts already adopted. Over TLS the second one used to be handed to the
 * TLS server as raw TCP, and the connection hung up (a client saw `socket hang up`).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPki } from '@custos/test-support/tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../server.js';

describe.each(['http', 'https'] as const)(
  'LIST requests on one kept-alive %s connection',
  (scheme) => {
    let dir: string;
    let server: RunningServer;
    let ca: Buffer;
    let token: string;
    const agent =
      scheme === 'https'
        ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
        : new HttpAgent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();

    const call = (method: string, path: string, body?: unknown) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const url = `${server.url.replace('127.0.0.1', 'localhost')}/v1/${path}`;
        const send = scheme === 'https' ? httpsRequest : httpRequest;
        const req = send(
          url,
          {
            method,
            agent,
            ...(scheme === 'https' ? { ca } : {}),
            headers: {
              'content-type': 'application/json',
              ...(token ? { 'x-vault-token': token } : {}),
            },
          },
          (res) => {
            sockets.add(res.socket);
            let text = '';
            res.on('data', (chunk) => {
              text += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
        req.on('error', reject);
        req.end(body === undefined ? undefined : JSON.stringify(body));
      });

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'custos-list-keep-alive-'));
      const pki = createTestPki(dir);
      ca = await readFile(pki.caFile);
      const { certFile, keyFile } = pki.issue({ name: 'server' });
      server = await startServer({
        host: '127.0.0.1',
        port: 0,
        logLevel: 'silent',
        ...(scheme === 'https'
          ? { tls: { cert: await readFile(certFile), key: await readFile(keyFile) } }
          : {}),
      });
      token = '';
      const init = JSON.parse(
        (await call('POST', 'sys/init', { secret_shares: 1, secret_threshold: 1 })).text,
      ) as { keys: string[]; root_token: string };
      await call('POST', 'sys/unseal', { key: init.keys[0] });
      token = init.root_token;
    });
    afterAll(async () => {
      agent.destroy();
      await server?.close();
      await rm(dir, { recursive: true, force: true });
    });

    it('answers every LIST, found or not, with other requests between, on the same connection', async () => {
      const answers: string[] = [];
      for (const [method, path] of [
        ['LIST', 'sys/policies/acl'],
        ['LIST', 'transit/keys'],
        ['GET', 'sys/health'],
        ['LIST', 'sys/policies/acl'],
        ['LIST', 'secret/metadata/nothing-here'],
        ['LIST', 'sys/policies/acl'],
      ] as const) {
        answers.push(`${method} ${path} ${(await call(method, path)).status}`);
      }
      expect(answers).toEqual([
        'LIST sys/policies/acl 200',
        'LIST transit/keys 404',
        'GET sys/health 200',
        'LIST sys/policies/acl 200',
        'LIST secret/metadata/nothing-here 404',
        'LIST sys/policies/acl 200',
      ]);
      expect(sockets.size).toBe(1); // one connection carried them all
    });
  },
);
