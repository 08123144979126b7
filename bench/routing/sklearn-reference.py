"""Reference check of the TypeScript router heads against scikit-learn / numpy on identical
features (bench only; nothing at run time uses Python).

Reads what bench/routing/export-features.ts wrote (per fold: the hashed TF-IDF CSR matrices,
scores, costs and each TypeScript head's held-out predictions), trains the reference on the same
training rows, and compares the routing quality of always picking the highest predicted model
(argmax; ties to the cheaper model) on the held-out rows. Prints a markdown table.

  kNN    KNeighborsRegressor(metric="cosine", brute) with the TS weights (cosine^2) and with
         weights="distance" (1 / cosine distance)
  linear Ridge(alpha) per model (sklearn fits the intercept on centred features)
  mlp    MLPRegressor(64 relu units, Adam), squared error on the scores
  mf     numpy: sigmoid(v_m . (P x) + b_m), full-batch Adam on cross-entropy
  elo    numpy: Bradley-Terry with strengths b_m + w_m . x, full-batch Adam on the pairwise
         logistic loss (draws weighted), argmax of the expected win rate
  gbdt   LightGBM on the query-shape features: per model, cross-entropy on the scores, the TS
         head's parameters, rounds by early stopping on a held-out 15 %, refit, bagged seeds

usage: python bench/routing/sklearn-reference.py [DIR]   (DIR default .local/routing-reference)
"""
import json
import os
import sys
import time

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import Ridge
from sklearn.neighbors import KNeighborsRegressor
from sklearn.neural_network import MLPRegressor


def load(d):
    man = json.load(open(os.path.join(d, "manifest.json")))
    m = len(man["models"])

    def arr(name, dtype):
        return np.fromfile(os.path.join(d, name + ".bin"), dtype=dtype)

    def csr(part, n):
        return sp.csr_matrix((arr(f"X_{part}_values", "<f4").astype(np.float64), arr(f"X_{part}_indices", "<i4"), arr(f"X_{part}_indptr", "<i4")), shape=(n, man["dim"]))

    data = {
        "Xtr": csr("train", man["nTrain"]),
        "Xte": csr("test", man["nTest"]),
        "Ytr": arr("Y_train", "<f4").reshape(man["nTrain"], m).astype(np.float64),
        "Yte": arr("Y_test", "<f4").reshape(man["nTest"], m).astype(np.float64),
        "cost": arr("cost_test", "<f8").reshape(man["nTest"], m),
        "ts": {k: arr(f"ts_{k}", "<f8").reshape(man["nTest"], m) for k in man["heads"]},
    }
    if "shapeDim" in man:
        data["Str"] = arr("S_train", "<f8").reshape(man["nTrain"], man["shapeDim"])
        data["Ste"] = arr("S_test", "<f8").reshape(man["nTest"], man["shapeDim"])
    return man, data


def argmax_quality(pred, y, cost):
    """Mean true score of the highest predicted model per query (ties to the cheaper one)."""
    pred = np.where(np.isnan(y), -np.inf, pred)
    best = np.argmax(pred - 1e-9 * cost, axis=1)
    return float(np.nanmean(y[np.arange(len(y)), best]))


def filled(y):
    means = np.nanmean(y, axis=0)
    return np.where(np.isnan(y), means, y)


def knn(man, d, weights):
    p = man["heads"]["knn"]
    model = KNeighborsRegressor(n_neighbors=p["k"], metric="cosine", algorithm="brute", weights=weights)
    model.fit(d["Xtr"], filled(d["Ytr"]))
    return model.predict(d["Xte"])


def ridge(man, d):
    model = Ridge(alpha=man["heads"]["linear"]["alpha"])
    model.fit(d["Xtr"], filled(d["Ytr"]))
    return model.predict(d["Xte"])


def mlp(man, d, seed):
    p = man["heads"]["mlp"]
    model = MLPRegressor(hidden_layer_sizes=(p["hidden"],), activation="relu", solver="adam", alpha=1e-3, batch_size=32, learning_rate_init=p["learningRate"], max_iter=50, early_stopping=True, validation_fraction=0.1, n_iter_no_change=3, random_state=seed)
    model.fit(d["Xtr"], filled(d["Ytr"]))
    return model.predict(d["Xte"])


