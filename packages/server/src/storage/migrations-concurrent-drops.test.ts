/**
 * A server starting on PostgreSQL while another deployment (or test) in the same database drops
 * its schema. The migrator's table lookups once went through Kysely's introspector, which lists
 * every schema's tables with name-resolving functions (`pg_get_serial_sequence`,
 * `has_schema_privilege`): a schema dropped between the catalog scan and those calls failed the
 * start with "schema … does not exist", naming the other deployment's schema (seen in CI).
 */
import { POSTGRES_URL, requireService, uniqueName } from '@custos/test-support/services';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestStorage } from '../../test/harness.js';
import { openStorage } from './database.js';

describe.runIf(await requireService('postgres'))(
  'storage migrations beside dropped schemas',
  () => {
    it('start while other schemas with tables are created and dropped', async () => {
      const churn = new pg.Client({ connectionString: POSTGRES_URL });
      await churn.connect();
      let churning = true;
      const churned: string[] = [];
      const churner = (async () => {
        while (churning) {
          const schema = uniqueName('churn');
          churned.push(schema);
          await churn.query(
            `create schema "${schema}"; create table "${schema}".t (id serial primary key, a text, b text, c text)`,
          );
          await churn.query(`drop schema "${schema}" cascade`);
        }
      })();
      const failures: string[] = [];
      try {
        for (let start = 0; start < 12; start++) {
          const storage = await createTestStorage('postgres');
          try {
            const opened = await openStorage(storage.location);
            await opened.close();
          } catch (err) {
            failures.push((err as Error).message);
          } finally {
            await storage.cleanup();
          }
        }
      } finally {
        churning = false;
        await churner;
        await churn.end();
      }
      expect(churned.length).toBeGreaterThan(12);
      expect(failures).toEqual([]);
    });
  },
);
