/* The engine against float64 PyTorch goldens (tests/fixtures/engine, made by
   tests/reference/make_engine_fixtures.py): logits and every hook site in f32, f16, bf16 and
   int8; greedy continuations; incremental decoding against full recompute; batches against
   single sequences; thread counts; hooks; sampling; refusals of bad models. */
#include "test.h"

static const char *const all_models[] = {"llama_gqa", "llama3_rope", "llama_headdim", "mistral_sw", "qwen2_bias",
                                         "qwen2_swa", "llama_sharded", "llama_bf16", "llama_moderate",
                                         "qwen2_moderate"};
#define N_MODELS (sizeof all_models / sizeof all_models[0])

static char *fixture(const char *model, const char *file) {
    size_t n = strlen(model) + (file ? strlen(file) : 0) + 40;
    char *p = (char *)malloc(n);
    if (file) snprintf(p, n, "tests/fixtures/engine/%s/%s", model, file);
    else snprintf(p, n, "tests/fixtures/engine/%s", model);
    return p;
}

typedef struct golden { lvs_safetensors st; int ok; } golden;
static void golden_open(golden *g, const char *model) {
    char *p = fixture(model, "golden.safetensors");
    lvs_error err;
    g->ok = lvs_st_open(&g->st, p, &err) == LVS_OK;
    CHECKF(g->ok, "%s: %s", p, err.message);
    free(p);
}
static const lvs_st_tensor *gt(golden *g, const char *name) {
    const lvs_st_tensor *t = g->ok ? lvs_st_find(&g->st, name) : NULL;
    CHECKF(t != NULL, "golden tensor %s missing", name);
    return t;
}

static lvs_model *open_model(const char *model, int dtype, int threads) {
    char *p = fixture(model, NULL);
    lvs_model *m = NULL;
    lvs_model_opts o;
    lvs_error err;
    lvs_model_opts_default(&o);
    o.dtype = dtype;
    o.n_threads = threads;
    CHECK_OK(lvs_model_open(&m, p, &o, &err), &err);
    free(p);
    return m;
}

/* Runs ids through the model with every site captured; returns logits [T, V] and sites
   [n_sites][T, d] (site index: 0 = embed, then 5 per layer). */
typedef struct run { float *logits, *sites; int64_t T, V, d, n_sites; } run;
static void run_free(run *r) { free(r->logits); free(r->sites); }
static int run_model(const lvs_model *m, const int32_t *ids, int64_t T, run *r) {
    const lvs_config *c = lvs_model_config(m);
    lvs_cache *cache = NULL;
    lvs_error err;
    lvs_seq q;
    lvs_hook *hooks;
    lvs_act_buf *bufs;
    int64_t k, L = c->n_layers;
    int ok;
    r->T = T; r->V = c->vocab_size; r->d = c->hidden_size; r->n_sites = 1 + 5 * L;
    r->logits = (float *)calloc((size_t)(T * r->V), sizeof(float));
    r->sites = (float *)calloc((size_t)(r->n_sites * T * r->d), sizeof(float));
    hooks = (lvs_hook *)calloc((size_t)r->n_sites, sizeof *hooks);
    bufs = (lvs_act_buf *)calloc((size_t)r->n_sites, sizeof *bufs);
    for (k = 0; k < r->n_sites; k++) {
        hooks[k].site = k == 0 ? LVS_SITE_EMBED : (lvs_site)(1 + (k - 1) % 5);
        hooks[k].layer = k == 0 ? -1 : (int)((k - 1) / 5);
        hooks[k].fn = lvs_hook_capture;
        hooks[k].user = &bufs[k];
        bufs[k].buf = r->sites + k * T * r->d;
        bufs[k].cap_pos = T;
        bufs[k].d = (int)r->d;
    }
    memset(&q, 0, sizeof q);
    q.slot = 0;
    q.tokens = ids;
    q.n = (int)T;
    q.logits = LVS_LOGITS_ALL;
    q.logits_out = r->logits;
    q.hooks = hooks;
    q.n_hooks = (int)r->n_sites;
    ok = lvs_cache_create(&cache, m, 1, T, &err) == LVS_OK;
    CHECKF(ok, "%s", err.message);
    if (ok) {
        ok = lvs_forward(m, cache, &q, 1, &err) == LVS_OK;
        CHECKF(ok, "%s", err.message);
    }
    lvs_cache_free(cache);
    free(hooks);
    free(bufs);
    return ok;
}

static const char *site_golden_name(int64_t k, char *buf, size_t cap) {
    static const char *const nm[5] = {"resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"};
    if (k == 0) snprintf(buf, cap, "embed");
    else snprintf(buf, cap, "blocks.%lld.%s", (long long)((k - 1) / 5), nm[(k - 1) % 5]);
    return buf;
}

