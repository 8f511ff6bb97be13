/* lvs: the command-line front end of lvs.h. */
#define _POSIX_C_SOURCE 200809L
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: lvs COMMAND [ARGS]   (lvs COMMAND --help for details)\n"
    "\n"
    "Commands:\n"
    "  info MODEL              architecture, sizes, parameters, dtypes, memory, tokenizer files\n"
    "  generate MODEL --ids .. continue a prompt of token ids (greedy or sampled)\n"
    "  trace MODEL --ids ..    write logits and the activations at every hook site to a file\n"
    "  tensors PATH [--meta]   list the tensors (and metadata) of a safetensors file or model folder\n"
    "  version                 print the version of lvs.h\n"
    "  help                    this text\n"
    "\n"
    "MODEL is a Hugging Face folder (config.json + safetensors), a file written by lvs-convert,\n"
    "or a .safetensors file beside its config.json. Text prompts, LVS estimation, fine-tuning and\n"
    "the audit arrive in later versions; see README.md for the status of each.\n"
    "Exit status: 0 done, 1 bad input or failure, 2 bad usage.\n";

static const char usage_model_opts[] =
    "  --dtype D      compute with the matrices in f32, f16, bf16, int8, or as stored (default)\n"
    "  --threads N    threads (default: OpenMP's default, usually all cores)\n";

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int fail_usage(const char *cmd, const char *msg, const char *arg) {
    fprintf(stderr, "lvs %s: %s%s%s (see lvs %s --help)\n", cmd, msg, arg ? " " : "", arg ? arg : "", cmd);
    return 2;
}

/* Options shared by the commands that load a model. Returns 1 if argv[*i] was one of them,
   -1 on a bad value, 0 otherwise. */
typedef struct model_args { const char *path; lvs_model_opts opts; int32_t *ids; int n_ids; } model_args;
static int parse_model_opt(const char *cmd, int argc, char **argv, int *i, model_args *a) {
    const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    if (strcmp(o, "--dtype") == 0) {
        lvs_wtype w;
        if (v && strcmp(v, "stored") == 0) a->opts.dtype = LVS_AS_STORED;
        else if (v && lvs_wtype_from_name(v, &w)) a->opts.dtype = (int)w;
        else return fail_usage(cmd, "--dtype needs f32, f16, bf16, int8 or stored", v) ? -1 : -1;
        (*i)++;
        return 1;
    }
    if (strcmp(o, "--threads") == 0) {
        char *end;
        long n = v ? strtol(v, &end, 10) : 0;
        if (!v || *end || n < 1 || n > 1024) { fail_usage(cmd, "--threads needs a number from 1 to 1024", v); return -1; }
        a->opts.n_threads = (int)n;
        (*i)++;
        return 1;
    }
    if (strcmp(o, "--ids") == 0) {
        const char *p = v;
        int cap = 0;
        if (!v || !*v) { fail_usage(cmd, "--ids needs comma-separated token ids", NULL); return -1; }
        free(a->ids);
        a->ids = NULL;
        a->n_ids = 0;
        while (*p) {
            char *end;
            long id = strtol(p, &end, 10);
            if (end == p || id < 0 || id > INT32_MAX || (*end && *end != ',')) {
                fail_usage(cmd, "--ids: not a list of non-negative integers:", v);
                return -1;
            }
            if (a->n_ids == cap) {
                int32_t *n2;
                cap = cap ? 2 * cap : 64;
                n2 = (int32_t *)realloc(a->ids, sizeof(int32_t) * (size_t)cap);
                if (!n2) { fprintf(stderr, "lvs %s: out of memory\n", cmd); return -1; }
                a->ids = n2;
            }
            a->ids[a->n_ids++] = (int32_t)id;
            p = *end ? end + 1 : end;
        }
        (*i)++;
        return 1;
    }
    return 0;
}

