#!/usr/bin/python3
"""Gradient goldens for the engine fixtures: tests/fixtures/engine/<NAME>/grad.safetensors.

What it does
  For each model folder written by make_engine_fixtures.py it reads the weights ACTUALLY ON DISK
  (decoded to float64, BF16 included) and the token ids stored in golden.safetensors (T = 24),
  runs the float64 forward pass of make_engine_fixtures.py (imported, not copied: same rmsnorm,
  attention, mlp) with a zero tensor (requires_grad) added at every hook site, and uses torch
  autograd to get, in float64:
    * loss  = mean over the 8 targets of -log softmax(logits[r])[ids[r + 1]], r = K-1 .. T-2,
              K = 16 (natural log), i.e. predicting ids[16..23] from logit rows 15..22;
    * grad.<site> = d loss / d (activation at that site) for embed and every layer's
              resid_pre, attn_out, resid_mid, mlp_out, resid_post ([T, d] each);
    * wgrad.<hf name> = d loss / d weight, for every tensor of the checkpoint (the f32 "sharp"
              models only); for tied models the embedding gradient is the total (lookup + lm_head);
    * loss2 = sum over rows r = 20..23 of logits[r] . c[r - 20], with c = numpy default_rng(7)
              standard_normal((4, V)) rounded to float32 (the stored loss2_coef; loss2 and grad2
              are computed from exactly the stored coefficients), and grad2.embed = d loss2 / d embed.
  Everything is stored as F32 with the writer of make_engine_fixtures.py; the tensors are defined
  in tests/fixtures/engine/README.md ("Gradient goldens").

  Self-checks (asserts; the script fails loudly):
    * the hooked forward gives exactly the logits of make_engine_fixtures.forward, and they round
      to the same F32 bytes as the stored golden logits (so the folder and the generator agree);
    * the cross-entropy matches a hand-written log-sum-exp version to 1e-12;
    * central finite differences in float64 (step 1e-5) of loss w.r.t. the embed site on 6
      random coordinates (and of loss2 on 4, and of loss w.r.t. 3 weight entries per sharp
      model) agree with autograd to a relative error < 1e-6;
    * structural identities: grad.embed = grad.blocks.0.resid_pre, grad.attn_out = grad.resid_mid,
      grad.mlp_out = grad.resid_post, grad.blocks.l.resid_post = grad.blocks.(l+1).resid_pre
      (bit for bit); row T-1 of every loss site gradient is exactly 0 (causality);
      wgrad.lm_head.weight = dlogits^T final_norm (analytic softmax gradient); the embedding
      gradient equals the scatter-add of grad.embed over ids (+ the lm_head term when tied);
    * files are read back and compared bit for bit.

How to rerun (from the repository root; needs Debian's /usr/bin/python3 with torch + numpy):
    /usr/bin/python3 tests/reference/make_grad_fixtures.py
  Deterministic (single thread, float64, fixed seeds); rerunning rewrites the same bytes.
  NOTE: make_engine_fixtures.py empties each model folder before rewriting it, which deletes
  grad.safetensors; after regenerating the engine fixtures, run this script again.
"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_engine_fixtures as mef  # noqa: E402  (main() is guarded; importing writes nothing)

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

OUT = mef.OUT
K = 16                      # loss over targets ids[K..T-1], predicted from logit rows K-1..T-2
LOSS2_ROWS = (20, 24)       # loss2 rows 20, 21, 22, 23
LOSS2_SEED = 7
FD_STEP = 1e-5
FD_TOL = 1e-6
SITES = ("resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post")
MODELS = ("llama_gqa", "llama3_rope", "llama_headdim", "mistral_sw", "qwen2_bias", "qwen2_swa",
          "llama_sharded", "llama_bf16", "llama_moderate", "qwen2_moderate")
WGRAD_MODELS = ("llama_gqa", "llama3_rope", "llama_headdim", "mistral_sw", "qwen2_bias",
                "qwen2_swa", "llama_sharded")


def site_names(cfg):
    return ["embed"] + ["blocks.%d.%s" % (l, s) for l in range(cfg.L) for s in SITES]


def forward_hooked(cfg, W, ids, Z):
    """make_engine_fixtures.forward with Z[site] added to the activation at every hook site.

    Each site's value is the tensor everything downstream reads, so d loss / d Z[site] is the
    gradient at that site. With Z all zero the values are exactly those of mef.forward."""
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    pos = np.arange(ids.shape[0])
    eps = cfg.eps
    h = W["model.embed_tokens.weight"][ids] + Z["embed"]
    for l in range(cfg.L):
        p = "model.layers.%d." % l
        s = "blocks.%d." % l
        h = h + Z[s + "resid_pre"]
        xn = mef.rmsnorm(h, W[p + "input_layernorm.weight"], eps)
        a = mef.attention(cfg, W, l, xn, pos) + Z[s + "attn_out"]
        h = (h + a) + Z[s + "resid_mid"]
        xn = mef.rmsnorm(h, W[p + "post_attention_layernorm.weight"], eps)
        m = mef.mlp(cfg, W, l, xn) + Z[s + "mlp_out"]
        h = (h + m) + Z[s + "resid_post"]
    hn = mef.rmsnorm(h, W["model.norm.weight"], eps)
    lm = W["model.embed_tokens.weight"] if cfg.tie else W["lm_head.weight"]
    return hn @ lm.T, hn


def loss_ce(logits, ids_t):
    T = logits.shape[0]
    return torch.nn.functional.cross_entropy(logits[K - 1:T - 1], ids_t[K:T], reduction="mean")


def loss_2(logits, coef):
    return (logits[LOSS2_ROWS[0]:LOSS2_ROWS[1]] * coef).sum()


def zeros(cfg, T, grad):
    return {s: torch.zeros(T, cfg.d, requires_grad=grad) for s in site_names(cfg)}


def central_diff(f, x, idx):
    """(f(x + h e) - f(x - h e)) / 2h, perturbing x[idx] in place (float64)."""
    with torch.no_grad():
        x0 = float(x[idx])
        x[idx] = x0 + FD_STEP
        fp = float(f())
        x[idx] = x0 - FD_STEP
        fm = float(f())
        x[idx] = x0
    return (fp - fm) / (2 * FD_STEP)


def pick(rng, g, n, rows=None):
    """n distinct random coordinates of g whose |g| >= 1e-2 max|g| (relative error is then
    meaningful), optionally restricted to the given rows."""
    a = g.abs().numpy()
    ok = a >= 1e-2 * a.max()
    if rows is not None:
        mask = np.zeros_like(ok)
        mask[rows] = True
        ok &= mask
    cand = np.argwhere(ok)
    sel = rng.choice(len(cand), size=n, replace=False)
    return [tuple(int(i) for i in cand[k]) for k in sorted(sel)]


def build(name, model_index):
    folder = os.path.join(OUT, name)
    cfg, W, raw = mef.load_model(folder)
    gold, gmeta = mef.read_safetensors(os.path.join(folder, "golden.safetensors"))
    assert gmeta["model"] == name
    ids = mef.decode(*gold["ids"])
    T = len(ids)
    assert T == mef.T_MAIN == 24 and K == 16
    ids_t = torch.as_tensor(ids)
    want_w = name in WGRAD_MODELS
    if want_w:
        assert all(v[0] == "F32" for v in raw.values()), name

    # ---- forward agreement with the engine generator and the stored golden
    with torch.no_grad():
        lg0, _ = forward_hooked(cfg, W, ids, zeros(cfg, T, False))
        ref = mef.forward(cfg, W, ids)["logits"]
    assert torch.equal(lg0, ref), name
    assert mef.as_f32(lg0).raw == gold["logits"][2], name

    # ---- loss 1: sites + weights
    Z = zeros(cfg, T, True)
    Wg = {n: v.clone().requires_grad_(want_w) for n, v in W.items()}
    logits, hn = forward_hooked(cfg, Wg, ids, Z)
    loss = loss_ce(logits, ids_t)
    with torch.no_grad():
        rows = logits[K - 1:T - 1]
        lse = torch.logsumexp(rows, dim=-1)
        loss_hand = (lse - rows[torch.arange(T - K), ids_t[K:T]]).mean()
    assert abs(float(loss) - float(loss_hand)) < 1e-12, name
    snames = site_names(cfg)
    wnames = sorted(Wg) if want_w else []
    gl = torch.autograd.grad(loss, [Z[s] for s in snames] + [Wg[n] for n in wnames])
    gsite = dict(zip(snames, gl[:len(snames)]))
    gw = dict(zip(wnames, gl[len(snames):]))

    # structural identities of the site gradients
    assert torch.equal(gsite["embed"], gsite["blocks.0.resid_pre"])
    for l in range(cfg.L):
        s = "blocks.%d." % l
        assert torch.equal(gsite[s + "attn_out"], gsite[s + "resid_mid"])
        assert torch.equal(gsite[s + "mlp_out"], gsite[s + "resid_post"])
        if l + 1 < cfg.L:
            assert torch.equal(gsite[s + "resid_post"], gsite["blocks.%d.resid_pre" % (l + 1)])
    for s in snames:
        assert torch.all(gsite[s][T - 1] == 0), (name, s)   # row T-1 feeds no used logit
        assert torch.all(torch.isfinite(gsite[s]))

    # analytic checks of the weight gradients
    with torch.no_grad():
        dlog = torch.zeros_like(logits)
        sm = torch.softmax(logits[K - 1:T - 1], dim=-1)
        sm[torch.arange(T - K), ids_t[K:T]] -= 1.0
        dlog[K - 1:T - 1] = sm / (T - K)
        lm_term = dlog.T @ hn
        scat = torch.zeros_like(W["model.embed_tokens.weight"])
        scat.index_add_(0, ids_t, gsite["embed"])
    if want_w:
        assert set(gw) == set(W)
        for n in gw:
            assert gw[n].shape == W[n].shape and torch.all(torch.isfinite(gw[n])), n
        if cfg.tie:
            e_want = scat + lm_term
        else:
            e_want = scat
            d = float((gw["lm_head.weight"] - lm_term).abs().max())
            assert d <= 1e-13 * float(lm_term.abs().max()), (name, d)
        d = float((gw["model.embed_tokens.weight"] - e_want).abs().max())
        assert d <= 1e-13 * float(e_want.abs().max()), (name, d)

    # ---- loss 2: sum_r logits[r] . c[r], rows 20..23, coefficients as stored (F32)
    coef = np.random.default_rng(LOSS2_SEED).standard_normal((4, cfg.V))
    coef = coef.astype(np.float32).astype(np.float64)
    coef_t = torch.as_tensor(coef)
    Z2 = zeros(cfg, T, True)
    logits2, _ = forward_hooked(cfg, W, ids, Z2)
    loss2 = loss_2(logits2, coef_t)
    (g2,) = torch.autograd.grad(loss2, [Z2["embed"]])

    # ---- finite differences (float64, central, step 1e-5)
    rng = np.random.default_rng(1000 + model_index)
    fd = []
    Zf = zeros(cfg, T, False)
    with torch.no_grad():
        def f1():
            return loss_ce(forward_hooked(cfg, W, ids, Zf)[0], ids_t)

        def f2():
            return loss_2(forward_hooked(cfg, W, ids, Zf)[0], coef_t)

        for idx in pick(rng, gsite["embed"], 6):
            fd.append(("loss d/dembed", idx, central_diff(f1, Zf["embed"], idx),
                       float(gsite["embed"][idx])))
        for idx in pick(rng, g2, 4):
            fd.append(("loss2 d/dembed", idx, central_diff(f2, Zf["embed"], idx), float(g2[idx])))
        if want_w:
            Wf = {n: v.clone() for n, v in W.items()}

            def fw():
                return loss_ce(forward_hooked(cfg, Wf, ids, Zf)[0], ids_t)

            for n in ("model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                      "model.layers.%d.mlp.down_proj.weight" % (cfg.L - 1)):
                (idx,) = pick(rng, gw[n], 1)
                fd.append(("loss d/d" + n, idx, central_diff(fw, Wf[n], idx), float(gw[n][idx])))
    worst = 0.0
    for what, idx, num, ana in fd:
        r = abs(num - ana) / abs(ana)
        worst = max(worst, r)
        assert r < FD_TOL, (name, what, idx, num, ana, r)

    # ---- write
    tens = {"loss": mef.as_f32(np.array([float(loss)])),
            "loss2": mef.as_f32(np.array([float(loss2)])),
            "loss2_coef": mef.as_f32(coef),
            "grad2.embed": mef.as_f32(g2.numpy())}
    for s in snames:
        tens["grad." + s] = mef.as_f32(gsite[s].numpy())
    for n in wnames:
        tens["wgrad." + n] = mef.as_f32(gw[n].numpy())
    path = os.path.join(folder, "grad.safetensors")
    mef.write_safetensors(path, tens, {"loss_from": str(K), "model": name})
    back, meta = mef.read_safetensors(path)
    assert meta == {"loss_from": "16", "model": name}
    assert set(back) == set(tens)
    for n in tens:
        assert back[n][2] == tens[n].raw and back[n][0] == "F32", n
    assert np.array_equal(mef.decode(*back["loss2_coef"]), coef)   # loss2 used these exact values

    size = os.path.getsize(path)
    ge = gsite["embed"]
    print("%-15s loss %.6f loss2 %.6f  %d site grads, %d weight grads  max|grad.embed| %.4e "
          "max|grad2.embed| %.4e  %d bytes" %
          (name, float(loss), float(loss2), len(snames), len(wnames), float(ge.abs().max()),
           float(g2.abs().max()), size))
    for what, idx, num, ana in fd:
        print("    fd %-48s %-10s fd % .10e  autograd % .10e  rel %.1e" %
              (what, str(idx), num, ana, abs(num - ana) / abs(ana)))
    print("    worst fd rel err %.2e" % worst)
    return size, worst


def main():
    assert sorted(MODELS) == sorted(d for d in os.listdir(OUT)
                                    if os.path.isdir(os.path.join(OUT, d))), "model list"
    total, worst = 0, 0.0
    for i, name in enumerate(MODELS):
        s, w = build(name, i)
        total += s
        worst = max(worst, w)
    print("total %d bytes, worst finite-difference rel err %.2e" % (total, worst))
    assert total < 1536 * 1024, total


if __name__ == "__main__":
    main()
