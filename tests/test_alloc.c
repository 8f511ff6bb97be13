/* LVS_STATIC and the allocator macros: a private copy of the library whose every allocation
   is counted; parsing, opening, writing, converting, tokenizing, chat rendering, gradients,
   attacks, statistics, prompt lists, loading a model and generating (successes and failures)
   must give back everything they take, and an
   allocator that fails must give LVS_ERR_NOMEM, never a crash. */
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
static long a_live, a_calls, a_fail_at = -1;
static void *a_malloc(size_t n) {
    void *p;
    if (a_fail_at >= 0 && a_calls++ == a_fail_at) return NULL;
    a_live++;
    p = malloc(n);
    if (p) memset(p, 0xbe, n); /* garbage, so that a read of uninitialized memory shows in any build */
    return p;
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

static const char *g_rw, *g_jd; /* the reward model and judge folders */
static const char cfg[] = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":40,"
                          "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":50}";

/* a tokenizer with one component of each kind, a chat template, and some text through it */
static lvs_status text_workload(void) {
    static const char tj[] =
        "{\"model\":{\"type\":\"BPE\",\"byte_fallback\":true,\"vocab\":{\"\\u2581\":0,\"a\":1,\"b\":2,\"\\u2581a\":3,"
        "\"<0xC3>\":4,\"<0xA9>\":5,\"<s>\":6,\"</s>\":7},\"merges\":[\"\\u2581 a\",[\"a\",\"b\"]]},"
        "\"added_tokens\":[{\"id\":6,\"content\":\"<s>\",\"special\":true},{\"id\":7,\"content\":\"</s>\",\"special\":true},"
        "{\"id\":8,\"content\":\"ab\",\"special\":false,\"normalized\":true}],"
        "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Replace\",\"pattern\":"
        "{\"String\":\" \"},\"content\":\"\\u2581\"}]},\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"\\u2581\","
        "\"prepend_scheme\":\"first\",\"split\":true},\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":"
        "[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
        "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[6]}}},\"decoder\":{\"type\":\"Sequence\",\"decoders\":"
        "[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},"
        "{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}}";
    static const char tc[] = "{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"chat_template\":\"<<SYS>> [INST]\"}";
    static const char text[] = "a ab e\xcc\x81 <s>b \xc3\xa9 aab";
    lvs_tokenizer *t;
    lvs_chat ch;
    lvs_detok_stream ds;
    lvs_error err;
    lvs_status s;
    int32_t *ids;
    size_t n, len, i;
    char *str;
    if ((s = lvs_tokenizer_load(&t, tj, sizeof tj - 1, tc, sizeof tc - 1, &err)) != LVS_OK) return s;
    if ((s = lvs_tokenize(t, text, sizeof text - 1, 1, &ids, &n, &err)) != LVS_OK) { lvs_tokenizer_free(t); return s; }
    if ((s = lvs_detokenize(t, ids, n, 1, &str, &len, &err)) == LVS_OK) lvs_free(str);
    lvs_detok_stream_init(&ds, t, 0);
    for (i = 0; s == LVS_OK && i < n; i++)
        if ((s = lvs_detok_stream_push(&ds, ids[i], &str, &len, &err)) == LVS_OK) lvs_free(str);
    lvs_detok_stream_free(&ds);
    lvs_free(ids);
    if (s == LVS_OK && (s = lvs_chat_init(&ch, t, NULL, &err)) == LVS_OK) {
        if ((s = lvs_chat_tokenize(&ch, t, "sys", "ab", NULL, 1, &ids, &n, &err)) == LVS_OK) lvs_free(ids);
        lvs_chat_free(&ch);
    }
    lvs_tokenizer_free(t);
    return s;
}

