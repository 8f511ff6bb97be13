/* int8 blocks and lvs_convert: bit-exact f32, error bounds of f16/bf16/int8 computed here in
   double, GPT-2 transposition, sharded input, re-conversion, and refusals. */
#include "test.h"

#define LLAMA_CFG                                                                                         \
    "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":96,"           \
    "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":100,"  \
    "\"max_position_embeddings\":128,\"rms_norm_eps\":1e-05,\"tie_word_embeddings\":false}"
#define GPT2_CFG                                                                                          \
    "{\"architectures\":[\"GPT2LMHeadModel\"],\"n_embd\":32,\"n_layer\":2,\"n_head\":4,\"vocab_size\":60," \
    "\"n_positions\":16}"
#define GPT2_CLS_CFG                                                                                      \
    "{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":32,\"n_layer\":1,\"n_head\":4,"    \
    "\"vocab_size\":60,\"n_positions\":16,\"id2label\":{\"0\":\"LABEL_0\"}}"

void test_q8(void) {
    lvs_rng r;
    float x[70], s[3], y[70];
    int8_t q[70];
    int t, j, bad = 0;
    double e2 = 0, x2 = 0;
    lvs_rng_seed(&r, 3);
    CHECK(lvs_q8_nblocks(70) == 3 && lvs_q8_nblocks(64) == 2 && lvs_q8_nblocks(1) == 1);
    for (t = 0; t < 2000; t++) {
        for (j = 0; j < 70; j++) x[j] = (float)lvs_rng_normal(&r) * (t % 2 ? 1e-3f : 3.0f);
        if (t == 0) for (j = 32; j < 64; j++) x[j] = 0.0f; /* an all-zero block */
        lvs_q8_quantize_row(x, 70, q, s);
        lvs_q8_dequantize_row(q, s, 70, y);
        for (j = 0; j < 70; j++) {
            int b = j / 32, k;
            double amax = 0;
            for (k = b * 32; k < b * 32 + 32 && k < 70; k++) amax = fabs(x[k]) > amax ? fabs(x[k]) : amax;
            if (fabs((double)s[b] - amax / 127.0) > 1e-6 * amax / 127.0) bad++;
            if (q[j] == -128) bad++;
            if (fabs((double)x[j] - (double)s[b] * q[j]) > 0.5 * s[b] * (1 + 1e-5)) bad++; /* nearest level */
            if (y[j] != s[b] * (float)q[j]) bad++;
            e2 += ((double)x[j] - y[j]) * ((double)x[j] - y[j]);
            x2 += (double)x[j] * x[j];
        }
        if (t == 0) CHECK(s[1] == 0.0f && q[40] == 0);
    }
    x[3] = NAN; /* non-finite input: no undefined behaviour, q = 0 */
    lvs_q8_quantize_row(x, 70, q, s);
    CHECK(q[3] == 0);
    CHECKF(bad == 0, "%d int8 block violations", bad);
    CHECKF(sqrt(e2 / x2) < 1e-2, "int8 RMS relative error %g on Gaussian rows", sqrt(e2 / x2));
}

typedef struct { int n_tensor, n_skipped; char skipped[8][128]; char notes[8][64]; double rms[512], max[512]; char names[512][96]; } events;
static void on_event(void *user, const lvs_convert_stats *s) {
    events *e = (events *)user;
    if (s->event == LVS_CONVERT_SKIPPED) {
        if (e->n_skipped < 8) {
            snprintf(e->skipped[e->n_skipped], 128, "%s", s->name);
            snprintf(e->notes[e->n_skipped], 64, "%s", s->note);
        }
        e->n_skipped++;
    } else {
        if (e->n_tensor < 512) {
            e->rms[e->n_tensor] = s->rms_rel;
            e->max[e->n_tensor] = s->max_rel;
            snprintf(e->names[e->n_tensor], 96, "%s", s->name);
        }
        e->n_tensor++;
    }
}
static int reported(const events *e, const char *name, double *rms, double *max) {
    int i;
    for (i = 0; i < e->n_tensor && i < 512; i++)
        if (strcmp(e->names[i], name) == 0) {
            *rms = e->rms[i];
            *max = e->max[i];
            return 1;
        }
    return 0;
}

