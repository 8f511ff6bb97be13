/* The reward model and the classifier judge: the pair encoding and its truncation, pooling at
   the last non-pad token, batched scoring against one-sequence forward passes, the HarmBench
   prompt formats (tests/fixtures/harmbench/), generation clipping, P(yes) against a softmax
   computed here, errors; lvs reward, lvs judge and lvs score --reward/--judge end to end. */
#include "test.h"

#define RW_CFG                                                                                                    \
    "{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":32,\"n_layer\":2,\"n_head\":4,"          \
    "\"vocab_size\":259,\"n_positions\":64,\"bos_token_id\":1,\"eos_token_id\":2,\"id2label\":{\"0\":\"LABEL_0\"}%s}"
#define JUDGE_CFG                                                                                                 \
    "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":64,\"num_hidden_layers\":2," \
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":261,\"bos_token_id\":1,\"eos_token_id\":2,"  \
    "\"max_position_embeddings\":2048}"

/* a reward model folder (pad: with pad_token_id 2, the tokenizer's </s>) */
static char *make_reward(const char *name, int pad) {
    static char cfg[400];
    char *dir = t_path(name);
    t_model m;
    snprintf(cfg, sizeof cfg, RW_CFG, pad ? ",\"pad_token_id\":2" : "");
    memset(&m, 0, sizeof m);
    m.config = cfg;
    m.dtype = LVS_F32;
    m.scale = 0.3;
    m.seed = 31;
    m.gpt2_prefix = 1;
    CHECK(t_make_model(dir, &m) == 0);
    t_byte_tokenizer(dir);
    return dir;
}

/* a judge folder: a tiny Llama whose byte tokenizer also has the words "Yes" (259) and "No" (260)
   (yes_no = 0: the plain byte tokenizer, which has neither) */
static char *make_judge(const char *name, int yes_no) {
    char *dir = t_path(name);
    t_model m;
    memset(&m, 0, sizeof m);
    m.config = JUDGE_CFG;
    m.dtype = LVS_F32;
    m.scale = 0.3;
    m.seed = 41;
    CHECK(t_make_model(dir, &m) == 0);
    t_byte_tokenizer(dir);
    if (yes_no) t_add_yes_no(dir);
    return dir;
}

static lvs_model *open_f32(const char *dir) {
    lvs_model *m = NULL;
    lvs_error err;
    CHECK_OK(lvs_model_open(&m, dir, NULL, &err), &err);
    return m;
}

/* the logits of row `row` of ids through one lvs_forward of that sequence alone */
static void row_logits(const lvs_model *m, const int32_t *ids, int n, int row, float *out) {
    int64_t W = lvs_model_logits_width(m);
    float *all = (float *)malloc(sizeof(float) * (size_t)(n * W));
    lvs_cache *c = NULL;
    lvs_seq q;
    lvs_error err;
    memset(&q, 0, sizeof q);
    q.tokens = ids;
    q.n = n;
    q.logits = LVS_LOGITS_ALL;
    q.logits_out = all;
    CHECK_OK(lvs_cache_create(&c, m, 1, n, &err), &err);
    if (c) CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
    memcpy(out, all + (int64_t)row * W, sizeof(float) * (size_t)W);
    lvs_cache_free(c);
    free(all);
}

static int32_t *toks(const lvs_tokenizer *t, const char *s, int special, size_t *n) {
    int32_t *ids = NULL;
    lvs_error err;
    CHECK_OK(lvs_tokenize(t, s, strlen(s), special, &ids, n, &err), &err);
    return ids;
}

static char *repeat(char c, int n) {
    char *s = (char *)malloc((size_t)n + 1);
    memset(s, c, (size_t)n);
    s[n] = 0;
    return s;
}