/* a model loaded with int8 matrices, one generation with a capture hook */
static lvs_status engine_workload(const char *model) {
    lvs_model *m;
    lvs_model_opts o;
    lvs_gen_opts g;
    lvs_gen_seq q;
    lvs_error err;
    lvs_status s;
    int32_t prompt[3] = {1, 7, 9}, out[4];
    float buf[8 * 32];
    lvs_act_buf ab = {buf, 8, 32, NULL};
    lvs_hook h = {LVS_SITE_RESID_POST, 0, lvs_hook_capture, &ab};
    lvs_model_opts_default(&o);
    o.dtype = LVS_W_INT8;
    if ((s = lvs_model_open(&m, model, &o, &err)) != LVS_OK) return s;
    lvs_gen_opts_default(&g);
    g.max_new = 4;
    g.ignore_eos = 1;
    g.sampling.temperature = 0.7f;
    g.sampling.top_p = 0.9f;
    memset(&q, 0, sizeof q);
    q.prompt = prompt;
    q.n_prompt = 3;
    q.out = out;
    q.hooks = &h;
    q.n_hooks = 1;
    s = lvs_generate(m, &q, 1, &g, &err);
    lvs_model_close(m);
    return s;
}

/* gradients (weights and sites, recomputing), both attack kinds, statistics, a prompt list */
static lvs_status grad_workload(const char *model, const char *csv) {
    lvs_model *m;
    lvs_model_opts o;
    lvs_tape *t = NULL;
    lvs_wgrads *wg = NULL;
    lvs_backward_req r;
    lvs_attack_req a;
    lvs_grad_site gs;
    lvs_prompts pr;
    lvs_error err;
    lvs_status s;
    int32_t ids[6] = {1, 7, 9, 4, 2, 3};
    float g[6 * 32], delta[4 * 32];
    double v[5] = {0, 1, 0.5, 2, 0}, med, lo, hi, mean;
    int k;
    lvs_model_opts_default(&o);
    o.dtype = LVS_W_F32;
    if ((s = lvs_model_open(&m, model, &o, &err)) != LVS_OK) return s;
    if ((s = lvs_tape_create(&t, m, 6, 1, &err)) != LVS_OK || (s = lvs_wgrads_create(&wg, m, &err)) != LVS_OK) goto done;
    memset(&r, 0, sizeof r);
    gs.site = LVS_SITE_RESID_MID;
    gs.layer = 0;
    gs.grad = g;
    r.tokens = ids; r.n = 6; r.loss_from = 3; r.sites = &gs; r.n_sites = 1; r.wgrads = wg;
    if ((s = lvs_backward(m, t, &r, &err)) != LVS_OK) goto done;
    for (k = 0; k < 2; k++) {
        memset(&a, 0, sizeof a);
        a.kind = k ? LVS_ATTACK_L2_RANDOM : LVS_ATTACK_PGD;
        a.prompt = ids; a.n_prompt = 4; a.target = ids + 4; a.n_target = 2; a.layer = 0; a.budget = 0.01;
        a.steps = 2; a.delta = delta;
        if ((s = lvs_attack_run(m, t, &a, &err)) != LVS_OK) goto done;
    }
    if ((s = lvs_median_ci(v, 5, 50, 0.95, 42, &med, &lo, &hi, &mean, &err)) != LVS_OK) goto done;
    if ((s = lvs_prompts_load(&pr, csv, &err)) != LVS_OK) goto done;
    lvs_prompts_free(&pr);
done:
    lvs_wgrads_free(wg);
    lvs_tape_free(t);
    lvs_model_close(m);
    return s;
}

/* LoRA: an adapter with dropout trained two steps on packed sequences, saved and loaded in
   PEFT's format, the optimizer state saved and loaded, merged by lvs_convert_merged; fine-tuning
   data; full fine-tuning one step and the model saved as a folder */