static char *make(const char *name, const char *config, int dtype, int shards, double scale, int extra) {
    char *dir = t_path(name);
    t_model m;
    memset(&m, 0, sizeof m);
    m.config = config;
    m.dtype = dtype;
    m.shards = shards;
    m.scale = scale;
    m.extra_buffers = extra;
    m.gpt2_prefix = 1;
    m.seed = 11;
    CHECK(t_make_model(dir, &m) == 0);
    return dir;
}

static int same_text(const lvs_safetensors *out, const char *dir, const char *file) {
    char path[600];
    size_t n;
    char *want;
    const lvs_st_meta *m = lvs_st_get_meta(out, file);
    int ok;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    want = t_slurp(path, &n);
    ok = want && m && m->value_len == n && memcmp(m->value, want, n) == 0;
    free(want);
    return ok;
}

void test_convert_f32_exact(void) {
    char *dir = make("llama-f32", LLAMA_CFG, LVS_F32, 0, 0.5, 1), *out = t_path("llama-f32.safetensors");
    lvs_safetensors src, dst;
    lvs_model_files mf;
    lvs_error err;
    events ev;
    size_t i;
    memset(&ev, 0, sizeof ev);
    CHECK_OK(lvs_convert(dir, out, LVS_W_F32, on_event, &ev, &err), &err);
    CHECK(ev.n_skipped == 1 && strcmp(ev.skipped[0], "model.layers.0.self_attn.rotary_emb.inv_freq") == 0 &&
          strstr(ev.notes[0], "recomputed"));
    CHECK_OK(lvs_st_open(&src, dir, &err), &err);
    CHECK_OK(lvs_st_open(&dst, out, &err), &err);
    CHECK(dst.n_tensors == src.n_tensors - 1 && ev.n_tensor == (int)dst.n_tensors);
    for (i = 0; i < dst.n_tensors; i++) {
        const lvs_st_tensor *a = &dst.tensors[i], *b = lvs_st_find(&src, a->name);
        CHECKF(b && a->dtype == LVS_F32 && a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0,
               "%s is not bit-exact", a->name);
    }
    CHECK(strcmp(lvs_st_get_meta(&dst, "lvs.format")->value, "1") == 0);
    CHECK(strcmp(lvs_st_get_meta(&dst, "lvs.dtype")->value, "f32") == 0);
    CHECK(strcmp(lvs_st_get_meta(&dst, "lvs.layout")->value, "out_in") == 0);
    CHECK(same_text(&dst, dir, "config.json") && same_text(&dst, dir, "tokenizer.json") &&
          same_text(&dst, dir, "generation_config.json"));
    CHECK(lvs_st_get_meta(&dst, "tokenizer_config.json") == NULL); /* absent in the folder */
    lvs_st_close(&src);
    lvs_st_close(&dst);
    CHECK_OK(lvs_model_files_open(&mf, out, &err), &err);
    CHECK(mf.is_lvs && lvs_model_text(&mf, "config.json", NULL) && !lvs_model_text(&mf, "chat_template.jinja", NULL));
    lvs_model_files_close(&mf);
    free(dir);
    free(out);
}

