/* Test helpers: random model folders in Hugging Face layout. */
#include "test.h"

static void fill_dtype(void *dst, int dtype, const float *src, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        if (dtype == LVS_F32) ((float *)dst)[i] = src[i];
        else if (dtype == LVS_F16) ((uint16_t *)dst)[i] = lvs_f32_to_f16(src[i]);
        else if (dtype == LVS_BF16) ((uint16_t *)dst)[i] = lvs_f32_to_bf16(src[i]);
        else ((double *)dst)[i] = (double)src[i];
    }
}

int t_make_model(const char *dir, const t_model *m) {
    lvs_config c;
    lvs_error err;
    lvs_tensor_spec *specs = NULL;
    size_t n = 0, i;
    int k, nshards = m->shards > 1 ? m->shards : 1, rc = -1;
    char cmd[700], path[700];
    void **bufs = NULL;
    char **names = NULL;
    lvs_st_writer **w = NULL;
    lvs_rng r;
    size_t esz = lvs_dtype_size((lvs_dtype)m->dtype);
    float extra[64];
    int64_t extra_shape[4] = {1, 1, 4, 4};
    const char *gen = "{\"eos_token_id\": [1, 2]}\n";
    const char *tok = "{\"note\": \"\xc3\xbcn\xc3\xaf" "c\xc3\xb6\x64\xc3\xa9 \xe2\x96\x81\\u0000\"}\n";
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    if (system(cmd) != 0) return -1;
    snprintf(path, sizeof path, "%s/config.json", dir);
    if (t_write(path, m->config, strlen(m->config)) != 0) return -1;
    if (lvs_config_parse(&c, m->config, strlen(m->config), &err) != LVS_OK ||
        lvs_arch_tensors(&c, NULL, &specs, &n, &err) != LVS_OK) {
        printf("t_make_model: %s\n", err.message);
        return -1;
    }
    bufs = (void **)calloc(n, sizeof *bufs);
    names = (char **)calloc(n, sizeof *names);
    w = (lvs_st_writer **)calloc((size_t)nshards, sizeof *w);
    lvs_rng_seed(&r, m->seed);
    for (k = 0; k < nshards; k++) w[k] = lvs_st_writer_create();
    for (i = 0; i < n; i++) {
        size_t numel = (size_t)specs[i].shape[0] * (size_t)(specs[i].ndim == 2 ? specs[i].shape[1] : 1), j;
        float *tmp = (float *)malloc(numel * sizeof(float) + 1);
        const char *nm = specs[i].name;
        for (j = 0; j < numel; j++) tmp[j] = (float)(m->scale * lvs_rng_normal(&r));
        bufs[i] = malloc(numel * esz + 1);
        fill_dtype(bufs[i], m->dtype, tmp, numel);
        free(tmp);
        if (!m->gpt2_prefix && strncmp(nm, "transformer.", 12) == 0) nm += 12;
        names[i] = (char *)malloc(strlen(nm) + 1);
        strcpy(names[i], nm);
        if (lvs_st_writer_add(w[i % (size_t)nshards], names[i], (lvs_dtype)m->dtype, specs[i].ndim, specs[i].shape,
                              bufs[i], &err) != LVS_OK)
            goto done;
    }
    for (i = 0; i < 64; i++) extra[i] = (float)i;
    if (m->extra_buffers) {
        if (c.arch == LVS_ARCH_GPT2 || c.arch == LVS_ARCH_GPT2_CLS) {
            const char *p = m->gpt2_prefix ? "transformer." : "";
            snprintf(path, sizeof path, "%sh.0.attn.bias", p);
            lvs_st_writer_add(w[0], path, LVS_F32, 4, extra_shape, extra, &err);
            snprintf(path, sizeof path, "%sh.0.attn.masked_bias", p);
            lvs_st_writer_add(w[0], path, LVS_F32, 0, NULL, extra, &err);
        } else {
            int64_t half = c.head_dim / 2;
            lvs_st_writer_add(w[0], "model.layers.0.self_attn.rotary_emb.inv_freq", LVS_F32, 1, &half, extra, &err);
        }
    }
    for (k = 0; k < nshards; k++) {
        if (m->shards > 1) snprintf(path, sizeof path, "%s/model-%05d-of-%05d.safetensors", dir, k + 1, nshards);
        else snprintf(path, sizeof path, "%s/model.safetensors", dir);
        lvs_st_writer_set_meta(w[k], "format", "pt", 2, &err);
        if (lvs_st_writer_save(w[k], path, &err) != LVS_OK) goto done;
    }
    if (m->shards > 1) {
        size_t cap = 256 + n * 200, len = 0;
        char *idx = (char *)malloc(cap);
        len += (size_t)snprintf(idx + len, cap - len, "{\n  \"metadata\": {\"total_size\": 0},\n  \"weight_map\": {");
        for (i = 0; i < n; i++)
            len += (size_t)snprintf(idx + len, cap - len, "%s\n    \"%s\": \"model-%05d-of-%05d.safetensors\"",
                                    i ? "," : "", names[i], (int)(i % (size_t)nshards) + 1, nshards);
        if (m->extra_buffers && c.arch != LVS_ARCH_GPT2 && c.arch != LVS_ARCH_GPT2_CLS)
            len += (size_t)snprintf(idx + len, cap - len,
                                    ",\n    \"model.layers.0.self_attn.rotary_emb.inv_freq\": \"model-00001-of-%05d.safetensors\"",
                                    nshards);
        snprintf(idx + len, cap - len, "\n  }\n}\n");
        snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
        t_write(path, idx, strlen(idx));
        free(idx);
    }
    snprintf(path, sizeof path, "%s/generation_config.json", dir);
    t_write(path, gen, strlen(gen));
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    t_write(path, tok, strlen(tok));
    rc = 0;
done:
    if (rc) printf("t_make_model: %s\n", err.message);
    for (k = 0; k < nshards; k++) lvs_st_writer_destroy(w[k]);
    for (i = 0; i < n; i++) { free(bufs[i]); free(names[i]); }
    free(bufs);
    free(names);
    free(w);
    lvs_free(specs);
    return rc;
}

