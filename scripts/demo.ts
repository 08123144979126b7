// The Switchboard demo: starts the real mock provider and the real gateway (the `switchboard`
// CLI, on deploy/examples/gateway.yaml), then drives them with the official openai client and
// shows which deployment served each request and why. Exits 0 only if everything went as expected.
//
//   npx tsc -b && npm run demo        (Node 24 runs this TypeScript file directly)
//
// Ports: mock 4010 (as in the example config), gateway 8080, admin 9090. When one is taken, set
// DEMO_MOCK_PORT / DEMO_GATEWAY_PORT / DEMO_ADMIN_PORT; a different mock port runs a copy of the
// example config with only its baseUrl ports changed.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import OpenAI from 'openai';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../dataplane/bin/switchboard.js', import.meta.url));
const EXAMPLE_CONFIG = 'deploy/examples/gateway.yaml';
const EXAMPLE_MOCK_PORT = 4010;
const MOCK_PORT = Number(process.env.DEMO_MOCK_PORT ?? EXAMPLE_MOCK_PORT);
const GATEWAY_PORT = Number(process.env.DEMO_GATEWAY_PORT ?? 8080);
const ADMIN_PORT = Number(process.env.DEMO_ADMIN_PORT ?? 9090);
const MOCK_URL = `http://127.0.0.1:${MOCK_PORT}`;
const GATEWAY_URL = `http://127.0.0.1:${GATEWAY_PORT}`;
const ADMIN_URL = `http://127.0.0.1:${ADMIN_PORT}`;
const UPSTREAM_KEY = 'sk-demo-upstream';
const MASTER_KEY = 'sk-demo-master';
// Its sha256 is in the example config; team-a may call chat-fast and embed only.
const TEAM_A_KEY = 'sk-demo-team-a';

const tty = process.stdout.isTTY === true;
const paint = (code: number) => (text: string) => (tty ? `\x1b[${code}m${text}\x1b[0m` : text);
const bold = paint(1);
const dim = paint(2);
const green = paint(32);
const red = paint(31);
const cyan = paint(36);

interface Served {
  model: string | null;
  deployment: string | null;
  reason: string | null;
}

interface Child {
  name: string;
  process: ChildProcess;
  output(): string;
}

const children: Child[] = [];
const problems: string[] = [];

function start(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
  const entry = { name, process: child, output: () => output };
  children.push(entry);
  return entry;
}

