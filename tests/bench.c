/* make bench: speed figures for the foundation layer (not a test: it prints, it does not judge).
   JSON parsing of real tokenizer.json files, safetensors write/open/convert-to-f32, and
   lvs_convert throughput on a random Llama-shaped model. */
#define _POSIX_C_SOURCE 200809L
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

int main(void) {
    const char *shared = getenv("LVS_SHARED") ? getenv("LVS_SHARED") : "../shared";
    const char *dir = "build";
#ifdef _OPENMP
    printf("lvs.h %s bench, OpenMP with %d threads\n", lvs_version(), omp_get_max_threads());
#else
    printf("lvs.h %s bench, no OpenMP\n", lvs_version());
#endif
    bench_json(shared);
    bench_safetensors(dir);
    bench_convert(dir);
    return 0;
}
