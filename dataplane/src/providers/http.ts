// URL and header building shared by the provider folders.
import type { Deployment } from '@switchboard/crds/runtime';

/** Joins a base URL and a path with exactly one slash, whatever trailing slashes the base has. */
export function joinUrl(baseUrl: string, path: string): string {
  let end = baseUrl.length;
  while (end > 0 && baseUrl.charCodeAt(end - 1) === 47 /* '/' */) end--;
  return `${baseUrl.slice(0, end)}/${path.replace(/^\/+/, '')}`;
}

/** Strips trailing slashes and one trailing path segment equal to `segment` ("/v1", "/openai"). */
export function baseWithout(baseUrl: string, segment: string): string {
  const trimmed = baseUrl.replace(/\/+$/, '');
  return trimmed.endsWith(`/${segment}`) ? trimmed.slice(0, -segment.length - 1) : trimmed;
}

/**
 * Upstream headers: provider defaults, then the deployment's static headers, then content type
 * and authentication, which static headers cannot override. Names are lower-cased so that a
 * static "Authorization" cannot sit beside our "authorization".
 */
export function upstreamHeaders(
  deployment: Deployment,
  defaults: Record<string, string>,
  auth: Record<string, string>,
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(defaults)) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(deployment.headers ?? {})) headers[name.toLowerCase()] = value;
  headers['content-type'] = 'application/json';
  for (const [name, value] of Object.entries(auth)) headers[name.toLowerCase()] = value;
  return headers;
}

/** The request body with the upstream model name. */
export function withModel(body: Record<string, unknown>, model: string): string {
  return JSON.stringify({ ...body, model });
}
