// Checks the onnx featurizer against a reference: the same model file and tokenizer.json run by
// Python onnxruntime + Hugging Face tokenizers (bench/routing/onnx-reference.py, in a venv made
// by onnx-reference-venv.sh), on hand-picked sentences (code, non-ASCII, empty, past 256 tokens)
// and a sample of the shared training data. Prints token-id agreement and the cosine of each
// pair; exits non-zero when any cosine is below 0.999. Writes bench/results/routing-onnx-reference.md.
// Needs the build (`npx tsc -b`) and the model (`bash scripts/models/fetch-minilm.sh`).
// usage: node bench/routing/onnx-reference.ts [--sample 200]
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseExamples } from '../../dataplane/dist/routing/learned/index.js';
import { OnnxFeaturizer } from '../../dataplane/dist/routing/learned/featurizers/onnx.js';
import { repoRoot } from '../lib/processes.ts';
import { routingTrain } from '../lib/routing-data.ts';

const cache = process.env.SWITCHBOARD_CACHE ?? join(homedir(), '.cache/switchboard');
const { values: flags } = parseArgs({
  options: {
    sample: { type: 'string', default: '200' },
    model: { type: 'string', default: join(cache, 'models/all-MiniLM-L6-v2-int8') },
    data: { type: 'string', default: routingTrain },
  },
});
const handPicked = [
  'How do I reverse a linked list in Python?',
  'Write a haiku about autumn leaves.',
  '',
  'def f(x):\n    return [i ** 2 for i in range(x) if i % 3 == 0]',
  'Ünïcödé façade naïve café — 東京タワーはどこですか？ مرحبا',
  'SELECT name, COUNT(*) FROM users GROUP BY name HAVING COUNT(*) > 1;',
  'The quick brown fox jumps over the lazy dog. '.repeat(60),
  'tl;dr: e=mc^2, 3.14159, $100, 50% off!!!',
];
const examples = parseExamples(readFileSync(flags.data, 'utf8'), flags.data);
const step = Math.max(1, Math.floor(examples.length / Number(flags.sample)));
const sentences = [...handPicked, ...examples.filter((_, i) => i % step === 0).slice(0, Number(flags.sample)).map((e) => e.query)];

const python = execFileSync('bash', [join(repoRoot, 'bench/routing/onnx-reference-venv.sh')], { encoding: 'utf8' }).trim();
const onnx = await OnnxFeaturizer.open(flags.model);
const reference = JSON.parse(
  execFileSync(python, [join(repoRoot, 'bench/routing/onnx-reference.py'), onnx.params.model, onnx.params.tokenizer], { input: JSON.stringify(sentences), encoding: 'utf8', maxBuffer: 1 << 28 }),
) as { ids: number[][]; embeddings: number[][] };

const cosines: number[] = [];
let sameIds = 0;
for (let i = 0; i < sentences.length; i++) {
  const ids = await onnx.tokenIds(sentences[i]!);
  if (ids.length === reference.ids[i]!.length && ids.every((id, j) => id === reference.ids[i]![j])) sameIds++;
  const ours = await onnx.embed(sentences[i]!);
  const theirs = reference.embeddings[i]!;
  cosines.push(ours.reduce((s, v, j) => s + v * theirs[j]!, 0) / Math.hypot(...theirs));
}
const sorted = [...cosines].sort((a, b) => a - b);
const worst = cosines.indexOf(sorted[0]!);
const lines = [
  `## onnx featurizer vs Python onnxruntime + tokenizers (all-MiniLM-L6-v2 int8, ${sentences.length} sentences: ${handPicked.length} hand-picked, ${sentences.length - handPicked.length} from the training data)`,
  '',
  `- identical token ids: ${sameIds}/${sentences.length}`,
  `- cosine: min ${sorted[0]!.toFixed(8)} (sentence ${worst}), median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(8)}; largest 1 - cosine ${(1 - sorted[0]!).toExponential(1)}`,
  `- hand-picked: ${cosines.slice(0, handPicked.length).map((c) => c.toFixed(8)).join(', ')}`,
  `- threshold 0.999: ${sorted[0]! >= 0.999 ? 'pass' : 'FAIL'}`,
  '',
];
process.stdout.write(lines.join('\n'));
mkdirSync(join(repoRoot, 'bench/results'), { recursive: true });
writeFileSync(join(repoRoot, 'bench/results/routing-onnx-reference.md'), lines.join('\n'));
process.exitCode = sorted[0]! >= 0.999 ? 0 : 1;
