#!/usr/bin/env python3
"""PyTorch reference of recdb's sequence component (modules/seq).

Trains the same model (item + learned positional embeddings, pre-norm causal
self-attention blocks written out as in modules/seq/seq_recommender.cc,
BCE with sampled negatives, Adam) with the same hyper-parameters on the
docs/DESIGN.md split of ml-100k (per user with >= 5 events, the last
round_half_even(0.2 n) events by (time, item id) are the test set) and
prints NDCG@10 / Recall@20 over the test users, the model scoring from each
user's train history.

    /usr/bin/python3 tools/seq/seq_reference.py ../shared/data/ml-100k/u.data \
        [--epochs 60 --dim 64 --max-len 200 ...]

Needs Debian's python3-torch (and python3-numpy). Seeds differ from the C++
run (another sampler), so figures agree within noise, not bit for bit.
"""
import argparse
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_split(path):
    events = {}
    with open(path) as f:
        for line in f:
            u, i, r, t = line.split()
            events.setdefault(int(u), []).append((int(t), int(i)))
    items = sorted({i for ev in events.values() for _, i in ev})
    dense = {i: k for k, i in enumerate(items)}
    train, test = {}, {}
    for u, ev in events.items():
        ev.sort()
        n = len(ev)
        held = 0 if n < 5 else max(1, int(round(0.2 * n)))  # round() is half-even
        seq = [dense[i] for _, i in ev]
        train[u] = seq[: n - held]
        if held:
            test[u] = sorted(set(seq[n - held:]))
    return train, test, len(items)


def carve_validation(train):
    """The validation split carved from train (as the fusion weights are
    chosen): the same rule applied to each user's train sequence. Tuning
    reads only this; the test split is for the final choice."""
    fit, valid = {}, {}
    for u, seq in train.items():
        n = len(seq)
        held = 0 if n < 5 else max(1, int(round(0.2 * n)))
        fit[u] = seq[: n - held]
        if held:
            valid[u] = sorted(set(seq[n - held:]))
    return fit, valid


class Block(nn.Module):
    def __init__(self, dim, heads, dropout):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(dim, eps=1e-8)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.ln2 = nn.LayerNorm(dim, eps=1e-8)
        self.ff1 = nn.Linear(dim, dim)
        self.ff2 = nn.Linear(dim, dim)
        self.drop = nn.Dropout(dropout)

    def forward(self, x, blocked):
        n, L, d = x.shape
        dh = d // self.heads
        q, k, v = self.qkv(self.ln1(x)).view(n, L, 3, self.heads, dh).permute(2, 0, 3, 1, 4)
        logits = q @ k.transpose(-2, -1) / math.sqrt(dh)
        logits = logits.masked_fill(blocked.unsqueeze(1), -1e9)
        att = torch.softmax(logits, -1)
        a = (self.drop(att) @ v).transpose(1, 2).reshape(n, L, d)
        x = x + self.drop(self.out(a))
        return x + self.drop(self.ff2(self.drop(F.relu(self.ff1(self.ln2(x))))))


class SasRec(nn.Module):
    def __init__(self, n_items, dim, blocks, heads, max_len, dropout):
        super().__init__()
        self.dim, self.max_len = dim, max_len
        self.item = nn.Embedding(n_items + 1, dim, padding_idx=0)
        self.pos = nn.Embedding(max_len, dim)
        self.emb_drop = nn.Dropout(dropout)
        self.layers = nn.ModuleList(Block(dim, heads, dropout) for _ in range(blocks))
        self.last = nn.LayerNorm(dim, eps=1e-8)

    def encode(self, seq):
        n, L = seq.shape
        x = self.item(seq) * math.sqrt(self.dim) + self.pos(torch.arange(self.max_len - L, self.max_len))
        x = self.emb_drop(x)
        keep = (seq != 0).unsqueeze(-1).float()
        x = x * keep
        blocked = torch.ones(L, L, dtype=torch.bool).triu(1).unsqueeze(0)
        pad = seq == 0
        if pad.any():
            blocked = (blocked | pad.unsqueeze(1)) & ~torch.eye(L, dtype=torch.bool).unsqueeze(0)
        for b in self.layers:
            x = b(x, blocked) * keep
        return self.last(x)


