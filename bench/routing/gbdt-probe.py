"""Gradient-boosted trees on handcrafted query-text features, for the cost target of issue 5 (reach the
best single model's quality at <= 30 % of its cost). Analysis only: nothing here runs in the gateway.

Reads what bench/routing/export-features.ts wrote (per fold: hashed TF-IDF CSR matrices, scores,
costs and the TypeScript heads' held-out predictions) and the query texts of the routing data (the
fold assignment is crossval.ts's foldAssignment, ported below, and checked against the exported
scores), and prints per head the cost ratio of cost-alternatives.py (gateway policy
lambda * quality - cost, fine lambda grid; cheapest point reaching the best single model's held-out
quality / that model's cost) and the argmax quality gain over the best single model:

  ts_knn          the TypeScript kNN head (the exported held-out predictions)
  gbdt-hand       one LightGBM binary classifier per model on ~40 handcrafted numeric features of the
                  query text (length, digits/numbers, lines, sentences, code and math markers, answer
                  options, ...), no TF-IDF; boosting rounds by early stopping on an inner 15 % split of
                  the training folds, then refit on all of them; mean over 5 seeds
  gbdt-hand+knn   the same with 9 more features: the kNN stand-in's predictions (cost-alternatives.knn),
                  out-of-fold on the training rows (inner 4-fold), fitted on all training rows for the test
  gbdt-svd        the same trees on a 192-dim TruncatedSVD of the hashed TF-IDF + the handcrafted
                  features (one seed; --svd)
  mean(x, ts_knn) the plain mean of a head's predictions and the TypeScript kNN's

usage: .local/sklearn-venv/bin/python bench/routing/gbdt-probe.py [--dir DIR] [--data train.json] [--seed 1] [--svd]
  (pip install lightgbm into that venv; DIR from `node bench/routing/export-features.ts [--seed S]`,
   with the same seed as --seed here; single-threaded: num_threads=1)
"""
import argparse
import json
import os
import re
import sys
import time
from importlib.machinery import SourceFileLoader

import lightgbm as lgb
import numpy as np
from sklearn.decomposition import TruncatedSVD

here = os.path.dirname(os.path.abspath(__file__))
ca = SourceFileLoader("cost_alternatives", os.path.join(here, "cost-alternatives.py")).load_module()

NUM = re.compile(r"-?\d+(?:[.,]\d+)*(?:\.\d+)?")


def seeded_random(seed):
    """dataplane/src/seeded-random.ts (mulberry32)."""
    state = seed & 0xFFFFFFFF

    def imul(a, b):
        return (a * b) & 0xFFFFFFFF

    def nxt():
        nonlocal state
        state = (state + 0x6D2B79F5) & 0xFFFFFFFF
        t = state
        t = imul(t ^ (t >> 15), t | 1)
        t ^= (t + imul(t ^ (t >> 7), t | 61)) & 0xFFFFFFFF
        return ((t ^ (t >> 14)) & 0xFFFFFFFF) / 4294967296

    return nxt


def fold_assignment(n, folds, seed):
    """dataplane/src/routing/learned/crossval.ts foldAssignment."""
    order = list(range(n))
    random = seeded_random(seed)
    for i in range(n - 1, 0, -1):
        j = int(random() * (i + 1))
        order[i], order[j] = order[j], order[i]
    fold = np.zeros(n, dtype=int)
    for rank, example in enumerate(order):
        fold[example] = rank % folds
    return fold


def handcrafted(q):
    words = q.split()
    nums = NUM.findall(q)
    mags = []
    for n in nums:
        try:
            mags.append(abs(float(n.replace(",", ""))))
        except ValueError:
            pass
    lines = q.split("\n")
    low = q.lower()
    return [
        len(q), np.log1p(len(q)), len(words), len(lines), sum(1 for l in lines if l.strip()),
        len(re.findall(r"[.!?](\s|$)", q)),
        sum(c.isdigit() for c in q), len(nums), np.log1p(max(mags)) if mags else 0.0, np.log1p(sum(mags)) if mags else 0.0,
        sum(1 for n in nums if "." in n), len(set(nums)),
        q.count("?"), q.rstrip().endswith("?"),
        len(re.findall(r"\([A-Ea-e]\)", q)), len(re.findall(r"(?m)^\s*[A-E][.):]", q)),
        len(re.findall(r"[+\-*/^=<>]", q)), q.count("$"), q.count("\\"), "\\boxed" in q, "\\frac" in q,
        q.count("%"), q.count("```"), len(re.findall(r"\b(def|return|import|class|print|for|while)\b", q)),
        len(re.findall(r"[{}\[\];]", q)), "assert" in q, low.startswith("write a function"), low.startswith("write a python"),
        sum(c.isupper() for c in q) / max(1, len(q)), sum(not c.isascii() for c in q),
        np.mean([len(w) for w in words]) if words else 0.0, len(set(w.lower() for w in words)) / max(1, len(words)),
        len(re.findall(r"\b(how many|how much)\b", low)), len(re.findall(r"\b(not|except|never)\b", low)),
        len(re.findall(r"\b(probability|integer|prime|sum|remainder|triangle|area|polynomial)\b", low)),
        "options" in low or "choices" in low, "answer" in low, len(re.findall(r"\bwhich\b", low)), low.count("what"),
        len(re.findall(r"[,;:]", q)),
    ]


