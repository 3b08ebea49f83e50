/** A mistake in configuration or input: retrying cannot fix it. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** A failure that may pass: network trouble, timeouts, 5xx answers. */
export class TransientError extends Error {
  override name = 'TransientError';
}
