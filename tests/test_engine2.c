/* The engine and the backward pass on Gemma2ForCausalLM, GPT2LMHeadModel and
   GPT2ForSequenceClassification against the float64 goldens of tests/fixtures/engine2 (made by
   tests/reference/make_gemma2_gpt2_fixtures.py; see its README): logits and every hook site,
   the classifier's pooled index and reward, greedy decoding, incremental decoding (Gemma-2's
   sliding window, GPT-2's learned positions), batches and thread counts, f16 / bf16 / int8 on
   the *_moderate folders, the loss, every site and weight gradient (GPT-2's Conv1D weights
   come back as [out, in]), the classifier's reward objective, and refusals (GPT-2 past
   n_positions, the classifier with a cross-entropy loss). */
#include "test.h"

static const char *const models2[] = {"gemma2", "gpt2", "gpt2_cls"};
static const char *const lms2[] = {"gemma2", "gpt2"};
#define N_MODELS2 3
#define N_LMS2 2
/* the moderate twins, for f16 / bf16 / int8 */
static const char *const moderate2[] = {"gemma2_moderate", "gpt2_moderate", "gpt2_cls_moderate"};
static const int rp_dtypes[3] = {LVS_W_F16, LVS_W_BF16, LVS_W_INT8};
static const double rp_tol[3] = {2e-2, 2e-2, 6e-2};

static void fixture2(char *buf, size_t cap, const char *model, const char *file) {
    if (file) snprintf(buf, cap, "tests/fixtures/engine2/%s/%s", model, file);
    else snprintf(buf, cap, "tests/fixtures/engine2/%s", model);
}

/* 1 if the fixture folder holds config.json (the moderate folders are made separately) */
static int fixture2_exists(const char *model) {
    char p[256];
    FILE *f;
    fixture2(p, sizeof p, model, "config.json");
    f = fopen(p, "rb");
    if (!f) return 0;
    fclose(f);
    return 1;
}

typedef struct golden2 { lvs_safetensors st; int ok; } golden2;
static void golden2_open(golden2 *g, const char *model, const char *file) {
    char p[256];
    lvs_error err;
    fixture2(p, sizeof p, model, file);
    g->ok = lvs_st_open(&g->st, p, &err) == LVS_OK;
    CHECKF(g->ok, "%s", err.message); /* the message names the file */
}
static void golden2_close(golden2 *g) {
    if (g->ok) lvs_st_close(&g->st);
    g->ok = 0;
}
static const lvs_st_tensor *gt2(const golden2 *g, const char *name) {
    const lvs_st_tensor *t = g->ok ? lvs_st_find(&g->st, name) : NULL;
    CHECKF(t != NULL, "golden tensor %s missing", name);
    return t;
}

static lvs_model *open2(const char *model, int dtype, int threads) {
    char p[256];
    lvs_model *m = NULL;
    lvs_model_opts o;
    lvs_error err;
    fixture2(p, sizeof p, model, NULL);
    lvs_model_opts_default(&o);
    o.dtype = dtype;
    o.n_threads = threads;
    CHECK_OK(lvs_model_open(&m, p, &o, &err), &err);
    return m;
}

static int is_cls(const lvs_model *m) { return lvs_model_config(m)->arch == LVS_ARCH_GPT2_CLS; }

/* The width of a logits row, checked against the config (vocab_size, or num_labels). */
static int64_t width2(const lvs_model *m) {
    const lvs_config *c = lvs_model_config(m);
    int64_t w = lvs_model_logits_width(m), want = is_cls(m) ? c->num_labels : c->vocab_size;
    CHECKF(w == want, "lvs_model_logits_width = %lld, expected %lld (%s)", (long long)w, (long long)want,
           is_cls(m) ? "num_labels" : "vocab_size");
    return w;
}

/* Runs ids through the model with every site captured: logits [T, W] (W = logits width) and
   sites [n_sites][T, d] (0 = embed, then 5 per layer). */
typedef struct run2 { float *logits, *sites; int64_t T, W, d, n_sites; } run2;
static void run2_free(run2 *r) {
    free(r->logits);
    free(r->sites);
    r->logits = r->sites = NULL;
}
static int run2_model(const lvs_model *m, const int32_t *ids, int64_t T, run2 *r) {
    const lvs_config *c = lvs_model_config(m);
    lvs_cache *cache = NULL;
    lvs_error err;
    lvs_seq q;
    lvs_hook *hooks;
    lvs_act_buf *bufs;
    int64_t k, L = c->n_layers;
    int ok;
    r->T = T;
    r->W = width2(m);
    r->d = c->hidden_size;
    r->n_sites = 1 + 5 * L;
    if (r->W <= 0) { r->logits = r->sites = NULL; return 0; }
    r->logits = (float *)calloc((size_t)(T * r->W), sizeof(float));
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
    q.tokens = ids;
    q.n = (int)T;
    q.logits = LVS_LOGITS_ALL;
    q.logits_out = r->logits;
    q.hooks = hooks;
    q.n_hooks = (int)r->n_sites;
    ok = lvs_cache_create(&cache, m, 1, T, &err) == LVS_OK;
    CHECKF(ok, "lvs_cache_create: %s", err.message);
    if (ok) {
        ok = lvs_forward(m, cache, &q, 1, &err) == LVS_OK;
        CHECKF(ok, "lvs_forward: %s", err.message);
    }
    lvs_cache_free(cache);
    free(hooks);
    free(bufs);
    if (!ok) run2_free(r);
    return ok;
}

static const char *site2_name(const char *prefix, int64_t k, char *buf, size_t cap) {
    static const char *const nm[5] = {"resid_pre", "attn_out", "resid_mid", "mlp_out", "resid_post"};
    if (k == 0) snprintf(buf, cap, "%sembed", prefix);
    else snprintf(buf, cap, "%sblocks.%lld.%s", prefix, (long long)((k - 1) / 5), nm[(k - 1) % 5]);
    return buf;
}

/* Logits, every site and (classifier) the pooled index and reward against the goldens; returns
   the worst relative error. */
static double compare2(const lvs_model *m, const golden2 *g, double tol, const char *what) {
    const lvs_st_tensor *ids = gt2(g, "ids"), *lg = gt2(g, "logits");
    run2 r;
    double worst, e;
    int64_t k;
    char name[64];
    if (!ids || !lg || !run2_model(m, (const int32_t *)ids->data, ids->numel, &r)) return 1e9;
    if (lg->numel != r.T * r.W) {
        CHECKF(0, "%s: golden logits hold %lld values, the model gives %lld x %lld", what, (long long)lg->numel,
               (long long)r.T, (long long)r.W);
        run2_free(&r);
        return 1e9;
    }
    worst = t_rel_err(r.logits, (const float *)lg->data, (size_t)lg->numel);
    CHECKF(worst <= tol, "%s: logits relative error %.3g > %.3g", what, worst, tol);
    for (k = 0; k < r.n_sites; k++) {
        const lvs_st_tensor *s = gt2(g, site2_name("", k, name, sizeof name));
        if (!s) continue;
        e = t_rel_err(r.sites + k * r.T * r.d, (const float *)s->data, (size_t)s->numel);
        CHECKF(e <= tol, "%s: site %s relative error %.3g > %.3g", what, name, e, tol);
        if (e > worst) worst = e;
    }
    if (is_cls(m)) {
        const lvs_st_tensor *pi = gt2(g, "pool_index"), *rw = gt2(g, "reward");
        int64_t p = lvs_cls_pool_index(m, (const int32_t *)ids->data, ids->numel);
        if (pi && rw) {
            int64_t want = ((const int32_t *)pi->data)[0];
            CHECKF(p == want, "%s: lvs_cls_pool_index = %lld, golden %lld", what, (long long)p, (long long)want);
            if (p >= 0 && p < r.T) {
                e = t_rel_err(&r.logits[p * r.W], (const float *)rw->data, 1);
                CHECKF(e <= tol, "%s: reward (logits[%lld]) %.7g, golden %.7g", what, (long long)p,
                       (double)r.logits[p * r.W], (double)((const float *)rw->data)[0]);
                if (e > worst) worst = e;
            }
        }
    }
    run2_free(&r);
    return worst;
}

/* ------------------------------------------------------------------ forward */

/* config.json of each fixture parses into what the README describes (passes before the
   engine runs the models: the parser is already there). */