static lvs_model *load(const char *cmd, model_args *a) {
    lvs_model *m = NULL;
    lvs_error err;
    if (lvs_model_open(&m, a->path, &a->opts, &err) != LVS_OK) {
        fprintf(stderr, "lvs %s: error: %s [%s]\n", cmd, err.message, lvs_status_name(err.status));
        return NULL;
    }
    return m;
}

static void print_bytes(const char *what, uint64_t b) {
    printf("%-22s %.2f MiB\n", what, (double)b / (1024.0 * 1024.0));
}

/* ---------------------------------------------------------------- info */
static const char usage_info[] =
    "usage: lvs info MODEL [--dtype D] [--threads N]\n"
    "\n"
    "Prints the architecture and sizes from config.json, the parameter count, the dtype of the\n"
    "matrices and the memory they take (mapped from the file or converted), the KV-cache memory\n"
    "per token, the end-of-sequence ids, and whether tokenizer files and a chat template exist.\n";

static int cmd_info(int argc, char **argv) {
    model_args a;
    lvs_model *m;
    const lvs_config *c;
    lvs_model_stats st;
    const lvs_model_files *f;
    size_t len;
    const char *tc;
    int i, k, n_sl = 0;
    memset(&a, 0, sizeof a);
    lvs_model_opts_default(&a.opts);
    for (i = 0; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_info, stdout);
            fputs(usage_model_opts, stdout);
            return 0;
        }
        if ((r = parse_model_opt("info", argc, argv, &i, &a)) < 0) return 2;
        if (r) continue;
        if (argv[i][0] == '-' && argv[i][1]) return fail_usage("info", "unknown option", argv[i]);
        if (a.path) return fail_usage("info", "unexpected argument", argv[i]);
        a.path = argv[i];
    }
    free(a.ids);
    if (!a.path) return fail_usage("info", "needs MODEL", NULL);
    if (!(m = load("info", &a))) return 1;
    c = lvs_model_config(m);
    f = lvs_model_get_files(m);
    lvs_model_get_stats(m, &st);
    printf("%-22s %s\n", "model", a.path);
    printf("%-22s %s\n", "format", f->is_lvs ? "lvs-convert file" : "Hugging Face safetensors");
    printf("%-22s %s\n", "architecture", c->arch_name);
    printf("%-22s %lld\n", "vocab_size", (long long)c->vocab_size);
    printf("%-22s %lld\n", "hidden_size", (long long)c->hidden_size);
    printf("%-22s %lld\n", "intermediate_size", (long long)c->intermediate_size);
    printf("%-22s %lld\n", "layers", (long long)c->n_layers);
    printf("%-22s %lld (%lld key/value heads, head_dim %lld)\n", "attention heads", (long long)c->n_heads,
           (long long)c->n_kv_heads, (long long)c->head_dim);
    printf("%-22s %lld\n", "max positions", (long long)c->max_positions);
    printf("%-22s theta %g, scaling %s", "rope", c->rope_theta,
           c->rope_type == LVS_ROPE_LLAMA3 ? "llama3" : c->rope_type == LVS_ROPE_LINEAR ? "linear" : "none");
    if (c->rope_type != LVS_ROPE_DEFAULT) printf(" (factor %g)", c->rope_factor);
    printf("\n");
    for (k = 0; k < c->n_layers; k++) n_sl += c->layer_sliding[k];
    if (c->sliding_window) printf("%-22s %lld positions on %d of %lld layers\n", "sliding window",
                                  (long long)c->sliding_window, n_sl, (long long)c->n_layers);
    else printf("%-22s none\n", "sliding window");
    printf("%-22s %s\n", "tied embeddings", c->tie_embeddings ? "yes" : "no");
    printf("%-22s %s%s\n", "biases", c->attention_bias ? "attention " : "", c->mlp_bias ? "mlp" : c->attention_bias ? "" : "none");
    printf("%-22s %g (%s)\n", "norm epsilon", c->norm_eps, c->act);
    printf("%-22s %lld", "bos id", (long long)c->bos_id);
    printf(", eos ids");
    for (k = 0; k < st.n_eos; k++) printf(" %d", (int)st.eos[k]);
    printf("\n");
    printf("%-22s %lld (%.1f M)\n", "parameters", (long long)st.n_params, (double)st.n_params / 1e6);
    printf("%-22s", "matrices");
    for (k = 0; k < 4; k++)
        if (st.n_matrices[k]) printf(" %d x %s", st.n_matrices[k], lvs_wtype_name((lvs_wtype)k));
    printf("\n");
    print_bytes("weights in memory", st.weight_bytes);
    print_bytes("  of which converted", st.owned_bytes);
    printf("%-22s %.1f KiB\n", "KV cache per token",
           (double)(2 * c->n_layers * c->n_kv_heads * c->head_dim * 4) / 1024.0);
    printf("%-22s %s\n", "tokenizer.json", lvs_model_text(f, "tokenizer.json", NULL) ? "found" : "not found");
    tc = lvs_model_text(f, "tokenizer_config.json", &len);
    printf("%-22s %s\n", "chat template",
           lvs_model_text(f, "chat_template.jinja", NULL) || lvs_model_text(f, "chat_template.json", NULL) ||
                   (tc && strstr(tc, "\"chat_template\""))
               ? "found"
               : "not found");
    lvs_model_close(m);
    return 0;
}

