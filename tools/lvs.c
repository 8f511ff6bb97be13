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
    "  generate MODEL -p TEXT  continue a text prompt, raw or in the chat template (or --ids 1,2,3)\n"
    "  chat MODEL              talk to the model: each line you type is answered, streamed\n"
    "  tokenize TOKENIZER TEXT token ids of a text (or of a file, or of a JSON-lines batch)\n"
    "  trace MODEL --ids ..    write logits and the activations at every hook site to a file\n"
    "  tensors PATH [--meta]   list the tensors (and metadata) of a safetensors file or model folder\n"
    "  version                 print the version of lvs.h\n"
    "  help                    this text\n"
    "\n"
    "MODEL is a Hugging Face folder (config.json + safetensors), a file written by lvs-convert,\n"
    "or a .safetensors file beside its config.json. LVS estimation, fine-tuning and the audit arrive\n"
    "in later versions; see README.md for the status of each.\n"
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

/* ---------------------------------------------------------------- generate, chat */
static const char usage_sampling[] =
    "  -n N           new tokens at most (default 32 for generate, 256 for chat)\n"
    "  --temp T       sampling temperature (default 0: greedy)\n"
    "  --top-k K      keep the K most likely tokens (default 0: all)\n"
    "  --top-p P      keep the smallest set of tokens with probability >= P (default 1)\n"
    "  --min-p P      drop tokens less likely than P x the most likely one (default 0)\n"
    "  --seed S       random seed (default 0)\n"
    "  --ignore-eos   do not stop at the end-of-sequence and end-of-turn ids\n";

static const char usage_generate[] =
    "usage: lvs generate MODEL (-p TEXT [--chat] [--system TEXT] [--template NAME] | --ids 1,2,3)\n"
    "                    [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--seed S]\n"
    "                    [--ignore-eos] [--dtype D] [--threads N]\n"
    "\n"
    "Continues a prompt. With -p the prompt is text, tokenized with the model's tokenizer.json\n"
    "(BOS added as its post-processor says), and the new text is printed on stdout as it is\n"
    "generated. With --ids the prompt is token ids and the new ids are printed, comma-separated.\n"
    "The reason it stopped and the speed go to stderr. Greedy unless --temp > 0.\n"
    "  -p TEXT        the prompt text\n"
    "  --chat         wrap the prompt as one user turn in the model's chat template, with the\n"
    "                 generation prefix (the assistant header) after it\n"
    "  --system TEXT  a system prompt for --chat\n"
    "  --template NAME  the chat format instead of the one detected from tokenizer_config.json:\n"
    "                 llama3, llama2, mistral, mistral-v1, chatml, gemma, zephyr, alpaca, or the\n"
    "                 path of a template file (see README.md, \"Chat templates\"); implies --chat\n";

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

/* Sampling and stopping options shared by generate and chat: 1 if argv[*i] was one, -1 on a
   bad value, 0 otherwise. */
static int parse_gen_opt(const char *cmd, int argc, char **argv, int *i, lvs_gen_opts *o) {
    const char *opt = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;
    double x;
    int ok;
    if (strcmp(opt, "--ignore-eos") == 0) {
        o->ignore_eos = 1;
        return 1;
    }
    if (strcmp(opt, "-n") == 0) ok = parse_num(cmd, opt, v, 0, 1e7, &x);
    else if (strcmp(opt, "--temp") == 0) ok = parse_num(cmd, opt, v, 0, 100, &x);
    else if (strcmp(opt, "--top-k") == 0) ok = parse_num(cmd, opt, v, 0, 1e9, &x);
    else if (strcmp(opt, "--seed") == 0) ok = parse_num(cmd, opt, v, 0, 1.8e19, &x);
    else if (strcmp(opt, "--top-p") == 0 || strcmp(opt, "--min-p") == 0) ok = parse_num(cmd, opt, v, 0, 1, &x);
    else return 0;
    if (!ok) return -1;
    if (strcmp(opt, "-n") == 0) o->max_new = (int)x;
    else if (strcmp(opt, "--temp") == 0) o->sampling.temperature = (float)x;
    else if (strcmp(opt, "--top-k") == 0) o->sampling.top_k = (int)x;
    else if (strcmp(opt, "--top-p") == 0) o->sampling.top_p = (float)x;
    else if (strcmp(opt, "--min-p") == 0) o->sampling.min_p = (float)x;
    else o->sampling.seed = (uint64_t)x;
    (*i)++;
    return 1;
}

