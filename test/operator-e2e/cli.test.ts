// The switchboard-operator command line, as a real process: bad flags exit 2 with a message that
// names the flag; --help exits 0; an unreadable kubeconfig exits 1 with a JSON log line saying so.
import { beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { buildOperator, operatorBin, repoRoot } from './operator-process.ts';

function runOperator(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [operatorBin, ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('switchboard-operator command line', () => {
  beforeAll(() => buildOperator(), 300_000);

  it.each([
    [['--data-plane-image', 'img', '--bogus'], 'unknown flag --bogus'],
    [[], '--data-plane-image is required'],
    [['--data-plane-image'], '--data-plane-image needs a value'],
    [['--data-plane-image', 'img', '--metrics-port', '70000'], '--metrics-port must be an integer from 0 to 65535, got "70000"'],
    [['--data-plane-image', 'img', '--leader-elect=maybe'], '--leader-elect must be true or false, got "maybe"'],
    [['--data-plane-image', 'img', '--namespace', 'Not_A_Namespace'], '--namespace must be a namespace name'],
    [['--data-plane-image', 'img', 'extra'], 'unexpected argument "extra"'],
    [['--data-plane-image', 'img', '--lease-name', 'a', '--lease-name', 'b'], '--lease-name given more than once'],
  ])('%j exits 2: %s', async (args, message) => {
    const result = await runOperator(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`switchboard-operator: ${message}`);
    expect(result.stderr).toContain('--help');
    expect(result.stdout).toBe('');
  }, 30_000);

  it('--help prints every flag and exits 0', async () => {
    const result = await runOperator(['--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--kubeconfig', '--namespace', '--metrics-port', '--leader-elect', '--lease-namespace', '--lease-name', '--identity', '--data-plane-image']) {
      expect(result.stdout).toContain(flag);
    }
  }, 30_000);

  it('exits 1 with a JSON log line when the kubeconfig cannot be read', async () => {
    const result = await runOperator(['--data-plane-image', 'img', '--kubeconfig', '/nonexistent/kubeconfig']);
    expect(result.code).toBe(1);
    const line = JSON.parse(result.stdout.trim().split('\n')[0]!) as { level: number; msg: string; kubeconfig: string };
    expect(line).toMatchObject({ level: 50, msg: 'cannot load the kubeconfig', kubeconfig: '/nonexistent/kubeconfig' });
  }, 30_000);
});
