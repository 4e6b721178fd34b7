#!/usr/bin/python3
"""Are low ratings evidence in training? (issue 19 #7)

Trains the numpy reference recommenders of ../shared/tools/refbaselines.py
twice on the DESIGN.md split of MovieLens: once on every train rating (the
protocol: every rating is an implicit interaction), once with the train
ratings of 2 stars or less removed. The test set is the same in both runs, so
the figures compare directly.
usage: low_ratings.py ML_DIR [REFBASELINES_DIR]
"""
import os, sys
import numpy as np
import scipy.sparse as sp

ml = sys.argv[1]
sys.path.insert(0, sys.argv[2] if len(sys.argv) > 2 else
                os.path.join(os.path.dirname(__file__), "../../../shared/tools"))
import refbaselines as rb

stars = {}
with open(os.path.join(ml, "u.data")) as f:
    for line in f:
        u, i, r, t = line.split()
        stars[(u, i)] = float(r)
rows = rb.load(os.path.join(ml, "u.data"))
X, te, seqs = rb.split(rows)
# Rebuild the id maps split() used (same rules) to find each train cell's stars.
users = sorted({u for u, _, _ in rows})
items = sorted({i for _, i, _ in rows}, key=lambda x: (0, int(x), "") if x.isdigit() else (1, 0, x))
low = np.zeros(X.shape, dtype=bool)
for (u, i), r in stars.items():
    if r <= 2:
        low[users.index(u), items.index(i)] = True
Xc = X.tocoo()
keep = ~low[Xc.row, Xc.col]
Xh = sp.csr_matrix((Xc.data[keep], (Xc.row[keep], Xc.col[keep])), shape=X.shape)
seqs_h = {u: [i for i in s if not low[u, i]] for u, s in seqs.items()}
print(f"train cells {X.nnz}, of them rated <= 2: {X.nnz - Xh.nnz} "
      f"({100.0 * (X.nnz - Xh.nnz) / X.nnz:.1f}%)")
print(f"{'model':<10} {'NDCG@10 all':>12} {'without<=2':>11} {'R@20 all':>9} {'without<=2':>11}")
for name, make in [("ease", lambda X, s: rb.ease(X)), ("itemknn", lambda X, s: rb.itemknn(X)),
                   ("recentknn", lambda X, s: rb.recentknn(X, s))]:
    a = rb.evaluate(make(X, seqs), X, te)
    # Seen items stay excluded as in the protocol (X), whatever was trained on.
    b = rb.evaluate(make(Xh, seqs_h), X, te)
    print(f"{name:<10} {a[0]:>12.4f} {b[0]:>11.4f} {a[1]:>9.4f} {b[1]:>11.4f}")
