/* The backward pass against float64 PyTorch autograd goldens (tests/fixtures/engine/<model>/
   grad.safetensors, made by tests/reference/make_grad_fixtures.py): the loss, the gradient at
   every hook site, every weight gradient of the f32 models, a callback loss; stored and
   recomputed activations; thread counts; f16 / bf16 / int8 frozen weights; bad requests. */
#include "test.h"

static const char *const gmodels[] = {"llama_gqa", "llama3_rope", "llama_headdim", "mistral_sw", "qwen2_bias",
                                      "qwen2_swa", "llama_sharded", "llama_bf16", "llama_moderate", "qwen2_moderate"};
#define N_GMODELS (sizeof gmodels / sizeof gmodels[0])

/* g[0]: grad.safetensors, g[1]: golden.safetensors (the ids) */
static int gfiles(const char *name, lvs_safetensors *g) {
    char p[256];
    lvs_error err;
    snprintf(p, sizeof p, "tests/fixtures/engine/%s/grad.safetensors", name);
    if (lvs_st_open(&g[0], p, &err) != LVS_OK) { CHECKF(0, "%s", err.message); return 0; }
    snprintf(p, sizeof p, "tests/fixtures/engine/%s/golden.safetensors", name);
    if (lvs_st_open(&g[1], p, &err) != LVS_OK) { CHECKF(0, "%s", err.message); lvs_st_close(&g[0]); return 0; }
    return 1;
}
static void gclose(lvs_safetensors *g) { lvs_st_close(&g[0]); lvs_st_close(&g[1]); }

static lvs_model *gopen(const char *name, int dtype, int threads) {
    char p[256];
    lvs_model *m = NULL;
    lvs_model_opts o;
    lvs_error err;
    snprintf(p, sizeof p, "tests/fixtures/engine/%s", name);
    lvs_model_opts_default(&o);
    o.dtype = dtype;
    o.n_threads = threads;
    CHECK_OK(lvs_model_open(&m, p, &o, &err), &err);
    return m;
}

typedef struct gres { float loss, loss2; float *sites, *grad2, *x0g; lvs_wgrads *wg; uint64_t bytes; } gres;
static void gres_free(gres *r) {
    free(r->sites); free(r->grad2); free(r->x0g);
    lvs_wgrads_free(r->wg);
}

/* Runs both losses of the fixture on m; sites [1 + 5 L][T, d] in the golden order. */
static int grun(const lvs_model *m, const lvs_safetensors *g, int recompute, int want_w, gres *out) {
    const lvs_config *c = lvs_model_config(m);
    const lvs_st_tensor *ids = lvs_st_find(g + 1, "ids"), *coef = lvs_st_find(g, "loss2_coef");
    int64_t T, d = c->hidden_size, ns = 1 + 5 * c->n_layers, k;
    lvs_tape *tape = NULL;
    lvs_grad_site *sites;
    lvs_backward_req r;
    lvs_error err;
    int ok = 1;
    memset(out, 0, sizeof *out);
    if (!ids || !coef) { CHECK(ids && coef); return 0; }
    T = ids->numel;
    out->sites = (float *)calloc((size_t)(ns * T * d), sizeof(float));
    out->grad2 = (float *)calloc((size_t)(T * d), sizeof(float));
    out->x0g = (float *)calloc((size_t)(T * d), sizeof(float));
    sites = (lvs_grad_site *)calloc((size_t)ns, sizeof *sites);
    for (k = 0; k < ns; k++) {
        sites[k].site = k == 0 ? LVS_SITE_EMBED : (lvs_site)(1 + (k - 1) % 5);
        sites[k].layer = k == 0 ? -1 : (int)((k - 1) / 5);
        sites[k].grad = out->sites + k * T * d;
    }
    CHECK_OK(lvs_tape_create(&tape, m, T, recompute, &err), &err);
    if (want_w) CHECK_OK(lvs_wgrads_create(&out->wg, m, &err), &err);
    if (!tape || (want_w && !out->wg)) { free(sites); lvs_tape_free(tape); return 0; }
    out->bytes = lvs_tape_bytes(tape);
    memset(&r, 0, sizeof r);
    r.tokens = (const int32_t *)ids->data;
    r.n = (int)T;
    r.loss_from = 16;
    r.sites = sites;
    r.n_sites = (int)ns;
    r.grad_x0 = out->x0g;
    r.wgrads = out->wg;
    if (lvs_backward(m, tape, &r, &err) != LVS_OK) { ok = 0; CHECKF(0, "%s", err.message); }
    out->loss = r.loss;
    memset(&r, 0, sizeof r);
    r.tokens = (const int32_t *)ids->data;
    r.n = (int)T;
    r.loss_fn = t_linear_loss;
    r.loss_user = (void *)coef->data;
    r.logits_from = (int)T - 4;
    r.grad_x0 = out->grad2;
    if (ok && lvs_backward(m, tape, &r, &err) != LVS_OK) { ok = 0; CHECKF(0, "%s", err.message); }
    out->loss2 = r.loss;
    lvs_tape_free(tape);
    free(sites);
    return ok;
}

