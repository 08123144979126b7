// Loads the CRD case table: one YAML file per kind, each a list of { name, spec, valid | error }.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

export interface CrdCase {
  kind: 'GatewayConfig' | 'RoutingModel';
  name: string;
  spec: unknown;
  /** Substring of the apiserver's rejection; undefined when the object is valid. */
  error: string | undefined;
}

const FILES = { GatewayConfig: 'gatewayconfig.yaml', RoutingModel: 'routingmodel.yaml' } as const;

export function loadCases(): CrdCase[] {
  return (Object.keys(FILES) as Array<keyof typeof FILES>).flatMap((kind) => {
    const file = path.join(import.meta.dirname, FILES[kind]);
    const doc = parse(readFileSync(file, 'utf8'), { merge: true, maxAliasCount: -1 }) as {
      cases: Array<{ name: string; spec: unknown; valid?: boolean; error?: string }>;
    };
    return doc.cases.map((c) => {
      if ((c.valid === true) === (c.error !== undefined)) throw new Error(`${FILES[kind]}: case "${c.name}" needs exactly one of valid: true or error`);
      return { kind, name: c.name, spec: c.spec, error: c.error };
    });
  });
}

/** The case as a complete object, named after its position so names stay valid and unique. */
export function manifest(c: CrdCase, index: number, namespace: string): Record<string, unknown> {
  return {
    apiVersion: 'switchboard.dev/v1alpha1',
    kind: c.kind,
    metadata: { name: `case-${index}`, namespace },
    spec: c.spec,
  };
}