/* ---------------------------------------------------------------- generate */
static const char usage_generate[] =
    "usage: lvs generate MODEL --ids 1,2,3 [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
    "                    [--seed S] [--ignore-eos] [--dtype D] [--threads N]\n"
    "\n"
    "Continues the prompt given as token ids and prints the new ids, comma-separated, on stdout;\n"
    "the reason it stopped and the speed go to stderr. Greedy unless --temp > 0.\n"
    "  -n N           new tokens at most (default 32)\n"
    "  --temp T       sampling temperature (default 0: greedy)\n"
    "  --top-k K      keep the K most likely tokens (default 0: all)\n"
    "  --top-p P      keep the smallest set of tokens with probability >= P (default 1)\n"
    "  --min-p P      drop tokens less likely than P x the most likely one (default 0)\n"
    "  --seed S       random seed (default 0)\n"
    "  --ignore-eos   do not stop at the model's end-of-sequence ids\n";

static int parse_num(const char *cmd, const char *opt, const char *v, double lo, double hi, double *out) {
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || *end || !(x >= lo && x <= hi)) {
        char msg[120];
        snprintf(msg, sizeof msg, "%s needs a number from %g to %g", opt, lo, hi);
        fail_usage(cmd, msg, v);
        return 0;
    }
    *out = x;
    return 1;
}