void test_engine2_config(void) {
    size_t i;
    for (i = 0; i < N_MODELS2; i++) {
        char p[256];
        char *txt;
        size_t n = 0;
        lvs_config c;
        lvs_error err;
        t_sub_begin("%s config", models2[i]);
        fixture2(p, sizeof p, models2[i], "config.json");
        txt = t_slurp(p, &n);
        CHECKF(txt != NULL, "cannot read %s", p);
        if (txt && lvs_config_parse(&c, txt, n, &err) == LVS_OK) {
            if (i == 0) {
                CHECK(c.arch == LVS_ARCH_GEMMA2 && c.vocab_size == 80 && c.hidden_size == 24 && c.n_layers == 3);
                CHECKF(c.head_dim == 16, "head_dim %lld (config: 16, not hidden / heads)", (long long)c.head_dim);
                CHECK(c.n_heads == 4 && c.n_kv_heads == 2 && c.intermediate_size == 48);
                CHECK(c.query_pre_attn_scalar == 64 && c.attn_softcap == 2.0 && c.final_softcap == 3.0);
                CHECK(c.sliding_window == 4);
                CHECKF(c.layer_sliding[0] == 1 && c.layer_sliding[1] == 0 && c.layer_sliding[2] == 1,
                       "sliding layers %d %d %d, expected 1 0 1", c.layer_sliding[0], c.layer_sliding[1],
                       c.layer_sliding[2]);
                CHECKF(strcmp(c.act, "gelu_pytorch_tanh") == 0, "activation \"%s\"", c.act);
                CHECKF(c.tie_embeddings == 1, "Gemma-2 ties its embeddings when tie_word_embeddings is absent");
                CHECK(c.norm_eps == 1e-6 && c.rope_theta == 10000.0 && c.pad_id == 0 && c.bos_id == 2);
            } else {
                CHECK(c.hidden_size == 32 && c.n_heads == 4 && c.n_kv_heads == 4 && c.head_dim == 8);
                CHECK(c.norm_eps == 1e-5 && strcmp(c.act, "gelu_new") == 0 && c.sliding_window == 0);
                CHECKF(c.tie_embeddings == 1, "GPT-2 ties its embeddings when tie_word_embeddings is absent");
                if (i == 1) {
                    CHECK(c.arch == LVS_ARCH_GPT2 && c.vocab_size == 96 && c.n_layers == 2);
                    CHECKF(c.intermediate_size == 128, "n_inner null means 4 x n_embd = 128, got %lld",
                           (long long)c.intermediate_size);
                    CHECK(c.max_positions == 64);
                } else {
                    CHECK(c.arch == LVS_ARCH_GPT2_CLS && c.vocab_size == 64 && c.n_layers == 1);
                    CHECKF(c.intermediate_size == 48, "n_inner 48, got %lld", (long long)c.intermediate_size);
                    CHECKF(c.num_labels == 1, "num_labels = len(id2label) = 1, got %lld", (long long)c.num_labels);
                    CHECK(c.pad_id == 63 && c.max_positions == 32);
                }
            }
        } else if (txt) CHECKF(0, "%s: %s", p, err.message);
        free(txt);
        t_sub_end();
    }
}

/* f32 logits and every hook site at 1e-4; the classifier's pooled index and reward. */
void test_engine2_goldens(void) {
    size_t i;
    for (i = 0; i < N_MODELS2; i++) {
        golden2 g;
        lvs_model *m;
        t_sub_begin("%s f32", models2[i]);
        golden2_open(&g, models2[i], "golden.safetensors");
        m = open2(models2[i], LVS_AS_STORED, 0);
        if (m && g.ok) {
            double e = compare2(m, &g, 1e-4, models2[i]);
            printf("  %-15s f32 worst relative error %.2e\n", models2[i], e);
        }
        lvs_model_close(m);
        golden2_close(&g);
        t_sub_end();
    }
}

/* The classifier: the pooled index (transformers >= 4.48: the last non-pad token) on the
   goldens and on edge cases, the reward of ids_b, -1 for the causal LMs, token ids checked
   against vocab_size (not against the logits width). */
void test_engine2_classifier(void) {
    golden2 g;
    lvs_model *m = open2("gpt2_cls", LVS_AS_STORED, 0), *lm;
    lvs_error err;
    size_t i;
    golden2_open(&g, "gpt2_cls", "golden.safetensors");
    if (m && g.ok) {
        const lvs_st_tensor *b = gt2(&g, "ids_b"), *lb = gt2(&g, "logits_b"), *pb = gt2(&g, "pool_index_b"),
                            *rb = gt2(&g, "reward_b");
        int32_t pads[5] = {63, 63, 63, 63, 63}, nopad[5] = {1, 2, 3, 4, 5}, mixed[6] = {63, 7, 63, 8, 63, 63};
        int64_t W = width2(m);
        CHECK(W == 1);
        CHECKF(lvs_cls_pool_index(m, pads, 5) == 0, "every token is pad: index %lld, expected 0",
               (long long)lvs_cls_pool_index(m, pads, 5));
        CHECKF(lvs_cls_pool_index(m, nopad, 5) == 4, "no pad: index %lld, expected 4",
               (long long)lvs_cls_pool_index(m, nopad, 5));
        CHECKF(lvs_cls_pool_index(m, mixed, 6) == 3, "63 7 63 8 63 63: index %lld, expected 3",
               (long long)lvs_cls_pool_index(m, mixed, 6));
        CHECK(lvs_cls_pool_index(m, nopad, 1) == 0);
        if (b && lb && pb && rb) {
            int64_t nb = b->numel, p = lvs_cls_pool_index(m, (const int32_t *)b->data, nb);
            float *lg = (float *)calloc((size_t)(nb * (W > 0 ? W : 1)), sizeof(float));
            lvs_cache *c = NULL;
            lvs_seq q;
            CHECKF(p == ((const int32_t *)pb->data)[0], "ids_b (interior pad at 4): pool index %lld, golden %d "
                   "(the old first-pad - 1 rule gives 3)", (long long)p, ((const int32_t *)pb->data)[0]);
            CHECK_OK(lvs_cache_create(&c, m, 1, nb, &err), &err);
            memset(&q, 0, sizeof q);
            q.tokens = (const int32_t *)b->data;
            q.n = (int)nb;
            q.logits = LVS_LOGITS_ALL;
            q.logits_out = lg;
            if (c && W == 1) {
                CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                CHECKF(t_rel_err(lg, (const float *)lb->data, (size_t)nb) <= 1e-4, "logits_b relative error %.3g",
                       t_rel_err(lg, (const float *)lb->data, (size_t)nb));
                if (p >= 0 && p < nb)
                    CHECKF(t_rel_err(&lg[p], (const float *)rb->data, 1) <= 1e-4, "reward_b %.7g, golden %.7g",
                           (double)lg[p], (double)((const float *)rb->data)[0]);
            }
            lvs_cache_free(c);
            c = NULL;
            { /* token 64 is outside the vocabulary of 64 (the logits width is 1) */
                int32_t bad[3] = {5, 64, 6};
                float out[3];
                CHECK_OK(lvs_cache_create(&c, m, 1, 3, &err), &err);
                q.tokens = bad;
                q.n = 3;
                q.logits_out = out;
                if (c) {
                    CHECK_ST(lvs_forward(m, c, &q, 1, &err), LVS_ERR_ARG);
                    CHECK(lvs_cache_len(c, 0) == 0);
                    bad[1] = 63;
                    CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                }
                lvs_cache_free(c);
            }
            free(lg);
        }
    }
    lvs_model_close(m);
    golden2_close(&g);
    for (i = 0; i < N_LMS2; i++) { /* causal LMs have no pooled index */
        int32_t ids[3] = {3, 4, 5};
        lm = open2(lms2[i], LVS_AS_STORED, 0);
        if (lm)
            CHECKF(lvs_cls_pool_index(lm, ids, 3) == -1, "%s: lvs_cls_pool_index = %lld, expected -1 (a causal LM)",
                   lms2[i], (long long)lvs_cls_pool_index(lm, ids, 3));
        lvs_model_close(lm);
    }
}

/* f16 / bf16 / int8 on the *_moderate folders at {2e-2, 2e-2, 6e-2}. */
void test_engine2_reduced_precision(void) {
    size_t i, k;
    for (i = 0; i < 3; i++) {
        if (!fixture2_exists(moderate2[i])) {
            t_sub_begin("%s", moderate2[i]);
            CHECKF(0, "fixture folder tests/fixtures/engine2/%s is missing (config.json not found): the f16 / bf16 / "
                   "int8 checks of %s need it", moderate2[i], models2[i]);
            t_sub_end();
            continue;
        }
        for (k = 0; k < 3; k++) {
            golden2 g;
            lvs_model *m;
            lvs_model_stats st;
            t_sub_begin("%s %s", moderate2[i], lvs_wtype_name((lvs_wtype)rp_dtypes[k]));
            golden2_open(&g, moderate2[i], "golden.safetensors");
            m = open2(moderate2[i], rp_dtypes[k], 0);
            if (m && g.ok) {
                double e;
                int all = 0, j;
                lvs_model_get_stats(m, &st);
                for (j = 0; j < 4; j++) all += st.n_matrices[j];
                CHECKF(st.n_matrices[rp_dtypes[k]] > 0 && st.n_matrices[rp_dtypes[k]] == all,
                       "%s: %d of %d matrices are %s", moderate2[i], st.n_matrices[rp_dtypes[k]], all,
                       lvs_wtype_name((lvs_wtype)rp_dtypes[k]));
                e = compare2(m, &g, rp_tol[k], moderate2[i]);
                printf("  %-18s %-4s worst relative error %.2e\n", moderate2[i],
                       lvs_wtype_name((lvs_wtype)rp_dtypes[k]), e);
            }
            lvs_model_close(m);
            golden2_close(&g);
            t_sub_end();
        }
    }
}

