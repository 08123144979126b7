// `switchboard router train|eval|explain`: train a learned router, measure it, ask it why.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { signCommand } from './router-sign.js';
import {
  ArtifactError,
  calibrateLambda,
  DataError,
  evaluate,
  headKinds,
  LearnedRouter,
  parseExamples,
  parseModels,
  summarizeModels,
  type DecisionPolicy,
  type EvalReport,
} from '../routing/learned/index.js';
import { embedAhead } from '../routing/learned/featurizers/embedded.js';
import { openFeaturizer, parseFeaturizerFlag } from '../routing/learned/featurizers/choice.js';
import { parseRuleSet } from '../routing/learned/heads/rule-set.js';
import { qualityCostSvg } from '../routing/learned/plot.js';

const USAGE = `usage: switchboard router <train|eval|explain|sign> [options]

  train   --kind ${Object.keys(headKinds).join('|')} --data FILE --models FILE --out FILE [--featurizer hashed|onnx:PATH|http:URL] [--seed N] [--rules FILE] [--calibrate]
          train a router on scored queries (JSON array or JSONL of {"question", "scores", "cost"?})
          and write the artifact; prints its sha256 digest. --kind rules mines keyword and length
          rules from the data, or takes hand-written ones from --rules FILE (JSON or YAML).
          --featurizer onnx:PATH embeds with an ONNX sentence model (PATH: the .onnx file with
          tokenizer.json beside it, or a folder with model.onnx and tokenizer.json); http:URL with
          an OpenAI-compatible embeddings endpoint [--embedding-model NAME] [--embedding-cache N]
          (key from $SWITCHBOARD_EMBEDDINGS_API_KEY). The artifact records the featurizer.
          --calibrate also trains 4 routers on 3/4 of the data each and records the cheapest
          lambda whose decisions on the held-out quarters reach the best single model's quality:
          the router's default lambda (explain, and the gateway when no lambda is configured).
  eval    --model FILE --data FILE --models FILE [--json] [--plot FILE.svg]
          quality and cost of the router on scored queries against the best single model,
          the per-query oracle and random choice, and its quality/cost curve over lambda
          (--plot also draws the curve as an SVG)
  explain --model FILE --query TEXT [--lambda X | --threshold Q]
          the decision for one query and the reasons for it (default: the calibrated lambda, else 10)
  sign    --model FILE --key KEY.pem [--out FILE]
          append an ed25519 signature over the artifact digest (verified by the gateway when
          a public key is configured); prints the digest
`;

export interface RouterCommandIo {
  out?: (text: string) => void;
  err?: (text: string) => void;
}

class UsageError extends Error {}

/** The eval report, plus the router's point at its calibrated lambda when the artifact records one. */
type CalibratedReport = EvalReport & { router: EvalReport['router'] & { calibrated?: { lambda: number; quality: number; cost: number } } };

function required(value: string | undefined, flag: string, what: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${flag}: required (${what})`);
  return value;
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new DataError(`--${flag} ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

function loadRouter(path: string): { router: LearnedRouter; digest: string } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new DataError(`--model ${path}: cannot read: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  try {
    return LearnedRouter.load(bytes);
  } catch (error) {
    throw new ArtifactError(`--model ${path}: ${(error as Error).message}`);
  }
}

function numberFlag(value: string | undefined, flag: string, check: (n: number) => boolean, expected: string): number | undefined {
  if (value === undefined) return undefined;
  const n = value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${flag}: got "${value}"; expected ${expected}`);
  return n;
}

