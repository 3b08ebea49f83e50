/**
 * Every size and range limit a spec must pass, in one place. A spec is a few kilobytes; the limits
 * leave room for any real one while keeping a hostile one from holding a worker or the CLI busy.
 */

/** The largest spec file or stdin accepted, read with this limit (never a whole /dev/zero). */
export const MAX_SPEC_BYTES = 1024 * 1024;
export const TOO_LARGE_MESSAGE = `larger than ${MAX_SPEC_BYTES} bytes; a spec is a few kilobytes`;

/**
 * YAML parsing costs per token, not per byte (a 1 MiB string parses in milliseconds, 1 MiB of `1,`
 * takes seconds). A real spec has a few thousand tokens; past this the text is refused unparsed.
 */
export const MAX_YAML_TOKENS = 50_000;

/** Nesting depth of any YAML/JSON value; the deepest real spec path is about 5 levels. */
export const MAX_DEPTH = 32;

/** Alias expansions allowed in one document (billion-laughs protection). */
export const MAX_ALIASES = 50;

/** The router refuses more than this per version, so the spec refuses it too (one schema for both). */
export const MAX_TARGETS = 64;

export const MAX_SMOKE_TESTS = 32;
export const MAX_HEADERS = 32;
/** Extra environment variables of a deploy command. */
export const MAX_ENV = 64;

/** URLs and paths; room for a metrics URL template (at most 4000 characters) once filled in. */
export const MAX_URL_LENGTH = 8192;

/** The fastest poll the worker makes, whether the interval is written out or derived. */
export const MIN_INTERVAL_MS = 100;

/** The longest duration of any field: 30 days. Longer waits are a typo, or an overflow waiting to happen. */
export const MAX_DURATION_MS = 30 * 86_400_000;

/** Error messages quote at most this many characters of a value. */
export const MAX_QUOTED_CHARS = 200;