static const char *gsite_name(int64_t k, char *buf, size_t cap) {
    static const char *const nm[5] = {"resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"};
    if (k == 0) snprintf(buf, cap, "grad.embed");
    else snprintf(buf, cap, "grad.blocks.%lld.%s", (long long)((k - 1) / 5), nm[(k - 1) % 5]);
    return buf;
}

/* Compares with the goldens; returns the worst relative error. */
static double gcompare(const lvs_model *m, const lvs_safetensors *g, const gres *r, double tol, const char *what) {
    const lvs_config *c = lvs_model_config(m);
    int64_t d = c->hidden_size, ns = 1 + 5 * c->n_layers, k, T = lvs_st_find(g + 1, "ids")->numel;
    const lvs_st_tensor *t;
    double worst, e;
    char name[128];
    size_t i;
    t = lvs_st_find(g, "loss");
    worst = fabs(r->loss - ((const float *)t->data)[0]) / fabs(((const float *)t->data)[0]);
    CHECKF(worst <= tol, "%s: loss %.8g, golden %.8g", what, r->loss, ((const float *)t->data)[0]);
    /* loss2 sums logits times random signs: its value cancels, so it is compared in f32 only
       (reduced-precision runs are judged by its gradient) */
    t = lvs_st_find(g, "loss2");
    e = fabs(r->loss2 - ((const float *)t->data)[0]) / fabs(((const float *)t->data)[0]);
    CHECKF(tol > 1e-3 || e <= tol, "%s: loss2 %.8g, golden %.8g", what, r->loss2, ((const float *)t->data)[0]);
    for (k = 0; k < ns; k++) {
        t = lvs_st_find(g, gsite_name(k, name, sizeof name));
        if (!t) { CHECKF(0, "%s: golden %s missing", what, name); continue; }
        e = t_rel_err(r->sites + k * T * d, (const float *)t->data, (size_t)t->numel);
        CHECKF(e <= tol, "%s: %s relative error %.3g > %.3g", what, name, e, tol);
        worst = e > worst ? e : worst;
    }
    e = t_rel_err(r->x0g, (const float *)lvs_st_find(g, "grad.embed")->data, (size_t)(T * d));
    CHECKF(e <= tol, "%s: grad_x0 relative error %.3g", what, e);
    e = t_rel_err(r->grad2, (const float *)lvs_st_find(g, "grad2.embed")->data, (size_t)(T * d));
    CHECKF(e <= tol, "%s: callback-loss gradient relative error %.3g > %.3g", what, e, tol);
    worst = e > worst ? e : worst;
    if (r->wg) {
        int n = 0;
        for (i = 0; i < g->n_tensors; i++) {
            const lvs_st_tensor *gw = &g->tensors[i];
            int64_t numel;
            float *ours;
            if (strncmp(gw->name, "wgrad.", 6) != 0) continue;
            ours = lvs_wgrads_get(r->wg, gw->name + 6, &numel);
            n++;
            if (!ours || numel != gw->numel) { CHECKF(0, "%s: no accumulator for %s", what, gw->name); continue; }
            e = t_rel_err(ours, (const float *)gw->data, (size_t)numel);
            CHECKF(e <= tol, "%s: %s relative error %.3g > %.3g", what, gw->name, e, tol);
            worst = e > worst ? e : worst;
        }
        CHECKF(n > 5, "%s: only %d weight gradients in the golden", what, n);
    }
    return worst;
}