/** True when something already listens on the port (so the demo would talk to it, not to its own child). */
function portTaken(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The example config, or a temp copy whose upstream baseUrls point at a different mock port. */
async function configFor(mockPort: number): Promise<{ path: string; cleanup(): Promise<void> }> {
  if (mockPort === EXAMPLE_MOCK_PORT) return { path: EXAMPLE_CONFIG, cleanup: async () => undefined };
  const dir = await mkdtemp(join(tmpdir(), 'switchboard-demo-'));
  const path = join(dir, 'gateway.yaml');
  const text = await readFile(join(ROOT, EXAMPLE_CONFIG), 'utf8');
  await writeFile(path, text.replaceAll(`127.0.0.1:${EXAMPLE_MOCK_PORT}`, `127.0.0.1:${mockPort}`));
  return { path, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Polls `url` until it answers 200, the child exits, or the deadline passes. */
async function waitReady(child: Child, url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.process.exitCode !== null) throw new Error(`${child.name} exited with code ${child.process.exitCode}:\n${child.output()}`);
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${child.name} not ready at ${url} after ${timeoutMs} ms:\n${child.output()}`);
}

async function stopAll(): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      const p = child.process;
      if (p.exitCode !== null || p.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
      p.kill('SIGTERM');
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }),
  );
}

function servedBy(headers: Headers): Served {
  return {
    model: headers.get('x-switchboard-model'),
    deployment: headers.get('x-switchboard-deployment'),
    reason: headers.get('x-switchboard-route-reason'),
  };
}

function section(title: string): void {
  process.stdout.write(`\n${bold(cyan(`▸ ${title}`))}\n`);
}

function line(label: string, value: string): void {
  process.stdout.write(`  ${dim(label.padEnd(12))} ${value}\n`);
}

function report(served: Served): void {
  line('served by', `${bold(served.deployment ?? '?')} ${dim(`(model alias ${served.model ?? '?'})`)}`);
  line('why', served.reason ?? '?');
}

function expectThat(ok: boolean, what: string): void {
  if (ok) line('check', green(`✓ ${what}`));
  else {
    line('check', red(`✗ ${what}`));
    problems.push(what);
  }
}

async function demo(): Promise<void> {
  const client = new OpenAI({ baseURL: `${GATEWAY_URL}/v1`, apiKey: MASTER_KEY, maxRetries: 0 });
  const hello: OpenAI.Chat.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hello to the demo audience.' }];

  section('1. A chat completion (chat-fast: two OpenAI-compatible deployments, weighted 3:1)');
  {
    const { data, response } = await client.chat.completions.create({ model: 'chat-fast', messages: hello }).withResponse();
    line('answer', JSON.stringify(data.choices[0]?.message.content));
    line('tokens', `${data.usage?.prompt_tokens} in, ${data.usage?.completion_tokens} out`);
    const served = servedBy(response.headers);
    report(served);
    expectThat(served.deployment === 'fast-primary' || served.deployment === 'fast-secondary', 'served by one of chat-fast’s deployments');
  }

  section('2. The same, streamed: tokens print as they arrive');
  {
    const { data, response } = await client.chat.completions
      .create({ model: 'chat-fast', messages: hello, stream: true, stream_options: { include_usage: true } })
      .withResponse();
    process.stdout.write(`  ${dim('stream'.padEnd(12))} `);
    let chunks = 0;
    let usage: OpenAI.CompletionUsage | undefined;
    for await (const chunk of data) {
      const text = chunk.choices[0]?.delta.content;
      if (text) {
        chunks++;
        process.stdout.write(text);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    process.stdout.write('\n');
    line('tokens', `${chunks} content chunks; usage ${usage?.prompt_tokens} in, ${usage?.completion_tokens} out`);
    report(servedBy(response.headers));
    expectThat(chunks > 1 && usage !== undefined, 'streamed in several chunks, with a final usage chunk');
  }

  section('3. chat-flaky: its only deployment always fails (x-mock-fault: 500), so it falls back to chat-fast');
  {
    const started = Date.now();
    const { data, response } = await client.chat.completions.create({ model: 'chat-flaky', messages: hello }).withResponse();
    line('answer', JSON.stringify(data.choices[0]?.message.content));
    line('took', `${Date.now() - started} ms, retries included`);
    const served = servedBy(response.headers);
    report(served);
    expectThat(served.model === 'chat-fast' && (served.reason ?? '').startsWith('fallback from chat-flaky'), 'fell back from chat-flaky to chat-fast');
  }

  section('4. chat-smart from an OpenAI client: translated to the Anthropic Messages API and back');
  {
    // lowest-latency measures each untried deployment first, so the Azure one may answer before
    // the Anthropic one gets its turn.
    let served: Served | undefined;
    for (let attempt = 0; attempt < 3 && served?.deployment !== 'smart-anthropic'; attempt++) {
      const { data, response } = await client.chat.completions.create({ model: 'chat-smart', messages: hello }).withResponse();
      served = servedBy(response.headers);
      if (served.deployment !== 'smart-anthropic') {
        line('first', `${served.deployment} answered (lowest-latency tries every deployment once); asking again`);
        continue;
      }
      line('answer', JSON.stringify(data.choices[0]?.message.content));
      line('shape', `object=${data.object}, model=${data.model}, finish_reason=${data.choices[0]?.finish_reason}`);
      line('tokens', `${data.usage?.prompt_tokens} in, ${data.usage?.completion_tokens} out`);
      report(served);
    }
    expectThat(served?.deployment === 'smart-anthropic', 'an OpenAI-shaped answer came from the Anthropic deployment');
  }

  section('5. Embeddings (embed)');
  {
    const { data, response } = await client.embeddings.create({ model: 'embed', input: ['switchboard', 'gateway'] }).withResponse();
    const first = data.data[0]?.embedding ?? [];
    line('vectors', `${data.data.length} × ${first.length} dimensions; first: [${first.slice(0, 4).map((v) => v.toFixed(3)).join(', ')}, …]`);
    report(servedBy(response.headers));
    expectThat(data.data.length === 2 && first.length > 0, 'two vectors came back');
  }

  section('6. team-a’s key on a model it may not use (chat-smart)');
  {
    const team = new OpenAI({ baseURL: `${GATEWAY_URL}/v1`, apiKey: TEAM_A_KEY, maxRetries: 0 });
    const error = await team.chat.completions.create({ model: 'chat-smart', messages: hello }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (error instanceof OpenAI.APIError) {
      line('status', `${error.status} (${error.code})`);
      line('message', error.message);
    } else line('result', String(error ?? 'no error'));
    expectThat(error instanceof OpenAI.PermissionDeniedError && error.code === 'model_not_allowed', 'refused with 403 model_not_allowed');
    const allowed = await team.chat.completions.create({ model: 'chat-fast', messages: hello }).asResponse();
    line('chat-fast', `${allowed.status} — the same key may use chat-fast`);
    expectThat(allowed.status === 200, 'team-a is served on a model it may use');
  }
}

async function main(): Promise<number> {
  if (!existsSync(CLI) || !existsSync(new URL('../dataplane/dist/cli/main.js', import.meta.url))) {
    process.stderr.write('The demo runs the compiled CLI: run `npx tsc -b` first.\n');
    return 1;
  }
  const ports: [string, number, string][] = [
    ['mock', MOCK_PORT, 'DEMO_MOCK_PORT'],
    ['gateway', GATEWAY_PORT, 'DEMO_GATEWAY_PORT'],
    ['admin', ADMIN_PORT, 'DEMO_ADMIN_PORT'],
  ];
  for (const [name, port, variable] of ports) {
    if (await portTaken(port)) {
      process.stderr.write(`Port ${port} (${name}) is already in use, perhaps by another gateway or mock. Stop it, or set ${variable} to a free port.\n`);
      return 1;
    }
  }
  process.once('SIGINT', () => void stopAll().then(() => process.exit(130)));
  process.stdout.write(`${bold('Switchboard demo')}\n`);
  const config = await configFor(MOCK_PORT);
  try {
    const mockArgs = ['mock', '--port', String(MOCK_PORT), '--api-key', UPSTREAM_KEY, '--ttft-ms', '150', '--tokens-per-second', '40'];
    const mock = start('mock', mockArgs, {});
    await waitReady(mock, `${MOCK_URL}/mock/health`);
    line('mock', `${MOCK_URL} (OpenAI, Azure and Anthropic wire formats; 40 tokens/s)`);
    const gatewayArgs = ['gateway', '--config', config.path, '--port', String(GATEWAY_PORT), '--admin-port', String(ADMIN_PORT)];
    const gateway = start('gateway', gatewayArgs, { UPSTREAM_API_KEY: UPSTREAM_KEY, SWITCHBOARD_MASTER_KEY: MASTER_KEY });
    await waitReady(gateway, `${ADMIN_URL}/readyz`);
    const ready = (await (await fetch(`${ADMIN_URL}/readyz`)).json()) as { configHash: string };
    line('gateway', `${GATEWAY_URL}/v1 on ${config.path} (config ${ready.configHash}); admin ${ADMIN_URL}`);
    await demo();
  } catch (error) {
    problems.push(error instanceof Error ? error.message : String(error));
    process.stderr.write(`\n${red('demo failed:')} ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  } finally {
    await stopAll();
    await config.cleanup();
  }
  if (problems.length > 0) {
    process.stdout.write(`\n${red(bold(`✗ ${problems.length} unexpected result(s):`))}\n${problems.map((p) => `  - ${p}`).join('\n')}\n`);
    return 1;
  }
  process.stdout.write(`\n${green(bold('✓ demo complete'))} ${dim('— mock and gateway stopped')}\n`);
  return 0;
}

process.exitCode = await main();
