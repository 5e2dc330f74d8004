import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type Kysely,
  PostgresDialect,
  type PostgresDialectConfig,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';

/**
 * What Kysely's migrator asks of a PostgreSQL database, answered about one schema from the
 * catalog alone. Kysely's own introspector lists every schema's tables through functions that
 * look names up again (`pg_get_serial_sequence`, `has_schema_privilege`): when another
 * deployment or test in the same database drops its schema during that listing, the whole
 * listing fails with "schema … does not exist", and a server would fail to start for a schema it
 * never uses. Tables are listed by name only (no columns): the migrator needs nothing more.
 *
 * @example
 * ```ts
 * const db = new Kysely({ dialect: new SchemaScopedPostgresDialect({ pool }, 'custos') });
 * await db.introspection.getTables(); // [{ name: 'custos_entries', schema: 'custos', … }, …]
 * ```
 */
export class SchemaIntrospector implements DatabaseIntrospector {
  constructor(
    private readonly db: Kysely<unknown>,
    private readonly schema: string,
  ) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<SchemaMetadata>`
      select nspname as name from pg_catalog.pg_namespace where nspname = ${this.schema}
    `.execute(this.db);
    return rows.map(({ name }) => ({ name }));
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ name: string }>`
      select c.relname as name
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = ${this.schema} and c.relkind in ('r', 'p')
    `.execute(this.db);
    return rows.map(({ name }) => ({ name, schema: this.schema, isView: false, columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** Kysely's PostgreSQL dialect whose introspection sees only `schema` ({@link SchemaIntrospector}). */
export class SchemaScopedPostgresDialect extends PostgresDialect {
  constructor(
    config: PostgresDialectConfig,
    private readonly schema: string,
  ) {
    super(config);
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.schema);
  }
}
