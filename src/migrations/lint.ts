import type { EmbeddedMigrationsConfig } from '../spec/migrations';

export interface LintFinding {
  file: string;
  line: number;
  statement: string;
  rule: string;
  why: string;
}

export async function lintMigrations(_config: EmbeddedMigrationsConfig): Promise<LintFinding[]> {
  return [];
}
