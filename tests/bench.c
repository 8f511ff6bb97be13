/* make bench: speed figures (not a test: it prints, it does not judge). JSON parsing of real
   tokenizer.json files, tokenizer load and encode speed, safetensors write/open/convert-to-f32,
   lvs_convert throughput on a random Llama-shaped model, and the engine (bandwidth, prefill,
   decode), and one PGD step / one LVS cell against PyTorch. `bench io`, `bench tokenizer`,
   `bench engine` and `bench pgd` run one part. */
#define _POSIX_C_SOURCE 200809L
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>
#ifdef __AVX2__
#include <immintrin.h>
#endif

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void bench_json(const char *shared) {
    static const char *names[] = {"gpt2", "llama3", "qwen3"};
    size_t i;
    for (i = 0; i < 3; i++) {
        char path[600], *text;
        size_t len;
        double best = 1e9;
        int r;
        lvs_error err;
        snprintf(path, sizeof path, "%s/tokenizers/%s/tokenizer.json", shared, names[i]);
        if (lvs_read_file(path, &text, &len, &err) != LVS_OK) {
            printf("json      %-8s skipped (%s)\n", names[i], err.message);
            continue;
        }
        for (r = 0; r < 5; r++) {
            lvs_json_doc d;
            double t0 = now();
            if (lvs_json_parse(&d, text, len, 0, &err) != LVS_OK) { printf("parse failed: %s\n", err.message); break; }
            t0 = now() - t0;
            best = t0 < best ? t0 : best;
            lvs_json_free(&d);
        }
        printf("json      %-8s %6.1f MB parsed in %6.1f ms  = %6.0f MB/s (best of 5)\n", names[i], len / 1e6,
               best * 1e3, len / 1e6 / best);
        lvs_free(text);
    }
}

/* English text for the encoder: the copyright files of the installed packages and the
   common licenses, in name order, cut at 1 MB (repeated if there is less). */
static char *english_text(size_t want, size_t *got, int *n_files) {
    FILE *p = popen("cat $(ls /usr/share/common-licenses/* /usr/share/doc/*/copyright 2>/dev/null | sort) 2>/dev/null", "r");
    char *t = (char *)malloc(want + 1);
    size_t n = 0, k;
    *n_files = 0;
    if (!t) return NULL;
    if (p) {
        while (n < want && (k = fread(t + n, 1, want - n, p)) > 0) n += k;
        pclose(p);
        *n_files = 1;
    }
    while (n && n < want) { /* repeat */
        k = n < want - n ? n : want - n;
        memcpy(t + n, t, k);
        n += k;
    }
    /* keep whole UTF-8 characters and drop any invalid bytes (a few copyright files are Latin-1) */
    for (k = 0, *got = 0; k < n;) {
        size_t bad = lvs_utf8_check(t + k, n - k);
        memmove(t + *got, t + k, bad);
        *got += bad;
        k += bad + 1;
    }
    t[*got] = 0;
    return t;
}

static void bench_tokenizer(const char *shared) {
    static const char *names[] = {"gpt2", "llama2", "llama3", "qwen3", "gemma3"};
    size_t i, len;
    int n_files;
    char *text = english_text(1 << 20, &len, &n_files);
    if (!text || !len) { printf("tokenize  skipped: no English text found under /usr/share\n"); free(text); return; }
    for (i = 0; i < 5; i++) {
        char path[600];
        lvs_tokenizer *t = NULL;
        lvs_error err;
        double t_load = 1e9, t_enc = 1e9, t0;
        int32_t *ids = NULL;
        size_t n = 0;
        int r;
        snprintf(path, sizeof path, "%s/tokenizers/%s/tokenizer.json", shared, names[i]);
        if (strcmp(names[i], "gemma3") == 0) { /* shipped gzipped */
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "gzip -dc '%s.gz' > build/gemma3-tokenizer.json 2>/dev/null", path);
            snprintf(path, sizeof path, "build/gemma3-tokenizer.json");
            if (system(cmd) != 0) { printf("tokenize  gemma3   skipped (cannot decompress it)\n"); continue; }
        }
        for (r = 0; r < 3; r++) {
            lvs_tokenizer_free(t);
            t0 = now();
            if (lvs_tokenizer_open(&t, path, &err) != LVS_OK) break;
            t0 = now() - t0;
            t_load = t0 < t_load ? t0 : t_load;
        }
        if (!t) { printf("tokenize  %-8s skipped (%s)\n", names[i], err.message); continue; }
        for (r = 0; r < 3; r++) {
            t0 = now();
            if (lvs_tokenize(t, text, len, 0, &ids, &n, &err) != LVS_OK) { printf("encode failed: %s\n", err.message); break; }
            t0 = now() - t0;
            t_enc = t0 < t_enc ? t0 : t_enc;
            lvs_free(ids);
        }
        printf("tokenize  %-8s vocab %6lld loaded in %5.0f ms; %.2f MB of English -> %lu ids in %5.0f ms = %5.1f MB/s "
               "(one core, best of 3; targets: 128k-vocabulary load <= 500 ms, encode >= 5 MB/s)\n",
               names[i], (long long)lvs_tokenizer_vocab_size(t), t_load * 1e3, len / 1e6, (unsigned long)n, t_enc * 1e3,
               len / 1e6 / t_enc);
        lvs_tokenizer_free(t);
    }
    free(text);
}

static void bench_safetensors(const char *dir) {
    const int64_t n = 64 * 1024 * 1024; /* 64 Mi elements: 256 MB of F32, 128 MB of BF16 */
    float *x = (float *)malloc((size_t)n * sizeof(float)), *y = (float *)malloc((size_t)n * sizeof(float));
    uint16_t *h = (uint16_t *)malloc((size_t)n * 2);
    int64_t i;
    char path[600];
    lvs_st_writer *w = lvs_st_writer_create();
    lvs_safetensors st;
    lvs_error err;
    double t0;
    lvs_rng r;
    lvs_rng_seed(&r, 1);
    for (i = 0; i < n; i++) { x[i] = (float)(lvs_rng_uniform(&r) - 0.5); h[i] = lvs_f32_to_bf16(x[i]); }
    snprintf(path, sizeof path, "%s/bench.safetensors", dir);
    lvs_st_writer_add(w, "f32", LVS_F32, 1, &n, x, &err);
    lvs_st_writer_add(w, "bf16", LVS_BF16, 1, &n, h, &err);
    t0 = now();
    if (lvs_st_writer_save(w, path, &err) != LVS_OK) { printf("write failed: %s\n", err.message); return; }
    t0 = now() - t0;
    printf("st write  384 MB in %6.1f ms = %6.2f GB/s\n", t0 * 1e3, 0.384 / t0 * 1.0);
    t0 = now();
    lvs_st_open(&st, path, &err);
    t0 = now() - t0;
    printf("st open   (mapped, validated) in %6.3f ms\n", t0 * 1e3);
    lvs_st_read_f32(lvs_st_find(&st, "bf16"), y, &err); /* first touch: page faults */
    t0 = now();
    lvs_st_read_f32(lvs_st_find(&st, "bf16"), y, &err);
    t0 = now() - t0;
    printf("st bf16->f32 %lld elements in %6.1f ms = %6.2f G elements/s (pages resident)\n", (long long)n, t0 * 1e3,
           n / t0 / 1e9);
    lvs_st_close(&st);
    remove(path);
    lvs_st_writer_destroy(w);
    free(x);
    free(y);
    free(h);
}

