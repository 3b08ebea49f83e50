import type { AlterTableCmd, ColumnDef, Node } from 'libpg-query';
import { objectKind, objectName, relationName } from './sql-names';

/** What a rule found in one statement; the linter adds where. */
export interface RuleHit {
  rule: string;
  /** The object the statement breaks, as written (`users.email`). */
  object?: string;
  why: string;
}

// Expand runs while the old version still serves, and stays if the rollout rolls back: it may only
// add what the old version ignores. Each rule names a statement that takes away or tightens
// something the old version uses, and says why in one sentence.

/** Dropping an index only slows queries down; every other object may be used by the old version's SQL. */
const HARMLESS_DROPS = new Set(['OBJECT_INDEX', 'OBJECT_STATISTIC_EXT']);

/** These types fill the column themselves, so an insert that leaves it out still works. */
const SERIAL_TYPES = new Set(['serial', 'serial2', 'serial4', 'serial8', 'smallserial', 'bigserial']);
const FILLS_ITSELF = new Set(['CONSTR_DEFAULT', 'CONSTR_IDENTITY', 'CONSTR_GENERATED']);
const REQUIRES_VALUE = new Set(['CONSTR_NOTNULL', 'CONSTR_PRIMARY']);

function requiresValueOnInsert(column: ColumnDef): boolean {
  const types = (column.constraints ?? []).flatMap((c) =>
    'Constraint' in c && c.Constraint.contype ? [c.Constraint.contype] : [],
  );
  const typeName = column.typeName?.names?.at(-1);
  const serial =
    typeName !== undefined && 'String' in typeName && SERIAL_TYPES.has(typeName.String.sval ?? '');
  return types.some((t) => REQUIRES_VALUE.has(t)) && !serial && !types.some((t) => FILLS_ITSELF.has(t));
}

function alterTableHit(table: string, cmd: AlterTableCmd): RuleHit | null {
  const column = `${table}.${cmd.name ?? ''}`;
  switch (cmd.subtype) {
    case 'AT_DropColumn':
      return {
        rule: 'DROP COLUMN',
        object: column,
        why: `the old version still reads ${column}; dropping it breaks the old version on rollback`,
      };
    case 'AT_AlterColumnType':
      return {
        rule: 'ALTER COLUMN TYPE',
        object: column,
        why: `the old version reads and writes ${column} as its current type; changing it can break the old version's queries (and rewrites the table under a lock)`,
      };
    case 'AT_SetNotNull':
      return {
        rule: 'SET NOT NULL',
        object: column,
        why: `the old version may insert rows without ${column}; SET NOT NULL makes those inserts fail`,
      };
    case 'AT_DropConstraint':
      return {
        rule: 'DROP CONSTRAINT',
        object: `${table}.${cmd.name ?? ''}`,
        why: `the old version may rely on constraint ${cmd.name ?? ''} of ${table} (uniqueness, a reference, a check); dropping it lets in data the old version does not expect`,
      };
    case 'AT_AddColumn': {
      const def = cmd.def && 'ColumnDef' in cmd.def ? cmd.def.ColumnDef : undefined;
      if (!def || !requiresValueOnInsert(def)) return null;
      const added = `${table}.${def.colname ?? ''}`;
      return {
        rule: 'ADD COLUMN NOT NULL',
        object: added,
        why: `the old version inserts rows without ${added}; a NOT NULL column without a DEFAULT makes those inserts fail`,
      };
    }
    default:
      return null;
  }
}

type Rule = (statement: never) => RuleHit[];

/** One entry per statement kind the linter judges; a new rule is a new entry, not a new branch. */
const RULES: Record<string, Rule> = {
  DropStmt: (stmt: Extract<Node, { DropStmt: unknown }>['DropStmt']) => {
    if (HARMLESS_DROPS.has(stmt.removeType ?? '')) return [];
    const kind = objectKind(stmt.removeType);
    return (stmt.objects ?? []).map((object) => {
      const name = objectName(object);
      return {
        rule: `DROP ${kind}`,
        object: name,
        why: `the old version may still use ${kind.toLowerCase()} ${name}; dropping it breaks the old version on rollback`,
      };
    });
  },
  AlterTableStmt: (stmt: Extract<Node, { AlterTableStmt: unknown }>['AlterTableStmt']) => {
    const table = relationName(stmt.relation);
    return (stmt.cmds ?? []).flatMap((cmd) => {
      const hit = 'AlterTableCmd' in cmd ? alterTableHit(table, cmd.AlterTableCmd) : null;
      return hit ? [hit] : [];
    });
  },
  RenameStmt: (stmt: Extract<Node, { RenameStmt: unknown }>['RenameStmt']) => {
    const owner = stmt.relation ? relationName(stmt.relation) : stmt.object ? objectName(stmt.object) : '';
    const old = stmt.subname ? `${owner}.${stmt.subname}` : owner;
    return [
      {
        rule: 'RENAME',
        object: old,
        why: `the old version still uses the name ${old}; renaming it to ${stmt.newname ?? ''} breaks the old version`,
      },
    ];
  },
  AlterObjectSchemaStmt: (
    stmt: Extract<Node, { AlterObjectSchemaStmt: unknown }>['AlterObjectSchemaStmt'],
  ) => {
    const name = stmt.relation ? relationName(stmt.relation) : stmt.object ? objectName(stmt.object) : '';
    return [
      {
        rule: 'SET SCHEMA',
        object: name,
        why: `the old version finds ${name} in its current schema; moving it to ${stmt.newschema ?? ''} breaks the old version`,
      },
    ];
  },
  TruncateStmt: (stmt: Extract<Node, { TruncateStmt: unknown }>['TruncateStmt']) =>
    (stmt.relations ?? []).map((relation) => {
      const name = 'RangeVar' in relation ? relationName(relation.RangeVar) : '(unnamed)';
      return {
        rule: 'TRUNCATE',
        object: name,
        why: `truncating ${name} deletes the rows the old version serves, and rolling back does not bring them back`,
      };
    }),
  DoStmt: () => [
    {
      rule: 'DO',
      why: 'the parser cannot see inside a DO block, so nothing shows the block is safe for the old version',
    },
  ],
};

/** The hits of one parsed statement; statements no rule knows (CREATE, INSERT, ...) are fine. */
export function ruleHits(statement: Node): RuleHit[] {
  const [kind, body] = Object.entries(statement)[0] ?? [];
  const rule = kind === undefined ? undefined : RULES[kind];
  return rule ? rule(body as never) : [];
}
