import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { blueGreenSpecSchema, type BlueGreenSpec } from './blue-green';
import { canarySpecSchema, type CanarySpec } from './canary';
import { issuesFromZod, SpecError } from './errors';

export type Strategy = 'canary' | 'blue-green';

/** Validates an already-parsed document; throws SpecError naming every bad field. */
function parseWith<S extends z.ZodType>(schema: S, document: unknown, source: string): z.output<S> {
  const result = schema.safeParse(document);
  if (!result.success) throw new SpecError(source, issuesFromZod(result.error));
  return result.data;
}

export function parseCanarySpec(document: unknown, source = '(inline)'): CanarySpec {
  return parseWith(canarySpecSchema, document, source);
}

export function parseBlueGreenSpec(document: unknown, source = '(inline)'): BlueGreenSpec {
  return parseWith(blueGreenSpecSchema, document, source);
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

export function loadBlueGreenSpec(file: string): BlueGreenSpec {
  return parseBlueGreenSpec(loadSpecDocument(file), file);
}
