import { pino } from 'pino';

/** The slice of a pino logger the runtime uses (any pino logger fits). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};

/** JSON logs on stdout, the format every log pipeline in a cluster understands. */
export function defaultLogger(name = 'switchboard-operator'): Logger {
  return pino({ name, level: process.env.LOG_LEVEL ?? 'info' });
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