/* Greedy decoding (temperature 0) of greedy_prompt gives the golden 32 tokens exactly. */
void test_engine2_greedy(void) {
    size_t i;
    for (i = 0; i < N_LMS2; i++) {
        golden2 g;
        lvs_model *m;
        t_sub_begin("%s greedy", lms2[i]);
        golden2_open(&g, lms2[i], "golden.safetensors");
        m = open2(lms2[i], LVS_AS_STORED, 0);
        if (m && g.ok) {
            const lvs_st_tensor *pr = gt2(&g, "greedy_prompt"), *want = gt2(&g, "greedy");
            lvs_gen_seq q;
            lvs_gen_opts o;
            lvs_error err;
            int32_t out[64];
            int j;
            if (pr && want) {
                memset(&q, 0, sizeof q);
                lvs_gen_opts_default(&o);
                o.max_new = 32;
                o.ignore_eos = 1;
                q.prompt = (const int32_t *)pr->data;
                q.n_prompt = (int)pr->numel;
                q.out = out;
                CHECK_OK(lvs_generate(m, &q, 1, &o, &err), &err);
                CHECKF(q.n_out == 32 && q.finish == LVS_FINISH_LENGTH, "%d tokens, finish %d", q.n_out, q.finish);
                for (j = 0; j < 32 && j < q.n_out; j++)
                    CHECKF(out[j] == ((const int32_t *)want->data)[j], "%s: token %d: %d, golden %d", lms2[i], j,
                           out[j], ((const int32_t *)want->data)[j]);
            }
        }
        lvs_model_close(m);
        golden2_close(&g);
        t_sub_end();
    }
}

/* Incremental decoding with the KV cache equals the full recompute within 1e-5: a prefill of 5,
   then one token at a time (Gemma-2: T = 24 crosses the window of 4 many times; GPT-2: the
   learned positions continue at the cache length); chunks of 7 that start inside a window; the
   last rows only; a rewound cache. */
void test_engine2_incremental(void) {
    size_t i;
    for (i = 0; i < N_MODELS2; i++) {
        golden2 g;
        lvs_model *m;
        t_sub_begin("%s incremental", models2[i]);
        golden2_open(&g, models2[i], "golden.safetensors");
        m = open2(models2[i], LVS_AS_STORED, 0);
        if (m && g.ok && gt2(&g, "ids")) {
            const lvs_st_tensor *ids = gt2(&g, "ids");
            const int32_t *id = (const int32_t *)ids->data;
            int64_t T = ids->numel, V = width2(m), t;
            run2 full;
            lvs_cache *c = NULL;
            lvs_error err;
            float *lg = (float *)calloc((size_t)(V > 0 ? V : 1) * (size_t)T, sizeof(float));
            double worst = 0, e;
            if (V > 0 && run2_model(m, id, T, &full) && lvs_cache_create(&c, m, 1, T, &err) == LVS_OK) {
                lvs_seq q;
                int64_t at;
                memset(&q, 0, sizeof q);
                q.tokens = id;
                q.n = 5;
                q.logits = LVS_LOGITS_LAST;
                q.logits_out = lg;
                CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                worst = t_rel_err(lg, full.logits + 4 * V, (size_t)V);
                for (t = 5; t < T; t++) {
                    q.tokens = id + t;
                    q.n = 1;
                    CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                    e = t_rel_err(lg, full.logits + t * V, (size_t)V);
                    CHECKF(e <= 1e-5, "%s: position %lld one at a time vs full: %.3g", models2[i], (long long)t, e);
                    if (e > worst) worst = e;
                }
                CHECK(lvs_cache_len(c, 0) == T);
                /* rewinding the cache and decoding again gives the same logits */
                CHECK_OK(lvs_cache_truncate(c, 0, 10, &err), &err);
                q.tokens = id + 10;
                q.n = 1;
                CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                e = t_rel_err(lg, full.logits + 10 * V, (size_t)V);
                CHECKF(e <= 1e-5, "%s: after lvs_cache_truncate to 10: %.3g", models2[i], e);
                lvs_cache_free(c);
                c = NULL;
                /* chunks of 3 then 7 (each chunk's first query sees keys from the cache) */
                CHECK_OK(lvs_cache_create(&c, m, 1, T, &err), &err);
                for (at = 0; c && at < T;) {
                    int64_t n = at == 0 ? 3 : (T - at < 7 ? T - at : 7);
                    memset(&q, 0, sizeof q);
                    q.tokens = id + at;
                    q.n = (int)n;
                    q.logits = LVS_LOGITS_ALL;
                    q.logits_out = lg;
                    CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
                    e = t_rel_err(lg, full.logits + at * V, (size_t)(n * V));
                    CHECKF(e <= 1e-5, "%s: chunk at %lld (%lld tokens) vs full: %.3g", models2[i], (long long)at,
                           (long long)n, e);
                    if (e > worst) worst = e;
                    at += n;
                }
                lvs_cache_free(c);
                c = NULL;
                { /* logits of the last rows only, in one pass */
                    float *tail = (float *)calloc((size_t)(3 * V), sizeof(float));
                    lvs_seq q2;
                    CHECK_OK(lvs_cache_create(&c, m, 1, T, &err), &err);
                    memset(&q2, 0, sizeof q2);
                    q2.tokens = id;
                    q2.n = (int)T;
                    q2.logits = LVS_LOGITS_ALL;
                    q2.logits_from = (int)T - 3;
                    q2.logits_out = tail;
                    if (c) {
                        CHECK_OK(lvs_forward(m, c, &q2, 1, &err), &err);
                        CHECKF(memcmp(tail, full.logits + (T - 3) * V, sizeof(float) * (size_t)(3 * V)) == 0,
                               "%s: logits_from = T - 3 differs from the full pass", models2[i]);
                    }
                    free(tail);
                }
                CHECKF(worst <= 1e-5, "%s: incremental vs full: %.3g", models2[i], worst);
                run2_free(&full);
            }
            lvs_cache_free(c);
            free(lg);
        }
        lvs_model_close(m);
        golden2_close(&g);
        t_sub_end();
    }
}

/* Two sequences of different lengths in one pass give the logits each gives alone (and the
   logits_b golden); 1 and 2 threads give the same bits; batched generation gives the tokens of
   one-by-one generation. gpt2 runs once more in int8 (determinism only). */
void test_engine2_batch_and_threads(void) {
    static const char *const models[4] = {"gemma2", "gpt2", "gpt2_cls", "gpt2"};
    static const int dts[4] = {LVS_AS_STORED, LVS_AS_STORED, LVS_AS_STORED, LVS_W_INT8};
    size_t i;
    for (i = 0; i < 4; i++) {
        golden2 g;
        lvs_model *m1, *m2;
        t_sub_begin("%s %s batch", models[i], dts[i] == LVS_AS_STORED ? "f32" : "int8");
        golden2_open(&g, models[i], "golden.safetensors");
        m1 = open2(models[i], dts[i], 1);
        m2 = open2(models[i], dts[i], 2);
        if (m1 && m2 && g.ok && gt2(&g, "ids") && gt2(&g, "ids_b") && gt2(&g, "logits_b") && width2(m1) > 0) {
            const lvs_st_tensor *a = gt2(&g, "ids"), *b = gt2(&g, "ids_b"), *lb = gt2(&g, "logits_b");
            int64_t V = width2(m1), na = a->numel, nb = b->numel;
            float *single_a = (float *)calloc((size_t)(na * V), 4), *single_b = (float *)calloc((size_t)(nb * V), 4);
            float *both_a = (float *)calloc((size_t)(na * V), 4), *both_b = (float *)calloc((size_t)(nb * V), 4);
            float *t2_a = (float *)calloc((size_t)(na * V), 4), *t2_b = (float *)calloc((size_t)(nb * V), 4);
            lvs_cache *c = NULL;
            lvs_error err;
            lvs_seq q[2];
            memset(q, 0, sizeof q);
            q[0].tokens = (const int32_t *)a->data; q[0].n = (int)na; q[0].logits = LVS_LOGITS_ALL;
            q[1].tokens = (const int32_t *)b->data; q[1].n = (int)nb; q[1].logits = LVS_LOGITS_ALL; q[1].slot = 1;
            CHECK_OK(lvs_cache_create(&c, m1, 2, 32, &err), &err);
            q[0].logits_out = single_a;
            CHECK_OK(lvs_forward(m1, c, &q[0], 1, &err), &err);
            q[1].logits_out = single_b;
            CHECK_OK(lvs_forward(m1, c, &q[1], 1, &err), &err);
            lvs_cache_free(c);
            c = NULL;
            CHECK_OK(lvs_cache_create(&c, m1, 2, 32, &err), &err);
            q[0].logits_out = both_a;
            q[1].logits_out = both_b;
            CHECK_OK(lvs_forward(m1, c, q, 2, &err), &err);
            lvs_cache_free(c);
            c = NULL;
            CHECKF(memcmp(single_a, both_a, (size_t)(na * V) * 4) == 0, "%s: ids alone and in a batch differ", models[i]);
            CHECKF(memcmp(single_b, both_b, (size_t)(nb * V) * 4) == 0, "%s: ids_b alone and in a batch differ",
                   models[i]);
            if (dts[i] == LVS_AS_STORED)
                CHECKF(t_rel_err(both_b, (const float *)lb->data, (size_t)(nb * V)) <= 1e-4,
                       "%s: logits_b relative error %.3g", models[i],
                       t_rel_err(both_b, (const float *)lb->data, (size_t)(nb * V)));
            CHECK_OK(lvs_cache_create(&c, m2, 2, 32, &err), &err);
            q[0].logits_out = t2_a;
            q[1].logits_out = t2_b;
            CHECK_OK(lvs_forward(m2, c, q, 2, &err), &err);
            lvs_cache_free(c);
            CHECKF(memcmp(t2_a, single_a, (size_t)(na * V) * 4) == 0 && memcmp(t2_b, single_b, (size_t)(nb * V) * 4) == 0,
                   "%s: 1 and 2 threads differ", models[i]);
            if (!is_cls(m1)) /* batched generation: the same tokens as one by one */
                t_check_batched_generation(m2, m1, (const int32_t *)a->data, (const int32_t *)b->data, models[i]);
            free(single_a); free(single_b); free(both_a); free(both_b); free(t2_a); free(t2_b);
        }
        lvs_model_close(m1);
        lvs_model_close(m2);
        golden2_close(&g);
        t_sub_end();
    }
}