static void bench_convert(const char *dir) {
    /* a random Llama-shaped model of ~60M parameters stored in BF16 */
    const char *cfg = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":1024,\"intermediate_size\":2816,"
                      "\"num_hidden_layers\":4,\"num_attention_heads\":16,\"num_key_value_heads\":4,"
                      "\"vocab_size\":16000,\"tie_word_embeddings\":false}";
    char path[600], out[1300];
    lvs_config c;
    lvs_error err;
    lvs_tensor_spec *specs;
    size_t n, i;
    lvs_st_writer *w = lvs_st_writer_create();
    uint16_t **bufs;
    long long params = 0;
    int k;
    lvs_rng r;
    lvs_rng_seed(&r, 2);
    lvs_config_parse(&c, cfg, strlen(cfg), &err);
    lvs_arch_tensors(&c, NULL, &specs, &n, &err);
    bufs = (uint16_t **)calloc(n, sizeof *bufs);
    for (i = 0; i < n; i++) {
        int64_t numel = specs[i].shape[0] * (specs[i].ndim == 2 ? specs[i].shape[1] : 1), j;
        bufs[i] = (uint16_t *)malloc((size_t)numel * 2);
        for (j = 0; j < numel; j++) bufs[i][j] = lvs_f32_to_bf16((float)(0.02 * lvs_rng_normal(&r)));
        lvs_st_writer_add(w, specs[i].name, LVS_BF16, specs[i].ndim, specs[i].shape, bufs[i], &err);
        params += numel;
    }
    snprintf(path, sizeof path, "%s/bench-model", dir);
    snprintf(out, sizeof out, "mkdir -p '%s'", path);
    if (system(out) != 0) return;
    snprintf(out, sizeof out, "%s/config.json", path);
    {
        FILE *f = fopen(out, "wb");
        fputs(cfg, f);
        fclose(f);
    }
    snprintf(out, sizeof out, "%s/model.safetensors", path);
    lvs_st_writer_save(w, out, &err);
    for (k = 0; k < 4; k++) {
        double t0 = now();
        snprintf(out, sizeof out, "%s/bench-out.safetensors", dir);
        if (lvs_convert(path, out, (lvs_wtype)k, NULL, NULL, &err) != LVS_OK) { printf("convert: %s\n", err.message); return; }
        t0 = now() - t0;
        printf("convert   %.1fM params bf16 -> %-4s in %6.1f ms = %6.1f M params/s\n", params / 1e6,
               lvs_wtype_name((lvs_wtype)k), t0 * 1e3, params / 1e6 / t0);
        remove(out);
    }
    for (i = 0; i < n; i++) free(bufs[i]);
    free(bufs);
    lvs_free(specs);
    lvs_st_writer_destroy(w);
    snprintf(out, sizeof out, "rm -rf '%s'", path);
    if (system(out) != 0) printf("could not remove %s\n", path);
}

/* ---------------------------------------------------------------- engine */
static double g_bw[3]; /* measured read bandwidth, GB/s, by thread count */

/* streaming read bandwidth with nt threads: the best of 3 passes over 1 GiB */
static double bandwidth(int nt) {
    static unsigned char *a = NULL;
    const size_t n = (size_t)1 << 30;
    double best = 0;
    int rep;
    if (!a) {
        a = (unsigned char *)malloc(n + 64);
        memset(a, 1, n + 64);
    }
    for (rep = 0; rep < 3; rep++) {
        double t0 = now();
        long i, total = 0;
#ifdef _OPENMP
#pragma omp parallel for reduction(+ : total) num_threads(nt) schedule(static)
#endif
        for (i = 0; i < (long)(n / 4096); i++) {
            const unsigned char *p = a + (size_t)i * 4096;
            int k;
#ifdef __AVX2__
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            int out[8];
            for (k = 0; k < 4096; k += 128) {
                s0 = _mm256_add_epi8(s0, _mm256_loadu_si256((const __m256i *)(const void *)(p + k)));
                s1 = _mm256_add_epi8(s1, _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 32)));
                s2 = _mm256_add_epi8(s2, _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 64)));
                s3 = _mm256_add_epi8(s3, _mm256_loadu_si256((const __m256i *)(const void *)(p + k + 96)));
            }
            _mm256_storeu_si256((__m256i *)(void *)out, _mm256_add_epi8(_mm256_add_epi8(s0, s1), _mm256_add_epi8(s2, s3)));
            total += out[0] & 0xff;
#else
            uint64_t s0 = 0, v;
            for (k = 0; k < 4096; k += 8) { memcpy(&v, p + k, 8); s0 += v; }
            total += (long)(s0 & 0xff);
#endif
        }
        t0 = now() - t0;
        if (total < 0) printf("?\n");
        if (n / t0 / 1e9 > best) best = n / t0 / 1e9;
    }
    (void)nt;
    return best;
}

/* a random model of the given shape, cached as a file in build/: f16 matrices uniform in
   [-0.05, 0.05), or (f32 = 1) f32 matrices normal with std 0.02; norm weights 1 */
static const char *bench_model(const char *name, const char *cfg, int f32) {
    static char dir[600];
    char path[700];
    lvs_config c;
    lvs_error err;
    lvs_tensor_spec *specs;
    size_t n, i;
    snprintf(dir, sizeof dir, "build/bench-%s", name);
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (lvs_is_file(path)) return dir;
    printf("(writing the random %s model to %s once)\n", name, dir);
    fflush(stdout);
    snprintf(path, sizeof path, "mkdir -p '%s'", dir);
    if (system(path) != 0) return NULL;
    snprintf(path, sizeof path, "%s/config.json", dir);
    {
        FILE *f = fopen(path, "wb");
        if (!f) return NULL;
        fputs(cfg, f);
        fclose(f);
    }
    if (lvs_config_parse(&c, cfg, strlen(cfg), &err) != LVS_OK || lvs_arch_tensors(&c, NULL, &specs, &n, &err) != LVS_OK) {
        printf("bench model: %s\n", err.message);
        return NULL;
    }
    {
        lvs_st_writer *w = lvs_st_writer_create();
        void **bufs = (void **)calloc(n, sizeof *bufs);
        uint64_t x = 88172645463325252ull;
        lvs_rng r;
        lvs_rng_seed(&r, 3);
        for (i = 0; i < n; i++) {
            int64_t numel = specs[i].shape[0] * (specs[i].ndim == 2 ? specs[i].shape[1] : 1), j;
            bufs[i] = malloc((size_t)numel * (f32 ? 4 : 2));
            for (j = 0; j < numel; j++) {
                float v;
                if (f32) {
                    ((float *)bufs[i])[j] = specs[i].ndim == 2 ? (float)(0.02 * lvs_rng_normal(&r)) : 1.0f;
                    continue;
                }
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                v = specs[i].ndim == 2 ? (float)((double)(x >> 11) / 9007199254740992.0 - 0.5) * 0.1f : 1.0f;
                ((uint16_t *)bufs[i])[j] = lvs_f32_to_f16(v);
            }
            lvs_st_writer_add(w, specs[i].name, f32 ? LVS_F32 : LVS_F16, specs[i].ndim, specs[i].shape, bufs[i], &err);
        }
        snprintf(path, sizeof path, "%s/model.safetensors", dir);
        if (lvs_st_writer_save(w, path, &err) != LVS_OK) printf("bench model: %s\n", err.message);
        for (i = 0; i < n; i++) free(bufs[i]);
        free(bufs);
        lvs_st_writer_destroy(w);
    }
    lvs_free(specs);
    return dir;
}

