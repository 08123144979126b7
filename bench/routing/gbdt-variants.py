"""Variants of the gbdt head in LightGBM, on the identical query-shape features, for the cost target
of issue 5 (reach the best single model's quality at <= 30 % of its cost). Analysis only: nothing
here runs in the gateway.

Reads what `node bench/routing/export-features.ts --kinds gbdt [--seed S] --out DIR` wrote (per fold:
the 50 query-shape features of the training and test queries, scores, costs and the TypeScript
head's held-out predictions) and prints per variant, over the folds:

  def / fine   the cost ratio: cheapest point of the lambda curve (gateway policy
               lambda * quality - cost) reaching the best single model's held-out quality / that
               model's cost; `def` on router eval's grid (5 lambdas per decade), `fine` on 20
  q@0.30       points over the best single model's quality at 0.30 of its cost (the curve's upper
               envelope, linear between fine-grid points): smoother than the crossing
  gain         argmax quality over the best single model, points

Variants (LightGBM with the TS head's parameters and recipe from the manifest, as
sklearn-reference.py fits it, unless said; BAG seeds averaged, default 3; two threads):
  ts           the TypeScript head's exported predictions (bag 5)
  per          one classifier per model, as the TS head
  extra        the same with extra_trees (one random threshold per feature and leaf)
  pooled       one classifier over all (query, model) pairs: the shape features + the model's
               price + a one-hot of the model
  ts+pooled    the mean of ts and pooled

usage: .local/sklearn-venv/bin/python bench/routing/gbdt-variants.py DIR [VARIANT,...]
"""
import json
import os
import sys
from importlib.machinery import SourceFileLoader

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
ca = SourceFileLoader("cost_alternatives", os.path.join(here, "cost-alternatives.py")).load_module()
ref = SourceFileLoader("sklearn_reference", os.path.join(here, "sklearn-reference.py")).load_module()

BAG = int(os.environ.get("BAG", "3"))
DEFAULT_GRID = [0.0] + list(np.logspace(-2, 4, 31))
FINE_GRID = ca.LAMBDAS


def per_model(head, params, s, y, s_test):
    out = np.zeros((len(s_test), y.shape[1]))
    for b in range(BAG):
        for k in range(y.shape[1]):
            rows = ~np.isnan(y[:, k])
            out[:, k] += ref.lightgbm_fit(params, head, s[rows], y[rows, k], s_test, 1000 * b + k) / BAG
    return out


def pooled_rows(s, prices):
    m, n = len(prices), len(s)
    return np.vstack([np.hstack([s, np.full((n, 1), prices[k]), np.tile(np.eye(m)[k], (n, 1))]) for k in range(m)])


def pooled(head, params, s, y, s_test, prices):
    x, target, x_test = pooled_rows(s, prices), y.T.reshape(-1), pooled_rows(s_test, prices)
    rows = ~np.isnan(target)
    out = sum(ref.lightgbm_fit(params, head, x[rows], target[rows], x_test, 77 + b) for b in range(BAG)) / BAG
    return out.reshape(len(prices), len(s_test)).T


def quality_at(p, y, cost, share):
    best = y.mean(0).argmax()
    rows = np.arange(len(y))
    points = sorted((cost[rows, k].mean() / cost[:, best].mean(), y[rows, k].mean()) for k in [(lam * p - cost - 1e-12 * cost).argmax(1) for lam in FINE_GRID])
    envelope = np.maximum.accumulate(np.array([q for _, q in points]))
    return 100 * (np.interp(share, np.array([c for c, _ in points]), envelope) - y.mean(0).max())


def main():
    root = sys.argv[1]
    wanted = (sys.argv[2] if len(sys.argv) > 2 else "ts,per,extra,pooled,ts+pooled").split(",")
    table = {}
    for d in sorted(f for f in os.listdir(root) if f.startswith("fold-")):
        path = os.path.join(root, d)
        man = json.load(open(os.path.join(path, "manifest.json")))
        f = ca.load(path)
        s = np.fromfile(os.path.join(path, "S_train.bin"), "<f8").reshape(man["nTrain"], -1)
        s_test = np.fromfile(os.path.join(path, "S_test.bin"), "<f8").reshape(man["nTest"], -1)
        y_train, y, cost = f["y_train"], f["y"], f["cost"]
        head = man["heads"]["gbdt"]
        params = ref.lightgbm_params(head, threads=2)
        ts = np.fromfile(os.path.join(path, "ts_gbdt.bin"), "<f8").reshape(man["nTest"], -1)
        preds = {"ts": ts}
        if "per" in wanted:
            preds["per"] = per_model(head, params, s, y_train, s_test)
        if "extra" in wanted:
            preds["extra"] = per_model(head, dict(params, extra_trees=True), s, y_train, s_test)
        if "pooled" in wanted or "ts+pooled" in wanted:
            preds["pooled"] = pooled(head, params, s, y_train, s_test, cost.mean(0))
            preds["ts+pooled"] = (ts + preds["pooled"]) / 2
        for name in wanted:
            p = preds[name]
            r = table.setdefault(name, {"def": [], "fine": [], "q30": [], "gain": []})
            for grid, lambdas in (("def", DEFAULT_GRID), ("fine", FINE_GRID)):
                r[grid].append(ca.ratio([(lam * p - cost - 1e-12 * cost).argmax(1) for lam in lambdas], y, cost))
            r["q30"].append(quality_at(p, y, cost, 0.30))
            r["gain"].append(100 * (y[np.arange(len(y)), p.argmax(1)].mean() - y.mean(0).max()))
        print(d, file=sys.stderr)
    print("| variant | cost ratio, default grid | fine grid | per fold (default grid) | quality at 0.30 of the cost, points | argmax gain, points |")
    print("|---|---|---|---|---|---|")
    for name, r in table.items():
        print(f"| {name} | {ca.summary(r['def'])} | {ca.summary(r['fine'])} | {ca.per_fold(r['def'])} | {np.mean(r['q30']):+.2f} ± {np.std(r['q30'], ddof=1):.2f} | {np.mean(r['gain']):+.2f} ± {np.std(r['gain'], ddof=1):.2f} |")


if __name__ == "__main__":
    main()