/* Compares a run with the goldens; returns the worst relative error over logits and sites. */
static double compare_golden(const lvs_model *m, golden *g, double tol, const char *what) {
    const lvs_st_tensor *ids = gt(g, "ids"), *lg = gt(g, "logits");
    run r;
    double worst = 0, e;
    int64_t k;
    char name[64];
    if (!ids || !lg || !run_model(m, (const int32_t *)ids->data, ids->numel, &r)) return 1e9;
    e = t_rel_err(r.logits, (const float *)lg->data, (size_t)lg->numel);
    CHECKF(e <= tol, "%s: logits relative error %.3g > %.3g", what, e, tol);
    worst = e;
    for (k = 0; k < r.n_sites; k++) {
        const lvs_st_tensor *s = gt(g, site_golden_name(k, name, sizeof name));
        if (!s) continue;
        e = t_rel_err(r.sites + k * r.T * r.d, (const float *)s->data, (size_t)s->numel);
        CHECKF(e <= tol, "%s: %s relative error %.3g > %.3g", what, name, e, tol);
        if (e > worst) worst = e;
    }
    run_free(&r);
    return worst;
}

void test_engine_goldens(void) {
    size_t i;
    for (i = 0; i < N_MODELS; i++) {
        golden g;
        lvs_model *m;
        t_sub_begin("%s f32", all_models[i]);
        golden_open(&g, all_models[i]);
        m = open_model(all_models[i], LVS_AS_STORED, 0);
        if (m && g.ok) {
            double e = compare_golden(m, &g, 1e-4, all_models[i]);
            printf("  %-15s f32 worst relative error %.2e\n", all_models[i], e);
        }
        lvs_model_close(m);
        lvs_st_close(&g.st);
        t_sub_end();
    }
}

void test_engine_reduced_precision(void) {
    static const char *const moderate[] = {"llama_moderate", "qwen2_moderate", "llama_bf16"};
    static const int dts[3] = {LVS_W_F16, LVS_W_BF16, LVS_W_INT8};
    static const double tol[3] = {2e-2, 2e-2, 6e-2};
    size_t i, k;
    for (i = 0; i < 3; i++)
        for (k = 0; k < 3; k++) {
            golden g;
            lvs_model *m;
            lvs_model_stats st;
            t_sub_begin("%s %s", moderate[i], lvs_wtype_name((lvs_wtype)dts[k]));
            golden_open(&g, moderate[i]);
            m = open_model(moderate[i], dts[k], 0);
            if (m && g.ok) {
                double e;
                lvs_model_get_stats(m, &st);
                CHECK(st.n_matrices[dts[k]] > 0 && st.n_matrices[dts[k]] == st.n_matrices[0] + st.n_matrices[1] +
                                                                               st.n_matrices[2] + st.n_matrices[3]);
                e = compare_golden(m, &g, tol[k], moderate[i]);
                printf("  %-15s %-4s worst relative error %.2e\n", moderate[i], lvs_wtype_name((lvs_wtype)dts[k]), e);
            }
            lvs_model_close(m);
            lvs_st_close(&g.st);
            t_sub_end();
        }
}

void test_engine_greedy(void) {
    size_t i;
    for (i = 0; i < N_MODELS; i++) {
        golden g;
        lvs_model *m;
        t_sub_begin("%s greedy", all_models[i]);
        golden_open(&g, all_models[i]);
        m = open_model(all_models[i], LVS_AS_STORED, 0);
        if (m && g.ok) {
            const lvs_st_tensor *pr = gt(&g, "greedy_prompt"), *want = gt(&g, "greedy");
            lvs_gen_seq q;
            lvs_gen_opts o;
            lvs_error err;
            int32_t out[64];
            int j;
            memset(&q, 0, sizeof q);
            lvs_gen_opts_default(&o);
            o.max_new = 32;
            o.ignore_eos = 1;
            q.prompt = (const int32_t *)pr->data;
            q.n_prompt = (int)pr->numel;
            q.out = out;
            CHECK_OK(lvs_generate(m, &q, 1, &o, &err), &err);
            CHECK(q.n_out == 32 && q.finish == LVS_FINISH_LENGTH);
            for (j = 0; j < 32 && j < q.n_out; j++)
                CHECKF(out[j] == ((const int32_t *)want->data)[j], "token %d: %d, golden %d", j, out[j],
                       ((const int32_t *)want->data)[j]);
        }
        lvs_model_close(m);
        lvs_st_close(&g.st);
        t_sub_end();
    }
}

/* Incremental decoding with the KV cache must equal the full recompute (a position offset or a
   stale cache entry would show here, not in one full pass). */
