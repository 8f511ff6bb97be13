#!/usr/bin/python3
"""PyTorch baseline for one LoRA fine-tuning step (f32) on a SmolLM2-135M-shaped Llama.

Model: the one of bench_pgd_torch.py (imported from it, same weights for the same --seed):
random f32 weights (std 0.02, norm weights 1), hidden 576, 30 layers, 9 query heads, 3 kv
heads (query head h uses kv head h // 3), head_dim 64, intermediate 1536, vocab 49152, tied
embeddings (the lm_head is the embedding matrix), RMSNorm eps 1e-5, rotate-half RoPE theta
100000, causal attention, SiLU MLP, no biases. All base weights and the embedding are frozen
(requires_grad False).

LoRA as in PEFT: y = W x + scale * B (A x), scale = alpha / r = 16 / 8 = 2, dropout 0, on all
seven projections (q, k, v, o, gate, up, down) of every layer: 420 trainable tensors, 2.44 M
parameters. A [8, in] is Kaiming-uniform as PEFT (bound 1 / sqrt(in)). PEFT starts with B = 0;
here B [out, 8] is small random (std 0.01) instead, so that every gradient path (into A, and
through the adapters into the residual stream) does real, nonzero work. q|k|v and gate|up base
products are computed fused (one matrix each, as in bench_pgd_torch.py), and so are their
adapters: the A's stacked ([24, 576], [16, 576]), the B's as a block-diagonal matrix ([960, 24],
[3072, 16]); the values are those of separate adapters (the selftest uses separate ones). The
scale multiplies the [M, 8k] intermediate A x, not the [M, out] output as PEFT does (same
product, one small multiply instead of a full-size one each way).

Data: --batch sequences of --T random token ids (seeded). Loss: mean cross-entropy over the
response tokens, the last half of each sequence: tokens P..T-1, P = T // 2, predicted from rows
P-1..T-2. Logits are computed for all batch*T rows (as a Hugging Face model does), then sliced.

Timed, per step (--warmup untimed steps first, then --steps timed ones, median reported):
optimizer.zero_grad(set_to_none=True), forward (embedding lookup, 30 blocks, final norm, full
logits [batch, T, 49152], cross-entropy), loss.backward() (gradients for the LoRA A/B only;
frozen weights get none), torch.optim.AdamW.step() on the LoRA parameters (lr 1e-4, betas
0.9/0.999, eps 1e-8, weight decay 0, torch's default implementation), and loss.item().
Also timed, for reference: one plain forward under torch.no_grad() on the same batch (the same
computation as the step's forward, full logits and the loss), median of --steps after --warmup.
Untimed: weight generation, model setup, the --selftest check. Per-phase times (forward,
backward, optimizer) of every step go to stderr. Defaults: --threads 1 --batch 4 --T 128
--steps 3 --warmup 1 (about 45-55 s in all with oneDNN on a 2-core AMD EPYC, one thread).

The only line on stdout (a C benchmark parses it):
    torch_lora_step_ms=<median ms> torch_forward_ms=<median ms> min_ms=<fastest step ms>
    tokens_per_s=<batch*T / step s>
    threads=<n> batch=<b> T=<T> impl=<mkldnn|blas> torch=<version>
(one line). Everything else goes to stderr.

--serve (what `make bench` uses): after the --warmup steps, print "ready threads=<n>
impl=<impl> torch=<version>", then answer one timed request per line read from stdin: "step"
-> "step_ms=<ms> loss=<loss>", "forward" -> "forward_ms=<ms>"; "quit" or EOF ends. The C
benchmark alternates its own steps with these, so that both sides are timed under the same load
of a shared machine.

Matrix products: --impl mkldnn sends every product through oneDNN
(torch._C._nn.mkldnn_linear, whose autograd backward in torch 1.13 also runs in oneDNN, for the
input and for the weight): base projections, the LoRA A and B products, attention scores and
attention times V (a loop over sequences and kv heads), and the lm_head. The normalised input of
a projection is converted to oneDNN layout once and shared by the base and LoRA-A products.
--impl blas uses F.linear / torch.baddbmm / torch.bmm, i.e. whatever BLAS torch was built
against; Debian's torch 1.13 uses the libblas.so.3 alternative, by default the reference
(netlib) BLAS, roughly 2 GFLOP/s, an order of magnitude below oneDNN. --impl auto (default)
takes mkldnn when it is available and its forward and backward work.

--selftest (before the benchmark) checks, for each available impl, on a tiny configuration
(the real widths, first 4 layers, batch 2, T 10) that the loss and all LoRA gradients match a
naive float64 implementation (separate q/k/v/gate/up, per-sequence and per-head loops, PEFT
formula, Hugging Face style shifted labels with -100 on the prompt, F.linear and autograd):
loss and the gradients as a whole to 1e-4 relative, each gradient tensor to 1e-3 (seen:
~1e-6); exits 1 on mismatch. --profile prints torch's operator profile of one extra
(untimed) step on stderr.

Run with /usr/bin/python3 (Debian's torch + numpy).
"""
import argparse
import math
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_pgd_torch as pgd  # noqa: E402  (model constants, weights, RMSNorm/RoPE tables)
from bench_pgd_torch import (  # noqa: E402
    HIDDEN, HEADS, KV_HEADS, HEAD_DIM, INTER, VOCAB, EPS_NORM, THETA, GROUP, log)

