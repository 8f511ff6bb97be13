/* hooks: capture the residual stream after a middle block, then steer the model by adding a
   vector there and watch the next-token distribution move.
   Build: cc -O2 examples/hooks.c -lm      Run: ./a.out MODEL 1,2,3 */
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* runs the prompt once with the given hooks; logits of the last position go to out */
static int run(lvs_model *m, const int32_t *ids, int n, lvs_hook *hooks, int n_hooks, float *out) {
    lvs_cache *cache;
    lvs_error err;
    lvs_seq seq;
    int ok;
    if (lvs_cache_create(&cache, m, 1, n, &err) != LVS_OK) return 0;
    memset(&seq, 0, sizeof seq);
    seq.tokens = ids;
    seq.n = n;
    seq.logits = LVS_LOGITS_LAST;
    seq.logits_out = out;
    seq.hooks = hooks;
    seq.n_hooks = n_hooks;
    ok = lvs_forward(m, cache, &seq, 1, &err) == LVS_OK;
    if (!ok) fprintf(stderr, "hooks: %s\n", err.message);
    lvs_cache_free(cache);
    return ok;
}

static int argmax(const float *x, int64_t n) {
    int64_t i, b = 0;
    for (i = 1; i < n; i++) if (x[i] > x[b]) b = i;
    return (int)b;
}

int main(int argc, char **argv) {
    lvs_model *m;
    lvs_error err;
    int32_t ids[256];
    int n = 0, layer, i;
    const char *p;
    const lvs_config *c;
    float *captured, *logits, *steer;
    lvs_act_buf cap;
    lvs_add_spec add;
    lvs_hook hook;
    if (argc < 3) {
        fprintf(stderr, "usage: hooks MODEL IDS   (IDS like 1,2,3)\n");
        return 2;
    }
    for (p = argv[2]; *p && n < 256; n++) {
        ids[n] = (int32_t)strtol(p, (char **)&p, 10);
        if (*p == ',') p++;
    }
    if (lvs_model_open(&m, argv[1], NULL, &err) != LVS_OK) {
        fprintf(stderr, "hooks: %s\n", err.message);
        return 1;
    }
    c = lvs_model_config(m);
    layer = (int)(c->n_layers / 2);
    captured = (float *)calloc((size_t)(n * c->hidden_size), sizeof(float));
    logits = (float *)calloc((size_t)c->vocab_size, sizeof(float));
    steer = (float *)calloc((size_t)c->hidden_size, sizeof(float));

    /* 1. capture blocks.<mid>.resid_post at every position */
    cap.buf = captured;
    cap.cap_pos = n;
    cap.d = (int)c->hidden_size;
    cap.have = NULL;
    hook.site = LVS_SITE_RESID_POST;
    hook.layer = layer;
    hook.fn = lvs_hook_capture;
    hook.user = &cap;
    if (!run(m, ids, n, &hook, 1, logits)) return 1;
    printf("clean: next token %d; |resid_post[%d]| at the last position:", argmax(logits, c->vocab_size), layer);
    {
        double ss = 0;
        for (i = 0; i < c->hidden_size; i++) ss += captured[(n - 1) * c->hidden_size + i] * captured[(n - 1) * c->hidden_size + i];
        printf(" %.3f\n", ss > 0 ? sqrt(ss) : 0.0);
    }

    /* 2. steer: add the captured last-position state, scaled, at every position */
    for (i = 0; i < c->hidden_size; i++) steer[i] = captured[(n - 1) * c->hidden_size + i];
    memset(&add, 0, sizeof add);
    add.vec = steer;
    add.scale = 2.0f;
    hook.fn = lvs_hook_add;
    hook.user = &add;
    if (!run(m, ids, n, &hook, 1, logits)) return 1;
    printf("steered (x%.1f at block %d): next token %d\n", add.scale, layer, argmax(logits, c->vocab_size));
    free(captured);
    free(logits);
    free(steer);
    lvs_model_close(m);
    return 0;
}