/* The embed site is the raw lookup: a vector added there reaches blocks.0.resid_pre times
   float32(sqrt(d)) in Gemma-2 and unchanged (before the learned positions) in GPT-2, on the
   changed rows only (later rows keep their resid_pre, but their logits move); resid_post(l) is
   resid_pre(l + 1), bit for bit. */
void test_engine2_hooks(void) {
    size_t i;
    for (i = 0; i < N_MODELS2; i++) {
        golden2 g;
        lvs_model *m;
        t_sub_begin("%s hooks", models2[i]);
        golden2_open(&g, models2[i], "golden.safetensors");
        m = open2(models2[i], LVS_AS_STORED, 0);
        if (m && g.ok && gt2(&g, "ids") && width2(m) > 0) {
            const lvs_config *c = lvs_model_config(m);
            const int32_t *ids = (const int32_t *)gt2(&g, "ids")->data;
            const int64_t T = 12, d = c->hidden_size, V = width2(m), L = c->n_layers;
            const double mult = c->arch == LVS_ARCH_GEMMA2 ? 4.898979663848877 : 1.0; /* float32(sqrt(24)) */
            float *vec = (float *)calloc((size_t)d, 4), *pre0 = (float *)calloc((size_t)(T * d), 4);
            float *pre0b = (float *)calloc((size_t)(T * d), 4), *lg = (float *)calloc((size_t)(T * V), 4);
            float *lgb = (float *)calloc((size_t)(T * V), 4);
            float *post = (float *)calloc((size_t)(T * d), 4), *next = (float *)calloc((size_t)(T * d), 4);
            lvs_act_buf cap, capp, capn;
            lvs_add_spec add;
            lvs_hook hk[3];
            lvs_cache *cache = NULL;
            lvs_seq q;
            lvs_error err;
            int64_t t, j, l;
            double dev;
            for (j = 0; j < d; j++) vec[j] = (float)(j % 5) - 2.0f;
#define RUN2(hooks_, nh_, out_)                                                        \
    do {                                                                               \
        CHECK_OK(lvs_cache_create(&cache, m, 1, T, &err), &err);                       \
        memset(&q, 0, sizeof q);                                                       \
        q.tokens = ids; q.n = (int)T; q.logits = LVS_LOGITS_ALL;                       \
        q.logits_out = (out_); q.hooks = (hooks_); q.n_hooks = (nh_);                  \
        if (cache) CHECK_OK(lvs_forward(m, cache, &q, 1, &err), &err);                 \
        lvs_cache_free(cache);                                                         \
        cache = NULL;                                                                  \
    } while (0)
            memset(&cap, 0, sizeof cap); cap.buf = pre0; cap.cap_pos = T; cap.d = (int)d;
            hk[0].site = LVS_SITE_RESID_PRE; hk[0].layer = 0; hk[0].fn = lvs_hook_capture; hk[0].user = &cap;
            RUN2(hk, 1, lg);
            /* 0.5 vec added at embed, rows at positions < 6 only */
            memset(&add, 0, sizeof add);
            add.vec = vec; add.scale = 0.5f; add.prompt_len = 6;
            hk[0].site = LVS_SITE_EMBED; hk[0].layer = -1; hk[0].fn = lvs_hook_add; hk[0].user = &add;
            cap.buf = pre0b;
            hk[1].site = LVS_SITE_RESID_PRE; hk[1].layer = 0; hk[1].fn = lvs_hook_capture; hk[1].user = &cap;
            RUN2(hk, 2, lgb);
            for (t = 0; t < T; t++) {
                dev = 0; /* how far this row's change is from 0.5 mult vec (rows < 6) or 0 (rows >= 6) */
                for (j = 0; j < d; j++) {
                    double ch = (double)pre0b[t * d + j] - pre0[t * d + j] - (t < 6 ? 0.5 * mult * vec[j] : 0.0);
                    dev = fabs(ch) > dev ? fabs(ch) : dev;
                }
                CHECKF(dev < 1e-4, "%s: row %lld of blocks.0.resid_pre is off by %.3g from the embed change times %g",
                       models2[i], (long long)t, dev, mult);
            }
            /* rows >= 6 of resid_pre did not move (checked above), but their logits do: later
               positions attend to the changed rows */
            CHECKF(t_rel_err(lgb + 8 * V, lg + 8 * V, (size_t)((T - 8) * V)) > 1e-6,
                   "%s: the change at embed did not reach the later logits", models2[i]);
            /* resid_post(l) and resid_pre(l + 1) are the same values */
            for (l = 0; l + 1 < L; l++) {
                memset(&capp, 0, sizeof capp); capp.buf = post; capp.cap_pos = T; capp.d = (int)d;
                memset(&capn, 0, sizeof capn); capn.buf = next; capn.cap_pos = T; capn.d = (int)d;
                hk[0].site = LVS_SITE_RESID_POST; hk[0].layer = (int)l; hk[0].fn = lvs_hook_capture; hk[0].user = &capp;
                hk[1].site = LVS_SITE_RESID_PRE; hk[1].layer = (int)l + 1; hk[1].fn = lvs_hook_capture; hk[1].user = &capn;
                RUN2(hk, 2, lgb);
                CHECKF(memcmp(post, next, (size_t)(T * d) * 4) == 0, "%s: resid_post(%lld) != resid_pre(%lld)",
                       models2[i], (long long)l, (long long)l + 1);
            }
#undef RUN2
            free(vec); free(pre0); free(pre0b); free(lg); free(lgb); free(post); free(next);
        }
        lvs_model_close(m);
        golden2_close(&g);
        t_sub_end();
    }
}

/* Refusals: a bad config gives a clear status; GPT-2 never runs past n_positions (lvs_forward
   with a cache longer than n_positions, one long pass, lvs_generate stops at the context). */
