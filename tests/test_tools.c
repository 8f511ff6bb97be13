/* The command-line tools: --help, usage errors (exit 2), bad input (exit 1, never a
   signal) on every corpus file, and a real conversion. */
#include "test.h"

static int run(const char *fmt, const char *a, const char *b, char **out) {
    char cmd[1600], *log = t_path("tool.log");
    int rc;
    snprintf(cmd, sizeof cmd, fmt, t_build(), a ? a : "", b ? b : "");
    strcat(cmd, " > '");
    strcat(cmd, log);
    strcat(cmd, "' 2>&1");
    rc = t_run(cmd);
    if (out) *out = t_slurp(log, NULL);
    free(log);
    return rc;
}

void test_tools(void) {
    char *out = NULL, *model = t_path("tool-model"), *conv = t_path("tool.safetensors");
    char *list = t_slurp("tests/corpus/bad/EXPECTED", NULL), *line, *next, *cfgdir = t_path("tool-badcfg");
    t_model m;
    int rc, n = 0;
    CHECK(run("%s/lvs-convert --help", NULL, NULL, &out) == 0 && out && strstr(out, "--dtype"));
    free(out);
    CHECK(run("%s/lvs --help", NULL, NULL, &out) == 0 && out && strstr(out, "tensors"));
    free(out);
    CHECK(run("%s/lvs tensors --help", NULL, NULL, &out) == 0 && out && strstr(out, "--meta"));
    free(out);
    CHECK(run("%s/lvs version", NULL, NULL, &out) == 0 && out && strstr(out, LVS_VERSION));
    free(out);
    CHECK(run("%s/lvs-convert", NULL, NULL, NULL) == 2);
    CHECK(run("%s/lvs-convert a b --dtype f8", NULL, NULL, NULL) == 2);
    CHECK(run("%s/lvs-convert a b --frobnicate", NULL, NULL, NULL) == 2);
    CHECK(run("%s/lvs frobnicate", NULL, NULL, NULL) == 2);
    CHECK(run("%s/lvs", NULL, NULL, NULL) == 2);
    CHECK(run("%s/lvs tensors", NULL, NULL, NULL) == 2);
    CHECK(run("%s/lvs-convert '%s' '%s'", "/nonexistent/model", "x.safetensors", &out) == 1 && out &&
          strstr(out, "/nonexistent/model"));
    free(out);
    memset(&m, 0, sizeof m);
    m.config = "{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":48,"
               "\"num_hidden_layers\":1,\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":40,"
               "\"tie_word_embeddings\":true}";
    m.dtype = LVS_BF16;
    m.scale = 0.02;
    m.extra_buffers = 1;
    m.seed = 9;
    CHECK(t_make_model(model, &m) == 0);
    rc = run("%s/lvs-convert '%s' '%s' --dtype int8", model, conv, &out);
    CHECKF(rc == 0 && out && strstr(out, "model.layers.0.self_attn.q_proj.weight") && strstr(out, "rms_rel") &&
               strstr(out, "skipped model.layers.0.self_attn.rotary_emb.inv_freq") && strstr(out, "BF16 -> int8"),
           "lvs-convert: status %d, output:\n%s", rc, out ? out : "");
    free(out);
    CHECK(run("%s/lvs tensors '%s' --meta", conv, NULL, &out) == 0 && out &&
          strstr(out, "model.layers.0.self_attn.q_proj.weight.scale") && strstr(out, "meta lvs.dtype = \"int8\""));
    free(out);
    CHECK(run("%s/st_dump '%s'", conv, NULL, &out) == 0 && out && strstr(out, "model.norm.weight\tF32\t[32]"));
    free(out);
    CHECK(run("%s/lvs-convert -q '%s' '%s' --dtype=f32", model, conv, &out) == 0 && out && out[0] == 0);
    free(out);
    CHECK(run("%s/lvs tensors '%s'", model, NULL, NULL) == 0);
    /* the engine commands on a fixture model */
    {
        const char *fx = "tests/fixtures/engine/llama_gqa";
        char *tr = t_path("trace.safetensors");
        lvs_safetensors a, b;
        lvs_error err;
        CHECK(run("%s/lvs info '%s'", fx, NULL, &out) == 0 && out && strstr(out, "LlamaForCausalLM") &&
              strstr(out, "4 (2 key/value heads, head_dim 8)") && strstr(out, "16 x f32"));
        free(out);
        CHECK(run("%s/lvs info '%s' --dtype int8", fx, NULL, &out) == 0 && out && strstr(out, "16 x int8"));
        free(out);
        CHECK(run("%s/lvs info", NULL, NULL, NULL) == 2);
        CHECK(run("%s/lvs info '%s'", "tests/corpus/bad/st_gap.safetensors", NULL, &out) == 1 && out &&
              strstr(out, "LVS_ERR_ST_OFFSETS"));
        free(out);
        CHECK(run("%s/lvs generate '%s' --ids 81,14,3,94 -n 5 --ignore-eos", fx, NULL, &out) == 0 && out &&
              strstr(out, "5 tokens (length)"));
        free(out);
        CHECK(run("%s/lvs generate '%s' --ids 1,2,x", fx, NULL, NULL) == 2);
        CHECK(run("%s/lvs generate '%s' --ids 1,2,500", fx, NULL, &out) == 1 && out && strstr(out, "vocabulary"));
        free(out);
        CHECK(run("%s/lvs generate '%s' --ids 1,2 --temp -1", fx, NULL, NULL) == 2);
        CHECK(run("%s/lvs generate '%s' --ids 1,2 --temp 0.8 --top-p 0.9 --seed 3 -n 4", fx, NULL, &out) == 0 && out);
        free(out);
        CHECK(run("%s/lvs trace '%s' --ids 1,2,3 -o x.safetensors --loss-from 1", fx, NULL, &out) == 2 && out &&
              strstr(out, "backward"));
        free(out);
        /* lvs trace writes what lvs_forward computes: compare it with the goldens */
        CHECK_OK(lvs_st_open(&a, "tests/fixtures/engine/llama_gqa/golden.safetensors", &err), &err);
        {
            const lvs_st_tensor *ids = lvs_st_find(&a, "ids");
            char idl[400];
            size_t il = 0;
            int64_t k;
            for (k = 0; k < ids->numel; k++) il += (size_t)snprintf(idl + il, sizeof idl - il, k ? ",%d" : "%d", ((const int32_t *)ids->data)[k]);
            CHECK(run("%s/lvs trace '%s' --ids %s", fx, idl, NULL) == 2); /* no -o */
            {
                char cmd[1400];
                snprintf(cmd, sizeof cmd, "%s/lvs trace '%s' --ids %s -o '%s' 2>/dev/null", t_build(), fx, idl, tr);
                CHECK(t_run(cmd) == 0);
            }
        }
        CHECK_OK(lvs_st_open(&b, tr, &err), &err);
        {
            static const char *names[] = {"logits", "embed", "blocks.0.resid_pre", "blocks.0.attn_out",
                                          "blocks.0.resid_mid", "blocks.0.mlp_out", "blocks.1.resid_post"};
            size_t k;
            for (k = 0; k < sizeof names / sizeof names[0]; k++) {
                const lvs_st_tensor *x = lvs_st_find(&a, names[k]), *y = lvs_st_find(&b, names[k]);
                double num = 0, den = 0;
                int64_t j;
                CHECKF(x && y && x->numel == y->numel, "trace lacks %s", names[k]);
                for (j = 0; x && y && j < x->numel; j++) {
                    double e = fabs((double)((const float *)x->data)[j] - ((const float *)y->data)[j]);
                    num = e > num ? e : num;
                    den = fabs(((const float *)x->data)[j]) > den ? fabs(((const float *)x->data)[j]) : den;
                }
                CHECKF(num <= 1e-4 * den, "trace %s differs from the golden by %g", names[k], num / den);
            }
        }
        lvs_st_close(&a);
        lvs_st_close(&b);
        free(tr);
    }
    /* every bad corpus file: exit status 1 from each tool that reads it */
    for (line = list; line && *line; line = next) {
        char file[200], st[64], path[300], cmd[900];
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        if (line[0] == '#' || sscanf(line, "%199s %63s", file, st) != 2) continue;
        snprintf(path, sizeof path, "tests/corpus/bad/%s", file);
        t_sub_begin("tools on %s", file);
        if (strstr(file, ".safetensors")) {
            rc = run("%s/lvs tensors '%s'", path, NULL, &out);
            CHECKF(rc == 1 && out && strstr(out, st), "lvs tensors: exit %d, output %s", rc, out ? out : "");
            free(out);
            rc = run("%s/st_dump '%s'", path, NULL, NULL);
            CHECKF(rc == 1, "st_dump: exit %d", rc);
            rc = run("%s/lvs-convert '%s' '%s'", path, conv, NULL);
            CHECKF(rc == 1, "lvs-convert: exit %d", rc);
        } else { /* as the config.json of an otherwise valid model */
            snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -r '%s' '%s' && cp '%s' '%s/config.json'", cfgdir, model, cfgdir,
                     path, cfgdir);
            CHECK(t_run(cmd) == 0);
            rc = run("%s/lvs-convert '%s' '%s'", cfgdir, conv, &out);
            CHECKF(rc == 1 && out && strstr(out, st), "lvs-convert: exit %d, output %s", rc, out ? out : "");
            free(out);
        }
        t_sub_end();
        n++;
    }
    CHECK(n >= 25);
    free(list);
    free(model);
    free(conv);
    free(cfgdir);
}
