import { describe, expect, it } from '@jest/globals';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { EvalReport } from './evaluate.js';
import { qualityCostSvg } from './plot.js';

const report: EvalReport = {
  n: 100,
  best_single: { model: 'big<&>model', quality: 0.62, cost: 1.8 },
  oracle: { quality: 0.8, cost: 0.37 },
  random: { quality: 0.43, cost: 0.84 },
  router: {
    argmax: { quality: 0.66, cost: 1.36 },
    curve: [
      { lambda: 0, quality: 0.53, cost: 0.2 },
      { lambda: 1, quality: 0.6, cost: 0.3 },
      { lambda: 10, quality: 0.65, cost: 0.9 },
      { lambda: 100, quality: 0.66, cost: 1.36 },
    ],
    cost_at_best_single_quality: 0.9,
    quality_at_best_single_cost: 0.66,
  },
};

describe('quality/cost plot', () => {
  const svg = qualityCostSvg(report, { small: { quality: 0.53, cost: 0.2, n: 100 } });

  it('is well-formed SVG whose curve has one point per lambda', () => {
    expect(XMLValidator.validate(svg)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(svg) as { svg: { xmlns: string; polyline: { points: string } } };
    expect(doc.svg.xmlns).toBe('http://www.w3.org/2000/svg');
    const points = doc.svg.polyline.points.split(' ').map((p) => p.split(',').map(Number));
    expect(points).toHaveLength(4);
    for (const [x, y] of points) {
      expect(Number.isFinite(x)).toBe(true);
      expect(Number.isFinite(y)).toBe(true);
    }
    // Cheaper is left, better is up.
    expect(points[0]![0]!).toBeLessThan(points[3]![0]!);
    expect(points[0]![1]!).toBeGreaterThan(points[3]![1]!);
  });

  it('labels the best single model, the oracle, random choice and the router, escaping names', () => {
    for (const label of ['best single', 'oracle', 'random', 'router argmax']) expect(svg).toContain(`>${label}</tspan>`);
    expect(svg).toContain('big&#60;&#38;&#62;model');
    expect(svg).toContain('62.0 @ 1.80');
    expect(svg).toContain('80.0 @ 0.37');
  });
});