void test_engine2_errors(void) {
    char *dir = t_path("engine2-bad"), cmd[1500], src[256];
    lvs_model *m = NULL;
    lvs_error err;
    static const struct { const char *model, *sed; lvs_status st; const char *msg; } cfgs[] = {
        /* head_dim taken as hidden / heads = 6: q_proj [64, 24] does not fit */
        {"gemma2", "/\"head_dim\": 16,/d", LVS_ERR_TENSOR, "self_attn."},
        /* two labels: score.weight [1, 32] does not fit */
        {"gpt2_cls", "s/\"0\": \"LABEL_0\"/\"0\": \"LABEL_0\", \"1\": \"LABEL_1\"/", LVS_ERR_TENSOR, "score.weight"},
    };
    size_t i;
    for (i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
        lvs_status s;
        fixture2(src, sizeof src, cfgs[i].model, NULL);
        snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s' && sed -i '%s' '%s/config.json'", dir, src, dir,
                 cfgs[i].sed, dir);
        CHECK(t_run(cmd) == 0);
        m = NULL;
        s = lvs_model_open(&m, dir, NULL, &err);
        CHECKF(s == cfgs[i].st && strstr(err.message, cfgs[i].msg) && !m, "case %d (%s: %s): %s (%s), expected %s "
               "naming %s", (int)i, cfgs[i].model, cfgs[i].sed, lvs_status_name(s), s ? err.message : "",
               lvs_status_name(cfgs[i].st), cfgs[i].msg);
        lvs_model_close(m);
    }
    m = open2("gpt2", LVS_AS_STORED, 0);
    if (m) {
        const int64_t P = lvs_model_config(m)->max_positions;
        int32_t toks[80], out[100], prompt[8];
        float lg[96 * 2];
        lvs_cache *c = NULL;
        lvs_seq q;
        lvs_gen_seq gs;
        lvs_gen_opts o;
        lvs_status s;
        int k;
        CHECK(P == 64);
        for (k = 0; k < 80; k++) toks[k] = (int32_t)((k * 7 + 3) % 96);
        memset(&q, 0, sizeof q);
        q.tokens = toks;
        q.logits = LVS_LOGITS_LAST;
        q.logits_out = lg;
        /* a cache longer than n_positions: fine to create, but no position reaches 64 */
        s = lvs_cache_create(&c, m, 1, 80, &err);
        if (s == LVS_OK) {
            q.n = 64;
            CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err); /* positions 0..63 */
            q.tokens = toks + 64;
            q.n = 1;
            s = lvs_forward(m, c, &q, 1, &err);
            CHECKF(s != LVS_OK, "gpt2: position 64 of n_positions 64 was accepted");
            CHECKF(s == LVS_OK || lvs_cache_len(c, 0) == 64, "gpt2: the refused token changed the cache length to %lld",
                   (long long)lvs_cache_len(c, 0));
            lvs_cache_free(c);
            c = NULL;
            /* one pass of 65 tokens */
            CHECK_OK(lvs_cache_create(&c, m, 1, 80, &err), &err);
            q.tokens = toks;
            q.n = 65;
            if (c) CHECKF(lvs_forward(m, c, &q, 1, &err) != LVS_OK, "gpt2: 65 tokens in one pass were accepted");
            lvs_cache_free(c);
            c = NULL;
        } else
            printf("  gpt2: lvs_cache_create(capacity 80 > n_positions 64) refused: %s\n", err.message);
        /* generation stops at the context: prompt + new tokens = n_positions */
        for (k = 0; k < 8; k++) prompt[k] = toks[k];
        memset(&gs, 0, sizeof gs);
        lvs_gen_opts_default(&o);
        o.max_new = 100;
        o.ignore_eos = 1;
        gs.prompt = prompt;
        gs.n_prompt = 8;
        gs.out = out;
        CHECK_OK(lvs_generate(m, &gs, 1, &o, &err), &err);
        CHECKF(gs.finish == LVS_FINISH_CONTEXT && gs.n_out == 64 - 8,
               "gpt2: generation with max_new 100 from 8 tokens: finish %d, %d tokens (expected %d, %d)", gs.finish,
               gs.n_out, LVS_FINISH_CONTEXT, 64 - 8);
        lvs_model_close(m);
    }
    free(dir);
}

/* ------------------------------------------------------------------ backward */

/* g[0]: grad.safetensors, g[1]: golden.safetensors (ids, pool_index) */
static int gfiles2(const char *name, golden2 *g) {
    golden2_open(&g[0], name, "grad.safetensors");
    if (!g[0].ok) return 0;
    golden2_open(&g[1], name, "golden.safetensors");
    if (!g[1].ok) { golden2_close(&g[0]); return 0; }
    return 1;
}
static void gclose2(golden2 *g) { golden2_close(&g[0]); golden2_close(&g[1]); }

/* the classifier's objective: the reward, label 0 of row 0 (logits_from = the pooled index) */
static float reward_loss(void *user, const float *logits, int n_rows, int64_t V, float *dlogits) {
    (void)user;
    memset(dlogits, 0, sizeof(float) * (size_t)n_rows * (size_t)V);
    dlogits[0] = 1.0f;
    return logits[0];
}

typedef struct gres2 { float loss, loss2; int has_loss2; float *sites, *grad2, *x0g; lvs_wgrads *wg; uint64_t bytes; } gres2;
static void gres2_free(gres2 *r) {
    free(r->sites); free(r->grad2); free(r->x0g);
    lvs_wgrads_free(r->wg);
    memset(r, 0, sizeof *r);
}

static int64_t pool_of(const golden2 *g) {
    const lvs_st_tensor *p = gt2(&g[1], "pool_index");
    return p ? ((const int32_t *)p->data)[0] : -1;
}

/* The fixture's objectives on m: for an LM the cross-entropy from 16 (sites, grad_x0, weights)
   and, when the file has loss2_coef, loss2 on rows 20..23 (grad2); for the classifier the
   reward at the pooled index. Sites [1 + 5 L][T, d] in the golden order. */
static int grun2(const lvs_model *m, const golden2 *g, int recompute, int want_w, gres2 *out) {
    const lvs_config *c = lvs_model_config(m);
    const lvs_st_tensor *ids = gt2(&g[1], "ids"), *coef = g[0].ok ? lvs_st_find(&g[0].st, "loss2_coef") : NULL;
    int64_t T, d = c->hidden_size, ns = 1 + 5 * c->n_layers, k;
    lvs_tape *tape = NULL;
    lvs_grad_site *sites;
    lvs_backward_req r;
    lvs_error err;
    int ok = 1;
    memset(out, 0, sizeof *out);
    if (!ids) return 0;
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
    r.sites = sites;
    r.n_sites = (int)ns;
    r.grad_x0 = out->x0g;
    r.wgrads = out->wg;
    if (is_cls(m)) {
        int64_t p = pool_of(g);
        r.loss_fn = reward_loss;
        r.logits_from = (int)p;
        if (p < 0 || p >= T) { CHECKF(0, "bad golden pool_index %lld", (long long)p); ok = 0; }
    } else
        r.loss_from = 16;
    if (ok && lvs_backward(m, tape, &r, &err) != LVS_OK) { ok = 0; CHECKF(0, "lvs_backward: %s", err.message); }
    out->loss = r.loss;
    if (ok && coef && !is_cls(m)) {
        memset(&r, 0, sizeof r);
            r.tokens = (const int32_t *)ids->data;
        r.n = (int)T;
        r.loss_fn = t_linear_loss;
        r.loss_user = (void *)coef->data;
        r.logits_from = (int)T - 4;
        r.grad_x0 = out->grad2;
        if (lvs_backward(m, tape, &r, &err) != LVS_OK) { ok = 0; CHECKF(0, "lvs_backward (loss2): %s", err.message); }
        out->loss2 = r.loss;
        out->has_loss2 = 1;
    }
    lvs_tape_free(tape);
    free(sites);
    return ok;
}

/* GPT-2's Conv1D weights: stored [in, out], accumulated [out, in] */
static int is_conv1d(const lvs_config *c, const char *name) {
    static const char *const suf[3] = {".c_attn.weight", ".c_proj.weight", ".c_fc.weight"};
    size_t n = strlen(name), k;
    if (c->arch != LVS_ARCH_GPT2 && c->arch != LVS_ARCH_GPT2_CLS) return 0;
    for (k = 0; k < 3; k++)
        if (n >= strlen(suf[k]) && strcmp(name + n - strlen(suf[k]), suf[k]) == 0) return 1;
    return 0;
}