def gbdt(x_train, y_train, x_test, seed=0):
    """One binary LightGBM per model; rounds by early stopping on an inner 15 % split, refit on all rows."""
    params = dict(objective="binary", learning_rate=0.03, num_leaves=15, min_child_samples=20, feature_fraction=0.5,
                  bagging_fraction=0.8, bagging_freq=1, lambda_l2=1.0, num_threads=1, verbose=-1, seed=seed)
    inner = np.random.RandomState(seed).rand(len(x_train)) < 0.15
    out = np.zeros((x_test.shape[0], y_train.shape[1]))
    for k in range(y_train.shape[1]):
        yk = (y_train[:, k] >= 0.5).astype(int)
        booster = lgb.train(params, lgb.Dataset(x_train[~inner], yk[~inner]), num_boost_round=2000,
                            valid_sets=[lgb.Dataset(x_train[inner], yk[inner])], callbacks=[lgb.early_stopping(100, verbose=False)])
        rounds = max(booster.best_iteration, 20)
        out[:, k] = lgb.train(params, lgb.Dataset(x_train, yk), num_boost_round=int(rounds * 1.15)).predict(x_test)
    return out


def bag(x_train, y_train, x_test, seeds=5):
    return np.mean([gbdt(x_train, y_train, x_test, seed) for seed in range(seeds)], 0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default=".local/routing-reference")
    ap.add_argument("--data", default=os.path.join(here, "..", "..", "..", "shared", "data", "routing", "train.json"))
    ap.add_argument("--seed", type=int, default=1, help="the fold seed export-features.ts used")
    ap.add_argument("--svd", action="store_true", help="also the trees on SVD(hashed TF-IDF) + handcrafted")
    args = ap.parse_args()
    records = json.load(open(args.data))
    queries = [r.get("question", r.get("query")) for r in records]
    dirs = sorted(d for d in os.listdir(args.dir) if d.startswith("fold-"))
    fold = fold_assignment(len(records), len(dirs), args.seed)
    hand = np.array([handcrafted(q) for q in queries], dtype=float)
    table = {}

    def record(name, p, f, seconds):
        r = table.setdefault(name, {"ratio": [], "gain": [], "seconds": 0.0})
        y, cost = f["y"], f["cost"]
        picks = [(lam * p - cost - 1e-12 * cost).argmax(1) for lam in ca.LAMBDAS]
        r["ratio"].append(ca.ratio(picks, y, cost))
        r["gain"].append(100 * (y[np.arange(len(y)), p.argmax(1)].mean() - y.mean(0).max()))
        r["seconds"] += seconds

    for d in dirs:
        print(d, file=sys.stderr)
        f = ca.load(os.path.join(args.dir, d))
        man = json.load(open(os.path.join(args.dir, d, "manifest.json")))
        test = fold == man["fold"]
        expected = np.array([[records[i]["scores"][m] for m in man["models"]] for i in np.where(test)[0]])
        if expected.shape != f["y"].shape or not np.allclose(expected, f["y"], atol=1e-6):
            sys.exit(f"{d}: the fold assignment does not match the export (wrong --seed or --data?)")
        h_train, h_test, y_train, knn = hand[~test], hand[test], f["y_train"], f["ts"]["knn"]
        record("ts_knn", knn, f, 0)

        t0 = time.time()
        p = bag(h_train, y_train, h_test)
        t = time.time() - t0
        record("gbdt-hand (5-seed bag)", p, f, t)
        record("mean(gbdt-hand, ts_knn)", (p + knn) / 2, f, t)

        t0 = time.time()
        inner = np.random.RandomState(0).permutation(len(h_train)) % 4
        k_train = np.zeros_like(y_train)
        for g in range(4):
            k_train[inner == g] = ca.knn(f["x_train"][inner != g], y_train[inner != g], f["x_train"][inner == g])
        k_test = ca.knn(f["x_train"], y_train, f["x_test"])
        p = bag(np.hstack([h_train, k_train]), y_train, np.hstack([h_test, k_test]))
        record("gbdt-hand+knn (5-seed bag)", p, f, time.time() - t0)

        if args.svd:
            t0 = time.time()
            svd = TruncatedSVD(192, random_state=0, n_iter=5).fit(f["x_train"])
            p = gbdt(np.hstack([svd.transform(f["x_train"]), h_train]), y_train, np.hstack([svd.transform(f["x_test"]), h_test]))
            t = time.time() - t0
            record("gbdt-svd192+hand (1 seed)", p, f, t)
            record("mean(gbdt-svd192+hand, ts_knn)", (p + knn) / 2, f, t)

    print("| head | cost ratio, mean ± sd (folds reached) | per fold | argmax gain over best single (points) | fit+predict seconds (all folds) |")
    print("|---|---|---|---|---|")
    for name, r in table.items():
        print(f"| {name} | {ca.summary(r['ratio'])} | {ca.per_fold(r['ratio'])} | {np.mean(r['gain']):+.1f} | {r['seconds']:.0f} |")


if __name__ == "__main__":
    main()
