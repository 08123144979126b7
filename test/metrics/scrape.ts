// Reads the admin /metrics exposition text into samples, for assertions on exact label sets.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LABEL = /(\w+)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 ? line.slice(0, brace) : line.slice(0, space);
    const labels: Record<string, string> = {};
    if (brace >= 0) for (const m of line.slice(brace, line.lastIndexOf('}') + 1).matchAll(LABEL)) labels[m[1]!] = m[2]!.replace(/\\(.)/g, '$1');
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

export async function scrape(adminUrl: string): Promise<{ text: string; samples: Sample[] }> {
  const text = await (await fetch(`${adminUrl}/metrics`)).text();
  return { text, samples: parseExposition(text) };
}

/** Sum of the samples of `name` whose labels include all of `labels` (0 when none match). */
export function total(samples: readonly Sample[], name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) if (s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  return sum;
}