/* Compares with the goldens; returns the worst relative error. */
static double gcompare2(const lvs_model *m, const golden2 *g, const gres2 *r, double tol, const char *what) {
    const lvs_config *c = lvs_model_config(m);
    const lvs_st_tensor *ids = gt2(&g[1], "ids"), *t;
    int64_t d = c->hidden_size, ns = 1 + 5 * c->n_layers, k, T = ids ? ids->numel : 0;
    const char *lname = is_cls(m) ? "reward" : "loss";
    double worst = 1e9, e;
    char name[128];
    size_t i;
    if ((t = gt2(&g[0], lname)) != NULL) {
        float want = ((const float *)t->data)[0];
        worst = fabs((double)r->loss - want) / fabs((double)want);
        CHECKF(worst <= tol, "%s: %s %.8g, golden %.8g", what, lname, (double)r->loss, (double)want);
    }
    /* loss2 sums logits times random signs: its value cancels, so it is compared in f32 only */
    if (r->has_loss2 && (t = lvs_st_find(&g[0].st, "loss2")) != NULL) {
        float want = ((const float *)t->data)[0];
        e = fabs((double)r->loss2 - want) / fabs((double)want);
        CHECKF(tol > 1e-3 || e <= tol, "%s: loss2 %.8g, golden %.8g", what, (double)r->loss2, (double)want);
    }
    for (k = 0; k < ns; k++) {
        t = gt2(&g[0], site2_name("grad.", k, name, sizeof name));
        if (!t) continue;
        e = t_rel_err(r->sites + k * T * d, (const float *)t->data, (size_t)t->numel);
        CHECKF(e <= tol, "%s: %s relative error %.3g > %.3g", what, name, e, tol);
        worst = e > worst ? e : worst;
    }
    if ((t = gt2(&g[0], "grad.embed")) != NULL) {
        e = t_rel_err(r->x0g, (const float *)t->data, (size_t)(T * d));
        CHECKF(e <= tol, "%s: grad_x0 relative error %.3g > %.3g", what, e, tol);
        worst = e > worst ? e : worst;
    }
    if (r->has_loss2) {
        if ((t = gt2(&g[0], "grad2.embed")) != NULL) {
            e = t_rel_err(r->grad2, (const float *)t->data, (size_t)(T * d));
            CHECKF(e <= tol, "%s: callback-loss (loss2) gradient relative error %.3g > %.3g", what, e, tol);
            worst = e > worst ? e : worst;
        }
    }
    if (r->wg) {
        int n = 0, missing = 0;
        for (i = 0; i < g[0].st.n_tensors; i++) {
            const lvs_st_tensor *gw = &g[0].st.tensors[i];
            const char *wname = gw->name + 6;
            int64_t numel = 0;
            float *ours, *want = (float *)gw->data, *tr = NULL;
            if (strncmp(gw->name, "wgrad.", 6) != 0) continue;
            n++;
            ours = lvs_wgrads_get(r->wg, wname, &numel);
            if (!ours || numel != gw->numel) {
                CHECKF(0, "%s: no accumulator for %s (%s, %lld values, golden %lld)", what, wname,
                       ours ? "found" : "NULL", (long long)numel, (long long)gw->numel);
                missing++;
                continue;
            }
            if (strncmp(wname, "transformer.", 12) == 0) { /* the name without the prefix: the same accumulator */
                int64_t n2 = 0;
                float *p2 = lvs_wgrads_get(r->wg, wname + 12, &n2);
                CHECKF(p2 == ours && n2 == numel, "%s: lvs_wgrads_get(\"%s\") is not the accumulator of %s", what,
                       wname + 12, wname);
            }
            if (is_conv1d(c, wname)) { /* golden [in, out] -> ours [out, in] */
                int64_t in = gw->shape[0], outd = gw->shape[1], a, b;
                tr = (float *)malloc(sizeof(float) * (size_t)numel);
                for (a = 0; a < in; a++)
                    for (b = 0; b < outd; b++) tr[b * in + a] = ((const float *)gw->data)[a * outd + b];
                want = tr;
            }
            e = t_rel_err(ours, want, (size_t)numel);
            CHECKF(e <= tol, "%s: %s relative error %.3g > %.3g%s", what, gw->name, e, tol,
                   tr ? " (compared as [out, in], the transpose of the file's Conv1D layout)" : "");
            worst = e > worst ? e : worst;
            free(tr);
        }
        CHECKF(n > 5 && missing == 0, "%s: %d of %d golden weight gradients had no accumulator", what, missing, n);
        CHECKF(lvs_wgrads_get(r->wg, "lm_head.weight", NULL) == NULL, "%s: tied model has an lm_head.weight accumulator",
               what);
        if (c->arch == LVS_ARCH_GPT2 || c->arch == LVS_ARCH_GPT2_CLS)
            CHECKF(lvs_wgrads_get(r->wg, "transformer.h.0.attn.bias", NULL) == NULL &&
                       lvs_wgrads_get(r->wg, "transformer.h.0.attn.masked_bias", NULL) == NULL,
                   "%s: the attention mask buffers are not parameters", what);
    }
    return worst;
}

/* The loss (reward for the classifier), every site gradient, grad_x0, the callback loss and
   every weight gradient at 1e-3, with stored and recomputed activations; the LMs once more
   without weight gradients. */
void test_backward2_goldens(void) {
    size_t i;
    for (i = 0; i < N_MODELS2; i++) {
        golden2 g[2];
        lvs_model *m;
        int rc;
        t_sub_begin("backward %s", models2[i]);
        if (!gfiles2(models2[i], g)) { t_sub_end(); continue; }
        m = open2(models2[i], LVS_AS_STORED, 0);
        for (rc = 0; m && rc < 3; rc++) {
            gres2 r;
            char what[96];
            int want_w = rc < 2;
            snprintf(what, sizeof what, "%s%s", models2[i], rc == 1 ? " (recompute)" : rc == 2 ? " (no wgrads)" : "");
            if (grun2(m, g, rc == 1, want_w, &r)) {
                double w = gcompare2(m, g, &r, 1e-3, what);
                if (rc == 0)
                    printf("  %-15s worst relative error %.2e over %s, site and weight gradients (activations %.0f KiB)\n",
                           models2[i], w, is_cls(m) ? "reward" : "loss", (double)r.bytes / 1024.0);
            }
            gres2_free(&r);
        }
        lvs_model_close(m);
        gclose2(g);
        t_sub_end();
    }
}

/* 1 and 2 threads, stored and recomputed activations give the same bits (loss, sites, every
   weight gradient); recomputation holds less. */
void test_backward2_deterministic(void) {
    size_t i;
    for (i = 0; i < N_MODELS2; i++) {
        golden2 g[2];
        gres2 r[3];
        lvs_model *m1, *m2;
        int ok;
        t_sub_begin("deterministic %s", models2[i]);
        memset(r, 0, sizeof r);
        if (!gfiles2(models2[i], g)) { t_sub_end(); continue; }
        m1 = open2(models2[i], LVS_AS_STORED, 1);
        m2 = open2(models2[i], LVS_AS_STORED, 2);
        ok = m1 && m2 && grun2(m1, g, 0, 1, &r[0]) && grun2(m2, g, 0, 1, &r[1]) && grun2(m2, g, 1, 1, &r[2]);
        if (ok) {
            const lvs_config *c = lvs_model_config(m1);
            size_t n = (size_t)((1 + 5 * c->n_layers) * gt2(&g[1], "ids")->numel * c->hidden_size), k;
            int nw = 0;
            CHECKF(memcmp(r[0].sites, r[1].sites, n * sizeof(float)) == 0, "%s: site gradients differ with 2 threads",
                   models2[i]);
            CHECKF(memcmp(r[0].sites, r[2].sites, n * sizeof(float)) == 0,
                   "%s: site gradients differ with recomputed activations", models2[i]);
            CHECK(r[0].loss == r[1].loss && r[0].loss == r[2].loss);
            for (k = 0; k < g[0].st.n_tensors; k++) {
                const char *name = g[0].st.tensors[k].name;
                int64_t n0 = 0;
                float *w0, *w1, *w2;
                if (strncmp(name, "wgrad.", 6) != 0) continue;
                w0 = lvs_wgrads_get(r[0].wg, name + 6, &n0);
                w1 = lvs_wgrads_get(r[1].wg, name + 6, NULL);
                w2 = lvs_wgrads_get(r[2].wg, name + 6, NULL);
                if (!w0 || !w1 || !w2 || n0 <= 0) continue; /* reported by test_backward2_goldens */
                nw++;
                CHECKF(memcmp(w0, w1, (size_t)n0 * 4) == 0 && memcmp(w0, w2, (size_t)n0 * 4) == 0,
                       "%s: %s differs between 1 / 2 threads or stored / recomputed activations", models2[i], name);
            }
            CHECKF(nw > 5, "%s: only %d weight gradients compared", models2[i], nw);
            /* with one layer the block being recomputed needs all of its activations anyway */
            CHECKF(c->n_layers > 1 ? r[2].bytes < r[0].bytes : r[2].bytes <= r[0].bytes,
                   "%s: recompute keeps %llu bytes, storing %llu", models2[i], (unsigned long long)r[2].bytes,
                   (unsigned long long)r[0].bytes);
        }
        gres2_free(&r[0]); gres2_free(&r[1]); gres2_free(&r[2]);
        lvs_model_close(m1);
        lvs_model_close(m2);
        gclose2(g);
        t_sub_end();
    }
}

/* Frozen f16 / bf16 / int8 weights on the *_moderate folders: the loss (reward) and every
   site gradient at {2e-2, 2e-2, 6e-2}; no weight gradients. */
void test_backward2_reduced_precision(void) {
    size_t i, k;
    for (i = 0; i < 3; i++) {
        golden2 g[2];
        if (!fixture2_exists(moderate2[i])) {
            t_sub_begin("backward %s", moderate2[i]);
            CHECKF(0, "fixture folder tests/fixtures/engine2/%s is missing (config.json not found): the f16 / bf16 / "
                   "int8 backward checks of %s need it", moderate2[i], models2[i]);
            t_sub_end();
            continue;
        }
        t_sub_begin("backward %s", moderate2[i]);
        if (!gfiles2(moderate2[i], g)) { t_sub_end(); continue; }
        for (k = 0; k < 3; k++) {
            lvs_model *m = open2(moderate2[i], rp_dtypes[k], 0);
            gres2 r;
            char what[96];
            lvs_wgrads *wg = NULL;
            lvs_error err;
            memset(&r, 0, sizeof r);
            snprintf(what, sizeof what, "%s %s", moderate2[i], lvs_wtype_name((lvs_wtype)rp_dtypes[k]));
            if (m && grun2(m, g, 0, 0, &r)) {
                double w = gcompare2(m, g, &r, rp_tol[k], what);
                printf("  %-24s worst relative error %.2e (tolerance %.0e)\n", what, w, rp_tol[k]);
            }
            if (m) {
                CHECK_ST(lvs_wgrads_create(&wg, m, &err), LVS_ERR_UNSUPPORTED);
                lvs_wgrads_free(wg);
            }
            gres2_free(&r);
            lvs_model_close(m);
        }
        gclose2(g);
        t_sub_end();
    }
}

