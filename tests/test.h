/* A tiny test framework: CHECK macros record failures with file:line; the runner counts
   cases (each test function, and each sub-case a test opens) and prints "N passed, N failed". */
#ifndef LVS_TEST_H
#define LVS_TEST_H
#include "../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

void t_fail(const char *file, int line, const char *fmt, ...);
void t_sub_begin(const char *fmt, ...); /* a sub-case: counted on its own */
void t_sub_end(void);
void t_skip(const char *why);           /* the current case is not counted */
const char *t_tmp(void);                /* a scratch folder for this run */
const char *t_build(void);              /* folder with the built tools */
const char *t_shared(void);             /* ../shared (tokenizers), or NULL */
char *t_path(const char *name);         /* t_tmp()/name, malloc'd */
int t_run(const char *cmd);             /* runs a shell command; exit status, or 128+signal */
int t_write(const char *path, const void *data, size_t n);
char *t_slurp(const char *path, size_t *n); /* whole file (NUL-terminated) or NULL */

#define CHECK(c) do { if (!(c)) t_fail(__FILE__, __LINE__, "%s", #c); } while (0)
#define CHECKF(c, ...) do { if (!(c)) t_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define CHECK_ST(expr, want)                                                                      \
    do {                                                                                          \
        lvs_status s_ = (expr);                                                                   \
        if (s_ != (want))                                                                         \
            t_fail(__FILE__, __LINE__, "%s returned %s, expected %s", #expr, lvs_status_name(s_), \
                   lvs_status_name(want));                                                        \
    } while (0)
#define CHECK_OK(expr, errp)                                                                      \
    do {                                                                                          \
        lvs_status s_ = (expr);                                                                   \
        if (s_ != LVS_OK)                                                                         \
            t_fail(__FILE__, __LINE__, "%s returned %s: %s", #expr, lvs_status_name(s_),          \
                   (errp)->message);                                                              \
    } while (0)

/* helpers shared by the tests (util.c) */
typedef struct t_model {
    const char *config;   /* config.json text */
    int dtype;            /* lvs_dtype of the stored weights */
    int shards;           /* 0/1: model.safetensors; >1: that many shards and an index */
    int gpt2_prefix;      /* GPT-2: 1 = "transformer." names */
    int extra_buffers;    /* add buffers a converter must skip */
    double scale;         /* weight std */
    unsigned long long seed;
} t_model;
/* Writes a random model folder that matches the config; returns 0 on success. */
int t_make_model(const char *dir, const t_model *m);
/* max |a - b| / max |b| (NaN counts as an infinite error) */
double t_rel_err(const float *a, const float *b, size_t n);
/* 1 if both files exist and hold the same bytes */
int t_same_file(const char *a, const char *b);
/* Writes a byte-level tokenizer (vocabulary 259) with a Llama-2 chat template into dir. */
void t_byte_tokenizer(const char *dir);
/* Adds the words "Yes" (id 259) and "No" (id 260) to the tokenizer t_byte_tokenizer wrote. */
void t_add_yes_no(const char *dir);
/* Reference losses (lvs_loss_fn) in double: t_ce_loss, user = the int32_t targets of rows
   0..n_rows-2 (mean cross-entropy; the last row predicts nothing); t_linear_loss, user = the
   float coefficients (sum of logits x coefficients). */
float t_ce_loss(void *user, const float *logits, int n_rows, int64_t V, float *dlogits);
float t_linear_loss(void *user, const float *logits, int n_rows, int64_t V, float *dlogits);
/* Three prompts cut from a and b (3, 7 and 11 tokens), 20 greedy tokens each: decoded together
   by `batched` and one at a time by `alone`, the tokens must be the same. */
void t_check_batched_generation(const lvs_model *batched, const lvs_model *alone, const int32_t *a, const int32_t *b,
                                const char *what);
#endif
