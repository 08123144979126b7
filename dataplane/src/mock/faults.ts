// Faults a request can meet, from the options (every request) or the `x-mock-fault` header (one
// request; a gateway deployment can set it as a static header to make one upstream fail).
//
// Syntax: `<status>[:<retry-after-seconds>]` (any 4xx/5xx, e.g. `429`, `429:3`, `500`, `503`),
// `reset[:<chunks>]`, `slow-headers[:<ms>]`, `hang`.

export type Fault =
  | { kind: 'status'; status: number; retryAfterSeconds: number | undefined }
  | { kind: 'reset'; afterChunks: number }
  | { kind: 'slow-headers'; delayMs: number }
  | { kind: 'hang' };

export interface FaultDefaults {
  /** Retry-After sent with 429, 503 and 529. */
  retryAfterSeconds: number;
  slowHeadersMs: number;
  resetAfterChunks: number;
}

export const FAULT_HEADER = 'x-mock-fault';

const RETRYABLE_WITH_HINT = new Set([429, 503, 529]);

/** Parses a fault spec; returns a message naming the problem when it is not valid. */
export function parseFault(spec: string, defaults: FaultDefaults): Fault | string {
  const [name = '', arg, extra] = spec.trim().toLowerCase().split(':');
  const number = arg === undefined || arg === '' ? undefined : Number(arg);
  if (extra !== undefined || (number !== undefined && (!Number.isFinite(number) || number < 0))) {
    return `invalid ${FAULT_HEADER} "${spec}": expected <status>[:seconds], reset[:chunks], slow-headers[:ms] or hang`;
  }
  if (/^[45]\d\d$/.test(name)) {
    const status = Number(name);
    const retryAfter = number ?? (RETRYABLE_WITH_HINT.has(status) ? defaults.retryAfterSeconds : undefined);
    return { kind: 'status', status, retryAfterSeconds: retryAfter };
  }
  switch (name) {
    case 'reset':
      return { kind: 'reset', afterChunks: Math.floor(number ?? defaults.resetAfterChunks) };
    case 'slow-headers':
      return { kind: 'slow-headers', delayMs: number ?? defaults.slowHeadersMs };
    case 'hang':
      if (number === undefined) return { kind: 'hang' };
      break;
  }
  return `invalid ${FAULT_HEADER} "${spec}": expected <status>[:seconds] (4xx/5xx), reset[:chunks], slow-headers[:ms] or hang`;
}

/** Formats a fault back into its spec, for stats. */
export function faultName(fault: Fault): string {
  switch (fault.kind) {
    case 'status':
      return String(fault.status);
    case 'reset':
      return `reset:${fault.afterChunks}`;
    case 'slow-headers':
      return `slow-headers:${fault.delayMs}`;
    case 'hang':
      return 'hang';
  }
}

/**
 * The fault for one request: the header wins, then the configured fault, then a 500 drawn with
 * probability `failRate` (one draw per request, so a seed gives a reproducible sequence).
 */
export function requestFault(
  header: string | undefined,
  configured: Fault | undefined,
  failRate: number,
  random: () => number,
  defaults: FaultDefaults,
): Fault | string | undefined {
  if (header !== undefined && header !== '') return parseFault(header, defaults);
  if (configured !== undefined) return configured;
  if (failRate > 0 && random() < failRate) return { kind: 'status', status: 500, retryAfterSeconds: undefined };
  return undefined;
}