/* The one-pass cross-entropy through the head (4 loss rows, no weight gradients: through
   Gemma-2's final soft-cap, through GPT-2's tied wte) against a cross-entropy written here in
   double as a logits callback. */
void test_backward2_ce_head(void) {
    size_t i;
    for (i = 0; i < N_LMS2; i++) {
        lvs_model *m;
        golden2 g;
        lvs_tape *t = NULL;
        lvs_error err;
        lvs_backward_req r;
        const int32_t *ids;
        float *g1, *g2, l1;
        int64_t d;
        t_sub_begin("ce head %s", lms2[i]);
        m = open2(lms2[i], LVS_AS_STORED, 0);
        golden2_open(&g, lms2[i], "golden.safetensors");
        if (!m || !g.ok || !gt2(&g, "ids")) { lvs_model_close(m); golden2_close(&g); t_sub_end(); continue; }
        ids = (const int32_t *)gt2(&g, "ids")->data;
        d = lvs_model_config(m)->hidden_size;
        g1 = (float *)calloc((size_t)(24 * d), sizeof(float));
        g2 = (float *)calloc((size_t)(24 * d), sizeof(float));
        CHECK_OK(lvs_tape_create(&t, m, 24, 0, &err), &err);
        if (t) {
            memset(&r, 0, sizeof r);
            r.tokens = ids; r.n = 24; r.loss_from = 20; r.grad_x0 = g1;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            l1 = r.loss;
            memset(&r, 0, sizeof r);
                r.tokens = ids; r.n = 24; r.loss_fn = t_ce_loss; r.loss_user = (void *)(ids + 20); r.logits_from = 19; r.grad_x0 = g2;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            CHECKF(fabs(l1 - r.loss) <= 1e-5 * fabs(r.loss), "%s: loss %.8g, callback %.8g", lms2[i], (double)l1,
                   (double)r.loss);
            CHECKF(t_rel_err(g1, g2, (size_t)(24 * d)) <= 1e-5, "%s: one-pass gradient differs by %.3g", lms2[i],
                   t_rel_err(g1, g2, (size_t)(24 * d)));
        }
        free(g1);
        free(g2);
        lvs_tape_free(t);
        golden2_close(&g);
        lvs_model_close(m);
        t_sub_end();
    }
}

/* Packed sequences (seq_lens): positions restart at 0 in each (GPT-2's learned positions,
   Gemma-2's windows), so a pack gives the token-weighted mean of the separate losses and, per
   sequence, the separate gradient times its share. Two packs: ids, ids_b, ids (59 tokens) and
   ids, ids_b, ids, ids_b, ids (94 tokens: more than GPT-2's n_positions of 64, but every
   sequence within it). */
static void packed_case(const lvs_model *m, const char *what, const int32_t *a, const int32_t *b, int n_seqs) {
    static const int lens[5] = {24, 11, 24, 11, 24}, froms[5] = {16, 5, 16, 5, 16};
    const int64_t d = lvs_model_config(m)->hidden_size;
    int N = 0, k, at;
    double ntgt = 0;
    int32_t all[94];
    float *ga = (float *)calloc((size_t)(24 * d), 4), *gb = (float *)calloc((size_t)(11 * d), 4);
    float *gp = (float *)calloc((size_t)(94 * d), 4), *want = (float *)calloc((size_t)(24 * d), 4);
    float la = 0, lb = 0;
    lvs_tape *t = NULL;
    lvs_error err;
    lvs_backward_req r;
    int64_t j;
    for (k = 0; k < n_seqs; N += lens[k], k++) {
        memcpy(all + N, k % 2 ? b : a, sizeof(int32_t) * (size_t)lens[k]);
        ntgt += lens[k] - froms[k];
    }
    CHECK_OK(lvs_tape_create(&t, m, N, 0, &err), &err);
    if (t) {
        memset(&r, 0, sizeof r);
        r.tokens = a; r.n = 24; r.loss_from = 16; r.grad_x0 = ga;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        la = r.loss;
        memset(&r, 0, sizeof r);
        r.tokens = b; r.n = 11; r.loss_from = 5; r.grad_x0 = gb;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        lb = r.loss;
        memset(&r, 0, sizeof r);
        r.tokens = all; r.n = N; r.seq_lens = lens; r.seq_loss_from = froms; r.n_seqs = n_seqs; r.grad_x0 = gp;
        if (lvs_backward(m, t, &r, &err) != LVS_OK)
            CHECKF(0, "%s: %d packed sequences of %d tokens in all (each within n_positions): %s", what, n_seqs, N,
                   err.message);
        else {
            double wl = 0;
            for (k = 0; k < n_seqs; k++) wl += (lens[k] - froms[k]) * (double)(k % 2 ? lb : la);
            wl /= ntgt;
            CHECKF(fabs(r.loss - wl) <= 1e-5 * fabs(wl), "%s: packed loss %.8g, the separate losses give %.8g", what,
                   (double)r.loss, wl);
            for (k = 0, at = 0; k < n_seqs; at += lens[k], k++) {
                const float *sep = k % 2 ? gb : ga;
                double share = (lens[k] - froms[k]) / ntgt, e;
                for (j = 0; j < lens[k] * d; j++) want[j] = (float)(sep[j] * share);
                e = t_rel_err(gp + (int64_t)at * d, want, (size_t)(lens[k] * d));
                CHECKF(e <= 1e-5, "%s: packed sequence %d (at %d): its gradient differs from the separate one by %.3g",
                       what, k, at, e);
            }
        }
    }
    lvs_tape_free(t);
    free(ga); free(gb); free(gp); free(want);
}
void test_backward2_packed(void) {
    size_t i;
    int pack;
    for (i = 0; i < N_LMS2; i++)
        for (pack = 0; pack < 2; pack++) {
            lvs_model *m;
            golden2 g;
            t_sub_begin("packed %s, %s", lms2[i], pack ? "94 tokens" : "59 tokens");
            m = open2(lms2[i], LVS_AS_STORED, 0);
            golden2_open(&g, lms2[i], "golden.safetensors");
            if (m && g.ok && gt2(&g, "ids") && gt2(&g, "ids_b"))
                packed_case(m, lms2[i], (const int32_t *)gt2(&g, "ids")->data, (const int32_t *)gt2(&g, "ids_b")->data,
                            pack ? 5 : 3);
            lvs_model_close(m);
            golden2_close(&g);
            t_sub_end();
        }
}

/* The classifier refuses a cross-entropy loss (loss_from > 0) and takes the reward of ids_b
   at its pooled index; GPT-2 refuses a sequence longer than n_positions and takes one of
   exactly n_positions. */
void test_backward2_errors(void) {
    lvs_model *m = open2("gpt2_cls", LVS_AS_STORED, 0);
    golden2 g;
    lvs_tape *t = NULL;
    lvs_error err;
    lvs_backward_req r;
    golden2_open(&g, "gpt2_cls", "golden.safetensors");
    if (m && g.ok && gt2(&g, "ids") && gt2(&g, "ids_b") && gt2(&g, "reward_b") && gt2(&g, "pool_index_b")) {
        const int32_t *ids = (const int32_t *)gt2(&g, "ids")->data, *b = (const int32_t *)gt2(&g, "ids_b")->data;
        float want = ((const float *)gt2(&g, "reward_b")->data)[0];
        int pb = ((const int32_t *)gt2(&g, "pool_index_b")->data)[0];
        CHECK_OK(lvs_tape_create(&t, m, 24, 0, &err), &err);
        if (t) {
            memset(&r, 0, sizeof r);
            r.tokens = ids;
            r.n = 24;
            r.loss_from = 16;
            CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG); /* a classifier has no next-token loss */
            r.loss_from = 1;
            CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
            r.loss_fn = reward_loss; /* loss_from still set: refused too */
            r.logits_from = 20;
            CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
            memset(&r, 0, sizeof r);
            r.tokens = b;
            r.n = 11;
            r.loss_fn = reward_loss;
            r.logits_from = pb;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            CHECKF(fabs(r.loss - want) <= 1e-4 * fabs(want), "gpt2_cls: reward of ids_b %.7g, golden %.7g",
                   (double)r.loss, (double)want);
            r.no_grad = 1;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            CHECKF(fabs(r.loss - want) <= 1e-4 * fabs(want), "gpt2_cls: reward of ids_b (no_grad) %.7g, golden %.7g",
                   (double)r.loss, (double)want);
        }
        lvs_tape_free(t);
        t = NULL;
    }
    lvs_model_close(m);
    golden2_close(&g);
    m = open2("gpt2", LVS_AS_STORED, 0);
    if (m) {
        int32_t toks[65];
        int k;
        lvs_status s;
        for (k = 0; k < 65; k++) toks[k] = (int32_t)((k * 7 + 3) % 96);
        memset(&r, 0, sizeof r);
        r.tokens = toks;
        r.loss_from = 1;
        s = lvs_tape_create(&t, m, 65, 0, &err);
        if (s == LVS_OK) {
            r.n = 65;
            CHECKF(lvs_backward(m, t, &r, &err) != LVS_OK, "gpt2: lvs_backward of 65 tokens (n_positions 64) accepted");
        } else {
            printf("  gpt2: lvs_tape_create(65 > n_positions 64) refused: %s\n", err.message);
            CHECK_OK(lvs_tape_create(&t, m, 64, 0, &err), &err);
        }
        if (t) {
            r.n = 64;
            CHECK_OK(lvs_backward(m, t, &r, &err), &err);
            CHECKF(r.loss > 0 && r.loss < 100, "gpt2: loss of 64 tokens %.8g", (double)r.loss);
        }
        lvs_tape_free(t);
        lvs_model_close(m);
    }
}

