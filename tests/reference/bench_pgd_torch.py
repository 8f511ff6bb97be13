#!/usr/bin/python3
"""PyTorch baseline for one PGD step at the middle layer of a SmolLM2-135M-shaped Llama.

Random f32 weights (std 0.02, norm weights 1): hidden 576, 30 layers, 9 query heads,
3 kv heads (query head h uses kv head h // 3), head_dim 64, intermediate 1536, vocab 49152,
tied embeddings, RMSNorm eps 1e-5, rotate-half RoPE theta 100000, causal attention, SiLU MLP,
no biases.

Untimed: a clean forward of blocks 0..15 gives the residual h [T, 576] entering block 16.
Timed (one PGD step): x = h + delta (delta [P, 576], requires_grad, on the first P rows),
blocks 16..29, final norm, logits on rows T-5..T-2 only (predicting ids T-4..T-1), mean
cross-entropy, gradient with respect to delta only (no weight requires grad), then
delta = clamp(delta - alpha * sign(grad), -eps, eps).

The only line on stdout (the C benchmark parses it):
    torch_pgd_step_ms=<median ms> min_ms=<fastest step ms> threads=<n> T=<T> torch=<version>
Everything else goes to stderr.

--serve (what `make bench` uses): after the --warmup steps, print "ready threads=<n>
impl=<impl> torch=<version>", then time one step per line "step" read from stdin and answer
"step_ms=<ms> loss=<loss>"; any other line or EOF ends. The C benchmark alternates its own
steps with these, so that both sides are timed under the same load of a shared machine.

Matrix products: --impl mkldnn calls oneDNN (torch._C._nn.mkldnn_linear, the op behind
torch.utils.mkldnn, with autograd support) for every product, projections and attention;
--impl blas uses F.linear / torch.baddbmm / torch.bmm, which go to whatever BLAS torch was
built against. Debian's torch 1.13 is built with BLAS_INFO=generic, i.e. the libblas.so.3
alternative, which by default is the unoptimised reference (netlib) BLAS: roughly 2 GFLOP/s,
an order of magnitude below oneDNN on the same machine. --impl auto (default) takes mkldnn
when it is available and works, so the baseline is the fastest plain PyTorch on this build.
--selftest compares the fast path against a naive float64 implementation of the same model.

Run with /usr/bin/python3 (Debian's torch + numpy).
"""
import argparse
import math
import statistics
import sys
import time

import torch
import torch.nn.functional as F

HIDDEN, LAYERS, HEADS, KV_HEADS, HEAD_DIM = 576, 30, 9, 3, 64
INTER, VOCAB, EPS_NORM, THETA = 1536, 49152, 1e-5, 100000.0
GROUP = HEADS // KV_HEADS          # query heads per kv head
START = LAYERS // 2 + 1            # 16: h = output of block 15 (0-based), PGD runs blocks 16..29
N_TARGET = 4


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- weights

