#!/usr/bin/python3
"""LoRA fixtures: a PEFT-format adapter for each engine fixture, with float64 goldens.

What it writes, for each of the ten models of tests/fixtures/engine/ (tests/fixtures/lora/<NAME>/):
  * adapter_config.json: the file LoraConfig.save_pretrained of PEFT 0.13.x (0.13.0 - 0.13.2)
    writes, i.e. json.dumps(config.to_dict(), indent=2, sort_keys=True) with no trailing newline.
    The key set is that of 0.13.x: PeftConfigMixin/PeftConfig (auto_mapping,
    base_model_name_or_path, inference_mode, peft_type, revision, task_type) plus every LoraConfig
    field (runtime_config is popped by LoraConfig.to_dict). exclude_modules, eva_config and
    lora_bias only appeared in 0.14, corda_config etc. later, peft_version later still; a loader
    should ignore keys it does not know. save_pretrained sets inference_mode true. PEFT stores
    target_modules as a list in set order (unspecified); here the list is sorted.
    base_model_name_or_path is the engine folder, relative to the repository root.
  * adapter_model.safetensors: the state dict that PeftModel.save_pretrained writes (adapter name
    "default" removed, bias "none"), every tensor F32, safetensors metadata {"format": "pt"}:
        base_model.model.model.layers.{l}.self_attn.{q,k,v,o}_proj.lora_A.weight  [r, in_features]
        base_model.model.model.layers.{l}.self_attn.{q,k,v,o}_proj.lora_B.weight  [out_features, r]
        base_model.model.model.layers.{l}.mlp.{gate,up,down}_proj.lora_{A,B}.weight
    for every layer l and every targeted module. A and B are both random and non-zero:
    A = N(0, 1) / sqrt(in_features), B = N(0, 1) * gain / sqrt(r) (numpy default_rng(seed) of the
    fixture, drawn in layer order then module order q k v o gate up down, A before B), rounded to
    float32; gain is chosen per model so that the adapter moves the logits by 10-50 %.
    Every model uses r = 4, lora_alpha = 8, all seven projections of every layer, plain LoRA
    (scale = lora_alpha / r = 2), except qwen2_bias: r = 2, lora_alpha = 3, use_rslora true
    (scale = lora_alpha / sqrt(r) = 3 / sqrt(2)), target_modules q_proj, v_proj, down_proj only.
  * lora_golden.safetensors (F32, metadata {"loss_from": "16", "model": <name>,
    "scale": repr(scale)}): with the adapter applied the way PEFT's lora.Linear.forward applies
    it, y = base_layer(x) + lora_B(lora_A(x)) * scale = (W x + b) + scale * B (A x), on the T = 24
    token ids stored in tests/fixtures/engine/<NAME>/golden.safetensors:
        logits [T, V];
        loss [1]  = mean natural-log cross-entropy of ids[16..23] predicted from logit rows
                    15..22 (K = 16, the loss of make_grad_fixtures.py);
        grad.<adapter tensor name> = d loss / d (that lora_A / lora_B tensor), same shape.

How it computes: it reads the base weights ACTUALLY ON DISK (make_engine_fixtures.load_model,
BF16 decoded to float64) and the ADAPTER AS WRITTEN (read back with make_engine_fixtures'
safetensors reader, adapter_config.json parsed back for r / alpha / rsLoRA / targets), and runs the
float64 forward pass of make_engine_fixtures.py (imported, not copied) with its `linear` swapped
for one that adds the LoRA term to targeted modules; torch autograd, float64, one thread.

Self-checks (asserts; the script fails loudly):
  * with B = 0 the adapted forward gives exactly the logits of make_engine_fixtures.forward, and
    they round to the same F32 bytes as the stored golden logits;
  * the adapter changes the logits noticeably but does not blow the model up:
    0.05 < ||logits_lora - logits_base||_F / ||logits_base||_F < 1;
  * merging, W' = W + scale * B A, and running the plain forward gives the same float64 logits
    as the applied adapter to 1e-10 (max abs);
  * central finite differences in float64 (step 1e-6) of loss w.r.t. 3 random coordinates each
    of lora_A and lora_B of layer 0's v_proj and of the last layer's down_proj (targeted in every
    model; coordinates among those with |grad| >= 0.3 max|grad| of that tensor, since with this
    step the rounding error of the difference is ~1e-16 * loss / 1e-6) agree with autograd to a
    relative error < 1e-6 (worst seen 2e-7, on the moderate models, whose gradients are ~1e-3);
  * every file is read back and compared bit for bit (and adapter_config.json byte for byte).

How to rerun (from the repository root; needs Debian's /usr/bin/python3 with torch + numpy, no
PEFT needed):
    /usr/bin/python3 tests/reference/make_lora_fixtures.py
  Deterministic (fixed seeds, float64, one thread); rerunning rewrites the same bytes. It reads
  the engine fixtures, so rerun it after regenerating those (make_engine_fixtures.py).
"""
import contextlib
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_engine_fixtures as mef  # noqa: E402  (main() is guarded; importing writes nothing)
import make_grad_fixtures as mgf    # noqa: E402