/* A byte-level SentencePiece-style tokenizer (ids 0-2 specials, 3 + byte) and a Llama-2 chat
   template, written into a model folder. */
void t_byte_tokenizer(const char *dir) {
    char *tj = (char *)malloc(32768), path[600];
    size_t n = 0;
    int b;
    n += (size_t)sprintf(tj + n, "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":0,\"content\":\"<unk>\",\"special\":true},"
                         "{\"id\":1,\"content\":\"<s>\",\"special\":true},{\"id\":2,\"content\":\"</s>\",\"special\":true}],"
                         "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\\u2581\"},"
                         "{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\\u2581\"}]},\"pre_tokenizer\":null,"
                         "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\","
                         "\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"pair\":[{\"Sequence\":{\"id\":\"A\","
                         "\"type_id\":0}},{\"Sequence\":{\"id\":\"B\",\"type_id\":1}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\","
                         "\"ids\":[1],\"tokens\":[\"<s>\"]}}},\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\","
                         "\"pattern\":{\"String\":\"\\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},"
                         "{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]},\"model\":{\"type\":\"BPE\","
                         "\"unk_token\":\"<unk>\",\"byte_fallback\":true,\"fuse_unk\":true,\"vocab\":{\"<unk>\":0,\"<s>\":1,\"</s>\":2");
    for (b = 0; b < 256; b++) n += (size_t)sprintf(tj + n, ",\"<0x%02X>\":%d", b, 3 + b);
    n += (size_t)sprintf(tj + n, "},\"merges\":[]}}");
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    CHECK(t_write(path, tj, n) == 0);
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    strcpy(tj, "{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"chat_template\":\"{{ '[INST] <<SYS>>' }}\"}");
    CHECK(t_write(path, tj, strlen(tj)) == 0);
    free(tj);
}