/* Streams the text of new tokens to stdout. */
typedef struct streamer { lvs_detok_stream ds; int failed; } streamer;
static void stream_token(void *user, int seq, int32_t id) {
    streamer *sm = (streamer *)user;
    char *piece = NULL;
    size_t len = 0;
    lvs_error err;
    (void)seq;
    if (lvs_detok_stream_push(&sm->ds, id, &piece, &len, &err) != LVS_OK) { sm->failed = 1; return; }
    if (piece) {
        fwrite(piece, 1, len, stdout);
        fflush(stdout);
        lvs_free(piece);
    }
}

/* Generates from prompt ids; streams text when tok is given, else prints the new ids. The end
   of sequence and end of turn of the tokenizer stop it too (unless ignore_eos). */
static int run_generation(const char *cmd, const lvs_model *m, const lvs_tokenizer *tok, const int32_t *prompt, int n_prompt,
                          lvs_gen_opts o) {
    static const char *const finish[] = {"?", "length", "stop id", "stop string", "context"};
    lvs_gen_seq q;
    lvs_error err;
    streamer sm;
    int32_t stop[2], *out = (int32_t *)malloc(sizeof(int32_t) * (size_t)(o.max_new + 1));
    int j, rc = 0;
    double t0;
    if (tok) {
        lvs_special_ids sp;
        lvs_tokenizer_specials(tok, &sp);
        o.n_stop_ids = 0;
        if (sp.eos >= 0) stop[o.n_stop_ids++] = sp.eos;
        if (sp.eot >= 0 && sp.eot != sp.eos) stop[o.n_stop_ids++] = sp.eot;
        if (!o.ignore_eos) o.stop_ids = stop;
        else o.n_stop_ids = 0;
        memset(&sm, 0, sizeof sm);
        lvs_detok_stream_init(&sm.ds, tok, 1);
        o.on_token = stream_token;
        o.on_token_user = &sm;
    }
    memset(&q, 0, sizeof q);
    q.prompt = prompt;
    q.n_prompt = n_prompt;
    q.out = out;
    t0 = now();
    if (!out || lvs_generate(m, &q, 1, &o, &err) != LVS_OK) {
        fprintf(stderr, "\nlvs %s: error: %s [%s]\n", cmd, out ? err.message : "out of memory",
                out ? lvs_status_name(err.status) : "LVS_ERR_NOMEM");
        rc = 1;
    } else {
        t0 = now() - t0;
        if (tok) printf("\n");
        else {
            for (j = 0; j < q.n_out; j++) printf(j ? ",%d" : "%d", (int)out[j]);
            printf("\n");
        }
        fflush(stdout);
        if (tok && sm.failed) {
            fprintf(stderr, "lvs %s: error: a generated id could not be decoded\n", cmd);
            rc = 1;
        }
        fprintf(stderr, "lvs %s: %d prompt tokens, %d new tokens (%s) in %.2f s, %.1f tokens/s including the prompt pass\n",
                cmd, n_prompt, q.n_out, finish[q.finish >= 0 && q.finish <= 4 ? q.finish : 0], t0,
                q.n_out / (t0 > 0 ? t0 : 1e-9));
    }
    if (tok) lvs_detok_stream_free(&sm.ds);
    free(out);
    return rc;
}

/* The prompt ids of a text: raw (BOS as the post-processor adds it) or in the chat template. */
static int text_prompt(const char *cmd, const lvs_tokenizer *tok, const lvs_chat *chat, const char *system,
                       const char *text, int32_t **ids, size_t *n) {
    lvs_error err;
    lvs_status s = chat ? lvs_chat_tokenize(chat, tok, system, text, NULL, 1, ids, n, &err)
                        : lvs_tokenize(tok, text, strlen(text), 1, ids, n, &err);
    if (s != LVS_OK) {
        fprintf(stderr, "lvs %s: error: %s [%s]\n", cmd, err.message, lvs_status_name(err.status));
        return 0;
    }
    if (*n == 0) {
        fprintf(stderr, "lvs %s: error: the prompt has no tokens\n", cmd);
        lvs_free(*ids);
        return 0;
    }
    return 1;
}

