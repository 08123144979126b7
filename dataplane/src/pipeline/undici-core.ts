// The part of undici the gateway uses (the HTTP/1.1 Agent, the request API, its errors), loaded
// without undici's index. The index also loads fetch, WebSocket, EventSource, the HTTP cache,
// the mock agents and every interceptor: about 11 MB more resident memory in a gateway that never
// calls them (README, idle memory). The paths are undici's own CommonJS modules; the version is
// pinned in package.json and the types come from the package's public declarations.
import { createRequire } from 'node:module';
import type * as Undici from 'undici';

const require = createRequire(import.meta.url);

export const Agent = require('undici/lib/dispatcher/agent.js') as typeof Undici.Agent;
export const errors = require('undici/lib/core/errors.js') as typeof Undici.errors;
/**
 * The dispatch option undici's request API sets to take a request out of a dispatcher's queue
 * when it is aborted before a connection is free; a dispatch handler of our own sets it too.
 */
export const kQueuedAbort = (require('undici/lib/core/symbols.js') as { kQueuedAbort: symbol }).kQueuedAbort;
export type Agent = Undici.Agent;
export type Dispatcher = Undici.Dispatcher;
export type ResponseData = Undici.Dispatcher.ResponseData;

type RequestApi = (this: Undici.Dispatcher, options: Undici.Dispatcher.RequestOptions) => Promise<ResponseData>;
const requestApi = require('undici/lib/api/api-request.js') as RequestApi;

export type RequestOptions = Omit<Undici.Dispatcher.RequestOptions, 'origin' | 'path'> & { dispatcher: Undici.Dispatcher };

/** undici's `request(url, options)` on an explicit dispatcher (there is no global one here). */
export function request(url: string, options: RequestOptions): Promise<ResponseData> {
  const { dispatcher, ...rest } = options;
  const target = new URL(url);
  return requestApi.call(dispatcher, { ...rest, origin: target.origin, path: target.pathname + target.search });
}
