/** The tests' PostgreSQL is the demo's: one starter (runs as the postgres OS user, loopback only). */
export { type PostgresHandle as Postgres, startPostgres } from '../../src/demo/local/postgres';
