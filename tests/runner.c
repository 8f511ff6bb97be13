/* The test runner: runs every test (or those whose name contains argv[1]) and ends with
   the line "N passed, N failed". Environment: LVS_BUILD (folder with the tools, default
   build), LVS_SHARED (default ../shared). */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define TESTS(X)                                                                                   \
    X(test_status_names) X(test_f16_exhaustive) X(test_f32_to_f16) X(test_bf16) X(test_rng)         \
    X(test_files) X(test_json_values) X(test_json_strings) X(test_json_numbers) X(test_json_errors) \
    X(test_json_depth) X(test_json_duplicates) X(test_json_utf8) X(test_json_tokenizers)            \
    X(test_st_reference_bytes) X(test_st_roundtrip) X(test_st_deterministic) X(test_st_alignment)   \
    X(test_st_rules) X(test_st_read_f32) X(test_st_sharded) X(test_st_writer_errors)               \
    X(test_bad_corpus) X(test_config_defaults) X(test_config_errors) X(test_arch_tensors)          \
    X(test_q8) X(test_convert_f32_exact) X(test_convert_lossy) X(test_convert_gpt2)                \
    X(test_convert_sharded_and_reconvert) X(test_convert_errors) X(test_allocator) X(test_engine_goldens)    \
    X(test_engine_reduced_precision) X(test_engine_greedy) X(test_engine_incremental)                \
    X(test_engine_batch_and_threads) X(test_engine_hooks) X(test_site_parse) X(test_sampling)          \
    X(test_engine_errors) X(test_engine_lvs_file) X(test_generate_edges) X(test_nfc)                 \
    X(test_tokenizer_shared) X(test_tokenizer_roundtrip) X(test_tokenizer_components)     \
    X(test_tokenizer_random)     X(test_tokenizer_post_and_errors) X(test_detok_stream) X(test_chat_templates) X(test_chat_bos_once) X(test_tools)        \
    X(test_tools_text) X(test_backward_goldens) X(test_backward_deterministic)                    \
    X(test_backward_reduced_precision) X(test_backward_errors) X(test_backward_last_rows) X(test_backward_panel_cache) X(test_trace_loss_from) X(test_backward_ce_head) X(test_grad_ops) X(test_grad_matmul) X(test_grad_directional) X(test_grad_lora) X(test_keyword_judge) X(test_lvs_statistics)       \
    X(test_prompt_files) X(test_attacks) X(test_score_cli) X(test_lora_goldens) X(test_lora_reduced_precision) X(test_lora_init) X(test_lora_files) X(test_lora_merge) X(test_lora_errors) X(test_lora_memorise) X(test_adamw_schedules) X(test_sft_data) X(test_finetune_cli) X(test_reward_model) X(test_judge) X(test_classify_cli) X(test_backward2_lora) X(test_engine2_lora_merge)          \
    X(test_engine2_config) X(test_engine2_goldens) X(test_engine2_classifier) X(test_engine2_reduced_precision) \
    X(test_engine2_greedy) X(test_engine2_incremental) X(test_engine2_batch_and_threads) X(test_engine2_hooks)   \
    X(test_engine2_errors) X(test_backward2_goldens) X(test_backward2_deterministic)                           \
    X(test_backward2_reduced_precision) X(test_backward2_ce_head) X(test_backward2_packed) X(test_backward2_errors) \
    X(test_backward_inject) X(test_toy_world) X(test_toy_tokenizer) X(test_toy_models) X(test_toy_train_deterministic) \
    X(test_toy_cli) X(test_steer_cli) X(test_patch_cli) X(test_finetune_stop_at_onset) X(test_probe_auroc)  \
    X(test_probe_fit) X(test_probe_fit_large) X(test_probe_errors) X(test_pool_states) X(test_diff_means) X(test_probe_cli)  \
    X(test_report_text) X(test_report_md) X(test_report_html) X(test_report_nulls)               \
    X(test_report_escape) X(test_report_errors) X(test_report_locale) X(test_report_cli) \
    X(test_audit_cli) X(test_audit_gap)

#define DECLARE(name) void name(void);
TESTS(DECLARE)
#define ENTRY(name) {#name, name},
static const struct { const char *name; void (*fn)(void); } tests[] = {TESTS(ENTRY)};

static int n_pass, n_fail, cur_failed, sub_failed, in_sub, skipped;
static const char *cur_name;
static char sub_name[256], tmpdir[512];

void t_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    fprintf(stdout, "FAIL %s:%d: [%s%s%s] ", file, line, cur_name, in_sub ? " / " : "", in_sub ? sub_name : "");
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
    if (in_sub) sub_failed = 1; else cur_failed = 1;
}
void t_sub_begin(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sub_name, sizeof sub_name, fmt, ap);
    va_end(ap);
    in_sub = 1;
    sub_failed = 0;
}
void t_sub_end(void) {
    if (sub_failed) n_fail++; else n_pass++;
    in_sub = 0;
}
void t_skip(const char *why) {
    printf("skip %s: %s\n", cur_name, why);
    skipped = 1;
}
const char *t_tmp(void) { return tmpdir; }
const char *t_build(void) { return getenv("LVS_BUILD") ? getenv("LVS_BUILD") : "build"; }
const char *t_shared(void) {
    static char buf[512];
    const char *s = getenv("LVS_SHARED") ? getenv("LVS_SHARED") : "../shared";
    struct stat sb;
    snprintf(buf, sizeof buf, "%s/tokenizers", s);
    return stat(buf, &sb) == 0 ? s : NULL;
}
char *t_path(const char *name) {
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = (char *)malloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}
int t_run(const char *cmd) {
    int st = system(cmd);
    if (st == -1) return -1;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}
int t_write(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok;
    if (!f) return -1;
    ok = fwrite(data, 1, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}
char *t_slurp(const char *path, size_t *n) {
    char *d = NULL;
    size_t len;
    if (lvs_read_file(path, &d, &len, NULL) != LVS_OK) return NULL;
    if (n) *n = len;
    return d;
}

int main(int argc, char **argv) {
    size_t i;
    char cmd[600];
    snprintf(tmpdir, sizeof tmpdir, "%s/tmp/run-%ld", t_build(), (long)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", tmpdir);
    if (system(cmd) != 0) {
        fprintf(stderr, "cannot create %s\n", tmpdir);
        return 1;
    }
    for (i = 0; i < sizeof tests / sizeof tests[0]; i++) {
        if (argc > 1 && !strstr(tests[i].name, argv[1])) continue;
        cur_name = tests[i].name;
        cur_failed = 0;
        skipped = 0;
        tests[i].fn();
        if (in_sub) t_sub_end();
        if (skipped && !cur_failed) continue;
        if (cur_failed) n_fail++; else n_pass++;
    }
    if (n_fail == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "note: could not remove %s\n", tmpdir);
    }
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