static int open_tokenizer(const char *cmd, const lvs_model *m, int chat, const char *tpl, lvs_tokenizer **tok,
                          lvs_chat *c) {
    lvs_error err;
    if (lvs_tokenizer_from_files(tok, lvs_model_get_files(m), &err) != LVS_OK) {
        fprintf(stderr, "lvs %s: error: %s [%s]\n", cmd, err.message, lvs_status_name(err.status));
        return 0;
    }
    if (lvs_tokenizer_vocab_size(*tok) > lvs_model_config(m)->vocab_size) {
        fprintf(stderr, "lvs %s: error: the tokenizer has %lld ids but the model only %lld\n", cmd,
                (long long)lvs_tokenizer_vocab_size(*tok), (long long)lvs_model_config(m)->vocab_size);
        lvs_tokenizer_free(*tok);
        return 0;
    }
    if (chat && lvs_chat_init(c, *tok, tpl, &err) != LVS_OK) {
        fprintf(stderr, "lvs %s: error: %s [%s]\n", cmd, err.message, lvs_status_name(err.status));
        lvs_tokenizer_free(*tok);
        return 0;
    }
    return 1;
}

static int cmd_generate(int argc, char **argv) {
    model_args a;
    lvs_model *m;
    lvs_gen_opts o;
    lvs_tokenizer *tok = NULL;
    lvs_chat chat;
    const char *text = NULL, *system = NULL, *tpl = NULL;
    int32_t *ids = NULL;
    size_t n_ids = 0;
    int i, rc = 1, use_chat = 0;
    memset(&a, 0, sizeof a);
    lvs_model_opts_default(&a.opts);
    lvs_gen_opts_default(&o);
    o.max_new = 32;
    for (i = 0; i < argc; i++) {
        const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage_generate, stdout);
            fputs(usage_sampling, stdout);
            fputs(usage_model_opts, stdout);
            free(a.ids);
            return 0;
        }
        if ((r = parse_model_opt("generate", argc, argv, &i, &a)) == 0) r = parse_gen_opt("generate", argc, argv, &i, &o);
        if (r < 0) { free(a.ids); return 2; }
        if (r) continue;
        if ((strcmp(opt, "-p") == 0 || strcmp(opt, "--prompt") == 0 || strcmp(opt, "--system") == 0 ||
             strcmp(opt, "--template") == 0) && !v) {
            free(a.ids);
            return fail_usage("generate", "a value is missing after", opt);
        }
        if (strcmp(opt, "-p") == 0 || strcmp(opt, "--prompt") == 0) text = argv[++i];
        else if (strcmp(opt, "--system") == 0) system = argv[++i];
        else if (strcmp(opt, "--template") == 0) { tpl = argv[++i]; use_chat = 1; }
        else if (strcmp(opt, "--chat") == 0) use_chat = 1;
        else if (opt[0] == '-' && opt[1]) { free(a.ids); return fail_usage("generate", "unknown option", opt); }
        else if (!a.path) a.path = opt;
        else { free(a.ids); return fail_usage("generate", "unexpected argument", opt); }
    }
    if (!a.path || (!a.ids) == (!text)) { free(a.ids); return fail_usage("generate", "needs MODEL and one of -p TEXT or --ids", NULL); }
    if (!text && (use_chat || system)) { free(a.ids); return fail_usage("generate", "--chat, --system and --template need -p TEXT", NULL); }
    if (system && !use_chat) return fail_usage("generate", "--system needs --chat", NULL);
    if (!(m = load("generate", &a))) { free(a.ids); return 1; }
    if (!text) rc = run_generation("generate", m, NULL, a.ids, a.n_ids, o);
    else if (open_tokenizer("generate", m, use_chat, tpl, &tok, &chat)) {
        if (text_prompt("generate", tok, use_chat ? &chat : NULL, system, text, &ids, &n_ids)) {
            rc = run_generation("generate", m, tok, ids, (int)n_ids, o);
            lvs_free(ids);
        }
        if (use_chat) lvs_chat_free(&chat);
        lvs_tokenizer_free(tok);
    }
    free(a.ids);
    lvs_model_close(m);
    return rc;
}

