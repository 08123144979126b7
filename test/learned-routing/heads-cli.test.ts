// The real `switchboard router` CLI trains the Elo/Bradley-Terry, rule (mined and from a
// hand-written rule file), boosted-trees and blend heads, evaluates them and draws the quality/cost curve as SVG.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { XMLValidator } from 'fast-xml-parser';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildWorkspaces, runCli } from '../support/cli.js';
import { ROUTING_DATA } from '../support/routing-data.js';

const shared = ROUTING_DATA;
const models = join(shared, 'models.json');
let dir: string;
let data: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'router-heads-'));
  // Every 10th record: a slice across all 14 tasks that trains in about a second.
  const all = JSON.parse(await readFile(join(shared, 'train.json'), 'utf8')) as unknown[];
  data = join(dir, 'train.json');
  await writeFile(data, JSON.stringify(all.filter((_, i) => i % 10 === 0)));
  await buildWorkspaces();
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function trainEvalPlot(kind: string, extra: string[] = []): Promise<{ eval: { router: { argmax: { quality: number } }; random: { quality: number } }; svg: string }> {
  const out = join(dir, `${kind}-${extra.length}.router`);
  const trained = await runCli(['router', 'train', '--kind', kind, '--data', data, '--models', models, '--out', out, ...extra], {}, 60_000);
  expect(trained.stderr).toBe('');
  expect(trained.code).toBe(0);
  expect(trained.stdout).toMatch(new RegExp(`trained ${kind} router on 561 queries, 9 models`));
  const plot = join(dir, `${kind}-${extra.length}.svg`);
  const evaluated = await runCli(['router', 'eval', '--model', out, '--data', data, '--models', models, '--json', '--plot', plot], {}, 60_000);
  expect(evaluated.code).toBe(0);
  return { eval: JSON.parse(evaluated.stdout), svg: await readFile(plot, 'utf8') };
}

describe('switchboard router train --kind elo|rules|gbdt|blend', () => {
  it('trains an Elo router that beats random choice and plots its curve as valid SVG', async () => {
    const { eval: report, svg } = await trainEvalPlot('elo');
    expect(report.router.argmax.quality).toBeGreaterThan(report.random.quality);
    expect(XMLValidator.validate(svg)).toBe(true);
    expect(svg).toContain('elo router: quality vs cost over lambda');
  }, 90_000);

  it('mines rules from the data when no rule file is given', async () => {
    const { eval: report, svg } = await trainEvalPlot('rules');
    expect(report.router.argmax.quality).toBeGreaterThan(report.random.quality);
    expect(XMLValidator.validate(svg)).toBe(true);
  }, 90_000);

  it('trains boosted trees on the query shape that beat random choice, and explains a decision', async () => {
    const { eval: report, svg } = await trainEvalPlot('gbdt', ['--seed', '3']);
    expect(report.router.argmax.quality).toBeGreaterThan(report.random.quality);
    expect(XMLValidator.validate(svg)).toBe(true);
    const explained = await runCli(['router', 'explain', '--model', join(dir, 'gbdt-2.router'), '--query', 'What is 17 * 23?', '--lambda', '10']);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/^router: gbdt, sha256:[0-9a-f]{64}/m);
    expect(explained.stdout).toMatch(/^route: \S+$/m);
  }, 120_000);

  it('trains a blend of heads that beats random choice and plots its curve', async () => {
    const { eval: report, svg } = await trainEvalPlot('blend');
    expect(report.router.argmax.quality).toBeGreaterThan(report.random.quality);
    expect(XMLValidator.validate(svg)).toBe(true);
  }, 90_000);

  it('takes hand-written rules from --rules and explains a decision they drive', async () => {
    const rules = join(dir, 'rules.yaml');
    await writeFile(rules, 'rules:\n  - name: code\n    keywords: [python]\n    boost: { codegemma-7b: 0.9 }\n');
    const out = join(dir, 'hand.router');
    const trained = await runCli(['router', 'train', '--kind', 'rules', '--rules', rules, '--data', data, '--models', models, '--out', out]);
    expect(trained.code).toBe(0);
    const explained = await runCli(['router', 'explain', '--model', out, '--query', 'write a python function', '--lambda', '100']);
    expect(explained.stdout).toMatch(/^route: codegemma-7b$/m);
    const other = await runCli(['router', 'explain', '--model', out, '--query', 'what is the capital of france', '--lambda', '100']);
    expect(other.stdout).not.toMatch(/^route: codegemma-7b$/m);
  }, 90_000);

  it('rejects a bad rule file naming the field, and --rules with another kind', async () => {
    const rules = join(dir, 'bad.yaml');
    await writeFile(rules, 'rules:\n  - name: code\n    regex: "("\n    boost: { codegemma-7b: 0.9 }\n');
    const bad = await runCli(['router', 'train', '--kind', 'rules', '--rules', rules, '--data', data, '--models', models, '--out', join(dir, 'x.router')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${rules}: rules[0].regex: Invalid regular expression`);
    const wrongKind = await runCli(['router', 'train', '--kind', 'knn', '--rules', rules, '--data', data, '--models', models, '--out', join(dir, 'x.router')]);
    expect(wrongKind.code).toBe(2);
    expect(wrongKind.stderr).toContain('--rules: only with --kind rules (got --kind knn)');
  }, 90_000);
});
