import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pgConnectionOptions } from '@custos/core/tls';
import {
  requirePostgresBinaries,
  startTlsPostgres,
  type TlsPostgres,
} from '@custos/test-support/postgres-tls';
import { createTestPki, type TestPki } from '@custos/test-support/tls';
import { requireTool } from '@custos/test-support/tools';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from './open-database.js';

const SSL_OF_SESSION = 'select ssl, version from pg_stat_ssl where pid = pg_backend_pid()';

describe.runIf(requireTool('openssl') && requirePostgresBinaries())(
  'PostgreSQL with TLS on, in a cluster the test starts',
  () => {
    let dir: string | undefined;
    let clusterDir: string | undefined;
    let pki: TestPki;
    let cluster: TlsPostgres;
    beforeAll(async () => {
      const pkiDir = mkdtempSync(join(tmpdir(), 'custos-pg-tls-'));
      dir = pkiDir;
      pki = createTestPki(pkiDir);
      // The certificate for 127.0.0.1 and localhost, signed by the test CA.
      const server = pki.issue({ name: 'postgres-server' });
      // Its own directory: the cluster's user must reach it (run as root, the cluster runs as postgres).
      clusterDir = mkdtempSync(join(tmpdir(), 'custos-pg-cluster-'));
      cluster = await startTlsPostgres(clusterDir, server);
    }, 60_000);
    afterAll(() => {
      try {
        cluster?.stop();
      } finally {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        if (clusterDir !== undefined) rmSync(clusterDir, { recursive: true, force: true });
      }
    });

    async function sessionTls(
      options: pg.ClientConfig,
    ): Promise<{ ssl: boolean; version: string | null }> {
      const client = new pg.Client(options);
      await client.connect();
      try {
        return (await client.query(SSL_OF_SESSION)).rows[0];
      } finally {
        await client.end();
      }
    }

    it('pgConnectionOptions: verify-full with the CA connects over TLS; production refuses the plain URL', async () => {
      const verified = pgConnectionOptions({
        NODE_ENV: 'production',
        DATABASE_URL: cluster.url(`sslmode=verify-full&sslrootcert=${pki.caFile}`),
      });
      expect(await sessionTls(verified)).toEqual({
        ssl: true,
        version: expect.stringMatching(/^TLSv1\.[23]$/),
      });
      // Without the CA, the certificate is not trusted: no connection, not an unverified one.
      await expect(
        sessionTls(pgConnectionOptions({ DATABASE_URL: cluster.url('sslmode=verify-full') })),
      ).rejects.toThrow(/certificate/);
      expect(() =>
        pgConnectionOptions({ NODE_ENV: 'production', DATABASE_URL: cluster.url() }),
      ).toThrow(expect.objectContaining({ code: 'ERR_INSECURE_CONNECTION' }));
      // Outside production a plain URL connects in plain text: the refusal above is what protects.
      expect(await sessionTls(pgConnectionOptions({ DATABASE_URL: cluster.url() }))).toMatchObject({
        ssl: false,
      });
    });

    it("the server's storage honours sslmode in its URL", async () => {
      const tls = await openDatabase<Record<string, never>>(
        cluster.url(`sslmode=verify-full&sslrootcert=${pki.caFile}`),
        { create: true },
      );
      try {
        const { rows } = await sql<{
          ssl: boolean;
        }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(tls.db);
        expect(rows).toEqual([{ ssl: true }]);
        expect(tls.description).not.toContain('sslmode');
      } finally {
        await tls.close();
      }
      const plain = await openDatabase<Record<string, never>>(cluster.url('sslmode=disable'), {
        create: true,
      });
      try {
        const { rows } = await sql<{
          ssl: boolean;
        }>`select ssl from pg_stat_ssl where pid = pg_backend_pid()`.execute(plain.db);
        expect(rows).toEqual([{ ssl: false }]);
      } finally {
        await plain.close();
      }
      // verify-full against a CA that did not sign the server's certificate: refused.
      await expect(openDatabase(cluster.url('sslmode=verify-full'), {})).rejects.toMatchObject({
        message: expect.stringMatching(
          /cannot connect to PostgreSQL at 127\.0\.0\.1:\d+: .*certificate/,
        ),
      });
    });
  },
);