torch.set_default_dtype(torch.float64)
torch.set_num_threads(1)

ENGINE = mef.OUT
OUT = os.path.join(mef.ROOT, "tests", "fixtures", "lora")
K = mgf.K
FD_STEP = 1e-6
FD_TOL = 1e-6
MERGE_TOL = 1e-10
FD_PICK = 0.3
PEFT_VERSION = "0.13.2"
ALL_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
PARENT = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn",
          "o_proj": "self_attn", "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"}

PLAIN = dict(r=4, alpha=8, rslora=False, targets=ALL_TARGETS)
SPECS = {
    "llama_gqa":      dict(PLAIN, seed=4101, gain=0.06),
    "llama3_rope":    dict(PLAIN, seed=4202, gain=0.06),
    "llama_headdim":  dict(PLAIN, seed=4303, gain=0.06),
    "mistral_sw":     dict(PLAIN, seed=4404, gain=0.06),
    "qwen2_bias":     dict(r=2, alpha=3, rslora=True, targets=("q_proj", "v_proj", "down_proj"),
                           seed=4505, gain=0.06),
    "qwen2_swa":      dict(PLAIN, seed=4606, gain=0.06),
    "llama_sharded":  dict(PLAIN, seed=4707, gain=0.06),
    "llama_bf16":     dict(PLAIN, seed=4808, gain=0.3),
    "llama_moderate": dict(PLAIN, seed=4909, gain=0.3),
    "qwen2_moderate": dict(PLAIN, seed=5010, gain=0.3),
}


def module_names(cfg, targets):
    """HF module paths of the targeted Linear layers, in layer order then q k v o gate up down."""
    return ["model.layers.%d.%s.%s" % (l, PARENT[m], m)
            for l in range(cfg.L) for m in ALL_TARGETS if m in targets]


def peft_key(module, which):
    return "base_model.model.%s.lora_%s.weight" % (module, which)


def adapter_config(spec, name):
    """LoraConfig(...).to_dict() of PEFT 0.13.x after get_peft_model + save_pretrained."""
    c = {
        "alpha_pattern": {},
        "auto_mapping": None,
        "base_model_name_or_path": "tests/fixtures/engine/" + name,
        "bias": "none",
        "fan_in_fan_out": False,
        "inference_mode": True,
        "init_lora_weights": True,
        "layer_replication": None,
        "layers_pattern": None,
        "layers_to_transform": None,
        "loftq_config": {},
        "lora_alpha": spec["alpha"],
        "lora_dropout": 0.0,
        "megatron_config": None,
        "megatron_core": "megatron.core",
        "modules_to_save": None,
        "peft_type": "LORA",
        "r": spec["r"],
        "rank_pattern": {},
        "revision": None,
        "target_modules": sorted(spec["targets"]),
        "task_type": "CAUSAL_LM",
        "use_dora": False,
        "use_rslora": spec["rslora"],
    }
    assert len(c) == 24
    return json.dumps(c, indent=2, sort_keys=True)      # PEFT writes no trailing newline


def scale_of(conf):
    """PEFT LoraLayer.update_layer: lora_alpha / sqrt(r) with use_rslora, else lora_alpha / r."""
    r, a = conf["r"], conf["lora_alpha"]
    return a / math.sqrt(r) if conf["use_rslora"] else a / r


def make_adapter(spec, cfg, W):
    rng = np.random.default_rng(spec["seed"])
    r = spec["r"]
    t = {}
    for m in module_names(cfg, spec["targets"]):
        out_f, in_f = W[m + ".weight"].shape
        A = rng.standard_normal((r, in_f)) / math.sqrt(in_f)
        B = rng.standard_normal((out_f, r)) * spec["gain"] / math.sqrt(r)
        for which, a in (("A", A), ("B", B)):
            a32 = a.astype(np.float32)
            assert np.all(a32 != 0)
            t[peft_key(m, which)] = mef.as_f32(a32)
    return t


