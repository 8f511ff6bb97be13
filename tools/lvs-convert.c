/* lvs-convert: turns a Hugging Face model folder (or a file written by lvs-convert) into one
   self-contained safetensors file with matrices in f32, f16, bf16 or int8. */
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: lvs-convert IN OUT.safetensors [--dtype f32|f16|bf16|int8] [--adapter DIR] [--quiet]\n"
    "\n"
    "Reads IN, a Hugging Face model folder (config.json; model.safetensors or the shards named by\n"
    "model.safetensors.index.json; tokenizer.json, tokenizer_config.json, generation_config.json,\n"
    "special_tokens_map.json and chat templates when present) or a file written by lvs-convert,\n"
    "and writes OUT, ONE safetensors file that is a complete model:\n"
    "  - every matrix (2-D weight) in the chosen dtype, stored [out, in] (GPT-2's Conv1D weights\n"
    "    are transposed); int8 = blocks of 32 along the input dimension, NAME (I8) plus\n"
    "    NAME.scale (F32, one scale per block), w = scale * q;\n"
    "  - norms and biases in F32;\n"
    "  - the JSON and template files verbatim in the header's __metadata__, under their names.\n"
    "Tensors the architecture does not use (rotary buffers, GPT-2 mask buffers, a tied lm_head)\n"
    "are listed as skipped. Missing or wrong-shaped tensors and unknown architectures are errors.\n"
    "\n"
    "Options:\n"
    "  --dtype T    f32, f16 (default), bf16 or int8\n"
    "  --adapter DIR  merge this PEFT LoRA adapter into the weights first: W + scale B A, in f32\n"
    "               (scale = lora_alpha / r, or / sqrt(r) with use_rslora)\n"
    "  -q, --quiet  print nothing but errors\n"
    "  -h, --help   this text\n"
    "\n"
    "For each tensor it prints the shape, the dtypes and, for f16/bf16/int8, the round-trip error:\n"
    "rms_rel = sqrt(sum (w - w')^2 / sum w^2); max_rel = largest |w - w'| / |w| over elements in\n"
    "the target's normal range (f16, bf16) or largest |w - w'| / max|w| within a 32-block (int8).\n"
    "\n"
    "Exit status: 0 done, 1 bad input or write failure (OUT is left untouched), 2 bad usage.\n";

typedef struct { int quiet; long n_written, n_skipped; double worst_rms; } report;

static void on_tensor(void *user, const lvs_convert_stats *s) {
    report *r = (report *)user;
    char shape[48];
    if (s->event == LVS_CONVERT_SKIPPED) {
        r->n_skipped++;
        if (!r->quiet) printf("  skipped %s (%s, %s)\n", s->name, s->src_dtype, s->note);
        return;
    }
    r->n_written++;
    if (s->rms_rel > r->worst_rms) r->worst_rms = s->rms_rel;
    if (r->quiet) return;
    if (s->ndim == 2) snprintf(shape, sizeof shape, "[%lld, %lld]", (long long)s->shape[0], (long long)s->shape[1]);
    else snprintf(shape, sizeof shape, "[%lld]", (long long)s->shape[0]);
    printf("  %-56s %-14s %4s -> %-4s", s->name, shape, s->src_dtype, s->dst_dtype);
    if (s->lossy) printf("  max_rel %.2e  rms_rel %.2e", s->max_rel, s->rms_rel);
    if (s->transposed) printf("  (transposed)");
    if (s->n_subnormal) printf("  (%lld below the normal range)", (long long)s->n_subnormal);
    if (s->n_overflow) printf("  (WARNING: %lld values overflowed to infinity)", (long long)s->n_overflow);
    printf("\n");
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *in = NULL, *out = NULL, *adapter = NULL;
    lvs_wtype wt = LVS_W_F16;
    report r;
    lvs_error err;
    int i;
    memset(&r, 0, sizeof r);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
            r.quiet = 1;
        } else if (strcmp(a, "--dtype") == 0 || strncmp(a, "--dtype=", 8) == 0) {
            const char *v = a[7] == '=' ? a + 8 : (i + 1 < argc ? argv[++i] : NULL);
            if (!v || !lvs_wtype_from_name(v, &wt)) {
                fprintf(stderr, "lvs-convert: --dtype needs one of f32, f16, bf16, int8%s%s\n", v ? "; got " : "",
                        v ? v : "");
                return 2;
            }
        } else if (strcmp(a, "--adapter") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "lvs-convert: --adapter needs a folder\n");
                return 2;
            }
            adapter = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "lvs-convert: unknown option %s (see lvs-convert --help)\n", a);
            return 2;
        } else if (!in) in = a;
        else if (!out) out = a;
        else {
            fprintf(stderr, "lvs-convert: unexpected argument %s (see lvs-convert --help)\n", a);
            return 2;
        }
    }
    if (!in || !out) {
        fprintf(stderr, "lvs-convert: need IN and OUT (see lvs-convert --help)\n");
        return 2;
    }
    if (!r.quiet)
        printf("converting %s%s%s -> %s (%s)\n", in, adapter ? " + adapter " : "", adapter ? adapter : "", out,
               lvs_wtype_name(wt));
    if (lvs_convert_merged(in, out, wt, adapter, on_tensor, &r, &err) != LVS_OK) {
        fprintf(stderr, "lvs-convert: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        return 1;
    }
    if (!r.quiet)
        printf("wrote %s: %ld tensors (%ld skipped), largest rms_rel %.2e\n", out, r.n_written, r.n_skipped,
               r.worst_rms);
    return 0;
}