class Adam:
    def __init__(self, shapes, lr):
        self.lr, self.t = lr, 0
        self.m = [np.zeros(s) for s in shapes]
        self.v = [np.zeros(s) for s in shapes]

    def step(self, params, grads):
        self.t += 1
        for i, (w, g) in enumerate(zip(params, grads)):
            self.m[i] = 0.9 * self.m[i] + 0.1 * g
            self.v[i] = 0.999 * self.v[i] + 0.001 * g * g
            mh = self.m[i] / (1 - 0.9**self.t)
            vh = self.v[i] / (1 - 0.999**self.t)
            w -= self.lr * mh / (np.sqrt(vh) + 1e-8)


def sigmoid(z):
    return 1 / (1 + np.clip(np.exp(-z), 0, 1e300))


def holdout(n, seed):
    """A seeded 10% of the training rows for early stopping (the test rows are never looked at)."""
    val = np.zeros(n, dtype=bool)
    val[np.random.default_rng(seed).permutation(n)[: n // 10]] = True
    return ~val, val


def early_stopped(step, loss, params, iterations, every=10):
    """Runs `step` up to `iterations` times; returns copies of `params` at the best validation loss."""
    best, kept = np.inf, [p.copy() for p in params]
    for i in range(iterations):
        step()
        if (i + 1) % every == 0:
            current = loss()
            if current < best:
                best, kept = current, [p.copy() for p in params]
    return kept


def mf(man, d, seed, iterations=500, lr=0.01):
    p = man["heads"]["mf"]
    rng = np.random.default_rng(seed)
    fit, val = holdout(d["Xtr"].shape[0], seed)
    X, Y = d["Xtr"][fit], d["Ytr"][fit]
    Xv, Yv = d["Xtr"][val], d["Ytr"][val]
    mask = ~np.isnan(Y)
    Yf = np.where(mask, Y, 0)
    H = p["hidden"]
    P = rng.uniform(-p["init"], p["init"], (X.shape[1], H))
    V = rng.uniform(-1, 1, (Y.shape[1], H)) / np.sqrt(H)
    q = np.clip(np.nanmean(Y, axis=0), 1e-3, 1 - 1e-3)
    b = np.log(q / (1 - q))
    opt = Adam([P.shape, V.shape, b.shape], lr)
    n = X.shape[0]

    def step():
        E = X @ P
        G = (sigmoid(E @ V.T + b) - Yf) * mask / n
        opt.step([P, V, b], [X.T @ (G @ V) + p["l2"] * P, G.T @ E + p["l2"] * V, G.sum(axis=0)])

    def loss():
        z = np.clip(sigmoid((Xv @ P) @ V.T + b), 1e-7, 1 - 1e-7)
        return float(np.nanmean(-(Yv * np.log(z) + (1 - Yv) * np.log(1 - z))))

    P, V, b = early_stopped(step, loss, [P, V, b], iterations)
    return sigmoid((d["Xte"] @ P) @ V.T + b)


def elo(man, d, seed, iterations=500, lr=0.01):
    p = man["heads"]["elo"]
    fit, val = holdout(d["Xtr"].shape[0], seed)
    m = d["Ytr"].shape[1]

    def pairs(Y):
        diff = Y[:, :, None] - Y[:, None, :]  # a's score minus b's
        valid = ~np.isnan(diff) & ~np.eye(m, dtype=bool)[None]
        weight = np.where(valid, np.where(diff == 0, p["drawWeight"], 1.0), 0.0)
        return weight, np.where(valid, 0.5 + np.nan_to_num(diff) / 2, 0.5)

    X, (weight, outcome) = d["Xtr"][fit], pairs(d["Ytr"][fit])
    Xv, (weight_v, outcome_v) = d["Xtr"][val], pairs(d["Ytr"][val])
    W = np.zeros((X.shape[1], m))
    b = np.zeros(m)
    opt = Adam([W.shape, b.shape], lr)
    n = X.shape[0]

    def step():
        S = X @ W + b
        # d loss / d S_a over every ordered pair (a, b): each unordered pair counts twice, a constant factor.
        G = (weight * (sigmoid(S[:, :, None] - S[:, None, :]) - outcome)).sum(axis=2) / n
        opt.step([W, b], [X.T @ G + p["l2"] * W, G.sum(axis=0)])

    def loss():
        S = Xv @ W + b
        z = np.clip(sigmoid(S[:, :, None] - S[:, None, :]), 1e-7, 1 - 1e-7)
        return float((weight_v * -(outcome_v * np.log(z) + (1 - outcome_v) * np.log(1 - z))).sum())

    W, b = early_stopped(step, loss, [W, b], iterations)
    S = d["Xte"] @ W + b
    return sigmoid(S[:, :, None] - S[:, None, :]).sum(axis=2)


def lightgbm_params(p, threads=1):
    """LightGBM parameters of the TS gbdt head's (a manifest's heads.gbdt)."""
    return dict(objective="cross_entropy", learning_rate=p["learningRate"], num_leaves=p["leaves"], min_child_samples=p["minLeafRows"], lambda_l2=p["l2"],
                feature_fraction=p["featureFraction"], bagging_fraction=p["rowFraction"], bagging_freq=1, max_bin=p["bins"], num_threads=threads, verbose=-1)


def lightgbm_fit(params, p, x, y, x_test, seed):
    """The TS head's recipe for one model: rounds by early stopping on a seeded held-out share, then a refit on all rows."""
    import lightgbm as lgb

    val = np.random.default_rng(seed).random(len(y)) < p["validation"]
    run = dict(params, seed=seed)
    probe = lgb.train(run, lgb.Dataset(x[~val], y[~val]), num_boost_round=p["maxRounds"], valid_sets=[lgb.Dataset(x[val], y[val])],
                      callbacks=[lgb.early_stopping(p["patience"], verbose=False)])
    return lgb.train(run, lgb.Dataset(x, y), num_boost_round=max(1, round(probe.best_iteration * p["refit"]))).predict(x_test)


def gbdt(man, d, seed):
    p = man["heads"]["gbdt"]
    params = lightgbm_params(p)
    out = np.zeros((d["Ste"].shape[0], d["Ytr"].shape[1]))
    for b in range(p["bag"]):
        for k in range(d["Ytr"].shape[1]):
            rows = ~np.isnan(d["Ytr"][:, k])
            out[:, k] += lightgbm_fit(params, p, d["Str"][rows], d["Ytr"][rows, k], d["Ste"], seed * 1000 + b * 101 + k) / p["bag"]
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "../../.local/routing-reference")
    folds = sorted(f for f in os.listdir(root) if f.startswith("fold-"))
    rows = {}
    for f in folds:
        man, d = load(os.path.join(root, f))
        y, cost = d["Yte"], d["cost"]
        best_single = float(np.max(np.nanmean(y, axis=0)))
        refs = {}
        if "knn" in d["ts"]:
            refs["knn"] = [("KNeighborsRegressor cosine, weights cos^2 (as TS)", lambda: knn(man, d, lambda dist: (1 - dist) ** 2)), ("KNeighborsRegressor cosine, weights=distance", lambda: knn(man, d, "distance"))]
        if "linear" in d["ts"]:
            refs["linear"] = [("Ridge(alpha=%g)" % man["heads"]["linear"]["alpha"], lambda: ridge(man, d))]
        if "mlp" in d["ts"]:
            refs["mlp"] = [("MLPRegressor(64 relu, adam, early stopping)", lambda: mlp(man, d, man["seed"]))]
        if "mf" in d["ts"]:
            refs["mf"] = [("numpy bilinear MF, full-batch Adam, early stopping", lambda: mf(man, d, man["seed"]))]
        if "elo" in d["ts"]:
            refs["elo"] = [("numpy Bradley-Terry on features, full-batch Adam, early stopping", lambda: elo(man, d, man["seed"]))]
        if "gbdt" in d["ts"]:
            refs["gbdt"] = [("LightGBM on the query-shape features (same parameters, early stopping, bag)", lambda: gbdt(man, d, man["seed"]))]
        for kind, variants in refs.items():
            ts_q = argmax_quality(d["ts"][kind], y, cost)
            for name, run in variants:
                started = time.time()
                ref_q = argmax_quality(run(), y, cost)
                rows.setdefault((kind, name), []).append((ts_q - best_single, ref_q - best_single, ts_q - ref_q))
                print(f"{f} {kind:6s} {name}: TS {100 * ts_q:.1f} ref {100 * ref_q:.1f} ({time.time() - started:.0f} s)", file=sys.stderr)

    def ms(v):
        return f"{100 * np.mean(v):+.1f} ± {100 * np.std(v, ddof=1) if len(v) > 1 else 0:.1f}"

    print(f"| head | reference | TS argmax vs best single | reference vs best single | TS − reference ({len(folds)} folds) | within 1 point |")
    print("|---|---|---|---|---|---|")
    for (kind, name), r in rows.items():
        ts, ref, delta = zip(*r)
        print(f"| {kind} | {name} | {ms(ts)} | {ms(ref)} | {ms(delta)} | {'yes' if abs(np.mean(delta)) <= 0.01 else 'no'} |")


if __name__ == "__main__":
    main()