static lvs_status lora_workload(const char *model, const char *dir, const char *jsonl) {
    lvs_model *m = NULL;
    lvs_model_opts o;
    lvs_lora *lo = NULL, *back = NULL;
    lvs_lora_opts lopt;
    lvs_train_opts to;
    lvs_trainer *tr = NULL;
    lvs_train_seq seqs[2];
    lvs_sft_data sd;
    lvs_error err;
    lvs_status s;
    int32_t a[5] = {1, 7, 9, 4, 2}, b[4] = {3, 5, 8, 6};
    char path[600];
    lvs_model_opts_default(&o);
    o.dtype = LVS_W_F32;
    if ((s = lvs_model_open(&m, model, &o, &err)) != LVS_OK) return s;
    lvs_lora_opts_default(&lopt);
    lopt.rank = 2;
    lopt.dropout = 0.1;
    lvs_train_opts_default(&to);
    seqs[0].tokens = a; seqs[0].n = 5; seqs[0].loss_from = 2;
    seqs[1].tokens = b; seqs[1].n = 4; seqs[1].loss_from = 3;
    if ((s = lvs_lora_create(&lo, lvs_model_config(m), &lopt, &err)) != LVS_OK ||
        (s = lvs_model_set_lora(m, lo, &err)) != LVS_OK || (s = lvs_trainer_create(&tr, m, &to, 9, &err)) != LVS_OK ||
        (s = lvs_trainer_step(tr, seqs, 2, 1, NULL, &err)) != LVS_OK ||
        (s = lvs_trainer_step(tr, seqs, 2, 2, NULL, &err)) != LVS_OK || (s = lvs_lora_save(lo, dir, model, &err)) != LVS_OK ||
        (s = lvs_lora_load(&back, dir, lvs_model_config(m), &err)) != LVS_OK)
        goto done;
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    if ((s = lvs_trainer_save_state(tr, path, &err)) != LVS_OK || (s = lvs_trainer_load_state(tr, path, &err)) != LVS_OK)
        goto done;
    snprintf(path, sizeof path, "%s/merged.safetensors", dir);
    if ((s = lvs_convert_merged(model, path, LVS_W_F16, dir, NULL, NULL, &err)) != LVS_OK) goto done;
    if ((s = lvs_sft_load(&sd, jsonl, &err)) != LVS_OK) goto done;
    lvs_sft_free(&sd);
    lvs_trainer_free(tr);
    tr = NULL;
    lvs_model_set_lora(m, NULL, NULL);
    to.full = 1;
    snprintf(path, sizeof path, "%s/full", dir);
    if ((s = lvs_trainer_create(&tr, m, &to, 5, &err)) != LVS_OK || (s = lvs_trainer_step(tr, seqs, 1, 1, NULL, &err)) != LVS_OK ||
        (s = lvs_model_save(m, path, &err)) != LVS_OK)
        goto done;
done:
    lvs_trainer_free(tr);
    lvs_model_close(m);
    lvs_lora_free(lo);
    lvs_lora_free(back);
    return s;
}

/* Gemma-2's and GPT-2's forward and backward passes with weight gradients; the reward model
   and the classifier judge, batched */
static lvs_status classify_workload(const char *rw, const char *jd) {
    static const char *const arch[2] = {"tests/fixtures/engine2/gemma2", "tests/fixtures/engine2/gpt2_cls"};
    const char *ps[2] = {"How?", "Why not?"}, *rs[2] = {"Like this.", "No"};
    double sc[2];
    int harm[2], k;
    lvs_reward *r = NULL;
    lvs_judge *j = NULL;
    lvs_error err;
    lvs_status s;
    char *txt = NULL;
    for (k = 0; k < 2; k++) {
        lvs_model *m;
        lvs_tape *t = NULL;
        lvs_wgrads *g = NULL;
        lvs_backward_req br;
        int32_t ids[6] = {3, 5, 7, 9, 11, 13};
        if ((s = lvs_model_open(&m, arch[k], NULL, &err)) != LVS_OK) return s;
        memset(&br, 0, sizeof br);
        br.tokens = ids;
        br.n = 6;
        if (k) { br.loss_fn = lvs_loss_cls_logit; br.logits_from = (int)lvs_cls_pool_index(m, ids, 6); }
        else br.loss_from = 2;
        if ((s = lvs_tape_create(&t, m, 6, k, &err)) == LVS_OK && (s = lvs_wgrads_create(&g, m, &err)) == LVS_OK) {
            br.wgrads = g;
            s = lvs_backward(m, t, &br, &err);
        }
        lvs_wgrads_free(g);
        lvs_tape_free(t);
        lvs_model_close(m);
        if (s != LVS_OK) return s;
    }
    if ((s = lvs_reward_open(&r, rw, NULL, &err)) == LVS_OK && (s = lvs_reward_score(r, 2, ps, rs, sc, &err)) == LVS_OK &&
        (s = lvs_judge_open(&j, jd, NULL, &err)) == LVS_OK && (s = lvs_judge_prompt(j, ps[0], rs[0], &txt, NULL, &err)) == LVS_OK)
        s = lvs_judge_run(j, 2, ps, rs, sc, NULL, harm, &err);
    lvs_free(txt);
    lvs_reward_free(r);
    lvs_judge_free(j);
    return s;
}