RANK, LORA_ALPHA = 8, 16
SCALE = LORA_ALPHA / RANK
B_STD = 0.01
LR, BETAS, ADAM_EPS = 1e-4, (0.9, 0.999), 1e-8
# (out_features, in_features) of each adapted projection
SHAPES = {
    "q": (HEADS * HEAD_DIM, HIDDEN), "k": (KV_HEADS * HEAD_DIM, HIDDEN),
    "v": (KV_HEADS * HEAD_DIM, HIDDEN), "o": (HIDDEN, HEADS * HEAD_DIM),
    "gate": (INTER, HIDDEN), "up": (INTER, HIDDEN), "down": (HIDDEN, INTER),
}
SELFTEST = {"layers": 4, "batch": 2, "T": 10}


# ---------------------------------------------------------------- LoRA parameters

def init_lora(seed, n_layers):
    """Per layer {name: (A [8, in], B [out, 8])}, leaf tensors requiring grad."""
    g = torch.Generator().manual_seed(seed)
    lora = []
    for _ in range(n_layers):
        d = {}
        for name, (out_f, in_f) in SHAPES.items():
            bound = 1.0 / math.sqrt(in_f)   # kaiming_uniform_(a=sqrt(5)), as PEFT does for A
            A = (torch.rand(RANK, in_f, generator=g) * 2 - 1).mul_(bound)
            B = torch.randn(out_f, RANK, generator=g).mul_(B_STD)  # PEFT: zeros; see docstring
            d[name] = (A.requires_grad_(True), B.requires_grad_(True))
        lora.append(d)
    return lora


def lora_params(lora):
    return [t for d in lora for ab in d.values() for t in ab]


# ---------------------------------------------------------------- fast model

