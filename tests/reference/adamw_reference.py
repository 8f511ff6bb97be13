#!/usr/bin/python3
"""AdamW and learning-rate schedule goldens: tests/fixtures/adamw.txt.

torch.optim.AdamW (betas 0.9/0.999, eps 1e-8, weight decay 0.1) updates 6 float32 parameters
for 8 steps with the gradients g_t[i] = sin(1.3 * i + 0.7 * t) * (1 + 0.5 * i) (float32), at
the learning rate of each schedule of Hugging Face transformers with 3 warm-up steps out of 8
(peak 0.01): constant_with_warmup, cosine (get_cosine_schedule_with_warmup, num_cycles 0.5)
and linear (get_linear_schedule_with_warmup). The schedules are written here from the
definitions in transformers/optimization.py (LambdaLR multipliers, evaluated at the step
count before each optimizer step, as Trainer does: optimizer.step() then scheduler.step()).

Each line: schedule name, step t (1-based), the learning rate used, then the 6 parameters
after that step (%.9g). Run: /usr/bin/python3 tests/reference/adamw_reference.py
"""
import math
import os

import torch

WARMUP, TOTAL, LR, N = 3, 8, 0.01, 6


def mult(kind, step):
    if step < WARMUP:
        return float(step) / float(max(1, WARMUP))
    if kind == "constant":
        return 1.0
    progress = float(step - WARMUP) / float(max(1, TOTAL - WARMUP))
    if kind == "cosine":
        return max(0.0, 0.5 * (1.0 + math.cos(math.pi * 0.5 * 2.0 * progress)))
    return max(0.0, float(TOTAL - step) / float(max(1, TOTAL - WARMUP)))


def main():
    out = []
    for kind in ("constant", "cosine", "linear"):
        p = torch.tensor([0.5 - 0.2 * i for i in range(N)], dtype=torch.float32, requires_grad=True)
        opt = torch.optim.AdamW([p], lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s, k=kind: mult(k, s))
        for t in range(1, TOTAL + 1):
            g = torch.tensor([math.sin(1.3 * i + 0.7 * t) * (1 + 0.5 * i) for i in range(N)], dtype=torch.float32)
            lr = opt.param_groups[0]["lr"]
            p.grad = g
            opt.step()
            sched.step()
            out.append("%s %d %.9g %s" % (kind, t, lr, " ".join("%.9g" % v for v in p.detach().tolist())))
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "adamw.txt")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