static const char usage_chat[] =
    "usage: lvs chat MODEL [--system TEXT] [--template NAME] [-n N] [--temp T] [--top-k K]\n"
    "                [--top-p P] [--min-p P] [--seed S] [--dtype D] [--threads N]\n"
    "\n"
    "Reads messages from stdin, one per line, and streams each answer to stdout. Every message\n"
    "is answered as the first user turn of a new conversation (with the system prompt, if\n"
    "any), in the model's chat template: the single-turn setting the audit measures; no history\n"
    "is kept. An empty line is ignored; end of input or /quit ends the session.\n"
    "  --system TEXT  the system prompt\n"
    "  --template NAME  the chat format (see lvs generate --help)\n";

/* One line of any length from f, without its line ending; NULL at end of input. */
static char *read_line(FILE *f) {
    size_t cap = 256, n = 0;
    char *b = (char *)malloc(cap);
    int c;
    if (!b) return NULL;
    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (n + 1 >= cap) {
            char *b2 = (char *)realloc(b, cap *= 2);
            if (!b2) { free(b); return NULL; }
            b = b2;
        }
        b[n++] = (char)c;
    }
    if (c == EOF && n == 0) { free(b); return NULL; }
    if (n && b[n - 1] == '\r') n--;
    b[n] = 0;
    return b;
}

static int cmd_chat(int argc, char **argv) {
    model_args a;
    lvs_model *m;
    lvs_gen_opts o;
    lvs_tokenizer *tok = NULL;
    lvs_chat chat;
    const char *system = NULL, *tpl = NULL;
    char *line;
    int i, rc = 0;
    memset(&a, 0, sizeof a);
    lvs_model_opts_default(&a.opts);
    lvs_gen_opts_default(&o);
    o.max_new = 256;
    for (i = 0; i < argc; i++) {
        const char *opt = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int r;
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage_chat, stdout);
            fputs(usage_sampling, stdout);
            fputs(usage_model_opts, stdout);
            return 0;
        }
        if ((r = parse_model_opt("chat", argc, argv, &i, &a)) == 0) r = parse_gen_opt("chat", argc, argv, &i, &o);
        if (r < 0 || a.ids) { free(a.ids); return r < 0 ? 2 : fail_usage("chat", "does not take --ids", NULL); }
        if (r) continue;
        if ((strcmp(opt, "--system") == 0 || strcmp(opt, "--template") == 0) && !v)
            return fail_usage("chat", "a value is missing after", opt);
        if (strcmp(opt, "--system") == 0) system = argv[++i];
        else if (strcmp(opt, "--template") == 0) tpl = argv[++i];
        else if (opt[0] == '-' && opt[1]) return fail_usage("chat", "unknown option", opt);
        else if (!a.path) a.path = opt;
        else return fail_usage("chat", "unexpected argument", opt);
    }
    if (!a.path) return fail_usage("chat", "needs MODEL", NULL);
    if (!(m = load("chat", &a))) return 1;
    if (!open_tokenizer("chat", m, 1, tpl, &tok, &chat)) { lvs_model_close(m); return 1; }
    fprintf(stderr, "lvs chat: %s, chat format %s; type a message (end of input or /quit ends)\n", a.path,
            lvs_chat_format_name(chat.format));
    for (;;) {
        int32_t *ids;
        size_t n;
        fputs("> ", stderr);
        fflush(stderr);
        if (!(line = read_line(stdin))) break;
        if (strcmp(line, "/quit") == 0) { free(line); break; }
        if (!line[0]) { free(line); continue; }
        if (!text_prompt("chat", tok, &chat, system, line, &ids, &n)) rc = 1;
        else {
            if (run_generation("chat", m, tok, ids, (int)n, o) != 0) rc = 1;
            lvs_free(ids);
        }
        free(line);
    }
    lvs_chat_free(&chat);
    lvs_tokenizer_free(tok);
    lvs_model_close(m);
    return rc;
}

