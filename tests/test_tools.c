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
              strstr(out, "5 new tokens (length)"));
        free(out);
        CHECK(run("%s/lvs generate '%s' --ids 1,2,x", fx, NULL, NULL) == 2);
        CHECK(run("%s/lvs generate '%s' --ids 1,2,500", fx, NULL, &out) == 1 && out && strstr(out, "vocabulary"));
        free(out);
        CHECK(run("%s/lvs generate '%s' --ids 1,2 --temp -1", fx, NULL, NULL) == 2);
        CHECK(run("%s/lvs generate '%s' --ids 1,2 --temp 0.8 --top-p 0.9 --seed 3 -n 4", fx, NULL, &out) == 0 && out);
        free(out);
        CHECK(run("%s/lvs trace '%s' --ids 1,2,3 -o x.safetensors --loss-from 3", fx, NULL, &out) == 2 && out &&
              strstr(out, "below the number of ids"));
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

/* Text prompts end to end: random-weight models whose vocabularies match real tokenizers
   (their tokenizer.json and tokenizer_config.json copied beside the weights). */
static char *run_out(const char *cmd_fmt, const char *dir, const char *arg) {
    char cmd[1600], *log = t_path("stdout.log"), *out;
    snprintf(cmd, sizeof cmd, cmd_fmt, t_build(), dir, arg ? arg : "");
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " > '%s' 2>/dev/null", log);
    out = t_run(cmd) == 0 ? t_slurp(log, NULL) : NULL;
    free(log);
    return out;
}