/* LoRA on Gemma-2: with W_eff = W + s B A, the adapter's gradients must be dB = s dW A^T and
   dA = s B^T dW, where dW is the weight gradient (checked against PyTorch above). Every
   projection is targeted, so o and down (before Gemma's post norms) are covered. */
void test_backward2_lora(void) {
    lvs_model *m = open2("gemma2", LVS_AS_STORED, 0);
    lvs_lora *lo = NULL;
    lvs_lora_opts o;
    lvs_wgrads *wg = NULL;
    lvs_tape *tape = NULL;
    lvs_backward_req r;
    lvs_error err;
    golden2 g;
    const lvs_st_tensor *ids;
    int64_t np, i;
    int l, k;
    float *p;
    double worst = 0;
    golden2_open(&g, "gemma2", "golden.safetensors");
    ids = gt2(&g, "ids");
    if (!m || !ids) { lvs_model_close(m); golden2_close(&g); return; }
    lvs_lora_opts_default(&o);
    o.rank = 3;
    o.alpha = 6;
    o.seed = 11;
    CHECK_OK(lvs_lora_create(&lo, lvs_model_config(m), &o, &err), &err);
    if (!lo) goto done;
    p = lvs_lora_params(lo, &np);
    { /* B = 0 at creation: give every B random values too */
        lvs_rng rng;
        lvs_rng_seed(&rng, 12);
        for (i = 0; i < np; i++) if (p[i] == 0.0f) p[i] = (float)(0.3 * lvs_rng_normal(&rng));
    }
    CHECK_OK(lvs_model_set_lora(m, lo, &err), &err);
    CHECK_OK(lvs_wgrads_create(&wg, m, &err), &err);
    CHECK_OK(lvs_tape_create(&tape, m, ids->numel, 0, &err), &err);
    if (!wg || !tape) goto done;
    lvs_lora_zero_grad(lo);
    memset(&r, 0, sizeof r);
    r.tokens = (const int32_t *)ids->data;
    r.n = (int)ids->numel;
    r.loss_from = 16;
    r.wgrads = wg;
    r.lora_grads = lo;
    CHECK_OK(lvs_backward(m, tape, &r, &err), &err);
    for (l = 0; l < 3; l++)
        for (k = 0; k < 7; k++) {
            char name[160];
            int64_t ar, ac, br, bc, nw, a, b, c;
            const double s = lvs_lora_scale(lo);
            float *A, *B, *gA, *gB, *dW;
            double *refA, *refB, ea, eb;
            snprintf(name, sizeof name, "base_model.model.model.layers.%d.%s.%s.lora_A.weight", l, k < 4 ? "self_attn" : "mlp",
                     lvs_lora_target_name(k));
            A = lvs_lora_tensor(lo, name, 0, &ar, &ac);
            gA = lvs_lora_tensor(lo, name, 1, &ar, &ac);
            strcpy(strstr(name, "lora_A"), "lora_B.weight");
            B = lvs_lora_tensor(lo, name, 0, &br, &bc);
            gB = lvs_lora_tensor(lo, name, 1, &br, &bc);
            snprintf(name, sizeof name, "model.layers.%d.%s.%s.weight", l, k < 4 ? "self_attn" : "mlp", lvs_lora_target_name(k));
            dW = lvs_wgrads_get(wg, name, &nw);
            if (!A || !B || !gA || !gB || !dW || nw != br * ac) { CHECKF(0, "%s: missing tensors", name); continue; }
            refA = (double *)calloc((size_t)(ar * ac), sizeof(double));
            refB = (double *)calloc((size_t)(br * bc), sizeof(double));
            for (a = 0; a < br; a++) /* dW [out, in], A [r, in], B [out, r] */
                for (b = 0; b < ac; b++)
                    for (c = 0; c < ar; c++) {
                        refB[a * bc + c] += s * dW[a * ac + b] * A[c * ac + b];
                        refA[c * ac + b] += s * B[a * bc + c] * dW[a * ac + b];
                    }
            {
                double na = 0, nb = 0, da = 0, db = 0;
                for (a = 0; a < ar * ac; a++) { da = fmax(da, fabs(gA[a] - refA[a])); na = fmax(na, fabs(refA[a])); }
                for (a = 0; a < br * bc; a++) { db = fmax(db, fabs(gB[a] - refB[a])); nb = fmax(nb, fabs(refB[a])); }
                ea = da / na;
                eb = db / nb;
            }
            CHECKF(ea < 1e-4 && eb < 1e-4, "%s: lora_A %.3g, lora_B %.3g", name, ea, eb);
            worst = fmax(worst, fmax(ea, eb));
            free(refA);
            free(refB);
        }
    printf("  gemma2 LoRA (every projection): worst relative error %.2e against s dW A^T and s B^T dW\n", worst);
done:
    lvs_tape_free(tape);
    lvs_wgrads_free(wg);
    lvs_model_close(m);
    lvs_lora_free(lo);
    golden2_close(&g);
}

/* A LoRA adapter on Gemma-2 merged by lvs_convert_merged gives the logits of the adapter
   applied at run time (and they differ from the base's) */
void test_engine2_lora_merge(void) {
    lvs_model *m = open2("gemma2", LVS_AS_STORED, 1), *mm = NULL;
    lvs_lora *lo = NULL;
    lvs_lora_opts o;
    lvs_error err;
    lvs_rng rng;
    char *dir = t_path("gemma2-adapter"), *out = t_path("gemma2-merged.safetensors");
    int32_t ids[9] = {1, 5, 9, 13, 17, 21, 25, 29, 33};
    float base[9 * 80], applied[9 * 80], merged[9 * 80];
    int64_t n, i;
    float *p;
    if (!m) goto done;
    lvs_lora_opts_default(&o);
    o.rank = 4;
    o.seed = 3;
    CHECK_OK(lvs_lora_create(&lo, lvs_model_config(m), &o, &err), &err);
    if (!lo) goto done;
    p = lvs_lora_params(lo, &n);
    lvs_rng_seed(&rng, 5);
    for (i = 0; i < n; i++) if (p[i] == 0.0f) p[i] = (float)(0.2 * lvs_rng_normal(&rng));
    CHECK_OK(lvs_lora_save(lo, dir, NULL, &err), &err);
    CHECK_OK(lvs_convert_merged("tests/fixtures/engine2/gemma2", out, LVS_W_F32, dir, NULL, NULL, &err), &err);
    CHECK_OK(lvs_model_open(&mm, out, NULL, &err), &err);
    if (!mm) goto done;
    {
        lvs_cache *c = NULL;
        lvs_seq q;
        int k;
        for (k = 0; k < 3; k++) {
            const lvs_model *mk = k == 2 ? mm : m;
            memset(&q, 0, sizeof q);
            q.tokens = ids;
            q.n = 9;
            q.logits = LVS_LOGITS_ALL;
            q.logits_out = k == 0 ? base : k == 1 ? applied : merged;
            if (k == 1) CHECK_OK(lvs_model_set_lora(m, lo, &err), &err);
            CHECK_OK(lvs_cache_create(&c, mk, 1, 9, &err), &err);
            if (c) CHECK_OK(lvs_forward(mk, c, &q, 1, &err), &err);
            lvs_cache_free(c);
            c = NULL;
        }
    }
    CHECKF(t_rel_err(merged, applied, 9 * 80) < 1e-5 && t_rel_err(applied, base, 9 * 80) > 0.1,
           "merged vs applied %.3g, applied vs base %.3g", t_rel_err(merged, applied, 9 * 80),
           t_rel_err(applied, base, 9 * 80));
done:
    lvs_model_close(m);
    lvs_model_close(mm);
    lvs_lora_free(lo);
    free(dir);
    free(out);
}