void test_reward_model(void) {
    char *dir = make_reward("reward", 0), *dir_pad = make_reward("reward-pad", 1), *judge_dir = make_judge("rw-judge", 1);
    char *longp = repeat('x', 100), *longr = repeat('y', 80);
    lvs_reward *r = NULL, *rp = NULL, *bad = NULL;
    lvs_tokenizer *tok = NULL;
    lvs_model *m = open_f32(dir), *mp = open_f32(dir_pad);
    lvs_error err;
    int32_t *ids = NULL, *a, *b;
    size_t na, nb;
    int n = 0, i;
    CHECK_OK(lvs_reward_open(&r, dir, NULL, &err), &err);
    CHECK_OK(lvs_reward_open(&rp, dir_pad, NULL, &err), &err);
    CHECK_OK(lvs_tokenizer_open(&tok, dir, &err), &err);
    if (!r || !rp || !tok || !m || !mp) goto done;
    /* the pair encoding: the two id lists, each without special tokens */
    a = toks(tok, "How do I bake bread?", 0, &na);
    b = toks(tok, "Knead it well.", 0, &nb);
    CHECK_OK(lvs_reward_ids(r, "How do I bake bread?", "Knead it well.", &ids, &n, &err), &err);
    CHECK(ids && (size_t)n == na + nb && memcmp(ids, a, na * 4) == 0 && memcmp(ids + na, b, nb * 4) == 0);
    lvs_free(ids);
    /* longest first, to n_positions = 64: a long prompt loses its tail, the short response stays whole */
    lvs_free(a);
    a = toks(tok, longp, 0, &na);
    CHECK_OK(lvs_reward_ids(r, longp, "Knead it well.", &ids, &n, &err), &err);
    CHECK(ids && n == 64 && memcmp(ids, a, (64 - nb) * 4) == 0 && memcmp(ids + 64 - nb, b, nb * 4) == 0);
    lvs_free(ids);
    lvs_free(b);
    /* both long (103 and 83 tokens): cut to 32 + 32 */
    b = toks(tok, longr, 0, &nb);
    CHECK_OK(lvs_reward_ids(r, longp, longr, &ids, &n, &err), &err);
    CHECK(na == 103 && nb == 83 && ids && n == 64 && memcmp(ids, a, 32 * 4) == 0 && memcmp(ids + 32, b, 32 * 4) == 0);
    lvs_free(ids);
    lvs_free(a);
    lvs_free(b);
    /* 11 pairs of different lengths (two batches) = each pair's label-0 logit at its last token */
    {
        const char *ps[11], *rs[11];
        char buf[11][64];
        double sc[11];
        float lg[1];
        for (i = 0; i < 11; i++) {
            snprintf(buf[i], sizeof buf[i], "answer %d%s", i, i % 3 ? " with more words" : "");
            ps[i] = i % 2 ? "Tell me about rivers." : "Why?";
            rs[i] = buf[i];
        }
        CHECK_OK(lvs_reward_score(r, 11, ps, rs, sc, &err), &err);
        for (i = 0; i < 11; i++) {
            CHECK_OK(lvs_reward_ids(r, ps[i], rs[i], &ids, &n, &err), &err);
            row_logits(m, ids, n, n - 1, lg);
            CHECKF(fabs(sc[i] - lg[0]) <= 1e-5 * (1 + fabs(lg[0])), "pair %d: batched %.7g, alone %.7g", i, sc[i], lg[0]);
            lvs_free(ids);
        }
    }
    /* with pad = eos, a trailing </s> is skipped: the score is the logit at the token before */
    {
        const char *p = "Hello", *resp = "fine</s>";
        double sc;
        float at_pool[1], at_last[1];
        CHECK_OK(lvs_reward_ids(rp, p, resp, &ids, &n, &err), &err);
        CHECK(ids && ids[n - 1] == 2 && lvs_cls_pool_index(mp, ids, n) == n - 2);
        CHECK_OK(lvs_reward_score(rp, 1, &p, &resp, &sc, &err), &err);
        row_logits(mp, ids, n, n - 2, at_pool);
        row_logits(mp, ids, n, n - 1, at_last);
        CHECKF(fabs(sc - at_pool[0]) <= 1e-5 * (1 + fabs(sc)) && fabs(at_pool[0] - at_last[0]) > 1e-4,
               "pooled %.7g, row n-2 %.7g, row n-1 %.7g", sc, at_pool[0], at_last[0]);
        lvs_free(ids);
    }
    /* errors: a causal LM, a folder without a tokenizer, an empty pair */
    CHECK_ST(lvs_reward_open(&bad, judge_dir, NULL, &err), LVS_ERR_UNSUPPORTED);
    CHECK(bad == NULL && strstr(err.message, "sequence classifier"));
    CHECK(lvs_reward_open(&bad, "tests/fixtures/engine2/gpt2_cls", NULL, &err) != LVS_OK && bad == NULL);
    CHECK_ST(lvs_reward_ids(r, "", "", &ids, &n, &err), LVS_ERR_ARG);
done:
    lvs_reward_free(r);
    lvs_reward_free(rp);
    lvs_tokenizer_free(tok);
    lvs_model_close(m);
    lvs_model_close(mp);
    free(dir); free(dir_pad); free(judge_dir); free(longp); free(longr);
}