/* worst per-tensor errors of an output against the f32 source, computed here in double */
static void measure(const lvs_safetensors *src, const lvs_safetensors *dst, const events *ev, int wt,
                    double *worst_max, double *worst_rms, int *report_ok) {
    size_t i;
    *worst_max = *worst_rms = 0;
    *report_ok = 1;
    for (i = 0; i < src->n_tensors; i++) {
        const lvs_st_tensor *a = &src->tensors[i], *b = lvs_st_find(dst, a->name), *sc;
        char sname[160];
        float *x = (float *)malloc((size_t)a->numel * sizeof(float) + 4);
        int64_t j, cols = a->ndim == 2 ? a->shape[1] : a->numel;
        double e2 = 0, x2 = 0, mx = 0;
        lvs_st_read_f32(a, x, NULL);
        snprintf(sname, sizeof sname, "%s.scale", a->name);
        sc = lvs_st_find(dst, sname);
        if (!b) { CHECKF(0, "%s missing from the output", a->name); free(x); continue; }
        if (a->ndim == 1) {
            CHECKF(b->dtype == LVS_F32 && memcmp(b->data, x, b->nbytes) == 0, "%s: 1-D tensor not exact f32", a->name);
            free(x);
            continue;
        }
        if (wt == LVS_W_INT8) {
            CHECKF(b->dtype == LVS_I8 && sc && sc->dtype == LVS_F32 && sc->shape[0] == a->shape[0] &&
                       sc->shape[1] == (cols + 31) / 32 && b->shape[0] == a->shape[0] && b->shape[1] == cols,
                   "%s: int8 layout", a->name);
            if (!sc) { free(x); continue; }
        } else CHECK(b->dtype == (wt == LVS_W_F16 ? LVS_F16 : LVS_BF16) && !sc);
        for (j = 0; j < a->numel; j++) {
            double v, e;
            if (wt == LVS_W_INT8)
                v = (double)((const float *)sc->data)[(j / cols) * ((cols + 31) / 32) + (j % cols) / 32] *
                    ((const int8_t *)b->data)[j];
            else if (wt == LVS_W_F16) v = lvs_f16_to_f32(((const uint16_t *)b->data)[j]);
            else v = lvs_bf16_to_f32(((const uint16_t *)b->data)[j]);
            e = fabs((double)x[j] - v);
            e2 += e * e;
            x2 += (double)x[j] * x[j];
            if (wt == LVS_W_F16 && fabs(x[j]) >= 6.103515625e-05 && e / fabs(x[j]) > mx) mx = e / fabs(x[j]);
            if (wt == LVS_W_BF16 && fabs(x[j]) >= 1.1754943508222875e-38 && e / fabs(x[j]) > mx) mx = e / fabs(x[j]);
            if (wt == LVS_W_INT8 && (j % cols) % 32 == 0) { /* error over a block / the block's largest |w| */
                int64_t k, k1 = (j % cols) + 32 < cols ? j + 32 : j - (j % cols) + cols;
                double bmax = 0, emax = 0;
                for (k = j; k < k1; k++) {
                    double vk = (double)((const float *)sc->data)[(k / cols) * ((cols + 31) / 32) + (k % cols) / 32] *
                                ((const int8_t *)b->data)[k];
                    bmax = fabs(x[k]) > bmax ? fabs(x[k]) : bmax;
                    emax = fabs(x[k] - vk) > emax ? fabs(x[k] - vk) : emax;
                }
                if (bmax > 0 && emax / bmax > mx) mx = emax / bmax;
            }
        }
        if (sqrt(e2 / x2) > *worst_rms) *worst_rms = sqrt(e2 / x2);
        if (mx > *worst_max) *worst_max = mx;
        if (ev) {
            double rr, rm;
            if (!reported(ev, a->name, &rr, &rm) || fabs(rr - sqrt(e2 / x2)) > 1e-6 * sqrt(e2 / x2) ||
                fabs(rm - mx) > 1e-6 * mx)
                *report_ok = 0;
        }
        free(x);
    }
}

void test_convert_lossy(void) {
    static const char cfg[] = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":128,\"intermediate_size\":200,"
                              "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"vocab_size\":300}";
    char *dir = make("llama-gauss", cfg, LVS_F32, 0, 0.02, 0);
    static const int wts[3] = {LVS_W_F16, LVS_W_BF16, LVS_W_INT8};
    int k;
    for (k = 0; k < 3; k++) {
        char name[64], *out;
        lvs_safetensors src, dst;
        lvs_error err;
        events ev;
        double mx, rms;
        int rep;
        snprintf(name, sizeof name, "gauss-%s.safetensors", lvs_wtype_name((lvs_wtype)wts[k]));
        out = t_path(name);
        memset(&ev, 0, sizeof ev);
        t_sub_begin("convert to %s", lvs_wtype_name((lvs_wtype)wts[k]));
        CHECK_OK(lvs_convert(dir, out, (lvs_wtype)wts[k], on_event, &ev, &err), &err);
        CHECK_OK(lvs_st_open(&src, dir, &err), &err);
        CHECK_OK(lvs_st_open(&dst, out, &err), &err);
        measure(&src, &dst, &ev, wts[k], &mx, &rms, &rep);
        printf("  %s: max_rel %.3e  rms_rel %.3e\n", lvs_wtype_name((lvs_wtype)wts[k]), mx, rms);
        if (wts[k] == LVS_W_F16) CHECKF(mx <= 1e-3 && mx > 0, "f16 max relative error %g", mx);
        if (wts[k] == LVS_W_BF16) CHECKF(mx <= 1.0 / 256 && mx > 0, "bf16 max relative error %g", mx);
        if (wts[k] == LVS_W_INT8) CHECKF(rms <= 1e-2 && rms > 0, "int8 RMS relative error %g", rms);
        CHECKF(rep, "the reported rms_rel or max_rel differs from the one measured here");
        lvs_st_close(&src);
        lvs_st_close(&dst);
        t_sub_end();
        free(out);
    }
    free(dir);
}