class LoraModel(pgd.Fast):
    """pgd.Fast (RoPE tables with the 1/8 score scale folded into q, rms, rope, causal mask
    for three stacked query heads) extended to a batch of sequences and LoRA adapters."""

    def __init__(self, batch, T, impl):
        super().__init__(T, impl)
        self.batch = batch

    def dense_in(self, x):
        """Input of a product: converted to oneDNN layout once, shared by several products."""
        return x.to_mkldnn() if self.impl == "mkldnn" else x

    def mm(self, x, w):
        """x [M, K] @ w [N, K]^T -> dense [M, N]; differentiable in x and w."""
        if self.impl == "mkldnn":
            if not x.is_mkldnn:
                x = x.to_mkldnn()
            return torch._C._nn.mkldnn_linear(x, w).to_dense()
        return F.linear(x, w)

    def adapted(self, x, w, lo, names):
        """Base product with w (fused over names, rows in that order) plus the adapters,
        PEFT's result + lora_B(lora_A(x)) * scale. For a fused w the adapters are fused as
        well: A's stacked [8k, in], B's block-diagonal [out, 8k] (the same values as separate
        adapters concatenated; two small products instead of 2k, no concatenation)."""
        if len(names) == 1:
            A, B = lo[names[0]]
        else:
            A = torch.cat([lo[n][0] for n in names])
            B = torch.block_diag(*[lo[n][1] for n in names])
        # scale applied to the [M, r] intermediate rather than the [M, out] output (same
        # product; PEFT scales the output, which costs a full-size multiply each way)
        return self.mm(x, w) + self.mm(self.mm(x, A) * SCALE, B)

    def attention(self, q, k, v):
        """q [n, 3T, 64] (three query heads per kv head stacked), k/v [n, T, 64],
        n = batch * kv heads."""
        if self.impl == "mkldnn":
            mm = torch._C._nn.mkldnn_linear
            # unbind, not q[i]: the backward of n selects would build n zero-filled
            # full-size gradients and add them up; unbind's backward is one stack
            s = torch.stack([mm(qi.to_mkldnn(), ki).to_dense() for qi, ki in zip(q.unbind(), k.unbind())])
            p = torch.softmax(s + self.mask, -1)
            vt = v.transpose(1, 2).contiguous()                    # [n, 64, T]
            return torch.stack([mm(pi.to_mkldnn(), vi).to_dense() for pi, vi in zip(p.unbind(), vt.unbind())])
        s = torch.baddbmm(self.mask, q, k.transpose(1, 2))
        return torch.bmm(torch.softmax(s, -1), v)

    def block(self, x, L, lo):
        """x [batch*T, 576] -> same; L frozen weights, lo the layer's adapters."""
        Bn, T = self.batch, self.T
        a = self.dense_in(self.rms(x, L["ln1"]))
        qkv = self.adapted(a, L["wqkv"], lo, ("q", "k", "v"))      # [B*T, 960]
        q, k, v = qkv.view(Bn, T, HEADS + 2 * KV_HEADS, HEAD_DIM).split([HEADS, KV_HEADS, KV_HEADS], 2)
        # RoPE in [B, T, heads, 64]; then heads first: q [3B, 3T, 64], k and v [3B, T, 64]
        q = self.rope(q, self.cos_q, self.sin_q).transpose(1, 2).reshape(Bn * KV_HEADS, GROUP * T, HEAD_DIM)
        k = self.rope(k, self.cos_k, self.sin_k).transpose(1, 2).reshape(Bn * KV_HEADS, T, HEAD_DIM)
        v = v.transpose(1, 2).reshape(Bn * KV_HEADS, T, HEAD_DIM)
        o = self.attention(q, k, v)                                 # [3B, 3T, 64]
        o = o.view(Bn, HEADS, T, HEAD_DIM).transpose(1, 2).reshape(Bn * T, HEADS * HEAD_DIM)
        x = x + self.adapted(self.dense_in(o), L["wo"], lo, ("o",))
        b = self.dense_in(self.rms(x, L["ln2"]))
        gate, up = self.adapted(b, L["wgu"], lo, ("gate", "up")).split(INTER, -1)
        m = self.dense_in(F.silu(gate) * up)
        return x + self.adapted(m, L["wd"], lo, ("down",))

    def loss(self, W, lora, ids):
        """ids [batch, T] -> mean cross-entropy over tokens P..T-1 of every sequence."""
        Bn, T = self.batch, self.T
        P = T // 2
        x = W["embed"][ids.reshape(-1)]                             # [B*T, 576]
        for L, lo in zip(W["layers"], lora):
            x = self.block(x, L, lo)
        logits = self.mm(self.rms(x, W["norm"]), W["embed"]).view(Bn, T, VOCAB)
        return F.cross_entropy(logits[:, P - 1:T - 1].reshape(-1, VOCAB), ids[:, P:].reshape(-1))