def ndcg_recall(model, train, test, n_items):
    model.eval()
    ndcg, recall = [], []
    emb = model.item.weight[1:]
    with torch.no_grad():
        for u, rel in test.items():
            h = [i + 1 for i in train[u][-model.max_len:]]
            s = (model.encode(torch.tensor([h]))[0, -1] @ emb.T).numpy()
            s[train[u]] = -np.inf
            top = np.argsort(-s, kind="stable")[:20]
            rel_set = set(rel)
            dcg = sum(1 / math.log2(r + 2) for r, i in enumerate(top[:10]) if i in rel_set)
            idcg = sum(1 / math.log2(r + 2) for r in range(min(10, len(rel))))
            ndcg.append(dcg / idcg)
            recall.append(len(rel_set & set(top[:20].tolist())) / min(20, len(rel)))
    model.train()
    return float(np.mean(ndcg)), float(np.mean(recall))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("udata")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--heads", type=int, default=1)
    ap.add_argument("--max-len", type=int, default=200)
    ap.add_argument("--dropout", type=float, default=0.2)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--negatives", type=int, default=1)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=0)
    ap.add_argument("--all-windows", action="store_true",
                    help="train on every max_len+1 window of a history (SeqOptions::all_windows)")
    ap.add_argument("--cosine-lr", action="store_true",
                    help="cosine-decay the learning rate to 0 over the epochs (SeqOptions::cosine_lr)")
    ap.add_argument("--loss", choices=["bce", "ce"], default="bce",
                    help="bce: sampled negatives; ce: softmax over all items at non-padded positions")
    ap.add_argument("--valid", action="store_true",
                    help="train on train minus its validation tail, report the validation split")
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    train, test, n_items = load_split(a.udata)
    if a.valid:
        train, test = carve_validation(train)
    model = SasRec(n_items, a.dim, a.blocks, a.heads, a.max_len, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr, betas=(0.9, 0.98), weight_decay=a.weight_decay)
    users = [u for u in sorted(train) if len(train[u]) >= 2]
    # Training sequences, as the C++ Fit: per user the newest max_len + 1
    # events, or (--all-windows) every such window, newest first, stepping
    # by max_len.
    seqs, owner = [], []
    for u in users:
        to = len(train[u])
        while to >= 2:
            frm = max(0, to - a.max_len - 1)
            seqs.append([i + 1 for i in train[u][frm:to]])
            owner.append(u)
            if not a.all_windows or frm == 0:
                break
            to = frm + 1
    seen = {u: set(train[u]) for u in users}
    t0 = time.time()
    for epoch in range(a.epochs):
        if a.cosine_lr:
            for g in opt.param_groups:
                g["lr"] = 0.5 * a.lr * (1 + math.cos(math.pi * epoch / a.epochs))
        # As the C++ model: shuffle, sort each run of 8 batches by length
        # (less padding), shuffle the batches.
        order = list(rng.permutation(len(seqs)))
        run = 8 * a.batch_size
        for s in range(0, len(order), run):
            order[s:s + run] = sorted(order[s:s + run], key=lambda k: len(seqs[k]))
        starts = list(range(0, len(order), a.batch_size))
        starts = [starts[k] for k in rng.permutation(len(starts))]
        for s in starts:
            batch = order[s:s + a.batch_size]
            L = max(len(seqs[k]) - 1 for k in batch)
            inp = np.zeros((len(batch), L), np.int64)
            pos = np.zeros((len(batch), L), np.int64)
            neg = np.zeros((len(batch), L, a.negatives), np.int64)
            for r, k in enumerate(batch):
                u, sq = owner[k], seqs[k]
                m = len(sq) - 1
                inp[r, L - m:] = sq[:-1]
                pos[r, L - m:] = sq[1:]
                for t in range(L - m, L) if a.loss == "bce" else ():
                    for j in range(a.negatives):
                        x = 0
                        for _ in range(20):
                            x = int(rng.integers(n_items))
                            if x not in seen[u]:
                                break
                        neg[r, t, j] = x + 1
            inp, pos, neg = torch.from_numpy(inp), torch.from_numpy(pos), torch.from_numpy(neg)
            h = model.encode(inp)
            if a.loss == "ce":
                keep = pos != 0
                logits = h[keep] @ model.item.weight[1:].T
                loss = F.cross_entropy(logits, pos[keep] - 1)
                opt.zero_grad()
                loss.backward()
                opt.step()
                continue
            pl = (h * model.item(pos)).sum(-1)
            nl = (h.unsqueeze(2) * model.item(neg)).sum(-1)
            valid = (pos != 0).float()
            loss = ((F.softplus(-pl) + F.softplus(nl).sum(-1)) * valid).sum() / valid.sum().clamp_min(1)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if a.eval_every and (epoch + 1) % a.eval_every == 0:
            print(f"epoch {epoch + 1}: ndcg@10={ndcg_recall(model, train, test, n_items)[0]:.4f} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    secs = time.time() - t0
    ndcg, recall = ndcg_recall(model, train, test, n_items)
    print(f"seq reference ({'validation' if a.valid else 'test'}, loss {a.loss}, "
          f"batch {a.batch_size}, wd {a.weight_decay}): ndcg@10={ndcg:.4f} recall@20={recall:.4f} train_s={secs:.1f} "
          f"epochs={a.epochs} dim={a.dim} max_len={a.max_len} dropout={a.dropout} "
          f"negatives={a.negatives} lr={a.lr}")


if __name__ == "__main__":
    main()