double t_rel_err(const float *a, const float *b, size_t n) {
    double num = 0, den = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        double e = fabs((double)a[i] - (double)b[i]);
        if (!(e <= num)) num = e; /* NaN counts as an infinite error */
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    return den > 0 ? num / den : num;
}

int t_same_file(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    char *x = t_slurp(a, &na), *y = t_slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

void t_add_yes_no(const char *dir) {
    char path[700], *tj, *p, *q, *out;
    size_t n;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    tj = t_slurp(path, &n);
    out = (char *)malloc(n + 400);
    if (!tj || !out || !(p = strstr(tj, "],\"normalizer\"")) || !(q = strstr(tj, "},\"merges\""))) {
        CHECK(0);
        free(tj);
        free(out);
        return;
    }
    /* added tokens "Yes" and "No" before the normalizer, their vocabulary entries before the merges */
    n = (size_t)(p - tj);
    memcpy(out, tj, n);
    n += (size_t)sprintf(out + n, ",{\"id\":259,\"content\":\"Yes\",\"special\":false},"
                                  "{\"id\":260,\"content\":\"No\",\"special\":false}");
    memcpy(out + n, p, (size_t)(q - p));
    n += (size_t)(q - p);
    n += (size_t)sprintf(out + n, ",\"Yes\":259,\"No\":260%s", q);
    CHECK(t_write(path, out, n) == 0);
    free(tj);
    free(out);
}

float t_ce_loss(void *user, const float *logits, int n_rows, int64_t V, float *dlogits) {
    const int32_t *targets = (const int32_t *)user;
    double total = 0;
    int r;
    int64_t v;
    for (r = 0; r < n_rows - 1; r++) { /* the last row predicts nothing */
        const float *z = logits + r * V;
        double mx = -1e300, s = 0, lse;
        for (v = 0; v < V; v++) mx = z[v] > mx ? z[v] : mx;
        for (v = 0; v < V; v++) s += exp((double)z[v] - mx);
        lse = mx + log(s);
        total += lse - z[targets[r]];
        for (v = 0; v < V; v++) dlogits[r * V + v] = (float)(exp((double)z[v] - lse) / (n_rows - 1));
        dlogits[r * V + targets[r]] -= (float)(1.0 / (n_rows - 1));
    }
    for (v = 0; v < V; v++) dlogits[(int64_t)(n_rows - 1) * V + v] = 0.0f;
    return (float)(total / (n_rows - 1));
}

float t_linear_loss(void *user, const float *logits, int n_rows, int64_t V, float *dlogits) {
    const float *coef = (const float *)user;
    double s = 0;
    int64_t i;
    for (i = 0; i < n_rows * V; i++) {
        s += (double)logits[i] * coef[i];
        dlogits[i] = coef[i];
    }
    return (float)s;
}

void t_check_batched_generation(const lvs_model *batched, const lvs_model *alone, const int32_t *a, const int32_t *b,
                                const char *what) {
    lvs_gen_seq gs[3];
    lvs_gen_opts o;
    lvs_error err;
    int32_t out[3][20], solo[20];
    int k, j;
    memset(gs, 0, sizeof gs);
    lvs_gen_opts_default(&o);
    o.max_new = 20;
    o.ignore_eos = 1;
    for (k = 0; k < 3; k++) {
        gs[k].prompt = (k == 1 ? b : a) + k;
        gs[k].n_prompt = 3 + 4 * k;
        gs[k].out = out[k];
    }
    CHECK_OK(lvs_generate(batched, gs, 3, &o, &err), &err);
    for (k = 0; k < 3; k++) {
        lvs_gen_seq one = gs[k];
        one.out = solo;
        CHECK_OK(lvs_generate(alone, &one, 1, &o, &err), &err);
        CHECKF(one.n_out == gs[k].n_out, "%s: sequence %d: %d tokens alone, %d in a batch", what, k, one.n_out,
               gs[k].n_out);
        for (j = 0; j < one.n_out && j < gs[k].n_out; j++)
            CHECKF(solo[j] == out[k][j], "%s: sequence %d token %d: %d alone, %d in a batch", what, k, j, solo[j],
                   out[k][j]);
    }
}