void test_backward_goldens(void) {
    size_t i;
    for (i = 0; i < N_GMODELS; i++) {
        lvs_safetensors g[2];
        lvs_model *m;
        int rc, has_w;
        t_sub_begin("backward %s", gmodels[i]);
        if (!gfiles(gmodels[i], g)) { t_sub_end(); continue; }
        has_w = lvs_st_find(g, "wgrad.model.norm.weight") != NULL;
        m = gopen(gmodels[i], LVS_AS_STORED, 0);
        for (rc = 0; m && rc < 2; rc++) {
            gres r;
            char what[96];
            snprintf(what, sizeof what, "%s%s", gmodels[i], rc ? " (recompute)" : "");
            if (grun(m, g, rc, has_w, &r)) {
                double w = gcompare(m, g, &r, 1e-3, what);
                if (rc == 0) printf("  %-15s worst relative error %.2e over loss, %s gradients (activations %.0f KiB)\n",
                                    gmodels[i], w, has_w ? "site and weight" : "site", (double)r.bytes / 1024.0);
            }
            gres_free(&r);
        }
        lvs_model_close(m);
        gclose(g);
        t_sub_end();
    }
}

/* Stored and recomputed activations, and 1 or 2 threads, give the same bits. */
void test_backward_deterministic(void) {
    const char *name = "qwen2_swa";
    lvs_safetensors g[2];
    gres r[3];
    lvs_model *m1 = gopen(name, LVS_AS_STORED, 1), *m2 = gopen(name, LVS_AS_STORED, 2);
    const lvs_config *c;
    size_t n;
    if (!m1 || !m2 || !gfiles(name, g)) { CHECK(0); lvs_model_close(m1); lvs_model_close(m2); return; }
    c = lvs_model_config(m1);
    n = (size_t)((1 + 5 * c->n_layers) * 24 * c->hidden_size);
    if (grun(m1, g, 0, 1, &r[0]) && grun(m2, g, 0, 1, &r[1]) && grun(m2, g, 1, 1, &r[2])) {
        int64_t nw = 0;
        float *w0 = lvs_wgrads_get(r[0].wg, "model.layers.1.self_attn.k_proj.weight", &nw);
        float *w1 = lvs_wgrads_get(r[1].wg, "model.layers.1.self_attn.k_proj.weight", NULL);
        float *w2 = lvs_wgrads_get(r[2].wg, "model.layers.1.self_attn.k_proj.weight", NULL);
        CHECK(memcmp(r[0].sites, r[1].sites, n * sizeof(float)) == 0);
        CHECK(memcmp(r[0].sites, r[2].sites, n * sizeof(float)) == 0);
        CHECK(r[0].loss == r[1].loss && r[0].loss == r[2].loss);
        CHECK(w0 && w1 && w2 && nw > 0 && memcmp(w0, w1, (size_t)nw * 4) == 0 && memcmp(w0, w2, (size_t)nw * 4) == 0);
        CHECKF(r[2].bytes * 2 < r[0].bytes, "recompute keeps %llu bytes, storing %llu", (unsigned long long)r[2].bytes,
               (unsigned long long)r[0].bytes);
    }
    gres_free(&r[0]); gres_free(&r[1]); gres_free(&r[2]);
    gclose(g);
    lvs_model_close(m1);
    lvs_model_close(m2);
}

/* Frozen reduced-precision weights: input gradients within the engine's tolerances. */
void test_backward_reduced_precision(void) {
    static const char *const models[2] = {"llama_moderate", "qwen2_moderate"};
    static const int dt[3] = {LVS_W_F16, LVS_W_BF16, LVS_W_INT8};
    static const double tol[3] = {2e-2, 2e-2, 6e-2};
    int i, k;
    for (i = 0; i < 2; i++) {
        lvs_safetensors g[2];
        lvs_error err;
        if (!gfiles(models[i], g)) continue;
        for (k = 0; k < 3; k++) {
            lvs_model *m = gopen(models[i], dt[k], 0);
            gres r;
            char what[96];
            lvs_wgrads *wg = NULL;
            snprintf(what, sizeof what, "%s %s", models[i], lvs_wtype_name((lvs_wtype)dt[k]));
            if (m && grun(m, g, 0, 0, &r)) {
                double w = gcompare(m, g, &r, tol[k], what);
                printf("  %-24s worst relative error %.2e (tolerance %.0e)\n", what, w, tol[k]);
            }
            if (m) {
                CHECK_ST(lvs_wgrads_create(&wg, m, &err), LVS_ERR_UNSUPPORTED);
                gres_free(&r);
            }
            lvs_model_close(m);
        }
        gclose(g);
    }
}

