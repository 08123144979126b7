"""Alternatives to the willingness-to-pay policy and to the heads' raw predictions, for the cost
target of issue 5 (reach the best single model's quality at <= 30% of its cost). Analysis only:
nothing here runs in the gateway.

Reads what bench/routing/export-features.ts wrote (per fold: hashed TF-IDF CSR matrices, scores,
costs and each TypeScript head's held-out predictions) and prints, per alternative, the cost ratio
(cheapest point of its curve reaching the best single model's held-out quality, / that model's
cost; mean over the folds where reached):

  decision rules on the TypeScript heads' predictions (knn, linear, mf and their mean), each swept
  over its own knob:
    lambda    maximise lambda * quality - cost (the gateway's policy; 20 points per decade)
    margin    the cheapest model predicted within d of the best predicted quality
    relative  the cheapest model predicted within a fraction d of the best predicted quality
    log-odds  maximise lambda * logit(quality) - cost
  recalibrated predictions, fitted only on out-of-fold predictions inside the training folds
  (inner 4-fold CV of scikit-learn stand-ins for the kNN and ridge heads):
    mean      mean of the two stand-ins (no fitting)
    isotonic  per-model isotonic regression of the mean onto the scores
    stacked   per-model logistic regression on both stand-ins' predictions for every model

usage: .local/sklearn-venv/bin/python bench/routing/cost-alternatives.py [DIR]   (DIR default .local/routing-reference)
"""
import json
import os
import sys

import numpy as np
import scipy.sparse as sp
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression, Ridge

LAMBDAS = [0.0] + list(np.logspace(-2, 4, 121))
KNOBS = np.linspace(0, 1, 201)


def load(d):
    man = json.load(open(os.path.join(d, "manifest.json")))
    m, n = len(man["models"]), man["nTest"]

    def arr(name, dtype):
        return np.fromfile(os.path.join(d, name + ".bin"), dtype=dtype)

    def csr(part, rows):
        return sp.csr_matrix((arr(f"X_{part}_values", "<f4").astype(np.float64), arr(f"X_{part}_indices", "<i4"), arr(f"X_{part}_indptr", "<i4")), shape=(rows, man["dim"]))

    y_train = arr("Y_train", "<f4").astype(np.float64).reshape(-1, m)
    return {
        "x_train": csr("train", len(y_train)),
        "x_test": csr("test", n),
        "y_train": y_train,
        "y": arr("Y_test", "<f4").astype(np.float64).reshape(n, m),
        "cost": arr("cost_test", "<f8").reshape(n, m),
        "ts": {k: arr(f"ts_{k}", "<f8").reshape(n, m) for k in ("knn", "linear", "mf") if os.path.exists(os.path.join(d, f"ts_{k}.bin"))},
    }


def ratio(picks, y, cost):
    """Cheapest pick (one model index per row, per knob value) whose quality reaches the best single model's."""
    quality = y.mean(0)
    best = quality.argmax()
    rows = np.arange(len(y))
    reached = [cost[rows, k].mean() for k in picks if y[rows, k].mean() >= quality[best]]
    return min(reached) / cost[:, best].mean() if reached else None


def cheapest_where(ok, cost):
    return np.where(ok, -cost, -np.inf).argmax(1)


def rules(p, cost):
    top = p.max(1, keepdims=True)
    logit = np.log(np.clip(p, 1e-3, 1 - 1e-3) / (1 - np.clip(p, 1e-3, 1 - 1e-3)))
    tie = 1e-12 * cost  # ties go to the cheaper model
    return {
        "lambda": [(lam * p - cost - tie).argmax(1) for lam in LAMBDAS],
        "margin": [cheapest_where(p >= top - d / 2, cost) for d in KNOBS],
        "relative": [cheapest_where(p >= top * (1 - d), cost) for d in KNOBS],
        "log-odds": [(lam * logit - cost - tie).argmax(1) for lam in LAMBDAS],
    }


def knn(x_train, y_train, x_test, k=100):
    """The TypeScript kNN head's rule: cosine^2-weighted mean of the 100 nearest, prior 0.05 on the mean."""
    sim = (x_test @ x_train.T).toarray()
    idx = np.argpartition(-sim, k, axis=1)[:, :k]
    w = np.maximum(np.take_along_axis(sim, idx, 1), 0) ** 2
    return (np.einsum("nk,nkm->nm", w, y_train[idx]) + 0.05 * y_train.mean(0)) / (w.sum(1, keepdims=True) + 0.05)


def ridge(x_train, y_train, x_test, alpha=10.0):
    mean = y_train.mean(0)
    return np.clip(Ridge(alpha=alpha, fit_intercept=False, solver="sparse_cg").fit(x_train, y_train - mean).predict(x_test) + mean, 0, 1)


def stand_ins(x_train, y_train, x_test):
    return knn(x_train, y_train, x_test), ridge(x_train, y_train, x_test)


def recalibrated(f):
    x, y_train = f["x_train"], f["y_train"]
    inner = np.random.RandomState(0).permutation(x.shape[0]) % 4
    oof = [np.zeros_like(y_train), np.zeros_like(y_train)]
    for g in range(4):
        for i, p in enumerate(stand_ins(x[inner != g], y_train[inner != g], x[inner == g])):
            oof[i][inner == g] = p
    test = stand_ins(x, y_train, f["x_test"])
    mean_oof, mean_test = (oof[0] + oof[1]) / 2, (test[0] + test[1]) / 2
    m = y_train.shape[1]
    isotonic = np.column_stack([IsotonicRegression(out_of_bounds="clip").fit(mean_oof[:, k], y_train[:, k]).predict(mean_test[:, k]) for k in range(m)])
    features_oof, features_test = np.hstack(oof), np.hstack(test)
    stacked = np.column_stack([LogisticRegression(max_iter=1000).fit(features_oof, (y_train[:, k] >= 0.5).astype(int)).predict_proba(features_test)[:, 1] for k in range(m)])
    return {"mean": mean_test, "isotonic": isotonic, "stacked": stacked}


def per_fold(values):
    """Cost ratios fold by fold, "—" where the fold never reached the best single model's quality."""
    return " / ".join("—" if v is None else f"{v:.2f}" for v in values)


def summary(values):
    got = [v for v in values if v is not None]
    if not got:
        return f"not reached (0/{len(values)})"
    return f"{np.mean(got):.2f} ± {np.std(got, ddof=1) if len(got) > 1 else 0:.2f} ({len(got)}/{len(values)})"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else ".local/routing-reference"
    dirs = sorted(d for d in os.listdir(root) if d.startswith("fold-"))
    table = {}
    for d in dirs:
        print(d, file=sys.stderr)
        f = load(os.path.join(root, d))
        heads = dict(f["ts"])
        heads["mean of knn, linear, mf"] = sum(f["ts"].values()) / len(f["ts"])
        for head, p in heads.items():
            for rule, picks in rules(p, f["cost"]).items():
                table.setdefault((f"TS {head}", rule), []).append(ratio(picks, f["y"], f["cost"]))
        for name, p in recalibrated(f).items():
            table.setdefault((f"stand-ins, {name}", "lambda"), []).append(ratio(rules(p, f["cost"])["lambda"], f["y"], f["cost"]))
    print("| predictions | decision rule | cost ratio at best single quality, mean ± sd (folds reached) | per fold |")
    print("|---|---|---|---|")
    for (head, rule), values in table.items():
        print(f"| {head} | {rule} | {summary(values)} | {' / '.join('—' if v is None else f'{v:.2f}' for v in values)} |")


if __name__ == "__main__":
    main()
