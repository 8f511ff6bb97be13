/* config.json: Hugging Face class defaults, variants of the file format, and errors that
   name the offending field; the tensor lists of each architecture against hand-written names. */
#include "test.h"

static lvs_status cfg(lvs_config *c, const char *json, lvs_error *err) {
    return lvs_config_parse(c, json, strlen(json), err);
}

void test_config_defaults(void) {
    lvs_config c;
    lvs_error err;
    int l;
    CHECK_OK(cfg(&c, "{\"architectures\":[\"LlamaForCausalLM\"]}", &err), &err);
    CHECK(c.arch == LVS_ARCH_LLAMA && c.vocab_size == 32000 && c.hidden_size == 4096 && c.intermediate_size == 11008);
    CHECK(c.n_layers == 32 && c.n_heads == 32 && c.n_kv_heads == 32 && c.head_dim == 128 && c.max_positions == 2048);
    CHECK(c.norm_eps == 1e-6 && c.rope_theta == 10000.0 && c.rope_type == LVS_ROPE_DEFAULT && !c.tie_embeddings);
    CHECK(c.bos_id == 1 && c.n_eos == 1 && c.eos_ids[0] == 2 && c.pad_id == -1 && strcmp(c.act, "silu") == 0);
    CHECK(c.sliding_window == 0 && !c.attention_bias && !c.mlp_bias);
    CHECK_OK(cfg(&c, "{\"model_type\":\"llama\",\"hidden_size\":64,\"num_attention_heads\":4,\"num_key_value_heads\":null,"
                     "\"head_dim\":null,\"eos_token_id\":[128001,128009],\"rope_theta\":500000.0,\"rope_scaling\":{"
                     "\"type\":\"llama3\",\"factor\":32.0,\"low_freq_factor\":1.0,\"high_freq_factor\":4.0,"
                     "\"original_max_position_embeddings\":8192},\"tie_word_embeddings\":true}",
                 &err),
             &err);
    CHECK(c.arch == LVS_ARCH_LLAMA && c.head_dim == 16 && c.n_kv_heads == 4 && c.n_eos == 2 && c.eos_ids[1] == 128009);
    CHECK(c.rope_type == LVS_ROPE_LLAMA3 && c.rope_factor == 32.0 && c.rope_high_freq_factor == 4.0 &&
          c.rope_original_max_positions == 8192 && c.rope_theta == 500000.0 && c.tie_embeddings);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"LlamaForCausalLM\"],\"rope_parameters\":{\"rope_type\":\"linear\","
                     "\"factor\":2.0,\"rope_theta\":1000.0}}", &err), &err);
    CHECK(c.rope_type == LVS_ROPE_LINEAR && c.rope_factor == 2.0 && c.rope_theta == 1000.0);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"MistralForCausalLM\"],\"num_hidden_layers\":3}", &err), &err);
    CHECK(c.arch == LVS_ARCH_MISTRAL && c.n_kv_heads == 8 && c.intermediate_size == 14336 && c.sliding_window == 4096);
    CHECK(c.layer_sliding[0] && c.layer_sliding[2] && c.max_positions == 131072);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"MistralForCausalLM\"],\"sliding_window\":null,\"num_key_value_heads\":null}", &err), &err);
    CHECK(c.sliding_window == 0 && !c.layer_sliding[0] && c.n_kv_heads == 32);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"Qwen2ForCausalLM\"],\"sliding_window\":32768}", &err), &err);
    CHECK(c.arch == LVS_ARCH_QWEN2 && c.attention_bias && c.vocab_size == 151936 && c.sliding_window == 0);
    CHECK(c.n_eos == 0 && c.bos_id == -1);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"Qwen2ForCausalLM\"],\"num_hidden_layers\":4,\"use_sliding_window\":true,"
                     "\"sliding_window\":8,\"max_window_layers\":2}", &err), &err);
    CHECK(c.sliding_window == 8 && !c.layer_sliding[0] && !c.layer_sliding[1] && c.layer_sliding[2] && c.layer_sliding[3]);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"Gemma2ForCausalLM\"],\"num_hidden_layers\":4,\"hidden_act\":\"gelu\"}", &err),
             &err);
    CHECK(c.arch == LVS_ARCH_GEMMA2 && c.head_dim == 256 && c.tie_embeddings && c.attn_softcap == 50.0 &&
          c.final_softcap == 30.0 && c.query_pre_attn_scalar == 256.0 && strcmp(c.act, "gelu_pytorch_tanh") == 0);
    CHECK(c.layer_sliding[0] && !c.layer_sliding[1] && c.layer_sliding[2] && !c.layer_sliding[3]);
    CHECK(c.bos_id == 2 && c.eos_ids[0] == 1 && c.pad_id == 0);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"Gemma2ForCausalLM\"],\"num_hidden_layers\":2,\"attn_logit_softcapping\":null,"
                     "\"layer_types\":[\"full_attention\",\"sliding_attention\"]}", &err), &err);
    CHECK(c.attn_softcap == 0 && c.final_softcap == 30.0 && !c.layer_sliding[0] && c.layer_sliding[1]);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"GPT2LMHeadModel\"],\"n_inner\":null}", &err), &err);
    CHECK(c.arch == LVS_ARCH_GPT2 && c.hidden_size == 768 && c.intermediate_size == 3072 && c.n_layers == 12 &&
          c.norm_eps == 1e-5 && c.tie_embeddings && strcmp(c.act, "gelu_new") == 0 && c.max_positions == 1024);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":32,\"n_head\":4,"
                     "\"id2label\":{\"0\":\"LABEL_0\"},\"pad_token_id\":50256}", &err), &err);
    CHECK(c.arch == LVS_ARCH_GPT2_CLS && c.num_labels == 1 && c.head_dim == 8 && c.pad_id == 50256);
    CHECK_OK(cfg(&c, "{\"architectures\":[\"GPT2ForSequenceClassification\"]}", &err), &err);
    CHECK(c.num_labels == 2);
    for (l = 0; l < 4; l++) CHECK(c.layer_sliding[l] == 0);
}