/* Bad requests are refused with LVS_ERR_ARG. */
void test_backward_errors(void) {
    lvs_model *m = gopen("llama_gqa", LVS_AS_STORED, 0);
    lvs_tape *t = NULL;
    lvs_error err;
    lvs_backward_req r;
    int32_t ids[8] = {1, 2, 3, 4, 5, 6, 7, 8}, bad[2] = {1, 96};
    float g[8 * 32];
    lvs_grad_site s;
    if (!m) return;
    CHECK_ST(lvs_tape_create(&t, m, 1, 0, &err), LVS_ERR_ARG);
    CHECK_OK(lvs_tape_create(&t, m, 8, 0, &err), &err);
    memset(&r, 0, sizeof r);
    r.tokens = ids;
    r.n = 8;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* no loss */
    r.loss_from = 8;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* no target */
    r.loss_from = 4;
    r.n = 9;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* longer than the tape */
    r.n = 2;
    r.tokens = bad;
    r.loss_from = 1;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* token outside the vocabulary */
    r.tokens = ids;
    r.n = 8;
    r.start_layer = 1;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* start_layer without x0 */
    r.x0 = g;
    memset(g, 0, sizeof g);
    s.site = LVS_SITE_EMBED;
    s.layer = -1;
    s.grad = g;
    r.sites = &s;
    r.n_sites = 1;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* embed is before block 1 */
    s.site = LVS_SITE_RESID_POST;
    s.layer = 0;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* block 0 too */
    s.layer = 1;
    CHECK_OK(lvs_backward(m, t, &r, &err), &err);
    CHECK(r.loss > 0);
    r.start_layer = 3;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
    lvs_tape_free(t);
    lvs_model_close(m);
}

/* lvs trace --loss-from: the loss and every grad.<site> tensor against the goldens */
void test_trace_loss_from(void) {
    lvs_safetensors g[2], tr;
    const lvs_st_tensor *ids;
    char cmd[2400], idl[400], *out = t_path("trace-grad.safetensors");
    lvs_error err;
    size_t i, n = 0, k;
    int64_t T;
    if (!gfiles("qwen2_bias", g)) { free(out); return; }
    ids = lvs_st_find(&g[1], "ids");
    T = ids ? ids->numel : 0;
    for (k = 0; k < (size_t)T; k++) n += (size_t)snprintf(idl + n, sizeof idl - n, k ? ",%d" : "%d", ((const int32_t *)ids->data)[k]);
    snprintf(cmd, sizeof cmd, "%s/lvs trace tests/fixtures/engine/qwen2_bias --ids %s --loss-from 16 -o '%s' 2>/dev/null",
             t_build(), idl, out);
    CHECK(t_run(cmd) == 0);
    if (lvs_st_open(&tr, out, &err) == LVS_OK) {
        int compared = 0;
        for (i = 0; i < g[0].n_tensors; i++) {
            const lvs_st_tensor *want = &g[0].tensors[i], *got;
            if (strncmp(want->name, "grad.", 5) != 0 && strcmp(want->name, "loss") != 0) continue;
            got = lvs_st_find(&tr, want->name);
            CHECKF(got && got->numel == want->numel, "trace output lacks %s", want->name);
            if (!got || got->numel != want->numel) continue;
            CHECKF(t_rel_err((const float *)got->data, (const float *)want->data, (size_t)want->numel) <= 1e-3, "%s",
                   want->name);
            compared++;
        }
        CHECKF(compared == 1 + 1 + 5 * 2, "%d tensors compared", compared);
        lvs_st_close(&tr);
    } else CHECKF(0, "%s", err.message);
    snprintf(cmd, sizeof cmd, "%s/lvs trace tests/fixtures/engine/qwen2_bias --ids 1,2,3 --loss-from 3 -o '%s' 2>/dev/null",
             t_build(), out);
    CHECK(t_run(cmd) == 2);
    snprintf(cmd, sizeof cmd, "%s/lvs trace tests/fixtures/engine/qwen2_bias --ids 1,2,3 --loss-from 0 -o '%s' 2>/dev/null",
             t_build(), out);
    CHECK(t_run(cmd) == 2);
    gclose(g);
    free(out);
}

