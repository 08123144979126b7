import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileConfigSource, type ReloadResult } from './file-source.js';

const config = (model: string, keyFile?: string): string =>
  JSON.stringify({
    models: [
      {
        name: 'fast',
        deployments: [
          { name: 'd1', provider: 'openai', model, baseUrl: 'http://127.0.0.1:1/v1', ...(keyFile ? { credentials: { file: keyFile } } : {}) },
        ],
      },
    ],
  });

describe('file config source', () => {
  let dir: string;
  let path: string;
  let events: { result: ReloadResult; error?: string }[];
  let source: FileConfigSource | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-config-'));
    path = join(dir, 'gateway.yaml');
    events = [];
  });
  afterEach(() => {
    source?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (): Promise<FileConfigSource> => {
    source = await FileConfigSource.start(path, { env: {} }, { onReload: (result, _s, error) => events.push({ result, error }) });
    return source;
  };

  it('refuses to start on an invalid file, naming the path, field and value', async () => {
    writeFileSync(path, 'models:\n  - name: fast\n    deployments:\n      - { name: d1, provider: openai, model: m, baseUrl: "ftp://x" }\n');
    await expect(start()).rejects.toThrow(`${path}: models[0].deployments[0].baseUrl: got "ftp://x"; expected an http(s) URL`);
  });

  it('refuses to start when a referenced credential is missing', async () => {
    writeFileSync(path, config('m', join(dir, 'missing-key')));
    await expect(start()).rejects.toThrow(/file .*missing-key cannot be read \(ENOENT\)/);
  });

  it('applies a valid edit atomically: a held state never changes', async () => {
    writeFileSync(path, config('model-a'));
    const s = await start();
    const before = s.current();
    writeFileSync(path, config('model-b'));
    await s.reload();
    expect(s.current().models.get('fast')!.deployments[0]!.config.model).toBe('model-b');
    expect(s.current().hash).not.toBe(before.hash);
    expect(before.models.get('fast')!.deployments[0]!.config.model).toBe('model-a');
    expect(events.at(-1)!.result).toBe('applied');
  });

  it('keeps the last good config when the update is invalid, and says why', async () => {
    writeFileSync(path, config('model-a'));
    const s = await start();
    const good = s.current();
    writeFileSync(path, 'models: 7\n');
    await s.reload();
    expect(s.current()).toBe(good);
    expect(s.status().lastError).toContain('models: got 7; expected array');
    expect(events.at(-1)).toMatchObject({ result: 'rejected' });
    writeFileSync(path, config('model-c'));
    await s.reload();
    expect(s.status().lastError).toBeUndefined();
  });

  it('picks up an edit through the file watch, including a replace by rename', async () => {
    writeFileSync(path, config('model-a'));
    const s = await start();
    const applied = new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        if (s.current().models.get('fast')!.deployments[0]!.config.model === 'model-b') {
          clearInterval(timer);
          resolve();
        }
      }, 5);
    });
    writeFileSync(join(dir, 'next.yaml'), config('model-b'));
    renameSync(join(dir, 'next.yaml'), path);
    await applied;
    expect(events.some((e) => e.result === 'applied')).toBe(true);
  });

  it('applies a rotated key from a credential file without a config change', async () => {
    const keyFile = join(dir, 'upstream-key');
    writeFileSync(keyFile, 'sk-old\n');
    writeFileSync(path, config('m', keyFile));
    const s = await start();
    const old = s.current();
    expect(old.models.get('fast')!.deployments[0]!.apiKey).toBe('sk-old');
    writeFileSync(keyFile, 'sk-new\n');
    await s.reload();
    expect(s.current().models.get('fast')!.deployments[0]!.apiKey).toBe('sk-new');
    expect(old.models.get('fast')!.deployments[0]!.apiKey).toBe('sk-old');
    expect(events.at(-1)!.result).toBe('applied');
  });
});