/* ---------------------------------------------------------------- tokenize */
static const char usage_tokenize[] =
    "usage: lvs tokenize TOKENIZER (TEXT | -- TEXT | --file PATH | --jsonl FILE) [--no-special]\n"
    "                    [--ids-only]\n"
    "\n"
    "TOKENIZER is a tokenizer.json file (tokenizer_config.json beside it is read too), a folder\n"
    "holding one, or a model (folder or lvs-convert file). Special tokens written in the text\n"
    "(<|eot_id|>, <s>, ...) are always matched; the post-processor's BOS/EOS are added unless\n"
    "--no-special. Prints one line per token: id, then the vocabulary piece as a JSON string.\n"
    "  --file PATH    tokenize the exact bytes of a file (UTF-8)\n"
    "  --ids-only     print only the ids, on one line, separated by single spaces\n"
    "  --no-special   do not add BOS/EOS\n"
    "  --jsonl FILE   batch mode: FILE (- for stdin) holds one JSON object per line with \"text\"\n"
    "                 and optionally \"add_special_tokens\" (true or false; default: true unless\n"
    "                 --no-special); writes one line {\"ids\": [...]} per input line\n";

static void print_json_string(const char *s, size_t n) {
    size_t i;
    putchar('"');
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"' || ch == '\\') printf("\\%c", ch);
        else if (ch == '\n') printf("\\n");
        else if (ch == '\t') printf("\\t");
        else if (ch == '\r') printf("\\r");
        else if (ch < 0x20 || ch == 0x7f) printf("\\u%04x", ch);
        else putchar(ch);
    }
    putchar('"');
}

