import type { z } from 'zod';
import { blueGreenSpecSchema, type BlueGreenSpec } from './blue-green';
import { canarySpecSchema, type CanarySpec } from './canary';
import { issuesFromZod, SpecError } from './errors';
import { readSpecFile, readSpecStream } from './read-text';
import { parseSpecText } from './yaml-text';

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

/** Reads YAML or JSON (JSON is YAML) from a file, within the size and shape limits of ./limits. */
export function loadSpecDocument(file: string): unknown {
  return parseSpecText(readSpecFile(file), file);
}

/** The same, from a stream: `rollout start canary -f -` reads the spec from stdin. */
export async function loadSpecDocumentFromStream(
  stream: NodeJS.ReadableStream,
  source = '(stdin)',
): Promise<unknown> {
  return parseSpecText(await readSpecStream(stream, source), source);
}

export function loadCanarySpec(file: string): CanarySpec {
  return parseCanarySpec(loadSpecDocument(file), file);
}

export function loadBlueGreenSpec(file: string): BlueGreenSpec {
  return parseBlueGreenSpec(loadSpecDocument(file), file);
}