async function train(args: string[], out: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { kind: { type: 'string' }, data: { type: 'string' }, models: { type: 'string' }, out: { type: 'string' }, featurizer: { type: 'string' }, seed: { type: 'string' }, rules: { type: 'string' }, 'embedding-model': { type: 'string' }, 'embedding-cache': { type: 'string' }, calibrate: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  });
  const kind = required(values.kind, 'kind', Object.keys(headKinds).join('|'));
  if (headKinds[kind] === undefined) throw new UsageError(`--kind: got "${kind}"; expected one of ${Object.keys(headKinds).join(', ')}`);
  const dataPath = required(values.data, 'data', 'scored queries, JSON array or JSONL');
  const modelsPath = required(values.models, 'models', 'the candidate models with prices, models.json shape');
  const outPath = required(values.out, 'out', 'where to write the artifact');
  let choice: ReturnType<typeof parseFeaturizerFlag>;
  try {
    choice = parseFeaturizerFlag(values.featurizer ?? 'hashed');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  if (choice.type !== 'http' && (values['embedding-model'] ?? values['embedding-cache']) !== undefined) throw new UsageError('--embedding-model and --embedding-cache: only with --featurizer http:URL');
  const cacheSize = numberFlag(values['embedding-cache'], 'embedding-cache', (n) => Number.isInteger(n) && n >= 1, 'an integer >= 1');
  const seed = numberFlag(values.seed, 'seed', (n) => Number.isInteger(n) && n >= 0, 'an integer >= 0') ?? 1;
  if (values.rules !== undefined && kind !== 'rules') throw new UsageError(`--rules: only with --kind rules (got --kind ${kind})`);
  const head = values.rules === undefined ? undefined : parseRuleSet(readText(values.rules, 'rules'), values.rules);
  const examples = parseExamples(readText(dataPath, 'data'), dataPath);
  const prices = parseModels(readText(modelsPath, 'models'), modelsPath);
  const started = performance.now();
  const fixedFeaturizer =
    choice.type === 'hashed'
      ? undefined
      : await embedAhead(
          await openFeaturizer(choice, { ...(values['embedding-model'] === undefined ? {} : { embeddingModel: values['embedding-model'] }), ...(cacheSize === undefined ? {} : { cacheSize }) }),
          examples.map((e) => e.query),
        );
  const options = { kind, seed, ...(head === undefined ? {} : { head }), ...(fixedFeaturizer === undefined ? {} : { fixedFeaturizer }) };
  const calibration = values.calibrate === true ? calibrateLambda(examples, prices, options, 4, seed) : undefined;
  const router = LearnedRouter.train(examples, prices, { ...options, ...(calibration === undefined ? {} : { calibration }) });
  const seconds = (performance.now() - started) / 1000;
  const { bytes, digest } = router.encode();
  writeFileSync(outPath, bytes);
  out(`trained ${kind} router on ${examples.length} queries, ${router.models.length} models, in ${seconds.toFixed(1)} s (${router.featurizer.type} featurizer, ${router.featurizer.dim} dimensions)\n`);
  if (calibration !== undefined) {
    const b = calibration.bestSingle;
    out(
      `calibrated lambda ${calibration.lambda}: on held-out quarters of the data the router reaches quality ${pct(calibration.quality)} at cost ${calibration.cost.toFixed(3)}` +
        ` (best single ${b.model}: ${pct(b.quality)} at ${b.cost.toFixed(3)}, so ${(calibration.cost / b.cost).toFixed(2)}x its cost${calibration.quality >= b.quality ? '' : '; its quality is not reached at any lambda, so this is the best-quality one'})\n`,
    );
  }
  out(`wrote ${outPath} (${bytes.length} bytes) sha256:${digest}\n`);
  return 0;
}

function pct(v: number): string {
  return (100 * v).toFixed(1);
}

function evalText(report: CalibratedReport, perModel: ReturnType<typeof summarizeModels>, digest: string): string {
  const lines = [`router sha256:${digest}, ${report.n} queries`, '', 'model                                   quality   cost'];
  for (const [model, s] of Object.entries(perModel).sort((a, b) => b[1].quality - a[1].quality)) lines.push(`${model.padEnd(40)}${pct(s.quality).padStart(7)}  ${s.cost.toFixed(3).padStart(6)}`);
  const r = report.router;
  lines.push(
    '',
    `best single   ${report.best_single.model}: quality ${pct(report.best_single.quality)} at cost ${report.best_single.cost.toFixed(3)}`,
    `oracle        quality ${pct(report.oracle.quality)} at cost ${report.oracle.cost.toFixed(3)}`,
    `random        quality ${pct(report.random.quality)} at cost ${report.random.cost.toFixed(3)}`,
    `router argmax quality ${pct(r.argmax.quality)} at cost ${r.argmax.cost.toFixed(3)}`,
    `router reaches the best single quality at cost ${r.cost_at_best_single_quality === null ? 'never (not reached on the curve)' : r.cost_at_best_single_quality.toFixed(3)}`,
    `router quality at the best single cost: ${pct(r.quality_at_best_single_cost)}`,
    ...(r.calibrated === undefined ? [] : [`router at its calibrated lambda ${r.calibrated.lambda}: quality ${pct(r.calibrated.quality)} at cost ${r.calibrated.cost.toFixed(3)}`]),
    '',
    'lambda      quality   cost',
    ...r.curve.map((p) => `${String(p.lambda).padEnd(10)}${pct(p.quality).padStart(8)}  ${p.cost.toFixed(3).padStart(6)}`),
  );
  return lines.join('\n') + '\n';
}