void test_engine_incremental(void) {
    static const char *const models[] = {"llama_gqa", "llama3_rope", "mistral_sw", "qwen2_swa", "llama_headdim"};
    size_t i;
    for (i = 0; i < sizeof models / sizeof models[0]; i++) {
        golden g;
        lvs_model *m;
        t_sub_begin("%s incremental", models[i]);
        golden_open(&g, models[i]);
        m = open_model(models[i], LVS_AS_STORED, 0);
        if (m && g.ok) {
            const lvs_st_tensor *ids = gt(&g, "ids");
            const int32_t *id = (const int32_t *)ids->data;
            int64_t T = ids->numel, V = lvs_model_config(m)->vocab_size, t;
            run full;
            lvs_cache *c = NULL;
            lvs_error err;
            float *lg = (float *)malloc(sizeof(float) * (size_t)V);
            double worst = 0;
            if (run_model(m, id, T, &full) && lvs_cache_create(&c, m, 1, T, &err) == LVS_OK) {
                lvs_seq q;
                memset(&q, 0, sizeof q);
                q.tokens = id;
                q.n = 5; /* a prefill of 5, then one token at a time */
                q.logits = LVS_LOGITS_LAST;
                q.logits_out = lg;
                CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                worst = t_rel_err(lg, full.logits + 4 * V, (size_t)V);
                for (t = 5; t < T; t++) {
                    double e;
                    q.tokens = id + t;
                    q.n = 1;
                    CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                    e = t_rel_err(lg, full.logits + t * V, (size_t)V);
                    if (e > worst) worst = e;
                }
                CHECK(lvs_cache_len(c, 0) == T);
                { /* logits of the last rows only, in one pass */
                    float *tail = (float *)malloc(sizeof(float) * (size_t)(3 * V));
                    lvs_cache *c2 = NULL;
                    lvs_seq q2;
                    CHECK_OK(lvs_cache_create(&c2, m, 1, T, &err), &err);
                    memset(&q2, 0, sizeof q2);
                    q2.tokens = id;
                    q2.n = (int)T;
                    q2.logits = LVS_LOGITS_ALL;
                    q2.logits_from = (int)T - 3;
                    q2.logits_out = tail;
                    CHECK_OK(lvs_forward(m, c2, &q2, 1, &err), &err);
                    CHECK(memcmp(tail, full.logits + (T - 3) * V, sizeof(float) * (size_t)(3 * V)) == 0);
                    lvs_cache_free(c2);
                    free(tail);
                }
                CHECKF(worst <= 1e-5, "incremental vs full: %.3g", worst);
                /* rewinding the cache and decoding again gives the same logits */
                CHECK_OK(lvs_cache_truncate(c, 0, 10, &err), &err);
                q.tokens = id + 10;
                q.n = 1;
                CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                CHECK(t_rel_err(lg, full.logits + 10 * V, (size_t)V) <= 1e-5);
                run_free(&full);
            }
            lvs_cache_free(c);
            free(lg);
        }
        lvs_model_close(m);
        lvs_st_close(&g.st);
        t_sub_end();
    }
}

/* Two sequences of different lengths in one pass give the logits each gives alone, and match
   the goldens; the thread count does not change a single bit. */