/* one pass over everything that allocates; returns the first failing status */
static lvs_status workload(const char *model, const char *out, const char *csv, const char *dir, const char *jsonl) {
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
    if ((s = lvs_convert(model, out, LVS_W_F16, NULL, NULL, &err)) != LVS_OK) return s;
    if ((s = text_workload()) != LVS_OK) return s;
    if ((s = grad_workload(model, csv)) != LVS_OK) return s;
    if ((s = lora_workload(model, dir, jsonl)) != LVS_OK) return s;
    if ((s = classify_workload(g_rw, g_jd)) != LVS_OK) return s;
    return engine_workload(model);
}

void test_allocator(void) {
    char *model = t_path("alloc-model"), *out = t_path("alloc.safetensors"), *csv = t_path("alloc-prompts.csv");
    char *dir = t_path("alloc-adapter"), *jsonl = t_path("alloc-sft.jsonl");
    static const char csv_text[] = "id,Behavior\n1,\"a, b\"\n2,c\n";
    static const char jsonl_text[] = "{\"prompt\": \"p\", \"response\": \"r\"}\n{\"messages\": [{\"role\": \"user\", "
                                     "\"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}\n";
    t_model m;
    long total, k, nomem = 0, other = 0;
    memset(&m, 0, sizeof m);
    m.config = cfg;
    m.dtype = LVS_BF16;
    m.scale = 0.1;
    m.shards = 2;
    m.seed = 4;
    CHECK(t_make_model(model, &m) == 0);
    CHECK(t_write(csv, csv_text, sizeof csv_text - 1) == 0);
    CHECK(t_write(jsonl, jsonl_text, sizeof jsonl_text - 1) == 0);
    { /* a tiny reward model and judge, each with a byte tokenizer (the judge's with Yes and No) */
        static char rw[600], jd[600];
        char *p;
        t_model c;
        memset(&c, 0, sizeof c);
        c.dtype = LVS_F32;
        c.scale = 0.2;
        c.config = "{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":32,\"n_layer\":1,\"n_head\":2,"
                   "\"vocab_size\":259,\"n_positions\":32,\"bos_token_id\":1,\"eos_token_id\":2,\"pad_token_id\":2,"
                   "\"id2label\":{\"0\":\"A\"}}";
        p = t_path("alloc-reward");
        snprintf(rw, sizeof rw, "%s", p);
        free(p);
        CHECK(t_make_model(rw, &c) == 0);
        t_byte_tokenizer(rw);
        c.config = "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":40,"
                   "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"vocab_size\":261,\"bos_token_id\":1,"
                   "\"eos_token_id\":2}";
        p = t_path("alloc-judge");
        snprintf(jd, sizeof jd, "%s", p);
        free(p);
        CHECK(t_make_model(jd, &c) == 0);
        t_byte_tokenizer(jd);
        t_add_yes_no(jd);
        g_rw = rw;
        g_jd = jd;
    }
    a_live = a_calls = 0;
    a_fail_at = -1;
    CHECK_ST(workload(model, out, csv, dir, jsonl), LVS_OK);
    CHECKF(a_live == 0, "%ld allocations not freed", a_live);
    a_fail_at = 1000000000; /* count the calls */
    a_calls = 0;
    workload(model, out, csv, dir, jsonl);
    total = a_calls;
    printf("  %ld allocations in the workload\n", total);
    CHECK(total > 50);
    for (k = 0; k < total; k++) { /* fail each allocation in turn */
        lvs_status s;
        a_live = a_calls = 0;
        a_fail_at = k;
        if (getenv("ALLOC_TRACE")) { printf("k=%ld\n", k); fflush(stdout); }
        s = workload(model, out, csv, dir, jsonl);
        if (s == LVS_ERR_NOMEM) nomem++;
        else if (s != LVS_OK) { other++; if (other <= 5) printf("  allocation %ld failed: %s\n", k, lvs_status_name(s)); }
        if (a_live != 0) { CHECKF(0, "failing allocation %ld of %ld leaks %ld blocks", k, total, a_live); break; }
    }
    CHECKF(other == 0, "%ld failed allocations reported a status other than LVS_ERR_NOMEM", other);
    CHECK(nomem > 0);
    a_fail_at = -1;
    free(model);
    free(out);
    free(csv);
    free(dir);
    free(jsonl);
}
