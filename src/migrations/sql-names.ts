import type { Node, RangeVar } from 'libpg-query';

/** `schema.table` as written, or `table` when the statement left the schema to the search path. */
export function relationName(relation: RangeVar | undefined): string {
  if (!relation?.relname) return '(unnamed)';
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname;
}

function strings(nodes: Node[] | undefined): string[] {
  return (nodes ?? []).flatMap((node) => ('String' in node && node.String.sval ? [node.String.sval] : []));
}

/**
 * The name of one object of a DROP: tables and views come as a list of name parts, types as a
 * TypeName, functions with their argument list, schemas as a bare string.
 */
export function objectName(node: Node): string {
  if ('List' in node) return strings(node.List.items).join('.');
  if ('TypeName' in node) return strings(node.TypeName.names).join('.');
  if ('ObjectWithArgs' in node) return strings(node.ObjectWithArgs.objname).join('.');
  if ('String' in node) return node.String.sval ?? '';
  return '(unnamed)';
}

/** "OBJECT_FOREIGN_TABLE" → "FOREIGN TABLE": how the statement itself spells the kind. */
export function objectKind(type: string | undefined): string {
  return (type ?? 'OBJECT_UNKNOWN').replace(/^OBJECT_/, '').replace(/_/g, ' ');
}
