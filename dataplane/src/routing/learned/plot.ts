// The quality/cost chart of an evaluation as a standalone SVG: the router's curve over lambda,
// with the best single model, the per-query oracle, random choice and every single model marked.
import type { EvalReport, ModelSummary } from './evaluate.js';

const WIDTH = 760;
const HEIGHT = 480;
const LEFT = 64;
const RIGHT = 200; // room for labels right of the plot
const TOP = 44;
const BOTTOM = 56;

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Round tick positions (1, 2 or 5 times a power of ten) covering [lo, hi]. */
function ticks(lo: number, hi: number, count = 6): number[] {
  const raw = (hi - lo) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= raw) ?? 10 * power;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function qualityCostSvg(report: EvalReport, models: ModelSummary = {}, title = 'Learned router: quality vs cost over lambda'): string {
  const curve = [...report.router.curve].sort((a, b) => a.cost - b.cost || a.quality - b.quality);
  const named = [
    { label: 'best single', detail: report.best_single.model, point: report.best_single, color: '#d62728' },
    { label: 'oracle', detail: '', point: report.oracle, color: '#2ca02c' },
    { label: 'random', detail: '', point: report.random, color: '#7f7f7f' },
    { label: 'router argmax', detail: '', point: report.router.argmax, color: '#1f77b4' },
  ];
  const all = [...curve, ...named.map((n) => n.point), ...Object.values(models)];
  const maxCost = Math.max(...all.map((p) => p.cost)) * 1.05 || 1;
  const qualities = all.map((p) => 100 * p.quality);
  const qLo = Math.max(0, Math.floor(Math.min(...qualities) / 5) * 5 - 5);
  const qHi = Math.min(100, Math.ceil(Math.max(...qualities) / 5) * 5 + 5);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const x = (cost: number): number => LEFT + (cost / maxCost) * plotW;
  const y = (quality: number): number => TOP + plotH - ((100 * quality - qLo) / (qHi - qLo)) * plotH;
  const f = (v: number): string => v.toFixed(1);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    `<text x="${LEFT}" y="24" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${LEFT}" y="38" fill="#555555">${report.n} queries; lambda = value of one unit of quality in USD per million tokens; grey: each single model</text>`,
  ];
  for (const t of ticks(0, maxCost)) {
    if (t > maxCost) continue;
    parts.push(`<line x1="${f(x(t))}" y1="${TOP}" x2="${f(x(t))}" y2="${TOP + plotH}" stroke="#eeeeee"/>`, `<text x="${f(x(t))}" y="${TOP + plotH + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of ticks(qLo, qHi)) {
    const yy = y(t / 100);
    parts.push(`<line x1="${LEFT}" y1="${f(yy)}" x2="${LEFT + plotW}" y2="${f(yy)}" stroke="#eeeeee"/>`, `<text x="${LEFT - 6}" y="${f(yy + 4)}" text-anchor="end">${t}</text>`);
  }
  parts.push(
    `<rect x="${LEFT}" y="${TOP}" width="${plotW}" height="${plotH}" fill="none" stroke="#333333"/>`,
    `<text x="${LEFT + plotW / 2}" y="${HEIGHT - 16}" text-anchor="middle">cost per query (USD per million input + output tokens)</text>`,
    `<text transform="translate(18 ${TOP + plotH / 2}) rotate(-90)" text-anchor="middle">quality (% of the maximum score)</text>`,
  );
  for (const [model, s] of Object.entries(models)) {
    parts.push(`<circle cx="${f(x(s.cost))}" cy="${f(y(s.quality))}" r="3" fill="#bbbbbb"><title>${escapeXml(`${model}: quality ${(100 * s.quality).toFixed(1)}, cost ${s.cost.toFixed(3)}`)}</title></circle>`);
  }
  parts.push(`<polyline fill="none" stroke="#1f77b4" stroke-width="2" points="${curve.map((p) => `${f(x(p.cost))},${f(y(p.quality))}`).join(' ')}"/>`);
  for (const p of curve) parts.push(`<circle cx="${f(x(p.cost))}" cy="${f(y(p.quality))}" r="2.5" fill="#1f77b4"><title>lambda ${p.lambda}: quality ${(100 * p.quality).toFixed(1)}, cost ${p.cost.toFixed(3)}</title></circle>`);
  // Labels sit in the right margin, in quality order, joined to their points by a thin line.
  const labelled = [...named].sort((a, b) => b.point.quality - a.point.quality);
  let lastY = -Infinity;
  for (const { label, detail, point, color } of labelled) {
    const px = x(point.cost);
    const py = y(point.quality);
    const ly = Math.max(py, lastY + 30);
    lastY = ly;
    const lx = LEFT + plotW + 8;
    parts.push(
      `<circle cx="${f(px)}" cy="${f(py)}" r="5" fill="${color}" stroke="#ffffff"/>`,
      `<line x1="${f(px)}" y1="${f(py)}" x2="${lx - 2}" y2="${f(ly)}" stroke="${color}" stroke-width="0.6"/>`,
      `<text x="${lx}" y="${f(ly + 4)}" fill="${color}" font-size="11"><tspan font-weight="bold">${escapeXml(label)}</tspan> ${(100 * point.quality).toFixed(1)} @ ${point.cost.toFixed(2)}${detail === '' ? '' : `<tspan x="${lx}" dy="13" fill="#555555">${escapeXml(detail)}</tspan>`}</text>`,
    );
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