void test_engine_batch_and_threads(void) {
    static const char *const models[] = {"llama_gqa", "qwen2_bias", "llama_moderate"};
    static const int dts[3] = {LVS_AS_STORED, LVS_AS_STORED, LVS_W_INT8};
    size_t i;
    for (i = 0; i < 3; i++) {
        golden g;
        lvs_model *m1, *m2;
        t_sub_begin("%s batch", models[i]);
        golden_open(&g, models[i]);
        m1 = open_model(models[i], dts[i], 1);
        m2 = open_model(models[i], dts[i], 2);
        if (m1 && m2 && g.ok) {
            const lvs_st_tensor *a = gt(&g, "ids"), *b = gt(&g, "ids_b"), *lb = gt(&g, "logits_b");
            int64_t V = lvs_model_config(m1)->vocab_size, na = a->numel, nb = b->numel;
            float *single_a = (float *)calloc((size_t)(na * V), 4), *single_b = (float *)calloc((size_t)(nb * V), 4);
            float *both_a = (float *)calloc((size_t)(na * V), 4), *both_b = (float *)calloc((size_t)(nb * V), 4);
            float *t2_a = (float *)calloc((size_t)(na * V), 4);
            lvs_cache *c = NULL;
            lvs_error err;
            lvs_seq q[2];
            memset(q, 0, sizeof q);
            q[0].tokens = (const int32_t *)a->data; q[0].n = (int)na; q[0].logits = LVS_LOGITS_ALL;
            q[1].tokens = (const int32_t *)b->data; q[1].n = (int)nb; q[1].logits = LVS_LOGITS_ALL; q[1].slot = 1;
            CHECK_OK(lvs_cache_create(&c, m1, 2, 64, &err), &err);
            q[0].logits_out = single_a;
            CHECK_OK(lvs_forward(m1, c, &q[0], 1, &err), &err);
            q[1].logits_out = single_b;
            CHECK_OK(lvs_forward(m1, c, &q[1], 1, &err), &err);
            lvs_cache_free(c);
            CHECK_OK(lvs_cache_create(&c, m1, 2, 64, &err), &err);
            q[0].logits_out = both_a;
            q[1].logits_out = both_b;
            CHECK_OK(lvs_forward(m1, c, q, 2, &err), &err);
            lvs_cache_free(c);
            CHECK(memcmp(single_a, both_a, (size_t)(na * V) * 4) == 0);
            CHECK(memcmp(single_b, both_b, (size_t)(nb * V) * 4) == 0);
            if (dts[i] == LVS_AS_STORED) CHECK(t_rel_err(both_b, (const float *)lb->data, (size_t)(nb * V)) <= 1e-4);
            CHECK_OK(lvs_cache_create(&c, m2, 1, 64, &err), &err);
            q[0].logits_out = t2_a;
            CHECK_OK(lvs_forward(m2, c, &q[0], 1, &err), &err);
            lvs_cache_free(c);
            CHECKF(memcmp(t2_a, single_a, (size_t)(na * V) * 4) == 0, "1 and 2 threads differ");
            t_check_batched_generation(m2, m1, (const int32_t *)a->data, (const int32_t *)b->data, "batched generation");
            free(single_a); free(single_b); free(both_a); free(both_b); free(t2_a);
        }
        lvs_model_close(m1);
        lvs_model_close(m2);
        lvs_st_close(&g.st);
        t_sub_end();
    }
}

/* Hooks: an added vector moves exactly the rows it should; patching with a donor's
   activations reproduces the donor's outputs. */
void test_engine_hooks(void) {
    lvs_model *m = open_model("llama_gqa", LVS_AS_STORED, 0);
    const lvs_config *c;
    golden g;
    int64_t T, d, V, i, t;
    const int32_t *ids, *ids_b;
    float *vec, *base_post, *base_pre1, *got_pre1, *lg, *donor_lg, *patched_lg;
    lvs_act_buf cap0, cap1;
    lvs_add_spec add;
    lvs_hook hk[2];
    lvs_cache *cache = NULL;
    lvs_seq q;
    lvs_error err;
    if (!m) return;
    golden_open(&g, "llama_gqa");
    if (!g.ok) { lvs_model_close(m); return; }
    c = lvs_model_config(m);
    d = c->hidden_size; V = c->vocab_size; T = 11;
    ids = (const int32_t *)gt(&g, "ids")->data;
    ids_b = (const int32_t *)gt(&g, "ids_b")->data;
    vec = (float *)calloc((size_t)d, 4);
    base_post = (float *)calloc((size_t)(T * d), 4); base_pre1 = (float *)calloc((size_t)(T * d), 4);
    got_pre1 = (float *)calloc((size_t)(T * d), 4);
    lg = (float *)calloc((size_t)(T * V), 4); donor_lg = (float *)calloc((size_t)(T * V), 4);
    patched_lg = (float *)calloc((size_t)(T * V), 4);
    for (i = 0; i < d; i++) vec[i] = (float)(i % 5) - 2.0f;
#define RUN(hooks_, nh_, toks_, out_)                                          \
    do {                                                                       \
        CHECK_OK(lvs_cache_create(&cache, m, 1, T, &err), &err);               \
        memset(&q, 0, sizeof q);                                               \
        q.tokens = (toks_); q.n = (int)T; q.logits = LVS_LOGITS_ALL;           \
        q.logits_out = (out_); q.hooks = (hooks_); q.n_hooks = (nh_);          \
        CHECK_OK(lvs_forward(m, cache, &q, 1, &err), &err);                    \
        lvs_cache_free(cache);                                                 \
    } while (0)
    memset(&cap0, 0, sizeof cap0); cap0.buf = base_post; cap0.cap_pos = T; cap0.d = (int)d;
    memset(&cap1, 0, sizeof cap1); cap1.buf = base_pre1; cap1.cap_pos = T; cap1.d = (int)d;
    hk[0].site = LVS_SITE_RESID_POST; hk[0].layer = 0; hk[0].fn = lvs_hook_capture; hk[0].user = &cap0;
    hk[1].site = LVS_SITE_RESID_PRE; hk[1].layer = 1; hk[1].fn = lvs_hook_capture; hk[1].user = &cap1;
    RUN(hk, 2, ids, lg);
    CHECK(memcmp(base_post, base_pre1, (size_t)(T * d) * 4) == 0); /* resid_post(l) is resid_pre(l + 1) */
    /* add 0.5 * vec at blocks.0.resid_post, prompt rows only (positions < 4) */
    memset(&add, 0, sizeof add);
    add.vec = vec; add.scale = 0.5f; add.prompt_len = 4;
    hk[0].fn = lvs_hook_add; hk[0].user = &add;
    cap1.buf = got_pre1;
    RUN(hk, 2, ids, lg);
    for (t = 0; t < T; t++) {
        double dev = 0; /* how far the change of this row is from "0.5 vec was added here" */
        for (i = 0; i < d; i++) {
            double ch = (double)got_pre1[t * d + i] - base_pre1[t * d + i] - 0.5 * vec[i];
            dev = fabs(ch) > dev ? fabs(ch) : dev;
        }
        if (t < 4) CHECKF(dev < 1e-5, "row %d: the vector was not added (%g)", (int)t, dev);
        else CHECKF(dev > 1e-3, "row %d: the vector was added past the prompt", (int)t);
    }
    /* patching: every site of layer 0 from a donor run replaces ours -> the donor's logits */
    {
        float *don = (float *)calloc((size_t)(T * d), 4);
        lvs_act_buf db;
        memset(&db, 0, sizeof db); db.buf = don; db.cap_pos = T; db.d = (int)d;
        hk[0].site = LVS_SITE_RESID_POST; hk[0].layer = 0; hk[0].fn = lvs_hook_capture; hk[0].user = &db;
        RUN(hk, 1, ids_b, donor_lg);
        hk[0].fn = lvs_hook_replace;
        RUN(hk, 1, ids, patched_lg);
        /* block 1 attends to patched states only, so its output matches the donor run */
        CHECK(t_rel_err(patched_lg, donor_lg, (size_t)(T * V)) <= 1e-6);
        free(don);
    }
#undef RUN
    free(vec); free(base_post); free(base_pre1); free(got_pre1); free(lg); free(donor_lg); free(patched_lg);
    lvs_st_close(&g.st);
    lvs_model_close(m);
}