def train_step(model, W, lora, opt, ids, phases=None):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = model.loss(W, lora, ids)
    t1 = time.perf_counter()
    loss.backward()
    t2 = time.perf_counter()
    opt.step()
    value = loss.item()
    t3 = time.perf_counter()
    if phases is not None:
        phases.append(((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3))
    return value


def make_opt(lora):
    return torch.optim.AdamW(lora_params(lora), lr=LR, betas=BETAS, eps=ADAM_EPS, weight_decay=0.0)


# ---------------------------------------------------------------- naive reference (selftest)

def naive_loss_grads(W, lora, ids):
    """Float64: separate q/k/v/gate/up, PEFT formula per projection, loops over sequences and
    heads, explicit rotate_half, kv head h // 3, masked softmax(q k^T / 8) v, full logits,
    shifted labels with -100 on prompt tokens. Returns loss and grads in lora_params order."""
    d = torch.float64
    Bn, T = ids.shape
    P = T // 2
    pos = torch.arange(T, dtype=d)
    inv = THETA ** (-torch.arange(0, HEAD_DIM, 2, dtype=d) / HEAD_DIM)
    ang = torch.cat([pos[:, None] * inv, pos[:, None] * inv], -1)
    cos, sin = ang.cos(), ang.sin()
    causal = torch.ones(T, T, dtype=torch.bool).triu(1)
    params = [t.detach().to(d).requires_grad_(True) for t in lora_params(lora)]
    it = iter(params)
    lo64 = [{n: (next(it), next(it)) for n in SHAPES} for _ in lora]

    def rot_half(t):
        return torch.cat([-t[:, HEAD_DIM // 2:], t[:, :HEAD_DIM // 2]], -1)

    def rms(x, w):
        return x / torch.sqrt((x * x).mean(-1, keepdim=True) + EPS_NORM) * w.to(d)

    def proj(x, w, ab):                      # PEFT: base(x) + lora_B(lora_A(x)) * scaling
        A, B = ab
        return F.linear(x, w) + F.linear(F.linear(x, A), B) * SCALE

    def block(x, L, lo):                     # x [T, 576], one sequence
        wqkv = L["wqkv"].to(d)
        wq, wk, wv = wqkv[:576], wqkv[576:768], wqkv[768:]
        wg, wu = L["wgu"].to(d)[:INTER], L["wgu"].to(d)[INTER:]
        a = rms(x, L["ln1"])
        q, k, v = proj(a, wq, lo["q"]), proj(a, wk, lo["k"]), proj(a, wv, lo["v"])
        heads = []
        for hh in range(HEADS):
            kvh = hh // GROUP
            qh = q[:, hh * 64:(hh + 1) * 64]
            kh = k[:, kvh * 64:(kvh + 1) * 64]
            vh = v[:, kvh * 64:(kvh + 1) * 64]
            qh = qh * cos + rot_half(qh) * sin
            kh = kh * cos + rot_half(kh) * sin
            s = (qh @ kh.T / math.sqrt(HEAD_DIM)).masked_fill(causal, float("-inf"))
            heads.append(torch.softmax(s, -1) @ vh)
        x = x + proj(torch.cat(heads, -1), L["wo"].to(d), lo["o"])
        b = rms(x, L["ln2"])
        return x + proj(F.silu(proj(b, wg, lo["gate"])) * proj(b, wu, lo["up"]), L["wd"].to(d), lo["down"])

    emb = W["embed"].to(d)
    outs = []
    for s in range(Bn):
        x = emb[ids[s]]
        for L, lo in zip(W["layers"], lo64):
            x = block(x, L, lo)
        outs.append(rms(x, W["norm"]) @ emb.T)
    logits = torch.stack(outs)                                      # [B, T, V]
    labels = ids.clone()
    labels[:, :P] = -100
    loss = F.cross_entropy(logits[:, :-1].reshape(-1, VOCAB), labels[:, 1:].reshape(-1),
                           ignore_index=-100)
    grads = torch.autograd.grad(loss, params)
    return loss.item(), grads


def selftest(W, impls, seed):
    cfg = SELFTEST
    Ws = {"embed": W["embed"], "norm": W["norm"], "layers": W["layers"][:cfg["layers"]]}
    lora = init_lora(seed + 7, cfg["layers"])
    g = torch.Generator().manual_seed(seed + 8)
    ids = torch.randint(0, VOCAB, (cfg["batch"], cfg["T"]), generator=g)
    t0 = time.perf_counter()
    l_ref, g_ref = naive_loss_grads(Ws, lora, ids)
    log(f"selftest: naive float64 reference ({cfg['layers']} layers, batch {cfg['batch']}, "
        f"T {cfg['T']}) in {time.perf_counter() - t0:.1f}s, loss {l_ref:.8f}")
    ok_all = True
    for impl in impls:
        model = LoraModel(cfg["batch"], cfg["T"], impl)
        params = lora_params(lora)
        for p in params:
            p.grad = None
        loss = model.loss(Ws, lora, ids)
        loss.backward()
        l_fast = loss.item()
        num = sum(((p.grad.double() - r) ** 2).sum() for p, r in zip(params, g_ref)).sqrt().item()
        den = sum((r ** 2).sum() for r in g_ref).sqrt().item()
        rel = num / den
        worst = max(((p.grad.double() - r).norm() / r.norm()).item() for p, r in zip(params, g_ref))
        zero = sum(int(r.norm().item() == 0) for r in g_ref)
        l_rel = abs(l_fast - l_ref) / abs(l_ref)
        ok = l_rel < 1e-4 and rel < 1e-4 and worst < 1e-3 and zero == 0
        ok_all &= ok
        log(f"selftest impl={impl}: loss fast {l_fast:.8f} ref {l_ref:.8f} (rel {l_rel:.1e}); "
            f"LoRA grads ({len(params)} tensors) rel err {rel:.1e}, worst tensor {worst:.1e}, "
            f"zero ref grads {zero} -> {'OK' if ok else 'FAIL'}")
        for p in params:
            p.grad = None
    return ok_all


# ---------------------------------------------------------------- main

def mkldnn_works():
    if not torch.backends.mkldnn.is_available():
        return False
    try:
        x = torch.randn(3, 4, requires_grad=True)
        w = torch.randn(5, 4, requires_grad=True)
        y = torch._C._nn.mkldnn_linear(x.to_mkldnn(), w).to_dense()
        y.sum().backward()
        return x.grad is not None and w.grad is not None and torch.allclose(
            w.grad, torch.ones(5, 3) @ x.detach(), atol=1e-5)
    except RuntimeError as e:
        log("mkldnn_linear unusable, falling back to F.linear:", e)
        return False


def serve(model, W, lora, opt, ids, warmup, impl):
    """--serve: the caller (tests/bench.c) alternates its own steps with ours, so that both sides
    are timed under the same load of a shared machine. Protocol, one line each way:
    after the warm-up, "ready threads=<n> impl=<impl> torch=<version>"; then per request
    "step" -> "step_ms=<ms> loss=<loss>", "forward" -> "forward_ms=<ms>"; "quit" or EOF ends."""
    for _ in range(warmup):
        train_step(model, W, lora, opt, ids)
    print(f"ready threads={torch.get_num_threads()} impl={impl} torch={torch.__version__}", flush=True)
    for line in sys.stdin:
        cmd = line.strip()
        if cmd == "step":
            t0 = time.perf_counter()
            loss = train_step(model, W, lora, opt, ids)
            print(f"step_ms={(time.perf_counter() - t0) * 1e3:.3f} loss={loss:.6f}", flush=True)
        elif cmd == "forward":
            with torch.no_grad():
                t0 = time.perf_counter()
                model.loss(W, lora, ids).item()
                print(f"forward_ms={(time.perf_counter() - t0) * 1e3:.3f}", flush=True)
        elif cmd == "quit":
            break
        else:
            print(f"error unknown request {cmd!r}", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--T", type=int, default=128)
    ap.add_argument("--steps", type=int, default=3, help="timed steps (and timed forwards)")
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1234)
    ap.add_argument("--impl", choices=["auto", "mkldnn", "blas"], default="auto")
    ap.add_argument("--selftest", action="store_true",
                    help="first check loss and LoRA gradients against a naive float64 model")
    ap.add_argument("--profile", action="store_true",
                    help="print an operator profile of one extra untimed step on stderr")
    ap.add_argument("--serve", action="store_true",
                    help="after the warm-up steps, time one step per line 'step' (or one no_grad forward per "
                         "line 'forward') read from stdin, answering each on stdout; stop at 'quit' or EOF")
    a = ap.parse_args()
    if a.T < 2 or a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.threads < 1:
        ap.error("need T >= 2, batch >= 1, steps >= 1, warmup >= 0, threads >= 1")
    T, Bn = a.T, a.batch

    t_start = time.perf_counter()
    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.set_grad_enabled(True)

    have_mkldnn = mkldnn_works()
    impl = a.impl
    if impl == "auto":
        impl = "mkldnn" if have_mkldnn else "blas"
    elif impl == "mkldnn" and not have_mkldnn:
        log("--impl mkldnn: oneDNN linear (forward and backward) is not usable in this build")
        sys.exit(2)

    W = pgd.init_weights(a.seed)
    t_init = time.perf_counter()

    if a.selftest:
        if not selftest(W, ["mkldnn", "blas"] if have_mkldnn else ["blas"], a.seed):
            sys.exit(1)
    t_self = time.perf_counter()

    lora = init_lora(a.seed + 2, len(W["layers"]))
    n_par = sum(p.numel() for p in lora_params(lora))
    g = torch.Generator().manual_seed(a.seed + 1)
    ids = torch.randint(0, VOCAB, (Bn, T), generator=g)
    model = LoraModel(Bn, T, impl)
    opt = make_opt(lora)

    if a.serve:
        serve(model, W, lora, opt, ids, a.warmup, impl)
        return
    times, phases, losses = [], [], []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        losses.append(train_step(model, W, lora, opt, ids, phases))
        dt = (time.perf_counter() - t0) * 1e3
        if i >= a.warmup:
            times.append(dt)
    t_steps = time.perf_counter()

    ftimes = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            model.loss(W, lora, ids).item()
            dt = (time.perf_counter() - t0) * 1e3
            if i >= a.warmup:
                ftimes.append(dt)
    t_end = time.perf_counter()

    med, fmed = statistics.median(times), statistics.median(ftimes)
    log(f"impl={impl} threads={torch.get_num_threads()} batch={Bn} T={T} response tokens/seq="
        f"{T - T // 2} LoRA params={n_par} ({len(lora_params(lora))} tensors) "
        f"init={t_init - t_start:.2f}s selftest={t_self - t_init:.2f}s "
        f"steps={t_steps - t_self:.2f}s forwards={t_end - t_steps:.2f}s total={t_end - t_start:.2f}s")
    log("step ms: " + " ".join(f"{t:.1f}" for t in times)
        + f"  (min {min(times):.1f}, median {med:.1f})")
    log("phases ms (forward/backward/optimizer) per step: "
        + "  ".join(f"{f:.0f}/{b:.0f}/{o:.0f}" for f, b, o in phases))
    log("no_grad forward ms: " + " ".join(f"{t:.1f}" for t in ftimes)
        + f"  (min {min(ftimes):.1f}, median {fmed:.1f})")
    log("loss per step: " + " ".join(f"{l:.6f}" for l in losses))

    if a.profile:
        from torch.autograd import profiler
        with profiler.profile() as prof:
            train_step(model, W, lora, opt, ids)
        log(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))

    print(f"torch_lora_step_ms={med:.3f} torch_forward_ms={fmed:.3f} min_ms={min(times):.3f} "
          f"tokens_per_s={Bn * T / (med / 1e3):.1f} threads={torch.get_num_threads()} "
          f"batch={Bn} T={T} impl={impl} torch={torch.__version__}")


if __name__ == "__main__":
    main()