static int cmd_generate(int argc, char **argv) {
    model_args a;
    lvs_model *m;
    lvs_gen_opts o;
    lvs_gen_seq q;
    lvs_error err;
    int32_t *out;
    int i, j, rc = 0;
    double t0, x;
    static const char *const finish[] = {"?", "length", "stop id", "stop string", "context"};
    memset(&a, 0, sizeof a);
    lvs_model_opts_default(&a.opts);
    lvs_gen_opts_default(&o);
    o.max_new = 32;
    for (i = 0; i < argc; i++) {
        const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage_generate, stdout);
            fputs(usage_model_opts, stdout);
            free(a.ids);
            return 0;
        }
        if ((r = parse_model_opt("generate", argc, argv, &i, &a)) < 0) { free(a.ids); return 2; }
        if (r) continue;
        if (strcmp(opt, "-n") == 0 || strcmp(opt, "--temp") == 0 || strcmp(opt, "--top-k") == 0 ||
            strcmp(opt, "--top-p") == 0 || strcmp(opt, "--min-p") == 0 || strcmp(opt, "--seed") == 0) {
            int ok = strcmp(opt, "-n") == 0        ? parse_num("generate", opt, v, 0, 1e7, &x)
                     : strcmp(opt, "--temp") == 0  ? parse_num("generate", opt, v, 0, 100, &x)
                     : strcmp(opt, "--top-k") == 0 ? parse_num("generate", opt, v, 0, 1e9, &x)
                     : strcmp(opt, "--seed") == 0  ? parse_num("generate", opt, v, 0, 1.8e19, &x)
                                                   : parse_num("generate", opt, v, 0, 1, &x);
            if (!ok) { free(a.ids); return 2; }
            if (strcmp(opt, "-n") == 0) o.max_new = (int)x;
            else if (strcmp(opt, "--temp") == 0) o.sampling.temperature = (float)x;
            else if (strcmp(opt, "--top-k") == 0) o.sampling.top_k = (int)x;
            else if (strcmp(opt, "--top-p") == 0) o.sampling.top_p = (float)x;
            else if (strcmp(opt, "--min-p") == 0) o.sampling.min_p = (float)x;
            else o.sampling.seed = (uint64_t)x;
            i++;
        } else if (strcmp(opt, "--ignore-eos") == 0) o.ignore_eos = 1;
        else if (opt[0] == '-' && opt[1]) { free(a.ids); return fail_usage("generate", "unknown option", opt); }
        else if (!a.path) a.path = opt;
        else { free(a.ids); return fail_usage("generate", "unexpected argument", opt); }
    }
    if (!a.path || !a.ids) { free(a.ids); return fail_usage("generate", "needs MODEL and --ids", NULL); }
    if (!(m = load("generate", &a))) { free(a.ids); return 1; }
    out = (int32_t *)malloc(sizeof(int32_t) * (size_t)(o.max_new + 1));
    memset(&q, 0, sizeof q);
    q.prompt = a.ids;
    q.n_prompt = a.n_ids;
    q.out = out;
    t0 = now();
    if (!out || lvs_generate(m, &q, 1, &o, &err) != LVS_OK) {
        fprintf(stderr, "lvs generate: error: %s [%s]\n", out ? err.message : "out of memory",
                out ? lvs_status_name(err.status) : "LVS_ERR_NOMEM");
        rc = 1;
    } else {
        t0 = now() - t0;
        for (j = 0; j < q.n_out; j++) printf(j ? ",%d" : "%d", (int)out[j]);
        printf("\n");
        fprintf(stderr, "lvs generate: %d tokens (%s) in %.2f s, %.1f tokens/s including the prompt pass\n", q.n_out,
                finish[q.finish >= 0 && q.finish <= 4 ? q.finish : 0], t0, q.n_out / (t0 > 0 ? t0 : 1e-9));
    }
    free(out);
    free(a.ids);
    lvs_model_close(m);
    return rc;
}

/* ---------------------------------------------------------------- trace */
static const char usage_trace[] =
    "usage: lvs trace MODEL --ids 1,2,3 -o OUT.safetensors [--dtype D] [--threads N]\n"
    "\n"
    "One forward pass over the ids (positions 0..T-1). Writes F32 tensors: `logits` [T, vocab],\n"
    "`embed` [T, d] (the embedding lookup), and for every block l `blocks.l.resid_pre`,\n"
    "`blocks.l.attn_out`, `blocks.l.resid_mid`, `blocks.l.mlp_out`, `blocks.l.resid_post`\n"
    "[T, d] (resid_post is the residual after block l, before the final norm), plus `ids` (I32).\n"
    "  --loss-from K  (gradients) arrives with the backward pass; refused for now\n";