void test_site_parse(void) {
    lvs_site s;
    int l;
    lvs_error err;
    CHECK_OK(lvs_site_parse("embed", 30, &s, &l, &err), &err);
    CHECK(s == LVS_SITE_EMBED && l == -1);
    CHECK_OK(lvs_site_parse("blocks.7.attn_out", 30, &s, &l, &err), &err);
    CHECK(s == LVS_SITE_ATTN_OUT && l == 7);
    CHECK_OK(lvs_site_parse("mid", 30, &s, &l, &err), &err);
    CHECK(s == LVS_SITE_RESID_POST && l == 15);
    CHECK_OK(lvs_site_parse("mid", 7, &s, &l, &err), &err);
    CHECK(l == 4); /* round(3.5) = 4, as the paper rounds */
    CHECK_OK(lvs_site_parse("last", 30, &s, &l, &err), &err);
    CHECK(l == 29);
    CHECK_OK(lvs_site_parse("12", 30, &s, &l, &err), &err);
    CHECK(s == LVS_SITE_RESID_POST && l == 12);
    CHECK_ST(lvs_site_parse("30", 30, &s, &l, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_site_parse("blocks.3.nope", 30, &s, &l, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_site_parse("blocks.x.resid_post", 30, &s, &l, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_site_parse("-1", 30, &s, &l, &err), LVS_ERR_ARG);
    CHECK(strcmp(lvs_site_name(LVS_SITE_MLP_OUT), "mlp_out") == 0);
}

void test_sampling(void) {
    float lg[4], base[4] = {0.0f, 0.6931472f, -50.0f, 0.6931472f};
    lvs_sampling s;
    lvs_rng r;
    int counts[4] = {0, 0, 0, 0}, i, n = 30000;
    memset(&s, 0, sizeof s);
    s.top_p = 1.0f;
    memcpy(lg, base, sizeof lg);
    CHECK(lvs_sample(lg, 4, &s, &r) == 1); /* greedy: the first of two maxima */
    s.temperature = 1.0f;
    lvs_rng_seed(&r, 5);
    for (i = 0; i < n; i++) {
        memcpy(lg, base, sizeof lg);
        counts[lvs_sample(lg, 4, &s, &r)]++;
    }
    /* p = 1/5, 2/5, ~0, 2/5 */
    CHECKF(fabs(counts[0] / (double)n - 0.2) < 0.015 && fabs(counts[1] / (double)n - 0.4) < 0.015 &&
               fabs(counts[3] / (double)n - 0.4) < 0.015 && counts[2] == 0,
           "frequencies %d %d %d %d", counts[0], counts[1], counts[2], counts[3]);
    s.top_k = 1;
    for (i = 0; i < 200; i++) { memcpy(lg, base, sizeof lg); CHECK(lvs_sample(lg, 4, &s, &r) == 1); }
    s.top_k = 0;
    s.top_p = 0.5f; /* the two 0.4 tokens make 0.8 >= 0.5: token 0 is never drawn */
    for (i = 0; i < 2000; i++) { memcpy(lg, base, sizeof lg); CHECK(lvs_sample(lg, 4, &s, &r) != 0); }
    s.top_p = 1.0f;
    s.min_p = 0.6f; /* 0.2 < 0.6 x 0.4: dropped */
    for (i = 0; i < 2000; i++) { memcpy(lg, base, sizeof lg); CHECK(lvs_sample(lg, 4, &s, &r) != 0); }
    { /* degenerate logits never give an invalid id; ties with the k-th token stay in top-k */
        float nan4[4] = {NAN, NAN, NAN, NAN}, inf4[4] = {1.0f, INFINITY, 2.0f, INFINITY}, tie[3] = {5.0f, 5.0f, 1.0f};
        lvs_sampling g;
        int c2[3] = {0, 0, 0};
        memset(&g, 0, sizeof g);
        g.temperature = 1.0f;
        g.top_p = 1.0f;
        CHECK(lvs_sample(nan4, 4, &g, &r) >= 0 && lvs_sample(nan4, 4, &g, &r) < 4);
        for (i = 0; i < 100; i++) {
            int32_t k = lvs_sample(inf4, 4, &g, &r);
            CHECK(k == 1 || k == 3);
        }
        nan4[2] = 0.5f;
        g.temperature = 0.0f;
        CHECK(lvs_sample(nan4, 4, &g, &r) == 2); /* greedy skips NaN */
        g.temperature = 1.0f;
        g.top_k = 1;
        for (i = 0; i < 1000; i++) c2[lvs_sample(tie, 3, &g, &r)]++;
        CHECKF(c2[0] > 400 && c2[1] > 400 && c2[2] == 0, "top-k ties: %d %d %d", c2[0], c2[1], c2[2]);
    }
    { /* the same seed draws the same tokens */
        lvs_rng a, b;
        int same = 1;
        s.min_p = 0;
        lvs_rng_seed(&a, 9);
        lvs_rng_seed(&b, 9);
        for (i = 0; i < 100; i++) {
            float l1[4], l2[4];
            memcpy(l1, base, sizeof l1);
            memcpy(l2, base, sizeof l2);
            same &= lvs_sample(l1, 4, &s, &a) == lvs_sample(l2, 4, &s, &b);
        }
        CHECK(same);
    }
}

/* Refusals: each bad model gives a clear status and names the field or tensor. */
void test_engine_errors(void) {
    char *dir = t_path("engine-bad"), path[700], cmd[1500];
    lvs_model *m = NULL;
    lvs_model_opts o;
    lvs_error err;
    const char *src = "tests/fixtures/engine/llama_gqa";
    static const struct { const char *sed; lvs_status st; const char *msg; } cfgs[] = {
        {"s/\"num_hidden_layers\": 2/\"num_hidden_layers\": 3/", LVS_ERR_TENSOR, "model.layers.2"},
        {"s/\"intermediate_size\": 64/\"intermediate_size\": 65/", LVS_ERR_TENSOR, "mlp.gate_proj.weight"},
        {"s/\"LlamaForCausalLM\"/\"Gemma2ForCausalLM\"/", LVS_ERR_TENSOR, "pre_feedforward_layernorm"},
        {"s/\"LlamaForCausalLM\"/\"PhiForCausalLM\"/", LVS_ERR_ARCH, "PhiForCausalLM"},
        {"s/\"rope_scaling\": null/\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}/", LVS_ERR_UNSUPPORTED,
         "yarn"},
        {"s/\"eos_token_id\": 2/\"eos_token_id\": 5000/", LVS_ERR_CONFIG, "eos_token_id"},
        {"s/\"num_key_value_heads\": 2/\"num_key_value_heads\": 3/", LVS_ERR_CONFIG, "num_key_value_heads"},
        {"s/\"hidden_size\": 32/\"hidden_size\": \"32\"/", LVS_ERR_CONFIG, "hidden_size"},
        {"s/\"hidden_act\": \"silu\"/\"hidden_act\": \"gelu\"/", LVS_ERR_UNSUPPORTED, "gelu"},
    };
    size_t i;
    for (i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        lvs_status s;
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s' && sed -i '%s' '%s/config.json'", dir, src, dir,
                 cfgs[i].sed, dir);
        CHECK(t_run(cmd) == 0);
        s = lvs_model_open(&m, dir, NULL, &err);
        CHECKF(s == cfgs[i].st && strstr(err.message, cfgs[i].msg) && !m, "case %d: %s (%s)", (int)i,
               lvs_status_name(s), err.message);
    }
    /* a bad generation_config.json */
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s' && printf '{\"eos_token_id\": [1, 999]}' > '%s/generation_config.json'",
             dir, src, dir, dir);
    CHECK(t_run(cmd) == 0);
    CHECK_ST(lvs_model_open(&m, dir, NULL, &err), LVS_ERR_CONFIG);
    CHECK(strstr(err.message, "generation_config.json") != NULL);
    /* NaN in a weight: found when asked for */
    {
        lvs_safetensors st;
        lvs_st_writer *w = lvs_st_writer_create();
        float *bad;
        const lvs_st_tensor *t;
        size_t k;
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s'", dir, src, dir);
        CHECK(t_run(cmd) == 0);
        snprintf(path, sizeof path, "%s/model.safetensors", src);
        CHECK_OK(lvs_st_open(&st, path, &err), &err);
        t = lvs_st_find(&st, "model.layers.1.mlp.up_proj.weight");
        bad = (float *)malloc(t->nbytes);
        memcpy(bad, t->data, t->nbytes);
        bad[100] = NAN;
        for (k = 0; k < st.n_tensors; k++)
            lvs_st_writer_add(w, st.tensors[k].name, st.tensors[k].dtype, st.tensors[k].ndim, st.tensors[k].shape,
                              &st.tensors[k] == t ? (const void *)bad : st.tensors[k].data, &err);
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        CHECK_OK(lvs_st_writer_save(w, path, &err), &err);
        lvs_st_writer_destroy(w);
        lvs_st_close(&st);
        free(bad);
        lvs_model_opts_default(&o);
        CHECK_OK(lvs_model_open(&m, dir, &o, &err), &err); /* not checked by default */
        lvs_model_close(m);
        o.check_finite = 1;
        CHECK_ST(lvs_model_open(&m, dir, &o, &err), LVS_ERR_NONFINITE);
        CHECK(strstr(err.message, "model.layers.1.mlp.up_proj.weight") != NULL);
        o.check_finite = 0;
        o.dtype = LVS_W_INT8; /* int8 cannot hold it either */
        CHECK_ST(lvs_model_open(&m, dir, &o, &err), LVS_ERR_NONFINITE);
        o.dtype = 9;
        CHECK_ST(lvs_model_open(&m, src, &o, &err), LVS_ERR_ARG);
    }
    /* misuse of a loaded model */
    m = open_model("llama_gqa", LVS_AS_STORED, 0);
    if (m) {
        lvs_cache *c = NULL;
        lvs_seq q;
        int32_t toks[4] = {1, 2, 96, 3};
        float lg[96];
        CHECK_OK(lvs_cache_create(&c, m, 1, 4, &err), &err);
        memset(&q, 0, sizeof q);
        q.tokens = toks;
        q.n = 4;
        q.logits = LVS_LOGITS_LAST;
        q.logits_out = lg;
        CHECK_ST(lvs_forward(m, c, &q, 1, &err), LVS_ERR_ARG); /* token 96 in a vocabulary of 96 */
        CHECK(strstr(err.message, "96") != NULL && lvs_cache_len(c, 0) == 0);
        toks[2] = 5;
        CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
        q.n = 1;
        CHECK_ST(lvs_forward(m, c, &q, 1, &err), LVS_ERR_ARG); /* the cache is full */
        q.slot = 1;
        CHECK_ST(lvs_forward(m, c, &q, 1, &err), LVS_ERR_ARG);
        CHECK_ST(lvs_cache_truncate(c, 0, 9, &err), LVS_ERR_ARG);
        lvs_cache_free(c);
        CHECK_ST(lvs_cache_create(&c, m, 0, 4, &err), LVS_ERR_ARG);
        lvs_model_close(m);
    }
    free(dir);
}

/* lvs_generate: hooks see each sequence's own index even after others stopped, and the
   context ends at max_position_embeddings. */
typedef struct seqcheck { int want, calls, wrong; } seqcheck;
static void check_seq(void *user, const lvs_hook_call *c, float *x) {
    seqcheck *k = (seqcheck *)user;
    (void)x;
    k->calls++;
    if (c->seq != k->want) k->wrong++;
}
void test_generate_edges(void) {
    lvs_model *m = open_model("llama_gqa", LVS_AS_STORED, 0);
    lvs_gen_seq g[3];
    lvs_gen_opts o;
    lvs_error err;
    lvs_hook hk[3];
    seqcheck sc[3];
    int32_t out[3][600], p[3] = {5, 6, 7};
    int k;
    if (!m) return;
    memset(g, 0, sizeof g);
    lvs_gen_opts_default(&o);
    o.ignore_eos = 1;
    for (k = 0; k < 3; k++) {
        memset(&sc[k], 0, sizeof sc[k]);
        sc[k].want = k;
        hk[k].site = LVS_SITE_RESID_POST;
        hk[k].layer = 0;
        hk[k].fn = check_seq;
        hk[k].user = &sc[k];
        g[k].prompt = &p[k];
        g[k].n_prompt = 1;
        g[k].hooks = &hk[k];
        g[k].n_hooks = 1;
        g[k].out = out[k];
    }
    o.max_new = 600; /* beyond max_position_embeddings (256 for this model) */
    CHECK_OK(lvs_generate(m, g, 3, &o, &err), &err);
    for (k = 0; k < 3; k++) {
        CHECKF(sc[k].wrong == 0 && sc[k].calls > 1, "sequence %d: %d of %d hook calls had another index", k,
               sc[k].wrong, sc[k].calls);
        CHECK(g[k].finish == LVS_FINISH_CONTEXT && g[k].n_out == 255);
    }
    /* now sequence 1 ends early: its third greedy token becomes a stop id */
    o.max_new = 12;
    o.stop_ids = &out[1][2];
    o.n_stop_ids = 1;
    for (k = 0; k < 3; k++) memset(&sc[k], 0, sizeof sc[k]), sc[k].want = k;
    CHECK_OK(lvs_generate(m, g, 3, &o, &err), &err);
    for (k = 0; k < 3; k++) CHECKF(sc[k].wrong == 0, "sequence %d saw another index after one stopped", k);
    CHECK(g[1].finish == LVS_FINISH_STOP_ID);
    lvs_model_close(m);
}

/* An int8 lvs-convert file computes exactly what the same model quantized at load does. */
void test_engine_lvs_file(void) {
    char *out = t_path("moderate-int8.safetensors");
    lvs_error err;
    lvs_model *a, *b = NULL;
    lvs_model_stats st;
    run ra, rb;
    golden g;
    CHECK_OK(lvs_convert("tests/fixtures/engine/llama_moderate", out, LVS_W_INT8, NULL, NULL, &err), &err);
    a = open_model("llama_moderate", LVS_W_INT8, 0);
    CHECK_OK(lvs_model_open(&b, out, NULL, &err), &err);
    golden_open(&g, "llama_moderate");
    if (a && b && g.ok) {
        const lvs_st_tensor *ids = gt(&g, "ids");
        lvs_model_get_stats(b, &st);
        CHECK(st.owned_bytes == 0 && st.n_matrices[LVS_W_INT8] == 16); /* used in place */
        if (run_model(a, (const int32_t *)ids->data, ids->numel, &ra) &&
            run_model(b, (const int32_t *)ids->data, ids->numel, &rb)) {
            CHECK(memcmp(ra.logits, rb.logits, sizeof(float) * (size_t)(ra.T * ra.V)) == 0);
            run_free(&ra);
            run_free(&rb);
        }
    }
    lvs_model_close(a);
    lvs_model_close(b);
    lvs_st_close(&g.st);
    { /* an int8 weight of -128 (outside the block format) is refused */
        lvs_safetensors sf;
        lvs_st_writer *w = lvs_st_writer_create();
        char *bad = t_path("moderate-int8-bad.safetensors");
        int8_t *q = NULL;
        size_t k;
        CHECK_OK(lvs_st_open(&sf, out, &err), &err);
        for (k = 0; k < sf.n_tensors; k++) {
            const lvs_st_tensor *x = &sf.tensors[k];
            const void *data = x->data;
            if (strcmp(x->name, "model.layers.1.mlp.up_proj.weight") == 0) {
                q = (int8_t *)malloc(x->nbytes);
                memcpy(q, x->data, x->nbytes);
                q[7] = -128;
                data = q;
            }
            lvs_st_writer_add(w, x->name, x->dtype, x->ndim, x->shape, data, &err);
        }
        for (k = 0; k < sf.n_meta; k++) lvs_st_writer_set_meta(w, sf.meta[k].key, sf.meta[k].value, sf.meta[k].value_len, &err);
        CHECK_OK(lvs_st_writer_save(w, bad, &err), &err);
        CHECK_ST(lvs_model_open(&b, bad, NULL, &err), LVS_ERR_TENSOR);
        CHECK(strstr(err.message, "model.layers.1.mlp.up_proj.weight") != NULL);
        lvs_st_writer_destroy(w);
        lvs_st_close(&sf);
        free(q);
        free(bad);
    }
    free(out);
}
