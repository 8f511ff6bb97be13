/* generate: load a model and continue a prompt of token ids greedily.
   Build: cc -O2 examples/generate.c -lm      Run: ./a.out MODEL 1,2,3 [N] */
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    lvs_model *m;
    lvs_error err;
    lvs_gen_opts opts;
    lvs_gen_seq seq;
    int32_t prompt[256], out[256];
    int n = 0, i;
    const char *p;
    if (argc < 3) {
        fprintf(stderr, "usage: generate MODEL IDS [N]   (IDS like 1,2,3)\n");
        return 2;
    }
    for (p = argv[2]; *p && n < 256; n++) { /* comma-separated ids */
        prompt[n] = (int32_t)strtol(p, (char **)&p, 10);
        if (*p == ',') p++;
    }
    if (lvs_model_open(&m, argv[1], NULL, &err) != LVS_OK) {
        fprintf(stderr, "generate: %s\n", err.message);
        return 1;
    }
    lvs_gen_opts_default(&opts);            /* greedy, stops at the model's eos ids */
    opts.max_new = argc > 3 ? atoi(argv[3]) : 16;
    memset(&seq, 0, sizeof seq);
    if (opts.max_new < 0 || opts.max_new > 256) opts.max_new = 16;
    seq.prompt = prompt;
    seq.n_prompt = n;
    seq.out = out;
    if (lvs_generate(m, &seq, 1, &opts, &err) != LVS_OK) {
        fprintf(stderr, "generate: %s\n", err.message);
        lvs_model_close(m);
        return 1;
    }
    for (i = 0; i < seq.n_out; i++) printf(i ? ",%d" : "%d", (int)out[i]);
    printf("\n");
    lvs_model_close(m);
    return 0;
}
