/** `{{name}}` placeholders in query and URL templates. */
const PLACEHOLDER = /\{\{\s*([A-Za-z]+)\s*\}\}/g;

/** The variable names a template uses, in order of appearance (with repeats). */
export function templateVariables(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((match) => match[1] as string);
}

/**
 * Replaces every placeholder with its value (passed through `encode`). Values are inserted in one
 * pass, so a value that itself looks like a placeholder is never expanded again.
 */
export function renderTemplate(
  template: string,
  values: Record<string, string>,
  encode: (value: string) => string = (value) => value,
): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!Object.hasOwn(values, name)) throw new Error(`unknown placeholder ${whole}`);
    return encode(values[name] as string);
  });
}
