import { isAlias, isCollection, isMap, isNode, isScalar, Lexer, parseDocument, type Node } from 'yaml';
import { safeText } from './display';
import { SpecError } from './errors';
import { MAX_ALIASES, MAX_DEPTH, MAX_SPEC_BYTES, MAX_YAML_TOKENS, TOO_LARGE_MESSAGE } from './limits';

// The tags of plain YAML/JSON data; anything else (!!binary, !!set, !custom) is refused, not guessed at.
const PLAIN_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((name) => `tag:yaml.org,2002:${name}`),
);

type Problem = { path: string; message: string };

/**
 * One cheap pass over the lexer's tokens, stopping early: the parser proper costs per token and
 * recurses per nesting level, so a long or deep text is refused before it gets there.
 */
function lexProblem(text: string): Problem | undefined {
  let tokens = 0;
  let depth = 0;
  for (const token of new Lexer().lex(text)) {
    if (++tokens > MAX_YAML_TOKENS) {
      return {
        path: '(syntax)',
        message: `more than ${MAX_YAML_TOKENS} YAML tokens; a spec is a few hundred`,
      };
    }
    if (token === '[' || token === '{') depth++;
    else if (token === ']' || token === '}') depth--;
    if (depth > MAX_DEPTH) return { path: '(syntax)', message: `nested more than ${MAX_DEPTH} levels deep` };
  }
  return undefined;
}

/**
 * Walks the parsed document without recursion: depth (block nesting is bounded by the token count,
 * not by the lexer pass), tags, and duplicate keys. The yaml package's own duplicate check compares
 * every key with every other (100k keys took 54 s); a Set per map does it in linear time.
 */
function treeProblem(root: unknown): Problem | undefined {
  const stack: { node: unknown; depth: number }[] = [{ node: root, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop() as { node: unknown; depth: number };
    if (!isNode(node)) continue;
    if (depth > MAX_DEPTH) return { path: '(syntax)', message: `nested more than ${MAX_DEPTH} levels deep` };
    const tag = (node as Node).tag;
    if (tag !== undefined && !PLAIN_TAGS.has(tag)) {
      return { path: '(syntax)', message: `the tag ${safeText(tag)} is not allowed; a spec is plain data` };
    }
    if (isAlias(node) || isScalar(node) || !isCollection(node)) continue;
    const seen = new Set<string>();
    for (const item of node.items) {
      if (!isMap(node)) {
        stack.push({ node: item, depth: depth + 1 });
        continue;
      }
      const { key, value } = item as { key: unknown; value: unknown };
      if (!isScalar(key) || (key.tag !== undefined && !PLAIN_TAGS.has(key.tag))) {
        return { path: '(syntax)', message: 'map keys must be plain scalars' };
      }
      const name = String(key.value);
      if (seen.has(name)) {
        return { path: '(syntax)', message: `duplicate key ${JSON.stringify(safeText(name))}` };
      }
      seen.add(name);
      stack.push({ node: value, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * Parses YAML (or JSON, which is YAML) with every limit a hostile text could exhaust: tokens, depth,
 * aliases, tags and duplicate keys. Throws SpecError; any input is answered in well under a second.
 */
export function parseSpecText(text: string, source: string): unknown {
  const refuse = (problem: Problem) => new SpecError(source, [problem]);
  // The readers stop at the limit already; this covers text that comes from anywhere else.
  if (Buffer.byteLength(text) > MAX_SPEC_BYTES) {
    throw refuse({ path: '(file)', message: TOO_LARGE_MESSAGE });
  }
  const early = lexProblem(text);
  if (early) throw refuse(early);
  let doc;
  try {
    doc = parseDocument(text, { uniqueKeys: false, prettyErrors: true });
  } catch (err) {
    throw refuse({ path: '(syntax)', message: (err as Error).message });
  }
  const [error] = doc.errors;
  if (error) {
    // Deep block nesting (one "- " per level) passes the flow-depth pass but overflows the composer.
    const tooDeep = error.message.includes('Maximum call stack');
    throw refuse({
      path: '(syntax)',
      message: tooDeep ? `nested more than ${MAX_DEPTH} levels deep` : error.message,
    });
  }
  const [warning] = doc.warnings;
  if (warning) throw refuse({ path: '(syntax)', message: warning.message });
  const problem = treeProblem(doc.contents);
  if (problem) throw refuse(problem);
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIASES });
  } catch (err) {
    throw refuse({ path: '(syntax)', message: (err as Error).message });
  }
}
