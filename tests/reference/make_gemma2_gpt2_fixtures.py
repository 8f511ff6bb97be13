#!/usr/bin/python3
"""Engine fixtures for Gemma-2 and GPT-2: tiny random checkpoints with float64 goldens.

What it does
  Writes three Hugging Face style folders under tests/fixtures/engine2/:
    gemma2    Gemma2ForCausalLM
    gpt2      GPT2LMHeadModel (weights under "transformer.", Conv1D [in, out] layouts, the
              attention buffers transformers 4.0 - 4.30 saved: transformer.h.{i}.attn.bias BOOL
              [1, 1, P, P] and transformer.h.{i}.attn.masked_bias F32 [] in the file, n_inner
              null, tied lm_head absent from the file)
    gpt2_cls  GPT2ForSequenceClassification with num_labels 1 (a reward model, like the
              harmless-reward GPT-2 of PROTOCOL.md), pad_token_id = eos_token_id = 63
  and three "moderate" variants of them for the reduced-precision (f16, bf16, int8) tests:
    gemma2_moderate, gpt2_moderate (no mask buffers in the file), gpt2_cls_moderate
  with the same architecture features but an embedding-dominated residual stream: every block
  update is < 0.2 of the residual (asserted), norm weights near neutral, moderate attention.
  On the sharp models merely rounding the weights to bf16 or int8 costs 2e-2 to 1e-1 relative
  (HF-SEMANTICS.md, last paragraph); on these it costs what check_reduced_precision reports.
  Each holds config.json (the keys transformers' save_pretrained writes for that class),
  model.safetensors (HF tensor names, dtypes, shapes), golden.safetensors and grad.safetensors.
  The weights are drawn from fixed seeds, written, READ BACK from disk (own config / safetensors
  parser, buffers skipped by exact name), and every golden is computed from the values on disk
  with an independent float64 re-implementation of the transformers forward passes
  (modeling_gemma2.py / modeling_gpt2.py, eager attention). The safetensors writer / reader, the
  rope and the finite-difference helpers are imported from make_engine_fixtures.py and
  make_grad_fixtures.py (their main() is guarded; importing them writes nothing). Tensor names,
  sites and file formats are those of tests/fixtures/engine/ (see tests/fixtures/engine2/README.md
  for every tensor).

  Hugging Face semantics followed (see /work/shared/HF-SEMANTICS.md):
    Gemma-2: RMSNorm x * rsqrt(mean(x^2) + eps) * (1 + w), four norms per block (input,
      post_attention on the attention OUTPUT, pre_feedforward, post_feedforward on the MLP
      output) plus the final norm; the residual adds the post-normed outputs. Embeddings
      multiplied by sqrt(hidden_size) rounded to the compute dtype (float32 here:
      torch.tensor(hidden_size ** 0.5, dtype=float32) = 4.898979663848877 for d = 24); the
      `embed` site is the lookup BEFORE that multiplication and the tied lm_head uses the
      unscaled matrix. GeGLU down(gelu_tanh(gate(x)) * up(x)) with the activation read from
      `hidden_activation` (gelu_pytorch_tanh). Attention scores (q . k) * query_pre_attn_scalar
      ^ -0.5, then cap * tanh(score / cap) (attn_logit_softcapping), then the mask, then
      softmax. Final logits cap * tanh(logits / cap) (final_logit_softcapping) after lm_head;
      the loss uses the capped logits. Sliding window W on layers 0, 2, 4, ... (key j visible
      from query i iff i - W < j <= i), global causal on odd layers. Rotate-half rope with
      rope_theta over head_dim, which is config.head_dim (independent of hidden_size). GQA:
      query head h uses kv head h // (heads / kv_heads). tie_word_embeddings absent = true.
    GPT-2: h = wte[ids] + wpe[pos] (`embed` site = wte[ids], before the positions are added);
      per block x + attn(ln_1(x)), then + mlp(ln_2(.)); LayerNorm (x - mean) / sqrt(biased var
      + eps) * w + b with eps = layer_norm_epsilon; Conv1D y = x W + b with W stored [in, out];
      c_attn output split into q | k | v blocks of n_embd, heads of n_embd / n_head dims; scores
      q . k / sqrt(head_dim), causal mask, softmax; c_proj; MLP c_proj(gelu_new(c_fc(x))) with
      n_inner null meaning 4 n_embd; final ln_f; tied lm_head = wte.
    GPT2ForSequenceClassification: logits = score(ln_f(h)) at every position (score has no
      bias), and the pooled output is the row at index last_non_pad_token, computed as in
      transformers >= 4.48: non_pad_mask = (ids != pad_token_id); last_non_pad_token =
      argmax(arange(T) * non_pad_mask), i.e. the index of the LAST token that is not the pad id
      (0 if every token is pad; the last token T - 1 if pad_token_id is null). With
      pad_token_id = eos_token_id, trailing eos tokens are skipped. (transformers <= 4.47 took
      (index of the FIRST pad token) - 1, modulo T; the two rules differ when a pad id occurs
      before the end, which `ids_b` of gpt2_cls exercises.) num_labels = len(id2label).

  Self-checks (asserts; the script fails loudly):
    * the attention, the MLP and the final head of every layer are recomputed by a second,
      scalar-loop numpy implementation and must agree to 1e-12 (relative to the values' scale);
      gelu_tanh matches torch.nn.functional.gelu(approximate="tanh");
    * block update sizes: ||attn_out|| / ||resid_pre|| and ||mlp_out|| / ||resid_mid|| > 0.2
      in every layer of the sharp models, < 0.2 in every layer of the moderate ones;
    * mutation tests: each pitfall is re-run deliberately wrong and must move the logits (the
      reward, for the pooling mistakes of gpt2_cls) by more than 10% (relative Frobenius norm);
      a few tiny effects (erf GELU, exact sqrt(d), unbiased LayerNorm variance) are measured
      and reported but not asserted;
    * the attention soft-cap is active: the fraction of (unmasked) scores with
      |score| > cap / 2 is reported, and removing either cap moves the logits by > 10%;
    * greedy decoding (LM fixtures): every step's top1 - top2 gap >= 1e-3 max|logits|, and the
      ids seed is the first whose 32 greedy tokens hold >= 3 distinct ids (tied random models
      otherwise fall straight into a one-token fixed point);
    * gradients: float64 autograd through the same forward with a zero tensor added at every
      site; structural identities (bit for bit), causality (rows that cannot reach the loss
      are exactly 0), analytic tied-embedding gradients, and central finite differences (step
      1e-5) on sites and weights agreeing to a relative error < 1e-6;
    * moderate models: every matrix rounded to f16, bf16 or int8 (lvs.h's block format, with
      the int8 kernels' activation rounding) moves logits, sites, the objective and the site
      gradients by less than half the C tests' tolerances (1e-2, 1e-2, 3e-2, max-norm relative);
      the attention soft-cap changes every layer's attn_out by > 5%;
    * every file is read back and compared byte for byte with what was meant to be written;
      a sha256 of every file is printed (rerun and compare: the bytes are deterministic).

How to rerun (from the repository root; needs Debian's /usr/bin/python3 with torch + numpy):
    /usr/bin/python3 tests/reference/make_gemma2_gpt2_fixtures.py
  Deterministic (numpy PCG64 fixed seeds, float64, one thread); rerunning rewrites the same
  bytes. It touches nothing outside tests/fixtures/engine2/<model>/.
"""
import hashlib
import json
import math
import os
import re
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_engine_fixtures as mef  # noqa: E402
import make_grad_fixtures as mgf    # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ROOT = mef.ROOT
OUT = os.path.join(ROOT, "tests", "fixtures", "engine2")
T_MAIN = 24
T_B = 11
N_PROMPT = 8
N_GREEDY = 32
K = mgf.K                       # 16: loss over ids[16..23] from logit rows 15..22
TRANSFORMERS_VERSION = mef.TRANSFORMERS_VERSION
SITES = mgf.SITES
MUT_MIN = 0.1
MIN_DISTINCT_GREEDY = 3     # tied random models fall into a fixed point; want a non-constant run

# ----------------------------------------------------------------------------------------------
# configs, as transformers' save_pretrained writes them (to_diff_dict, sort_keys, indent 2)
# ----------------------------------------------------------------------------------------------


def gemma2_config(V, d, ff, L, H, KV, hd, qpas, window, attn_cap, final_cap):
    # Gemma2Config (transformers 4.46) writes all its own attributes; of the generic ones only
    # those that differ from PretrainedConfig's defaults: tie_word_embeddings=True is the
    # default, so it is NOT written (absent means tied). No "hidden_act": the class reads
    # "hidden_activation".
    return {
        "architectures": ["Gemma2ForCausalLM"],
        "attention_bias": False,
        "attention_dropout": 0.0,
        "attn_logit_softcapping": attn_cap,
        "bos_token_id": 2,
        "cache_implementation": "hybrid",
        "eos_token_id": 1,
        "final_logit_softcapping": final_cap,
        "head_dim": hd,
        "hidden_activation": "gelu_pytorch_tanh",
        "hidden_size": d,
        "initializer_range": 0.02,
        "intermediate_size": ff,
        "max_position_embeddings": 256,
        "model_type": "gemma2",
        "num_attention_heads": H,
        "num_hidden_layers": L,
        "num_key_value_heads": KV,
        "pad_token_id": 0,
        "query_pre_attn_scalar": qpas,
        "rms_norm_eps": 1e-06,
        "rope_theta": 10000.0,
        "sliding_window": window,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": V,
    }