void test_convert_gpt2(void) {
    int k;
    for (k = 0; k < 3; k++) {
        char *dir, *out = t_path(k == 2 ? "gpt2cls.safetensors" : "gpt2.safetensors"), *back = t_path("gpt2-back.safetensors");
        t_model m;
        lvs_safetensors src, dst, bk;
        lvs_error err;
        events ev;
        const lvs_st_tensor *a, *b;
        const char *p = k == 1 ? "" : "transformer.";
        char name[128];
        int64_t r, c;
        int bad = 0;
        memset(&m, 0, sizeof m);
        memset(&ev, 0, sizeof ev);
        m.config = k == 2 ? GPT2_CLS_CFG : GPT2_CFG;
        m.dtype = LVS_F32;
        m.scale = 0.1;
        m.extra_buffers = 1;
        m.gpt2_prefix = k != 1;
        m.seed = 5;
        dir = t_path(k == 0 ? "gpt2" : k == 1 ? "gpt2-noprefix" : "gpt2-cls");
        t_sub_begin("%s", dir);
        CHECK(t_make_model(dir, &m) == 0);
        CHECK_OK(lvs_convert(dir, out, LVS_W_F32, on_event, &ev, &err), &err);
        CHECK(ev.n_skipped == 2 && strstr(ev.notes[0], "attention-mask") && strstr(ev.notes[1], "attention-mask"));
        CHECK_OK(lvs_st_open(&src, dir, &err), &err);
        CHECK_OK(lvs_st_open(&dst, out, &err), &err);
        snprintf(name, sizeof name, "%sh.0.attn.c_attn.weight", p);
        a = lvs_st_find(&src, name);
        b = lvs_st_find(&dst, name);
        CHECK(a && b && a->shape[0] == 32 && a->shape[1] == 96 && b->shape[0] == 96 && b->shape[1] == 32);
        for (r = 0; a && b && r < 96; r++)
            for (c = 0; c < 32; c++)
                if (((const float *)b->data)[r * 32 + c] != ((const float *)a->data)[c * 96 + r]) bad++;
        CHECKF(bad == 0, "%d transposed elements wrong", bad);
        snprintf(name, sizeof name, "%sh.0.attn.c_attn.bias", p);
        CHECK(lvs_st_find(&dst, name) != NULL);
        CHECK(lvs_st_find(&dst, "lm_head.weight") == NULL);
        CHECK((k == 2) == (lvs_st_find(&dst, "score.weight") != NULL));
        /* converting the converted file again must not transpose twice */
        CHECK_OK(lvs_convert(out, back, LVS_W_F32, NULL, NULL, &err), &err);
        CHECK_OK(lvs_st_open(&bk, back, &err), &err);
        CHECK(bk.n_tensors == dst.n_tensors);
        for (r = 0; r < (int64_t)dst.n_tensors; r++) {
            const lvs_st_tensor *x = &dst.tensors[r], *y = lvs_st_find(&bk, x->name);
            CHECKF(y && y->nbytes == x->nbytes && memcmp(y->data, x->data, x->nbytes) == 0 &&
                       y->shape[0] == x->shape[0], "%s changed on re-conversion", x->name);
        }
        lvs_st_close(&bk);
        lvs_st_close(&src);
        lvs_st_close(&dst);
        t_sub_end();
        free(dir);
        free(out);
        free(back);
    }
}

