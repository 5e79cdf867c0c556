"""The PyTorch peer of `pnpm bench`: the paper model's full-batch training step in plain torch.

Run with Debian's /usr/bin/python3 (python3-torch, and libopenblas0 for a fast BLAS):

    OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 /usr/bin/python3 benchmarks/torch_step.py --threads 2 --steps 20

Prints one JSON object on stdout: torch's version, the BLAS it really loaded (read from /proc/self/maps),
the alternative libblas.so.3 resolves to, and rows of step times (ms) and matmul GFLOP/s.

The model is the one of Nanda et al. (2023), as @grok/transformer builds it: one layer, d_model 128, 4 heads of
32, d_mlp 512 (ReLU, with biases), no LayerNorm, no attention biases, causal attention with scale 1/sqrt(32),
vocabulary p + 1 = 114 in, p = 113 out. Init: normal with std 1/sqrt(d_model) for every weight but W_U
(std 1/sqrt(d_vocab)); biases 0. The batch is a random 30 % of the p^2 pairs (3,830 for p = 113), tokens
[a, b, =]. Loss: cross-entropy at the last position, log-softmax in float64. AdamW(lr 1e-3, betas (0.9, 0.98),
weight_decay 1).

Variants: 'full' computes all 3 positions and reads the loss at the last; 'last' computes keys and values at
every position but queries, attention output, MLP and unembedding at the last position only (the same loss).
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import torch
import torch.nn as nn


class OneLayer(nn.Module):
    def __init__(self, p=113, d_model=128, n_heads=4, d_head=32, d_mlp=512, n_ctx=3):
        super().__init__()
        d_vocab = p + 1
        s = 1 / math.sqrt(d_model)

        def normal(*shape, std=s):
            return nn.Parameter(torch.randn(*shape) * std)

        self.W_E = normal(d_vocab, d_model)  # [vocab, d]
        self.W_pos = normal(n_ctx, d_model)  # [pos, d]
        self.W_Q = normal(n_heads, d_model, d_head)  # [h, d, dh]
        self.W_K = normal(n_heads, d_model, d_head)
        self.W_V = normal(n_heads, d_model, d_head)
        self.W_O = normal(n_heads, d_head, d_model)  # [h, dh, d]
        self.W_in = normal(d_model, d_mlp)
        self.b_in = nn.Parameter(torch.zeros(d_mlp))
        self.W_out = normal(d_mlp, d_model)  # std 1/sqrt(d_model), as the paper (sic)
        self.b_out = nn.Parameter(torch.zeros(d_model))
        self.W_U = normal(d_model, p, std=1 / math.sqrt(d_vocab))
        self.n_heads, self.d_head, self.d_model = n_heads, d_head, d_model
        self.register_buffer('mask', torch.tril(torch.ones(n_ctx, n_ctx, dtype=torch.bool)))

    def forward(self, tokens, last_only):
        B, T = tokens.shape
        H, dh, d = self.n_heads, self.d_head, self.d_model
        x = self.W_E[tokens] + self.W_pos[:T]  # [B, T, d]
        # Projections as one matmul each: W_* [h, d, dh] -> [d, h*dh].
        WK = self.W_K.permute(1, 0, 2).reshape(d, H * dh)
        WV = self.W_V.permute(1, 0, 2).reshape(d, H * dh)
        WQ = self.W_Q.permute(1, 0, 2).reshape(d, H * dh)
        WO = self.W_O.reshape(H * dh, d)
        k = (x @ WK).view(B, T, H, dh).transpose(1, 2)  # [B, h, T, dh]
        v = (x @ WV).view(B, T, H, dh).transpose(1, 2)
        if last_only:
            xq = x[:, -1:]  # [B, 1, d]
            q = (xq @ WQ).view(B, 1, H, dh).transpose(1, 2)  # [B, h, 1, dh]
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)  # [B, h, 1, T]; the last row sees everything
        else:
            xq = x
            q = (xq @ WQ).view(B, T, H, dh).transpose(1, 2)  # [B, h, T, dh]
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(dh)  # [B, h, T, T]
            scores = scores.masked_fill(~self.mask[:T, :T], float('-inf'))
        attn = scores.softmax(dim=-1)
        z = (attn @ v).transpose(1, 2).reshape(B, -1, H * dh)  # [B, Tq, h*dh]
        resid = xq + z @ WO  # [B, Tq, d]
        h = torch.relu(resid @ self.W_in + self.b_in)  # [B, Tq, d_mlp]
        resid = resid + h @ self.W_out + self.b_out
        logits = resid @ self.W_U  # [B, Tq, p]
        return logits[:, -1]  # [B, p]


def loaded_blas():
    """Shared libraries with 'blas' in their path that this process has mapped."""
    libs = set()
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ''
                if 'blas' in path.lower() or 'lapack' in path.lower():
                    libs.add(path)
    except OSError:
        pass
    return sorted(libs)


def blas_info():
    alt = '/usr/lib/x86_64-linux-gnu/libblas.so.3'
    resolved = os.path.realpath(alt) if os.path.exists(alt) else None
    cfg = torch.__config__.show()
    blas_line = next((part.strip() for part in cfg.split(',') if 'BLAS_INFO' in part), None)
    loaded = loaded_blas()
    if any('openblas' in lib for lib in loaded):
        name = 'OpenBLAS'
    elif any('mkl' in lib for lib in loaded):
        name = 'MKL'
    elif any('/blas/' in lib for lib in loaded):
        name = 'reference BLAS (slow: install libopenblas0)'
    else:
        name = 'unknown'
    return {'name': name, 'loaded': loaded, 'libblas.so.3': resolved, 'build': blas_line}


def time_matmul(shape, reps):
    M, K, N = shape
    a, b = torch.randn(M, K), torch.randn(K, N)
    a @ b
    best = min(timed(lambda: a @ b) for _ in range(reps))
    return 2 * M * K * N / best / 1e9, best * 1e3


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--threads', type=int, default=1)
    ap.add_argument('--steps', type=int, default=20)
    ap.add_argument('--warmup', type=int, default=3)
    ap.add_argument('--variants', default='last,full')
    ap.add_argument('--p', type=int, default=113)
    ap.add_argument('--frac', type=float, default=0.3)
    ap.add_argument('--matmul-reps', type=int, default=10)
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    p = args.p
    n_train = math.floor(args.frac * p * p)
    pairs = torch.randperm(p * p)[:n_train]
    a, b = pairs // p, pairs % p
    tokens = torch.stack([a, b, torch.full_like(a, p)], dim=1)  # [n, 3]
    labels = (a + b) % p  # [n]

    rows = []
    for variant in args.variants.split(','):
        torch.manual_seed(0)
        model = OneLayer(p)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.98), weight_decay=1.0)
        last_only = variant == 'last'

        def step():
            logits = model(tokens, last_only)
            logp = torch.log_softmax(logits.double(), dim=-1)  # float64 log-sum-exp
            loss = -logp.gather(1, labels[:, None]).mean()
            loss.backward()
            opt.step()
            opt.zero_grad(set_to_none=False)
            return loss

        for _ in range(args.warmup):
            step()
        times = [timed(step) * 1e3 for _ in range(args.steps)]
        rows.append({'suite': 'step', 'variant': variant, 'threads': args.threads, 'batch': n_train,
                     'msMedian': statistics.median(times), 'msMin': min(times), 'steps': len(times)})

    for shape in [(n_train, 128, 512), (n_train, 512, 128), (n_train, 128, 128)]:
        if args.matmul_reps <= 0:
            break
        gflops, ms = time_matmul(shape, args.matmul_reps)
        rows.append({'suite': 'matmul', 'threads': args.threads, 'shape': f'{shape[0]}x{shape[1]}·{shape[1]}x{shape[2]}',
                     'gflops': gflops, 'ms': ms})

    print(json.dumps({'torch': torch.__version__, 'python': sys.version.split()[0], 'blas': blas_info(),
                      'threads': torch.get_num_threads(), 'rows': rows}))


if __name__ == '__main__':
    main()
