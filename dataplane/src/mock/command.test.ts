import { describe, expect, it } from '@jest/globals';
import { mockCommand } from './command.js';

function capture(): { text: () => string; write: (t: string) => void; line: Promise<string> } {
  let buffer = '';
  let resolveLine: (line: string) => void = () => undefined;
  const line = new Promise<string>((resolve) => (resolveLine = resolve));
  return {
    text: () => buffer,
    write: (t: string) => {
      buffer += t;
      if (buffer.includes('\n')) resolveLine(buffer.split('\n')[0]!);
    },
    line,
  };
}

describe('switchboard mock', () => {
  it.each([
    [['--port', 'abc'], /--port: got "abc"; expected an integer from 0 to 65535/],
    [['--ttft-ms=-5'], /--ttft-ms: got "-5"/],
    [['--fail-rate', '1.5'], /--fail-rate: got "1.5"; expected a number from 0 to 1/],
    [['--response-tokens', '2.5'], /--response-tokens/],
    [['--bogus'], /--bogus/],
    [['--fault', 'explode'], /invalid x-mock-fault "explode"/],
  ])('exits 2 with a message naming the flag for %j', async (args, message) => {
    const err = capture();
    const out = capture();
    await expect(mockCommand(args, { err: err.write, out: out.write })).resolves.toBe(2);
    expect(err.text()).toMatch(message);
    expect(out.text()).toBe('');
  });

  it('prints the listening line, serves with the flags given and exits 0 when stopped', async () => {
    const out = capture();
    const stop = new AbortController();
    const exit = mockCommand(['--port', '0', '--response-tokens', '3', '--api-key', 'sk-cli'], { out: out.write, stop: stop.signal });
    const line = await out.line;
    expect(line).toMatch(/^mock listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = line.slice('mock listening on '.length);
    const denied = await fetch(`${url}/v1/chat/completions`, { method: 'POST', body: '{}' });
    expect(denied.status).toBe(401);
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: 'Bearer sk-cli' },
      body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(((await res.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens).toBe(3);
    stop.abort();
    await expect(exit).resolves.toBe(0);
    await expect(fetch(`${url}/mock/health`)).rejects.toThrow();
  });

  it('stamps streamed writes with --stamp-events', async () => {
    const out = capture();
    const stop = new AbortController();
    const exit = mockCommand(['--port', '0', '--stamp-events'], { out: out.write, stop: stop.signal });
    const url = (await out.line).slice('mock listening on '.length);
    const res = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(await res.text()).toMatch(/^: stream-start=\d+ sent=\d+\ndata: /);
    stop.abort();
    await expect(exit).resolves.toBe(0);
    await expect(fetch(`${url}/mock/health`)).rejects.toThrow();
  });

  it('prints usage for --help', async () => {
    const out = capture();
    await expect(mockCommand(['--help'], { out: out.write })).resolves.toBe(0);
    expect(out.text()).toContain('--tokens-per-second');
  });
});