void test_convert_sharded_and_reconvert(void) {
    char *dir = make("llama-shards", LLAMA_CFG, LVS_BF16, 3, 0.05, 1);
    char *q8 = t_path("shards-int8.safetensors"), *f32 = t_path("shards-back.safetensors");
    char *single = t_path("llama-single"), *single_out = t_path("single.safetensors"), path[600];
    lvs_safetensors a, b;
    lvs_error err;
    events ev;
    size_t i;
    memset(&ev, 0, sizeof ev);
    CHECK_OK(lvs_convert(dir, q8, LVS_W_INT8, on_event, &ev, &err), &err);
    CHECK(ev.n_skipped == 1);
    CHECK_OK(lvs_convert(q8, f32, LVS_W_F32, NULL, NULL, &err), &err);
    CHECK_OK(lvs_st_open(&a, q8, &err), &err);
    CHECK_OK(lvs_st_open(&b, f32, &err), &err);
    for (i = 0; i < b.n_tensors; i++) { /* int8 -> f32 is the exact dequantization */
        const lvs_st_tensor *y = &b.tensors[i], *x = lvs_st_find(&a, y->name), *s;
        char sname[160];
        int64_t j, cols = y->ndim == 2 ? y->shape[1] : y->numel, nb = (cols + 31) / 32;
        int bad = 0;
        snprintf(sname, sizeof sname, "%s.scale", y->name);
        s = lvs_st_find(&a, sname);
        CHECK(x && y->dtype == LVS_F32);
        if (!x) continue;
        for (j = 0; j < y->numel; j++) {
            float want = s ? ((const float *)s->data)[(j / cols) * nb + (j % cols) / 32] * (float)((const int8_t *)x->data)[j]
                           : ((const float *)x->data)[j];
            if (((const float *)y->data)[j] != want) bad++;
        }
        CHECKF(bad == 0, "%s: %d values differ from the dequantized int8", y->name, bad);
    }
    CHECK(b.n_tensors + 16 == a.n_tensors); /* 16 matrices carry a .scale */
    lvs_st_close(&a);
    lvs_st_close(&b);
    /* a plain safetensors file beside its config.json */
    {
        t_model m;
        memset(&m, 0, sizeof m);
        m.config = LLAMA_CFG;
        m.dtype = LVS_F16;
        m.scale = 0.1;
        m.seed = 2;
        CHECK(t_make_model(single, &m) == 0);
        snprintf(path, sizeof path, "%s/model.safetensors", single);
        CHECK_OK(lvs_convert(path, single_out, LVS_W_BF16, NULL, NULL, &err), &err);
    }
    free(dir);
    free(q8);
    free(f32);
    free(single);
    free(single_out);
}

/* Copies the safetensors file src to dst, replacing tensor `name` (if shape is not NULL) and
   leaving out the metadata key drop (if not NULL). */
static void copy_replacing(const char *src, const char *dst, const char *name, lvs_dtype dt, const int64_t *shape,
                           const void *data, const char *drop) {
    lvs_safetensors st;
    lvs_st_writer *w = lvs_st_writer_create();
    lvs_error err;
    size_t k;
    CHECK_OK(lvs_st_open(&st, src, &err), &err);
    for (k = 0; k < st.n_tensors; k++)
        if (!shape || strcmp(st.tensors[k].name, name) != 0)
            lvs_st_writer_add(w, st.tensors[k].name, st.tensors[k].dtype, st.tensors[k].ndim, st.tensors[k].shape,
                              st.tensors[k].data, &err);
    if (shape) lvs_st_writer_add(w, name, dt, 2, shape, data, &err);
    for (k = 0; k < st.n_meta; k++)
        if (!drop || strcmp(st.meta[k].key, drop) != 0)
            lvs_st_writer_set_meta(w, st.meta[k].key, st.meta[k].value, st.meta[k].value_len, &err);
    CHECK_OK(lvs_st_writer_save(w, dst, &err), &err);
    lvs_st_close(&st);
    lvs_st_writer_destroy(w);
}