def gpt2_config(arch, V, d, L, H, P, n_inner=None, extra=None):
    c = {
        "activation_function": "gelu_new",
        "architectures": [arch],
        "attn_pdrop": 0.1,
        "bos_token_id": V - 1,
        "embd_pdrop": 0.1,
        "eos_token_id": V - 1,
        "initializer_range": 0.02,
        "layer_norm_epsilon": 1e-05,
        "model_type": "gpt2",
        "n_embd": d,
        "n_head": H,
        "n_inner": n_inner,
        "n_layer": L,
        "n_positions": P,
        "reorder_and_upcast_attn": False,
        "resid_pdrop": 0.1,
        "scale_attn_by_inverse_layer_idx": False,
        "scale_attn_weights": True,
        "summary_activation": None,
        "summary_first_dropout": 0.1,
        "summary_proj_to_labels": True,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "torch_dtype": "float32",
        "transformers_version": TRANSFORMERS_VERSION,
        "use_cache": True,
        "vocab_size": V,
    }
    c.update(extra or {})
    return dict(sorted(c.items()))


class Cfg:
    pass


def resolve_config(c):
    """What Gemma2Config / GPT2Config make of config.json (class defaults for absent keys)."""
    r = Cfg()
    arch = c["architectures"][0]
    r.arch = arch
    if arch == "Gemma2ForCausalLM":
        assert c["model_type"] == "gemma2"
        r.family = "gemma2"
        r.V = c.get("vocab_size", 256000)
        r.d = c.get("hidden_size", 2304)
        r.ff = c.get("intermediate_size", 9216)
        r.L = c.get("num_hidden_layers", 26)
        r.H = c.get("num_attention_heads", 8)
        r.KV = c.get("num_key_value_heads", 4)
        r.hd = c.get("head_dim", 256)
        r.eps = c.get("rms_norm_eps", 1e-6)
        r.theta = float(c.get("rope_theta", 10000.0))
        r.act = c.get("hidden_activation", "gelu_pytorch_tanh")
        assert r.act == "gelu_pytorch_tanh"
        r.qpas = float(c.get("query_pre_attn_scalar", 256))
        r.attn_cap = c.get("attn_logit_softcapping", 50.0)
        r.final_cap = c.get("final_logit_softcapping", 30.0)
        w = c.get("sliding_window", 4096)
        # Gemma2Attention: sliding_window if not bool(layer_idx % 2) else None
        r.windows = [w if l % 2 == 0 else None for l in range(r.L)]
        r.tie = bool(c.get("tie_word_embeddings", True))
        assert r.tie and not c.get("attention_bias", False)
        assert c.get("layer_types") is None
        r.normalizer = float(np.float32(math.sqrt(r.d)))   # torch_dtype float32
        assert c.get("torch_dtype") == "float32"
    else:
        assert arch in ("GPT2LMHeadModel", "GPT2ForSequenceClassification")
        assert c["model_type"] == "gpt2"
        r.family = "gpt2"
        r.cls = arch == "GPT2ForSequenceClassification"
        r.V = c.get("vocab_size", 50257)
        r.d = c.get("n_embd", 768)
        r.L = c.get("n_layer", 12)
        r.H = c.get("n_head", 12)
        r.P = c.get("n_positions", 1024)
        r.ff = c.get("n_inner") or 4 * r.d
        r.eps = c.get("layer_norm_epsilon", 1e-5)
        r.act = c.get("activation_function", "gelu_new")
        assert r.act == "gelu_new"
        assert c.get("scale_attn_weights", True) and not c.get("scale_attn_by_inverse_layer_idx", False)
        r.hd = r.d // r.H
        r.tie = bool(c.get("tie_word_embeddings", True))
        assert r.tie
        if r.cls:
            r.num_labels = len(c["id2label"]) if c.get("id2label") is not None else c.get("num_labels", 2)
            r.pad = c.get("pad_token_id")
    return r


# ----------------------------------------------------------------------------------------------
# activations and norms
# ----------------------------------------------------------------------------------------------

GELU_C = math.sqrt(2.0 / math.pi)