static void bench_engine_model(const char *name, const char *cfg, int prefill_t, int dec1_steps, int dec16_steps) {
    const char *dir = bench_model(name, cfg, 0);
    int dt, nt;
    if (!dir) return;
    for (dt = 0; dt < 2; dt++)
        for (nt = 1; nt <= 2; nt++) {
            lvs_model *m = NULL;
            lvs_model_opts o;
            lvs_error err;
            lvs_model_stats st;
            const lvs_config *c;
            lvs_cache *cache = NULL;
            lvs_seq q[16];
            int32_t toks[16][64];
            float *lg;
            double t0, t_pre, t_d1, t_d16, flops, bound;
            int i, k, s;
            int64_t V;
            lvs_model_opts_default(&o);
            o.dtype = dt == 0 ? LVS_W_F16 : LVS_W_INT8;
            o.n_threads = nt;
            if (lvs_model_open(&m, dir, &o, &err) != LVS_OK) { printf("open: %s\n", err.message); return; }
            c = lvs_model_config(m);
            lvs_model_get_stats(m, &st);
            V = c->vocab_size;
            lg = (float *)malloc(sizeof(float) * (size_t)(16 * V));
            for (s = 0; s < 16; s++)
                for (i = 0; i < 64; i++) toks[s][i] = (int32_t)((s * 7919 + i * 104729) % V);
            memset(q, 0, sizeof q);
            /* prefill: one sequence of prefill_t tokens */
            lvs_cache_create(&cache, m, 16, prefill_t + 64, &err);
            q[0].tokens = toks[0];
            q[0].n = prefill_t > 64 ? 64 : prefill_t;
            q[0].logits = LVS_LOGITS_LAST;
            q[0].logits_out = lg;
            lvs_forward(m, cache, q, 1, &err); /* warm-up: touches every mapped weight page */
            lvs_cache_truncate(cache, 0, 0, &err);
            t0 = now();
            lvs_forward(m, cache, q, 1, &err);
            t_pre = now() - t0;
            /* decode at batch 1 (after two warm-up steps) */
            q[0].n = 1;
            for (k = 0; k < dec1_steps + 2; k++) {
                if (k == 2) t0 = now();
                q[0].tokens = &toks[0][k % 64];
                lvs_forward(m, cache, q, 1, &err);
            }
            t_d1 = (now() - t0) / dec1_steps;
            /* decode at batch 16: 15 more sequences with an 8-token prompt each */
            for (s = 1; s < 16; s++) {
                q[s].slot = s;
                q[s].tokens = toks[s];
                q[s].n = 8;
                q[s].logits = LVS_LOGITS_LAST;
                q[s].logits_out = lg + s * V;
            }
            lvs_forward(m, cache, q + 1, 15, &err);
            for (s = 0; s < 16; s++) q[s].n = 1;
            for (k = 0; k < dec16_steps + 1; k++) {
                if (k == 1) t0 = now();
                for (s = 0; s < 16; s++) q[s].tokens = &toks[s][(k + 8) % 64];
                lvs_forward(m, cache, q, 16, &err);
            }
            t_d16 = (now() - t0) / dec16_steps;
            /* matrix FLOPs of the prefill: every matrix for every token, lm_head for the last only */
            {
                double per_tok = 2.0 * (double)(st.n_params - c->vocab_size * c->hidden_size); /* blocks (+ untied embed) */
                int T = prefill_t > 64 ? 64 : prefill_t;
                if (!c->tie_embeddings) per_tok -= 2.0 * (double)c->vocab_size * c->hidden_size; /* the lookup table */
                flops = per_tok * T + 2.0 * (double)c->vocab_size * c->hidden_size;
            }
            bound = (double)st.weight_bytes / (g_bw[nt] * 1e9);
            printf("%-10s %-4s %d thr  prefill %4d tok %7.1f tok/s %6.1f GFLOP/s (%5.1f/core) | decode b1 %6.1f tok/s "
                   "(bound %6.1f, %3.0f%%) | b16 %7.1f tok/s (%.1fx b1)\n",
                   name, dt == 0 ? "f16" : "int8", nt, prefill_t > 64 ? 64 : prefill_t, (prefill_t > 64 ? 64 : prefill_t) / t_pre,
                   flops / t_pre / 1e9, flops / t_pre / 1e9 / nt, 1.0 / t_d1, 1.0 / bound, 100.0 * bound / t_d1,
                   16.0 / t_d16, (16.0 / t_d16) / (1.0 / t_d1));
            fflush(stdout);
            lvs_cache_free(cache);
            free(lg);
            lvs_model_close(m);
        }
}

static void bench_engine(void) {
    g_bw[1] = bandwidth(1);
    g_bw[2] = bandwidth(2);
    printf("memory    read bandwidth %.1f GB/s (1 thread), %.1f GB/s (2 threads)\n", g_bw[1], g_bw[2]);
    bench_engine_model("smollm2",
                       "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":576,\"intermediate_size\":1536,"
                       "\"num_hidden_layers\":30,\"num_attention_heads\":9,\"num_key_value_heads\":3,"
                       "\"vocab_size\":49152,\"tie_word_embeddings\":true,\"rope_theta\":100000}",
                       64, 32, 6);
    bench_engine_model("llama1b",
                       "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":2048,\"intermediate_size\":8192,"
                       "\"num_hidden_layers\":16,\"num_attention_heads\":32,\"num_key_value_heads\":8,"
                       "\"vocab_size\":128256,\"tie_word_embeddings\":true,\"rope_theta\":500000}",
                       32, 8, 3);
}

/* ---------------------------------------------------------------- pgd */
static int dcmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs a PyTorch baseline script (/usr/bin/python3 tests/reference/SCRIPT ARGS) and reads its
   result line, "KEY=ms ... [MORE[i]=value] ... [impl=name]": returns ms (more_val[i] the other
   fields, -1 when absent), or -1 with why saying why. A line "impl=name" of its own also names
   the path the script took. */
