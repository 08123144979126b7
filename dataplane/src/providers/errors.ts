// Errors raised while translating a client request: the client sent something the upstream
// wire cannot express. The pipeline answers them with `status` in the client's error format.
export class TranslationError extends Error {
  readonly status = 400;
  constructor(
    message: string,
    /** The request field at fault, e.g. "messages[2].content[0].type". */
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'TranslationError';
  }
}

/** Thrown by `prepare` when a provider cannot serve an operation (the pipeline should not ask). */
export class UnsupportedOperationError extends Error {
  readonly status = 404;
  constructor(kind: string, op: string) {
    super(`provider ${kind} does not serve the ${op} operation`);
    this.name = 'UnsupportedOperationError';
  }
}