async function evalCommand(args: string[], out: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, data: { type: 'string' }, models: { type: 'string' }, json: { type: 'boolean' }, plot: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const modelPath = required(values.model, 'model', 'a router artifact from `switchboard router train`');
  const dataPath = required(values.data, 'data', 'scored queries, JSON array or JSONL');
  const modelsPath = required(values.models, 'models', 'the candidate models with prices, models.json shape');
  const { router: loaded, digest } = loadRouter(modelPath);
  const examples = parseExamples(readText(dataPath, 'data'), dataPath);
  const prices = parseModels(readText(modelsPath, 'models'), modelsPath);
  const router = await loaded.embeddedFor(examples.map((e) => e.query));
  const lambda = router.training.calibration?.lambda;
  const base = evaluate(router, examples, prices);
  const report: CalibratedReport = lambda === undefined ? base : { ...base, router: { ...base.router, calibrated: { ...evaluate(router, examples, prices, [lambda]).router.curve[0]! } } };
  const perModel = summarizeModels(examples, prices);
  if (values.plot !== undefined) writeFileSync(required(values.plot, 'plot', 'where to write the SVG'), qualityCostSvg(report, perModel, `${router.kind} router: quality vs cost over lambda`));
  out(values.json === true ? JSON.stringify(report) + '\n' : evalText(report, perModel, digest));
  return 0;
}

async function explain(args: string[], out: (text: string) => void): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { model: { type: 'string' }, query: { type: 'string' }, lambda: { type: 'string' }, threshold: { type: 'string' } },
    strict: true,
    allowPositionals: false,
  });
  const modelPath = required(values.model, 'model', 'a router artifact from `switchboard router train`');
  if (values.query === undefined) throw new UsageError('--query: required (the text to route)');
  if (values.lambda !== undefined && values.threshold !== undefined) throw new UsageError('--lambda and --threshold: pass one of them, not both');
  const lambda = numberFlag(values.lambda, 'lambda', (n) => n >= 0, 'a number >= 0');
  const threshold = numberFlag(values.threshold, 'threshold', (n) => n >= 0 && n <= 1, 'a quality from 0 to 1');
  const { router, digest } = loadRouter(modelPath);
  const policy: DecisionPolicy = threshold !== undefined ? { rule: 'threshold', quality: threshold } : lambda !== undefined ? { rule: 'willingness-to-pay', lambda } : router.defaultPolicy;
  await router.routeAsync(values.query, { policy }); // the first call pays for JIT compilation (and model loading); time a warm one
  const started = performance.now();
  const decision = await router.routeAsync(values.query, { policy });
  const micros = (performance.now() - started) * 1000;
  const predicted = (await router.embeddedFor([values.query])).predict(values.query);
  const lines = [
    `route: ${decision.model}`,
    `rule: ${decision.rule}`,
    `reason: ${decision.reason}`,
    `router: ${router.kind}, sha256:${digest}, decided in ${micros.toFixed(0)} µs (warm)`,
    '',
    'model                                   quality   cost   score',
    ...router.models
      .map((model, k) => ({ model, quality: predicted[k]!, cost: router.price(model) }))
      .map((c) => ({ ...c, score: policy.rule === 'threshold' ? NaN : policy.lambda * c.quality - c.cost }))
      .sort((a, b) => b.quality - a.quality)
      .map((c) => `${(c.model === decision.model ? '* ' : '  ') + c.model.padEnd(38)}${c.quality.toFixed(3).padStart(7)}  ${c.cost.toFixed(3).padStart(6)}  ${Number.isNaN(c.score) ? '' : c.score.toFixed(3).padStart(6)}`),
  ];
  out(lines.join('\n') + '\n');
  return 0;
}

export async function routerCommand(args: string[], io: RouterCommandIo = {}): Promise<number> {
  const out = io.out ?? ((text: string) => void process.stdout.write(text));
  const err = io.err ?? ((text: string) => void process.stderr.write(text));
  const [sub, ...rest] = args;
  try {
    switch (sub) {
      case 'train':
        return await train(rest, out);
      case 'eval':
        return await evalCommand(rest, out);
      case 'explain':
        return await explain(rest, out);
      case 'sign':
        return signCommand(rest, out, err);
      case '--help':
      case '-h':
      case 'help':
        out(USAGE);
        return 0;
      default:
        err(sub === undefined ? USAGE : `switchboard router: unknown subcommand "${sub}"\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const isUsage = error instanceof UsageError || (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS') === true;
    err(`switchboard router ${sub}: ${(error as Error).message}\n`);
    return isUsage ? 2 : 1;
  }
}