static int cmd_trace(int argc, char **argv) {
    model_args a;
    lvs_model *m;
    const lvs_config *c;
    const char *outp = NULL;
    lvs_error err;
    lvs_cache *cache = NULL;
    lvs_seq q;
    lvs_hook *hooks;
    lvs_act_buf *bufs;
    float *logits, *sites;
    char (*names)[64];
    lvs_st_writer *w;
    int64_t T, d, V, n_sites, k, shape[2];
    int i, rc = 0;
    memset(&a, 0, sizeof a);
    lvs_model_opts_default(&a.opts);
    for (i = 0; i < argc; i++) {
        int r;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_trace, stdout);
            fputs(usage_model_opts, stdout);
            free(a.ids);
            return 0;
        }
        if ((r = parse_model_opt("trace", argc, argv, &i, &a)) < 0) { free(a.ids); return 2; }
        if (r) continue;
        if (strcmp(argv[i], "-o") == 0 && i + 1 < argc) outp = argv[++i];
        else if (strcmp(argv[i], "--loss-from") == 0) {
            free(a.ids);
            fprintf(stderr, "lvs trace: --loss-from needs the backward pass, which this version does not have yet\n");
            return 2;
        } else if (argv[i][0] == '-' && argv[i][1]) { free(a.ids); return fail_usage("trace", "unknown option", argv[i]); }
        else if (!a.path) a.path = argv[i];
        else { free(a.ids); return fail_usage("trace", "unexpected argument", argv[i]); }
    }
    if (!a.path || !a.ids || !outp) { free(a.ids); return fail_usage("trace", "needs MODEL, --ids and -o OUT", NULL); }
    if (!(m = load("trace", &a))) { free(a.ids); return 1; }
    c = lvs_model_config(m);
    T = a.n_ids; d = c->hidden_size; V = c->vocab_size; n_sites = 1 + 5 * c->n_layers;
    logits = (float *)calloc((size_t)(T * V), sizeof(float));
    sites = (float *)calloc((size_t)(n_sites * T * d), sizeof(float));
    hooks = (lvs_hook *)calloc((size_t)n_sites, sizeof *hooks);
    bufs = (lvs_act_buf *)calloc((size_t)n_sites, sizeof *bufs);
    names = (char (*)[64])calloc((size_t)n_sites, 64);
    w = lvs_st_writer_create();
    if (!logits || !sites || !hooks || !bufs || !names || !w) {
        fprintf(stderr, "lvs trace: out of memory\n");
        rc = 1;
        goto done;
    }
    for (k = 0; k < n_sites; k++) {
        hooks[k].site = k == 0 ? LVS_SITE_EMBED : (lvs_site)(1 + (k - 1) % 5);
        hooks[k].layer = k == 0 ? -1 : (int)((k - 1) / 5);
        hooks[k].fn = lvs_hook_capture;
        hooks[k].user = &bufs[k];
        bufs[k].buf = sites + k * T * d;
        bufs[k].cap_pos = T;
        bufs[k].d = (int)d;
        if (k == 0) snprintf(names[k], 64, "embed");
        else snprintf(names[k], 64, "blocks.%d.%s", hooks[k].layer, lvs_site_name(hooks[k].site));
    }
    memset(&q, 0, sizeof q);
    q.tokens = a.ids;
    q.n = (int)T;
    q.logits = LVS_LOGITS_ALL;
    q.logits_out = logits;
    q.hooks = hooks;
    q.n_hooks = (int)n_sites;
    if (lvs_cache_create(&cache, m, 1, T, &err) != LVS_OK || lvs_forward(m, cache, &q, 1, &err) != LVS_OK) {
        fprintf(stderr, "lvs trace: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        rc = 1;
        goto done;
    }
    shape[0] = T;
    shape[1] = V;
    lvs_st_writer_add(w, "logits", LVS_F32, 2, shape, logits, &err);
    lvs_st_writer_add(w, "ids", LVS_I32, 1, &T, a.ids, &err);
    shape[1] = d;
    for (k = 0; k < n_sites; k++) lvs_st_writer_add(w, names[k], LVS_F32, 2, shape, sites + k * T * d, &err);
    lvs_st_writer_set_meta(w, "model", a.path, strlen(a.path), &err);
    if (lvs_st_writer_save(w, outp, &err) != LVS_OK) {
        fprintf(stderr, "lvs trace: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        rc = 1;
    } else
        fprintf(stderr, "lvs trace: wrote %s (%lld tokens, %lld sites)\n", outp, (long long)T, (long long)n_sites);
done:
    lvs_st_writer_destroy(w);
    lvs_cache_free(cache);
    free(logits); free(sites); free(hooks); free(bufs); free(names); free(a.ids);
    lvs_model_close(m);
    return rc;
}

/* ---------------------------------------------------------------- tensors */
static const char usage_tensors[] =
    "usage: lvs tensors PATH [--meta]\n"
    "\n"
    "Validates PATH (a .safetensors file, or a model folder with model.safetensors or\n"
    "model.safetensors.index.json) with every rule of the safetensors format and lists each\n"
    "tensor: name, dtype, shape, byte range in its file and, for sharded folders, the shard.\n"
    "  --meta   also print the __metadata__ entries (long values shortened)\n"
    "Exit status: 0 valid, 1 invalid or unreadable (the message names the problem), 2 bad usage.\n";

static int cmd_tensors(int argc, char **argv) {
    const char *path = NULL;
    int meta = 0, i;
    size_t k;
    lvs_safetensors st;
    lvs_error err;
    unsigned long long total = 0;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_tensors, stdout);
            return 0;
        } else if (strcmp(argv[i], "--meta") == 0) meta = 1;
        else if (argv[i][0] == '-' && argv[i][1]) return fail_usage("tensors", "unknown option", argv[i]);
        else if (!path) path = argv[i];
        else return fail_usage("tensors", "unexpected argument", argv[i]);
    }
    if (!path) return fail_usage("tensors", "needs PATH", NULL);
    if (lvs_st_open(&st, path, &err) != LVS_OK) {
        fprintf(stderr, "lvs tensors: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        return 1;
    }
    for (k = 0; k < st.n_tensors; k++) {
        const lvs_st_tensor *t = &st.tensors[k];
        char shape[160];
        size_t n = 0;
        int d;
        n += (size_t)snprintf(shape, sizeof shape, "[");
        for (d = 0; d < t->ndim && n < sizeof shape; d++)
            n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        if (n < sizeof shape) snprintf(shape + n, sizeof shape - n, "]");
        printf("%-60s %-7s %-20s [%llu, %llu)", t->name, lvs_dtype_name(t->dtype), shape,
               (unsigned long long)t->begin, (unsigned long long)t->end);
        if (st.n_shards > 1) printf("  %s", st.shards[t->shard]);
        printf("\n");
        total += (unsigned long long)t->nbytes;
    }
    printf("%lu tensors, %llu bytes of data, %d file%s\n", (unsigned long)st.n_tensors, total, st.n_shards,
           st.n_shards == 1 ? "" : "s");
    if (meta)
        for (k = 0; k < st.n_meta; k++) {
            const lvs_st_meta *mt = &st.meta[k];
            size_t j, shown = mt->value_len > 60 ? 60 : mt->value_len;
            printf("meta %s = \"", mt->key);
            for (j = 0; j < shown; j++) {
                unsigned char ch = (unsigned char)mt->value[j];
                if (ch < 0x20) printf("\\x%02x", ch);
                else putchar(ch);
            }
            printf(mt->value_len > shown ? "\"... (%lu bytes)\n" : "\"\n", (unsigned long)mt->value_len);
        }
    lvs_st_close(&st);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("lvs %s\n", lvs_version());
        return 0;
    }
    if (strcmp(argv[1], "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(argv[1], "generate") == 0) return cmd_generate(argc - 2, argv + 2);
    if (strcmp(argv[1], "trace") == 0) return cmd_trace(argc - 2, argv + 2);
    if (strcmp(argv[1], "tensors") == 0) return cmd_tensors(argc - 2, argv + 2);
    fprintf(stderr, "lvs: unknown command \"%s\" (see lvs help)\n", argv[1]);
    return 2;
}