void test_config_errors(void) {
    static const struct { const char *json; lvs_status st; const char *msg; } cases[] = {
        {"{\"architectures\":[\"FooForCausalLM\"]}", LVS_ERR_ARCH, "FooForCausalLM"},
        {"{\"hidden_size\":64}", LVS_ERR_ARCH, "none given"},
        {"{\"model_type\":\"bert\"}", LVS_ERR_ARCH, "bert"},
        {"{\"architectures\":\"LlamaForCausalLM\"}", LVS_ERR_CONFIG, "architectures"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":\"64\"}", LVS_ERR_CONFIG, "hidden_size"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":64.5}", LVS_ERR_CONFIG, "hidden_size"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":0}", LVS_ERR_CONFIG, "hidden_size"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"vocab_size\":-5}", LVS_ERR_CONFIG, "vocab_size"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"intermediate_size\":99999999999}", LVS_ERR_CONFIG, "intermediate"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_attention_heads\":6,\"num_key_value_heads\":4}",
         LVS_ERR_CONFIG, "num_key_value_heads"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":100,\"num_attention_heads\":3}", LVS_ERR_CONFIG,
         "hidden_size"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":2000}", LVS_ERR_CONFIG, "layers"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"rms_norm_eps\":0}", LVS_ERR_CONFIG, "epsilon"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"rope_theta\":-1}", LVS_ERR_CONFIG, "rope_theta"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"tie_word_embeddings\":1}", LVS_ERR_CONFIG, "tie_word_embeddings"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"rope_scaling\":{\"rope_type\":\"yarn\",\"factor\":4}}",
         LVS_ERR_UNSUPPORTED, "yarn"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"rope_scaling\":{\"rope_type\":\"llama3\",\"factor\":8}}",
         LVS_ERR_CONFIG, "low_freq_factor"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"rope_scaling\":{\"type\":\"linear\"}}", LVS_ERR_CONFIG, "factor"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"rope_scaling\":\"linear\"}", LVS_ERR_CONFIG, "rope_scaling"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"eos_token_id\":[1,2,3,4,5,6,7,8,9]}", LVS_ERR_CONFIG, "eos"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"eos_token_id\":\"</s>\"}", LVS_ERR_CONFIG, "eos_token_id"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":2,\"layer_types\":[\"full_attention\"]}",
         LVS_ERR_CONFIG, "layer_types"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"num_hidden_layers\":1,\"layer_types\":[\"sliding_attention\"]}",
         LVS_ERR_CONFIG, "sliding_window"},
        {"{\"architectures\":[\"Gemma2ForCausalLM\"],\"num_hidden_layers\":1,\"layer_types\":[\"chunked\"]}",
         LVS_ERR_UNSUPPORTED, "layer_types"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],\"head_dim\":7}", LVS_ERR_CONFIG, "head_dim"},
        {"{\"architectures\":[\"GPT2ForSequenceClassification\"],\"id2label\":{}}", LVS_ERR_CONFIG, "num_labels"},
        {"{\"architectures\":[\"GPT2LMHeadModel\"],\"n_embd\":30,\"n_head\":4}", LVS_ERR_CONFIG, "hidden_size"},
        {"{\"architectures\":[\"GPT2LMHeadModel\"],\"n_embd\":4611686018427387904}", LVS_ERR_CONFIG, "hidden_size"},
        {"[1]", LVS_ERR_CONFIG, "object"},
        {"{\"architectures\":[\"LlamaForCausalLM\"],}", LVS_ERR_JSON_SYNTAX, "config.json"},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lvs_config c;
        lvs_error err;
        lvs_status s = cfg(&c, cases[i].json, &err);
        CHECKF(s == cases[i].st && strstr(err.message, cases[i].msg), "case %d: %s, expected %s with \"%s\" (%s)",
               (int)i, lvs_status_name(s), lvs_status_name(cases[i].st), cases[i].msg, err.message);
    }
}