def init_weights(seed):
    """Random weights, std 0.02; q|k|v and gate|up stored fused (same distribution as
    separate matrices). Norm weights are ones."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape):
        return torch.randn(*shape, generator=g).mul_(0.02)

    qkv_out = (HEADS + 2 * KV_HEADS) * HEAD_DIM
    layers = []
    for _ in range(LAYERS):
        layers.append({
            "ln1": torch.ones(HIDDEN),
            "wqkv": rnd(qkv_out, HIDDEN),          # rows: q (576) | k (192) | v (192)
            "wo": rnd(HIDDEN, HEADS * HEAD_DIM),
            "ln2": torch.ones(HIDDEN),
            "wgu": rnd(2 * INTER, HIDDEN),         # rows: gate (1536) | up (1536)
            "wd": rnd(HIDDEN, INTER),
        })
    embed = rnd(VOCAB, HIDDEN)
    return {"embed": embed, "layers": layers, "norm": torch.ones(HIDDEN)}


# ---------------------------------------------------------------- fast model

def mkldnn_linear(x, w):
    """x [M, K] @ w[N, K]^T through oneDNN; differentiable in x and w."""
    return torch._C._nn.mkldnn_linear(x.to_mkldnn(), w).to_dense()


class Fast:
    def __init__(self, T, impl):
        self.T, self.impl = T, impl
        self.lin = mkldnn_linear if impl == "mkldnn" else F.linear
        pos = torch.arange(T, dtype=torch.float64)
        inv = THETA ** (-torch.arange(0, HEAD_DIM, 2, dtype=torch.float64) / HEAD_DIM)
        ang = pos[:, None] * inv[None, :]                          # [T, 32]
        cos = torch.cat([ang.cos(), ang.cos()], -1)                # [T, 64]
        sin = torch.cat([-ang.sin(), ang.sin()], -1)               # sign of rotate_half folded in
        # queries also carry the 1/sqrt(64) = 1/8 score scale (a power of two: exact)
        self.cos_k, self.sin_k = cos[:, None].float(), sin[:, None].float()  # [T, 1, 64]
        self.cos_q, self.sin_q = (cos[:, None] / 8).float(), (sin[:, None] / 8).float()
        causal = torch.full((T, T), float("-inf")).triu_(1)
        self.mask = causal.repeat(GROUP, 1)                        # [3T, T]: rows of 3 heads

    @staticmethod
    def rms(x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS_NORM) * w

    @staticmethod
    def rope(x, cos, sin):                                         # x [T, H, 64]
        half = HEAD_DIM // 2
        return x * cos + torch.cat([x[..., half:], x[..., :half]], -1) * sin

    def attention(self, q, k, v):
        """q [3, 3T, 64] (three query heads per kv head, stacked), k/v [3, T, 64]."""
        if self.impl == "mkldnn":
            s = torch.stack([mkldnn_linear(q[g], k[g]) for g in range(KV_HEADS)])
            p = torch.softmax(s + self.mask, -1)
            vt = v.transpose(1, 2).contiguous()                    # [3, 64, T]
            return torch.stack([mkldnn_linear(p[g], vt[g]) for g in range(KV_HEADS)])
        s = torch.baddbmm(self.mask, q, k.transpose(1, 2))
        return torch.bmm(torch.softmax(s, -1), v)

    def block(self, x, L):
        T = self.T
        qkv = self.lin(self.rms(x, L["ln1"]), L["wqkv"])           # [T, 960]
        q, k, v = qkv.view(T, HEADS + 2 * KV_HEADS, HEAD_DIM).split([HEADS, KV_HEADS, KV_HEADS], 1)
        # RoPE in [T, heads, 64] layout, then heads first: q [3, 3T, 64], k and v [3, T, 64]
        q = self.rope(q, self.cos_q, self.sin_q).transpose(0, 1).reshape(KV_HEADS, GROUP * T, HEAD_DIM)
        k = self.rope(k, self.cos_k, self.sin_k).transpose(0, 1).contiguous()
        o = self.attention(q, k, v.transpose(0, 1).contiguous())  # [3, 3T, 64]
        o = o.view(HEADS, T, HEAD_DIM).transpose(0, 1).reshape(T, HEADS * HEAD_DIM)
        x = x + self.lin(o, L["wo"])
        gate, up = self.lin(self.rms(x, L["ln2"]), L["wgu"]).split(INTER, -1)
        return x + self.lin(F.silu(gate) * up, L["wd"])

    def prefix(self, W, ids):
        """Clean residual entering block START (untimed)."""
        with torch.no_grad():
            x = W["embed"][ids]
            for L in W["layers"][:START]:
                x = self.block(x, L)
        return x

    def loss(self, W, h, delta, targets):
        T, P = self.T, delta.shape[0]
        x = torch.cat([h[:P] + delta, h[P:]]) if P < T else h + delta
        for L in W["layers"][START:]:
            x = self.block(x, L)
        rows = self.rms(x[T - N_TARGET - 1:T - 1], W["norm"])     # rows T-5..T-2
        logits = self.lin(rows, W["embed"])                        # [4, vocab]
        return F.cross_entropy(logits, targets)


def pgd_step(model, W, h, delta, targets, alpha, eps):
    delta.requires_grad_(True)
    loss = model.loss(W, h, delta, targets)
    (grad,) = torch.autograd.grad(loss, delta)
    with torch.no_grad():
        new = (delta - alpha * grad.sign()).clamp_(-eps, eps)
    return new, loss.item(), grad


# ---------------------------------------------------------------- naive reference (selftest)

def naive_loss(W, ids, P, delta, targets):
    """Straightforward float64 implementation: separate q/k/v/gate/up, per-head loop,
    explicit rotate_half, kv head h // 3, masked softmax(q k^T / 8) v."""
    d = torch.float64
    T = ids.shape[0]
    pos = torch.arange(T, dtype=d)
    inv = THETA ** (-torch.arange(0, HEAD_DIM, 2, dtype=d) / HEAD_DIM)
    ang = torch.cat([pos[:, None] * inv, pos[:, None] * inv], -1)
    cos, sin = ang.cos(), ang.sin()

    def rot_half(t):
        return torch.cat([-t[:, HEAD_DIM // 2:], t[:, :HEAD_DIM // 2]], -1)

    def rms(x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + EPS_NORM) * w.to(d)

    def block(x, L):
        wqkv = L["wqkv"].to(d)
        wq, wk, wv = wqkv[:576], wqkv[576:768], wqkv[768:]
        wg, wu = L["wgu"].to(d)[:INTER], L["wgu"].to(d)[INTER:]
        a = rms(x, L["ln1"])
        q, k, v = a @ wq.T, a @ wk.T, a @ wv.T
        heads = []
        for hh in range(HEADS):
            kvh = hh // GROUP
            qh = q[:, hh * 64:(hh + 1) * 64]
            kh = k[:, kvh * 64:(kvh + 1) * 64]
            vh = v[:, kvh * 64:(kvh + 1) * 64]
            qh = qh * cos + rot_half(qh) * sin
            kh = kh * cos + rot_half(kh) * sin
            s = qh @ kh.T / math.sqrt(HEAD_DIM)
            s = s.masked_fill(torch.ones(T, T, dtype=torch.bool).triu(1), float("-inf"))
            heads.append(torch.softmax(s, -1) @ vh)
        x = x + torch.cat(heads, -1) @ L["wo"].to(d).T
        b = rms(x, L["ln2"])
        return x + (F.silu(b @ wg.T) * (b @ wu.T)) @ L["wd"].to(d).T

    with torch.no_grad():
        x = W["embed"].to(d)[ids]
        for L in W["layers"][:START]:
            x = block(x, L)
    delta = delta.detach().to(d).requires_grad_(True)
    x = torch.cat([x[:P] + delta, x[P:]])
    for L in W["layers"][START:]:
        x = block(x, L)
    logits = rms(x[T - N_TARGET - 1:T - 1], W["norm"]) @ W["embed"].to(d).T
    loss = F.cross_entropy(logits, targets)
    (grad,) = torch.autograd.grad(loss, delta)
    return loss.item(), grad


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--T", type=int, default=64)
    ap.add_argument("--P", type=int, default=None, help="perturbed prompt rows (default T-4)")
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--alpha", type=float, default=0.01)
    ap.add_argument("--eps", type=float, default=0.05)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--impl", choices=["auto", "mkldnn", "blas"], default="auto")
    ap.add_argument("--selftest", action="store_true",
                    help="also check the fast path against a naive float64 model (slow)")
    ap.add_argument("--serve", action="store_true",
                    help="after the warm-up steps, time one step per line 'step' read from stdin, answering "
                         "each on stdout ('step_ms=<ms> loss=<loss>'); stop at 'quit' or EOF")
    a = ap.parse_args()
    T = a.T
    P = T - N_TARGET if a.P is None else a.P
    if T < N_TARGET + 1 or not 1 <= P <= T or a.reps < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("need T >= 5, 1 <= P <= T, reps >= 1, warmup >= 0, threads >= 1")

    t_start = time.perf_counter()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.set_grad_enabled(True)

    impl = a.impl
    if impl == "auto":
        impl = "blas"
        if torch.backends.mkldnn.is_available():
            try:
                x = torch.randn(3, 4, requires_grad=True)
                mkldnn_linear(x, torch.randn(5, 4)).sum().backward()
                impl = "mkldnn"
            except RuntimeError as e:
                log("mkldnn_linear unusable, falling back to F.linear:", e)

    W = init_weights(a.seed)
    g = torch.Generator().manual_seed(a.seed + 1)
    ids = torch.randint(0, VOCAB, (T,), generator=g)
    targets = ids[T - N_TARGET:]
    t_init = time.perf_counter()

    model = Fast(T, impl)
    h = model.prefix(W, ids)
    t_prefix = time.perf_counter()

    delta = torch.zeros(P, HIDDEN)
    if a.serve:  # the caller (tests/bench.c) alternates its steps with ours, under the same load
        for _ in range(a.warmup):
            delta, _, _ = pgd_step(model, W, h, delta, targets, a.alpha, a.eps)
        print(f"ready threads={torch.get_num_threads()} impl={impl} torch={torch.__version__}", flush=True)
        for line in sys.stdin:
            if line.strip() != "step":
                break
            t0 = time.perf_counter()
            delta, loss, _ = pgd_step(model, W, h, delta, targets, a.alpha, a.eps)
            print(f"step_ms={(time.perf_counter() - t0) * 1e3:.3f} loss={loss:.6f}", flush=True)
        return
    times, losses = [], []
    for i in range(a.warmup + a.reps):
        t0 = time.perf_counter()
        delta, loss, _ = pgd_step(model, W, h, delta, targets, a.alpha, a.eps)
        dt = (time.perf_counter() - t0) * 1e3
        losses.append(loss)
        if i >= a.warmup:
            times.append(dt)
    med = statistics.median(times)
    t_end = time.perf_counter()

    log(f"impl={impl} threads={torch.get_num_threads()} T={T} P={P} "
        f"init={t_init - t_start:.2f}s prefix={t_prefix - t_init:.2f}s "
        f"steps={t_end - t_prefix:.2f}s total={t_end - t_start:.2f}s")
    log("step ms: " + " ".join(f"{t:.1f}" for t in times)
        + f"  (min {min(times):.1f}, median {med:.1f})")
    log("loss per step: " + " ".join(f"{l:.5f}" for l in losses))

    if a.selftest:
        d0 = torch.randn(P, HIDDEN, generator=g).mul_(0.01)
        _, l_fast, g_fast = pgd_step(model, W, h, d0.clone(), targets, a.alpha, a.eps)
        l_ref, g_ref = naive_loss(W, ids, P, d0, targets)
        rel = ((g_fast.double() - g_ref).norm() / g_ref.norm()).item()
        sign_agree = (g_fast.sign() == g_ref.sign().float()).float().mean().item()
        ok = abs(l_fast - l_ref) < 1e-4 * max(1.0, abs(l_ref)) and rel < 1e-3
        log(f"selftest impl={impl}: loss fast {l_fast:.7f} ref {l_ref:.7f}; "
            f"grad rel err {rel:.2e}; sign agreement {sign_agree:.5f} -> {'OK' if ok else 'FAIL'}")
        if not ok:
            sys.exit(1)

    print(f"torch_pgd_step_ms={med:.3f} min_ms={min(times):.3f} threads={torch.get_num_threads()} T={T} "
          f"torch={torch.__version__}")


if __name__ == "__main__":
    main()