void test_convert_errors(void) {
    static const char *bad_configs[] = {
        "{\"architectures\":[\"FooForCausalLM\"],\"hidden_size\":64}",
        /* 3 layers in the config, 2 in the weights */
        "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":96,"
        "\"num_hidden_layers\":3,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":100,"
        "\"max_position_embeddings\":128,\"rms_norm_eps\":1e-05,\"tie_word_embeddings\":false}",
        /* intermediate size disagrees with the weights */
        "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":100,"
        "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":100,"
        "\"max_position_embeddings\":128,\"rms_norm_eps\":1e-05,\"tie_word_embeddings\":false}",
    };
    static const lvs_status want[] = {LVS_ERR_ARCH, LVS_ERR_TENSOR, LVS_ERR_TENSOR};
    static const char *msg[] = {"FooForCausalLM", "model.layers.2.input_layernorm.weight", "[96, 64]"};
    char *dir = make("llama-bad", LLAMA_CFG, LVS_F32, 0, 0.1, 0), *out = t_path("bad-out.safetensors");
    char path[600], *nanm = t_path("llama-nan"), *noconf = t_path("noconf");
    lvs_error err;
    size_t i;
    snprintf(path, sizeof path, "%s/config.json", dir);
    for (i = 0; i < 3; i++) {
        lvs_status s;
        t_write(path, bad_configs[i], strlen(bad_configs[i]));
        s = lvs_convert(dir, out, LVS_W_F16, NULL, NULL, &err);
        CHECKF(s == want[i] && strstr(err.message, msg[i]), "case %d: %s (%s)", (int)i, lvs_status_name(s), err.message);
        CHECK(!lvs_is_file(out));
    }
    t_write(path, "{\"architectures\": [\"LlamaForCausalLM\"],,}", 42);
    CHECK_ST(lvs_convert(dir, out, LVS_W_F16, NULL, NULL, &err), LVS_ERR_JSON_SYNTAX);
    CHECK(strstr(err.message, "config.json") != NULL);
    remove(path);
    CHECK_ST(lvs_convert(dir, out, LVS_W_F16, NULL, NULL, &err), LVS_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "config.json") != NULL && !lvs_is_file(out));
    CHECK_ST(lvs_convert(noconf, out, LVS_W_F16, NULL, NULL, &err), LVS_ERR_NOT_FOUND);
    /* non-finite values, then integer weights */
    {
        float *emb = (float *)calloc(100 * 64, sizeof(float));
        int32_t *ints = (int32_t *)calloc(100 * 64, sizeof(int32_t));
        int64_t sh[2] = {100, 64};
        char cmd[700], src[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", nanm);
        CHECK(t_run(cmd) == 0);
        snprintf(path, sizeof path, "%s/config.json", nanm);
        t_write(path, LLAMA_CFG, strlen(LLAMA_CFG));
        snprintf(src, sizeof src, "%s/model.safetensors", dir);
        snprintf(path, sizeof path, "%s/model.safetensors", nanm);
        emb[77] = NAN;
        copy_replacing(src, path, "model.embed_tokens.weight", LVS_F32, sh, emb, NULL);
        CHECK_ST(lvs_convert(nanm, out, LVS_W_INT8, NULL, NULL, &err), LVS_ERR_NONFINITE);
        CHECK(strstr(err.message, "model.embed_tokens.weight") && !lvs_is_file(out));
        CHECK_OK(lvs_convert(nanm, out, LVS_W_F16, NULL, NULL, &err), &err); /* f16 keeps the NaN */
        remove(out);
        copy_replacing(src, path, "model.embed_tokens.weight", LVS_I32, sh, ints, NULL);
        CHECK_ST(lvs_convert(nanm, out, LVS_W_F16, NULL, NULL, &err), LVS_ERR_TENSOR);
        CHECK(strstr(err.message, "I32") != NULL);
        free(emb);
        free(ints);
    }
    CHECK_ST(lvs_convert(dir, out, (lvs_wtype)7, NULL, NULL, &err), LVS_ERR_ARG);
    {   /* an int8 GPT-2 file whose metadata no longer says the matrices are [out, in] */
        char *g = make("gpt2-int8", GPT2_CFG, LVS_F32, 0, 0.1, 0), *q = t_path("gpt2-int8.safetensors");
        char *strip = t_path("gpt2-int8-nolayout.safetensors");
        CHECK_OK(lvs_convert(g, q, LVS_W_INT8, NULL, NULL, &err), &err);
        copy_replacing(q, strip, NULL, LVS_F32, NULL, NULL, "lvs.layout");
        CHECK_ST(lvs_convert(strip, out, LVS_W_F32, NULL, NULL, &err), LVS_ERR_TENSOR);
        CHECKF(strstr(err.message, "lvs.layout") != NULL && !lvs_is_file(out), "%s", err.message);
        free(g);
        free(q);
        free(strip);
    }
    free(dir);
    free(out);
    free(nanm);
    free(noconf);
}