static double torch_baseline(const char *script, const char *args, const char *key, const char *const *more,
                             double *more_val, int n_more, char *impl, size_t impl_cap, char *why, size_t why_cap) {
    char cmd[400], line[1000];
    double ms = -1;
    FILE *p;
    int i;
    for (i = 0; i < n_more; i++) more_val[i] = -1;
    snprintf(impl, impl_cap, "?");
    if (!lvs_is_file("/usr/bin/python3")) { snprintf(why, why_cap, "no /usr/bin/python3"); return -1; }
    if (!lvs_is_file(script)) { snprintf(why, why_cap, "no %s (run from the repository root)", script); return -1; }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s 2>&1", script, args);
    fflush(stdout);
    if (!(p = popen(cmd, "r"))) { snprintf(why, why_cap, "cannot run /usr/bin/python3"); return -1; }
    snprintf(why, why_cap, "no result line");
    while (fgets(line, sizeof line, p)) {
        size_t k = strlen(line), n = strlen(key);
        char *f = strncmp(line, "impl=", 5) == 0 ? line : strstr(line, " impl=");
        while (k && (line[k - 1] == '\n' || line[k - 1] == '\r')) line[--k] = 0;
        if (f) {
            size_t j = 0;
            f += f == line ? 5 : 6;
            while (f[j] && f[j] != ' ' && j + 1 < impl_cap) { impl[j] = f[j]; j++; }
            impl[j] = 0;
        }
        if (strncmp(line, key, n) == 0 && line[n] == '=') {
            ms = atof(line + n + 1);
            for (i = 0; i < n_more; i++)
                if ((f = strstr(line, more[i])) && f[-1] == ' ' && f[strlen(more[i])] == '=')
                    more_val[i] = atof(f + strlen(more[i]) + 1);
        } else if (k && strncmp(line, "impl=", 5) != 0) snprintf(why, why_cap, "%.200s", line); /* the last other line: the error, if any */
    }
    if (pclose(p) != 0 && ms < 0) return -1;
    return ms;
}

/* tests/reference/bench_pgd_torch.py with nt threads: its median step in ms (*min_ms its fastest),
   or -1 (why says why) */
static double torch_pgd_step(int nt, int T, const char *extra, double *min_ms, char *impl, size_t impl_cap, char *why,
                             size_t why_cap) {
    static const char *const more[] = {"min_ms"};
    char args[200];
    snprintf(args, sizeof args, "--threads %d --T %d %s", nt, T, extra);
    return torch_baseline("tests/reference/bench_pgd_torch.py", args, "torch_pgd_step_ms", more, min_ms, 1, impl, impl_cap,
                          why, why_cap);
}

/* A PyTorch baseline kept running beside ours (/usr/bin/python3 SCRIPT --serve ARGS): it answers
   one timed request per line, so that its steps and ours can alternate under the same load. */
