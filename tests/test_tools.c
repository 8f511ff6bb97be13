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