/* compares the spec list with names written out by hand from the Hugging Face modules */
static void expect_specs(const char *json, const lvs_safetensors *st, const char *const *want, size_t nwant) {
    lvs_config c;
    lvs_error err;
    lvs_tensor_spec *specs = NULL;
    size_t n = 0, i;
    CHECK_OK(cfg(&c, json, &err), &err);
    CHECK_OK(lvs_arch_tensors(&c, st, &specs, &n, &err), &err);
    CHECKF(n == nwant, "%s: %d tensors, expected %d", c.arch_name, (int)n, (int)nwant);
    for (i = 0; i < n && i < nwant; i++) {
        char got[200];
        if (specs[i].ndim == 2)
            snprintf(got, sizeof got, "%s %lld %lld%s", specs[i].name, (long long)specs[i].shape[0],
                     (long long)specs[i].shape[1], (specs[i].flags & LVS_SPEC_CONV1D) ? " conv1d" : "");
        else snprintf(got, sizeof got, "%s %lld", specs[i].name, (long long)specs[i].shape[0]);
        CHECKF(strcmp(got, want[i]) == 0, "%s: got \"%s\", expected \"%s\"", c.arch_name, got, want[i]);
    }
    lvs_free(specs);
}

void test_arch_tensors(void) {
    static const char *const llama[] = {
        "model.embed_tokens.weight 10 8", "model.layers.0.input_layernorm.weight 8",
        "model.layers.0.self_attn.q_proj.weight 12 8", "model.layers.0.self_attn.q_proj.bias 12",
        "model.layers.0.self_attn.k_proj.weight 6 8", "model.layers.0.self_attn.k_proj.bias 6",
        "model.layers.0.self_attn.v_proj.weight 6 8", "model.layers.0.self_attn.v_proj.bias 6",
        "model.layers.0.self_attn.o_proj.weight 8 12", "model.layers.0.self_attn.o_proj.bias 8",
        "model.layers.0.post_attention_layernorm.weight 8", "model.layers.0.mlp.gate_proj.weight 20 8",
        "model.layers.0.mlp.up_proj.weight 20 8", "model.layers.0.mlp.down_proj.weight 8 20",
        "model.norm.weight 8", "lm_head.weight 10 8"};
    static const char *const qwen2[] = {
        "model.embed_tokens.weight 10 8", "model.layers.0.input_layernorm.weight 8",
        "model.layers.0.self_attn.q_proj.weight 8 8", "model.layers.0.self_attn.q_proj.bias 8",
        "model.layers.0.self_attn.k_proj.weight 4 8", "model.layers.0.self_attn.k_proj.bias 4",
        "model.layers.0.self_attn.v_proj.weight 4 8", "model.layers.0.self_attn.v_proj.bias 4",
        "model.layers.0.self_attn.o_proj.weight 8 8", "model.layers.0.post_attention_layernorm.weight 8",
        "model.layers.0.mlp.gate_proj.weight 20 8", "model.layers.0.mlp.up_proj.weight 20 8",
        "model.layers.0.mlp.down_proj.weight 8 20", "model.norm.weight 8"};
    static const char *const gemma2[] = {
        "model.embed_tokens.weight 10 8", "model.layers.0.input_layernorm.weight 8",
        "model.layers.0.self_attn.q_proj.weight 12 8", "model.layers.0.self_attn.k_proj.weight 6 8",
        "model.layers.0.self_attn.v_proj.weight 6 8", "model.layers.0.self_attn.o_proj.weight 8 12",
        "model.layers.0.post_attention_layernorm.weight 8", "model.layers.0.pre_feedforward_layernorm.weight 8",
        "model.layers.0.post_feedforward_layernorm.weight 8", "model.layers.0.mlp.gate_proj.weight 20 8",
        "model.layers.0.mlp.up_proj.weight 20 8", "model.layers.0.mlp.down_proj.weight 8 20", "model.norm.weight 8"};
    static const char *const gpt2[] = {
        "transformer.wte.weight 10 8", "transformer.wpe.weight 16 8", "transformer.h.0.ln_1.weight 8",
        "transformer.h.0.ln_1.bias 8", "transformer.h.0.attn.c_attn.weight 8 24 conv1d",
        "transformer.h.0.attn.c_attn.bias 24", "transformer.h.0.attn.c_proj.weight 8 8 conv1d",
        "transformer.h.0.attn.c_proj.bias 8", "transformer.h.0.ln_2.weight 8", "transformer.h.0.ln_2.bias 8",
        "transformer.h.0.mlp.c_fc.weight 8 32 conv1d", "transformer.h.0.mlp.c_fc.bias 32",
        "transformer.h.0.mlp.c_proj.weight 32 8 conv1d", "transformer.h.0.mlp.c_proj.bias 8",
        "transformer.ln_f.weight 8", "transformer.ln_f.bias 8", "score.weight 3 8"};
    lvs_safetensors st;
    lvs_st_writer *w = lvs_st_writer_create();
    lvs_error err;
    float x[80];
    int64_t shape[2] = {10, 8};
    void *mem;
    size_t n, i;
    const char *nop[17];
    memset(x, 0, sizeof x);
    expect_specs("{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":8,\"intermediate_size\":20,"
                 "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"head_dim\":6,"
                 "\"vocab_size\":10,\"attention_bias\":true}",
                 NULL, llama, sizeof llama / sizeof llama[0]);
    expect_specs("{\"architectures\":[\"Qwen2ForCausalLM\"],\"hidden_size\":8,\"intermediate_size\":20,"
                 "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"vocab_size\":10,"
                 "\"tie_word_embeddings\":true}",
                 NULL, qwen2, sizeof qwen2 / sizeof qwen2[0]);
    expect_specs("{\"architectures\":[\"Gemma2ForCausalLM\"],\"hidden_size\":8,\"intermediate_size\":20,"
                 "\"num_hidden_layers\":1,\"num_attention_heads\":2,\"num_key_value_heads\":1,\"head_dim\":6,"
                 "\"vocab_size\":10}",
                 NULL, gemma2, sizeof gemma2 / sizeof gemma2[0]);
    expect_specs("{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":8,\"n_layer\":1,\"n_head\":2,"
                 "\"vocab_size\":10,\"n_positions\":16,\"num_labels\":3}",
                 NULL, gpt2, sizeof gpt2 / sizeof gpt2[0]);
    /* GPT-2 files without the "transformer." prefix */
    lvs_st_writer_add(w, "wte.weight", LVS_F32, 2, shape, x, &err);
    CHECK_OK(lvs_st_writer_save_mem(w, &mem, &n, &err), &err);
    CHECK_OK(lvs_st_parse(&st, mem, n, &err), &err);
    for (i = 0; i < 17; i++) nop[i] = gpt2[i] + (i < 16 ? 12 : 0);
    expect_specs("{\"architectures\":[\"GPT2ForSequenceClassification\"],\"n_embd\":8,\"n_layer\":1,\"n_head\":2,"
                 "\"vocab_size\":10,\"n_positions\":16,\"num_labels\":3}",
                 &st, nop, 17);
    lvs_st_close(&st);
    lvs_free(mem);
    lvs_st_writer_destroy(w);
}