/* The one-pass cross-entropy through lm_head (a few loss rows, no weight gradients) against a
   cross-entropy written here in double as a logits callback (which takes the two-pass path). */
void test_backward_ce_head(void) {
    size_t i;
    for (i = 0; i < N_GMODELS; i++) {
        lvs_model *m = gopen(gmodels[i], LVS_AS_STORED, 0);
        lvs_safetensors g[2];
        lvs_tape *t = NULL;
        lvs_error err;
        lvs_backward_req r;
        const int32_t *ids;
        float *g1, *g2, l1;
        int64_t d;
        if (!m || !gfiles(gmodels[i], g)) { lvs_model_close(m); continue; }
        ids = (const int32_t *)lvs_st_find(&g[1], "ids")->data;
        d = lvs_model_config(m)->hidden_size;
        g1 = (float *)malloc(sizeof(float) * (size_t)(24 * d));
        g2 = (float *)malloc(sizeof(float) * (size_t)(24 * d));
        CHECK_OK(lvs_tape_create(&t, m, 24, 0, &err), &err);
        memset(&r, 0, sizeof r);
        r.tokens = ids; r.n = 24; r.loss_from = 20; r.grad_x0 = g1;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        l1 = r.loss;
        memset(&r, 0, sizeof r);
        r.tokens = ids; r.n = 24; r.loss_fn = t_ce_loss; r.loss_user = (void *)(ids + 20); r.logits_from = 19; r.grad_x0 = g2;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        CHECKF(fabs(l1 - r.loss) <= 1e-5 * fabs(r.loss), "%s: loss %.8g, callback %.8g", gmodels[i], l1, r.loss);
        CHECKF(t_rel_err(g1, g2, (size_t)(24 * d)) <= 1e-5, "%s: one-pass gradient differs by %.3g", gmodels[i],
               t_rel_err(g1, g2, (size_t)(24 * d)));
        free(g1);
        free(g2);
        lvs_tape_free(t);
        gclose(g);
        lvs_model_close(m);
    }
}

/* The last block on the loss rows only (lvs_backward trims it when nothing else reads that
   block) against the whole block (a gradient site on its output turns the trimming off): the
   same loss and input gradient, for every fixture and a start inside the model. */
void test_backward_last_rows(void) {
    size_t i;
    for (i = 0; i < N_GMODELS; i++) {
        lvs_model *m = gopen(gmodels[i], LVS_AS_STORED, 0);
        lvs_safetensors g[2];
        lvs_tape *t = NULL;
        lvs_error err;
        lvs_backward_req r;
        lvs_grad_site site;
        const int32_t *ids;
        float *g1, *g2, *x0, *out, l1;
        int64_t d, L, T = 23, k;
        int start;
        if (!m || !gfiles(gmodels[i], g)) { lvs_model_close(m); continue; }
        ids = (const int32_t *)lvs_st_find(&g[1], "ids")->data;
        d = lvs_model_config(m)->hidden_size;
        L = lvs_model_config(m)->n_layers;
        g1 = (float *)calloc((size_t)(T * d), sizeof(float));
        g2 = (float *)calloc((size_t)(T * d), sizeof(float));
        x0 = (float *)calloc((size_t)(T * d), sizeof(float));
        out = (float *)calloc((size_t)(T * d), sizeof(float));
        for (k = 0; k < T * d; k++) x0[k] = (float)sin(0.37 * (double)k);
        CHECK_OK(lvs_tape_create(&t, m, T, 0, &err), &err);
        for (start = 0; start < 2 && t; start++) {
            memset(&r, 0, sizeof r);
            r.tokens = ids; r.n = (int)T; r.loss_from = (int)T - 3; r.grad_x0 = g1;
            r.start_layer = start * (int)(L - 1); r.x0 = start ? x0 : NULL;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            l1 = r.loss;
            site.site = LVS_SITE_RESID_POST; site.layer = (int)L - 1; site.grad = out;
            r.grad_x0 = g2; r.sites = &site; r.n_sites = 1;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            CHECKF(fabs(l1 - r.loss) <= 1e-6 * fabs(r.loss), "%s start %d: loss %.8g, whole block %.8g", gmodels[i],
                   r.start_layer, l1, r.loss);
            CHECKF(t_rel_err(g1, g2, (size_t)(T * d)) <= 1e-5, "%s start %d: gradient differs by %.3g", gmodels[i],
                   r.start_layer, t_rel_err(g1, g2, (size_t)(T * d)));
        }
        free(g1); free(g2); free(x0); free(out);
        lvs_tape_free(t);
        gclose(g);
        lvs_model_close(m);
    }
}