@contextlib.contextmanager
def lora_applied(ad):
    """Swap make_engine_fixtures.linear (used by its attention and mlp) for PEFT's lora.Linear:
    result = base_layer(x); result = result + lora_B(lora_A(dropout(x))) * scaling.
    ad: HF module path -> (A [r, in], B [out, r], scale)."""
    base = mef.linear

    def linear(x, W, name, bias_on):
        y = base(x, W, name, bias_on)
        if name in ad:
            A, B, s = ad[name]
            y = y + ((x @ A.T) @ B.T) * s
        return y

    mef.linear = linear
    try:
        yield
    finally:
        mef.linear = base


def logits_with(cfg, W, ids, ad):
    with lora_applied(ad):
        return mef.forward(cfg, W, ids)["logits"]


def pick(rng, g, n):
    """n distinct random coordinates of g with |g| >= FD_PICK * max|g| (with step 1e-6 the
    rounding error of the difference is ~1e-16 * loss / 1e-6, so |g| must not be tiny)."""
    a = g.abs().numpy()
    cand = np.argwhere(a >= FD_PICK * a.max())
    sel = rng.choice(len(cand), size=n, replace=False)
    return [tuple(int(i) for i in cand[k]) for k in sorted(sel)]


def build(name, index):
    spec = SPECS[name]
    cfg, W, raw = mef.load_model(os.path.join(ENGINE, name))
    gold, gmeta = mef.read_safetensors(os.path.join(ENGINE, name, "golden.safetensors"))
    assert gmeta["model"] == name
    ids = mef.decode(*gold["ids"])
    T = len(ids)
    assert T == mef.T_MAIN == 24 and K == 16
    ids_t = torch.as_tensor(ids)

    # ---- write the adapter
    folder = os.path.join(OUT, name)
    os.makedirs(folder, exist_ok=True)
    for f in os.listdir(folder):
        os.remove(os.path.join(folder, f))
    conf_text = adapter_config(spec, name)
    with open(os.path.join(folder, "adapter_config.json"), "w") as f:
        f.write(conf_text)
    stored = make_adapter(spec, cfg, W)
    mef.write_safetensors(os.path.join(folder, "adapter_model.safetensors"), stored,
                          {"format": "pt"})

    # ---- read it back; everything below uses only what is on disk
    with open(os.path.join(folder, "adapter_config.json")) as f:
        txt = f.read()
    assert txt == conf_text
    conf = json.loads(txt)
    assert conf["peft_type"] == "LORA" and conf["bias"] == "none" and not conf["use_dora"]
    assert conf["lora_dropout"] == 0.0 and not conf["fan_in_fan_out"]
    r, scale = conf["r"], scale_of(conf)
    back, ameta = mef.read_safetensors(os.path.join(folder, "adapter_model.safetensors"))
    assert ameta == {"format": "pt"}
    mods = module_names(cfg, conf["target_modules"])
    assert set(back) == {peft_key(m, w) for m in mods for w in "AB"}
    assert set(back) == set(stored)
    ad, leaves = {}, {}
    for m in mods:
        out_f, in_f = W[m + ".weight"].shape
        ka, kb = peft_key(m, "A"), peft_key(m, "B")
        assert back[ka][0] == back[kb][0] == "F32"
        assert back[ka][1] == [r, in_f] and back[kb][1] == [out_f, r], m
        assert back[ka][2] == stored[ka].raw and back[kb][2] == stored[kb].raw
        A = torch.as_tensor(mef.decode(*back[ka])).requires_grad_(True)
        B = torch.as_tensor(mef.decode(*back[kb])).requires_grad_(True)
        leaves[ka], leaves[kb] = A, B
        ad[m] = (A, B, scale)

    # ---- B = 0 reproduces the base model
    with torch.no_grad():
        base = mef.forward(cfg, W, ids)["logits"]
        zero = {m: (A, torch.zeros_like(B), s) for m, (A, B, s) in ad.items()}
        lg0 = logits_with(cfg, W, ids, zero)
    assert torch.equal(lg0, base), name
    assert mef.as_f32(lg0).raw == gold["logits"][2], name

    # ---- adapted forward, loss, autograd
    logits = logits_with(cfg, W, ids, ad)
    loss = mgf.loss_ce(logits, ids_t)
    names = sorted(leaves)
    grads = dict(zip(names, torch.autograd.grad(loss, [leaves[n] for n in names])))
    logits = logits.detach()
    for n in names:
        assert grads[n].shape == leaves[n].shape and torch.all(torch.isfinite(grads[n])), n
        assert float(grads[n].abs().max()) > 0, n
    change = mef.rel(logits, base)
    assert 0.05 < change < 1.0, (name, change)
    assert torch.all(torch.isfinite(logits))
    with torch.no_grad():
        loss_base = float(mgf.loss_ce(base, ids_t))

    # ---- merged weights give the same logits
    with torch.no_grad():
        Wm = dict(W)
        for m, (A, B, s) in ad.items():
            Wm[m + ".weight"] = W[m + ".weight"] + s * (B @ A)
        merged = mef.forward(cfg, Wm, ids)["logits"]
    merge_err = float((merged - logits).abs().max())
    assert merge_err < MERGE_TOL, (name, merge_err)

    # ---- finite differences (float64, central, step 1e-6)
    rng = np.random.default_rng(2000 + index)
    fd = []
    with torch.no_grad():
        det = {m: (A.detach().clone(), B.detach().clone(), s) for m, (A, B, s) in ad.items()}

        def f():
            return mgf.loss_ce(logits_with(cfg, W, ids, det), ids_t)

        last_down = "model.layers.%d.mlp.down_proj" % (cfg.L - 1)
        for m in ("model.layers.0.self_attn.v_proj", last_down):
            assert m in ad, m
            for w, j in (("A", 0), ("B", 1)):
                key = peft_key(m, w)
                for idx in pick(rng, grads[key], 3):
                    x = det[m][j]
                    x0 = float(x[idx])
                    x[idx] = x0 + FD_STEP
                    fp = float(f())
                    x[idx] = x0 - FD_STEP
                    fm = float(f())
                    x[idx] = x0
                    fd.append((key, idx, (fp - fm) / (2 * FD_STEP), float(grads[key][idx])))
        assert float(f()) == float(loss)                 # perturbations undone exactly
    worst = 0.0
    for key, idx, num, ana in fd:
        e = abs(num - ana) / abs(ana)
        worst = max(worst, e)
        assert e < FD_TOL, (name, key, idx, num, ana, e)

    # ---- write the goldens
    tens = {"logits": mef.as_f32(logits.numpy()), "loss": mef.as_f32(np.array([float(loss)]))}
    for n in names:
        tens["grad." + n] = mef.as_f32(grads[n].numpy())
    meta = {"loss_from": str(K), "model": name, "scale": repr(scale)}
    path = os.path.join(folder, "lora_golden.safetensors")
    mef.write_safetensors(path, tens, meta)
    gb, gm = mef.read_safetensors(path)
    assert gm == meta and set(gb) == set(tens)
    for n in tens:
        assert gb[n][0] == "F32" and gb[n][2] == tens[n].raw, n
    assert sorted(os.listdir(folder)) == ["adapter_config.json", "adapter_model.safetensors",
                                          "lora_golden.safetensors"]

    size = sum(os.path.getsize(os.path.join(folder, f)) for f in os.listdir(folder))
    print("%-15s r=%d alpha=%s rslora=%s scale=%.15g  %d modules, %d tensors  gain %.2f" %
          (name, r, conf["lora_alpha"], conf["use_rslora"], scale, len(mods), len(names),
           spec["gain"]))
    print("    logits rel change %.4f  loss base %.6f -> lora %.6f  merged max|diff| %.1e  "
          "max|grad| %.3e  %d bytes" %
          (change, loss_base, float(loss), merge_err,
           max(float(g.abs().max()) for g in grads.values()), size))
    for key, idx, num, ana in fd:
        print("    fd %-62s %-8s fd % .10e  autograd % .10e  rel %.1e" %
              (key, str(idx), num, ana, abs(num - ana) / abs(ana)))
    print("    worst fd rel err %.2e" % worst)
    return size, worst, change


def main():
    engine = sorted(d for d in os.listdir(ENGINE) if os.path.isdir(os.path.join(ENGINE, d)))
    assert sorted(SPECS) == engine == sorted(mgf.MODELS), "model list"
    os.makedirs(OUT, exist_ok=True)
    total, worst = 0, 0.0
    for i, name in enumerate(mgf.MODELS):
        s, w, _ = build(name, i)
        total += s
        worst = max(worst, w)
    print("total %d bytes, worst finite-difference rel err %.2e" % (total, worst))
    assert total < 1024 * 1024, total


if __name__ == "__main__":
    main()