static int tokenize_jsonl(const lvs_tokenizer *tok, const char *path, int add_special) {
    char *data = NULL, *line, *next;
    size_t len = 0, lineno = 0;
    lvs_error err;
    int rc = 0;
    if (strcmp(path, "-") == 0) {
        size_t cap = 1 << 16, got;
        data = (char *)malloc(cap + 1);
        while (data && (got = fread(data + len, 1, cap - len, stdin)) > 0) {
            len += got;
            if (len == cap) {
                char *d2 = (char *)realloc(data, (cap *= 2) + 1);
                if (!d2) { free(data); data = NULL; }
                data = d2;
            }
        }
        if (!data) { fprintf(stderr, "lvs tokenize: out of memory\n"); return 1; }
        data[len] = 0;
    } else if (lvs_read_file(path, &data, &len, &err) != LVS_OK) {
        fprintf(stderr, "lvs tokenize: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        return 1;
    }
    for (line = data; line < data + len && rc == 0; line = next) {
        lvs_json_doc d;
        const lvs_json *text, *sp;
        int32_t *ids = NULL;
        size_t n = 0, i, ll;
        next = (char *)memchr(line, '\n', (size_t)(data + len - line));
        ll = next ? (size_t)(next - line) : (size_t)(data + len - line);
        next = next ? next + 1 : data + len;
        lineno++;
        if (ll && line[ll - 1] == '\r') ll--;
        if (lvs_json_parse(&d, line, ll, 0, &err) != LVS_OK) {
            fprintf(stderr, "lvs tokenize: %s:%lu: %s\n", path, (unsigned long)lineno, err.message);
            rc = 1;
            break;
        }
        text = lvs_json_get(d.root, "text");
        sp = lvs_json_get(d.root, "add_special_tokens");
        if (!text || text->type != LVS_JSON_STRING || (sp && sp->type != LVS_JSON_TRUE && sp->type != LVS_JSON_FALSE)) {
            fprintf(stderr, "lvs tokenize: %s:%lu: needs an object with a string \"text\" (and a boolean "
                    "\"add_special_tokens\", if any)\n", path, (unsigned long)lineno);
            rc = 1;
        } else if (lvs_tokenize(tok, text->str, text->n, sp ? sp->type == LVS_JSON_TRUE : add_special, &ids, &n, &err) != LVS_OK) {
            fprintf(stderr, "lvs tokenize: %s:%lu: %s\n", path, (unsigned long)lineno, err.message);
            rc = 1;
        } else {
            printf("{\"ids\": [");
            for (i = 0; i < n; i++) printf(i ? ", %d" : "%d", (int)ids[i]);
            printf("]}\n");
            lvs_free(ids);
        }
        lvs_json_free(&d);
    }
    lvs_free(data);
    if (fflush(stdout) != 0) { fprintf(stderr, "lvs tokenize: cannot write the output\n"); rc = 1; }
    return rc;
}

static int cmd_tokenize(int argc, char **argv) {
    const char *path = NULL, *text = NULL, *file = NULL, *jsonl = NULL;
    int i, special = 1, ids_only = 0, rc = 0;
    lvs_tokenizer *tok;
    lvs_error err;
    char *data = NULL;
    size_t len = 0, n = 0, k;
    int32_t *ids = NULL;
    for (i = 0; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "-h") == 0 || strcmp(opt, "--help") == 0) {
            fputs(usage_tokenize, stdout);
            return 0;
        }
        if ((strcmp(opt, "--file") == 0 || strcmp(opt, "--jsonl") == 0) && i + 1 >= argc)
            return fail_usage("tokenize", "a value is missing after", opt);
        if (strcmp(opt, "--file") == 0) file = argv[++i];
        else if (strcmp(opt, "--jsonl") == 0) jsonl = argv[++i];
        else if (strcmp(opt, "--no-special") == 0) special = 0;
        else if (strcmp(opt, "--ids-only") == 0) ids_only = 1;
        else if (strcmp(opt, "--") == 0 && path && !text && i + 1 < argc) text = argv[++i];
        else if (opt[0] == '-' && opt[1]) return fail_usage("tokenize", "unknown option (a TEXT that starts with - goes after --)", opt);
        else if (!path) path = opt;
        else if (!text) text = opt;
        else return fail_usage("tokenize", "unexpected argument", opt);
    }
    if (!path || (!!text + !!file + !!jsonl) != 1)
        return fail_usage("tokenize", "needs TOKENIZER and one of TEXT, --file PATH, --jsonl FILE", NULL);
    if (lvs_tokenizer_open(&tok, path, &err) != LVS_OK) {
        fprintf(stderr, "lvs tokenize: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        return 1;
    }
    if (jsonl) rc = tokenize_jsonl(tok, jsonl, special);
    else if (file && lvs_read_file(file, &data, &len, &err) != LVS_OK) rc = 1;
    else if (lvs_tokenize(tok, file ? data : text, file ? len : strlen(text), special, &ids, &n, &err) != LVS_OK) rc = 1;
    else if (ids_only) {
        for (k = 0; k < n; k++) printf(k ? " %d" : "%d", (int)ids[k]);
        printf("\n");
    } else {
        for (k = 0; k < n; k++) {
            size_t pl = 0;
            const char *piece = lvs_token_piece(tok, ids[k], &pl);
            printf("%d\t", (int)ids[k]);
            print_json_string(piece ? piece : "", pl);
            printf("\n");
        }
        fprintf(stderr, "lvs tokenize: %lu tokens\n", (unsigned long)n);
    }
    if (rc && !jsonl) fprintf(stderr, "lvs tokenize: error: %s [%s]\n", err.message, lvs_status_name(err.status));
    lvs_free(ids);
    lvs_free(data);
    lvs_tokenizer_free(tok);
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
    if (strcmp(argv[1], "chat") == 0) return cmd_chat(argc - 2, argv + 2);
    if (strcmp(argv[1], "tokenize") == 0) return cmd_tokenize(argc - 2, argv + 2);
    if (strcmp(argv[1], "trace") == 0) return cmd_trace(argc - 2, argv + 2);
    if (strcmp(argv[1], "tensors") == 0) return cmd_tensors(argc - 2, argv + 2);
    fprintf(stderr, "lvs: unknown command \"%s\" (see lvs help)\n", argv[1]);
    return 2;
}