/* The tape's packed weights (lvs_tape_panel_bytes): a second pass that reads them gives the bits
   of the first; once the model becomes trainable (full fine-tuning) the tape drops them, and
   after an optimizer step changes the weights it agrees with a new tape. */
void test_backward_panel_cache(void) {
    lvs_model *m = gopen("llama_gqa", LVS_AS_STORED, 1);
    lvs_safetensors g[2];
    lvs_tape *t = NULL, *t2 = NULL;
    lvs_trainer *tr = NULL;
    lvs_train_opts to;
    lvs_train_seq seq;
    lvs_error err;
    lvs_backward_req r;
    float *g1, *g2;
    int64_t T, d;
    if (!m || !gfiles("llama_gqa", g)) { CHECK(0); lvs_model_close(m); return; }
    T = lvs_st_find(&g[1], "ids")->numel;
    d = lvs_model_config(m)->hidden_size;
    g1 = (float *)calloc((size_t)(T * d), sizeof(float));
    g2 = (float *)calloc((size_t)(T * d), sizeof(float));
    memset(&r, 0, sizeof r);
    r.tokens = (const int32_t *)lvs_st_find(&g[1], "ids")->data;
    r.n = (int)T;
    r.loss_from = 1;
    CHECK_OK(lvs_tape_create(&t, m, T, 0, &err), &err);
    CHECK(t && lvs_tape_panel_bytes(t) == 0);
    r.grad_x0 = g1;
    CHECK_OK(lvs_backward(m, t, &r, &err), &err);
    CHECKF(lvs_tape_panel_bytes(t) > 0, "%llu bytes packed", (unsigned long long)lvs_tape_panel_bytes(t));
    r.grad_x0 = g2;
    CHECK_OK(lvs_backward(m, t, &r, &err), &err);
    CHECK(memcmp(g1, g2, sizeof(float) * (size_t)(T * d)) == 0);
    /* full fine-tuning makes the weights private and writable; one step changes them */
    lvs_train_opts_default(&to);
    to.full = 1;
    to.lr = 1e-2;
    seq.tokens = r.tokens; seq.n = r.n; seq.loss_from = r.n / 2;
    CHECK_OK(lvs_trainer_create(&tr, m, &to, T, &err), &err);
    CHECK_OK(tr ? lvs_trainer_step(tr, &seq, 1, 0, NULL, &err) : LVS_ERR_ARG, &err);
    r.grad_x0 = g1;
    CHECK_OK(lvs_backward(m, t, &r, &err), &err);
    CHECK(lvs_tape_panel_bytes(t) == 0);
    CHECK_OK(lvs_tape_create(&t2, m, T, 0, &err), &err);
    r.grad_x0 = g2;
    if (t2) CHECK_OK(lvs_backward(m, t2, &r, &err), &err);
    CHECK(lvs_tape_panel_bytes(t2) == 0);
    CHECK(memcmp(g1, g2, sizeof(float) * (size_t)(T * d)) == 0);
    lvs_trainer_free(tr);
    lvs_tape_free(t);
    lvs_tape_free(t2);
    free(g1); free(g2);
    gclose(g);
    lvs_model_close(m);
}