def gelu_tanh(x):
    """gelu_pytorch_tanh = gelu_new = NewGELUActivation: the tanh approximation."""
    return 0.5 * x * (1.0 + torch.tanh(GELU_C * (x + 0.044715 * x ** 3)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def act_fn(x, mut):
    if "silu" in mut:
        return x * torch.sigmoid(x)
    if "gelu_erf" in mut:
        return gelu_erf(x)
    return gelu_tanh(x)


def g2_norm(x, w, eps, mut=()):
    """Gemma2RMSNorm: x * rsqrt(mean(x^2) + eps) * (1 + w) (computed in f32 by HF; f64 here)."""
    ms = (x * x).mean(-1, keepdim=True)
    g = w if "norm_w_not_1plus" in mut else 1.0 + w
    return x * torch.rsqrt(ms + eps) * g


def layer_norm(x, w, b, eps, mut=()):
    """torch.nn.LayerNorm: (x - mean) / sqrt(biased var + eps) * w + b."""
    mu = x.mean(-1, keepdim=True)
    if "ln_no_mean" in mut:
        mu = torch.zeros_like(mu)
    xc = x - mu
    n = x.shape[-1]
    var = (xc * xc).sum(-1, keepdim=True) / (n - 1 if "ln_unbiased" in mut else n)
    y = xc / torch.sqrt(var + eps) * w
    if "ln_no_bias" not in mut:
        y = y + b
    return y


# The int8 simulation of check_reduced_precision switches this on: lvs.h's int8 matrices quantize
# their input activations to int8 blocks of 32 as well (see lvs.h, "int8 block format").
Q8_ACT = [False]


def q8_round(x):
    """Rows of x (last dim) rounded to lvs int8 blocks of 32: s = max|x| / 127 (f32) per block,
    q = round(x / s) half away from zero; returns s * q in float64."""
    shp = x.shape
    n = shp[-1]
    nb = (n + 31) // 32
    xp = torch.nn.functional.pad(x.reshape(-1, n), (0, nb * 32 - n)).reshape(-1, nb, 32)
    s = (xp.abs().amax(-1, keepdim=True).float() / 127.0).double()
    r = torch.where(s > 0, xp / torch.where(s > 0, s, torch.ones_like(s)), torch.zeros_like(xp))
    q = torch.sign(r) * torch.floor(r.abs() + 0.5)
    return (q * s).reshape(-1, nb * 32)[:, :n].reshape(shp)


def mm(x, w):
    """x @ w for every weight matrix of the forward passes (w already in x @ w orientation)."""
    if Q8_ACT[0]:
        x = x + (q8_round(x) - x).detach()      # straight-through: the value rounded, dx = dy w^T
    return x @ w


def softcap(x, cap):
    return cap * torch.tanh(x / cap)


def causal_allowed(T, window):
    i = torch.arange(T).view(-1, 1)
    j = torch.arange(T).view(1, -1)
    a = j <= i
    if window is not None:
        a = a & (j > i - window)
    return a


# ----------------------------------------------------------------------------------------------
# Gemma-2 forward (float64)
# ----------------------------------------------------------------------------------------------

def g2_window(cfg, l, mut):
    w = cfg.windows[l]
    sw = next(x for x in cfg.windows if x is not None)
    if "window_everywhere" in mut:
        w = sw
    if "window_reversed" in mut:
        w = sw if cfg.windows[l] is None else None
    if "no_window" in mut:
        w = None
    if w is not None and "window_plus1" in mut:
        w += 1
    if w is not None and "window_minus1" in mut:
        w -= 1
    return w


def g2_attention(cfg, W, l, xn, pos, mut=()):
    T = xn.shape[0]
    H, KV, D = cfg.H, cfg.KV, cfg.hd
    p = "model.layers.%d.self_attn." % l
    q = mm(xn, W[p + "q_proj.weight"].T).view(T, H, D).transpose(0, 1)
    k = mm(xn, W[p + "k_proj.weight"].T).view(T, KV, D).transpose(0, 1)
    v = mm(xn, W[p + "v_proj.weight"].T).view(T, KV, D).transpose(0, 1)
    inv = 1.0 / cfg.theta ** (np.arange(0, D, 2, dtype=np.float64) / D)
    q = mef.rope_apply(q, pos, inv, mut)
    k = mef.rope_apply(k, pos, inv, mut)
    g = H // KV
    idx = [h % KV for h in range(H)] if "gqa_modulo" in mut else [h // g for h in range(H)]
    k, v = k[idx], v[idx]
    scale = D ** -0.5 if "scale_head_dim" in mut else cfg.qpas ** -0.5
    cap = cfg.attn_cap
    if "no_attn_cap" in mut:
        cap = None
    if "caps_swapped" in mut:
        cap = cfg.final_cap
    s = q @ k.transpose(1, 2)
    allowed = causal_allowed(T, g2_window(cfg, l, mut))
    if cap is not None and "cap_before_scale" in mut:
        s = softcap(s, cap) * scale
    else:
        s = s * scale
        if cap is not None and "cap_after_mask" not in mut:
            s = softcap(s, cap)
    if cap is not None and "cap_after_mask" in mut:
        # HF adds finfo.min for masked keys; capping afterwards would turn them into -cap
        s = torch.where(allowed, softcap(s, cap), torch.full_like(s, -cap))
    else:
        s = s.masked_fill(~allowed, float("-inf"))
    a = torch.softmax(s, dim=-1)
    o = (a @ v).transpose(0, 1).reshape(T, H * D)
    return mm(o, W[p + "o_proj.weight"].T)


def g2_mlp(cfg, W, l, xn, mut=()):
    p = "model.layers.%d.mlp." % l
    gt = mm(xn, W[p + "gate_proj.weight"].T)
    up = mm(xn, W[p + "up_proj.weight"].T)
    return mm(act_fn(gt, mut) * up, W[p + "down_proj.weight"].T)


def g2_forward(cfg, W, ids, mut=(), Z=None):
    """Returns dict of sites, final_norm, logits_precap, logits. Z: optional site -> addend."""
    def z(name, x):
        return x + Z[name] if Z is not None else x
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    T = ids.shape[0]
    pos = np.arange(T)
    eps = cfg.eps
    E = W["model.embed_tokens.weight"]
    out = {}
    e = z("embed", E[ids])
    out["embed"] = e
    mult = cfg.normalizer
    if "embed_scale_exact" in mut:
        mult = math.sqrt(cfg.d)
    if "no_embed_scale" in mut:
        mult = 1.0
    h = e * mult
    post = not ("no_post_norms" in mut or "llama_norm_roles" in mut)
    for l in range(cfg.L):
        p = "model.layers.%d." % l
        s = "blocks.%d." % l
        h = z(s + "resid_pre", h)
        out[s + "resid_pre"] = h
        a = g2_attention(cfg, W, l, g2_norm(h, W[p + "input_layernorm.weight"], eps, mut), pos, mut)
        if post:
            a = g2_norm(a, W[p + "post_attention_layernorm.weight"], eps, mut)
        a = z(s + "attn_out", a)
        out[s + "attn_out"] = a
        h = z(s + "resid_mid", h + a)
        out[s + "resid_mid"] = h
        pre_w = W[p + ("post_attention_layernorm.weight" if "llama_norm_roles" in mut
                       else "pre_feedforward_layernorm.weight")]
        m = g2_mlp(cfg, W, l, g2_norm(h, pre_w, eps, mut), mut)
        if post:
            m = g2_norm(m, W[p + "post_feedforward_layernorm.weight"], eps, mut)
        m = z(s + "mlp_out", m)
        out[s + "mlp_out"] = m
        h = z(s + "resid_post", h + m)
        out[s + "resid_post"] = h
    hn = g2_norm(h, W["model.norm.weight"], eps, mut)
    out["final_norm"] = hn
    lm = E * mult if "lm_head_scaled" in mut else E
    lp = mm(hn, lm.T)
    out["logits_precap"] = lp
    fc = cfg.final_cap
    if "no_final_cap" in mut:
        fc = None
    if "caps_swapped" in mut:
        fc = cfg.attn_cap
    out["logits"] = softcap(lp, fc) if fc is not None else lp
    return out


def g2_attn_scores(cfg, W, l, xn):
    """Scaled, uncapped scores of layer l at the allowed positions (for the cap report)."""
    T = xn.shape[0]
    H, KV, D = cfg.H, cfg.KV, cfg.hd
    p = "model.layers.%d.self_attn." % l
    q = (xn @ W[p + "q_proj.weight"].T).view(T, H, D).transpose(0, 1)
    k = (xn @ W[p + "k_proj.weight"].T).view(T, KV, D).transpose(0, 1)
    inv = 1.0 / cfg.theta ** (np.arange(0, D, 2, dtype=np.float64) / D)
    q, k = mef.rope_apply(q, np.arange(T), inv), mef.rope_apply(k, np.arange(T), inv)
    k = k[[h // (H // KV) for h in range(H)]]
    s = q @ k.transpose(1, 2) * cfg.qpas ** -0.5
    return s[:, causal_allowed(T, cfg.windows[l])]


# ----------------------------------------------------------------------------------------------
# GPT-2 forward (float64)
# ----------------------------------------------------------------------------------------------

PFX = "transformer."


def gpt2_attention(cfg, W, l, xn, mut=()):
    T, d = xn.shape
    H, D = cfg.H, cfg.hd
    p = PFX + "h.%d.attn." % l
    qkv = mm(xn, W[p + "c_attn.weight"])
    if "drop_c_attn_bias" not in mut:
        qkv = qkv + W[p + "c_attn.bias"]
    if "qkv_interleaved" in mut:
        q, k, v = qkv.view(T, H, 3, D).unbind(2)
        q, k, v = (x.transpose(0, 1) for x in (q, k, v))
    else:
        q, k, v = qkv.split(d, dim=1)
        if "qkv_order_kqv" in mut:
            q, k = k, q
        q, k, v = (x.view(T, H, D).transpose(0, 1) for x in (q, k, v))
    s = q @ k.transpose(1, 2)
    if "scale_nembd" in mut:
        s = s / math.sqrt(d)
    elif "no_scale" not in mut:
        s = s / math.sqrt(D)          # HF: attn_weights / torch.full([], value.size(-1) ** 0.5)
    s = s.masked_fill(~causal_allowed(T, None), float("-inf"))
    a = torch.softmax(s, dim=-1)
    o = (a @ v).transpose(0, 1).reshape(T, d)
    Wp = W[p + "c_proj.weight"]
    if "c_proj_transposed" in mut:
        Wp = Wp.T
    return mm(o, Wp) + W[p + "c_proj.bias"]


def gpt2_mlp(cfg, W, l, xn, mut=()):
    p = PFX + "h.%d.mlp." % l
    hdn = mm(xn, W[p + "c_fc.weight"]) + W[p + "c_fc.bias"]
    return mm(act_fn(hdn, mut), W[p + "c_proj.weight"]) + W[p + "c_proj.bias"]


def gpt2_forward(cfg, W, ids, mut=(), Z=None):
    def z(name, x):
        return x + Z[name] if Z is not None else x
    ids = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    T = ids.shape[0]
    eps = cfg.eps
    out = {}
    e = z("embed", W[PFX + "wte.weight"][ids])
    out["embed"] = e
    pos = torch.arange(T)
    pe = W[PFX + "wpe.weight"][pos]
    out["pos_embed"] = pe
    if "positions_offset1" in mut:
        pe = W[PFX + "wpe.weight"][pos + 1]
    if "no_positions" in mut:
        pe = torch.zeros_like(pe)
    h = e + pe
    for l in range(cfg.L):
        p = PFX + "h.%d." % l
        s = "blocks.%d." % l
        h = z(s + "resid_pre", h)
        out[s + "resid_pre"] = h
        a = gpt2_attention(cfg, W, l, layer_norm(h, W[p + "ln_1.weight"], W[p + "ln_1.bias"], eps, mut), mut)
        a = z(s + "attn_out", a)
        out[s + "attn_out"] = a
        h = z(s + "resid_mid", h + a)
        out[s + "resid_mid"] = h
        m = gpt2_mlp(cfg, W, l, layer_norm(h, W[p + "ln_2.weight"], W[p + "ln_2.bias"], eps, mut), mut)
        m = z(s + "mlp_out", m)
        out[s + "mlp_out"] = m
        h = z(s + "resid_post", h + m)
        out[s + "resid_post"] = h
    hn = layer_norm(h, W[PFX + "ln_f.weight"], W[PFX + "ln_f.bias"], eps, mut)
    out["final_norm"] = hn
    if cfg.cls:
        src = h if "pool_before_ln_f" in mut else hn
        out["logits"] = mm(src, W["score.weight"].T)                # [T, num_labels]
    else:
        out["logits"] = mm(hn, W[PFX + "wte.weight"].T)
    return out


def pool_index(ids, pad, rule="hf"):
    """GPT2ForSequenceClassification's pooled row (see the module docstring)."""
    ids = [int(x) for x in ids]
    T = len(ids)
    if pad is None:
        return T - 1
    if rule == "hf":            # transformers >= 4.48: argmax(arange(T) * (ids != pad))
        prod = [i * (1 if t != pad else 0) for i, t in enumerate(ids)]
        return int(np.argmax(prod))
    if rule == "first_pad_minus1":   # transformers <= 4.47
        eq = [1 if t == pad else 0 for t in ids]
        return (int(np.argmax(eq)) - 1) % T
    if rule == "last":
        return T - 1
    raise ValueError(rule)


def forward(cfg, W, ids, mut=(), Z=None):
    return (g2_forward if cfg.family == "gemma2" else gpt2_forward)(cfg, W, ids, mut, Z)


# ----------------------------------------------------------------------------------------------
# second, scalar-loop implementation (numpy float64) for the self-check
# ----------------------------------------------------------------------------------------------

def lp_matvec(Wm, x, transpose_layout):
    """y = W x for W [out, in] (transpose_layout False) or y = x W for W [in, out] (True)."""
    if transpose_layout:
        n_in, n_out = Wm.shape
        return [sum(x[j] * Wm[j, o] for j in range(n_in)) for o in range(n_out)]
    n_out, n_in = Wm.shape
    return [sum(Wm[o, j] * x[j] for j in range(n_in)) for o in range(n_out)]


def lp_rms1p(x, w, eps):
    r = 1.0 / math.sqrt(sum(v * v for v in x) / len(x) + eps)
    return [x[j] * r * (1.0 + w[j]) for j in range(len(x))]


def lp_ln(x, w, b, eps):
    n = len(x)
    mu = sum(x) / n
    var = sum((v - mu) ** 2 for v in x) / n
    r = 1.0 / math.sqrt(var + eps)
    return [(x[j] - mu) * r * w[j] + b[j] for j in range(n)]


def lp_gelu(x):
    return 0.5 * x * (1.0 + math.tanh(GELU_C * (x + 0.044715 * x * x * x)))


def lp_attention_core(q, k, v, H, KV, D, scale, cap, window, rope_theta):
    """q [T][H*D], k/v [T][KV*D] (lists); rope if rope_theta; returns o [T][H*D]."""
    T = len(q)
    half = D // 2

    def rot(vec, t):
        if rope_theta is None:
            return vec
        out = list(vec)
        for i in range(half):
            ang = t * rope_theta ** (-(2.0 * i) / D)
            c, s = math.cos(ang), math.sin(ang)
            out[i] = vec[i] * c - vec[i + half] * s
            out[i + half] = vec[i + half] * c + vec[i] * s
        return out

    o = [[0.0] * (H * D) for _ in range(T)]
    for h in range(H):
        kvh = h // (H // KV)
        for i in range(T):
            qi = rot(q[i][h * D:(h + 1) * D], i)
            keys = [j for j in range(T) if j <= i and (window is None or j > i - window)]
            sc = []
            for j in keys:
                kj = rot(k[j][kvh * D:(kvh + 1) * D], j)
                x = sum(qi[e] * kj[e] for e in range(D)) * scale
                if cap is not None:
                    x = cap * math.tanh(x / cap)
                sc.append(x)
            m = max(sc)
            ex = [math.exp(x - m) for x in sc]
            zs = sum(ex)
            for e in range(D):
                o[i][h * D + e] = sum(ex[jj] / zs * v[j][kvh * D + e] for jj, j in enumerate(keys))
    return o


def loops_check(cfg, Wn, out, ids):
    """Recompute attn_out, mlp_out of every layer and the logits with scalar loops."""
    worst = 0.0

    def cmp(ref, mine):
        ref = np.asarray(ref)
        err = float(np.abs(ref - mine).max() / max(1.0, np.abs(mine).max()))
        assert err < 1e-12, err
        return err

    T = len(ids)
    for l in range(cfg.L):
        rp = out["blocks.%d.resid_pre" % l].numpy()
        rm = out["blocks.%d.resid_mid" % l].numpy()
        if cfg.family == "gemma2":
            p = "model.layers.%d." % l
            xn = [lp_rms1p(rp[t], Wn[p + "input_layernorm.weight"], cfg.eps) for t in range(T)]
            q = [lp_matvec(Wn[p + "self_attn.q_proj.weight"], x, False) for x in xn]
            k = [lp_matvec(Wn[p + "self_attn.k_proj.weight"], x, False) for x in xn]
            v = [lp_matvec(Wn[p + "self_attn.v_proj.weight"], x, False) for x in xn]
            o = lp_attention_core(q, k, v, cfg.H, cfg.KV, cfg.hd, 1.0 / math.sqrt(cfg.qpas),
                                  cfg.attn_cap, cfg.windows[l], cfg.theta)
            a = [lp_rms1p(lp_matvec(Wn[p + "self_attn.o_proj.weight"], x, False),
                          Wn[p + "post_attention_layernorm.weight"], cfg.eps) for x in o]
            worst = max(worst, cmp(a, out["blocks.%d.attn_out" % l].numpy()))
            m = []
            for t in range(T):
                x = lp_rms1p(rm[t], Wn[p + "pre_feedforward_layernorm.weight"], cfg.eps)
                gt = lp_matvec(Wn[p + "mlp.gate_proj.weight"], x, False)
                up = lp_matvec(Wn[p + "mlp.up_proj.weight"], x, False)
                y = lp_matvec(Wn[p + "mlp.down_proj.weight"], [lp_gelu(g) * u for g, u in zip(gt, up)], False)
                m.append(lp_rms1p(y, Wn[p + "post_feedforward_layernorm.weight"], cfg.eps))
            worst = max(worst, cmp(m, out["blocks.%d.mlp_out" % l].numpy()))
        else:
            p = PFX + "h.%d." % l
            d = cfg.d
            xn = [lp_ln(rp[t], Wn[p + "ln_1.weight"], Wn[p + "ln_1.bias"], cfg.eps) for t in range(T)]
            qkv = [[a + b for a, b in zip(lp_matvec(Wn[p + "attn.c_attn.weight"], x, True),
                                           Wn[p + "attn.c_attn.bias"])] for x in xn]
            q = [r[0:d] for r in qkv]
            k = [r[d:2 * d] for r in qkv]
            v = [r[2 * d:3 * d] for r in qkv]
            o = lp_attention_core(q, k, v, cfg.H, cfg.H, cfg.hd, 1.0 / math.sqrt(cfg.hd), None, None, None)
            a = [[y + b for y, b in zip(lp_matvec(Wn[p + "attn.c_proj.weight"], x, True),
                                         Wn[p + "attn.c_proj.bias"])] for x in o]
            worst = max(worst, cmp(a, out["blocks.%d.attn_out" % l].numpy()))
            m = []
            for t in range(T):
                x = lp_ln(rm[t], Wn[p + "ln_2.weight"], Wn[p + "ln_2.bias"], cfg.eps)
                hh = [lp_gelu(y + b) for y, b in zip(lp_matvec(Wn[p + "mlp.c_fc.weight"], x, True),
                                                      Wn[p + "mlp.c_fc.bias"])]
                m.append([y + b for y, b in zip(lp_matvec(Wn[p + "mlp.c_proj.weight"], hh, True),
                                                 Wn[p + "mlp.c_proj.bias"])])
            worst = max(worst, cmp(m, out["blocks.%d.mlp_out" % l].numpy()))
    # embeddings and head
    last = out["blocks.%d.resid_post" % (cfg.L - 1)].numpy()
    lg = []
    if cfg.family == "gemma2":
        E = Wn["model.embed_tokens.weight"]
        rp0 = [[E[ids[t], j] * cfg.normalizer for j in range(cfg.d)] for t in range(T)]
        worst = max(worst, cmp(rp0, out["blocks.0.resid_pre"].numpy()))
        for t in range(T):
            x = lp_rms1p(last[t], Wn["model.norm.weight"], cfg.eps)
            lg.append([cfg.final_cap * math.tanh(y / cfg.final_cap) for y in lp_matvec(E, x, False)])
    else:
        wte, wpe = Wn[PFX + "wte.weight"], Wn[PFX + "wpe.weight"]
        rp0 = [[wte[ids[t], j] + wpe[t, j] for j in range(cfg.d)] for t in range(T)]
        worst = max(worst, cmp(rp0, out["blocks.0.resid_pre"].numpy()))
        head = Wn["score.weight"] if cfg.cls else wte
        for t in range(T):
            x = lp_ln(last[t], Wn[PFX + "ln_f.weight"], Wn[PFX + "ln_f.bias"], cfg.eps)
            lg.append(lp_matvec(head, x, False))
    worst = max(worst, cmp(lg, out["logits"].numpy()))
    return worst


# ----------------------------------------------------------------------------------------------
# weights, writing and reading back
# ----------------------------------------------------------------------------------------------

def expected_shapes(cfg):
    V, d, ff, L = cfg.V, cfg.d, cfg.ff, cfg.L
    s = {}
    if cfg.family == "gemma2":
        H, KV, D = cfg.H, cfg.KV, cfg.hd
        s["model.embed_tokens.weight"] = [V, d]
        s["model.norm.weight"] = [d]
        for l in range(L):
            p = "model.layers.%d." % l
            for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                      "post_feedforward_layernorm"):
                s[p + n + ".weight"] = [d]
            s[p + "self_attn.q_proj.weight"] = [H * D, d]
            s[p + "self_attn.k_proj.weight"] = [KV * D, d]
            s[p + "self_attn.v_proj.weight"] = [KV * D, d]
            s[p + "self_attn.o_proj.weight"] = [d, H * D]
            s[p + "mlp.gate_proj.weight"] = [ff, d]
            s[p + "mlp.up_proj.weight"] = [ff, d]
            s[p + "mlp.down_proj.weight"] = [d, ff]
    else:
        s[PFX + "wte.weight"] = [V, d]
        s[PFX + "wpe.weight"] = [cfg.P, d]
        for l in range(L):
            p = PFX + "h.%d." % l
            for n in ("ln_1", "ln_2"):
                s[p + n + ".weight"] = [d]
                s[p + n + ".bias"] = [d]
            s[p + "attn.c_attn.weight"] = [d, 3 * d]      # Conv1D: [in, out]
            s[p + "attn.c_attn.bias"] = [3 * d]
            s[p + "attn.c_proj.weight"] = [d, d]
            s[p + "attn.c_proj.bias"] = [d]
            s[p + "mlp.c_fc.weight"] = [d, ff]
            s[p + "mlp.c_fc.bias"] = [ff]
            s[p + "mlp.c_proj.weight"] = [ff, d]
            s[p + "mlp.c_proj.bias"] = [d]
        s[PFX + "ln_f.weight"] = [d]
        s[PFX + "ln_f.bias"] = [d]
        if cfg.cls:
            s["score.weight"] = [cfg.num_labels, d]
    return s


def weight_stds(spec, cfg):
    """Standard deviations of the weight draws. The sharp defaults are the gains below over
    sqrt(fan-in); a spec's "std" dict overrides any of them (the moderate models). Norm weights
    are drawn as neutral + norm_std * N(0, 1): neutral 0 for Gemma (the norm uses 1 + w), 1 for
    GPT-2's LayerNorm."""
    d, ff = cfg.d, cfg.ff
    if cfg.family == "gemma2":
        H, D = cfg.H, cfg.hd
        qk = spec.get("qk_gain", 0.0)
        sd = {"embed": spec.get("embed_std"), "norm": 0.1, "q": qk / math.sqrt(d), "k": qk / math.sqrt(d),
              "v": 1.0 / math.sqrt(d), "o": 1.0 / math.sqrt(H * D),
              "gate": spec.get("mlp_gain", 0.0) / math.sqrt(d), "up": 1.5 / math.sqrt(d),
              "down": 1.2 / math.sqrt(ff)}
    else:
        qk = spec.get("qk_gain", 0.0)
        bstd = spec.get("bias_std")
        sd = {"embed": spec.get("embed_std"), "pos": spec.get("pos_std"), "norm": 0.1, "ln_bias": bstd,
              "q": qk / math.sqrt(d), "k": qk / math.sqrt(d), "v": 1.0 / math.sqrt(d),
              "c_attn_bias": spec.get("c_attn_bias_std"), "o": 1.3 / math.sqrt(d), "o_bias": bstd,
              "fc": spec.get("mlp_gain", 0.0) / math.sqrt(d), "fc_bias": bstd,
              "proj": 1.2 / math.sqrt(ff), "proj_bias": bstd, "score": 1.0 / math.sqrt(d)}
    sd.update(spec.get("std", {}))
    assert all(v is not None and v > 0 for v in sd.values()), sd
    return sd


def make_weights(spec, cfg):
    rng = np.random.Generator(np.random.PCG64(spec["seed"]))
    W = {}
    sd = weight_stds(spec, cfg)

    def nrm(shape, std):
        return rng.standard_normal(shape) * std

    d, ff = cfg.d, cfg.ff
    if cfg.family == "gemma2":
        H, KV, D = cfg.H, cfg.KV, cfg.hd
        W["model.embed_tokens.weight"] = nrm((cfg.V, d), sd["embed"])
        for l in range(cfg.L):
            p = "model.layers.%d." % l
            for n in ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                      "post_feedforward_layernorm"):
                W[p + n + ".weight"] = nrm(d, sd["norm"])   # Gemma stores w; the norm uses 1 + w
            W[p + "self_attn.q_proj.weight"] = nrm((H * D, d), sd["q"])
            W[p + "self_attn.k_proj.weight"] = nrm((KV * D, d), sd["k"])
            W[p + "self_attn.v_proj.weight"] = nrm((KV * D, d), sd["v"])
            W[p + "self_attn.o_proj.weight"] = nrm((d, H * D), sd["o"])
            W[p + "mlp.gate_proj.weight"] = nrm((ff, d), sd["gate"])
            W[p + "mlp.up_proj.weight"] = nrm((ff, d), sd["up"])
            W[p + "mlp.down_proj.weight"] = nrm((d, ff), sd["down"])
        W["model.norm.weight"] = nrm(d, sd["norm"])
    else:
        W[PFX + "wte.weight"] = nrm((cfg.V, d), sd["embed"])
        W[PFX + "wpe.weight"] = nrm((cfg.P, d), sd["pos"])
        for l in range(cfg.L):
            p = PFX + "h.%d." % l
            for n in ("ln_1", "ln_2"):
                W[p + n + ".weight"] = 1.0 + nrm(d, sd["norm"])
                W[p + n + ".bias"] = nrm(d, sd["ln_bias"])
            ca = np.concatenate([nrm((d, d), sd["q"]), nrm((d, d), sd["k"]),
                                 nrm((d, d), sd["v"])], axis=1)      # [in, q | k | v]
            W[p + "attn.c_attn.weight"] = ca
            W[p + "attn.c_attn.bias"] = nrm(3 * d, sd["c_attn_bias"])
            W[p + "attn.c_proj.weight"] = nrm((d, d), sd["o"])
            W[p + "attn.c_proj.bias"] = nrm(d, sd["o_bias"])
            W[p + "mlp.c_fc.weight"] = nrm((d, ff), sd["fc"])
            W[p + "mlp.c_fc.bias"] = nrm(ff, sd["fc_bias"])
            W[p + "mlp.c_proj.weight"] = nrm((ff, d), sd["proj"])
            W[p + "mlp.c_proj.bias"] = nrm(d, sd["proj_bias"])
        W[PFX + "ln_f.weight"] = 1.0 + nrm(d, sd["norm"])
        W[PFX + "ln_f.bias"] = nrm(d, sd["ln_bias"])
        if cfg.cls:
            W["score.weight"] = nrm((cfg.num_labels, d), sd["score"])
    return W


BUFFER_RE = re.compile(r"^(transformer\.)?h\.\d+\.attn\.(bias|masked_bias)$")


def buffers(spec, cfg):
    """The non-parameter buffers some GPT-2 checkpoints carry (the loader must skip them)."""
    b = {}
    if spec.get("buffers"):
        P = cfg.P
        # as transformers 4.0 - 4.30 saved them: bias = tril(ones(P, P), dtype=bool).view(1, 1, P, P)
        # (safetensors dtype BOOL, one byte 0/1 per element), masked_bias = tensor(-1e4) (F32, shape [])
        tril = np.tril(np.ones((P, P), dtype=np.uint8)).reshape(1, 1, P, P)
        for l in range(cfg.L):
            b[PFX + "h.%d.attn.bias" % l] = mef.Stored("BOOL", tril.shape, tril.tobytes())
            b[PFX + "h.%d.attn.masked_bias" % l] = mef.as_f32(np.array(-1e4))   # shape []
    return b


def write_model(spec, folder, W, cfg):
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    with open(os.path.join(folder, "config.json"), "w") as f:
        f.write(json.dumps(spec["config"], indent=2, sort_keys=True) + "\n")
    stored = {n: mef.as_f32(a) for n, a in W.items()}
    bufs = buffers(spec, cfg)
    assert not set(bufs) & set(stored)
    allt = dict(stored)
    allt.update(bufs)
    mef.write_safetensors(os.path.join(folder, "model.safetensors"), allt, {"format": "pt"})
    return allt


def load_model(folder):
    with open(os.path.join(folder, "config.json")) as f:
        cfg = resolve_config(json.load(f))
    raw, meta = read_safetensors(os.path.join(folder, "model.safetensors"))
    assert meta == {"format": "pt"}
    exp = expected_shapes(cfg)
    W, skipped = {}, []
    for n, (dt, shp, b) in raw.items():
        if cfg.family == "gpt2" and BUFFER_RE.match(n):
            skipped.append(n)          # attention-mask buffers, not parameters
            continue
        key = n if (cfg.family != "gpt2" or n.startswith(PFX) or n.startswith("score.")) else PFX + n
        assert key in exp, n
        assert list(shp) == exp[key], (n, shp, exp[key])
        assert dt == "F32"
        W[key] = torch.as_tensor(mef.decode(dt, shp, b))
    assert set(W) == set(exp), sorted(set(W) ^ set(exp))
    assert not any(n.endswith("c_attn.bias") for n in skipped)
    return cfg, W, raw, skipped


# ----------------------------------------------------------------------------------------------
# model specs
# ----------------------------------------------------------------------------------------------

def model_specs():
    M = []
    M.append(dict(
        name="gemma2",
        config=gemma2_config(V=80, d=24, ff=48, L=3, H=4, KV=2, hd=16, qpas=64, window=4,
                             attn_cap=2.0, final_cap=3.0),
        seed=2201, embed_std=0.3, qk_gain=2.0, mlp_gain=0.8,
        mutations=["no_attn_cap", "no_final_cap", "cap_after_mask", "cap_before_scale",
                   "caps_swapped", "scale_head_dim", "norm_w_not_1plus", "no_post_norms",
                   "llama_norm_roles", "no_embed_scale", "lm_head_scaled", "silu", "no_window",
                   "window_everywhere", "window_reversed", "window_plus1", "window_minus1",
                   "gqa_modulo", "rope_interleaved"],
        small=["gelu_erf", "embed_scale_exact"]))
    M.append(dict(
        name="gpt2", config=gpt2_config("GPT2LMHeadModel", V=96, d=32, L=2, H=4, P=64, n_inner=None),
        seed=2202, buffers=True,
        embed_std=1.0, pos_std=0.5, qk_gain=1.6, mlp_gain=1.5, bias_std=0.3, c_attn_bias_std=0.8,
        mutations=["c_proj_transposed", "qkv_order_kqv", "qkv_interleaved", "drop_c_attn_bias",
                   "no_positions", "positions_offset1", "no_scale", "scale_nembd", "ln_no_bias",
                   "ln_no_mean"],
        small=["gelu_erf", "ln_unbiased", "silu"]))
    M.append(dict(
        name="gpt2_cls",
        config=gpt2_config("GPT2ForSequenceClassification", V=64, d=32, L=1, H=4, P=32, n_inner=48,
                           extra={"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0},
                                  "pad_token_id": 63}),
        seed=2203, embed_std=1.0, pos_std=0.5, qk_gain=1.6, mlp_gain=1.5, bias_std=0.3, c_attn_bias_std=0.8,
        mutations=["c_proj_transposed", "qkv_order_kqv", "drop_c_attn_bias", "no_positions",
                   "positions_offset1", "ln_no_bias", "pool_before_ln_f"],
        reward_mutations=["pool_last_position"],
        reward_b_mutations=["pool_first_pad_minus1"],
        small=["gelu_erf", "ln_unbiased"]))

    # "moderate" variants for the reduced-precision (f16 / bf16 / int8) tests: the residual stream
    # is dominated by the embeddings and every block update is small (< 0.2 of the residual,
    # asserted), norm weights near neutral; same architecture features as the sharp models
    M.append(dict(
        name="gemma2_moderate", kind="moderate",
        config=gemma2_config(V=128, d=64, ff=64, L=3, H=4, KV=2, hd=8, qpas=32, window=6,
                             attn_cap=1.0, final_cap=40.0),
        seed=2241, min_distinct=1,
        std={"embed": 1.0, "norm": 0.1, "q": 0.125, "k": 0.125, "v": 0.125, "o": 0.177,
             "gate": 0.125, "up": 0.125, "down": 0.125},
        # the block updates are small, so only the mistakes that reach the residual stream
        # directly (or change a whole attention pattern) move the logits by > 10%
        mutations=["no_final_cap", "cap_after_mask", "caps_swapped", "norm_w_not_1plus",
                   "no_post_norms", "llama_norm_roles", "no_embed_scale", "lm_head_scaled",
                   "no_window", "window_reversed", "gqa_modulo"],
        small=["no_attn_cap", "cap_before_scale", "scale_head_dim", "silu", "window_everywhere",
               "window_plus1", "window_minus1", "rope_interleaved", "gelu_erf", "embed_scale_exact"]))
    M.append(dict(
        name="gpt2_moderate", kind="moderate",
        config=gpt2_config("GPT2LMHeadModel", V=128, d=32, L=2, H=4, P=64, n_inner=None),
        seed=2212, min_distinct=1,
        std={"embed": 1.0, "pos": 0.5, "norm": 0.1, "ln_bias": 0.05, "q": 0.177, "k": 0.177,
             "v": 0.177, "c_attn_bias": 0.05, "o": 0.05, "o_bias": 0.02, "fc": 0.177, "fc_bias": 0.05,
             "proj": 0.02, "proj_bias": 0.02},
        mutations=["c_proj_transposed", "qkv_order_kqv", "qkv_interleaved", "no_positions",
                   "positions_offset1", "no_scale", "ln_no_mean"],
        small=["drop_c_attn_bias", "scale_nembd", "ln_no_bias", "gelu_erf", "ln_unbiased", "silu"]))
    M.append(dict(
        name="gpt2_cls_moderate", kind="moderate",
        config=gpt2_config("GPT2ForSequenceClassification", V=64, d=64, L=1, H=4, P=32, n_inner=128,
                           extra={"id2label": {"0": "LABEL_0"}, "label2id": {"LABEL_0": 0},
                                  "pad_token_id": 63}),
        seed=2215,
        std={"embed": 1.0, "pos": 0.5, "norm": 0.1, "ln_bias": 0.05, "q": 0.125, "k": 0.125,
             "v": 0.125, "c_attn_bias": 0.05, "o": 0.03, "o_bias": 0.02, "fc": 0.125, "fc_bias": 0.05,
             "proj": 0.02, "proj_bias": 0.02, "score": 0.125},
        mutations=["c_proj_transposed", "no_positions", "positions_offset1", "pool_before_ln_f"],
        reward_mutations=["pool_last_position"],
        reward_b_mutations=["pool_first_pad_minus1"],
        small=["qkv_order_kqv", "drop_c_attn_bias", "ln_no_bias", "gelu_erf", "ln_unbiased"]))
    return M


# ----------------------------------------------------------------------------------------------
# goldens
# ----------------------------------------------------------------------------------------------

rel = mef.rel
ratio = mef.ratio


def greedy(cfg, W, prompt):
    seq = [int(x) for x in prompt]
    gaps, mx = [], 0.0
    for _ in range(N_GREEDY):
        lg = forward(cfg, W, seq)["logits"][-1]
        top = torch.topk(lg, 2).values
        gaps.append(float(top[0] - top[1]))
        mx = max(mx, float(lg.abs().max()))
        seq.append(int(torch.argmax(lg)))
    return seq[len(prompt):], min(gaps), min(gaps) >= 1e-3 * mx


def cls_ids(rng, cfg, T, interior_pad):
    """Random non-pad ids, ending with pad tokens (3 for T = 24, 2 for T = 11); with
    interior_pad, one pad id at position 4 as well."""
    n_tail = 3 if T >= 20 else 2
    ids = rng.integers(0, cfg.V - 1, T)          # [0, V - 1): never the pad id V - 1
    assert cfg.pad == cfg.V - 1
    ids[T - n_tail:] = cfg.pad
    if interior_pad:
        ids[4] = cfg.pad
    return ids


def read_safetensors(path):
    """mef.read_safetensors, plus BOOL (1 byte) entries such as the old GPT-2 mask buffers."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = mef.struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", None)
    esz = {"F32": 4, "BF16": 2, "I32": 4, "BOOL": 1}
    spans, out = [], {}
    for name, h in header.items():
        b, e = h["data_offsets"]
        assert (e - b) == esz[h["dtype"]] * int(np.prod(h["shape"], dtype=np.int64)), name
        spans.append((b, e))
        out[name] = (h["dtype"], h["shape"], body[b:e])
    spans.sort()
    pos = 0
    for b, e in spans:
        assert b == pos, "gap or overlap in " + path
        pos = e
    assert pos == len(body), "trailing bytes in " + path
    return out, meta


def build(spec, report):
    name = spec["name"]
    folder = os.path.join(OUT, name)
    cfg0 = resolve_config(json.loads(json.dumps(spec["config"])))
    W64 = make_weights(spec, cfg0)
    stored = write_model(spec, folder, W64, cfg0)
    cfg, W, raw, skipped = load_model(folder)
    for n in stored:
        assert raw[n][2] == stored[n].raw, n
    if spec.get("buffers"):
        assert len(skipped) == 2 * cfg.L
        for n in skipped:
            dt, shp, b = raw[n]
            if n.endswith("masked_bias"):
                assert dt == "F32" and list(shp) == [] and float(mef.decode(dt, shp, b)) == -1e4
            else:
                assert dt == "BOOL" and list(shp) == [1, 1, cfg.P, cfg.P]
                a = np.frombuffer(b, dtype=np.uint8).reshape(cfg.P, cfg.P)
                assert np.array_equal(a, np.tril(np.ones((cfg.P, cfg.P), dtype=np.uint8)))
    else:
        assert not skipped
    is_cls = cfg.family == "gpt2" and cfg.cls
    moderate = spec.get("kind", "sharp") == "moderate"
    rep = {"name": name, "cfg": cfg, "mut": [], "small": [], "kind": spec.get("kind", "sharp")}

    # ---- ids
    if is_cls:
        rng = np.random.Generator(np.random.PCG64(spec["seed"] * 1000))
        ids = cls_ids(rng, cfg, T_MAIN, False)
        ids_b = cls_ids(rng, cfg, T_B, True)
        attempt, g, gap = 0, None, None
    else:
        for attempt in range(200):
            rng = np.random.Generator(np.random.PCG64(spec["seed"] * 1000 + attempt))
            ids = rng.integers(0, cfg.V, T_MAIN)
            ids_b = rng.integers(0, cfg.V, T_B)
            g, gap, ok = greedy(cfg, W, ids[:N_PROMPT])
            if ok and len(set(g)) >= spec.get("min_distinct", MIN_DISTINCT_GREEDY):
                break
        else:
            raise AssertionError(name + ": no ids seed gives clear greedy gaps")

    out = forward(cfg, W, ids)
    logits = out["logits"]
    out_b = forward(cfg, W, ids_b)

    # ---- self-check: loops
    Wn = {n: v.numpy() for n, v in W.items()}
    rep["loop_err"] = loops_check(cfg, Wn, out, [int(x) for x in ids])
    x = torch.linspace(-6, 6, 1201)
    assert float((gelu_tanh(x) - torch.nn.functional.gelu(x, approximate="tanh")).abs().max()) < 1e-15

    # ---- stream consistency and update sizes
    for l in range(cfg.L):
        s = "blocks.%d." % l
        assert torch.equal(out[s + "resid_mid"], out[s + "resid_pre"] + out[s + "attn_out"])
        assert torch.equal(out[s + "resid_post"], out[s + "resid_mid"] + out[s + "mlp_out"])
        if l + 1 < cfg.L:
            assert torch.equal(out[s + "resid_post"], out["blocks.%d.resid_pre" % (l + 1)])
    if cfg.family == "gemma2":
        assert torch.equal(out["blocks.0.resid_pre"], out["embed"] * cfg.normalizer)
    else:
        assert torch.equal(out["blocks.0.resid_pre"], out["embed"] + out["pos_embed"])
    ratios = []
    for l in range(cfg.L):
        ratios.append(ratio(out["blocks.%d.attn_out" % l], out["blocks.%d.resid_pre" % l]))
        ratios.append(ratio(out["blocks.%d.mlp_out" % l], out["blocks.%d.resid_mid" % l]))
    if moderate:
        assert max(ratios) < 0.2, (name, ratios)
    else:
        assert min(ratios) > 0.2, (name, ratios)
    rep["ratios"] = ratios

    # ---- soft-cap activity (Gemma-2)
    if cfg.family == "gemma2":
        fr = []
        for l in range(cfg.L):
            xn = g2_norm(out["blocks.%d.resid_pre" % l], W["model.layers.%d.input_layernorm.weight" % l], cfg.eps)
            sc = g2_attn_scores(cfg, W, l, xn)
            fr.append((float((sc.abs() > cfg.attn_cap / 2).double().mean()), float(sc.abs().max())))
        rep["attn_cap_frac"] = fr
        lp = out["logits_precap"]
        rep["final_cap_frac"] = (float((lp.abs() > cfg.final_cap / 2).double().mean()), float(lp.abs().max()))
        if moderate:
            # the attention updates are small, so removing the attention cap hardly moves the
            # logits; it must still change every layer's attn_out by > 5%
            o = forward(cfg, W, ids, {"no_attn_cap": True})
            rep["attn_cap_site"] = [rel(o["blocks.%d.attn_out" % l], out["blocks.%d.attn_out" % l])
                                    for l in range(cfg.L)]
            assert min(rep["attn_cap_site"]) > 0.05, rep["attn_cap_site"]

    # ---- mutations
    pool = pool_index(ids, cfg.pad) if is_cls else None
    pool_b = pool_index(ids_b, cfg.pad) if is_cls else None
    for m in spec["mutations"]:
        r = rel(forward(cfg, W, ids, {m: True})["logits"], logits)
        rep["mut"].append((m, r))
        assert r > MUT_MIN, (name, m, r)
    for m in spec.get("small", []):
        rep["small"].append((m, rel(forward(cfg, W, ids, {m: True})["logits"], logits)))
    if is_cls:
        reward = logits[pool]
        reward_b = out_b["logits"][pool_b]
        assert pool == T_MAIN - 4 and pool_b == T_B - 3
        assert pool_index(ids, cfg.pad, "first_pad_minus1") == pool             # rules agree
        assert pool_index(ids_b, cfg.pad, "first_pad_minus1") == 3 != pool_b   # rules differ
        assert pool_index(ids, None) == T_MAIN - 1
        assert pool_index([cfg.pad] * 5, cfg.pad) == 0 and pool_index([7, 63, 63], 63) == 0
        assert float(reward.abs().min()) > 0.3 * float(logits.pow(2).mean().sqrt()), (reward, logits)
        for m in spec["reward_mutations"]:
            wrong = logits[pool_index(ids, cfg.pad, "last")]
            r = rel(wrong, reward)
            rep["mut"].append((m + " (reward of ids)", r))
            assert r > MUT_MIN, (name, m, r)
        for m in spec["reward_b_mutations"]:
            wrong = out_b["logits"][pool_index(ids_b, cfg.pad, "first_pad_minus1")]
            r = rel(wrong, reward_b)
            rep["mut"].append((m + " (reward of ids_b)", r))
            assert r > MUT_MIN, (name, m, r)
        rep["pool"] = (pool, pool_b, float(reward[0]), float(reward_b[0]))

    # ---- golden.safetensors
    gold = {"ids": mef.as_i32(ids), "logits": mef.as_f32(logits), "embed": mef.as_f32(out["embed"]),
            "final_norm": mef.as_f32(out["final_norm"]), "ids_b": mef.as_i32(ids_b),
            "logits_b": mef.as_f32(out_b["logits"])}
    for l in range(cfg.L):
        for s in SITES:
            k = "blocks.%d.%s" % (l, s)
            gold[k] = mef.as_f32(out[k])
    if cfg.family == "gemma2":
        gold["logits_precap"] = mef.as_f32(out["logits_precap"])
    else:
        gold["pos_embed"] = mef.as_f32(out["pos_embed"])
    if is_cls:
        gold["reward"] = mef.as_f32(reward)
        gold["pool_index"] = mef.as_i32(np.array([pool]))
        gold["reward_b"] = mef.as_f32(reward_b)
        gold["pool_index_b"] = mef.as_i32(np.array([pool_b]))
    else:
        assert gap >= 1e-3 * float(logits.abs().max())
        gold["greedy_prompt"] = mef.as_i32(ids[:N_PROMPT])
        gold["greedy"] = mef.as_i32(np.array(g))
        gold["greedy_min_gap"] = mef.as_f32(np.array([gap]))
        rep["greedy"] = (g, gap, float(logits.abs().max()))
    meta = {"model": name, "generator": "tests/reference/make_gemma2_gpt2_fixtures.py",
            "ids_seed": str(spec["seed"] * 1000 + attempt)}
    gpath = os.path.join(folder, "golden.safetensors")
    mef.write_safetensors(gpath, gold, meta)
    gb, gmeta = mef.read_safetensors(gpath)
    assert gmeta == meta and set(gb) == set(gold)
    for n in gold:
        assert gb[n][2] == gold[n].raw, n

    # ---- grad.safetensors
    build_grads(spec, cfg, W, ids, out, folder, rep, pool if is_cls else None)

    # ---- moderate models: what rounding the weights to f16 / bf16 / int8 costs
    if moderate:
        check_reduced_precision(cfg, W, ids, out, pool if is_cls else None, rep)

    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    rep["size"] = size
    rep["files"] = {f: os.path.getsize(os.path.join(folder, f)) for f in sorted(os.listdir(folder))}
    report.append(rep)
    return size


def site_names(cfg):
    return mgf.site_names(cfg)


def build_grads(spec, cfg, W, ids, out0, folder, rep, pool):
    name = spec["name"]
    T = len(ids)
    ids_t = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    snames = site_names(cfg)
    is_cls = pool is not None

    def zeros(grad):
        return {s: torch.zeros(T, cfg.d, requires_grad=grad) for s in snames}

    def objective(o):
        return o["logits"][pool, 0] if is_cls else mgf.loss_ce(o["logits"], ids_t)

    # hooked forward with zero addends gives exactly the golden values
    with torch.no_grad():
        o0 = forward(cfg, W, ids, Z=zeros(False))
    for k in ["logits", "embed", "final_norm"] + ["blocks.%d.%s" % (l, s) for l in range(cfg.L) for s in SITES]:
        assert torch.equal(o0[k], out0[k]), k

    Z = zeros(True)
    Wg = {n: v.clone().requires_grad_(True) for n, v in W.items()}
    o = forward(cfg, Wg, ids, Z=Z)
    obj = objective(o)
    wnames = sorted(Wg)
    gl = torch.autograd.grad(obj, [Z[s] for s in snames] + [Wg[n] for n in wnames])
    gsite = dict(zip(snames, gl[:len(snames)]))
    gw = dict(zip(wnames, gl[len(snames):]))
    logits = o["logits"].detach()
    hn = o["final_norm"].detach()

    # structural identities
    if cfg.family == "gemma2":
        assert torch.equal(gsite["embed"], gsite["blocks.0.resid_pre"] * cfg.normalizer)
    else:
        assert torch.equal(gsite["embed"], gsite["blocks.0.resid_pre"])
    for l in range(cfg.L):
        s = "blocks.%d." % l
        assert torch.equal(gsite[s + "attn_out"], gsite[s + "resid_mid"])
        assert torch.equal(gsite[s + "mlp_out"], gsite[s + "resid_post"])
        if l + 1 < cfg.L:
            assert torch.equal(gsite[s + "resid_post"], gsite["blocks.%d.resid_pre" % (l + 1)])
    last_used = pool if is_cls else T - 2
    for s in snames:
        assert torch.all(gsite[s][last_used + 1:] == 0), (name, s)
        assert torch.all(torch.isfinite(gsite[s])) and float(gsite[s][last_used].abs().max()) > 0
    for n in wnames:
        assert gw[n].shape == W[n].shape and torch.all(torch.isfinite(gw[n])), n

    # analytic head / embedding gradients
    with torch.no_grad():
        dlog = torch.zeros_like(logits)
        if is_cls:
            dlog[pool, 0] = 1.0
        else:
            sm = torch.softmax(logits[K - 1:T - 1], dim=-1)
            sm[torch.arange(T - K), ids_t[K:T]] -= 1.0
            dlog[K - 1:T - 1] = sm / (T - K)
        if cfg.family == "gemma2":
            lp = o["logits_precap"].detach()
            dpre = dlog * (1.0 - torch.tanh(lp / cfg.final_cap) ** 2)
            ename = "model.embed_tokens.weight"
            e_want = dpre.T @ hn
        else:
            ename = PFX + "wte.weight"
            if is_cls:
                e_want = torch.zeros_like(W[ename])
                sc_want = dlog.T @ hn
                d_ = float((gw["score.weight"] - sc_want).abs().max())
                assert d_ <= 1e-13 * float(sc_want.abs().max()), d_
            else:
                e_want = dlog.T @ hn
            wpe_want = torch.zeros_like(W[PFX + "wpe.weight"])
            wpe_want[:T] = gsite["blocks.0.resid_pre"]
            d_ = float((gw[PFX + "wpe.weight"] - wpe_want).abs().max())
            assert d_ <= 1e-13 * float(wpe_want.abs().max()), d_
        e_want = e_want.index_add(0, ids_t, gsite["embed"])
        d_ = float((gw[ename] - e_want).abs().max())
        assert d_ <= 1e-13 * float(e_want.abs().max()), (name, d_)

    tens = {}
    if is_cls:
        tens["reward"] = mef.as_f32(np.array([float(obj)]))
        metadata = {"model": name, "objective": "reward", "pool_index": str(pool)}
    else:
        with torch.no_grad():
            rows = logits[K - 1:T - 1]
            hand = (torch.logsumexp(rows, -1) - rows[torch.arange(T - K), ids_t[K:T]]).mean()
        assert abs(float(obj) - float(hand)) < 1e-12
        if cfg.family == "gemma2":
            rep["loss_uncapped"] = float(mgf.loss_ce(o["logits_precap"].detach(), ids_t))
        coef = np.random.default_rng(mgf.LOSS2_SEED).standard_normal((4, cfg.V))
        coef = coef.astype(np.float32).astype(np.float64)
        coef_t = torch.as_tensor(coef)
        Z2 = zeros(True)
        loss2 = mgf.loss_2(forward(cfg, W, ids, Z=Z2)["logits"], coef_t)
        (g2,) = torch.autograd.grad(loss2, [Z2["embed"]])
        tens["loss"] = mef.as_f32(np.array([float(obj)]))
        tens["loss2"] = mef.as_f32(np.array([float(loss2)]))
        tens["loss2_coef"] = mef.as_f32(coef)
        tens["grad2.embed"] = mef.as_f32(g2.numpy())
        metadata = {"loss_from": str(K), "model": name}
    for s in snames:
        tens["grad." + s] = mef.as_f32(gsite[s].numpy())
    if spec.get("kind", "sharp") == "sharp":       # moderate models: no weight gradients stored
        for n in wnames:
            tens["wgrad." + n] = mef.as_f32(gw[n].numpy())

    # finite differences (float64, central, step 1e-5)
    rng = np.random.default_rng(3000 + spec["seed"])
    fd = []
    Zf = zeros(False)
    Wf = {n: v.clone() for n, v in W.items()}
    with torch.no_grad():
        def f1():
            return objective(forward(cfg, Wf, ids, Z=Zf))

        rows = list(range(0, last_used + 1))
        for idx in mgf.pick(rng, gsite["embed"], 6, rows):
            fd.append(("d/d embed", idx, mgf.central_diff(f1, Zf["embed"], idx), float(gsite["embed"][idx])))
        for s in ("blocks.%d.attn_out" % min(1, cfg.L - 1), "blocks.%d.resid_mid" % (cfg.L - 1)):
            (idx,) = mgf.pick(rng, gsite[s], 1, rows)
            fd.append(("d/d " + s, idx, mgf.central_diff(f1, Zf[s], idx), float(gsite[s][idx])))
        if not is_cls:
            def f2():
                return mgf.loss_2(forward(cfg, Wf, ids, Z=Zf)["logits"], coef_t)
            for idx in mgf.pick(rng, g2, 4):
                fd.append(("loss2 d/d embed", idx, mgf.central_diff(f2, Zf["embed"], idx), float(g2[idx])))
        if cfg.family == "gemma2":
            wl = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                  "model.layers.1.self_attn.k_proj.weight",
                  "model.layers.%d.mlp.down_proj.weight" % (cfg.L - 1),
                  "model.layers.0.post_attention_layernorm.weight",
                  "model.layers.1.post_feedforward_layernorm.weight",
                  "model.layers.2.pre_feedforward_layernorm.weight", "model.norm.weight"]
        else:
            wl = [PFX + "wte.weight", PFX + "wpe.weight", PFX + "h.0.attn.c_attn.weight",
                  PFX + "h.0.attn.c_attn.bias", PFX + "h.0.ln_1.bias",
                  PFX + "h.%d.attn.c_proj.weight" % (cfg.L - 1),
                  PFX + "h.%d.mlp.c_proj.weight" % (cfg.L - 1), PFX + "ln_f.weight", PFX + "ln_f.bias"]
            if is_cls:
                wl.append("score.weight")
        for n in wl:
            (idx,) = mgf.pick(rng, gw[n], 1)
            fd.append(("d/d " + n, idx, mgf.central_diff(f1, Wf[n], idx), float(gw[n][idx])))
    worst = 0.0
    for what, idx, num, ana in fd:
        r = abs(num - ana) / abs(ana)
        worst = max(worst, r)
        assert r < mgf.FD_TOL, (name, what, idx, num, ana, r)
    rep["fd"] = fd
    rep["fd_worst"] = worst
    rep["objective"] = float(obj)

    path = os.path.join(folder, "grad.safetensors")
    mef.write_safetensors(path, tens, metadata)
    back, meta = mef.read_safetensors(path)
    assert meta == metadata and set(back) == set(tens)
    for n in tens:
        assert back[n][2] == tens[n].raw and back[n][0] == "F32", n


# ----------------------------------------------------------------------------------------------
# moderate models: simulated reduced precision
# ----------------------------------------------------------------------------------------------

CONV1D_SUFFIXES = (".attn.c_attn.weight", ".attn.c_proj.weight", ".mlp.c_fc.weight", ".mlp.c_proj.weight")
# (weight type, bound on the simulated max-norm relative error): half of the tolerances the C
# tests use for the moderate engine fixtures (2e-2 for f16 / bf16, 6e-2 for int8)
RP_KINDS = (("f16", 1e-2), ("bf16", 1e-2), ("int8", 3e-2))


def round_weights(cfg, W, kind):
    """Every 2-D tensor rounded as lvs_convert stores it (1-D norms and biases stay f32): f16 or
    bf16 round-to-nearest-even, or int8 blocks of 32 along the input dimension (GPT-2's Conv1D
    matrices are [in, out] in the file, so their blocks run down the columns)."""
    out = {}
    for n, w in W.items():
        if w.dim() != 2:
            out[n] = w
        elif kind == "f16":
            out[n] = w.to(torch.float16).to(torch.float64)      # w holds f32 values: one rounding
        elif kind == "bf16":
            out[n] = w.to(torch.bfloat16).to(torch.float64)
        else:
            conv1d = cfg.family == "gpt2" and n.endswith(CONV1D_SUFFIXES)
            out[n] = q8_round(w.T).T if conv1d else q8_round(w)
    return out


def maxrel(a, b):
    """max|a - b| / max|b|, the tests' t_rel_err."""
    return float((a - b).abs().max() / b.abs().max())


def site_grads(cfg, W, ids, pool, coef):
    """objective (loss, or the reward at pool), d objective / d site for every site, and for the
    LM fixtures d loss2 / d embed."""
    T = len(ids)
    ids_t = torch.as_tensor(np.asarray(ids, dtype=np.int64))
    snames = site_names(cfg)
    Z = {s: torch.zeros(T, cfg.d, requires_grad=True) for s in snames}
    lg = forward(cfg, W, ids, Z=Z)["logits"]
    obj = lg[pool, 0] if pool is not None else mgf.loss_ce(lg, ids_t)
    gs = dict(zip(snames, torch.autograd.grad(obj, [Z[s] for s in snames])))
    g2 = None
    if pool is None:
        Z2 = {s: torch.zeros(T, cfg.d, requires_grad=True) for s in snames}
        (g2,) = torch.autograd.grad(mgf.loss_2(forward(cfg, W, ids, Z=Z2)["logits"], coef), [Z2["embed"]])
    return float(obj), gs, g2


def check_reduced_precision(cfg, W, ids, out, pool, rep):
    """Reruns the float64 reference with every matrix rounded to f16, bf16 or int8 (int8 also
    rounds each matrix's input activations to int8 blocks, as lvs.h's int8 kernels do; the
    gradients use a straight-through rounding, i.e. dx = dy W with the dequantized W) and
    asserts that the goldens the C tests compare (logits, every site, the objective, every site
    gradient, grad2.embed) move by less than half the C tolerances (max-norm relative error)."""
    coef = None
    if pool is None:
        coef = np.random.default_rng(mgf.LOSS2_SEED).standard_normal((4, cfg.V))
        coef = torch.as_tensor(coef.astype(np.float32).astype(np.float64))
    obj0, gs0, g20 = site_grads(cfg, W, ids, pool, coef)
    keys = ["logits", "final_norm"] + site_names(cfg)
    rep["rp"] = []
    for kind, bound in RP_KINDS:
        Wr = round_weights(cfg, W, kind)
        Q8_ACT[0] = kind == "int8"
        try:
            with torch.no_grad():
                o = forward(cfg, Wr, ids)
            obj, gs, g2 = site_grads(cfg, Wr, ids, pool, coef)
        finally:
            Q8_ACT[0] = False
        fe = max((maxrel(o[k], out[k]), k) for k in keys)
        ge = [(abs(obj - obj0) / abs(obj0), "objective")]
        ge += [(maxrel(gs[s], gs0[s]), "grad." + s) for s in gs0]
        if g2 is not None:
            ge.append((maxrel(g2, g20), "grad2.embed"))
        ge = max(ge)
        assert fe[0] < bound and ge[0] < bound, (rep["name"], kind, fe, ge)
        rep["rp"].append((kind, fe[0], fe[1], ge[0], ge[1]))


def print_report(rep):
    cfg = rep["cfg"]
    name = rep["name"]
    print("%s  L=%d d=%d H=%d hd=%d ff=%d V=%d  loop-check max rel err %.1e" %
          (name, cfg.L, cfg.d, cfg.H, cfg.hd, cfg.ff, cfg.V, rep["loop_err"]))
    print("  %s; update ratios (attn, mlp per layer): " % rep["kind"] + " ".join("%.3f" % r for r in rep["ratios"]))
    if "attn_cap_frac" in rep:
        print("  attn scores |s| > cap/2 (fraction, max|s|) per layer: " +
              ", ".join("%.2f %.2f" % x for x in rep["attn_cap_frac"]))
        print("  final logits |x| > cap/2: fraction %.2f, max|precap| %.2f" % rep["final_cap_frac"])
        if "attn_cap_site" in rep:
            print("  no attention cap: attn_out changes by " + " ".join("%.3f" % r for r in rep["attn_cap_site"]))
        print("  loss %.6f (with uncapped logits it would be %.6f)" % (rep["objective"], rep["loss_uncapped"]))
    if "greedy" in rep:
        g, gap, mx = rep["greedy"]
        print("  greedy min gap %.4g (max|logits| %.3g): %s" % (gap, mx, " ".join(map(str, g))))
    if "pool" in rep:
        print("  pool index %d (ids_b: %d), reward %.6f, reward_b %.6f" % rep["pool"])
    print("  mutations (rel. change): " + ", ".join("%s %.2f" % m for m in rep["mut"]))
    print("  small effects (reported, not asserted): " + ", ".join("%s %.1e" % m for m in rep["small"]))
    for what, idx, num, ana in rep["fd"]:
        print("    fd %-50s %-9s fd % .10e  autograd % .10e  rel %.1e" %
              (what, str(idx), num, ana, abs(num - ana) / abs(ana)))
    print("  worst fd rel err %.2e; objective %.6f" % (rep["fd_worst"], rep["objective"]))
    for kind, fe, fk, ge, gk in rep.get("rp", []):
        print("  %-4s weights: forward max rel err %.2e (%s), gradients %.2e (%s)" % (kind, fe, fk, ge, gk))
    print("  files: " + ", ".join("%s %d" % kv for kv in rep["files"].items()) + "  (total %d)" % rep["size"])


def main():
    os.makedirs(OUT, exist_ok=True)
    report = []
    total = {"sharp": 0, "moderate": 0}
    for spec in model_specs():
        total[spec.get("kind", "sharp")] += build(spec, report)
    for rep in report:
        print_report(rep)
        if rep["kind"] == "moderate":
            assert rep["files"]["model.safetensors"] < 300 * 1000, rep["files"]
    print("total %d bytes (sharp %d, moderate %d)" % (sum(total.values()), total["sharp"], total["moderate"]))
    assert total["sharp"] < 900 * 1024 and total["moderate"] < 1200 * 1024, total
    for name in sorted(os.listdir(OUT)):
        d = os.path.join(OUT, name)
        if os.path.isdir(d):
            for f in sorted(os.listdir(d)):
                with open(os.path.join(d, f), "rb") as fh:
                    print("sha256 %s  %s/%s" % (hashlib.sha256(fh.read()).hexdigest(), name, f))


if __name__ == "__main__":
    main()
