import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { canarySpecSchema, type CanarySpec } from './canary';
import { issuesFromZod, SpecError } from './errors';

export type Strategy = 'canary';

/** Validates an already-parsed document; throws SpecError naming every bad field. */
export function parseCanarySpec(document: unknown, source = '(inline)'): CanarySpec {
  const result = canarySpecSchema.safeParse(document);
  if (!result.success) throw new SpecError(source, issuesFromZod(result.error));
  return result.data;
}

/** Reads YAML or JSON (JSON is YAML) from a file. */
export function loadSpecDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SpecError(file, [{ path: '(file)', message: (err as Error).message }]);
  }
  try {
    return parseYaml(text);
  } catch (err) {
    throw new SpecError(file, [{ path: '(syntax)', message: (err as Error).message }]);
  }
}

export function loadCanarySpec(file: string): CanarySpec {
  return parseCanarySpec(loadSpecDocument(file), file);
}