void test_tools_text(void) {
    static const struct { const char *tok, *arch; long vocab; const char *ids; const char *fmt; } cases[] = {
        {"llama2", "LlamaForCausalLM", 32000, "\"bos_token_id\":1,\"eos_token_id\":2", "llama2"},
        {"llama3", "LlamaForCausalLM", 128256, "\"bos_token_id\":128000,\"eos_token_id\":[128001,128009]", "llama3"},
        {"qwen3", "Qwen2ForCausalLM", 151936, "\"eos_token_id\":151645", "chatml"},
    };
    size_t k;
    if (!t_shared()) { t_skip("../shared/tokenizers not found (set LVS_SHARED): text prompts were not run"); return; }
    for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char cfg[600], name[64], cmd[1600], *dir, *out = NULL, *text, *gen_ids, *p;
        t_model m;
        lvs_tokenizer *tok = NULL;
        lvs_chat chat;
        lvs_error err;
        int32_t *ids = NULL, want[16];
        size_t n = 0, i, nw = 0, dl;
        char idl[4000], *dec = NULL;
        t_sub_begin("lvs generate -p --chat with the %s tokenizer", cases[k].tok);
        snprintf(name, sizeof name, "text-%s", cases[k].tok);
        dir = t_path(name);
        snprintf(cfg, sizeof cfg,
                 "{\"architectures\":[\"%s\"],\"hidden_size\":16,\"intermediate_size\":32,\"num_hidden_layers\":1,"
                 "\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":%ld,\"tie_word_embeddings\":true,"
                 "\"max_position_embeddings\":256,%s}",
                 cases[k].arch, cases[k].vocab, cases[k].ids);
        memset(&m, 0, sizeof m);
        m.config = cfg;
        m.dtype = LVS_BF16;
        m.scale = 0.5;
        m.seed = 3 + k;
        CHECK(t_make_model(dir, &m) == 0);
        snprintf(cmd, sizeof cmd, "cp '%s/tokenizers/%s/tokenizer.json' '%s/tokenizers/%s/tokenizer_config.json' '%s/' && rm -f '%s/generation_config.json'",
                 t_shared(), cases[k].tok, t_shared(), cases[k].tok, dir, dir);
        CHECK(t_run(cmd) == 0);
        /* the prompt the library makes: the detected chat format, one BOS */
        CHECK_OK(lvs_tokenizer_open(&tok, dir, &err), &err);
        CHECK_OK(lvs_chat_init(&chat, tok, NULL, &err), &err);
        CHECKF(strcmp(lvs_chat_format_name(chat.format), cases[k].fmt) == 0, "detected %s", lvs_chat_format_name(chat.format));
        CHECK_OK(lvs_chat_tokenize(&chat, tok, NULL, "Hello", NULL, 1, &ids, &n, &err), &err);
        for (i = 0, dl = 0; i < n && dl < sizeof idl - 16; i++) dl += (size_t)snprintf(idl + dl, sizeof idl - dl, i ? ",%d" : "%d", ids[i]);
        /* --ids with those ids gives the new ids; -p "Hello" --chat must print their text */
        gen_ids = run_out("%s/lvs generate '%s' --ids %s -n 8 --ignore-eos", dir, idl);
        text = run_out("%s/lvs generate '%s' -p %s --chat -n 8 --ignore-eos", dir, "Hello");
        CHECKF(gen_ids && text, "lvs generate failed");
        for (p = gen_ids; p && nw < 16; p++) {
            char *e;
            long id = strtol(p, &e, 10);
            if (e == p) break;
            want[nw++] = (int32_t)id;
            if (*(p = e) != ',') break;
        }
        CHECKF(nw == 8, "%d new ids", (int)nw);
        if (gen_ids && text && lvs_detokenize(tok, want, nw, 1, &dec, &dl, &err) == LVS_OK)
            CHECKF(strlen(text) == dl + 1 && memcmp(text, dec, dl) == 0 && text[dl] == '\n',
                   "streamed text \"%s\" differs from the decode of the ids \"%s\"", text, dec);
        lvs_free(dec);
        free(gen_ids);
        free(text);
        /* the prompt: same ids from the CLI's tokenize with the rendered text */
        CHECK(run("%s/lvs generate '%s' -p Hello --chat -n 3 --ignore-eos", dir, NULL, &out) == 0 && out);
        snprintf(cmd, sizeof cmd, "%d prompt tokens, 3 new tokens (length)", (int)n);
        CHECKF(out && strstr(out, cmd), "expected \"%s\" in:\n%s", cmd, out ? out : "");
        free(out);
        /* lvs chat: two messages, then the end of input */
        snprintf(cmd, sizeof cmd, "printf 'Hello\\n\\nHow are you?\\n' | %s/lvs chat '%s' -n 4 --ignore-eos > '%s/chat.log' 2>&1",
                 t_build(), dir, t_tmp());
        CHECK(t_run(cmd) == 0);
        snprintf(cmd, sizeof cmd, "%s/chat.log", t_tmp());
        out = t_slurp(cmd, NULL);
        CHECKF(out && strstr(out, "4 new tokens (length)") && strstr(strstr(out, "4 new tokens (length)") + 1, "4 new tokens"),
               "lvs chat output:\n%s", out ? out : "");
        free(out);
        /* lvs tokenize on the folder */
        out = run_out("%s/lvs tokenize '%s' --ids-only %s", dir, "'Hello world'");
        lvs_free(ids);
        CHECK_OK(lvs_tokenize(tok, "Hello world", 11, 1, &ids, &n, &err), &err);
        for (i = 0, dl = 0; i < n; i++) dl += (size_t)snprintf(idl + dl, sizeof idl - dl, i ? " %d" : "%d", ids[i]);
        CHECKF(out && strncmp(out, idl, dl) == 0 && out[dl] == '\n', "lvs tokenize: %s, library: %s", out ? out : "(failed)", idl);
        free(out);
        lvs_free(ids);
        lvs_chat_free(&chat);
        lvs_tokenizer_free(tok);
        free(dir);
        t_sub_end();
    }
    {   /* errors: no tokenizer, no chat template, options without their partner */
        char *out = NULL, *dir = t_path("text-llama2");
        CHECK(run("%s/lvs generate '%s' -p Hello", "tests/fixtures/engine/llama_gqa", NULL, &out) == 1 && out &&
              strstr(out, "no tokenizer.json"));
        free(out);
        CHECK(run("%s/lvs generate '%s' -p Hello --system Be", dir, NULL, &out) == 2);
        free(out);
        CHECK(run("%s/lvs generate '%s' -p Hello --ids 1,2", dir, NULL, &out) == 2);
        free(out);
        CHECK(run("%s/lvs generate '%s' -p Hello --template nonexistent-format", dir, NULL, &out) == 1 && out &&
              strstr(out, "nonexistent-format"));
        free(out);
        CHECK(run("%s/lvs generate '%s' -p Hello --template chatml -n 2", dir, NULL, &out) == 0);
        free(out);
        CHECK(run("%s/lvs tokenize '%s/tokenizers/gpt2/tokenizer.json' --file /nonexistent/x.txt", t_shared(), NULL, &out) == 1 &&
              out && strstr(out, "/nonexistent/x.txt"));
        free(out);
        CHECK(run("%s/lvs tokenize '%s/tokenizers/gpt2' --jsonl /dev/null", t_shared(), NULL, &out) == 0 && out && !*out);
        free(out);
        CHECK(run("%s/lvs tokenize '%s/tokenizers/gpt2' a b", t_shared(), NULL, NULL) == 2);
        CHECK(run("%s/lvs tokenize --help", NULL, NULL, &out) == 0 && out && strstr(out, "--jsonl"));
        free(out);
        CHECK(run("%s/lvs chat --help", NULL, NULL, &out) == 0 && out && strstr(out, "--system"));
        free(out);
        free(dir);
    }
}