typedef struct torch_srv {
    pid_t pid;
    FILE *to, *from;
} torch_srv;
/* Starts the script and waits for its "ready ... impl=NAME ..." line: 0, or -1 with why. */
static int torch_serve(torch_srv *s, const char *script, const char *args, char *impl, size_t impl_cap, char *why,
                       size_t why_cap) {
    int in[2], out[2];
    char cmd[400], line[1000];
    memset(s, 0, sizeof *s);
    snprintf(impl, impl_cap, "?");
    if (!lvs_is_file("/usr/bin/python3")) { snprintf(why, why_cap, "no /usr/bin/python3"); return -1; }
    if (!lvs_is_file(script)) { snprintf(why, why_cap, "no %s (run from the repository root)", script); return -1; }
    snprintf(cmd, sizeof cmd, "exec /usr/bin/python3 %s --serve %s 2>/dev/null", script, args);
    if (pipe(in) != 0) { snprintf(why, why_cap, "pipe failed"); return -1; }
    if (pipe(out) != 0) { close(in[0]); close(in[1]); snprintf(why, why_cap, "pipe failed"); return -1; }
    fflush(stdout);
    s->pid = fork();
    if (s->pid == 0) {
        dup2(in[0], 0); dup2(out[1], 1);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(in[0]); close(out[1]);
    if (s->pid < 0) { close(in[1]); close(out[0]); snprintf(why, why_cap, "fork failed"); return -1; }
    s->to = fdopen(in[1], "w");
    s->from = fdopen(out[0], "r");
    snprintf(why, why_cap, "%s ended before it was ready (is Debian's python3-torch installed?)", script);
    while (s->from && fgets(line, sizeof line, s->from)) {
        char *f = strstr(line, " impl=");
        if (strncmp(line, "ready", 5) != 0) continue;
        if (f) {
            size_t j = 0;
            for (f += 6; f[j] && f[j] != ' ' && f[j] != '\n' && j + 1 < impl_cap; j++) impl[j] = f[j];
            impl[j] = 0;
        }
        return 0;
    }
    return -1;
}
/* One request ("step" or "forward"): the KEY=ms of its answer, or -1. */
static double torch_ask(torch_srv *s, const char *req, const char *key) {
    char line[1000];
    size_t n = strlen(key);
    if (!s->to || !s->from) return -1;
    fprintf(s->to, "%s\n", req);
    fflush(s->to);
    if (!fgets(line, sizeof line, s->from)) return -1;
    return strncmp(line, key, n) == 0 && line[n] == '=' ? atof(line + n + 1) : -1;
}
static void torch_stop(torch_srv *s) {
    if (s->to) { fprintf(s->to, "quit\n"); fclose(s->to); }
    if (s->from) fclose(s->from);
    if (s->pid > 0) waitpid(s->pid, NULL, 0);
    memset(s, 0, sizeof *s);
}

/* One PGD step at the middle layer of a SmolLM2-135M-shaped random f32 model (forward from the
   block after the site, loss, backward to it, sign update), one whole LVS cell (the attack with
   its clean forward, then 128 greedy tokens with its hook), and the PyTorch baseline
   (tests/reference/bench_pgd_torch.py --serve, oneDNN), its steps alternating with ours. */
static void bench_pgd(void) {
    enum { T = 64, NP = 60, NT = 4, REPS = 10, WARM = 2, GEN = 128 };
    const char *cfg = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":576,\"intermediate_size\":1536,"
                      "\"num_hidden_layers\":30,\"num_attention_heads\":9,\"num_key_value_heads\":3,\"head_dim\":64,"
                      "\"vocab_size\":49152,\"tie_word_embeddings\":true,\"rope_theta\":100000,"
                      "\"rms_norm_eps\":1e-05,\"max_position_embeddings\":2048}";
    const char *dir;
    double t_start = now(), step_ms[3] = {0, 0, 0}, torch_ms[3] = {-1, -1, -1}, torch_blas_ms[3] = {-1, -1, -1}, cell[3][2];
    double step_min[3] = {0, 0, 0}, torch_min[3] = {-1, -1, -1}, pair_ratio[3] = {0, 0, 0}, unused;
    char impl[3][32];
    int nt, site = 0;
    dir = bench_model("smollm2-f32", cfg, 1);
    if (!dir) return;
    for (nt = 1; nt <= 2; nt++) {
        lvs_model *m = NULL;
        lvs_model_opts o;
        lvs_error err;
        lvs_model_stats st;
        lvs_tape *tape = NULL;
        lvs_cache *cache = NULL;
        lvs_backward_req br;
        lvs_seq q;
        lvs_hook hk;
        lvs_act_buf ab;
        lvs_attack_req ar;
        lvs_add_spec spec;
        lvs_gen_opts go;
        lvs_gen_seq gs;
        int32_t toks[T], out[GEN];
        float *h, *x0, *g, *delta;
        double times[REPS], theirs[REPS], rat[REPS], t0, eps = 0, mx = 0;
        int64_t d, i;
        int L, k, side, paired;
        char why[256], args[100];
        lvs_rng rng;
        torch_srv srv;
        /* PyTorch first: its setup and warm-up run while we wait (blocked on its pipe) */
        snprintf(args, sizeof args, "--threads %d --T %d --warmup %d", nt, T, WARM);
        paired = torch_serve(&srv, "tests/reference/bench_pgd_torch.py", args, impl[nt], sizeof impl[nt], why,
                             sizeof why) == 0;
        if (!paired) printf("pgd       %d thr  torch comparison skipped: %s\n", nt, why);
        lvs_model_opts_default(&o);
        o.n_threads = nt;
        if (lvs_model_open(&m, dir, &o, &err) != LVS_OK) { printf("pgd       open: %s\n", err.message); return; }
        lvs_model_get_stats(m, &st);
        d = lvs_model_config(m)->hidden_size;
        L = (int)lvs_model_config(m)->n_layers;
        site = (L + 1) / 2; /* round(L / 2): the output of block 15 of 30 */
        lvs_rng_seed(&rng, 1234); /* 64 random ids, the same for every thread count */
        for (i = 0; i < T; i++) toks[i] = (int32_t)(lvs_rng_next(&rng) % (uint64_t)lvs_model_config(m)->vocab_size);
        h = (float *)malloc(sizeof(float) * (size_t)(T * d));
        x0 = (float *)malloc(sizeof(float) * (size_t)(T * d));
        g = (float *)malloc(sizeof(float) * (size_t)(T * d));
        delta = (float *)calloc((size_t)(NP * d), sizeof(float));
        /* the clean residual after block `site`, once (untimed) */
        memset(&q, 0, sizeof q);
        ab.buf = h; ab.cap_pos = T; ab.d = (int)d; ab.have = NULL;
        hk.site = LVS_SITE_RESID_POST; hk.layer = site; hk.fn = lvs_hook_capture; hk.user = &ab;
        q.tokens = toks; q.n = T; q.hooks = &hk; q.n_hooks = 1;
        if (lvs_cache_create(&cache, m, 1, T, &err) != LVS_OK || lvs_forward(m, cache, &q, 1, &err) != LVS_OK ||
            lvs_tape_create(&tape, m, T, 0, &err) != LVS_OK) {
            printf("pgd       %s\n", err.message);
            return;
        }
        lvs_cache_free(cache);
        for (i = 0; i < NP * d; i++) mx = h[i] > mx ? h[i] : -h[i] > mx ? -h[i] : mx;
        eps = 1e-3 * mx;
        /* one PGD step: x0 = h + delta on the prompt rows, blocks site+1.. forward, loss on the
           4 target ids, backward to the residual, delta = clamp(delta - alpha sign(grad)) */
        memset(&br, 0, sizeof br);
        br.tokens = toks; br.n = T; br.start_layer = site + 1; br.x0 = x0; br.loss_from = NP; br.grad_x0 = g;
        for (k = 0; k < WARM + REPS; k++)     /* after the warm-up, pairs with PyTorch's steps, */
            for (side = 0; side < 2; side++) { /* who goes first alternating */
                if ((side == 0) != (k % 2 == 0)) {
                    if (k >= WARM) theirs[k - WARM] = paired ? torch_ask(&srv, "step", "step_ms") : -1;
                    continue;
                }
                t0 = now();
                memcpy(x0, h, sizeof(float) * (size_t)(T * d));
                for (i = 0; i < NP * d; i++) x0[i] += delta[i];
                if (lvs_backward(m, tape, &br, &err) != LVS_OK) { printf("pgd       backward: %s\n", err.message); return; }
                for (i = 0; i < NP * d; i++) {
                    float v = delta[i] - (g[i] > 0 ? (float)(eps / 4) : g[i] < 0 ? (float)(-eps / 4) : 0.0f);
                    delta[i] = v > (float)eps ? (float)eps : v < (float)-eps ? (float)-eps : v;
                }
                if (k >= WARM) times[k - WARM] = now() - t0;
            }
        torch_stop(&srv);
        for (k = 0; k < REPS; k++) rat[k] = theirs[k] > 0 ? theirs[k] / 1e3 / times[k] : 0;
        qsort(theirs, REPS, sizeof theirs[0], dcmp);
        if (paired && theirs[0] > 0) { /* every PyTorch step answered */
            qsort(rat, REPS, sizeof rat[0], dcmp);
            torch_ms[nt] = 0.5 * (theirs[REPS / 2 - 1] + theirs[REPS / 2]);
            torch_min[nt] = theirs[0];
            pair_ratio[nt] = 0.5 * (rat[REPS / 2 - 1] + rat[REPS / 2]);
        }
        qsort(times, REPS, sizeof times[0], dcmp);
        step_ms[nt] = 1e3 * 0.5 * (times[REPS / 2 - 1] + times[REPS / 2]);
        step_min[nt] = 1e3 * times[0];
        if (nt == 1)
            printf("pgd       smollm2-f32: %.1fM params f32, %d layers; site blocks.%d.resid_post, step = blocks %d..%d "
                   "forward + backward, T %d (%d prompt + %d target); tape %.1f MB, packed weights %.1f MB (made in "
                   "the first step)\n",
                   st.n_params / 1e6, L, site, site + 1, L - 1, T, NP, NT, lvs_tape_bytes(tape) / 1e6,
                   lvs_tape_panel_bytes(tape) / 1e6);
        printf("pgd       %d thr  step  %7.1f ms (median of %d after %d warm-up; min %.1f, max %.1f)\n", nt,
               step_ms[nt], REPS, WARM, times[0] * 1e3, times[REPS - 1] * 1e3);
        fflush(stdout);
        /* one LVS cell: the attack (clean forward + clean loss + 10 steps + final loss), then
           128 greedy tokens from the prompt with its hook */
        memset(&ar, 0, sizeof ar);
        ar.delta = delta; /* reused as the attack's output */
        ar.kind = LVS_ATTACK_PGD; ar.prompt = toks; ar.n_prompt = NP; ar.target = toks + NP; ar.n_target = NT;
        ar.layer = site; ar.budget = 1e-3; ar.steps = 0; ar.h = NULL;
        t0 = now();
        if (lvs_attack_run(m, tape, &ar, &err) != LVS_OK) { printf("pgd       attack: %s\n", err.message); return; }
        cell[nt][0] = now() - t0;
        lvs_attack_hook(&ar, &spec, &hk);
        lvs_gen_opts_default(&go);
        go.max_new = GEN; go.ignore_eos = 1; go.sampling.temperature = 0;
        memset(&gs, 0, sizeof gs);
        gs.prompt = toks; gs.n_prompt = NP; gs.hooks = &hk; gs.n_hooks = 1; gs.out = out;
        t0 = now();
        if (lvs_generate(m, &gs, 1, &go, &err) != LVS_OK) { printf("pgd       generate: %s\n", err.message); return; }
        cell[nt][1] = now() - t0;
        printf("pgd       %d thr  cell  attack (10 steps, loss %.4f -> %.4f) %6.2f s + generate %d tok %6.2f s "
               "(%5.1f tok/s) = %6.2f s\n", nt, ar.loss_clean, ar.loss_final, cell[nt][0], gs.n_out, cell[nt][1],
               gs.n_out / cell[nt][1], cell[nt][0] + cell[nt][1]);
        fflush(stdout);
        lvs_tape_free(tape);
        lvs_model_close(m);
        free(h); free(x0); free(g); free(delta);
        if (torch_ms[nt] > 0)
            printf("pgd       %d thr  torch %7.1f ms (median of %d after %d warm-up, alternating with ours; min %.1f; "
                   "impl %s)\n", nt, torch_ms[nt], REPS, WARM, torch_min[nt], impl[nt]);
        fflush(stdout);
        /* and PyTorch as ordinary code runs it (F.linear: Debian's torch calls the reference BLAS) */
        t0 = now();
        torch_blas_ms[nt] = torch_pgd_step(nt, T, "--impl blas --reps 3 --warmup 1", &unused, impl[0], sizeof impl[0],
                                           why, sizeof why);
        if (torch_blas_ms[nt] >= 0)
            printf("pgd       %d thr  torch %7.1f ms (impl blas, F.linear; its run took %.1f s)\n", nt,
                   torch_blas_ms[nt], now() - t0);
        fflush(stdout);
    }
    printf("pgd       one step at blocks.%d.resid_post, T %d (medians; torch/lvs.h: the median of %d alternating pairs' "
           "ratios, in brackets fastest against fastest):\n", site, T, REPS);
    printf("pgd       threads   lvs.h ms         torch ms         torch/lvs.h             torch F.linear ms (ratio) | "
           "LVS cell: attack s  generate s  total s\n");
    for (nt = 1; nt <= 2; nt++) {
        char tms[48], ratio[48];
        if (torch_ms[nt] < 0) { snprintf(tms, sizeof tms, "skipped"); snprintf(ratio, sizeof ratio, "-"); }
        else {
            snprintf(tms, sizeof tms, "%.1f [%.1f]", torch_ms[nt], torch_min[nt]);
            snprintf(ratio, sizeof ratio, "%.2fx [%.2fx] %s", pair_ratio[nt], torch_min[nt] / step_min[nt],
                     pair_ratio[nt] >= 1 ? "faster" : "slower");
        }
        printf("pgd       %7d   %6.1f [%6.1f]  %-15s  %-22s  %10.1f (%5.1fx)       |           %8.2f  %10.2f  %7.2f\n", nt,
               step_ms[nt], step_min[nt], tms, ratio, torch_blas_ms[nt],
               torch_blas_ms[nt] > 0 ? torch_blas_ms[nt] / step_ms[nt] : 0.0, cell[nt][0], cell[nt][1],
               cell[nt][0] + cell[nt][1]);
    }
    printf("pgd       mode total %.1f s\n", now() - t_start);
}


/* ---------------------------------------------------------------- LoRA fine-tuning */
/* One LoRA training step (rank 8 on all seven projections of every block, AdamW) on a batch of
   4 sequences of 128 tokens of the SmolLM2-135M-shaped f32 model, loss on the last 64 tokens of
   each; one forward pass of the same batch (logits of those rows) as the unit of cost; the
   PyTorch step (tests/reference/bench_lora_torch.py --serve) in the same run, its steps and ours
   alternating (the ratio is the median of the pairs' ratios: a shared machine's load changes
   over minutes, and a pair sees the same load on both sides). */
static void bench_lora(void) {
    enum { B = 4, T = 128, REPS = 9, WARM = 1 };
    const char *cfg = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":576,\"intermediate_size\":1536,"
                      "\"num_hidden_layers\":30,\"num_attention_heads\":9,\"num_key_value_heads\":3,\"head_dim\":64,"
                      "\"vocab_size\":49152,\"tie_word_embeddings\":true,\"rope_theta\":100000,"
                      "\"rms_norm_eps\":1e-05,\"max_position_embeddings\":2048}";
    const char *dir;
    double t_start = now(), step_ms[3] = {0, 0, 0}, fwd_ms[3] = {0, 0, 0}, torch_ms[3] = {-1, -1, -1};
    double torch_fwd[3] = {-1, -1, -1}, ratio[3] = {0, 0, 0}, ratio_min[3] = {0, 0, 0}, loss0 = 0, loss1 = 0;
    double tfwd_ms[3] = {0, 0, 0};
    char impl[3][32];
    int nt;
    dir = bench_model("smollm2-f32", cfg, 1);
    if (!dir) return;
    for (nt = 1; nt <= 2; nt++) {
        lvs_model *m = NULL;
        lvs_model_opts o;
        lvs_lora *lo = NULL;
        lvs_lora_opts lopt;
        lvs_train_opts to;
        lvs_trainer *tr = NULL;
        lvs_train_seq seqs[B];
        lvs_train_stats st;
        lvs_cache *cache = NULL;
        lvs_seq q[B];
        lvs_error err;
        lvs_rng rng;
        torch_srv srv;
        int32_t toks[B][T];
        float *logits;
        double times[REPS], theirs[REPS], rat[REPS], ftimes[REPS], t0;
        int k, b, i, paired;
        char why[256], args[100];
        int64_t V;
        /* PyTorch first: its setup and warm-up run while we wait (blocked on its pipe) */
        t0 = now();
        snprintf(args, sizeof args, "--threads %d --batch %d --T %d --warmup %d", nt, B, T, WARM);
        paired = torch_serve(&srv, "tests/reference/bench_lora_torch.py", args, impl[nt], sizeof impl[nt], why,
                             sizeof why) == 0;
        if (!paired) printf("lora      %d thr  torch comparison skipped: %s\n", nt, why);
        else printf("lora      %d thr  torch ready (impl %s, setup and %d warm-up step in %.0f s)\n", nt, impl[nt], WARM,
                    now() - t0);
        fflush(stdout);
        lvs_model_opts_default(&o);
        o.n_threads = nt;
        if (lvs_model_open(&m, dir, &o, &err) != LVS_OK) { printf("lora      open: %s\n", err.message); return; }
        V = lvs_model_config(m)->vocab_size;
        lvs_rng_seed(&rng, 99);
        for (b = 0; b < B; b++) {
            for (i = 0; i < T; i++) toks[b][i] = (int32_t)(lvs_rng_next(&rng) % (uint64_t)V);
            seqs[b].tokens = toks[b];
            seqs[b].n = T;
            seqs[b].loss_from = T / 2;
        }
        lvs_lora_opts_default(&lopt);
        lvs_train_opts_default(&to);
        if (lvs_lora_create(&lo, lvs_model_config(m), &lopt, &err) != LVS_OK || lvs_model_set_lora(m, lo, &err) != LVS_OK ||
            lvs_trainer_create(&tr, m, &to, B * T, &err) != LVS_OK) {
            printf("lora      %s\n", err.message);
            return;
        }
        for (k = 0; k < WARM; k++) {
            if (lvs_trainer_step(tr, seqs, B, 7, &st, &err) != LVS_OK) { printf("lora      step: %s\n", err.message); return; }
            if (k == 0) loss0 = st.loss;
        }
        for (k = 0; k < REPS; k++) { /* pairs, who goes first alternating */
            int side;
            for (side = 0; side < 2; side++) {
                if ((side == 0) == (k % 2 == 0)) {
                    t0 = now();
                    if (lvs_trainer_step(tr, seqs, B, 7, &st, &err) != LVS_OK) {
                        printf("lora      step: %s\n", err.message);
                        return;
                    }
                    times[k] = now() - t0;
                    loss1 = st.loss;
                } else theirs[k] = paired ? torch_ask(&srv, "step", "step_ms") : -1;
            }
            rat[k] = theirs[k] > 0 ? theirs[k] / 1e3 / times[k] : 0;
            printf("lora      %d thr  pair %d: lvs.h %6.0f ms, torch %6.0f ms: %.2fx\n", nt, k + 1, times[k] * 1e3,
                   theirs[k], rat[k]);
            fflush(stdout);
        }
        /* the units: the forward pass of the step alone (the four sequences packed, logits of the
           loss rows, no gradient), and the engine's forward pass (lvs_forward, KV cache) */
        {
            lvs_tape *tape = NULL;
            lvs_backward_req br;
            int32_t all[B * T];
            int lens[B], froms[B];
            for (b = 0; b < B; b++) {
                memcpy(all + b * T, toks[b], sizeof(int32_t) * T);
                lens[b] = T;
                froms[b] = T / 2;
            }
            memset(&br, 0, sizeof br);
            br.tokens = all; br.n = B * T; br.seq_lens = lens; br.seq_loss_from = froms; br.n_seqs = B; br.no_grad = 1;
            if (lvs_tape_create(&tape, m, B * T, 0, &err) != LVS_OK) { printf("lora      tape: %s\n", err.message); return; }
            for (k = 0; k < WARM + 3; k++) {
                t0 = now();
                if (lvs_backward(m, tape, &br, &err) != LVS_OK) { printf("lora      forward: %s\n", err.message); return; }
                if (k >= WARM) ftimes[k - WARM] = now() - t0;
            }
            lvs_tape_free(tape);
            qsort(ftimes, 3, sizeof ftimes[0], dcmp);
            tfwd_ms[nt] = 1e3 * ftimes[1];
        }
        logits = (float *)malloc(sizeof(float) * (size_t)(B * (T / 2) * V));
        for (k = 0; k < WARM + 3; k++) {
            if (lvs_cache_create(&cache, m, B, T, &err) != LVS_OK) { printf("lora      cache: %s\n", err.message); return; }
            memset(q, 0, sizeof q);
            for (b = 0; b < B; b++) {
                q[b].slot = b; q[b].tokens = toks[b]; q[b].n = T; q[b].logits = LVS_LOGITS_ALL;
                q[b].logits_from = T / 2; q[b].logits_out = logits + (size_t)b * (T / 2) * V;
            }
            t0 = now();
            if (lvs_forward(m, cache, q, B, &err) != LVS_OK) { printf("lora      forward: %s\n", err.message); return; }
            if (k >= WARM) ftimes[k - WARM] = now() - t0;
            lvs_cache_free(cache);
        }
        free(logits);
        qsort(ftimes, 3, sizeof ftimes[0], dcmp);
        fwd_ms[nt] = 1e3 * ftimes[1];
        if (paired) { /* PyTorch's forward pass, its unit */
            for (k = 0; k < 3; k++) ftimes[k] = torch_ask(&srv, "forward", "forward_ms");
            qsort(ftimes, 3, sizeof ftimes[0], dcmp);
            torch_fwd[nt] = ftimes[1];
        }
        torch_stop(&srv);
        qsort(times, REPS, sizeof times[0], dcmp);
        step_ms[nt] = 1e3 * times[REPS / 2];
        qsort(theirs, REPS, sizeof theirs[0], dcmp);
        if (paired && theirs[0] > 0) { /* every PyTorch step answered */
            double fastest = times[0];
            qsort(rat, REPS, sizeof rat[0], dcmp);
            torch_ms[nt] = theirs[REPS / 2];
            ratio[nt] = rat[REPS / 2];
            ratio_min[nt] = theirs[0] / 1e3 / fastest;
        }
        if (nt == 1) {
            int64_t np = 0;
            lvs_lora_params(lo, &np);
            printf("lora      smollm2-f32, LoRA r 8 on q,k,v,o,gate,up,down of 30 blocks (%lld parameters), batch %d x %d "
                   "tokens, loss on the last %d of each, AdamW\n", (long long)np, B, T, T / 2);
        }
        printf("lora      %d thr  step %7.0f ms = %6.0f tokens/s (median of %d; loss %.4f -> %.4f); its forward pass "
               "alone %6.0f ms (step = %.2f of them); lvs_forward %6.0f ms (step = %.2f)\n", nt, step_ms[nt],
               B * T / (step_ms[nt] / 1e3), REPS, loss0, loss1, tfwd_ms[nt], step_ms[nt] / tfwd_ms[nt], fwd_ms[nt],
               step_ms[nt] / fwd_ms[nt]);
        if (torch_ms[nt] > 0)
            printf("lora      %d thr  torch step %7.0f ms = %6.0f tokens/s (median of %d), forward %6.0f ms (impl %s)\n",
                   nt, torch_ms[nt], B * T / (torch_ms[nt] / 1e3), REPS, torch_fwd[nt], impl[nt]);
        fflush(stdout);
        lvs_trainer_free(tr);
        lvs_model_close(m);
        lvs_lora_free(lo);
    }
    printf("lora      training tokens/s, batch %d x %d (medians; the ratio: the median of %d alternating pairs of steps, "
           "in brackets fastest against fastest):\n", B, T, REPS);
    printf("lora      threads   lvs.h tok/s   torch tok/s   lvs.h/torch      step in forward passes: lvs.h (training "
           "forward, lvs_forward)  torch\n");
    for (nt = 1; nt <= 2; nt++) {
        double ours = B * T / (step_ms[nt] / 1e3), theirs = torch_ms[nt] > 0 ? B * T / (torch_ms[nt] / 1e3) : 0;
        printf("lora      %7d   %11.0f   %11.0f   %5.2fx [%5.2fx]                       %5.2f, %5.2f                 %5.2f\n",
               nt, ours, theirs, ratio[nt], ratio_min[nt], step_ms[nt] / tfwd_ms[nt], step_ms[nt] / fwd_ms[nt],
               torch_fwd[nt] > 0 ? torch_ms[nt] / torch_fwd[nt] : 0.0);
    }
    printf("lora      mode total %.1f s\n", now() - t_start);
}

/* The harmlessness reward model's scoring: 24 (prompt, 128-token response) pairs on a
   GPT-2-large-shaped random sequence classifier (d 1280, 36 layers, 20 heads, vocab 50257,
   1024 positions) with GPT-2's real tokenizer, int8 and f16, 8 pairs per forward pass. */
static void bench_reward(const char *shared) {
    static const char cfg[] =
        "{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":1280,\"n_layer\":36,\"n_head\":20,"
        "\"vocab_size\":50257,\"n_positions\":1024,\"id2label\":{\"0\":\"LABEL_0\"}}";
    const char *dir = bench_model("gpt2-large-reward", cfg, 0);
    char path[700], cmd[1600], *text, *ps[24], *rs[24];
    size_t got = 0, nt = 0;
    int nf, i, dt, th, total = 0;
    int32_t *ids = NULL;
    lvs_tokenizer *tok = NULL;
    lvs_error err;
    if (!dir) return;
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    if (!lvs_is_file(path)) {
        snprintf(cmd, sizeof cmd, "cp '%s/tokenizers/gpt2/tokenizer.json' '%s/tokenizers/gpt2/tokenizer_config.json' '%s/'",
                 shared, shared, dir);
        if (system(cmd) != 0) { printf("reward    skipped (no %s/tokenizers/gpt2)\n", shared); return; }
    }
    if (lvs_tokenizer_open(&tok, dir, &err) != LVS_OK) { printf("reward    skipped: %s\n", err.message); return; }
    /* prompts of about 20 tokens and responses of 128 tokens, cut from English text */
    text = english_text(200000, &got, &nf);
    if (!text || lvs_tokenize(tok, text, got, 0, &ids, &nt, &err) != LVS_OK || nt < 24 * 160) {
        printf("reward    skipped (no text)\n");
        free(text);
        lvs_tokenizer_free(tok);
        return;
    }
    for (i = 0; i < 24; i++) {
        size_t len;
        lvs_detokenize(tok, ids + i * 160, 20, 0, &ps[i], &len, &err);
        lvs_detokenize(tok, ids + i * 160 + 20, 128, 0, &rs[i], &len, &err);
    }
    for (i = 0; i < 24; i++) { /* what is scored, after re-tokenization */
        int32_t *a = NULL, *b = NULL;
        size_t na = 0, nb = 0;
        lvs_tokenize(tok, ps[i], strlen(ps[i]), 0, &a, &na, &err);
        lvs_tokenize(tok, rs[i], strlen(rs[i]), 0, &b, &nb, &err);
        total += (int)(na + nb);
        lvs_free(a);
        lvs_free(b);
    }
    printf("reward    GPT-2-large-shaped classifier, 24 pairs, %d tokens in all (8 pairs per forward pass)\n", total);
    for (dt = 0; dt < 2; dt++)
        for (th = 1; th <= 2; th++) {
            lvs_reward *r = NULL;
            lvs_model_opts o;
            double t0, sc[24], best = 1e30;
            int rep;
            lvs_model_opts_default(&o);
            o.dtype = dt ? LVS_W_F16 : LVS_W_INT8;
            o.n_threads = th;
            if (lvs_reward_open(&r, dir, &o, &err) != LVS_OK) { printf("reward: %s\n", err.message); continue; }
            for (rep = 0; rep < 1; rep++) { /* one run: each takes minutes */
                t0 = now();
                if (lvs_reward_score(r, 24, (const char *const *)ps, (const char *const *)rs, sc, &err) != LVS_OK) {
                    printf("reward: %s\n", err.message);
                    break;
                }
                if (now() - t0 < best) best = now() - t0;
            }
            printf("reward    %-4s %d thread%s  %6.2f s for 24 pairs  %6.2f pairs/s  %7.0f tokens/s  (score[0] %.4f)\n",
                   dt ? "f16" : "int8", th, th > 1 ? "s" : " ", best, 24 / best, total / best, sc[0]);
            fflush(stdout);
            lvs_reward_free(r);
        }
    for (i = 0; i < 24; i++) { lvs_free(ps[i]); lvs_free(rs[i]); }
    lvs_free(ids);
    free(text);
    lvs_tokenizer_free(tok);
}

int main(int argc, char **argv) {
    const char *shared = getenv("LVS_SHARED") ? getenv("LVS_SHARED") : "../shared";
    const char *dir = "build", *mode = argc >= 2 ? argv[1] : "all";
#ifdef _OPENMP
    printf("lvs.h %s bench, OpenMP with %d threads\n", lvs_version(), omp_get_max_threads());
#else
    printf("lvs.h %s bench, no OpenMP\n", lvs_version());
#endif
    if (strcmp(mode, "all") && strcmp(mode, "io") && strcmp(mode, "tokenizer") && strcmp(mode, "engine") &&
        strcmp(mode, "pgd") && strcmp(mode, "lora") && strcmp(mode, "reward")) {
        printf("usage: bench [io|tokenizer|engine|pgd|lora|reward] (no argument: all of them)\n");
        return 2;
    }
    if (strcmp(mode, "tokenizer") == 0) {
        bench_tokenizer(shared);
        return 0;
    }
    if (strcmp(mode, "all") == 0 || strcmp(mode, "io") == 0) {
        bench_json(shared);
        bench_tokenizer(shared);
        bench_safetensors(dir);
        bench_convert(dir);
    }
    if (strcmp(mode, "all") == 0 || strcmp(mode, "engine") == 0) bench_engine();
    if (strcmp(mode, "all") == 0 || strcmp(mode, "pgd") == 0) bench_pgd();
    if (strcmp(mode, "all") == 0 || strcmp(mode, "lora") == 0) bench_lora();
    if (strcmp(mode, "all") == 0 || strcmp(mode, "reward") == 0) bench_reward(shared);
    return 0;
}