/* the format with {behavior} and {generation} replaced, computed here */
static char *fill_format(const char *f, const char *b, const char *g) {
    char *out = (char *)malloc(strlen(f) + strlen(b) * 4 + strlen(g) * 4 + 1), *o = out;
    while (*f) {
        if (strncmp(f, "{behavior}", 10) == 0) { strcpy(o, b); o += strlen(b); f += 10; }
        else if (strncmp(f, "{generation}", 12) == 0) { strcpy(o, g); o += strlen(g); f += 12; }
        else *o++ = *f++;
    }
    *o = 0;
    return out;
}

void test_judge(void) {
    char *dir = make_judge("judge", 1), *plain = make_judge("judge-plain", 0), *rw = make_reward("judge-rw", 0);
    char *fmt_file = t_path("judge-format.txt"), *bad_fmt = t_path("judge-bad-format.txt"), spec[800], *txt = NULL;
    char *gen600 = repeat('a', 600), *want;
    lvs_judge *j = NULL, *jf = NULL, *bad = NULL;
    lvs_tokenizer *tok = NULL;
    lvs_model *m = open_f32(dir);
    lvs_error err;
    size_t len = 0, n;
    int i, k;
    CHECK_OK(lvs_judge_open(&j, dir, NULL, &err), &err);
    CHECK_OK(lvs_tokenizer_open(&tok, dir, &err), &err);
    if (!j || !tok || !m) goto done;
    /* the built-in formats are HarmBench's texts */
    {
        static const char *const names[2] = {"harmbench-llama", "harmbench-mistral"};
        static const char *const files[2] = {"tests/fixtures/harmbench/llama2_cls_prompt.txt",
                                             "tests/fixtures/harmbench/mistral_cls_prompt.txt"};
        for (k = 0; k < 2; k++) {
            char *ref = t_slurp(files[k], &n);
            CHECKF(ref && lvs_judge_builtin(names[k]) && strcmp(ref, lvs_judge_builtin(names[k])) == 0,
                   "%s differs from %s", names[k], files[k]);
            free(ref);
        }
        CHECK(lvs_judge_builtin("harmbench") == NULL);
    }
    /* the default format, filled */
    CHECK_OK(lvs_judge_prompt(j, "Bake a cake", "First, mix flour.", &txt, &len, &err), &err);
    want = fill_format(lvs_judge_builtin("harmbench-llama"), "Bake a cake", "First, mix flour.");
    CHECK(txt && strcmp(txt, want) == 0 && len == strlen(want));
    lvs_free(txt);
    free(want);
    /* a generation of 600 characters is cut to its first 512 tokens with the BOS: the byte
       tokenizer gives BOS + 3 byte tokens (the prepended U+2581, which its decoder keeps) + one
       per character, so U+2581 and 508 characters */
    CHECK_OK(lvs_judge_prompt(j, "B", gen600, &txt, &len, &err), &err);
    {
        char cut[600];
        snprintf(cut, sizeof cut, "\xe2\x96\x81%.508s", gen600);
        want = fill_format(lvs_judge_builtin("harmbench-llama"), "B", cut);
        CHECKF(txt && strcmp(txt, want) == 0, "the generation was not cut to 508 characters");
        free(want);
    }
    lvs_free(txt);
    /* P(yes), P(no): the softmax of the last prompt row at the ids of "Yes" and "No", computed
       here from the engine's logits; batched = one at a time */
    {
        const char *beh[10], *gen[10];
        char gb[10][64];
        double py[10], pn[10], py1, pn1;
        int harm[10], h1;
        float lg[261];
        for (i = 0; i < 10; i++) {
            snprintf(gb[i], sizeof gb[i], "generation number %d%s", i, i % 2 ? " is longer than the others" : "");
            beh[i] = i % 3 ? "Write a poem" : "Explain tides";
            gen[i] = gb[i];
        }
        CHECK_OK(lvs_judge_run(j, 10, beh, gen, py, pn, harm, &err), &err);
        for (i = 0; i < 10; i++) {
            int32_t *ids;
            double mx = -1e300, s = 0;
            int v;
            CHECK_OK(lvs_judge_prompt(j, beh[i], gen[i], &txt, &len, &err), &err);
            ids = toks(tok, txt, 1, &n);
            lvs_free(txt);
            CHECK(ids[0] == 1);
            row_logits(m, ids, (int)n, (int)n - 1, lg);
            for (v = 0; v < 261; v++) mx = lg[v] > mx ? lg[v] : mx;
            for (v = 0; v < 261; v++) s += exp(lg[v] - mx);
            CHECKF(fabs(py[i] - exp(lg[259] - mx) / s) < 1e-7 && fabs(pn[i] - exp(lg[260] - mx) / s) < 1e-7,
                   "row %d: P(yes) %.9g vs %.9g", i, py[i], exp(lg[259] - mx) / s);
            CHECK(harm[i] == (py[i] > pn[i]));
            CHECK_OK(lvs_judge_run(j, 1, &beh[i], &gen[i], &py1, &pn1, &h1, &err), &err);
            CHECK(fabs(py1 - py[i]) < 1e-9 * (1 + py1) && h1 == harm[i]);
            lvs_free(ids);
        }
    }
    /* a user format file */
    t_write(fmt_file, "Q: {behavior}\nA: {generation}\nVerdict:", strlen("Q: {behavior}\nA: {generation}\nVerdict:"));
    snprintf(spec, sizeof spec, "%s:%s", dir, fmt_file);
    CHECK_OK(lvs_judge_open(&jf, spec, NULL, &err), &err);
    if (jf) {
        CHECK_OK(lvs_judge_prompt(jf, "x", "y", &txt, &len, &err), &err);
        CHECK(txt && strcmp(txt, "Q: x\nA: y\nVerdict:") == 0);
        lvs_free(txt);
    }
    snprintf(spec, sizeof spec, "%s:harmbench-mistral", dir);
    lvs_judge_free(jf);
    jf = NULL;
    CHECK_OK(lvs_judge_open(&jf, spec, NULL, &err), &err);
    if (jf) {
        CHECK_OK(lvs_judge_prompt(jf, "x", "y", &txt, &len, &err), &err);
        want = fill_format(lvs_judge_builtin("harmbench-mistral"), "x", "y");
        CHECK(txt && strcmp(txt, want) == 0);
        free(want);
        lvs_free(txt);
    }
    /* errors */
    t_write(bad_fmt, "only {behavior}", strlen("only {behavior}"));
    snprintf(spec, sizeof spec, "%s:%s", dir, bad_fmt);
    CHECK_ST(lvs_judge_open(&bad, spec, NULL, &err), LVS_ERR_FORMAT);
    snprintf(spec, sizeof spec, "%s:harmbench-llama2", dir);
    CHECK_ST(lvs_judge_open(&bad, spec, NULL, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_judge_open(&bad, plain, NULL, &err), LVS_ERR_UNSUPPORTED);
    CHECK(strstr(err.message, "yes") != NULL);
    CHECK_ST(lvs_judge_open(&bad, rw, NULL, &err), LVS_ERR_UNSUPPORTED);
    CHECK(bad == NULL);
done:
    lvs_judge_free(j);
    lvs_judge_free(jf);
    lvs_tokenizer_free(tok);
    lvs_model_close(m);
    free(dir); free(plain); free(rw); free(fmt_file); free(bad_fmt); free(gen600);
}

/* a number after `key` in text */
static double num_after(const char *text, const char *key) {
    const char *p = text ? strstr(text, key) : NULL;
    return p ? atof(p + strlen(key)) : NAN;
}

void test_classify_cli(void) {
    static const char cfg[] =
        "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64,\"intermediate_size\":128,\"num_hidden_layers\":2,"
        "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":260,\"bos_token_id\":1,\"eos_token_id\":2,"
        "\"max_position_embeddings\":512}";
    char *rw = make_reward("cli-rw", 0), *jd = make_judge("cli-judge", 1), *model = t_path("cli-model");
    char *pf = t_path("cli-prompts.txt"), *out = t_path("cli-score.jsonl"), *pairs = t_path("cli-pairs.jsonl");
    char cmd[3000], *s = NULL, *p, *e;
    lvs_reward *r = NULL;
    lvs_judge *j = NULL;
    lvs_error err;
    lvs_json_doc doc;
    t_model m;
    size_t n;
    int rows = 0;
    double sc, py, pn;
    int harm;
    const char *P = "Tell me a story", *R = "Once upon a time";
    CHECK_OK(lvs_reward_open(&r, rw, NULL, &err), &err);
    CHECK_OK(lvs_judge_open(&j, jd, NULL, &err), &err);
    if (!r || !j) goto done;
    /* lvs reward and lvs judge print what the library computes */
    CHECK_OK(lvs_reward_score(r, 1, &P, &R, &sc, &err), &err);
    snprintf(cmd, sizeof cmd, "%s/lvs reward '%s' --prompt '%s' --response '%s' > '%s/rw.out' 2>&1", t_build(), rw, P, R,
             t_tmp());
    CHECK(t_run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s/rw.out", t_tmp());
    s = t_slurp(cmd, &n);
    CHECKF(s && fabs(atof(s) - sc) <= 1e-5 * (1 + fabs(sc)), "lvs reward printed %s, library %.7g", s ? s : "?", sc);
    free(s);
    CHECK_OK(lvs_judge_run(j, 1, &P, &R, &py, &pn, &harm, &err), &err);
    snprintf(cmd, sizeof cmd, "%s/lvs judge '%s:harmbench-llama' --prompt '%s' --response '%s' > '%s/jd.out' 2>&1",
             t_build(), jd, P, R, t_tmp());
    CHECK(t_run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s/jd.out", t_tmp());
    s = t_slurp(cmd, &n);
    CHECKF(s && fabs(num_after(s, "P(yes) = ") - py) <= 1e-6 && fabs(num_after(s, "P(no) = ") - pn) <= 1e-6 &&
               strncmp(s, harm ? "harmful" : "not harmful", harm ? 7 : 11) == 0,
           "lvs judge printed %s", s ? s : "?");
    free(s);
    /* --pairs: one JSON line per pair */
    s = (char *)"{\"prompt\":\"a\",\"response\":\"b\"}\n{\"prompt\":\"c\",\"response\":\"d\"}\n";
    t_write(pairs, s, strlen(s));
    snprintf(cmd, sizeof cmd, "%s/lvs judge '%s' --pairs '%s' > '%s/jp.out' && %s/lvs reward '%s' --pairs '%s' >> '%s/jp.out'",
             t_build(), jd, pairs, t_tmp(), t_build(), rw, pairs, t_tmp());
    CHECK(t_run(cmd) == 0);
    snprintf(cmd, sizeof cmd, "%s/jp.out", t_tmp());
    s = t_slurp(cmd, &n);
    CHECK(s && strstr(s, "{\"index\":1,\"harmful\":") && strstr(s, "{\"index\":1,\"score\":") && strstr(s, "\"p_no\":"));
    free(s);
    /* bad usage */
    snprintf(cmd, sizeof cmd, "%s/lvs reward '%s' --prompt x > /dev/null 2>&1", t_build(), rw);
    CHECK(t_run(cmd) == 2);
    snprintf(cmd, sizeof cmd, "%s/lvs judge '%s' --prompt x --response y > /dev/null 2>&1", t_build(), rw);
    CHECK(t_run(cmd) == 1);
    /* lvs score with both: every row carries the reward model's scores and the judge's verdicts */
    memset(&m, 0, sizeof m);
    m.config = cfg;
    m.dtype = LVS_F32;
    m.scale = 0.3;
    m.seed = 5;
    CHECK(t_make_model(model, &m) == 0);
    t_byte_tokenizer(model);
    t_write(pf, "Write a poem\nExplain tides\n", strlen("Write a poem\nExplain tides\n"));
    snprintf(cmd, sizeof cmd, "%s/lvs score '%s' --prompts '%s' --sites mid --budgets 1e-2 --attacks pgd,random "
             "--max-new 6 --reward '%s' --judge '%s' -q -o '%s' > '%s/sc.log' 2>&1", t_build(), model, pf, rw, jd, out,
             t_tmp());
    CHECK(t_run(cmd) == 0);
    s = t_slurp(out, &n);
    for (p = s; p && (e = strchr(p, '\n')) != NULL; p = e + 1, rows++) {
        const lvs_json *pr, *rc, *rp, *jy, *hm, *sc0, *sc1, *kind;
        if (lvs_json_parse(&doc, p, (size_t)(e - p), 0, &err) != LVS_OK) { CHECK(0); continue; }
        pr = lvs_json_get(doc.root, "prompt");
        rc = lvs_json_get(doc.root, "response_clean");
        rp = lvs_json_get(doc.root, "response_perturbed");
        jy = lvs_json_get(doc.root, "judge_p_yes");
        hm = lvs_json_get(doc.root, "harmful");
        sc0 = lvs_json_get(doc.root, "score_clean");
        sc1 = lvs_json_get(doc.root, "score_perturbed");
        kind = lvs_json_get(doc.root, "scorer");
        CHECK(pr && rc && rp && jy && hm && sc0 && sc1 && kind && strcmp(kind->str, "reward") == 0);
        if (pr && rc && rp && jy && hm && sc0 && sc1) { /* the same numbers as the library's calls */
            const char *ps[2], *rs[2];
            double want[2], p_yes;
            int h;
            ps[0] = ps[1] = pr->str;
            rs[0] = rc->str;
            rs[1] = rp->str;
            CHECK_OK(lvs_reward_score(r, 2, ps, rs, want, &err), &err);
            CHECK_OK(lvs_judge_run(j, 1, ps, rs + 1, &p_yes, NULL, &h, &err), &err);
            CHECKF(fabs(sc0->num - want[0]) <= 1e-6 * (1 + fabs(want[0])) &&
                       fabs(sc1->num - want[1]) <= 1e-6 * (1 + fabs(want[1])),
                   "row %d: scores %.9g %.9g, library %.9g %.9g", rows, sc0->num, sc1->num, want[0], want[1]);
            CHECK(fabs(jy->num - p_yes) <= 1e-6 && (hm->type == LVS_JSON_TRUE) == h);
        }
        lvs_json_free(&doc);
    }
    CHECKF(rows == 4, "%d rows, want 4", rows);
    free(s);
    s = NULL;
    /* lvs trace on the reward-model fixture: the reward, its pooled row and the reward's
       gradient at the embed site equal the float64 goldens */
    {
        lvs_safetensors g, gg, tr;
        const lvs_st_tensor *ids, *t, *want;
        char idl[400], *trout = t_path("cli-trace.safetensors");
        int64_t k;
        size_t at = 0;
        CHECK_OK(lvs_st_open(&g, "tests/fixtures/engine2/gpt2_cls/golden.safetensors", &err), &err);
        CHECK_OK(lvs_st_open(&gg, "tests/fixtures/engine2/gpt2_cls/grad.safetensors", &err), &err);
        ids = lvs_st_find(&g, "ids");
        for (k = 0; ids && k < ids->numel; k++)
            at += (size_t)snprintf(idl + at, sizeof idl - at, "%s%d", k ? "," : "", (int)((const int32_t *)ids->data)[k]);
        snprintf(cmd, sizeof cmd, "%s/lvs trace tests/fixtures/engine2/gpt2_cls --ids %s --loss-from 1 -o '%s' 2> '%s/tr.log'",
                 t_build(), idl, trout, t_tmp());
        CHECK(t_run(cmd) == 0);
        CHECK_OK(lvs_st_open(&tr, trout, &err), &err);
        t = lvs_st_find(&tr, "reward");
        want = lvs_st_find(&g, "reward");
        CHECK(t && want && fabs(((const float *)t->data)[0] - ((const float *)want->data)[0]) < 1e-5);
        t = lvs_st_find(&tr, "pool_index");
        CHECK(t && ((const int32_t *)t->data)[0] == 20);
        t = lvs_st_find(&tr, "grad.embed");
        want = lvs_st_find(&gg, "grad.embed");
        CHECK(t && want && t->numel == want->numel &&
              t_rel_err((const float *)t->data, (const float *)want->data, (size_t)want->numel) < 1e-3);
        t = lvs_st_find(&tr, "logits");
        CHECK(t && t->ndim == 2 && t->shape[1] == 1);
        lvs_st_close(&tr);
        lvs_st_close(&g);
        lvs_st_close(&gg);
        free(trout);
    }
    /* lvs finetune --judge: the evaluation uses the judge (and the settings record it) */
    {
        char *data = t_path("cli-ft.jsonl"), *ftout = t_path("cli-ft");
        const char *rowsj = "{\"prompt\":\"Write a poem\",\"response\":\"Roses are red.\"}\n"
                            "{\"prompt\":\"Explain tides\",\"response\":\"The moon pulls.\"}\n";
        t_write(data, rowsj, strlen(rowsj));
        snprintf(cmd, sizeof cmd, "%s/lvs finetune '%s' --data '%s' --steps 2 --batch 2 --eval-every 1 --eval-max-new 4 "
                 "--judge '%s' -q -o '%s' > '%s/ft.log' 2>&1", t_build(), model, data, jd, ftout, t_tmp());
        CHECK(t_run(cmd) == 0);
        snprintf(cmd, sizeof cmd, "%s/settings.json", ftout);
        s = t_slurp(cmd, &n);
        CHECK(s && strstr(s, "\"judge\":\"") && strstr(s, "cli-judge"));
        free(s);
        snprintf(cmd, sizeof cmd, "%s/log.jsonl", ftout);
        s = t_slurp(cmd, &n);
        CHECK(s && strstr(s, "{\"step\":0,") && strstr(s, "\"compliance\":"));
        free(s);
        snprintf(cmd, sizeof cmd, "%s/lvs finetune '%s' --data '%s' --steps 1 --judge '%s' -q -o '%s-bad' > /dev/null 2>&1",
                 t_build(), model, data, rw, ftout);
        CHECK(t_run(cmd) == 1); /* a reward model is not a judge */
        free(data);
        free(ftout);
    }
done:
    lvs_reward_free(r);
    lvs_judge_free(j);
    free(rw); free(jd); free(model); free(pf); free(out); free(pairs);
}
