/* LVS_STATIC and the allocator macros: a private copy of the library whose every allocation
   is counted; parsing, opening, writing and converting (successes and failures) must give back
   everything they take, and an allocator that fails must give LVS_ERR_NOMEM, never a crash. */
#include <stdlib.h>
#include <stddef.h>
static long a_live, a_calls, a_fail_at = -1;
static void *a_malloc(size_t n) {
    if (a_fail_at >= 0 && a_calls++ == a_fail_at) return NULL;
    a_live++;
    return malloc(n);
}
static void *a_realloc(void *p, size_t n) {
    void *q;
    if (a_fail_at >= 0 && a_calls++ == a_fail_at) return NULL;
    q = realloc(p, n);
    if (!p && q) a_live++;
    return q;
}
static void a_free(void *p) {
    if (p) a_live--;
    free(p);
}
#define LVS_STATIC
#define LVS_IMPLEMENTATION
#define LVS_MALLOC(n) a_malloc(n)
#define LVS_REALLOC(p, n) a_realloc(p, n)
#define LVS_FREE(p) a_free(p)
#include "test.h"

static const char cfg[] = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":40,"
                          "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":50}";

/* one pass over everything that allocates; returns the first failing status */
static lvs_status workload(const char *model, const char *out) {
    lvs_json_doc d;
    lvs_safetensors st;
    lvs_config c;
    lvs_error err;
    lvs_status s;
    const char *bad = "{\"a\":[1,2,{\"b\":\"\\u00e9\"}],\"a\":0}";
    if ((s = lvs_json_parse(&d, cfg, sizeof cfg - 1, 0, &err)) != LVS_OK) return s;
    lvs_json_free(&d);
    lvs_json_parse(&d, bad, strlen(bad), 0, &err); /* fails: duplicate key */
    if ((s = lvs_config_parse(&c, cfg, sizeof cfg - 1, &err)) != LVS_OK) return s;
    if ((s = lvs_st_open(&st, model, &err)) != LVS_OK) return s;
    lvs_st_close(&st);
    lvs_st_open(&st, "tests/corpus/bad/st_gap.safetensors", &err); /* fails */
    if ((s = lvs_convert(model, out, LVS_W_INT8, NULL, NULL, &err)) != LVS_OK) return s;
    return lvs_convert(model, out, LVS_W_F16, NULL, NULL, &err);
}

void test_allocator(void) {
    char *model = t_path("alloc-model"), *out = t_path("alloc.safetensors");
    t_model m;
    long total, k, nomem = 0, other = 0;
    memset(&m, 0, sizeof m);
    m.config = cfg;
    m.dtype = LVS_BF16;
    m.scale = 0.1;
    m.shards = 2;
    m.seed = 4;
    CHECK(t_make_model(model, &m) == 0);
    a_live = a_calls = 0;
    a_fail_at = -1;
    CHECK_ST(workload(model, out), LVS_OK);
    CHECKF(a_live == 0, "%ld allocations not freed", a_live);
    a_fail_at = 1000000000; /* count the calls */
    a_calls = 0;
    workload(model, out);
    total = a_calls;
    printf("  %ld allocations in the workload\n", total);
    CHECK(total > 50);
    for (k = 0; k < total; k++) { /* fail each allocation in turn */
        lvs_status s;
        a_live = a_calls = 0;
        a_fail_at = k;
        if (getenv("ALLOC_TRACE")) { printf("k=%ld\n", k); fflush(stdout); }
        s = workload(model, out);
        if (s == LVS_ERR_NOMEM) nomem++;
        else if (s != LVS_OK) other++;
        if (a_live != 0) { CHECKF(0, "failing allocation %ld of %ld leaks %ld blocks", k, total, a_live); break; }
    }
    CHECKF(other == 0, "%ld failed allocations reported a status other than LVS_ERR_NOMEM", other);
    CHECK(nomem > 0);
    a_fail_at = -1;
    free(model);
    free(out);
}
