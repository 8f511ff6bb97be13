/* lvs.h - audit the safety of open chat models on a laptop, in one C header.
   MIT licensed (see the end of this file). Version 0.1.0.

   =====================================================================================
   MANUAL
   =====================================================================================

   What it is
     lvs.h implements the representation-level safety audit of "When Behavioral Safety
     Evaluation Fails: A Representation-Level Perspective" (arXiv 2606.08044): besides counting
     refusals, it intervenes on a model (harmful LoRA fine-tuning, bounded perturbations of hidden
     states) and measures how easily harmful behaviour appears (the Latent Vulnerability Score).
     It needs libc and libm only; OpenMP is optional.

     This version contains: strict JSON reading, safetensors reading (files and sharded
     folders) and writing, config.json parsing, int8 block quantization, the checkpoint
     converter behind `lvs-convert`, and the transformer engine for Llama, Mistral and Qwen2
     (f32/f16/bf16/int8 weights, KV cache, hooks at every site, batched forward and generation).

   Using it
     In exactly one C or C++ file:
         #define LVS_IMPLEMENTATION
         #include "lvs.h"
     Everywhere else include "lvs.h" without the define. Build with `cc ... -lm`
     (add -fopenmp to use several cores).

   A 20-line example: list the tensors of a safetensors file or model folder
         #define LVS_IMPLEMENTATION
         #include "lvs.h"
         #include <stdio.h>
         int main(int argc, char **argv) {
             lvs_safetensors st;
             lvs_error err;
             size_t i;
             if (argc < 2 || lvs_st_open(&st, argv[1], &err) != LVS_OK) {
                 fprintf(stderr, "%s\n", argc < 2 ? "usage: ls PATH" : err.message);
                 return 1;
             }
             for (i = 0; i < st.n_tensors; i++) {
                 const lvs_st_tensor *t = &st.tensors[i];
                 printf("%-60s %-5s %lld elements\n", t->name,
                        lvs_dtype_name(t->dtype), (long long)t->numel);
             }
             lvs_st_close(&st);
             return 0;
         }

   Configuration macros (define before including the implementation)
     LVS_IMPLEMENTATION  compile the implementation into this translation unit.
     LVS_STATIC          make every function static (implies the implementation is private to
                         this translation unit).
     LVSDEF              linkage of the public functions (default: extern, or static with
                         LVS_STATIC).
     LVS_MALLOC(n), LVS_REALLOC(p, n), LVS_FREE(p)
                         the allocator (default malloc/realloc/free). Define all three or none.
                         Memory the library hands to the caller (lvs_read_file, ...) is released
                         with lvs_free(), which calls LVS_FREE.
     LVS_ASSERT(x)       internal invariant checks (default assert). Never used on input data:
                         bad input always returns a status.
     LVS_NO_MMAP         read files into memory instead of mapping them (POSIX mmap and Windows
                         file mapping are the defaults).
     LVS_NO_SIMD         use the portable C kernels even when the compiler targets AVX2+FMA+F16C
                         (the AVX2 kernels are compiled when __AVX2__, __FMA__ and __F16C__ are
                         defined, e.g. with -march=native).
     LVS_JSON_MAX_DEPTH  default nesting limit of the JSON reader (default 256).

   Errors
     Every fallible function returns an lvs_status (LVS_OK = 0) and, when given a non-NULL
     lvs_error *, fills it with the status, a message naming the file, field or tensor, and
     the byte offset in the input where that makes sense (-1 otherwise). The library never
     prints, never calls exit() or abort() on bad input. lvs_status_name() gives the enum
     name, lvs_status_text() a short description.

   Thread safety
     No global mutable state. Distinct objects may be used from distinct threads; one object
     must not be used from two threads at once. Read-only queries on an open lvs_safetensors
     (lvs_st_find, lvs_st_read_f32) are safe concurrently.

   Files and paths
     Paths are UTF-8 (on Windows they are passed to the wide-character API). Files are mapped
     (mmap, MapViewOfFile) or, with LVS_NO_MMAP or where mapping fails, read into memory.
     Every file the library writes goes first to PATH.tmp (PATH.tmp1 ... if that name exists:
     an existing file or link is never opened), is synced to disk, and is then renamed over
     PATH; on any failure the temporary file is removed and PATH is untouched.

   Limits
     Little-endian hosts only (checked at run time: LVS_ERR_UNSUPPORTED elsewhere).
     Tensors have at most LVS_MAX_DIMS (8) dimensions, each below 2^63. A safetensors header is
     at most 100,000,000 bytes, as in the reference implementation, and may hold at most one
     JSON value per 4 bytes (+64); every valid header does, and the cap bounds the memory a
     hostile header can take to about 40 bytes per header byte (LVS_ERR_UNSUPPORTED beyond).

   JSON reader (lvs_json_parse)
     Strict RFC 8259: one value, optional whitespace around it, no comments, no trailing
     commas, no byte order mark, no NaN/Infinity, numbers that overflow a double are rejected.
     Numbers are read without the C locale's help (a ',' decimal point changes nothing): an
     exact fast path, else strtod on a decimal-point-free copy, so doubles are correctly
     rounded wherever the C library's strtod is.
     Strings must be valid UTF-8 (no overlong forms, no surrogate code points, nothing above
     U+10FFFF); \u escapes are decoded, surrogate pairs combined, lone surrogates rejected.
     Duplicate keys in one object are rejected (found by sorting: O(n log n) whatever the
     keys). Nesting deeper than the limit is rejected (the parser is iterative, so the limit
     protects memory, not the stack). Integers are kept
     exactly when they fit in 64 bits: flag LVS_JSON_INT (value in .i as int64_t) or
     LVS_JSON_UINT (non-negative, value in (uint64_t).i); .num always holds the nearest double.
     Decoded strings are NUL-terminated and may contain NUL bytes (use .n).

   safetensors reader (lvs_st_open, lvs_st_parse)
     Enforces every rule of the reference implementation: file at least 8 bytes; header
     length at most 100,000,000 and inside the file; header valid UTF-8 JSON (the strict reader
     above, so duplicate names are rejected) and an object; each entry an object with "dtype"
     (BOOL U8 I8 F8_E5M2 F8_E4M3 F8_E8M0 F8_E4M3FNUZ F8_E5M2FNUZ I16 U16 F16 BF16 I32 U32 F32 F64
     I64 U64 C64, and the sub-byte F4 F6_E2M3 F6_E3M2, whose tensors must fill whole bytes),
     "shape" (array of non-negative integers) and "data_offsets" ([begin, end], non-negative
     integers); entries, sorted by offsets, contiguous from 0 with no gap or overlap;
     end - begin equals product(shape) x dtype size, computed with overflow checks; the last end
     is exactly the end of the file; "__metadata__", when present and not null, maps strings to
     strings. Extra keys inside an entry are ignored and "-0" reads as 0 (as the reference
     does). Tensor names must not contain NUL.
     A folder is opened through model.safetensors.index.json (its weight_map must name plain
     file names in that folder, every listed tensor must be in the named shard and every shard
     tensor must be listed) or else through model.safetensors. Metadata of a sharded folder is
     the union of the shards' metadata (the first shard wins on conflicting keys).
     Tensor data is used in place (zero-copy) when it is aligned for its dtype, and copied to
     an aligned buffer otherwise (lvs_st_tensor.copied). Only F32, F16, BF16 and F64 convert
     to f32 (lvs_st_read_f32).

   safetensors writer (lvs_st_writer_*)
     Deterministic output: "__metadata__" first with keys sorted, then the tensor entries in
     name order (byte-wise); data laid out by decreasing dtype size and then by name, so that
     every tensor is aligned for its type; the header padded with spaces to a multiple of 8.
     Files are written to PATH.tmp and renamed over PATH only when complete.

   int8 block format (lvs-convert --dtype int8, lvs_q8_*)
     A matrix W with shape [rows, cols] (cols = the input dimension) becomes two tensors:
       NAME        I8  [rows, cols]              q[r][c]
       NAME.scale  F32 [rows, ceil(cols / 32)]   s[r][b]
     with W[r][c] ~= s[r][c / 32] * q[r][c]. Each block of 32 consecutive columns of a row
     (the last one may be shorter) has s = max|w| / 127 over the block, in f32 (0 for an
     all-zero block, or when that division underflows), and q = round(w / s) (half away from
     zero), so |q| <= 127. Inputs must be finite (NaN gives q = 0; lvs_convert refuses them).

   Files written by lvs-convert
     One safetensors file that is a complete model: matrices (every 2-D tensor) in the chosen
     dtype, 1-D tensors (norms, biases) in F32, and in "__metadata__":
       "lvs.format"   "1"
       "lvs.dtype"    "f32" | "f16" | "bf16" | "int8"
       "lvs.layout"   "out_in": every matrix is stored [out, in] (row r = output r). GPT-2's
                      Conv1D weights, stored [in, out] by Hugging Face, are transposed.
       and each source file that was present, verbatim, under its own name: "config.json",
       "generation_config.json", "tokenizer.json", "tokenizer_config.json",
       "special_tokens_map.json", "chat_template.jinja", "chat_template.json".
     Conversion error figures (lvs_convert_stats): rms_rel = sqrt(sum (w - w')^2 / sum w^2)
     over the tensor; max_rel = for f16/bf16 the largest |w - w'| / |w| over elements whose
     magnitude is in the normal range of the target type (elements below it are counted in
     n_subnormal), for int8 the largest |w - w'| / max|w| within one 32-block.

   The engine (lvs_model_open, lvs_forward, lvs_generate)
     Follows Hugging Face transformers: rotate-half RoPE on the Hugging Face weight layout with
     the default, linear and llama3 frequency rules (angles in double), head_dim from config,
     attention scale head_dim^-0.5, grouped-query attention (query head h reads key/value head
     h / (heads / kv_heads)), RMSNorm x / sqrt(mean(x^2) + eps) * w, SiLU MLP, sliding windows
     (key j visible from query i iff i - W < j <= i; Mistral on every layer when sliding_window
     is set, Qwen2 only with use_sliding_window on layers >= max_window_layers, or as
     layer_types says), Qwen2's q/k/v biases, Llama's attention_bias and mlp_bias, tied
     embeddings. Norms, softmax, RoPE and attention run in f32 (norm means in double).
     Matrices: y = x W^T with f32 products and sums for f32/f16/bf16 weights; for int8 the
     activations are quantized to int8 blocks of 32 as well, each block's integer dot product
     is scaled by both scales and summed in f32. Every output is summed in the same order
     whatever the batch composition or thread count, so batching and threads never change a
     bit. One parallel loop per matrix product (over output rows), serial below a size
     threshold. A model is read-only after loading and may be shared by threads that each use
     their own lvs_cache.
     Hooks run in the calling thread, per sequence, in site order (embed, then per block
     resid_pre, attn_out, resid_mid, mlp_out, resid_post); a change to attn_out or mlp_out
     flows into the residual, a change to a residual flows onward. resid_post of block l and
     resid_pre of block l + 1 are the same values (both hooks run).
     Generation decodes all sequences together, one batched forward per new token; sampling
     applies temperature, then top-k, top-p (smallest prefix reaching the mass) and min-p,
     with the generator of sequence i seeded seed + i. A stop id ends a sequence without being
     written to its output; the model's end-of-sequence ids (config.json and
     generation_config.json) stop unless ignore_eos is set.

   Architectures (config.json "architectures"[0])
     Read, converted and checked: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM,
     Gemma2ForCausalLM, GPT2LMHeadModel, GPT2ForSequenceClassification. Run by the engine:
     the first three (Gemma-2 and GPT-2 are refused with LVS_ERR_UNSUPPORTED for now). Missing
     config keys take the default of the Hugging Face config class of that architecture.
*/
#ifndef LVS_H
#define LVS_H

#include <stddef.h>
#include <stdint.h>

#ifndef LVSDEF
#ifdef LVS_STATIC
#if defined(__GNUC__) || defined(__clang__)
#define LVSDEF static __attribute__((unused))
#else
#define LVSDEF static
#endif
#else
#define LVSDEF extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

#define LVS_VERSION "0.1.0"
#define LVS_MAX_DIMS 8
#define LVS_MAX_LAYERS 1024
#define LVS_Q8_BLOCK 32
#define LVS_ST_MAX_HEADER 100000000ull

/* ---------------------------------------------------------------- status codes */
typedef enum lvs_status {
    LVS_OK = 0,
    LVS_ERR_ARG,               /* invalid argument passed by the caller */
    LVS_ERR_NOMEM,             /* allocation failed */
    LVS_ERR_IO,                /* a file could not be opened, read or written */
    LVS_ERR_NOT_FOUND,         /* a required file, key or tensor does not exist */
    LVS_ERR_UNSUPPORTED,       /* valid input this version does not handle */
    LVS_ERR_JSON_SYNTAX,       /* not JSON: unexpected character, trailing data, ... */
    LVS_ERR_JSON_UTF8,         /* invalid UTF-8 */
    LVS_ERR_JSON_STRING,       /* bad escape, control character, lone surrogate */
    LVS_ERR_JSON_NUMBER,       /* number out of the range of a double */
    LVS_ERR_JSON_DEPTH,        /* nesting deeper than the limit */
    LVS_ERR_JSON_DUPLICATE_KEY,/* the same key twice in one object */
    LVS_ERR_ST_TOO_SMALL,      /* safetensors: file shorter than 8 bytes */
    LVS_ERR_ST_HEADER_TOO_LARGE, /* safetensors: header length over 100,000,000 */
    LVS_ERR_ST_HEADER_LENGTH,  /* safetensors: header extends beyond the file */
    LVS_ERR_ST_HEADER,         /* safetensors: header not an object, entry malformed */
    LVS_ERR_ST_DTYPE,          /* safetensors: unknown dtype */
    LVS_ERR_ST_SHAPE,          /* safetensors: bad shape (negative, not an integer, > 8 dims) */
    LVS_ERR_ST_OVERFLOW,       /* safetensors: size computation overflows */
    LVS_ERR_ST_OFFSETS,        /* safetensors: gap, overlap, reversed or wrong-sized offsets */
    LVS_ERR_ST_BOUNDS,         /* safetensors: tensor data beyond the end of the file */
    LVS_ERR_ST_TRAILING,       /* safetensors: bytes after the last tensor */
    LVS_ERR_ST_METADATA,       /* safetensors: __metadata__ not a string-to-string map */
    LVS_ERR_ST_INDEX,          /* sharded folder: bad model.safetensors.index.json */
    LVS_ERR_CONFIG,            /* config.json: missing, wrong-typed or contradictory field */
    LVS_ERR_ARCH,              /* unsupported architecture */
    LVS_ERR_TENSOR,            /* missing, wrong-shaped or wrong-typed model tensor */
    LVS_ERR_NONFINITE,         /* NaN or infinity where a finite number is required */
    LVS_STATUS_COUNT
} lvs_status;

typedef struct lvs_error {
    lvs_status status;
    int64_t offset;            /* byte offset in the input, or -1 */
    char message[512];
} lvs_error;

LVSDEF const char *lvs_status_name(lvs_status s); /* "LVS_ERR_JSON_DEPTH" */
LVSDEF const char *lvs_status_text(lvs_status s); /* "JSON nesting too deep" */
LVSDEF const char *lvs_version(void);
LVSDEF void lvs_free(void *p);                    /* frees memory the library returned */

/* ---------------------------------------------------------------- numbers */
LVSDEF float lvs_f16_to_f32(uint16_t h);
LVSDEF uint16_t lvs_f32_to_f16(float f);   /* round to nearest even, overflow -> inf */
LVSDEF float lvs_bf16_to_f32(uint16_t h);
LVSDEF uint16_t lvs_f32_to_bf16(float f);  /* round to nearest even, NaN stays NaN */

/* xoshiro256** seeded through splitmix64: same sequence on every platform. */
typedef struct lvs_rng { uint64_t s[4]; } lvs_rng;
LVSDEF void lvs_rng_seed(lvs_rng *r, uint64_t seed);
LVSDEF uint64_t lvs_rng_next(lvs_rng *r);
LVSDEF double lvs_rng_uniform(lvs_rng *r);  /* [0, 1), 53 random bits */
LVSDEF double lvs_rng_normal(lvs_rng *r);   /* standard normal (Box-Muller) */

/* ---------------------------------------------------------------- files */
typedef struct lvs_file {
    const unsigned char *data; /* the whole file, read-only */
    size_t size;
    int mapped;                /* 1: memory-mapped, 0: read into memory */
    void *impl_;
} lvs_file;
LVSDEF lvs_status lvs_file_open(lvs_file *f, const char *path, lvs_error *err);
LVSDEF void lvs_file_close(lvs_file *f);
/* Reads a whole file into a NUL-terminated buffer; release it with lvs_free(). */
LVSDEF lvs_status lvs_read_file(const char *path, char **data, size_t *size, lvs_error *err);
LVSDEF int lvs_is_dir(const char *path);
LVSDEF int lvs_is_file(const char *path);

/* ---------------------------------------------------------------- JSON */
typedef enum lvs_json_type {
    LVS_JSON_NULL, LVS_JSON_FALSE, LVS_JSON_TRUE, LVS_JSON_NUMBER,
    LVS_JSON_STRING, LVS_JSON_ARRAY, LVS_JSON_OBJECT
} lvs_json_type;
enum { LVS_JSON_INT = 1, LVS_JSON_UINT = 2 };

typedef struct lvs_json lvs_json;
struct lvs_json {
    const char *key;    /* member key (decoded, NUL-terminated) inside an object, else NULL */
    const char *str;    /* STRING: decoded bytes, NUL-terminated */
    lvs_json *items;    /* ARRAY/OBJECT: the n children, in document order */
    size_t n;           /* STRING: byte length; ARRAY/OBJECT: number of children */
    size_t key_len;
    size_t offset;      /* byte offset of the value in the parsed text */
    double num;         /* NUMBER: nearest double */
    int64_t i;          /* NUMBER: exact integer when flags has LVS_JSON_INT or LVS_JSON_UINT */
    unsigned char type; /* lvs_json_type */
    unsigned char flags;
};

typedef struct lvs_json_doc {
    lvs_json *root;
    void *impl_;
} lvs_json_doc;

/* max_depth <= 0 means LVS_JSON_MAX_DEPTH. */
LVSDEF lvs_status lvs_json_parse(lvs_json_doc *doc, const char *text, size_t len,
                                 int max_depth, lvs_error *err);
LVSDEF void lvs_json_free(lvs_json_doc *doc);
LVSDEF const lvs_json *lvs_json_get(const lvs_json *obj, const char *key); /* NULL if absent */
LVSDEF const char *lvs_json_type_name(int type);
/* Validates UTF-8 (RFC 3629); returns the offset of the first bad byte or len if valid. */
LVSDEF size_t lvs_utf8_check(const char *s, size_t len);

/* ---------------------------------------------------------------- dtypes */
typedef enum lvs_dtype {
    LVS_DTYPE_INVALID = 0,
    LVS_BOOL, LVS_U8, LVS_I8, LVS_F8_E5M2, LVS_F8_E4M3, LVS_I16, LVS_U16, LVS_F16, LVS_BF16,
    LVS_I32, LVS_U32, LVS_F32, LVS_F64, LVS_I64, LVS_U64,
    LVS_F4, LVS_F6_E2M3, LVS_F6_E3M2, LVS_F8_E8M0, LVS_F8_E4M3FNUZ, LVS_F8_E5M2FNUZ, LVS_C64,
    LVS_DTYPE_COUNT
} lvs_dtype;
LVSDEF size_t lvs_dtype_bits(lvs_dtype t);                      /* 4 .. 64; 0 if invalid */
LVSDEF size_t lvs_dtype_size(lvs_dtype t);                      /* bytes; 0 for F4, F6_* */
LVSDEF const char *lvs_dtype_name(lvs_dtype t);                 /* "F32"; "?" if invalid */
LVSDEF lvs_dtype lvs_dtype_from_name(const char *s, size_t len);  /* INVALID if unknown */

/* ---------------------------------------------------------------- safetensors reader */
typedef struct lvs_st_tensor {
    const char *name;
    lvs_dtype dtype;
    int ndim;
    int64_t shape[LVS_MAX_DIMS];
    int64_t numel;
    size_t nbytes;
    uint64_t begin, end;       /* data_offsets as written in the header */
    const void *data;          /* aligned for dtype */
    int shard;                 /* index into lvs_safetensors.shards */
    int copied;                /* 1 if data was copied to be aligned */
} lvs_st_tensor;

typedef struct lvs_st_meta {
    const char *key;
    const char *value;         /* NUL-terminated; may contain NUL (use value_len) */
    size_t value_len;
} lvs_st_meta;

typedef struct lvs_safetensors {
    size_t n_tensors;
    lvs_st_tensor *tensors;    /* sorted by name */
    size_t n_meta;
    lvs_st_meta *meta;         /* sorted by key */
    int n_shards;
    const char **shards;       /* file path of each shard */
    void *impl_;
} lvs_safetensors;

/* Opens a .safetensors file or a model folder (index or model.safetensors). */
LVSDEF lvs_status lvs_st_open(lvs_safetensors *st, const char *path, lvs_error *err);
/* Parses an in-memory file; buf must outlive st. */
LVSDEF lvs_status lvs_st_parse(lvs_safetensors *st, const void *buf, size_t size, lvs_error *err);
LVSDEF void lvs_st_close(lvs_safetensors *st);
LVSDEF const lvs_st_tensor *lvs_st_find(const lvs_safetensors *st, const char *name);
LVSDEF const lvs_st_meta *lvs_st_get_meta(const lvs_safetensors *st, const char *key);
/* Converts an F32/F16/BF16/F64 tensor to f32 (out holds numel floats). */
LVSDEF lvs_status lvs_st_read_f32(const lvs_st_tensor *t, float *out, lvs_error *err);

/* ---------------------------------------------------------------- safetensors writer */
typedef struct lvs_st_writer lvs_st_writer;
/* Produces a tensor's bytes when the writer needs them (streaming conversions). */
typedef lvs_status (*lvs_st_fill_fn)(void *user, void *dst, size_t nbytes, lvs_error *err);

LVSDEF lvs_st_writer *lvs_st_writer_create(void);   /* NULL when out of memory */
LVSDEF void lvs_st_writer_destroy(lvs_st_writer *w);
/* data is borrowed: it must stay valid until the writer has saved. */
LVSDEF lvs_status lvs_st_writer_add(lvs_st_writer *w, const char *name, lvs_dtype dtype,
                                    int ndim, const int64_t *shape, const void *data,
                                    lvs_error *err);
LVSDEF lvs_status lvs_st_writer_add_fill(lvs_st_writer *w, const char *name, lvs_dtype dtype,
                                         int ndim, const int64_t *shape, lvs_st_fill_fn fill,
                                         void *user, lvs_error *err);
LVSDEF lvs_status lvs_st_writer_set_meta(lvs_st_writer *w, const char *key, const char *value,
                                         size_t value_len, lvs_error *err);
LVSDEF lvs_status lvs_st_writer_save(lvs_st_writer *w, const char *path, lvs_error *err);
/* Writes into a new buffer; release it with lvs_free(). */
LVSDEF lvs_status lvs_st_writer_save_mem(lvs_st_writer *w, void **out, size_t *size,
                                         lvs_error *err);

/* ---------------------------------------------------------------- config.json */
typedef enum lvs_arch {
    LVS_ARCH_UNKNOWN = 0, LVS_ARCH_LLAMA, LVS_ARCH_MISTRAL, LVS_ARCH_QWEN2, LVS_ARCH_GEMMA2,
    LVS_ARCH_GPT2, LVS_ARCH_GPT2_CLS
} lvs_arch;
typedef enum lvs_rope_type { LVS_ROPE_DEFAULT = 0, LVS_ROPE_LINEAR, LVS_ROPE_LLAMA3 } lvs_rope_type;

typedef struct lvs_config {
    lvs_arch arch;
    char arch_name[64];        /* as written in "architectures" */
    int64_t vocab_size, hidden_size, intermediate_size, n_layers, n_heads, n_kv_heads;
    int64_t head_dim, max_positions;
    double norm_eps;
    double rope_theta;
    lvs_rope_type rope_type;
    double rope_factor, rope_low_freq_factor, rope_high_freq_factor;
    int64_t rope_original_max_positions;
    int tie_embeddings, attention_bias, mlp_bias;
    int64_t sliding_window;               /* 0: no sliding window anywhere */
    unsigned char layer_sliding[LVS_MAX_LAYERS]; /* 1 if layer l uses the window */
    double query_pre_attn_scalar;         /* Gemma-2 attention scale base, else 0 */
    double attn_softcap, final_softcap;   /* 0 = off */
    char act[32];                         /* "silu", "gelu_pytorch_tanh", "gelu_new", ... */
    int64_t num_labels;                   /* GPT2ForSequenceClassification */
    int64_t bos_id, pad_id;               /* -1 when absent */
    int n_eos;
    int64_t eos_ids[8];
} lvs_config;

LVSDEF lvs_status lvs_config_parse(lvs_config *c, const char *json, size_t len, lvs_error *err);
LVSDEF const char *lvs_arch_name(lvs_arch a);

/* ---------------------------------------------------------------- tensor layout */
enum { LVS_SPEC_MATRIX = 1, LVS_SPEC_CONV1D = 2 };
typedef struct lvs_tensor_spec {
    char name[128];
    int ndim;
    int64_t shape[2];          /* as stored in the Hugging Face file */
    int flags;                 /* LVS_SPEC_MATRIX: 2-D weight; LVS_SPEC_CONV1D: stored [in,out] */
} lvs_tensor_spec;
/* Lists the tensors a model of this config needs. st (may be NULL) decides naming variants
   such as GPT-2's optional "transformer." prefix. Release *specs with lvs_free(). */
LVSDEF lvs_status lvs_arch_tensors(const lvs_config *c, const lvs_safetensors *st,
                                   lvs_tensor_spec **specs, size_t *n, lvs_error *err);

/* ---------------------------------------------------------------- int8 blocks */
LVSDEF int64_t lvs_q8_nblocks(int64_t cols);
LVSDEF void lvs_q8_quantize_row(const float *x, int64_t cols, int8_t *q, float *scales);
LVSDEF void lvs_q8_dequantize_row(const int8_t *q, const float *scales, int64_t cols, float *x);

/* ---------------------------------------------------------------- model files, conversion */
#define LVS_MODEL_TEXTS 7
typedef struct lvs_model_files {
    lvs_safetensors st;
    int is_lvs;                /* a single file written by lvs-convert */
    const char *text[LVS_MODEL_TEXTS];   /* config.json, ..., NULL if absent */
    size_t text_len[LVS_MODEL_TEXTS];
    char *owned_[LVS_MODEL_TEXTS];
} lvs_model_files;
/* Names of the texts, in order: config.json, generation_config.json, tokenizer.json,
   tokenizer_config.json, special_tokens_map.json, chat_template.jinja, chat_template.json */
LVSDEF const char *lvs_model_text_name(int i);
LVSDEF const char *lvs_model_text(const lvs_model_files *m, const char *name, size_t *len);
/* Opens a Hugging Face folder, an lvs-convert file, or a safetensors file beside config.json. */
LVSDEF lvs_status lvs_model_files_open(lvs_model_files *m, const char *path, lvs_error *err);
LVSDEF void lvs_model_files_close(lvs_model_files *m);

typedef enum lvs_wtype { LVS_W_F32 = 0, LVS_W_F16, LVS_W_BF16, LVS_W_INT8 } lvs_wtype;
LVSDEF const char *lvs_wtype_name(lvs_wtype t);                 /* "f32", "f16", ... */
LVSDEF int lvs_wtype_from_name(const char *s, lvs_wtype *out);  /* 1 if known */

typedef struct lvs_convert_stats {
    const char *name;
    int event;                 /* LVS_CONVERT_TENSOR or LVS_CONVERT_SKIPPED */
    const char *src_dtype;     /* "BF16", or "int8" for a quantized source */
    const char *dst_dtype;
    int ndim;
    int64_t shape[2];          /* as written */
    int transposed;
    int lossy;                 /* 1 if max_rel/rms_rel are meaningful */
    double max_rel, rms_rel;
    int64_t n_subnormal;       /* f16/bf16: nonzero elements below the normal range */
    int64_t n_overflow;        /* finite values that became infinite */
    const char *note;          /* for SKIPPED: why */
} lvs_convert_stats;
enum { LVS_CONVERT_TENSOR = 1, LVS_CONVERT_SKIPPED = 2 };
typedef void (*lvs_convert_fn)(void *user, const lvs_convert_stats *s);

/* Converts a model (folder or file) into one self-contained safetensors file. The callback,
   if any, is called once per tensor written or skipped, in writing order. */
LVSDEF lvs_status lvs_convert(const char *in_path, const char *out_path, lvs_wtype wtype,
                              lvs_convert_fn cb, void *user, lvs_error *err);

/* ---------------------------------------------------------------- model (the engine) */
typedef struct lvs_model lvs_model;
#define LVS_AS_STORED (-1)
typedef struct lvs_model_opts {
    int dtype;          /* LVS_AS_STORED (default), or an lvs_wtype to convert the matrices to */
    int n_threads;      /* 0: OpenMP's default; ignored without OpenMP */
    int check_finite;   /* 1: scan every weight and refuse NaN or infinity (LVS_ERR_NONFINITE) */
} lvs_model_opts;
LVSDEF void lvs_model_opts_default(lvs_model_opts *o);
/* Loads a Hugging Face folder, a file written by lvs-convert, or a safetensors file beside its
   config.json. opts may be NULL. */
LVSDEF lvs_status lvs_model_open(lvs_model **out, const char *path, const lvs_model_opts *opts, lvs_error *err);
/* The same from files already open; takes them over (*files is zeroed, on failure too). */
LVSDEF lvs_status lvs_model_open_files(lvs_model **out, lvs_model_files *files, const lvs_model_opts *opts,
                                       lvs_error *err);
LVSDEF void lvs_model_close(lvs_model *m);
LVSDEF const lvs_config *lvs_model_config(const lvs_model *m);
LVSDEF const lvs_model_files *lvs_model_get_files(const lvs_model *m);
typedef struct lvs_model_stats {
    int64_t n_params;           /* parameters (a tied matrix counted once) */
    uint64_t weight_bytes;      /* bytes of all weights as held for compute */
    uint64_t owned_bytes;       /* of which converted into memory (the rest is mapped in place) */
    int n_matrices[4];          /* matrices per lvs_wtype */
    int n_eos;                  /* end-of-sequence ids: config.json + generation_config.json */
    int32_t eos[16];
} lvs_model_stats;
LVSDEF void lvs_model_get_stats(const lvs_model *m, lvs_model_stats *s);

/* Hook sites, TransformerLens-style: "embed" (the embedding lookup, before any scaling) and,
   for each block l, "blocks.l.resid_pre" (its input), "attn_out" (the attention output that is
   added to the residual), "resid_mid", "mlp_out", "resid_post" (the residual after block l,
   Hugging Face's hidden_states[l + 1], before the final norm). */
typedef enum lvs_site {
    LVS_SITE_EMBED = 0, LVS_SITE_RESID_PRE, LVS_SITE_ATTN_OUT, LVS_SITE_RESID_MID, LVS_SITE_MLP_OUT,
    LVS_SITE_RESID_POST, LVS_SITE_COUNT
} lvs_site;
LVSDEF const char *lvs_site_name(lvs_site s); /* "resid_post" */
/* Parses "embed", "blocks.3.attn_out", or a bare layer "3" / "mid" / "last" (= resid_post). */
LVSDEF lvs_status lvs_site_parse(const char *text, int64_t n_layers, lvs_site *site, int *layer, lvs_error *err);

typedef struct lvs_hook_call {
    lvs_site site;
    int layer;                  /* -1 for embed */
    int seq;                    /* index of the sequence in the lvs_forward call */
    const int64_t *pos;         /* absolute position of each of the T rows */
    int T, d;
} lvs_hook_call;
/* A hook reads and may modify x, the [T, d] f32 slab of one sequence at one site. */
typedef void (*lvs_hook_fn)(void *user, const lvs_hook_call *call, float *x);
typedef struct lvs_hook { lvs_site site; int layer; lvs_hook_fn fn; void *user; } lvs_hook;

/* Ready-made hooks. lvs_hook_capture: user is an lvs_act_buf; copies each row to
   buf[pos * d] (positions >= cap_pos are ignored). lvs_hook_replace: the reverse (patching:
   rows whose position has a captured value are overwritten with it). lvs_hook_add: user is
   an lvs_add_spec. */
typedef struct lvs_act_buf { float *buf; int64_t cap_pos; int d; unsigned char *have; } lvs_act_buf;
LVSDEF void lvs_hook_capture(void *user, const lvs_hook_call *call, float *x);
LVSDEF void lvs_hook_replace(void *user, const lvs_hook_call *call, float *x);
typedef struct lvs_add_spec {
    const float *vec;           /* [d], added (times scale) at every selected row, or NULL */
    const float *tensor;        /* [n_pos, d] indexed by absolute position, or NULL */
    int64_t n_pos;
    float scale;
    int64_t prompt_len;         /* > 0: only rows at positions < prompt_len; 0: all rows */
} lvs_add_spec;
LVSDEF void lvs_hook_add(void *user, const lvs_hook_call *call, float *x);

/* A KV cache with n_slots sequences of up to capacity positions each, plus the scratch memory
   of a forward pass. One cache may be used by one thread at a time; the model is read-only. */
typedef struct lvs_cache lvs_cache;
LVSDEF lvs_status lvs_cache_create(lvs_cache **out, const lvs_model *m, int n_slots, int64_t capacity,
                                   lvs_error *err);
LVSDEF void lvs_cache_free(lvs_cache *c);
LVSDEF int64_t lvs_cache_len(const lvs_cache *c, int slot);
LVSDEF lvs_status lvs_cache_truncate(lvs_cache *c, int slot, int64_t len, lvs_error *err);

enum { LVS_LOGITS_NONE = 0, LVS_LOGITS_LAST = 1, LVS_LOGITS_ALL = 2 };
typedef struct lvs_seq {
    int slot;                   /* cache slot; the tokens continue at lvs_cache_len(slot) */
    const int32_t *tokens;
    int n;
    int logits;                 /* LVS_LOGITS_*: which rows get logits */
    int logits_from;            /* LVS_LOGITS_ALL: rows logits_from .. n-1 only (default 0) */
    float *logits_out;          /* [1 or n - logits_from, vocab_size] */
    const lvs_hook *hooks;
    int n_hooks;
} lvs_seq;
/* One forward pass over several sequences at once (their rows share every matrix product). */
LVSDEF lvs_status lvs_forward(const lvs_model *m, lvs_cache *c, const lvs_seq *seqs, int n_seqs, lvs_error *err);

/* ---------------------------------------------------------------- generation */
typedef struct lvs_sampling {
    float temperature;          /* <= 0: greedy (ties: the lowest id) */
    int top_k;                  /* 0: off */
    float top_p;                /* 1: off */
    float min_p;                /* 0: off */
    uint64_t seed;              /* sequence i of a call draws from seed + i */
} lvs_sampling;
typedef const char *(*lvs_piece_fn)(void *user, int32_t id, size_t *len);
typedef struct lvs_gen_opts {
    int max_new;                /* new tokens at most (default 128) */
    lvs_sampling sampling;
    const int32_t *stop_ids;    /* extra stop ids */
    int n_stop_ids;
    int ignore_eos;             /* 1: the model's end-of-sequence ids do not stop */
    const char *const *stop_strings; /* stop when the text of the new tokens contains one */
    int n_stop_strings;
    lvs_piece_fn piece;         /* id -> text, needed for stop_strings */
    void *piece_user;
} lvs_gen_opts;
enum { LVS_FINISH_LENGTH = 1, LVS_FINISH_STOP_ID, LVS_FINISH_STOP_STRING, LVS_FINISH_CONTEXT };
typedef struct lvs_gen_seq {
    const int32_t *prompt;
    int n_prompt;
    const lvs_hook *hooks;      /* active in the prompt pass and at every new token */
    int n_hooks;
    int32_t *out;               /* room for max_new tokens; a stop id is not written */
    int n_out;                  /* set by lvs_generate */
    int finish;                 /* LVS_FINISH_* */
} lvs_gen_seq;
LVSDEF void lvs_gen_opts_default(lvs_gen_opts *o);
/* Continues each prompt; all sequences are decoded together, one batched step per token. */
LVSDEF lvs_status lvs_generate(const lvs_model *m, lvs_gen_seq *seqs, int n_seqs, const lvs_gen_opts *o,
                               lvs_error *err);
/* Picks a token from logits (modified in place) with the given settings and generator. */
LVSDEF int32_t lvs_sample(float *logits, int64_t vocab, const lvs_sampling *s, lvs_rng *rng);

#ifdef __cplusplus
}
#endif
#endif /* LVS_H */

/* =====================================================================================
   IMPLEMENTATION
   Sections, in the order data flows through them; each may call only the ones above it:
     base -> JSON -> safetensors reader -> safetensors writer -> config -> tensor layout
     -> int8 quantization -> model files and conversion
   ===================================================================================== */
#ifdef LVS_IMPLEMENTATION
#ifndef LVS_IMPLEMENTATION_DONE
#define LVS_IMPLEMENTATION_DONE

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <stdarg.h>
#include <math.h>
#include <float.h>
#include <assert.h>
#include <errno.h>

#if defined(LVS_MALLOC) && defined(LVS_REALLOC) && defined(LVS_FREE)
/* user allocator */
#elif !defined(LVS_MALLOC) && !defined(LVS_REALLOC) && !defined(LVS_FREE)
#define LVS_MALLOC(n) malloc(n)
#define LVS_REALLOC(p, n) realloc(p, n)
#define LVS_FREE(p) free(p)
#else
#error "lvs.h: define all of LVS_MALLOC, LVS_REALLOC and LVS_FREE, or none"
#endif
#ifndef LVS_ASSERT
#define LVS_ASSERT(x) assert(x)
#endif
#ifndef LVS_JSON_MAX_DEPTH
#define LVS_JSON_MAX_DEPTH 256
#endif

#if defined(_WIN32)
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#else
#include <sys/types.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#ifndef LVS_NO_MMAP
#include <sys/mman.h>
#endif
#endif

#ifdef _OPENMP
#include <omp.h>
#define LVS__PRAGMA(x) _Pragma(#x)
/* one parallel loop, run serially when `work` (about a FLOP or an element each) is small */
#define LVS__OMP_FOR(work) LVS__PRAGMA(omp parallel for schedule(static) if ((work) >= 65536))
#else
#define LVS__OMP_FOR(work)
#endif

#ifdef __cplusplus
#define LVS__CAST(T, x) static_cast<T>(x)
#else
#define LVS__CAST(T, x) ((T)(x))
#endif
#define LVS__NEW(T, n) LVS__CAST(T *, LVS_MALLOC(sizeof(T) * (size_t)(n)))

/* =====================================================================================
   BASE: status texts, error reporting, checked arithmetic, half floats, random numbers,
   growable buffers, files and paths. Calls nothing else in this library.
   ===================================================================================== */

static const char *const lvs__status_names[LVS_STATUS_COUNT][2] = {
    {"LVS_OK", "success"},
    {"LVS_ERR_ARG", "invalid argument"},
    {"LVS_ERR_NOMEM", "out of memory"},
    {"LVS_ERR_IO", "input/output error"},
    {"LVS_ERR_NOT_FOUND", "not found"},
    {"LVS_ERR_UNSUPPORTED", "not supported"},
    {"LVS_ERR_JSON_SYNTAX", "JSON syntax error"},
    {"LVS_ERR_JSON_UTF8", "invalid UTF-8"},
    {"LVS_ERR_JSON_STRING", "invalid JSON string"},
    {"LVS_ERR_JSON_NUMBER", "JSON number out of range"},
    {"LVS_ERR_JSON_DEPTH", "JSON nesting too deep"},
    {"LVS_ERR_JSON_DUPLICATE_KEY", "duplicate JSON key"},
    {"LVS_ERR_ST_TOO_SMALL", "safetensors file too small"},
    {"LVS_ERR_ST_HEADER_TOO_LARGE", "safetensors header too large"},
    {"LVS_ERR_ST_HEADER_LENGTH", "safetensors header length beyond the file"},
    {"LVS_ERR_ST_HEADER", "malformed safetensors header"},
    {"LVS_ERR_ST_DTYPE", "unknown safetensors dtype"},
    {"LVS_ERR_ST_SHAPE", "invalid tensor shape"},
    {"LVS_ERR_ST_OVERFLOW", "tensor size overflows"},
    {"LVS_ERR_ST_OFFSETS", "invalid tensor data offsets"},
    {"LVS_ERR_ST_BOUNDS", "tensor data beyond the end of the file"},
    {"LVS_ERR_ST_TRAILING", "bytes after the last tensor"},
    {"LVS_ERR_ST_METADATA", "invalid safetensors metadata"},
    {"LVS_ERR_ST_INDEX", "invalid sharded model index"},
    {"LVS_ERR_CONFIG", "invalid model configuration"},
    {"LVS_ERR_ARCH", "unsupported architecture"},
    {"LVS_ERR_TENSOR", "missing or invalid model tensor"},
    {"LVS_ERR_NONFINITE", "non-finite value"},
};

LVSDEF const char *lvs_status_name(lvs_status s) {
    return ((int)s >= 0 && (int)s < LVS_STATUS_COUNT) ? lvs__status_names[s][0] : "LVS_ERR_?";
}
LVSDEF const char *lvs_status_text(lvs_status s) {
    return ((int)s >= 0 && (int)s < LVS_STATUS_COUNT) ? lvs__status_names[s][1] : "unknown status";
}
LVSDEF const char *lvs_version(void) { return LVS_VERSION; }
LVSDEF void lvs_free(void *p) { LVS_FREE(p); }

/* Records an error. Always returns st so callers can write `return lvs__fail(...)`. */
static lvs_status lvs__fail(lvs_error *err, lvs_status st, int64_t offset, const char *fmt, ...) {
    if (err) {
        va_list ap;
        err->status = st;
        err->offset = offset;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return st;
}
static lvs_status lvs__oom(lvs_error *err) {
    return lvs__fail(err, LVS_ERR_NOMEM, -1, "out of memory");
}
/* Puts "prefix: " in front of an existing message (keeps status and offset). */
static void lvs__err_prefix(lvs_error *err, const char *prefix) {
    char tmp[sizeof err->message];
    size_t a, b, cap = sizeof tmp - 1;
    if (!err || !prefix || !*prefix) return;
    a = strlen(prefix);
    if (a > cap - 2) a = cap - 2;
    memcpy(tmp, prefix, a);
    tmp[a++] = ':';
    tmp[a++] = ' ';
    b = strlen(err->message);
    if (b > cap - a) b = cap - a;
    memcpy(tmp + a, err->message, b);
    tmp[a + b] = 0;
    memcpy(err->message, tmp, sizeof tmp);
}
static void lvs__err_clear(lvs_error *err) {
    if (err) { err->status = LVS_OK; err->offset = -1; err->message[0] = 0; }
}

static int lvs__mul_u64(uint64_t a, uint64_t b, uint64_t *out) { /* 1 on overflow */
    if (a != 0 && b > UINT64_MAX / a) return 1;
    *out = a * b;
    return 0;
}
static int lvs__little_endian(void) {
    uint16_t x = 1;
    unsigned char c;
    memcpy(&c, &x, 1);
    return c == 1;
}
static char *lvs__strndup(const char *s, size_t n) {
    char *d = LVS__NEW(char, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}
static char *lvs__strdup(const char *s) { return lvs__strndup(s, strlen(s)); }
/* Grows the array whose pointer is at pp (*cap elements of size sz) to hold at least need
   elements. The pointer is read and written with memcpy, so any T** may be passed. */
static int lvs__grow(void *pp, size_t *cap, size_t need, size_t sz) {
    size_t nc;
    void *p, *np;
    if (need <= *cap) return 1;
    nc = *cap ? *cap : 16;
    while (nc < need) {
        if (nc > ((size_t)-1) / 2 / sz) return 0;
        nc *= 2;
    }
    memcpy(&p, pp, sizeof p);
    np = LVS_REALLOC(p, nc * sz);
    if (!np) return 0;
    memcpy(pp, &np, sizeof np);
    *cap = nc;
    return 1;
}

/* ---- half floats */
static uint32_t lvs__f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float lvs__u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

LVSDEF float lvs_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
    if (e == 0) {
        float v = (float)m * 5.9604644775390625e-08f; /* m * 2^-24, exact */
        return sign ? -v : v;
    }
    if (e == 31) return lvs__u2f(sign | 0x7f800000u | (m << 13));
    return lvs__u2f(sign | ((e + 112u) << 23) | (m << 13));
}
LVSDEF uint16_t lvs_f32_to_f16(float f) {
    uint32_t x = lvs__f2u(f), ax = x & 0x7fffffffu;
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    if (ax >= 0x7f800000u) /* inf or NaN (kept quiet, top payload bits kept) */
        return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u | ((ax >> 13) & 0x3ffu) : 0x7c00u));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds to infinity */
    if (ax < 0x38800000u) { /* below 2^-14: subnormal half or zero */
        uint32_t e = ax >> 23, m, shift, r, rem, half;
        if (e < 102) return sign;
        m = (ax & 0x7fffffu) | 0x800000u;
        shift = 126 - e;
        r = m >> shift;
        rem = m & ((1u << shift) - 1);
        half = 1u << (shift - 1);
        if (rem > half || (rem == half && (r & 1u))) r++;
        return (uint16_t)(sign | r);
    } else {
        uint32_t base = (ax - 0x38000000u) >> 13, rem = ax & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (base & 1u))) base++;
        return (uint16_t)(sign | base);
    }
}
LVSDEF float lvs_bf16_to_f32(uint16_t h) { return lvs__u2f((uint32_t)h << 16); }
LVSDEF uint16_t lvs_f32_to_bf16(float f) {
    uint32_t x = lvs__f2u(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
    return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

/* ---- random numbers */
static uint64_t lvs__splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
LVSDEF void lvs_rng_seed(lvs_rng *r, uint64_t seed) {
    int i;
    for (i = 0; i < 4; i++) r->s[i] = lvs__splitmix64(&seed);
}
static uint64_t lvs__rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
LVSDEF uint64_t lvs_rng_next(lvs_rng *r) {
    uint64_t *s = r->s, out = lvs__rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t;
    s[3] = lvs__rotl(s[3], 45);
    return out;
}
LVSDEF double lvs_rng_uniform(lvs_rng *r) {
    return (double)(lvs_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}
LVSDEF double lvs_rng_normal(lvs_rng *r) {
    double u1 = 1.0 - lvs_rng_uniform(r), u2 = lvs_rng_uniform(r); /* u1 in (0, 1] */
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586476925 * u2);
}

/* ---- growable byte buffer (writers); failed = 1 after an allocation failure */
typedef struct lvs__buf { char *data; size_t len, cap; int failed; } lvs__buf;
static void lvs__buf_put(lvs__buf *b, const void *p, size_t n) {
    if (b->failed || n == 0) return;
    if (!lvs__grow(&b->data, &b->cap, b->len + n + 1, 1)) { b->failed = 1; return; }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}
static void lvs__buf_puts(lvs__buf *b, const char *s) { lvs__buf_put(b, s, strlen(s)); }
static void lvs__buf_putc(lvs__buf *b, char c) { lvs__buf_put(b, &c, 1); }
static void lvs__buf_u64(lvs__buf *b, uint64_t v) {
    char tmp[24];
    int n = 0;
    do { tmp[23 - n++] = (char)('0' + v % 10); v /= 10; } while (v);
    lvs__buf_put(b, tmp + 24 - n, (size_t)n);
}
static void lvs__buf_i64(lvs__buf *b, int64_t v) {
    if (v < 0) { lvs__buf_putc(b, '-'); lvs__buf_u64(b, (uint64_t)0 - (uint64_t)v); }
    else lvs__buf_u64(b, (uint64_t)v);
}
/* Writes s as a JSON string literal (s must be valid UTF-8). */
static void lvs__buf_json_str(lvs__buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    lvs__buf_putc(b, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[7];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        lvs__buf_put(b, s + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default:
            u[0] = '\\'; u[1] = 'u'; u[2] = '0'; u[3] = '0';
            u[4] = hex[c >> 4]; u[5] = hex[c & 15]; u[6] = 0;
            esc = u;
        }
        lvs__buf_puts(b, esc);
    }
    lvs__buf_put(b, s + run, n - run);
    lvs__buf_putc(b, '"');
}

/* ---- files: one mapping layer (POSIX mmap, Windows file mapping, read-into-memory), and
   output files created exclusively under a temporary name, synced, then renamed into place.
   Paths are UTF-8; on Windows they go to the wide (UTF-16) API. */
#if defined(_WIN32)
static wchar_t *lvs__wpath(const char *path) {
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, NULL, 0);
    wchar_t *w;
    if (n <= 0) return NULL;
    w = LVS__NEW(wchar_t, n);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, w, n) != n) {
        LVS_FREE(w);
        w = NULL;
    }
    return w;
}
static HANDLE lvs__wcreate(const char *path, DWORD access, DWORD share, DWORD disposition, DWORD *error) {
    wchar_t *w = lvs__wpath(path);
    HANDLE h = w ? CreateFileW(w, access, share, NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL) : INVALID_HANDLE_VALUE;
    *error = w ? GetLastError() : ERROR_INVALID_NAME;
    LVS_FREE(w);
    return h;
}
static DWORD lvs__wattr(const char *path) {
    wchar_t *w = lvs__wpath(path);
    DWORD a = w ? GetFileAttributesW(w) : INVALID_FILE_ATTRIBUTES;
    LVS_FREE(w);
    return a;
}
#define LVS__NOT_FOUND_ERROR(e) ((e) == ERROR_FILE_NOT_FOUND || (e) == ERROR_PATH_NOT_FOUND)
#endif

typedef struct lvs__file_impl {
    void *owned; /* read-into-memory buffer */
#if defined(_WIN32) && !defined(LVS_NO_MMAP)
    HANDLE file, map;
#endif
} lvs__file_impl;

/* Reads a whole file into memory: the fallback of the mapping layer. */
static lvs_status lvs__read_all(lvs_file *f, lvs__file_impl *im, const char *path, lvs_error *err) {
    size_t cap = 0, len = 0;
    unsigned char *buf = NULL;
    lvs_status s = LVS_OK;
#if defined(_WIN32)
    DWORD e;
    HANDLE h = lvs__wcreate(path, GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING, &e);
    if (h == INVALID_HANDLE_VALUE)
        return lvs__fail(err, LVS__NOT_FOUND_ERROR(e) ? LVS_ERR_NOT_FOUND : LVS_ERR_IO, -1, "%s: cannot open file",
                         path);
#else
    int h = open(path, O_RDONLY);
    if (h < 0) {
        int e = errno;
        return lvs__fail(err, e == ENOENT ? LVS_ERR_NOT_FOUND : LVS_ERR_IO, -1, "%s: cannot open file (%s)", path,
                         strerror(e));
    }
#endif
    for (;;) {
        size_t want;
        if (!lvs__grow(&buf, &cap, len + 65536, 1)) { s = lvs__oom(err); break; }
        want = cap - len > ((size_t)1 << 30) ? ((size_t)1 << 30) : cap - len;
#if defined(_WIN32)
        {
            DWORD got = 0;
            if (!ReadFile(h, buf + len, (DWORD)want, &got, NULL)) { s = lvs__fail(err, LVS_ERR_IO, -1, "%s: read error", path); break; }
            if (got == 0) break;
            len += got;
        }
#else
        {
            ssize_t got = read(h, buf + len, want);
            if (got < 0 && errno == EINTR) continue;
            if (got < 0) { s = lvs__fail(err, LVS_ERR_IO, -1, "%s: read error (%s)", path, strerror(errno)); break; }
            if (got == 0) break;
            len += (size_t)got;
        }
#endif
    }
#if defined(_WIN32)
    CloseHandle(h);
#else
    close(h);
#endif
    if (s != LVS_OK) {
        LVS_FREE(buf);
        return s;
    }
    im->owned = buf;
    f->data = buf;
    f->size = len;
    f->mapped = 0;
    return LVS_OK;
}

LVSDEF int lvs_is_dir(const char *path) {
#if defined(_WIN32)
    DWORD a = lvs__wattr(path);
    return a != INVALID_FILE_ATTRIBUTES && (a & FILE_ATTRIBUTE_DIRECTORY);
#else
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
#endif
}
LVSDEF int lvs_is_file(const char *path) {
#if defined(_WIN32)
    DWORD a = lvs__wattr(path);
    return a != INVALID_FILE_ATTRIBUTES && !(a & FILE_ATTRIBUTE_DIRECTORY);
#else
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
#endif
}

LVSDEF lvs_status lvs_file_open(lvs_file *f, const char *path, lvs_error *err) {
    static const unsigned char empty[1] = {0};
    lvs__file_impl *im;
    lvs_status s;
    if (!f || !path) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_file_open: NULL argument");
    memset(f, 0, sizeof *f);
    if (lvs_is_dir(path)) return lvs__fail(err, LVS_ERR_IO, -1, "%s: is a directory", path);
    im = LVS__NEW(lvs__file_impl, 1);
    if (!im) return lvs__oom(err);
    memset(im, 0, sizeof *im);
    f->data = empty;
#if defined(LVS_NO_MMAP)
    s = lvs__read_all(f, im, path, err);
#elif defined(_WIN32)
    {
        LARGE_INTEGER sz;
        DWORD e;
        s = LVS_OK;
        im->file = lvs__wcreate(path, GENERIC_READ, FILE_SHARE_READ, OPEN_EXISTING, &e);
        if (im->file == INVALID_HANDLE_VALUE)
            s = lvs__fail(err, LVS__NOT_FOUND_ERROR(e) ? LVS_ERR_NOT_FOUND : LVS_ERR_IO, -1, "%s: cannot open file",
                          path);
        else if (!GetFileSizeEx(im->file, &sz) || (unsigned long long)sz.QuadPart > (size_t)-1)
            s = lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot get the file size", path);
        else if ((f->size = (size_t)sz.QuadPart) > 0) {
            im->map = CreateFileMappingW(im->file, NULL, PAGE_READONLY, 0, 0, NULL);
            if (im->map) f->data = (const unsigned char *)MapViewOfFile(im->map, FILE_MAP_READ, 0, 0, 0);
            if (im->map && f->data) f->mapped = 1;
            else { /* mapping refused: read it */
                if (im->map) CloseHandle(im->map);
                CloseHandle(im->file);
                im->map = im->file = NULL;
                f->data = empty;
                s = lvs__read_all(f, im, path, err);
            }
        }
        if (s != LVS_OK && im->file && im->file != INVALID_HANDLE_VALUE) CloseHandle(im->file);
    }
#else
    {
        struct stat sb;
        int fd = open(path, O_RDONLY);
        s = LVS_OK;
        if (fd < 0) {
            int e = errno;
            s = lvs__fail(err, e == ENOENT ? LVS_ERR_NOT_FOUND : LVS_ERR_IO, -1, "%s: cannot open file (%s)", path,
                          strerror(e));
        } else if (fstat(fd, &sb) != 0 || sb.st_size < 0 || (unsigned long long)sb.st_size > (size_t)-1) {
            s = lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot get the file size", path);
        } else if (!S_ISREG(sb.st_mode)) { /* pipes and devices are read */
            s = lvs__read_all(f, im, path, err);
        } else if ((f->size = (size_t)sb.st_size) > 0) {
            void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
            if (p != MAP_FAILED) {
                f->data = (const unsigned char *)p;
                f->mapped = 1;
            } else s = lvs__read_all(f, im, path, err);
        }
        if (fd >= 0) close(fd);
    }
#endif
    if (s != LVS_OK) {
        LVS_FREE(im);
        memset(f, 0, sizeof *f);
        return s;
    }
    f->impl_ = im;
    return LVS_OK;
}

LVSDEF void lvs_file_close(lvs_file *f) {
    lvs__file_impl *im;
    if (!f || !f->impl_) return;
    im = (lvs__file_impl *)f->impl_;
    if (im->owned) LVS_FREE(im->owned);
#if defined(_WIN32) && !defined(LVS_NO_MMAP)
    if (f->mapped) UnmapViewOfFile((LPCVOID)f->data);
    if (im->map) CloseHandle(im->map);
    if (im->file && im->file != INVALID_HANDLE_VALUE) CloseHandle(im->file);
#elif !defined(LVS_NO_MMAP)
    if (f->mapped) munmap((void *)(uintptr_t)f->data, f->size);
#endif
    LVS_FREE(im);
    memset(f, 0, sizeof *f);
}

/* Output files. The temporary PATH.tmp (or PATH.tmp1, ...) is created exclusively, so an
   existing file of that name, or a link, is never overwritten. */
#define LVS__OUT_BUF ((size_t)1 << 20)
typedef struct lvs__out {
    char *tmp;
    unsigned char *buf;
    size_t len;
#if defined(_WIN32)
    HANDLE h;
#else
    int fd;
#endif
} lvs__out;

static lvs_status lvs__out_open(lvs__out *o, const char *path, lvs_error *err) {
    size_t n = strlen(path);
    int k;
    memset(o, 0, sizeof *o);
    o->tmp = LVS__NEW(char, n + 16);
    o->buf = LVS__NEW(unsigned char, LVS__OUT_BUF);
    if (!o->tmp || !o->buf) {
        LVS_FREE(o->tmp);
        LVS_FREE(o->buf);
        return lvs__oom(err);
    }
    for (k = 0; k < 100; k++) {
        memcpy(o->tmp, path, n);
        snprintf(o->tmp + n, 16, k ? ".tmp%d" : ".tmp", k);
#if defined(_WIN32)
        {
            DWORD e;
            o->h = lvs__wcreate(o->tmp, GENERIC_WRITE, 0, CREATE_NEW, &e);
            if (o->h != INVALID_HANDLE_VALUE) return LVS_OK;
            if (e != ERROR_FILE_EXISTS && e != ERROR_ALREADY_EXISTS) break;
        }
#else
        o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_EXCL, 0644);
        if (o->fd >= 0) return LVS_OK;
        if (errno != EEXIST) break;
#endif
    }
    lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot create the temporary file %s", path, o->tmp);
    LVS_FREE(o->tmp);
    LVS_FREE(o->buf);
    return LVS_ERR_IO;
}
static lvs_status lvs__out_flush(lvs__out *o, lvs_error *err) {
    size_t off = 0;
    while (off < o->len) {
#if defined(_WIN32)
        DWORD put = 0;
        if (!WriteFile(o->h, o->buf + off, (DWORD)(o->len - off), &put, NULL) || put == 0)
            return lvs__fail(err, LVS_ERR_IO, -1, "%s: write failed (disk full?)", o->tmp);
        off += put;
#else
        ssize_t put = write(o->fd, o->buf + off, o->len - off);
        if (put < 0 && errno == EINTR) continue;
        if (put <= 0) return lvs__fail(err, LVS_ERR_IO, -1, "%s: write failed (%s)", o->tmp, strerror(errno));
        off += (size_t)put;
#endif
    }
    o->len = 0;
    return LVS_OK;
}
static lvs_status lvs__out_write(lvs__out *o, const void *p, size_t n, lvs_error *err) {
    const unsigned char *c = (const unsigned char *)p;
    while (n) {
        size_t k = LVS__OUT_BUF - o->len < n ? LVS__OUT_BUF - o->len : n;
        lvs_status s;
        memcpy(o->buf + o->len, c, k);
        o->len += k;
        c += k;
        n -= k;
        if (o->len == LVS__OUT_BUF && (s = lvs__out_flush(o, err)) != LVS_OK) return s;
    }
    return LVS_OK;
}
/* Finishes an output: if s is LVS_OK, flushes, syncs and renames it over path; otherwise (or
   if any of that fails) removes the temporary file. Returns the first failure. */
static lvs_status lvs__out_close(lvs__out *o, const char *path, lvs_status s, lvs_error *err) {
    if (s == LVS_OK) s = lvs__out_flush(o, err);
#if defined(_WIN32)
    if (s == LVS_OK && !FlushFileBuffers(o->h)) s = lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot flush to disk", o->tmp);
    CloseHandle(o->h);
    {
        wchar_t *wt = lvs__wpath(o->tmp), *wp = lvs__wpath(path);
        if (s == LVS_OK && (!wt || !wp || !MoveFileExW(wt, wp, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)))
            s = lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot rename %s into place", path, o->tmp);
        if (s != LVS_OK && wt) DeleteFileW(wt);
        LVS_FREE(wt);
        LVS_FREE(wp);
    }
#else
    if (s == LVS_OK && fsync(o->fd) != 0)
        s = lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot sync to disk (%s)", o->tmp, strerror(errno));
    if (close(o->fd) != 0 && s == LVS_OK)
        s = lvs__fail(err, LVS_ERR_IO, -1, "%s: write failed (%s)", o->tmp, strerror(errno));
    if (s == LVS_OK && rename(o->tmp, path) != 0)
        s = lvs__fail(err, LVS_ERR_IO, -1, "%s: cannot rename %s into place (%s)", path, o->tmp, strerror(errno));
    if (s != LVS_OK) unlink(o->tmp);
#endif
    LVS_FREE(o->tmp);
    LVS_FREE(o->buf);
    return s;
}

LVSDEF lvs_status lvs_read_file(const char *path, char **data, size_t *size, lvs_error *err) {
    lvs_file f;
    lvs_status st;
    if (!path || !data) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_read_file: NULL argument");
    *data = NULL;
    if (size) *size = 0;
    st = lvs_file_open(&f, path, err);
    if (st != LVS_OK) return st;
    *data = lvs__strndup((const char *)f.data, f.size);
    if (size) *size = f.size;
    lvs_file_close(&f);
    return *data ? LVS_OK : lvs__oom(err);
}

/* Joins a folder and a file name with '/', which Windows accepts too. */
static char *lvs__path_join(const char *dir, const char *name) {
    size_t a = strlen(dir), b = strlen(name);
    char *p = LVS__NEW(char, a + b + 2);
    if (!p) return NULL;
    memcpy(p, dir, a);
    if (a && dir[a - 1] != '/' && dir[a - 1] != '\\') p[a++] = '/';
    memcpy(p + a, name, b + 1);
    return p;
}
/* The folder part of a path ("." when there is none). */
static char *lvs__path_dir(const char *path) {
    size_t n = strlen(path);
    while (n && path[n - 1] != '/' && path[n - 1] != '\\') n--;
    if (n == 0) return lvs__strdup(".");
    return lvs__strndup(path, n > 1 ? n - 1 : 1);
}
static const char *lvs__path_base(const char *path) {
    const char *b = path, *p;
    for (p = path; *p; p++)
        if ((*p == '/' || *p == '\\') && p[1]) b = p + 1;
    return b;
}


/* =====================================================================================
   JSON: a strict RFC 8259 reader into an arena-backed tree. Iterative (no recursion), so
   hostile nesting cannot overflow the stack; UTF-8 validated; duplicate keys rejected.
   Calls: base.
   ===================================================================================== */

typedef struct lvs__arena_block { struct lvs__arena_block *next; size_t used, cap; } lvs__arena_block;
typedef struct lvs__arena { lvs__arena_block *head; size_t next_cap; } lvs__arena;
#define LVS__ARENA_HDR ((sizeof(lvs__arena_block) + 15) & ~(size_t)15)

static void *lvs__arena_alloc(lvs__arena *a, size_t n) {
    lvs__arena_block *b = a->head;
    n = (n + 15) & ~(size_t)15;
    if (!b || b->cap - b->used < n) {
        size_t cap = a->next_cap ? a->next_cap : 65536;
        if (cap < n) cap = n;
        if (cap > ((size_t)-1) - LVS__ARENA_HDR) return NULL;
        b = (lvs__arena_block *)LVS_MALLOC(LVS__ARENA_HDR + cap);
        if (!b) return NULL;
        b->next = a->head;
        b->used = 0;
        b->cap = cap;
        a->head = b;
        if (a->next_cap < ((size_t)16 << 20)) a->next_cap = cap * 2;
    }
    b->used += n;
    return (char *)b + LVS__ARENA_HDR + b->used - n;
}
static void lvs__arena_free(lvs__arena *a) {
    lvs__arena_block *b = a->head;
    while (b) {
        lvs__arena_block *nx = b->next;
        LVS_FREE(b);
        b = nx;
    }
    a->head = NULL;
}

/* Length of the valid UTF-8 sequence at p (p < end, *p >= 0x80), or 0 if invalid. */
static size_t lvs__utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n, i;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0) lo = 0xa0;
        if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0) lo = 0x90;
        if (c == 0xf4) hi = 0x8f;
    } else return 0;
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (i = 2; i < n; i++)
        if ((p[i] & 0xc0) != 0x80) return 0;
    return n;
}
LVSDEF size_t lvs_utf8_check(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        if (*p < 0x80) p++;
        else {
            size_t n = lvs__utf8_seq(p, end);
            if (!n) return (size_t)(p - (const unsigned char *)s);
            p += n;
        }
    }
    return len;
}

typedef struct lvs__jframe {
    size_t first, offset, key_len;
    const char *key;
    unsigned char type;
} lvs__jframe;

typedef struct lvs__keyref { uint64_t h; const lvs_json *v; } lvs__keyref;
typedef struct lvs__jp {
    const unsigned char *p, *end, *base;
    lvs__arena *arena;
    lvs_json *vals;
    size_t nvals, capvals;
    lvs__jframe *frames;
    size_t nframes, capframes;
    lvs__keyref *keys;
    size_t capkeys, nvalues, max_values;
    const char *key;
    size_t key_len;
    int max_depth;
    lvs_error *err;
} lvs__jp;

static lvs_status lvs__jfail(lvs__jp *jp, lvs_status st, const unsigned char *at, const char *what) {
    size_t off = (size_t)(at - jp->base);
    return lvs__fail(jp->err, st, (int64_t)off, "%s at byte %llu", what, (unsigned long long)off);
}
static void lvs__jws(lvs__jp *jp) {
    const unsigned char *p = jp->p, *e = jp->end;
    while (p < e && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    jp->p = p;
}
static lvs_json *lvs__jpush(lvs__jp *jp) {
    lvs_json *v;
    if (!lvs__grow(&jp->vals, &jp->capvals, jp->nvals + 1, sizeof(lvs_json))) return NULL;
    v = &jp->vals[jp->nvals++];
    memset(v, 0, sizeof *v);
    return v;
}
static int lvs__hexval(unsigned c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (c >= 'a' && c <= 'f') return (int)(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return (int)(c - 'A' + 10);
    return -1;
}
static int lvs__hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    int i;
    unsigned v = 0;
    if (end - p < 4) return 0;
    for (i = 0; i < 4; i++) {
        int h = lvs__hexval(p[i]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 1;
}
static unsigned char *lvs__utf8_put(unsigned char *o, unsigned cp) {
    if (cp < 0x80) *o++ = (unsigned char)cp;
    else if (cp < 0x800) {
        *o++ = (unsigned char)(0xc0 | (cp >> 6));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char)(0xe0 | (cp >> 12));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (unsigned char)(0xf0 | (cp >> 18));
        *o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
        *o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* Parses the string at jp->p (which is '"'); the decoded text goes to the arena. */
static lvs_status lvs__jstring(lvs__jp *jp, const char **out, size_t *out_len) {
    const unsigned char *start = jp->p + 1, *p = start, *q, *end = jp->end;
    unsigned char *buf, *o;
    while (p < end && *p != '"') {
        if (*p == '\\') {
            if (end - p < 2) { p = end; break; }
            p += 2;
        } else p++;
    }
    if (p >= end) return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "unterminated string");
    q = p;
    buf = (unsigned char *)lvs__arena_alloc(jp->arena, (size_t)(q - start) + 1);
    if (!buf) return lvs__oom(jp->err);
    o = buf;
    p = start;
    while (p < q) {
        unsigned c = *p;
        if (c >= 0x20 && c < 0x80 && c != '\\') {
            *o++ = (unsigned char)c;
            p++;
        } else if (c >= 0x80) {
            size_t n = lvs__utf8_seq(p, q);
            if (!n) return lvs__jfail(jp, LVS_ERR_JSON_UTF8, p, "invalid UTF-8 in string");
            memcpy(o, p, n);
            o += n;
            p += n;
        } else if (c < 0x20) {
            return lvs__jfail(jp, LVS_ERR_JSON_STRING, p, "unescaped control character in string");
        } else { /* backslash */
            unsigned e = p[1], cp, lo;
            switch (e) {
            case '"': *o++ = '"'; p += 2; break;
            case '\\': *o++ = '\\'; p += 2; break;
            case '/': *o++ = '/'; p += 2; break;
            case 'b': *o++ = '\b'; p += 2; break;
            case 'f': *o++ = '\f'; p += 2; break;
            case 'n': *o++ = '\n'; p += 2; break;
            case 'r': *o++ = '\r'; p += 2; break;
            case 't': *o++ = '\t'; p += 2; break;
            case 'u':
                if (!lvs__hex4(p + 2, q, &cp))
                    return lvs__jfail(jp, LVS_ERR_JSON_STRING, p, "invalid \\u escape");
                if (cp >= 0xdc00 && cp <= 0xdfff)
                    return lvs__jfail(jp, LVS_ERR_JSON_STRING, p, "lone low surrogate");
                if (cp >= 0xd800 && cp <= 0xdbff) {
                    if (q - (p + 6) < 6 || p[6] != '\\' || p[7] != 'u' || !lvs__hex4(p + 8, q, &lo) ||
                        lo < 0xdc00 || lo > 0xdfff)
                        return lvs__jfail(jp, LVS_ERR_JSON_STRING, p, "lone high surrogate");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    p += 6;
                }
                o = lvs__utf8_put(o, cp);
                p += 6;
                break;
            default:
                return lvs__jfail(jp, LVS_ERR_JSON_STRING, p, "invalid escape");
            }
        }
    }
    *o = 0;
    *out = (const char *)buf;
    *out_len = (size_t)(o - buf);
    jp->p = q + 1;
    return LVS_OK;
}

static const double lvs__pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static int lvs__isdigit(unsigned c) { return c >= '0' && c <= '9'; }
/* m = 10 m + d unless that overflows 64 bits (then 1 and m unchanged) */
static int lvs__mul10_add(uint64_t *m, unsigned d) {
    if (*m > UINT64_MAX / 10 || (*m == UINT64_MAX / 10 && d > UINT64_MAX % 10)) return 1;
    *m = *m * 10 + d;
    return 0;
}

/* Numbers: exact integers when they fit 64 bits; otherwise the nearest double, by Clinger's
   exact fast path or by strtod on "DIGITSeEXP" (no decimal point, so the locale is irrelevant). */
static lvs_status lvs__jnumber(lvs__jp *jp, lvs_json *v) {
    const unsigned char *s = jp->p, *p = s, *end = jp->end, *i0, *i1, *f0 = NULL, *f1 = NULL;
    int neg = 0, ovf = 0;
    uint64_t m = 0;
    long long fexp = 0, e = 0; /* fexp: fraction digits folded into m (negated) */
    double d;
    if (*p == '-') { neg = 1; p++; }
    i0 = p;
    if (p >= end || !lvs__isdigit(*p)) return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, s, "invalid number");
    if (*p == '0') {
        p++;
        if (p < end && lvs__isdigit(*p))
            return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, s, "number with a leading zero");
    } else {
        for (; p < end && lvs__isdigit(*p); p++)
            if (lvs__mul10_add(&m, (unsigned)(*p - '0'))) ovf = 1;
    }
    i1 = p;
    if (p < end && *p == '.') {
        f0 = ++p;
        if (p >= end || !lvs__isdigit(*p))
            return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, p, "expected a digit after '.'");
        for (; p < end && lvs__isdigit(*p); p++) {
            if (lvs__mul10_add(&m, (unsigned)(*p - '0'))) ovf = 1;
            else fexp--;
        }
        f1 = p;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) { eneg = (*p == '-'); p++; }
        if (p >= end || !lvs__isdigit(*p))
            return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, p, "expected a digit in the exponent");
        for (; p < end && lvs__isdigit(*p); p++)
            if (e < 1000000000000000LL) e = e * 10 + (*p - '0'); /* saturates far beyond any double */
        if (eneg) e = -e;
    } else if (!f0 && !ovf) { /* an integer that fits 64 bits */
        jp->p = p;
        v->type = LVS_JSON_NUMBER;
        if (neg) {
            if (m <= (uint64_t)1 << 63) {
                v->flags = LVS_JSON_INT;
                v->i = (m == (uint64_t)1 << 63) ? INT64_MIN : -(int64_t)m;
            }
            v->num = -(double)m;
        } else {
            v->flags = (unsigned char)(m <= (uint64_t)INT64_MAX ? (LVS_JSON_INT | LVS_JSON_UINT) : LVS_JSON_UINT);
            memcpy(&v->i, &m, sizeof m);
            v->num = (double)m;
        }
        return LVS_OK;
    }
    jp->p = p;
    v->type = LVS_JSON_NUMBER;
    if (!ovf && m <= ((uint64_t)1 << 53) && fexp + e >= -22 && fexp + e <= 22) {
        d = (double)m; /* exact, then one correctly rounded operation */
        d = fexp + e >= 0 ? d * lvs__pow10[fexp + e] : d / lvs__pow10[-(fexp + e)];
    } else {
        size_t ni = (size_t)(i1 - i0), nf = f0 ? (size_t)(f1 - f0) : 0, k = 0;
        long long x = e - (long long)nf;
        char tmp[160], *buf = tmp, digits[24];
        int nd = 0;
        if (ni + nf + 32 > sizeof tmp) {
            buf = LVS__NEW(char, ni + nf + 32);
            if (!buf) return lvs__oom(jp->err);
        }
        memcpy(buf, i0, ni);
        if (nf) memcpy(buf + ni, f0, nf);
        k = ni + nf;
        buf[k++] = 'e';
        if (x < 0) { buf[k++] = '-'; x = -x; }
        do { digits[nd++] = (char)('0' + x % 10); x /= 10; } while (x);
        while (nd) buf[k++] = digits[--nd];
        buf[k] = 0;
        d = strtod(buf, NULL);
        if (buf != tmp) LVS_FREE(buf);
    }
    if (!(d <= DBL_MAX))
        return lvs__jfail(jp, LVS_ERR_JSON_NUMBER, s, "number out of the range of a double");
    v->num = neg ? -d : d;
    return LVS_OK;
}

static uint64_t lvs__hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h ^ (h >> 29);
}
static int lvs__keyeq(const lvs_json *a, const lvs_json *b) {
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}
static int lvs__keyref_cmp(const void *a, const void *b) {
    const lvs__keyref *x = (const lvs__keyref *)a, *y = (const lvs__keyref *)b;
    size_t n;
    int c;
    if (x->h != y->h) return x->h < y->h ? -1 : 1;
    if (x->v->key_len != y->v->key_len) return x->v->key_len < y->v->key_len ? -1 : 1;
    n = x->v->key_len;
    c = memcmp(x->v->key, y->v->key, n);
    if (c) return c;
    return x->v < y->v ? -1 : x->v > y->v; /* equal keys: in document order */
}
/* Returns the index of a key repeated in items[0..n), or n if all keys differ. Large objects
   are checked by sorting, so crafted hash collisions cannot make this worse than O(n log n). */
static size_t lvs__jdup(lvs__jp *jp, const lvs_json *items, size_t n, int *oom) {
    size_t i, j, dup = n;
    *oom = 0;
    if (n <= 8) {
        for (i = 1; i < n; i++)
            for (j = 0; j < i; j++)
                if (lvs__keyeq(&items[i], &items[j])) return i;
        return n;
    }
    if (!lvs__grow(&jp->keys, &jp->capkeys, n, sizeof(lvs__keyref))) { *oom = 1; return n; }
    for (i = 0; i < n; i++) {
        jp->keys[i].h = lvs__hash(items[i].key, items[i].key_len);
        jp->keys[i].v = &items[i];
    }
    qsort(jp->keys, n, sizeof(lvs__keyref), lvs__keyref_cmp);
    for (i = 1; i < n; i++)
        if (jp->keys[i].h == jp->keys[i - 1].h && lvs__keyeq(jp->keys[i].v, jp->keys[i - 1].v)) {
            size_t k = (size_t)(jp->keys[i].v - items); /* the later of the pair */
            if (dup == n || k < dup) dup = k;
        }
    return dup;
}

/* Closes the innermost container: its pending children move to the arena. */
static lvs_status lvs__jclose(lvs__jp *jp) {
    lvs__jframe f = jp->frames[--jp->nframes];
    size_t n = jp->nvals - f.first;
    lvs_json *items = NULL, *v;
    if (n) {
        if (n > ((size_t)-1) / sizeof(lvs_json)) return lvs__oom(jp->err);
        items = (lvs_json *)lvs__arena_alloc(jp->arena, n * sizeof(lvs_json));
        if (!items) return lvs__oom(jp->err);
        memcpy(items, jp->vals + f.first, n * sizeof(lvs_json));
        if (f.type == LVS_JSON_OBJECT) {
            int oom;
            size_t d = lvs__jdup(jp, items, n, &oom);
            if (oom) return lvs__oom(jp->err);
            if (d < n) {
                char what[160];
                snprintf(what, sizeof what, "duplicate key \"%.100s\"", items[d].key);
                return lvs__jfail(jp, LVS_ERR_JSON_DUPLICATE_KEY,
                                  jp->base + items[d].offset, what);
            }
        }
    }
    jp->nvals = f.first;
    if (!(v = lvs__jpush(jp))) return lvs__oom(jp->err);
    v->type = f.type;
    v->items = items;
    v->n = n;
    v->offset = f.offset;
    v->key = f.key;
    v->key_len = f.key_len;
    return LVS_OK;
}

/* Parses `"key" :` inside an object. */
static lvs_status lvs__jkey(lvs__jp *jp) {
    lvs_status st;
    if (jp->p >= jp->end || *jp->p != '"')
        return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "expected a string key");
    st = lvs__jstring(jp, &jp->key, &jp->key_len);
    if (st != LVS_OK) return st;
    lvs__jws(jp);
    if (jp->p >= jp->end || *jp->p != ':') return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "expected ':'");
    jp->p++;
    return LVS_OK;
}

static lvs_status lvs__jrun(lvs__jp *jp) {
    lvs_status st;
    for (;;) {
        unsigned c;
        lvs__jws(jp);
        if (jp->p >= jp->end) return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "unexpected end of input");
        c = *jp->p;
        if (jp->max_values && ++jp->nvalues > jp->max_values)
            return lvs__jfail(jp, LVS_ERR_UNSUPPORTED, jp->p, "more JSON values than the limit for this input");
        if (c == '{' || c == '[') {
            lvs__jframe *f;
            if ((int)jp->nframes >= jp->max_depth)
                return lvs__jfail(jp, LVS_ERR_JSON_DEPTH, jp->p, "nesting deeper than the limit");
            if (!lvs__grow(&jp->frames, &jp->capframes, jp->nframes + 1, sizeof(lvs__jframe)))
                return lvs__oom(jp->err);
            f = &jp->frames[jp->nframes++];
            f->first = jp->nvals;
            f->offset = (size_t)(jp->p - jp->base);
            f->type = (unsigned char)(c == '{' ? LVS_JSON_OBJECT : LVS_JSON_ARRAY);
            f->key = jp->key;
            f->key_len = jp->key_len;
            jp->key = NULL;
            jp->key_len = 0;
            jp->p++;
            lvs__jws(jp);
            if (jp->p < jp->end && *jp->p == (c == '{' ? '}' : ']')) {
                jp->p++;
                if ((st = lvs__jclose(jp)) != LVS_OK) return st;
            } else {
                if (c == '{' && (st = lvs__jkey(jp)) != LVS_OK) return st;
                continue;
            }
        } else {
            lvs_json *v = lvs__jpush(jp);
            if (!v) return lvs__oom(jp->err);
            v->offset = (size_t)(jp->p - jp->base);
            v->key = jp->key;
            v->key_len = jp->key_len;
            jp->key = NULL;
            jp->key_len = 0;
            if (c == '"') {
                v->type = LVS_JSON_STRING;
                if ((st = lvs__jstring(jp, &v->str, &v->n)) != LVS_OK) return st;
            } else if (c == '-' || lvs__isdigit(c)) {
                if ((st = lvs__jnumber(jp, v)) != LVS_OK) return st;
            } else if (jp->end - jp->p >= 4 && memcmp(jp->p, "true", 4) == 0) {
                v->type = LVS_JSON_TRUE;
                jp->p += 4;
            } else if (jp->end - jp->p >= 5 && memcmp(jp->p, "false", 5) == 0) {
                v->type = LVS_JSON_FALSE;
                jp->p += 5;
            } else if (jp->end - jp->p >= 4 && memcmp(jp->p, "null", 4) == 0) {
                v->type = LVS_JSON_NULL;
                jp->p += 4;
            } else {
                return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "unexpected character");
            }
        }
        /* a value is complete: continue or close the enclosing containers */
        for (;;) {
            lvs__jframe *f;
            lvs__jws(jp);
            if (jp->nframes == 0) {
                if (jp->p != jp->end)
                    return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "unexpected data after the JSON value");
                return LVS_OK;
            }
            f = &jp->frames[jp->nframes - 1];
            if (jp->p >= jp->end)
                return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p, "unexpected end of input");
            if (*jp->p == ',') {
                jp->p++;
                if (f->type == LVS_JSON_OBJECT) {
                    lvs__jws(jp);
                    if ((st = lvs__jkey(jp)) != LVS_OK) return st;
                }
                break;
            }
            if (*jp->p == (f->type == LVS_JSON_OBJECT ? '}' : ']')) {
                jp->p++;
                if ((st = lvs__jclose(jp)) != LVS_OK) return st;
                continue;
            }
            return lvs__jfail(jp, LVS_ERR_JSON_SYNTAX, jp->p,
                              f->type == LVS_JSON_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
        }
    }
}

static lvs_status lvs__json_parse(lvs_json_doc *doc, const char *text, size_t len, int max_depth,
                                  size_t max_values, lvs_error *err) {
    lvs__jp jp;
    lvs__arena *arena;
    lvs_status st;
    if (!doc || (!text && len)) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_json_parse: NULL argument");
    doc->root = NULL;
    doc->impl_ = NULL;
    lvs__err_clear(err);
    memset(&jp, 0, sizeof jp);
    jp.base = jp.p = (const unsigned char *)(text ? text : "");
    jp.end = jp.p + len;
    jp.max_depth = max_depth > 0 ? max_depth : LVS_JSON_MAX_DEPTH;
    jp.max_values = max_values;
    jp.err = err;
    if (len >= 3 && jp.p[0] == 0xef && jp.p[1] == 0xbb && jp.p[2] == 0xbf)
        return lvs__jfail(&jp, LVS_ERR_JSON_SYNTAX, jp.p, "byte order mark not allowed");
    arena = LVS__NEW(lvs__arena, 1);
    if (!arena) return lvs__oom(err);
    memset(arena, 0, sizeof *arena);
    jp.arena = arena;
    st = lvs__jrun(&jp);
    if (st == LVS_OK) {
        doc->root = (lvs_json *)lvs__arena_alloc(arena, sizeof(lvs_json));
        if (doc->root) memcpy(doc->root, &jp.vals[0], sizeof(lvs_json));
        else st = lvs__oom(err);
    }
    LVS_FREE(jp.vals);
    LVS_FREE(jp.frames);
    LVS_FREE(jp.keys);
    if (st != LVS_OK) {
        lvs__arena_free(arena);
        LVS_FREE(arena);
        doc->root = NULL;
        return st;
    }
    doc->impl_ = arena;
    return LVS_OK;
}

LVSDEF lvs_status lvs_json_parse(lvs_json_doc *doc, const char *text, size_t len, int max_depth,
                                 lvs_error *err) {
    return lvs__json_parse(doc, text, len, max_depth, 0, err);
}

LVSDEF void lvs_json_free(lvs_json_doc *doc) {
    if (!doc) return;
    if (doc->impl_) {
        lvs__arena_free((lvs__arena *)doc->impl_);
        LVS_FREE(doc->impl_);
    }
    doc->impl_ = NULL;
    doc->root = NULL;
}

LVSDEF const lvs_json *lvs_json_get(const lvs_json *obj, const char *key) {
    size_t i, n;
    if (!obj || obj->type != LVS_JSON_OBJECT || !key) return NULL;
    n = strlen(key);
    for (i = 0; i < obj->n; i++)
        if (obj->items[i].key_len == n && memcmp(obj->items[i].key, key, n) == 0) return &obj->items[i];
    return NULL;
}

LVSDEF const char *lvs_json_type_name(int type) {
    static const char *const names[] = {"null", "false", "true", "number", "string", "array", "object"};
    return (type >= 0 && type <= LVS_JSON_OBJECT) ? names[type] : "?";
}

/* =====================================================================================
   SAFETENSORS READER: validates a file (or the shards of a model folder) with every rule
   of the reference implementation, then exposes the tensors by name, zero-copy where the
   data is aligned. Calls: base, JSON.
   ===================================================================================== */

static const struct { const char *name; size_t bits; } lvs__dtypes[LVS_DTYPE_COUNT] = {
    {"?", 0},        {"BOOL", 8},    {"U8", 8},      {"I8", 8},          {"F8_E5M2", 8},
    {"F8_E4M3", 8},  {"I16", 16},    {"U16", 16},    {"F16", 16},        {"BF16", 16},
    {"I32", 32},     {"U32", 32},    {"F32", 32},    {"F64", 64},        {"I64", 64},
    {"U64", 64},     {"F4", 4},      {"F6_E2M3", 6}, {"F6_E3M2", 6},     {"F8_E8M0", 8},
    {"F8_E4M3FNUZ", 8}, {"F8_E5M2FNUZ", 8}, {"C64", 64}};

LVSDEF size_t lvs_dtype_bits(lvs_dtype t) {
    return ((int)t > 0 && (int)t < LVS_DTYPE_COUNT) ? lvs__dtypes[t].bits : 0;
}
LVSDEF size_t lvs_dtype_size(lvs_dtype t) {
    size_t b = lvs_dtype_bits(t);
    return b % 8 ? 0 : b / 8;
}
/* Bytes of numel elements: 0 ok, 1 overflow, 2 sub-byte elements that do not fill whole bytes. */
static int lvs__nbytes(uint64_t numel, lvs_dtype t, uint64_t *nbytes) {
    uint64_t bits = lvs_dtype_bits(t), rest = (numel % 8) * bits;
    if (rest % 8) return 2;
    /* numel * bits / 8 = (numel / 8) * bits + (numel % 8) * bits / 8, without overflowing early */
    if (lvs__mul_u64(numel / 8, bits, nbytes) || *nbytes + rest / 8 < *nbytes) return 1;
    *nbytes += rest / 8;
    return *nbytes > (uint64_t)((size_t)-1) ? 1 : 0;
}
static size_t lvs__dtype_align(lvs_dtype t) {
    size_t b = lvs_dtype_size(t);
    return b ? b : 1;
}
LVSDEF const char *lvs_dtype_name(lvs_dtype t) {
    return ((int)t > 0 && (int)t < LVS_DTYPE_COUNT) ? lvs__dtypes[t].name : "?";
}
LVSDEF lvs_dtype lvs_dtype_from_name(const char *s, size_t len) {
    int i;
    for (i = 1; i < LVS_DTYPE_COUNT; i++)
        if (strlen(lvs__dtypes[i].name) == len && memcmp(lvs__dtypes[i].name, s, len) == 0)
            return (lvs_dtype)i;
    return LVS_DTYPE_INVALID;
}

typedef struct lvs__st_impl {
    lvs_file *files;
    size_t nfiles, capfiles;
    lvs_json_doc *docs;
    size_t ndocs, capdocs;
    void **copies;
    size_t ncopies, capcopies;
    char **paths;
    size_t npaths, cappaths;
    size_t captensors, capmeta;
} lvs__st_impl;

static const double lvs__empty_tensor[1] = {0}; /* data of zero-size tensors: aligned for all */
static uint64_t lvs__le64(const unsigned char *p) {
    uint64_t v = 0;
    int i;
    for (i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int lvs__st_cmp_offsets(const void *a, const void *b) {
    const lvs_st_tensor *x = (const lvs_st_tensor *)a, *y = (const lvs_st_tensor *)b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return strcmp(x->name, y->name);
}
static int lvs__st_cmp_name(const void *a, const void *b) {
    return strcmp(((const lvs_st_tensor *)a)->name, ((const lvs_st_tensor *)b)->name);
}
typedef struct lvs__meta_ord { lvs_st_meta m; size_t order; } lvs__meta_ord;
static int lvs__st_cmp_meta(const void *a, const void *b) { /* by key, then in the order read */
    const lvs__meta_ord *x = (const lvs__meta_ord *)a, *y = (const lvs__meta_ord *)b;
    int c = strcmp(x->m.key, y->m.key);
    return c ? c : (x->order < y->order ? -1 : x->order > y->order);
}

/* Reads one non-negative integer that fits in 64 bits. */
static int lvs__json_u64(const lvs_json *v, uint64_t *out) { /* "-0" counts, as in serde_json */
    if (v->type != LVS_JSON_NUMBER || !(v->flags & (LVS_JSON_UINT | LVS_JSON_INT))) return 0;
    if (!(v->flags & LVS_JSON_UINT) && v->i != 0) return 0;
    memcpy(out, &v->i, sizeof *out);
    return 1;
}

static lvs_status lvs__st_entry(lvs_safetensors *st, lvs__st_impl *im, const lvs_json *e, int shard,
                                int64_t base, lvs_error *err) {
    const lvs_json *dt, *sh, *off;
    lvs_st_tensor *t;
    uint64_t numel = 1, nbytes, v;
    size_t i;
    int k;
    int64_t at = base + (int64_t)e->offset;
    if (strlen(e->key) != e->key_len)
        return lvs__fail(err, LVS_ERR_ST_HEADER, at, "tensor name contains a NUL character");
    if (e->type != LVS_JSON_OBJECT)
        return lvs__fail(err, LVS_ERR_ST_HEADER, at, "tensor \"%.200s\": entry is a %s, not an object",
                         e->key, lvs_json_type_name(e->type));
    dt = lvs_json_get(e, "dtype");
    sh = lvs_json_get(e, "shape");
    off = lvs_json_get(e, "data_offsets");
    if (!dt || !sh || !off)
        return lvs__fail(err, LVS_ERR_ST_HEADER, at, "tensor \"%.200s\": missing \"%s\"", e->key,
                         !dt ? "dtype" : !sh ? "shape" : "data_offsets");
    if (!lvs__grow(&st->tensors, &im->captensors, st->n_tensors + 1, sizeof(lvs_st_tensor)))
        return lvs__oom(err);
    t = &st->tensors[st->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = e->key;
    t->shard = shard;
    if (dt->type != LVS_JSON_STRING)
        return lvs__fail(err, LVS_ERR_ST_HEADER, base + (int64_t)dt->offset,
                         "tensor \"%.200s\": dtype is not a string", e->key);
    t->dtype = lvs_dtype_from_name(dt->str, dt->n);
    if (t->dtype == LVS_DTYPE_INVALID)
        return lvs__fail(err, LVS_ERR_ST_DTYPE, base + (int64_t)dt->offset,
                         "tensor \"%.200s\": unknown dtype \"%.40s\"", e->key, dt->str);
    if (sh->type != LVS_JSON_ARRAY)
        return lvs__fail(err, LVS_ERR_ST_SHAPE, base + (int64_t)sh->offset,
                         "tensor \"%.200s\": shape is not an array", e->key);
    if (sh->n > LVS_MAX_DIMS)
        return lvs__fail(err, LVS_ERR_UNSUPPORTED, base + (int64_t)sh->offset,
                         "tensor \"%.200s\": %llu dimensions (at most %d are supported)", e->key,
                         (unsigned long long)sh->n, LVS_MAX_DIMS);
    t->ndim = (int)sh->n;
    for (i = 0; i < sh->n; i++) {
        if (!lvs__json_u64(&sh->items[i], &v))
            return lvs__fail(err, LVS_ERR_ST_SHAPE, base + (int64_t)sh->items[i].offset,
                             "tensor \"%.200s\": shape[%llu] is not a non-negative integer", e->key,
                             (unsigned long long)i);
        if (v > (uint64_t)INT64_MAX)
            return lvs__fail(err, LVS_ERR_ST_OVERFLOW, base + (int64_t)sh->items[i].offset,
                             "tensor \"%.200s\": shape[%llu] is too large", e->key, (unsigned long long)i);
        t->shape[i] = (int64_t)v;
        if (lvs__mul_u64(numel, v, &numel))
            return lvs__fail(err, LVS_ERR_ST_OVERFLOW, base + (int64_t)sh->offset,
                             "tensor \"%.200s\": number of elements overflows 64 bits", e->key);
    }
    k = lvs__nbytes(numel, t->dtype, &nbytes);
    if (k == 1 || numel > (uint64_t)INT64_MAX)
        return lvs__fail(err, LVS_ERR_ST_OVERFLOW, base + (int64_t)sh->offset,
                         "tensor \"%.200s\": size in bytes overflows", e->key);
    if (k == 2)
        return lvs__fail(err, LVS_ERR_ST_SHAPE, base + (int64_t)sh->offset,
                         "tensor \"%.200s\": %llu %s elements do not fill whole bytes", e->key,
                         (unsigned long long)numel, lvs_dtype_name(t->dtype));
    t->numel = (int64_t)numel;
    t->nbytes = (size_t)nbytes;
    if (off->type != LVS_JSON_ARRAY || off->n != 2)
        return lvs__fail(err, LVS_ERR_ST_HEADER, base + (int64_t)off->offset,
                         "tensor \"%.200s\": data_offsets is not an array of two integers", e->key);
    if (!lvs__json_u64(&off->items[0], &t->begin) || !lvs__json_u64(&off->items[1], &t->end))
        return lvs__fail(err, LVS_ERR_ST_OFFSETS, base + (int64_t)off->offset,
                         "tensor \"%.200s\": data_offsets must be non-negative integers", e->key);
    st->n_tensors++;
    return LVS_OK;
}

static lvs_status lvs__st_add_meta(lvs_safetensors *st, lvs__st_impl *im, const lvs_json *md,
                                   int64_t base, lvs_error *err) {
    size_t i;
    if (md->type != LVS_JSON_OBJECT)
        return lvs__fail(err, LVS_ERR_ST_METADATA, base + (int64_t)md->offset,
                         "__metadata__ is a %s, not an object", lvs_json_type_name(md->type));
    for (i = 0; i < md->n; i++) {
        const lvs_json *v = &md->items[i];
        if (v->type != LVS_JSON_STRING)
            return lvs__fail(err, LVS_ERR_ST_METADATA, base + (int64_t)v->offset,
                             "__metadata__ \"%.200s\" is a %s, not a string", v->key,
                             lvs_json_type_name(v->type));
        if (strlen(v->key) != v->key_len)
            return lvs__fail(err, LVS_ERR_ST_METADATA, base + (int64_t)v->offset,
                             "__metadata__ key contains a NUL character");
        if (!lvs__grow(&st->meta, &im->capmeta, st->n_meta + 1, sizeof(lvs_st_meta)))
            return lvs__oom(err);
        st->meta[st->n_meta].key = v->key;
        st->meta[st->n_meta].value = v->str;
        st->meta[st->n_meta].value_len = v->n;
        st->n_meta++;
    }
    return LVS_OK;
}

/* Parses and validates one file image; appends its tensors (shard index `shard`). */
static lvs_status lvs__st_parse_one(lvs_safetensors *st, lvs__st_impl *im, const unsigned char *buf,
                                    size_t size, int shard, lvs_error *err) {
    uint64_t n, pos = 0, data_size;
    size_t i, first = st->n_tensors;
    lvs_json_doc *doc;
    const lvs_json *root;
    lvs_status s;
    if (size < 8)
        return lvs__fail(err, LVS_ERR_ST_TOO_SMALL, 0,
                         "file is %llu bytes; a safetensors file starts with an 8-byte header length",
                         (unsigned long long)size);
    n = lvs__le64(buf);
    if (n > LVS_ST_MAX_HEADER)
        return lvs__fail(err, LVS_ERR_ST_HEADER_TOO_LARGE, 0,
                         "header length %llu exceeds the limit of 100,000,000 bytes",
                         (unsigned long long)n);
    if (n > size - 8)
        return lvs__fail(err, LVS_ERR_ST_HEADER_LENGTH, 0,
                         "header length %llu runs past the end of the %llu-byte file",
                         (unsigned long long)n, (unsigned long long)size);
    if (!lvs__grow(&im->docs, &im->capdocs, im->ndocs + 1, sizeof(lvs_json_doc)))
        return lvs__oom(err);
    doc = &im->docs[im->ndocs];
    /* A valid header needs at least 4 bytes per JSON value (at most 8 dimensions per tensor);
       the cap keeps a hostile header from costing more than ~40 bytes of memory per byte. */
    s = lvs__json_parse(doc, (const char *)buf + 8, (size_t)n, 0, (size_t)n / 4 + 64, err);
    if (s != LVS_OK) {
        if (err) {
            if (err->offset >= 0) err->offset += 8;
            lvs__err_prefix(err, "header");
        }
        return s;
    }
    im->ndocs++;
    root = doc->root;
    if (root->type != LVS_JSON_OBJECT)
        return lvs__fail(err, LVS_ERR_ST_HEADER, 8, "header is a JSON %s, not an object",
                         lvs_json_type_name(root->type));
    for (i = 0; i < root->n; i++) {
        const lvs_json *e = &root->items[i];
        if (strcmp(e->key, "__metadata__") == 0 && e->key_len == 12)
            s = e->type == LVS_JSON_NULL ? LVS_OK : lvs__st_add_meta(st, im, e, 8, err); /* null: none */
        else
            s = lvs__st_entry(st, im, e, shard, 8, err);
        if (s != LVS_OK) return s;
    }
    if (st->n_tensors - first > 1)
        qsort(st->tensors + first, st->n_tensors - first, sizeof(lvs_st_tensor), lvs__st_cmp_offsets);
    for (i = first; i < st->n_tensors; i++) {
        lvs_st_tensor *t = &st->tensors[i];
        if (t->begin != pos || t->end < t->begin)
            return lvs__fail(err, LVS_ERR_ST_OFFSETS, -1,
                             "tensor \"%.200s\": data_offsets [%llu, %llu] %s", t->name,
                             (unsigned long long)t->begin, (unsigned long long)t->end,
                             t->end < t->begin ? "end before begin"
                             : t->begin > pos  ? "leave a gap after the previous tensor"
                                               : "overlap the previous tensor");
        if (t->end - t->begin != (uint64_t)t->nbytes)
            return lvs__fail(err, LVS_ERR_ST_OFFSETS, -1,
                             "tensor \"%.200s\": data_offsets span %llu bytes but %s x %lld elements "
                             "need %llu",
                             t->name, (unsigned long long)(t->end - t->begin), lvs_dtype_name(t->dtype),
                             (long long)t->numel, (unsigned long long)t->nbytes);
        pos = t->end;
    }
    data_size = (uint64_t)size - 8 - n;
    if (pos > data_size)
        return lvs__fail(err, LVS_ERR_ST_BOUNDS, -1,
                         "tensor data needs %llu bytes after the header but the file has %llu",
                         (unsigned long long)pos, (unsigned long long)data_size);
    if (pos < data_size)
        return lvs__fail(err, LVS_ERR_ST_TRAILING, (int64_t)(8 + n + pos),
                         "%llu bytes after the last tensor", (unsigned long long)(data_size - pos));
    for (i = first; i < st->n_tensors; i++) {
        lvs_st_tensor *t = &st->tensors[i];
        const unsigned char *p = buf + 8 + n + t->begin;
        size_t a = lvs__dtype_align(t->dtype);
        t->data = t->nbytes ? (const void *)p : (const void *)lvs__empty_tensor;
        if (((uintptr_t)p % a) != 0 && t->nbytes) {
            void *c;
            if (!lvs__grow(&im->copies, &im->capcopies, im->ncopies + 1, sizeof(void *)))
                return lvs__oom(err);
            c = LVS_MALLOC(t->nbytes);
            if (!c) return lvs__oom(err);
            memcpy(c, p, t->nbytes);
            im->copies[im->ncopies++] = c;
            t->data = c;
            t->copied = 1;
        }
    }
    return LVS_OK;
}

static lvs_status lvs__st_begin(lvs_safetensors *st, lvs_error *err) {
    lvs__st_impl *im;
    memset(st, 0, sizeof *st);
    lvs__err_clear(err);
    if (!lvs__little_endian())
        return lvs__fail(err, LVS_ERR_UNSUPPORTED, -1, "big-endian hosts are not supported");
    im = LVS__NEW(lvs__st_impl, 1);
    if (!im) return lvs__oom(err);
    memset(im, 0, sizeof *im);
    st->impl_ = im;
    return LVS_OK;
}

static lvs_status lvs__st_add_path(lvs__st_impl *im, const char *path, lvs_error *err) {
    char *p = lvs__strdup(path);
    if (!p || !lvs__grow(&im->paths, &im->cappaths, im->npaths + 1, sizeof(char *))) {
        LVS_FREE(p);
        return lvs__oom(err);
    }
    im->paths[im->npaths++] = p;
    return LVS_OK;
}

static lvs_status lvs__st_open_file(lvs_safetensors *st, const char *path, lvs_error *err) {
    lvs__st_impl *im = (lvs__st_impl *)st->impl_;
    lvs_file *f;
    lvs_status s;
    if (!lvs__grow(&im->files, &im->capfiles, im->nfiles + 1, sizeof(lvs_file)))
        return lvs__oom(err);
    if ((s = lvs__st_add_path(im, path, err)) != LVS_OK) return s;
    f = &im->files[im->nfiles];
    if ((s = lvs_file_open(f, path, err)) != LVS_OK) return s;
    im->nfiles++;
    s = lvs__st_parse_one(st, im, f->data, f->size, (int)im->nfiles - 1, err);
    if (s != LVS_OK) lvs__err_prefix(err, path);
    return s;
}

/* Sorts by name, rejects names present in two shards, publishes the shard list. */
static lvs_status lvs__st_finish(lvs_safetensors *st, lvs_error *err) {
    lvs__st_impl *im = (lvs__st_impl *)st->impl_;
    size_t i;
    if (st->n_tensors > 1) qsort(st->tensors, st->n_tensors, sizeof(lvs_st_tensor), lvs__st_cmp_name);
    if (st->n_meta > 1) { /* sort by key; of keys repeated across shards, the first shard's wins */
        lvs__meta_ord *o = LVS__NEW(lvs__meta_ord, st->n_meta);
        size_t k = 0;
        if (!o) return lvs__oom(err);
        for (i = 0; i < st->n_meta; i++) { o[i].m = st->meta[i]; o[i].order = i; }
        qsort(o, st->n_meta, sizeof *o, lvs__st_cmp_meta);
        for (i = 0; i < st->n_meta; i++)
            if (k == 0 || strcmp(o[i].m.key, st->meta[k - 1].key) != 0) st->meta[k++] = o[i].m;
        st->n_meta = k;
        LVS_FREE(o);
    }
    for (i = 1; i < st->n_tensors; i++)
        if (strcmp(st->tensors[i - 1].name, st->tensors[i].name) == 0)
            return lvs__fail(err, LVS_ERR_ST_INDEX, -1, "tensor \"%.200s\" is in two shards (%s and %s)",
                             st->tensors[i].name, im->paths[st->tensors[i - 1].shard],
                             im->paths[st->tensors[i].shard]);
    st->shards = (const char **)im->paths;
    st->n_shards = (int)im->npaths;
    return LVS_OK;
}

typedef struct lvs__wm_entry { const char *tensor, *file; } lvs__wm_entry;
static int lvs__wm_cmp(const void *a, const void *b) {
    return strcmp(((const lvs__wm_entry *)a)->tensor, ((const lvs__wm_entry *)b)->tensor);
}
static int lvs__cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static lvs_status lvs__st_open_index(lvs_safetensors *st, const char *dir, const char *index_path,
                                     lvs_error *err) {
    lvs__st_impl *im = (lvs__st_impl *)st->impl_;
    char *text = NULL;
    size_t len, i, j, nfiles = 0;
    lvs_json_doc *doc;
    const lvs_json *wm;
    lvs__wm_entry *ents = NULL;
    const char **files = NULL;
    lvs_status s = lvs_read_file(index_path, &text, &len, err);
    if (s != LVS_OK) return s;
    if (!lvs__grow(&im->docs, &im->capdocs, im->ndocs + 1, sizeof(lvs_json_doc))) {
        LVS_FREE(text);
        return lvs__oom(err);
    }
    doc = &im->docs[im->ndocs];
    s = lvs_json_parse(doc, text, len, 0, err);
    LVS_FREE(text);
    if (s != LVS_OK) { lvs__err_prefix(err, index_path); return s; }
    im->ndocs++;
    wm = lvs_json_get(doc->root, "weight_map");
    if (!wm || wm->type != LVS_JSON_OBJECT)
        return lvs__fail(err, LVS_ERR_ST_INDEX, -1, "%s: no \"weight_map\" object", index_path);
    ents = LVS__NEW(lvs__wm_entry, wm->n + 1);
    files = LVS__NEW(const char *, wm->n + 1);
    if (!ents || !files) { s = lvs__oom(err); goto done; }
    for (i = 0; i < wm->n; i++) {
        const lvs_json *v = &wm->items[i];
        const char *f = v->str;
        if (v->type != LVS_JSON_STRING) {
            s = lvs__fail(err, LVS_ERR_ST_INDEX, (int64_t)v->offset, "%s: weight_map[\"%.200s\"] is not a string",
                          index_path, v->key);
            goto done;
        }
        if (!*f || strlen(f) != v->n || strchr(f, '/') || strchr(f, '\\') || strchr(f, ':') ||
            strcmp(f, ".") == 0 || strcmp(f, "..") == 0 || strlen(v->key) != v->key_len) {
            s = lvs__fail(err, LVS_ERR_ST_INDEX, (int64_t)v->offset,
                          "%s: weight_map[\"%.200s\"] = \"%.200s\" is not a plain file name in the folder",
                          index_path, v->key, f);
            goto done;
        }
        ents[i].tensor = v->key;
        ents[i].file = f;
        files[i] = f;
    }
    if (wm->n) {
        qsort(files, wm->n, sizeof(char *), lvs__cmp_str);
        qsort(ents, wm->n, sizeof(lvs__wm_entry), lvs__wm_cmp);
    }
    for (i = 0; i < wm->n; i++)
        if (nfiles == 0 || strcmp(files[nfiles - 1], files[i]) != 0) files[nfiles++] = files[i];
    for (i = 0; i < nfiles; i++) {
        char *p = lvs__path_join(dir, files[i]);
        if (!p) { s = lvs__oom(err); goto done; }
        if (!lvs_is_file(p)) {
            s = lvs__fail(err, LVS_ERR_ST_INDEX, -1, "%s: shard \"%s\" does not exist", index_path, files[i]);
            LVS_FREE(p);
            goto done;
        }
        s = lvs__st_open_file(st, p, err);
        LVS_FREE(p);
        if (s != LVS_OK) goto done;
    }
    if ((s = lvs__st_finish(st, err)) != LVS_OK) goto done;
    for (i = 0, j = 0; i < st->n_tensors || j < wm->n;) {
        int c = i >= st->n_tensors ? 1 : j >= wm->n ? -1 : strcmp(st->tensors[i].name, ents[j].tensor);
        if (c < 0) {
            s = lvs__fail(err, LVS_ERR_ST_INDEX, -1, "%s: tensor \"%.200s\" of %s is not in the weight_map",
                          index_path, st->tensors[i].name, lvs__path_base(im->paths[st->tensors[i].shard]));
            goto done;
        }
        if (c > 0) {
            s = lvs__fail(err, LVS_ERR_ST_INDEX, -1, "%s: weight_map lists \"%.200s\" in %s, which lacks it",
                          index_path, ents[j].tensor, ents[j].file);
            goto done;
        }
        if (strcmp(lvs__path_base(im->paths[st->tensors[i].shard]), ents[j].file) != 0) {
            s = lvs__fail(err, LVS_ERR_ST_INDEX, -1, "%s: weight_map puts \"%.200s\" in %s, but it is in %s",
                          index_path, ents[j].tensor, ents[j].file,
                          lvs__path_base(im->paths[st->tensors[i].shard]));
            goto done;
        }
        i++;
        j++;
    }
done:
    LVS_FREE(ents);
    LVS_FREE(files);
    return s;
}

LVSDEF lvs_status lvs_st_parse(lvs_safetensors *st, const void *buf, size_t size, lvs_error *err) {
    lvs_status s;
    if (!st || (!buf && size)) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_st_parse: NULL argument");
    if ((s = lvs__st_begin(st, err)) != LVS_OK) return s;
    if ((s = lvs__st_add_path((lvs__st_impl *)st->impl_, "<memory>", err)) == LVS_OK)
        s = lvs__st_parse_one(st, (lvs__st_impl *)st->impl_, (const unsigned char *)buf, size, 0, err);
    if (s == LVS_OK) s = lvs__st_finish(st, err);
    if (s != LVS_OK) lvs_st_close(st);
    return s;
}

LVSDEF lvs_status lvs_st_open(lvs_safetensors *st, const char *path, lvs_error *err) {
    lvs_status s;
    if (!st || !path) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_st_open: NULL argument");
    if ((s = lvs__st_begin(st, err)) != LVS_OK) return s;
    if (lvs_is_dir(path)) {
        char *index = lvs__path_join(path, "model.safetensors.index.json");
        char *single = lvs__path_join(path, "model.safetensors");
        if (!index || !single) s = lvs__oom(err);
        else if (lvs_is_file(index)) s = lvs__st_open_index(st, path, index, err);
        else if (lvs_is_file(single)) {
            s = lvs__st_open_file(st, single, err);
            if (s == LVS_OK) s = lvs__st_finish(st, err);
        } else
            s = lvs__fail(err, LVS_ERR_NOT_FOUND, -1,
                          "%s: no model.safetensors or model.safetensors.index.json in this folder", path);
        LVS_FREE(index);
        LVS_FREE(single);
    } else {
        s = lvs__st_open_file(st, path, err);
        if (s == LVS_OK) s = lvs__st_finish(st, err);
    }
    if (s != LVS_OK) lvs_st_close(st);
    return s;
}

LVSDEF void lvs_st_close(lvs_safetensors *st) {
    lvs__st_impl *im;
    size_t i;
    if (!st) return;
    im = (lvs__st_impl *)st->impl_;
    if (im) {
        for (i = 0; i < im->ncopies; i++) LVS_FREE(im->copies[i]);
        for (i = 0; i < im->ndocs; i++) lvs_json_free(&im->docs[i]);
        for (i = 0; i < im->nfiles; i++) lvs_file_close(&im->files[i]);
        for (i = 0; i < im->npaths; i++) LVS_FREE(im->paths[i]);
        LVS_FREE(im->copies);
        LVS_FREE(im->docs);
        LVS_FREE(im->files);
        LVS_FREE(im->paths);
        LVS_FREE(im);
    }
    LVS_FREE(st->tensors);
    LVS_FREE(st->meta);
    memset(st, 0, sizeof *st);
}

/* Binary search in an array sorted by name whose elements start with a `const char *` name. */
static const void *lvs__find_sorted(const void *base, size_t n, size_t stride, const char *name) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k;
        int c;
        memcpy(&k, (const char *)base + mid * stride, sizeof k);
        c = strcmp(k, name);
        if (c == 0) return (const char *)base + mid * stride;
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return NULL;
}
LVSDEF const lvs_st_tensor *lvs_st_find(const lvs_safetensors *st, const char *name) {
    if (!st || !name || !st->n_tensors) return NULL;
    return (const lvs_st_tensor *)lvs__find_sorted(st->tensors, st->n_tensors, sizeof(lvs_st_tensor), name);
}
LVSDEF const lvs_st_meta *lvs_st_get_meta(const lvs_safetensors *st, const char *key) {
    if (!st || !key || !st->n_meta) return NULL;
    return (const lvs_st_meta *)lvs__find_sorted(st->meta, st->n_meta, sizeof(lvs_st_meta), key);
}

/* Converts n elements of a float tensor starting at element `start` to f32. */
static void lvs__to_f32(const void *data, lvs_dtype dt, size_t start, size_t n, float *out) {
    size_t i;
    LVS_ASSERT(dt == LVS_F32 || dt == LVS_F16 || dt == LVS_BF16 || dt == LVS_F64);
    if (dt == LVS_F32) memcpy(out, (const float *)data + start, n * sizeof(float));
    else if (dt == LVS_F16) {
        const uint16_t *p = (const uint16_t *)data + start;
        for (i = 0; i < n; i++) out[i] = lvs_f16_to_f32(p[i]);
    } else if (dt == LVS_BF16) {
        const uint16_t *p = (const uint16_t *)data + start;
        for (i = 0; i < n; i++) out[i] = lvs_bf16_to_f32(p[i]);
    } else if (dt == LVS_F64) {
        const double *p = (const double *)data + start;
        for (i = 0; i < n; i++) out[i] = (float)p[i];
    }
}
static int lvs__is_float_dtype(lvs_dtype dt) {
    return dt == LVS_F32 || dt == LVS_F16 || dt == LVS_BF16 || dt == LVS_F64;
}

LVSDEF lvs_status lvs_st_read_f32(const lvs_st_tensor *t, float *out, lvs_error *err) {
    if (!t || (!out && t->numel)) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_st_read_f32: NULL argument");
    if (!lvs__is_float_dtype(t->dtype))
        return lvs__fail(err, LVS_ERR_UNSUPPORTED, -1, "tensor \"%.200s\": %s does not convert to f32",
                         t->name, lvs_dtype_name(t->dtype));
    lvs__to_f32(t->data, t->dtype, 0, (size_t)t->numel, out);
    return LVS_OK;
}

/* =====================================================================================
   SAFETENSORS WRITER: deterministic files (sorted names, aligned data, 8-byte padded
   header), atomically renamed into place. Tensors come from memory or from a fill callback.
   Calls: base, JSON (UTF-8 check).
   ===================================================================================== */

typedef struct lvs__stw_entry {
    char *name;
    lvs_dtype dtype;
    int ndim;
    int64_t shape[LVS_MAX_DIMS];
    uint64_t nbytes, begin;
    const void *data;
    lvs_st_fill_fn fill;
    void *user;
} lvs__stw_entry;
typedef struct lvs__stw_meta { char *key, *value; size_t len; } lvs__stw_meta;
struct lvs_st_writer {
    lvs__stw_entry *e;
    size_t n, cap;
    lvs__stw_meta *m;
    size_t nm, capm;
};

LVSDEF lvs_st_writer *lvs_st_writer_create(void) {
    lvs_st_writer *w = LVS__NEW(lvs_st_writer, 1);
    if (w) memset(w, 0, sizeof *w);
    return w;
}
LVSDEF void lvs_st_writer_destroy(lvs_st_writer *w) {
    size_t i;
    if (!w) return;
    for (i = 0; i < w->n; i++) LVS_FREE(w->e[i].name);
    for (i = 0; i < w->nm; i++) { LVS_FREE(w->m[i].key); LVS_FREE(w->m[i].value); }
    LVS_FREE(w->e);
    LVS_FREE(w->m);
    LVS_FREE(w);
}

static lvs_status lvs__stw_add(lvs_st_writer *w, const char *name, lvs_dtype dtype, int ndim,
                               const int64_t *shape, const void *data, lvs_st_fill_fn fill, void *user,
                               lvs_error *err) {
    lvs__stw_entry *e;
    uint64_t numel = 1, nbytes;
    size_t i, len;
    if (!w || !name) return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: NULL argument");
    len = strlen(name);
    if (lvs_utf8_check(name, len) != len)
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: tensor name is not valid UTF-8");
    if (strcmp(name, "__metadata__") == 0)
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"__metadata__\" is reserved");
    if (dtype <= LVS_DTYPE_INVALID || dtype >= LVS_DTYPE_COUNT)
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"%.200s\": invalid dtype", name);
    if (ndim < 0 || ndim > LVS_MAX_DIMS || (ndim > 0 && !shape))
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"%.200s\": invalid ndim %d", name, ndim);
    for (i = 0; i < (size_t)ndim; i++)
        if (shape[i] < 0 || lvs__mul_u64(numel, (uint64_t)shape[i], &numel))
            return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"%.200s\": invalid shape", name);
    if (lvs__nbytes(numel, dtype, &nbytes))
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"%.200s\": size overflows or is not whole "
                         "bytes", name);
    if (!data && !fill && nbytes)
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"%.200s\": no data", name);
    for (i = 0; i < w->n; i++)
        if (strcmp(w->e[i].name, name) == 0)
            return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: \"%.200s\" added twice", name);
    if (!lvs__grow(&w->e, &w->cap, w->n + 1, sizeof(lvs__stw_entry))) return lvs__oom(err);
    e = &w->e[w->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = lvs__strdup(name))) return lvs__oom(err);
    e->dtype = dtype;
    e->ndim = ndim;
    for (i = 0; i < (size_t)ndim; i++) e->shape[i] = shape[i];
    e->nbytes = nbytes;
    e->data = data;
    e->fill = fill;
    e->user = user;
    w->n++;
    return LVS_OK;
}
LVSDEF lvs_status lvs_st_writer_add(lvs_st_writer *w, const char *name, lvs_dtype dtype, int ndim,
                                    const int64_t *shape, const void *data, lvs_error *err) {
    return lvs__stw_add(w, name, dtype, ndim, shape, data, NULL, NULL, err);
}
LVSDEF lvs_status lvs_st_writer_add_fill(lvs_st_writer *w, const char *name, lvs_dtype dtype, int ndim,
                                         const int64_t *shape, lvs_st_fill_fn fill, void *user,
                                         lvs_error *err) {
    if (!fill) return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: NULL fill function");
    return lvs__stw_add(w, name, dtype, ndim, shape, NULL, fill, user, err);
}

LVSDEF lvs_status lvs_st_writer_set_meta(lvs_st_writer *w, const char *key, const char *value,
                                         size_t value_len, lvs_error *err) {
    size_t i;
    char *v;
    if (!w || !key || (!value && value_len))
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: NULL argument");
    if (lvs_utf8_check(key, strlen(key)) != strlen(key) || lvs_utf8_check(value, value_len) != value_len)
        return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: metadata \"%.200s\" is not valid UTF-8", key);
    if (!(v = lvs__strndup(value ? value : "", value_len))) return lvs__oom(err);
    for (i = 0; i < w->nm; i++)
        if (strcmp(w->m[i].key, key) == 0) {
            LVS_FREE(w->m[i].value);
            w->m[i].value = v;
            w->m[i].len = value_len;
            return LVS_OK;
        }
    if (!lvs__grow(&w->m, &w->capm, w->nm + 1, sizeof(lvs__stw_meta)) ||
        !(w->m[w->nm].key = lvs__strdup(key))) {
        LVS_FREE(v);
        return lvs__oom(err);
    }
    w->m[w->nm].value = v;
    w->m[w->nm].len = value_len;
    w->nm++;
    return LVS_OK;
}

static int lvs__stw_cmp_name(const void *a, const void *b) {
    return strcmp((*(lvs__stw_entry *const *)a)->name, (*(lvs__stw_entry *const *)b)->name);
}
static int lvs__stw_cmp_data(const void *a, const void *b) {
    const lvs__stw_entry *x = *(lvs__stw_entry *const *)a, *y = *(lvs__stw_entry *const *)b;
    size_t sx = lvs__dtype_align(x->dtype), sy = lvs__dtype_align(y->dtype);
    if (sx != sy) return sx > sy ? -1 : 1;
    return strcmp(x->name, y->name);
}
static int lvs__stw_cmp_meta(const void *a, const void *b) {
    return strcmp((*(lvs__stw_meta *const *)a)->key, (*(lvs__stw_meta *const *)b)->key);
}

typedef struct lvs__sink { lvs__out *out; lvs__buf *buf; } lvs__sink;
static lvs_status lvs__sink_write(lvs__sink *s, const void *p, size_t n, lvs_error *err) {
    if (s->out) return lvs__out_write(s->out, p, n, err);
    lvs__buf_put(s->buf, p, n);
    return s->buf->failed ? lvs__oom(err) : LVS_OK;
}

static lvs_status lvs__stw_serialize(lvs_st_writer *w, lvs__sink *sink, lvs_error *err) {
    lvs__stw_entry **by_name = LVS__NEW(lvs__stw_entry *, w->n + 1);
    lvs__stw_entry **by_data = LVS__NEW(lvs__stw_entry *, w->n + 1);
    lvs__stw_meta **meta = LVS__NEW(lvs__stw_meta *, w->nm + 1);
    lvs__buf h = {NULL, 0, 0, 0};
    unsigned char len8[8];
    void *scratch = NULL;
    size_t i, scratch_cap = 0;
    uint64_t pos = 0, hl;
    lvs_status s = LVS_OK;
    if (!by_name || !by_data || !meta) { s = lvs__oom(err); goto done; }
    for (i = 0; i < w->n; i++) by_name[i] = by_data[i] = &w->e[i];
    for (i = 0; i < w->nm; i++) meta[i] = &w->m[i];
    if (w->n > 1) {
        qsort(by_name, w->n, sizeof *by_name, lvs__stw_cmp_name);
        qsort(by_data, w->n, sizeof *by_data, lvs__stw_cmp_data);
    }
    if (w->nm > 1) qsort(meta, w->nm, sizeof *meta, lvs__stw_cmp_meta);
    for (i = 0; i < w->n; i++) {
        by_data[i]->begin = pos;
        if (pos + by_data[i]->nbytes < pos) {
            s = lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: total size overflows 64 bits");
            goto done;
        }
        pos += by_data[i]->nbytes;
    }
    lvs__buf_putc(&h, '{');
    if (w->nm) {
        lvs__buf_puts(&h, "\"__metadata__\":{");
        for (i = 0; i < w->nm; i++) {
            if (i) lvs__buf_putc(&h, ',');
            lvs__buf_json_str(&h, meta[i]->key, strlen(meta[i]->key));
            lvs__buf_putc(&h, ':');
            lvs__buf_json_str(&h, meta[i]->value, meta[i]->len);
        }
        lvs__buf_putc(&h, '}');
    }
    for (i = 0; i < w->n; i++) {
        const lvs__stw_entry *e = by_name[i];
        int d;
        if (i || w->nm) lvs__buf_putc(&h, ',');
        lvs__buf_json_str(&h, e->name, strlen(e->name));
        lvs__buf_puts(&h, ":{\"dtype\":\"");
        lvs__buf_puts(&h, lvs_dtype_name(e->dtype));
        lvs__buf_puts(&h, "\",\"shape\":[");
        for (d = 0; d < e->ndim; d++) {
            if (d) lvs__buf_putc(&h, ',');
            lvs__buf_i64(&h, e->shape[d]);
        }
        lvs__buf_puts(&h, "],\"data_offsets\":[");
        lvs__buf_u64(&h, e->begin);
        lvs__buf_putc(&h, ',');
        lvs__buf_u64(&h, e->begin + e->nbytes);
        lvs__buf_puts(&h, "]}");
    }
    lvs__buf_putc(&h, '}');
    while (h.len % 8 && !h.failed) lvs__buf_putc(&h, ' ');
    if (h.failed) { s = lvs__oom(err); goto done; }
    if (h.len > LVS_ST_MAX_HEADER) {
        s = lvs__fail(err, LVS_ERR_UNSUPPORTED, -1, "safetensors writer: header of %llu bytes exceeds the "
                      "100,000,000-byte limit of the format", (unsigned long long)h.len);
        goto done;
    }
    hl = h.len;
    for (i = 0; i < 8; i++) len8[i] = (unsigned char)(hl >> (8 * i));
    if ((s = lvs__sink_write(sink, len8, 8, err)) != LVS_OK) goto done;
    if ((s = lvs__sink_write(sink, h.data, h.len, err)) != LVS_OK) goto done;
    for (i = 0; i < w->n; i++) {
        lvs__stw_entry *e = by_data[i];
        const void *p = e->data;
        if (e->fill && e->nbytes) {
            if (!lvs__grow(&scratch, &scratch_cap, (size_t)e->nbytes, 1)) { s = lvs__oom(err); goto done; }
            lvs__err_clear(err);
            if ((s = e->fill(e->user, scratch, (size_t)e->nbytes, err)) != LVS_OK) goto done;
            p = scratch;
        }
        if ((s = lvs__sink_write(sink, p, (size_t)e->nbytes, err)) != LVS_OK) goto done;
    }
done:
    LVS_FREE(scratch);
    LVS_FREE(h.data);
    LVS_FREE(by_name);
    LVS_FREE(by_data);
    LVS_FREE(meta);
    return s;
}

LVSDEF lvs_status lvs_st_writer_save(lvs_st_writer *w, const char *path, lvs_error *err) {
    lvs__out out;
    lvs__sink sink;
    lvs_status s;
    if (!w || !path) return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: NULL argument");
    if ((s = lvs__out_open(&out, path, err)) != LVS_OK) return s;
    sink.out = &out;
    sink.buf = NULL;
    s = lvs__stw_serialize(w, &sink, err);
    return lvs__out_close(&out, path, s, err);
}

LVSDEF lvs_status lvs_st_writer_save_mem(lvs_st_writer *w, void **out, size_t *size, lvs_error *err) {
    lvs__sink sink;
    lvs__buf b = {NULL, 0, 0, 0};
    lvs_status s;
    if (!w || !out || !size) return lvs__fail(err, LVS_ERR_ARG, -1, "safetensors writer: NULL argument");
    *out = NULL;
    *size = 0;
    sink.out = NULL;
    sink.buf = &b;
    s = lvs__stw_serialize(w, &sink, err);
    if (s != LVS_OK) { LVS_FREE(b.data); return s; }
    *out = b.data;
    *size = b.len;
    return LVS_OK;
}

/* =====================================================================================
   CONFIG: config.json -> lvs_config. Keys absent from the file take the defaults of the
   Hugging Face config class of the architecture. Calls: base, JSON.
   ===================================================================================== */

static const struct { const char *arch, *model_type; lvs_arch id; } lvs__archs[] = {
    {"LlamaForCausalLM", "llama", LVS_ARCH_LLAMA},
    {"MistralForCausalLM", "mistral", LVS_ARCH_MISTRAL},
    {"Qwen2ForCausalLM", "qwen2", LVS_ARCH_QWEN2},
    {"Gemma2ForCausalLM", "gemma2", LVS_ARCH_GEMMA2},
    {"GPT2LMHeadModel", "gpt2", LVS_ARCH_GPT2},
    {"GPT2ForSequenceClassification", NULL, LVS_ARCH_GPT2_CLS},
};
#define LVS__NARCHS (sizeof lvs__archs / sizeof lvs__archs[0])

LVSDEF const char *lvs_arch_name(lvs_arch a) {
    size_t i;
    for (i = 0; i < LVS__NARCHS; i++)
        if (lvs__archs[i].id == a) return lvs__archs[i].arch;
    return "unknown";
}

/* A present, non-null key, or NULL. */
static const lvs_json *lvs__cfg(const lvs_json *root, const char *key) {
    const lvs_json *v = lvs_json_get(root, key);
    return (v && v->type != LVS_JSON_NULL) ? v : NULL;
}
static lvs_status lvs__cfg_int(const lvs_json *v, const char *key, int64_t *out, lvs_error *err) {
    if (!v) return LVS_OK;
    if (v->type != LVS_JSON_NUMBER || !(v->flags & LVS_JSON_INT))
        return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset, "config.json: \"%s\" must be an integer",
                         key);
    *out = v->i;
    return LVS_OK;
}
static lvs_status lvs__cfg_i64(const lvs_json *root, const char *key, int64_t *out, lvs_error *err) {
    return lvs__cfg_int(lvs__cfg(root, key), key, out, err);
}
static lvs_status lvs__cfg_f64(const lvs_json *root, const char *key, double *out, lvs_error *err) {
    const lvs_json *v = lvs__cfg(root, key);
    if (!v) return LVS_OK;
    if (v->type != LVS_JSON_NUMBER)
        return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset, "config.json: \"%s\" must be a number", key);
    *out = v->num;
    return LVS_OK;
}
static lvs_status lvs__cfg_bool(const lvs_json *root, const char *key, int *out, lvs_error *err) {
    const lvs_json *v = lvs__cfg(root, key);
    if (!v) return LVS_OK;
    if (v->type != LVS_JSON_TRUE && v->type != LVS_JSON_FALSE)
        return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset, "config.json: \"%s\" must be true or false",
                         key);
    *out = v->type == LVS_JSON_TRUE;
    return LVS_OK;
}
static lvs_status lvs__cfg_str(const lvs_json *root, const char *key, char *out, size_t cap, lvs_error *err) {
    const lvs_json *v = lvs__cfg(root, key);
    if (!v) return LVS_OK;
    if (v->type != LVS_JSON_STRING || v->n >= cap)
        return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset, "config.json: \"%s\" must be a short string",
                         key);
    memcpy(out, v->str, v->n + 1);
    return LVS_OK;
}

static lvs_status lvs__cfg_rope(lvs_config *c, const lvs_json *root, lvs_error *err) {
    const lvs_json *rp = lvs__cfg(root, "rope_parameters"), *rs = lvs__cfg(root, "rope_scaling"), *t;
    lvs_status s;
    char type[32] = "default";
    if (rp && rp->type == LVS_JSON_OBJECT && (s = lvs__cfg_f64(rp, "rope_theta", &c->rope_theta, err)) != LVS_OK)
        return s;
    if (!rs) rs = rp; /* newer files keep the scaling inside rope_parameters */
    if (!rs) return LVS_OK;
    if (rs->type != LVS_JSON_OBJECT)
        return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)rs->offset, "config.json: \"rope_scaling\" must be an object");
    t = lvs__cfg(rs, "rope_type");
    if (!t) t = lvs__cfg(rs, "type");
    if (t && (s = lvs__cfg_str(rs, t->key, type, sizeof type, err)) != LVS_OK) return s;
    if (strcmp(type, "default") == 0) return LVS_OK;
    if (strcmp(type, "linear") == 0) c->rope_type = LVS_ROPE_LINEAR;
    else if (strcmp(type, "llama3") == 0) c->rope_type = LVS_ROPE_LLAMA3;
    else
        return lvs__fail(err, LVS_ERR_UNSUPPORTED, (int64_t)rs->offset,
                         "config.json: rope scaling type \"%s\" is not supported (supported: default, linear, "
                         "llama3)", type);
    c->rope_factor = 0;
    if ((s = lvs__cfg_f64(rs, "factor", &c->rope_factor, err)) != LVS_OK) return s;
    if (!(c->rope_factor > 0))
        return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)rs->offset, "config.json: rope scaling needs a positive \"factor\"");
    if (c->rope_type == LVS_ROPE_LLAMA3) {
        c->rope_low_freq_factor = c->rope_high_freq_factor = 0;
        c->rope_original_max_positions = 0;
        if ((s = lvs__cfg_f64(rs, "low_freq_factor", &c->rope_low_freq_factor, err)) != LVS_OK ||
            (s = lvs__cfg_f64(rs, "high_freq_factor", &c->rope_high_freq_factor, err)) != LVS_OK ||
            (s = lvs__cfg_i64(rs, "original_max_position_embeddings", &c->rope_original_max_positions, err)) !=
                LVS_OK)
            return s;
        if (!(c->rope_low_freq_factor > 0) || !(c->rope_high_freq_factor > c->rope_low_freq_factor) ||
            c->rope_original_max_positions <= 0)
            return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)rs->offset,
                             "config.json: llama3 rope scaling needs low_freq_factor > 0, high_freq_factor > "
                             "low_freq_factor and original_max_position_embeddings > 0");
    }
    return LVS_OK;
}

static lvs_status lvs__cfg_eos(lvs_config *c, const lvs_json *root, lvs_error *err) {
    const lvs_json *v = lvs__cfg(root, "eos_token_id");
    size_t i;
    lvs_status s;
    if (!v) return LVS_OK;
    c->n_eos = 0;
    if (v->type == LVS_JSON_ARRAY) {
        if (v->n > 8)
            return lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset, "config.json: more than 8 eos_token_id values");
        for (i = 0; i < v->n; i++)
            if ((s = lvs__cfg_int(&v->items[i], "eos_token_id", &c->eos_ids[c->n_eos++], err)) != LVS_OK) return s;
        return LVS_OK;
    }
    c->n_eos = 1;
    return lvs__cfg_int(v, "eos_token_id", &c->eos_ids[0], err);
}

LVSDEF lvs_status lvs_config_parse(lvs_config *c, const char *json, size_t len, lvs_error *err) {
    lvs_json_doc doc;
    const lvs_json *root, *v;
    lvs_status s;
    size_t i;
    int64_t l;
    int gpt2, use_sw = 0;
    int64_t max_window_layers = 28;
    if (!c || !json) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_config_parse: NULL argument");
    memset(c, 0, sizeof *c);
    if ((s = lvs_json_parse(&doc, json, len, 0, err)) != LVS_OK) {
        lvs__err_prefix(err, "config.json");
        return s;
    }
    root = doc.root;
    if (root->type != LVS_JSON_OBJECT) {
        s = lvs__fail(err, LVS_ERR_CONFIG, 0, "config.json is not a JSON object");
        goto done;
    }
    v = lvs__cfg(root, "architectures");
    if (v && v->type == LVS_JSON_ARRAY && v->n > 0 && v->items[0].type == LVS_JSON_STRING) {
        snprintf(c->arch_name, sizeof c->arch_name, "%s", v->items[0].str);
        for (i = 0; i < LVS__NARCHS; i++)
            if (strcmp(v->items[0].str, lvs__archs[i].arch) == 0) c->arch = lvs__archs[i].id;
    } else if (v) {
        s = lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset, "config.json: \"architectures\" must be a "
                      "non-empty list of strings");
        goto done;
    } else if ((v = lvs__cfg(root, "model_type")) != NULL && v->type == LVS_JSON_STRING) {
        snprintf(c->arch_name, sizeof c->arch_name, "model_type %s", v->str);
        for (i = 0; i < LVS__NARCHS; i++)
            if (lvs__archs[i].model_type && strcmp(v->str, lvs__archs[i].model_type) == 0) {
                c->arch = lvs__archs[i].id;
                snprintf(c->arch_name, sizeof c->arch_name, "%s", lvs__archs[i].arch);
            }
    }
    if (c->arch == LVS_ARCH_UNKNOWN) {
        s = lvs__fail(err, LVS_ERR_ARCH, -1,
                      "config.json: architecture \"%s\" is not supported (supported: LlamaForCausalLM, "
                      "MistralForCausalLM, Qwen2ForCausalLM, Gemma2ForCausalLM, GPT2LMHeadModel, "
                      "GPT2ForSequenceClassification)",
                      c->arch_name[0] ? c->arch_name : "(none given)");
        goto done;
    }
    gpt2 = c->arch == LVS_ARCH_GPT2 || c->arch == LVS_ARCH_GPT2_CLS;
    c->bos_id = c->pad_id = -1;
    c->rope_theta = 10000.0;
    c->norm_eps = 1e-6;
    c->n_eos = 1;
    strcpy(c->act, "silu");
    switch (c->arch) {
    case LVS_ARCH_MISTRAL:
        c->vocab_size = 32000; c->hidden_size = 4096; c->intermediate_size = 14336; c->n_layers = 32;
        c->n_heads = 32; c->n_kv_heads = 8; c->max_positions = 4096 * 32; c->sliding_window = 4096;
        c->bos_id = 1; c->eos_ids[0] = 2;
        break;
    case LVS_ARCH_QWEN2:
        c->vocab_size = 151936; c->hidden_size = 4096; c->intermediate_size = 22016; c->n_layers = 32;
        c->n_heads = 32; c->n_kv_heads = 32; c->max_positions = 32768; c->sliding_window = 4096;
        c->n_eos = 0; c->attention_bias = 1;
        break;
    case LVS_ARCH_GEMMA2:
        c->vocab_size = 256000; c->hidden_size = 2304; c->intermediate_size = 9216; c->n_layers = 26;
        c->n_heads = 8; c->n_kv_heads = 4; c->head_dim = 256; c->max_positions = 8192;
        c->tie_embeddings = 1; c->sliding_window = 4096; c->query_pre_attn_scalar = 256;
        c->attn_softcap = 50.0; c->final_softcap = 30.0; c->bos_id = 2; c->eos_ids[0] = 1; c->pad_id = 0;
        strcpy(c->act, "gelu_pytorch_tanh");
        break;
    case LVS_ARCH_GPT2:
    case LVS_ARCH_GPT2_CLS:
        c->vocab_size = 50257; c->hidden_size = 768; c->n_layers = 12; c->n_heads = 12;
        c->max_positions = 1024; c->norm_eps = 1e-5; c->tie_embeddings = 1; c->bos_id = 50256;
        c->eos_ids[0] = 50256; c->num_labels = 2; c->rope_theta = 0;
        strcpy(c->act, "gelu_new");
        break;
    default: /* Llama */
        c->vocab_size = 32000; c->hidden_size = 4096; c->intermediate_size = 11008; c->n_layers = 32;
        c->n_heads = 32; c->max_positions = 2048; c->bos_id = 1; c->eos_ids[0] = 2;
        break;
    }
    if ((s = lvs__cfg_i64(root, "vocab_size", &c->vocab_size, err)) != LVS_OK ||
        (s = lvs__cfg_i64(root, "bos_token_id", &c->bos_id, err)) != LVS_OK ||
        (s = lvs__cfg_i64(root, "pad_token_id", &c->pad_id, err)) != LVS_OK ||
        (s = lvs__cfg_eos(c, root, err)) != LVS_OK ||
        (s = lvs__cfg_bool(root, "tie_word_embeddings", &c->tie_embeddings, err)) != LVS_OK)
        goto done;
    if (gpt2) {
        int64_t inner = 0;
        if ((s = lvs__cfg_i64(root, "n_embd", &c->hidden_size, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "n_layer", &c->n_layers, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "n_head", &c->n_heads, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "n_inner", &inner, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "n_positions", &c->max_positions, err)) != LVS_OK ||
            (s = lvs__cfg_f64(root, "layer_norm_epsilon", &c->norm_eps, err)) != LVS_OK ||
            (s = lvs__cfg_str(root, "activation_function", c->act, sizeof c->act, err)) != LVS_OK)
            goto done;
        c->intermediate_size = inner ? inner : (c->hidden_size > 0 && c->hidden_size <= ((int64_t)1 << 24))
                                                  ? 4 * c->hidden_size : 0;
        c->n_kv_heads = c->n_heads;
        c->attention_bias = c->mlp_bias = 1;
        if (c->arch == LVS_ARCH_GPT2_CLS) {
            v = lvs__cfg(root, "id2label");
            if (v && v->type == LVS_JSON_OBJECT) c->num_labels = (int64_t)v->n;
            else if ((s = lvs__cfg_i64(root, "num_labels", &c->num_labels, err)) != LVS_OK) goto done;
        }
    } else {
        if ((s = lvs__cfg_i64(root, "hidden_size", &c->hidden_size, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "intermediate_size", &c->intermediate_size, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "num_hidden_layers", &c->n_layers, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "num_attention_heads", &c->n_heads, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "max_position_embeddings", &c->max_positions, err)) != LVS_OK ||
            (s = lvs__cfg_i64(root, "head_dim", &c->head_dim, err)) != LVS_OK ||
            (s = lvs__cfg_f64(root, "rms_norm_eps", &c->norm_eps, err)) != LVS_OK ||
            (s = lvs__cfg_f64(root, "rope_theta", &c->rope_theta, err)) != LVS_OK ||
            (s = lvs__cfg_rope(c, root, err)) != LVS_OK)
            goto done;
        if (c->arch != LVS_ARCH_QWEN2 && c->arch != LVS_ARCH_MISTRAL &&
            (s = lvs__cfg_bool(root, "attention_bias", &c->attention_bias, err)) != LVS_OK)
            goto done;
        if (c->arch == LVS_ARCH_LLAMA && (s = lvs__cfg_bool(root, "mlp_bias", &c->mlp_bias, err)) != LVS_OK)
            goto done;
        if ((s = lvs__cfg_str(root, c->arch == LVS_ARCH_GEMMA2 ? "hidden_activation" : "hidden_act", c->act,
                              sizeof c->act, err)) != LVS_OK)
            goto done;
        /* absent: the class default (Llama: the number of heads, Mistral 8, Qwen2 32); null: heads */
        v = lvs_json_get(root, "num_key_value_heads");
        if (!c->n_kv_heads || (v && v->type == LVS_JSON_NULL)) c->n_kv_heads = c->n_heads;
        if ((s = lvs__cfg_i64(root, "num_key_value_heads", &c->n_kv_heads, err)) != LVS_OK) goto done;
        if (c->arch == LVS_ARCH_GEMMA2 &&
            ((s = lvs__cfg_f64(root, "query_pre_attn_scalar", &c->query_pre_attn_scalar, err)) != LVS_OK ||
             (s = lvs__cfg_f64(root, "attn_logit_softcapping", &c->attn_softcap, err)) != LVS_OK ||
             (s = lvs__cfg_f64(root, "final_logit_softcapping", &c->final_softcap, err)) != LVS_OK))
            goto done;
        if (c->arch == LVS_ARCH_GEMMA2 && !lvs__cfg(root, "attn_logit_softcapping") &&
            lvs_json_get(root, "attn_logit_softcapping"))
            c->attn_softcap = 0; /* explicit null turns it off */
        if (c->arch == LVS_ARCH_GEMMA2 && !lvs__cfg(root, "final_logit_softcapping") &&
            lvs_json_get(root, "final_logit_softcapping"))
            c->final_softcap = 0;
        if (c->arch == LVS_ARCH_MISTRAL || c->arch == LVS_ARCH_QWEN2 || c->arch == LVS_ARCH_GEMMA2) {
            v = lvs_json_get(root, "sliding_window");
            if (v && v->type == LVS_JSON_NULL) c->sliding_window = 0;
            else if ((s = lvs__cfg_i64(root, "sliding_window", &c->sliding_window, err)) != LVS_OK)
                goto done;
        }
        if (c->arch == LVS_ARCH_QWEN2 &&
            ((s = lvs__cfg_bool(root, "use_sliding_window", &use_sw, err)) != LVS_OK ||
             (s = lvs__cfg_i64(root, "max_window_layers", &max_window_layers, err)) != LVS_OK))
            goto done;
    }
    /* sizes */
    {
        static const char *const names[] = {"vocab_size", "hidden_size", "intermediate_size",
                                            "num_hidden_layers", "num_attention_heads",
                                            "num_key_value_heads", "max_position_embeddings"};
        const int64_t vals[] = {c->vocab_size, c->hidden_size, c->intermediate_size, c->n_layers,
                                c->n_heads, c->n_kv_heads, c->max_positions};
        for (i = 0; i < 7; i++)
            if (vals[i] <= 0 || vals[i] > ((int64_t)1 << 24)) {
                s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: %s = %lld is out of range (1 .. 16777216)",
                              names[i], (long long)vals[i]);
                goto done;
            }
    }
    if (c->n_layers > LVS_MAX_LAYERS) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: %lld layers (at most %d are supported)",
                      (long long)c->n_layers, LVS_MAX_LAYERS);
        goto done;
    }
    if (c->n_heads % c->n_kv_heads != 0) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1,
                      "config.json: num_attention_heads (%lld) is not a multiple of num_key_value_heads (%lld)",
                      (long long)c->n_heads, (long long)c->n_kv_heads);
        goto done;
    }
    if (c->head_dim == 0) {
        if (c->hidden_size % c->n_heads != 0) {
            s = lvs__fail(err, LVS_ERR_CONFIG, -1,
                          "config.json: hidden_size (%lld) is not a multiple of the number of heads (%lld) "
                          "and head_dim is not given",
                          (long long)c->hidden_size, (long long)c->n_heads);
            goto done;
        }
        c->head_dim = c->hidden_size / c->n_heads;
    }
    if (c->head_dim <= 0 || c->head_dim > 65536 || c->head_dim % 2) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: head_dim = %lld must be even and in 2 .. 65536",
                      (long long)c->head_dim);
        goto done;
    }
    if (!(c->norm_eps > 0) || !(c->norm_eps < 1)) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: the norm epsilon must be in (0, 1)");
        goto done;
    }
    if (!gpt2 && !(c->rope_theta > 0 && c->rope_theta < 1e300)) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: rope_theta must be positive");
        goto done;
    }
    if (c->arch == LVS_ARCH_GPT2_CLS && (c->num_labels <= 0 || c->num_labels > 65536)) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: num_labels = %lld is out of range",
                      (long long)c->num_labels);
        goto done;
    }
    if (c->sliding_window < 0) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "config.json: sliding_window must be positive or null");
        goto done;
    }
    /* which layers slide */
    for (l = 0; l < c->n_layers; l++) {
        int sl = 0;
        if (c->sliding_window > 0) {
            if (c->arch == LVS_ARCH_MISTRAL) sl = 1;
            else if (c->arch == LVS_ARCH_GEMMA2) sl = (l % 2) == 0;
            else if (c->arch == LVS_ARCH_QWEN2) sl = use_sw && l >= max_window_layers;
        }
        c->layer_sliding[l] = (unsigned char)sl;
    }
    v = lvs__cfg(root, "layer_types");
    if (v && !gpt2) {
        if (v->type != LVS_JSON_ARRAY || (int64_t)v->n != c->n_layers) {
            s = lvs__fail(err, LVS_ERR_CONFIG, (int64_t)v->offset,
                          "config.json: \"layer_types\" must list one type per layer");
            goto done;
        }
        for (i = 0; i < v->n; i++) {
            const lvs_json *t = &v->items[i];
            int sl = t->type == LVS_JSON_STRING && strcmp(t->str, "sliding_attention") == 0;
            if (!sl && !(t->type == LVS_JSON_STRING && strcmp(t->str, "full_attention") == 0)) {
                s = lvs__fail(err, LVS_ERR_UNSUPPORTED, (int64_t)t->offset,
                              "config.json: layer_types[%llu] is not \"full_attention\" or \"sliding_attention\"",
                              (unsigned long long)i);
                goto done;
            }
            if (sl && c->sliding_window <= 0) {
                s = lvs__fail(err, LVS_ERR_CONFIG, (int64_t)t->offset,
                              "config.json: layer %llu is a sliding layer but no sliding_window is set",
                              (unsigned long long)i);
                goto done;
            }
            c->layer_sliding[i] = (unsigned char)sl;
        }
    }
    {
        int any = 0;
        for (l = 0; l < c->n_layers; l++) any |= c->layer_sliding[l];
        if (!any) c->sliding_window = 0;
    }
    s = LVS_OK;
done:
    lvs_json_free(&doc);
    return s;
}

/* =====================================================================================
   TENSOR LAYOUT: the tensors each architecture needs, with the shapes config.json implies.
   Calls: base, safetensors reader (name look-up), config.
   ===================================================================================== */

typedef struct lvs__specs { lvs_tensor_spec *v; size_t n, cap; int oom; } lvs__specs;
static void lvs__spec(lvs__specs *s, int flags, int64_t d0, int64_t d1, const char *fmt, ...) {
    lvs_tensor_spec *t;
    va_list ap;
    if (s->oom) return;
    if (!lvs__grow(&s->v, &s->cap, s->n + 1, sizeof(lvs_tensor_spec))) { s->oom = 1; return; }
    t = &s->v[s->n++];
    memset(t, 0, sizeof *t);
    va_start(ap, fmt);
    vsnprintf(t->name, sizeof t->name, fmt, ap);
    va_end(ap);
    t->flags = flags;
    t->ndim = d1 ? 2 : 1;
    t->shape[0] = d0;
    t->shape[1] = d1;
}

LVSDEF lvs_status lvs_arch_tensors(const lvs_config *c, const lvs_safetensors *st, lvs_tensor_spec **specs,
                                   size_t *n, lvs_error *err) {
    lvs__specs s = {NULL, 0, 0, 0};
    int64_t l, d, ff, qd, kvd;
    const int M = LVS_SPEC_MATRIX, C = LVS_SPEC_MATRIX | LVS_SPEC_CONV1D;
    if (!c || !specs || !n) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_arch_tensors: NULL argument");
    *specs = NULL;
    *n = 0;
    d = c->hidden_size;
    ff = c->intermediate_size;
    qd = c->n_heads * c->head_dim;
    kvd = c->n_kv_heads * c->head_dim;
    if (c->arch == LVS_ARCH_GPT2 || c->arch == LVS_ARCH_GPT2_CLS) {
        const char *p = (st && !lvs_st_find(st, "transformer.wte.weight") && lvs_st_find(st, "wte.weight"))
                            ? "" : "transformer.";
        lvs__spec(&s, M, c->vocab_size, d, "%swte.weight", p);
        lvs__spec(&s, M, c->max_positions, d, "%swpe.weight", p);
        for (l = 0; l < c->n_layers; l++) {
            lvs__spec(&s, 0, d, 0, "%sh.%lld.ln_1.weight", p, (long long)l);
            lvs__spec(&s, 0, d, 0, "%sh.%lld.ln_1.bias", p, (long long)l);
            lvs__spec(&s, C, d, 3 * d, "%sh.%lld.attn.c_attn.weight", p, (long long)l);
            lvs__spec(&s, 0, 3 * d, 0, "%sh.%lld.attn.c_attn.bias", p, (long long)l);
            lvs__spec(&s, C, d, d, "%sh.%lld.attn.c_proj.weight", p, (long long)l);
            lvs__spec(&s, 0, d, 0, "%sh.%lld.attn.c_proj.bias", p, (long long)l);
            lvs__spec(&s, 0, d, 0, "%sh.%lld.ln_2.weight", p, (long long)l);
            lvs__spec(&s, 0, d, 0, "%sh.%lld.ln_2.bias", p, (long long)l);
            lvs__spec(&s, C, d, ff, "%sh.%lld.mlp.c_fc.weight", p, (long long)l);
            lvs__spec(&s, 0, ff, 0, "%sh.%lld.mlp.c_fc.bias", p, (long long)l);
            lvs__spec(&s, C, ff, d, "%sh.%lld.mlp.c_proj.weight", p, (long long)l);
            lvs__spec(&s, 0, d, 0, "%sh.%lld.mlp.c_proj.bias", p, (long long)l);
        }
        lvs__spec(&s, 0, d, 0, "%sln_f.weight", p);
        lvs__spec(&s, 0, d, 0, "%sln_f.bias", p);
        if (c->arch == LVS_ARCH_GPT2_CLS) lvs__spec(&s, M, c->num_labels, d, "score.weight");
        else if (!c->tie_embeddings) lvs__spec(&s, M, c->vocab_size, d, "lm_head.weight");
    } else {
        const char *nm[4] = {"q", "k", "v", "o"};
        const int64_t out[4] = {qd, kvd, kvd, d}, in[4] = {d, d, d, qd};
        int i, qkv_bias = c->attention_bias, o_bias = c->attention_bias && c->arch != LVS_ARCH_QWEN2;
        lvs__spec(&s, M, c->vocab_size, d, "model.embed_tokens.weight");
        for (l = 0; l < c->n_layers; l++) {
            const long long L = (long long)l;
            lvs__spec(&s, 0, d, 0, "model.layers.%lld.input_layernorm.weight", L);
            for (i = 0; i < 4; i++) {
                lvs__spec(&s, M, out[i], in[i], "model.layers.%lld.self_attn.%s_proj.weight", L, nm[i]);
                if (i < 3 ? qkv_bias : o_bias)
                    lvs__spec(&s, 0, out[i], 0, "model.layers.%lld.self_attn.%s_proj.bias", L, nm[i]);
            }
            lvs__spec(&s, 0, d, 0, "model.layers.%lld.post_attention_layernorm.weight", L);
            if (c->arch == LVS_ARCH_GEMMA2) {
                lvs__spec(&s, 0, d, 0, "model.layers.%lld.pre_feedforward_layernorm.weight", L);
                lvs__spec(&s, 0, d, 0, "model.layers.%lld.post_feedforward_layernorm.weight", L);
            }
            lvs__spec(&s, M, ff, d, "model.layers.%lld.mlp.gate_proj.weight", L);
            lvs__spec(&s, M, ff, d, "model.layers.%lld.mlp.up_proj.weight", L);
            lvs__spec(&s, M, d, ff, "model.layers.%lld.mlp.down_proj.weight", L);
            if (c->mlp_bias) {
                lvs__spec(&s, 0, ff, 0, "model.layers.%lld.mlp.gate_proj.bias", L);
                lvs__spec(&s, 0, ff, 0, "model.layers.%lld.mlp.up_proj.bias", L);
                lvs__spec(&s, 0, d, 0, "model.layers.%lld.mlp.down_proj.bias", L);
            }
        }
        lvs__spec(&s, 0, d, 0, "model.norm.weight");
        if (!c->tie_embeddings) lvs__spec(&s, M, c->vocab_size, d, "lm_head.weight");
    }
    if (s.oom) {
        LVS_FREE(s.v);
        return lvs__oom(err);
    }
    *specs = s.v;
    *n = s.n;
    return LVS_OK;
}

/* =====================================================================================
   INT8 QUANTIZATION: blocks of 32 along a row with one f32 scale (see the manual).
   Calls: nothing.
   ===================================================================================== */

LVSDEF int64_t lvs_q8_nblocks(int64_t cols) { return (cols + LVS_Q8_BLOCK - 1) / LVS_Q8_BLOCK; }

LVSDEF void lvs_q8_quantize_row(const float *x, int64_t cols, int8_t *q, float *scales) {
    int64_t b, j, nb = lvs_q8_nblocks(cols);
    for (b = 0; b < nb; b++) {
        int64_t j0 = b * LVS_Q8_BLOCK, j1 = j0 + LVS_Q8_BLOCK < cols ? j0 + LVS_Q8_BLOCK : cols;
        float amax = 0.0f, s;
        for (j = j0; j < j1; j++) amax = fabsf(x[j]) > amax ? fabsf(x[j]) : amax;
        s = amax / 127.0f;
        scales[b] = s;
        for (j = j0; j < j1; j++) {
            float r = s > 0.0f ? roundf(x[j] / s) : 0.0f;
            q[j] = (int8_t)(r > 127.0f ? 127 : r < -127.0f ? -127 : r == r ? (int)r : 0); /* NaN -> 0 */
        }
    }
}

LVSDEF void lvs_q8_dequantize_row(const int8_t *q, const float *scales, int64_t cols, float *x) {
    int64_t j;
    for (j = 0; j < cols; j++) x[j] = scales[j / LVS_Q8_BLOCK] * (float)q[j];
}

/* =====================================================================================
   MODEL FILES AND CONVERSION: a model is a Hugging Face folder (config.json, safetensors,
   tokenizer files) or one file written by lvs_convert with those texts in its metadata.
   lvs_convert writes the self-contained file. Calls: everything above.
   ===================================================================================== */

static const char *const lvs__text_names[LVS_MODEL_TEXTS] = {
    "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json",
    "special_tokens_map.json", "chat_template.jinja", "chat_template.json"};

LVSDEF const char *lvs_model_text_name(int i) {
    return (i >= 0 && i < LVS_MODEL_TEXTS) ? lvs__text_names[i] : NULL;
}
LVSDEF const char *lvs_model_text(const lvs_model_files *m, const char *name, size_t *len) {
    int i;
    for (i = 0; m && name && i < LVS_MODEL_TEXTS; i++)
        if (strcmp(lvs__text_names[i], name) == 0 && m->text[i]) {
            if (len) *len = m->text_len[i];
            return m->text[i];
        }
    return NULL;
}

LVSDEF void lvs_model_files_close(lvs_model_files *m) {
    int i;
    if (!m) return;
    for (i = 0; i < LVS_MODEL_TEXTS; i++) LVS_FREE(m->owned_[i]);
    lvs_st_close(&m->st);
    memset(m, 0, sizeof *m);
}

LVSDEF lvs_status lvs_model_files_open(lvs_model_files *m, const char *path, lvs_error *err) {
    lvs_status s;
    char *dir = NULL;
    int i;
    if (!m || !path) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_model_files_open: NULL argument");
    memset(m, 0, sizeof *m);
    if ((s = lvs_st_open(&m->st, path, err)) != LVS_OK) return s;
    if (lvs_is_dir(path)) dir = lvs__strdup(path);
    else {
        const lvs_st_meta *fmt = lvs_st_get_meta(&m->st, "lvs.format");
        if (fmt) {
            if (strcmp(fmt->value, "1") != 0) {
                s = lvs__fail(err, LVS_ERR_UNSUPPORTED, -1, "%s: lvs.format \"%.20s\" is newer than this "
                              "version of lvs.h understands", path, fmt->value);
                goto fail;
            }
            m->is_lvs = 1;
            for (i = 0; i < LVS_MODEL_TEXTS; i++) {
                const lvs_st_meta *t = lvs_st_get_meta(&m->st, lvs__text_names[i]);
                if (t) { m->text[i] = t->value; m->text_len[i] = t->value_len; }
            }
        } else dir = lvs__path_dir(path);
    }
    if (!m->is_lvs) {
        if (!dir) { s = lvs__oom(err); goto fail; }
        for (i = 0; i < LVS_MODEL_TEXTS; i++) {
            char *p = lvs__path_join(dir, lvs__text_names[i]);
            if (!p) { s = lvs__oom(err); goto fail; }
            if (lvs_is_file(p)) {
                s = lvs_read_file(p, &m->owned_[i], &m->text_len[i], err);
                if (s != LVS_OK) { LVS_FREE(p); goto fail; }
                m->text[i] = m->owned_[i];
            }
            LVS_FREE(p);
        }
    }
    if (!m->text[0]) {
        s = lvs__fail(err, LVS_ERR_NOT_FOUND, -1, "%s: no config.json %s", path,
                      m->is_lvs ? "in the file's metadata" : "beside the weights");
        goto fail;
    }
    LVS_FREE(dir);
    return LVS_OK;
fail:
    LVS_FREE(dir);
    lvs_model_files_close(m);
    return s;
}

static const char *const lvs__wtype_names[4] = {"f32", "f16", "bf16", "int8"};
LVSDEF const char *lvs_wtype_name(lvs_wtype t) {
    return ((int)t >= 0 && (int)t < 4) ? lvs__wtype_names[t] : "?";
}
LVSDEF int lvs_wtype_from_name(const char *s, lvs_wtype *out) {
    int i;
    for (i = 0; s && i < 4; i++)
        if (strcmp(s, lvs__wtype_names[i]) == 0) {
            *out = (lvs_wtype)i;
            return 1;
        }
    return 0;
}

/* ---- plans: where each tensor a model needs comes from, matched and validated */
typedef struct lvs__src {
    const lvs_tensor_spec *spec;
    const lvs_st_tensor *t;     /* source values */
    const lvs_st_tensor *scale; /* source scales when t is int8 */
    int transpose;              /* source stored [in, out]; the matrix is used as [out, in] */
    int64_t rows, cols;         /* as a [rows, cols] = [out, in] matrix (1-D: one row) */
} lvs__src;
typedef struct lvs__plan {
    lvs_config cfg;
    lvs_tensor_spec *specs;
    lvs__src *src;              /* one per spec */
    size_t n;
    unsigned char *used;        /* per file tensor: taken by a spec */
} lvs__plan;

static void lvs__plan_free(lvs__plan *p) {
    LVS_FREE(p->specs);
    LVS_FREE(p->src);
    LVS_FREE(p->used);
    memset(p, 0, sizeof *p);
}

static void lvs__shape_str(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t n = 0;
    int i;
    n += (size_t)snprintf(out, cap, "[");
    for (i = 0; i < ndim && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (n < cap) snprintf(out + n, cap - n, "]");
}

/* Parses the config of m and finds, for every tensor the architecture needs, its source in the
   files: refuses missing tensors (naming them), wrong shapes and non-float weights. */
static lvs_status lvs__plan_make(lvs__plan *p, const lvs_model_files *m, const char *label, lvs_error *err) {
    const lvs_st_meta *layout = lvs_st_get_meta(&m->st, "lvs.layout");
    int src_out_in = m->is_lvs && layout && strcmp(layout->value, "out_in") == 0;
    size_t i, nmissing = 0;
    char missing[400];
    lvs_status s;
    memset(p, 0, sizeof *p);
    if ((s = lvs_config_parse(&p->cfg, m->text[0], m->text_len[0], err)) != LVS_OK) {
        lvs__err_prefix(err, label);
        return s;
    }
    if ((s = lvs_arch_tensors(&p->cfg, &m->st, &p->specs, &p->n, err)) != LVS_OK) return s;
    p->src = LVS__NEW(lvs__src, p->n + 1);
    p->used = LVS__NEW(unsigned char, m->st.n_tensors + 1);
    if (!p->src || !p->used) {
        lvs__plan_free(p);
        return lvs__oom(err);
    }
    memset(p->src, 0, sizeof(lvs__src) * (p->n + 1));
    memset(p->used, 0, m->st.n_tensors + 1);
    missing[0] = 0;
    for (i = 0; i < p->n; i++) {
        const lvs_tensor_spec *sp = &p->specs[i];
        lvs__src *it = &p->src[i];
        const lvs_st_tensor *t = lvs_st_find(&m->st, sp->name);
        int64_t want[2];
        char shp[64], wshp[64];
        int d;
        it->spec = sp;
        if (!t) {
            if (nmissing < 5)
                snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s", nmissing ? ", " : "",
                         sp->name);
            nmissing++;
            continue;
        }
        p->used[t - m->st.tensors] = 1;
        it->t = t;
        want[0] = sp->shape[0];
        want[1] = sp->shape[1];
        if ((sp->flags & LVS_SPEC_CONV1D) && src_out_in) { want[0] = sp->shape[1]; want[1] = sp->shape[0]; }
        if (m->is_lvs && t->dtype == LVS_I8 && (sp->flags & LVS_SPEC_MATRIX)) {
            char sname[160];
            if ((sp->flags & LVS_SPEC_CONV1D) && !src_out_in) { /* int8 blocks run along the input */
                s = lvs__fail(err, LVS_ERR_TENSOR, -1, "%s: int8 tensor \"%s\" must be stored [out, in], but "
                              "lvs.layout is not \"out_in\"", label, sp->name);
                goto fail;
            }
            snprintf(sname, sizeof sname, "%s.scale", sp->name);
            it->scale = lvs_st_find(&m->st, sname);
            if (!it->scale || it->scale->dtype != LVS_F32 || it->scale->ndim != 2 || it->scale->shape[0] != want[0] ||
                it->scale->shape[1] != lvs_q8_nblocks(want[1])) {
                s = lvs__fail(err, LVS_ERR_TENSOR, -1, "%s: int8 tensor \"%s\" lacks a matching F32 \"%s\"", label,
                              sp->name, sname);
                goto fail;
            }
            p->used[it->scale - m->st.tensors] = 1;
        } else if (!lvs__is_float_dtype(t->dtype)) {
            s = lvs__fail(err, LVS_ERR_TENSOR, -1, "%s: tensor \"%s\" has dtype %s; expected a floating-point type",
                          label, sp->name, lvs_dtype_name(t->dtype));
            goto fail;
        }
        for (d = 0; d < sp->ndim; d++)
            if (t->ndim != sp->ndim || t->shape[d] != want[d]) break;
        if (d < sp->ndim || t->ndim != sp->ndim) {
            lvs__shape_str(shp, sizeof shp, t->ndim, t->shape);
            lvs__shape_str(wshp, sizeof wshp, sp->ndim, want);
            s = lvs__fail(err, LVS_ERR_TENSOR, -1, "%s: tensor \"%s\" has shape %s, but config.json implies %s", label,
                          sp->name, shp, wshp);
            goto fail;
        }
        it->transpose = (sp->flags & LVS_SPEC_CONV1D) && !src_out_in;
        if (sp->ndim == 2) {
            it->rows = (sp->flags & LVS_SPEC_CONV1D) ? sp->shape[1] : sp->shape[0];
            it->cols = (sp->flags & LVS_SPEC_CONV1D) ? sp->shape[0] : sp->shape[1];
        } else {
            it->rows = 1;
            it->cols = sp->shape[0];
        }
    }
    if (nmissing) {
        s = lvs__fail(err, LVS_ERR_TENSOR, -1, "%s: %llu tensor%s that %s needs %s missing: %s%s", label,
                      (unsigned long long)nmissing, nmissing > 1 ? "s" : "", p->cfg.arch_name,
                      nmissing > 1 ? "are" : "is", missing, nmissing > 5 ? ", ..." : "");
        goto fail;
    }
    return LVS_OK;
fail:
    lvs__plan_free(p);
    return s;
}

/* Output rows [r0, r1) of a source as f32 into buf ((r1 - r0) x cols). */
static void lvs__src_rows(const lvs__src *it, int64_t r0, int64_t r1, float *buf) {
    int64_t r, c, cols = it->cols, rows = it->rows;
    if (it->transpose) {
        for (r = r0; r < r1; r++)
            for (c = 0; c < cols; c++)
                lvs__to_f32(it->t->data, it->t->dtype, (size_t)(c * rows + r), 1, buf + (r - r0) * cols + c);
    } else if (it->scale) {
        const int64_t nb = lvs_q8_nblocks(cols);
        const int8_t *q = (const int8_t *)it->t->data;
        const float *sc = (const float *)it->scale->data;
        LVS__OMP_FOR((r1 - r0) * cols)
        for (r = r0; r < r1; r++) lvs_q8_dequantize_row(q + r * cols, sc + r * nb, cols, buf + (r - r0) * cols);
    } else {
        LVS__OMP_FOR((r1 - r0) * cols)
        for (r = r0; r < r1; r++)
            lvs__to_f32(it->t->data, it->t->dtype, (size_t)(r * cols), (size_t)cols, buf + (r - r0) * cols);
    }
}

typedef struct lvs__rowstat { double e2, x2, maxrel; int64_t nsub, novf; int nonfinite; } lvs__rowstat;

/* Converts one f32 row into dtype out (F32, F16, BF16 or I8) and measures the round-trip error.
   I8 writes q to dst (or to tmpq when dst is NULL) and the block scales to scales (or tmpf). */
static void lvs__conv_row(const float *x, int64_t cols, lvs_dtype out, void *dst, float *scales, float *tmpf,
                          int8_t *tmpq, lvs__rowstat *st) {
    int64_t j;
    memset(st, 0, sizeof *st);
    if (out == LVS_F32) { memcpy(dst, x, (size_t)cols * sizeof(float)); return; }
    if (out == LVS_I8) {
        int64_t b, nb = lvs_q8_nblocks(cols);
        int8_t *q = dst ? (int8_t *)dst : tmpq;
        float *sc = scales ? scales : tmpf;
        for (j = 0; j < cols; j++)
            if (!(fabsf(x[j]) <= FLT_MAX)) st->nonfinite = 1;
        lvs_q8_quantize_row(x, cols, q, sc);
        for (b = 0; b < nb; b++) {
            int64_t j0 = b * LVS_Q8_BLOCK, j1 = j0 + LVS_Q8_BLOCK < cols ? j0 + LVS_Q8_BLOCK : cols;
            double amax = 0, emax = 0;
            for (j = j0; j < j1; j++) {
                double e = (double)x[j] - (double)sc[b] * (double)q[j];
                st->e2 += e * e;
                st->x2 += (double)x[j] * x[j];
                if (fabs(e) > emax) emax = fabs(e);
                if (fabs((double)x[j]) > amax) amax = fabs((double)x[j]);
            }
            if (amax > 0 && emax / amax > st->maxrel) st->maxrel = emax / amax;
        }
        return;
    }
    for (j = 0; j < cols; j++) {
        uint16_t h = out == LVS_F16 ? lvs_f32_to_f16(x[j]) : lvs_f32_to_bf16(x[j]);
        double v = out == LVS_F16 ? lvs_f16_to_f32(h) : lvs_bf16_to_f32(h), a = fabs((double)x[j]), e;
        double minnorm = out == LVS_F16 ? 6.103515625e-05 : 1.1754943508222875e-38;
        ((uint16_t *)dst)[j] = h;
        if (!(a <= FLT_MAX)) continue;
        if (!(fabs(v) <= FLT_MAX)) { st->novf++; continue; }
        e = (double)x[j] - v;
        st->e2 += e * e;
        st->x2 += a * a;
        if (a >= minnorm) { if (fabs(e) / a > st->maxrel) st->maxrel = fabs(e) / a; }
        else if (a > 0) st->nsub++;
    }
}

/* Converts a whole source into dtype out: dst gets the values (rows x cols; for I8 it may be
   NULL when only scales are wanted), scales the I8 block scales (may be NULL). The error
   figures, summed in a fixed order (independent of the thread count), go to *total. */
static lvs_status lvs__convert_src(const lvs__src *it, lvs_dtype out, void *dst, float *scales, lvs__rowstat *total,
                                   lvs_error *err) {
    int64_t cols = it->cols, rows = it->rows, chunk, r0, r, i, nb = lvs_q8_nblocks(it->cols);
    size_t esz = lvs_dtype_size(out);
    float *buf, *tmpf;
    int8_t *tmpq;
    lvs__rowstat *rs, tot;
    chunk = ((int64_t)1 << 22) / (cols ? cols : 1);
    if (chunk < 1) chunk = 1;
    if (chunk > rows) chunk = rows;
    buf = LVS__NEW(float, (size_t)(chunk * cols) + 1);
    tmpf = LVS__NEW(float, (size_t)(chunk * nb) + 1);
    tmpq = LVS__NEW(int8_t, (size_t)(chunk * cols) + 1);
    rs = LVS__NEW(lvs__rowstat, (size_t)rows + 1);
    if (!buf || !tmpf || !tmpq || !rs) {
        LVS_FREE(buf); LVS_FREE(tmpf); LVS_FREE(tmpq); LVS_FREE(rs);
        return lvs__oom(err);
    }
    for (r0 = 0; r0 < rows; r0 += chunk) {
        int64_t r1 = r0 + chunk < rows ? r0 + chunk : rows;
        lvs__src_rows(it, r0, r1, buf);
        LVS__OMP_FOR((r1 - r0) * cols)
        for (r = r0; r < r1; r++)
            lvs__conv_row(buf + (r - r0) * cols, cols, out, dst ? (char *)dst + (size_t)(r * cols) * esz : NULL,
                          scales ? scales + r * nb : NULL, tmpf + (r - r0) * nb, tmpq + (r - r0) * cols, &rs[r]);
    }
    LVS_FREE(buf);
    LVS_FREE(tmpf);
    LVS_FREE(tmpq);
    memset(&tot, 0, sizeof tot);
    for (i = 0; i < rows; i++) {
        tot.e2 += rs[i].e2;
        tot.x2 += rs[i].x2;
        tot.maxrel = rs[i].maxrel > tot.maxrel ? rs[i].maxrel : tot.maxrel;
        tot.nsub += rs[i].nsub;
        tot.novf += rs[i].novf;
        tot.nonfinite |= rs[i].nonfinite;
    }
    LVS_FREE(rs);
    if (total) *total = tot;
    if (tot.nonfinite && out == LVS_I8)
        return lvs__fail(err, LVS_ERR_NONFINITE, -1, "tensor \"%s\" contains NaN or infinite values, which int8 "
                         "cannot represent", it->spec->name);
    return LVS_OK;
}

/* ---- lvs_convert: plan -> writer entries whose data is produced while the file is written */
typedef struct lvs__conv_item {
    const lvs__src *src;
    lvs_dtype out;              /* dtype of the main output tensor */
    int scale_part;             /* this entry is NAME.scale of an int8 matrix */
    char *name;                 /* NAME or NAME.scale */
    lvs_convert_fn cb;
    void *user;
} lvs__conv_item;

static lvs_status lvs__conv_fill_fn(void *user, void *dst, size_t nbytes, lvs_error *err) {
    const lvs__conv_item *it = (const lvs__conv_item *)user;
    const lvs__src *src = it->src;
    lvs__rowstat tot;
    lvs_convert_stats cs;
    lvs_status s;
    (void)nbytes;
    s = it->scale_part ? lvs__convert_src(src, LVS_I8, NULL, (float *)dst, &tot, err)
                       : lvs__convert_src(src, it->out, dst, NULL, &tot, err);
    if (s != LVS_OK || it->scale_part || !it->cb) return s;
    memset(&cs, 0, sizeof cs);
    cs.name = src->spec->name;
    cs.event = LVS_CONVERT_TENSOR;
    cs.src_dtype = src->scale ? "int8" : lvs_dtype_name(src->t->dtype);
    cs.dst_dtype = it->out == LVS_I8 ? "int8" : lvs_dtype_name(it->out);
    cs.ndim = src->spec->ndim;
    cs.shape[0] = src->spec->ndim == 2 ? src->rows : src->cols;
    cs.shape[1] = src->spec->ndim == 2 ? src->cols : 0;
    cs.transposed = src->transpose;
    cs.lossy = it->out != LVS_F32;
    cs.max_rel = tot.maxrel;
    cs.rms_rel = tot.x2 > 0 ? sqrt(tot.e2 / tot.x2) : 0.0;
    cs.n_subnormal = tot.nsub;
    cs.n_overflow = tot.novf;
    it->cb(it->user, &cs);
    return LVS_OK;
}

/* Why a source tensor that no spec asked for is left out. */
static const char *lvs__skip_note(const lvs_config *c, const char *name) {
    size_t n = strlen(name);
    if (n >= 19 && strcmp(name + n - 19, "rotary_emb.inv_freq") == 0) return "buffer recomputed from config.json";
    if ((n >= 10 && strcmp(name + n - 10, ".attn.bias") == 0) ||
        (n >= 17 && strcmp(name + n - 17, ".attn.masked_bias") == 0))
        return "attention-mask buffer";
    if (strcmp(name, "lm_head.weight") == 0 && c->tie_embeddings) return "tied to the embedding matrix";
    return "not used by this architecture";
}

static const lvs_dtype lvs__wtype_dtype[4] = {LVS_F32, LVS_F16, LVS_BF16, LVS_I8};

LVSDEF lvs_status lvs_convert(const char *in_path, const char *out_path, lvs_wtype wtype, lvs_convert_fn cb,
                              void *user, lvs_error *err) {
    lvs_model_files m;
    lvs__plan plan;
    lvs__conv_item *items = NULL;
    lvs_st_writer *w = NULL;
    size_t i, k;
    lvs_status s;
    if (!in_path || !out_path || (int)wtype < 0 || (int)wtype > 3)
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_convert: invalid argument");
    lvs__err_clear(err);
    if ((s = lvs_model_files_open(&m, in_path, err)) != LVS_OK) return s;
    if ((s = lvs__plan_make(&plan, &m, in_path, err)) != LVS_OK) {
        lvs_model_files_close(&m);
        return s;
    }
    items = LVS__NEW(lvs__conv_item, 2 * plan.n + 1);
    if (items) memset(items, 0, sizeof(lvs__conv_item) * (2 * plan.n + 1));
    w = lvs_st_writer_create();
    if (!items || !w) { s = lvs__oom(err); goto done; }
    for (i = 0; i < m.st.n_tensors; i++)
        if (!plan.used[i] && cb) {
            lvs_convert_stats cs;
            memset(&cs, 0, sizeof cs);
            cs.name = m.st.tensors[i].name;
            cs.event = LVS_CONVERT_SKIPPED;
            cs.src_dtype = lvs_dtype_name(m.st.tensors[i].dtype);
            cs.note = lvs__skip_note(&plan.cfg, cs.name);
            cb(user, &cs);
        }
    for (i = 0, k = 0; i < plan.n && s == LVS_OK; i++) {
        const lvs__src *src = &plan.src[i];
        lvs__conv_item *it = &items[k++];
        int64_t shape[2];
        int nd = src->spec->ndim;
        shape[0] = nd == 2 ? src->rows : src->cols;
        shape[1] = src->cols;
        it->src = src;
        it->out = (src->spec->flags & LVS_SPEC_MATRIX) ? lvs__wtype_dtype[wtype] : LVS_F32;
        it->cb = cb;
        it->user = user;
        s = lvs_st_writer_add_fill(w, src->spec->name, it->out, nd, shape, lvs__conv_fill_fn, it, err);
        if (s == LVS_OK && it->out == LVS_I8) {
            lvs__conv_item *sc = &items[k++];
            size_t len = strlen(src->spec->name) + 7;
            *sc = *it;
            sc->scale_part = 1;
            if (!(sc->name = LVS__NEW(char, len))) { s = lvs__oom(err); break; }
            snprintf(sc->name, len, "%s.scale", src->spec->name);
            shape[1] = lvs_q8_nblocks(src->cols);
            s = lvs_st_writer_add_fill(w, sc->name, LVS_F32, 2, shape, lvs__conv_fill_fn, sc, err);
        }
    }
    if (s != LVS_OK) goto done;
    if ((s = lvs_st_writer_set_meta(w, "lvs.format", "1", 1, err)) != LVS_OK ||
        (s = lvs_st_writer_set_meta(w, "lvs.dtype", lvs_wtype_name(wtype), strlen(lvs_wtype_name(wtype)), err)) !=
            LVS_OK ||
        (s = lvs_st_writer_set_meta(w, "lvs.layout", "out_in", 6, err)) != LVS_OK)
        goto done;
    for (i = 0; i < LVS_MODEL_TEXTS; i++)
        if (m.text[i] && (s = lvs_st_writer_set_meta(w, lvs__text_names[i], m.text[i], m.text_len[i], err)) != LVS_OK) {
            lvs__fail(err, s, -1, "%s: %s is not valid UTF-8 text", in_path, lvs__text_names[i]);
            goto done;
        }
    s = lvs_st_writer_save(w, out_path, err);
done:
    for (i = 0; items && i < 2 * plan.n; i++) LVS_FREE(items[i].name);
    lvs_st_writer_destroy(w);
    LVS_FREE(items);
    lvs__plan_free(&plan);
    lvs_model_files_close(&m);
    return s;
}

/* =====================================================================================
   MODEL: an lvs_model holds the matrices of one checkpoint in the dtype chosen at load
   (used in place when the file already has it), norms and biases in f32, and the RoPE
   frequencies. Calls: everything above.
   ===================================================================================== */

typedef struct lvs__mat {
    lvs_wtype type;
    int64_t rows, cols;         /* [out, in] */
    const void *w;              /* rows x cols of float, f16, bf16 or int8 */
    const float *s;             /* int8: rows x ceil(cols / 32) block scales */
} lvs__mat;
typedef struct lvs__layer {
    const float *attn_norm, *mlp_norm;
    lvs__mat wq, wk, wv, wo, wg, wu, wd;
    const float *bq, *bk, *bv, *bo, *bg, *bu, *bd;
} lvs__layer;
struct lvs_model {
    lvs_config cfg;
    lvs_model_files files;      /* keeps the mapped weights alive */
    int n_threads;
    lvs__mat embed, lm_head;    /* lm_head is embed when tied */
    const float *final_norm;
    lvs__layer *layers;
    double *inv_freq;           /* head_dim / 2 RoPE frequencies, scaling applied */
    void **owned;
    size_t n_owned, cap_owned;
    lvs_model_stats stats;
};

LVSDEF void lvs_model_opts_default(lvs_model_opts *o) {
    memset(o, 0, sizeof *o);
    o->dtype = LVS_AS_STORED;
}
LVSDEF const lvs_config *lvs_model_config(const lvs_model *m) { return &m->cfg; }
LVSDEF const lvs_model_files *lvs_model_get_files(const lvs_model *m) { return &m->files; }
LVSDEF void lvs_model_get_stats(const lvs_model *m, lvs_model_stats *s) { *s = m->stats; }

static void *lvs__model_alloc(lvs_model *m, size_t bytes) {
    void *p;
    if (!lvs__grow(&m->owned, &m->cap_owned, m->n_owned + 1, sizeof(void *))) return NULL;
    p = LVS_MALLOC(bytes ? bytes : 1);
    if (p) m->owned[m->n_owned++] = p;
    return p;
}

LVSDEF void lvs_model_close(lvs_model *m) {
    size_t i;
    if (!m) return;
    for (i = 0; i < m->n_owned; i++) LVS_FREE(m->owned[i]);
    LVS_FREE(m->owned);
    LVS_FREE(m->layers);
    LVS_FREE(m->inv_freq);
    lvs_model_files_close(&m->files);
    LVS_FREE(m);
}

/* The stored dtype of a source as an lvs_wtype (F64 computes as F32). */
static lvs_wtype lvs__src_wtype(const lvs__src *src) {
    if (src->scale) return LVS_W_INT8;
    return src->t->dtype == LVS_F16 ? LVS_W_F16 : src->t->dtype == LVS_BF16 ? LVS_W_BF16 : LVS_W_F32;
}

static lvs_status lvs__load_vec(lvs_model *m, const lvs__src *src, const float **out, lvs_error *err) {
    float *v;
    if (src->t->dtype == LVS_F32) { *out = (const float *)src->t->data; return LVS_OK; }
    if (!(v = (float *)lvs__model_alloc(m, (size_t)src->cols * sizeof(float)))) return lvs__oom(err);
    lvs__to_f32(src->t->data, src->t->dtype, 0, (size_t)src->cols, v);
    m->stats.owned_bytes += (uint64_t)src->cols * sizeof(float);
    *out = v;
    return LVS_OK;
}

static lvs_status lvs__load_mat(lvs_model *m, const lvs__src *src, int dtype, lvs__mat *out, lvs_error *err) {
    lvs_wtype stored = lvs__src_wtype(src), want = dtype == LVS_AS_STORED ? stored : (lvs_wtype)dtype;
    uint64_t n = (uint64_t)src->rows * (uint64_t)src->cols, nb = (uint64_t)src->rows * lvs_q8_nblocks(src->cols);
    size_t esz = lvs_dtype_size(lvs__wtype_dtype[want]);
    out->type = want;
    out->rows = src->rows;
    out->cols = src->cols;
    if (want == stored && !src->transpose && src->t->dtype != LVS_F64) { /* used in place */
        out->w = src->t->data;
        out->s = src->scale ? (const float *)src->scale->data : NULL;
    } else {
        void *w = lvs__model_alloc(m, (size_t)(n * esz));
        float *sc = want == LVS_W_INT8 ? (float *)lvs__model_alloc(m, (size_t)(nb * sizeof(float))) : NULL;
        lvs_status s;
        if (!w || (want == LVS_W_INT8 && !sc)) return lvs__oom(err);
        if ((s = lvs__convert_src(src, lvs__wtype_dtype[want], w, sc, NULL, err)) != LVS_OK) return s;
        out->w = w;
        out->s = sc;
        m->stats.owned_bytes += n * esz + (sc ? nb * sizeof(float) : 0);
    }
    m->stats.weight_bytes += n * esz + (want == LVS_W_INT8 ? nb * sizeof(float) : 0);
    m->stats.n_matrices[want]++;
    return LVS_OK;
}

/* Scans a source for NaN and infinity. */
static lvs_status lvs__check_finite(const lvs__src *src, lvs_error *err) {
    float *row = LVS__NEW(float, (size_t)src->cols + 1);
    int64_t r, j;
    if (!row) return lvs__oom(err);
    for (r = 0; r < src->rows; r++) {
        lvs__src_rows(src, r, r + 1, row);
        for (j = 0; j < src->cols; j++)
            if (!(fabsf(row[j]) <= FLT_MAX)) {
                LVS_FREE(row);
                return lvs__fail(err, LVS_ERR_NONFINITE, -1, "tensor \"%s\" has a non-finite value at [%lld, %lld]",
                                 src->spec->name, (long long)r, (long long)j);
            }
    }
    LVS_FREE(row);
    return LVS_OK;
}

/* RoPE frequencies (Hugging Face's default, linear and llama3 rules), in double. */
static void lvs__rope_freqs(const lvs_config *c, double *f) {
    int64_t i, half = c->head_dim / 2;
    for (i = 0; i < half; i++) {
        double inv = 1.0 / pow(c->rope_theta, (double)(2 * i) / (double)c->head_dim);
        if (c->rope_type == LVS_ROPE_LINEAR) inv /= c->rope_factor;
        else if (c->rope_type == LVS_ROPE_LLAMA3) {
            double orig = (double)c->rope_original_max_positions, wavelen = 2.0 * 3.14159265358979323846 / inv;
            double low_wl = orig / c->rope_low_freq_factor, high_wl = orig / c->rope_high_freq_factor;
            if (wavelen > low_wl) inv /= c->rope_factor;
            else if (wavelen >= high_wl) {
                double sm = (orig / wavelen - c->rope_low_freq_factor) /
                            (c->rope_high_freq_factor - c->rope_low_freq_factor);
                inv = (1.0 - sm) * inv / c->rope_factor + sm * inv;
            }
        }
        f[i] = inv;
    }
}

/* Adds the end-of-sequence ids of generation_config.json to those of config.json. */
static lvs_status lvs__model_eos(lvs_model *m, lvs_error *err) {
    size_t len;
    const char *gen = lvs_model_text(&m->files, "generation_config.json", &len);
    lvs_json_doc d;
    const lvs_json *v;
    int i;
    lvs_model_stats *st = &m->stats;
    for (i = 0; i < m->cfg.n_eos; i++) st->eos[st->n_eos++] = (int32_t)m->cfg.eos_ids[i];
    if (!gen) return LVS_OK;
    if (lvs_json_parse(&d, gen, len, 0, err) != LVS_OK) {
        lvs__err_prefix(err, "generation_config.json");
        return err ? err->status : LVS_ERR_JSON_SYNTAX;
    }
    v = lvs_json_get(d.root, "eos_token_id");
    if (v) {
        size_t k, n = v->type == LVS_JSON_ARRAY ? v->n : 1;
        for (k = 0; k < n; k++) {
            const lvs_json *e = v->type == LVS_JSON_ARRAY ? &v->items[k] : v;
            int dup = 0, j;
            if (e->type == LVS_JSON_NULL) continue;
            if (e->type != LVS_JSON_NUMBER || !(e->flags & LVS_JSON_INT) || e->i < 0 || e->i >= m->cfg.vocab_size) {
                int64_t at = (int64_t)e->offset;
                lvs_json_free(&d);
                return lvs__fail(err, LVS_ERR_CONFIG, at,
                                 "generation_config.json: eos_token_id must be token ids below vocab_size");
            }
            for (j = 0; j < st->n_eos; j++) dup |= st->eos[j] == (int32_t)e->i;
            if (!dup && st->n_eos < 16) st->eos[st->n_eos++] = (int32_t)e->i;
        }
    }
    lvs_json_free(&d);
    return LVS_OK;
}

LVSDEF lvs_status lvs_model_open_files(lvs_model **out, lvs_model_files *files, const lvs_model_opts *opts,
                                       lvs_error *err) {
    lvs_model_opts o;
    lvs_model *m;
    lvs__plan plan;
    lvs_status s;
    size_t i;
    int j;
    const char *label = files && files->st.n_shards ? files->st.shards[0] : "model";
    if (!out || !files) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_model_open_files: NULL argument");
    *out = NULL;
    if (opts) o = *opts; else lvs_model_opts_default(&o);
    if (o.dtype != LVS_AS_STORED && (o.dtype < 0 || o.dtype > LVS_W_INT8)) {
        lvs_model_files_close(files);
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_model_open: invalid dtype %d", o.dtype);
    }
    m = LVS__NEW(lvs_model, 1);
    if (!m) {
        lvs_model_files_close(files);
        return lvs__oom(err);
    }
    memset(m, 0, sizeof *m);
    m->files = *files;
    memset(files, 0, sizeof *files);
    m->n_threads = o.n_threads;
    if ((s = lvs_config_parse(&m->cfg, m->files.text[0], m->files.text_len[0], err)) != LVS_OK) {
        lvs__err_prefix(err, label);
        goto fail_noplan;
    }
    if (m->cfg.arch != LVS_ARCH_LLAMA && m->cfg.arch != LVS_ARCH_MISTRAL && m->cfg.arch != LVS_ARCH_QWEN2) {
        s = lvs__fail(err, LVS_ERR_UNSUPPORTED, -1, "%s: the engine does not run %s yet (it runs LlamaForCausalLM, "
                      "MistralForCausalLM and Qwen2ForCausalLM)", label, m->cfg.arch_name);
        goto fail_noplan;
    }
    if (strcmp(m->cfg.act, "silu") != 0 && strcmp(m->cfg.act, "swish") != 0) {
        s = lvs__fail(err, LVS_ERR_UNSUPPORTED, -1, "%s: hidden_act \"%s\" is not supported for %s (only silu)", label,
                      m->cfg.act, m->cfg.arch_name);
        goto fail_noplan;
    }
    if ((s = lvs__plan_make(&plan, &m->files, label, err)) != LVS_OK) goto fail_noplan;
    if (m->cfg.bos_id >= m->cfg.vocab_size) {
        s = lvs__fail(err, LVS_ERR_CONFIG, -1, "%s: bos_token_id %lld is not below vocab_size %lld", label,
                      (long long)m->cfg.bos_id, (long long)m->cfg.vocab_size);
        goto fail;
    }
    for (j = 0; j < m->cfg.n_eos; j++)
        if (m->cfg.eos_ids[j] < 0 || m->cfg.eos_ids[j] >= m->cfg.vocab_size) {
            s = lvs__fail(err, LVS_ERR_CONFIG, -1, "%s: eos_token_id %lld is not a token id below vocab_size %lld",
                          label, (long long)m->cfg.eos_ids[j], (long long)m->cfg.vocab_size);
            goto fail;
        }
    m->layers = LVS__NEW(lvs__layer, (size_t)m->cfg.n_layers);
    m->inv_freq = LVS__NEW(double, (size_t)m->cfg.head_dim / 2 + 1);
    if (!m->layers || !m->inv_freq) { s = lvs__oom(err); goto fail; }
    memset(m->layers, 0, sizeof(lvs__layer) * (size_t)m->cfg.n_layers);
    lvs__rope_freqs(&m->cfg, m->inv_freq);
    for (i = 0; i < plan.n; i++) {
        const lvs__src *src = &plan.src[i];
        const char *name = src->spec->name;
        int layer = -1, off = 0;
        lvs__mat *mat = NULL;
        const float **vec = NULL;
        if (o.check_finite && (s = lvs__check_finite(src, err)) != LVS_OK) goto fail;
        if (strcmp(name, "model.embed_tokens.weight") == 0) mat = &m->embed;
        else if (strcmp(name, "lm_head.weight") == 0) mat = &m->lm_head;
        else if (strcmp(name, "model.norm.weight") == 0) vec = &m->final_norm;
        else if (sscanf(name, "model.layers.%d.%n", &layer, &off) == 1 && off > 0 && layer >= 0 &&
                 layer < m->cfg.n_layers) {
            static const char *const mats[7] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                                "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"};
            lvs__layer *L = &m->layers[layer];
            lvs__mat *lm[7];
            const float **lb[7];
            const char *rest = name + off;
            int k;
            lm[0] = &L->wq; lm[1] = &L->wk; lm[2] = &L->wv; lm[3] = &L->wo; lm[4] = &L->wg; lm[5] = &L->wu; lm[6] = &L->wd;
            lb[0] = &L->bq; lb[1] = &L->bk; lb[2] = &L->bv; lb[3] = &L->bo; lb[4] = &L->bg; lb[5] = &L->bu; lb[6] = &L->bd;
            if (strcmp(rest, "input_layernorm.weight") == 0) vec = &L->attn_norm;
            else if (strcmp(rest, "post_attention_layernorm.weight") == 0) vec = &L->mlp_norm;
            for (k = 0; k < 7 && !mat && !vec; k++) {
                size_t nl = strlen(mats[k]);
                if (strncmp(rest, mats[k], nl) == 0 && strcmp(rest + nl, ".weight") == 0) mat = lm[k];
                else if (strncmp(rest, mats[k], nl) == 0 && strcmp(rest + nl, ".bias") == 0) vec = lb[k];
            }
        }
        LVS_ASSERT(mat || vec);
        if (mat) s = lvs__load_mat(m, src, o.dtype, mat, err);
        else if (vec) s = lvs__load_vec(m, src, vec, err);
        if (s != LVS_OK) goto fail;
        m->stats.n_params += src->rows * src->cols;
    }
    if (m->cfg.tie_embeddings) m->lm_head = m->embed;
    if ((s = lvs__model_eos(m, err)) != LVS_OK) goto fail;
    lvs__plan_free(&plan);
    *out = m;
    return LVS_OK;
fail:
    lvs__plan_free(&plan);
fail_noplan:
    lvs_model_close(m);
    return s;
}

LVSDEF lvs_status lvs_model_open(lvs_model **out, const char *path, const lvs_model_opts *opts, lvs_error *err) {
    lvs_model_files f;
    lvs_status s;
    if (!out || !path) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_model_open: NULL argument");
    *out = NULL;
    if ((s = lvs_model_files_open(&f, path, err)) != LVS_OK) return s;
    return lvs_model_open_files(out, &f, opts, err);
}

/* =====================================================================================
   KERNELS: y = x W^T for f32/f16/bf16 weights (f32 products and sums) and for int8 blocks
   (the activations are quantized to int8 blocks too; integer dot products per block of 32,
   then scaled and summed in f32). AVX2+FMA+F16C when the compiler targets them (unless
   LVS_NO_SIMD), portable C otherwise. Every output is summed in the same order whatever the
   batch size or thread count. Also RMSNorm, RoPE, SiLU. Calls: base, MODEL (types).
   ===================================================================================== */

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__) && !defined(LVS_NO_SIMD)
#define LVS__AVX2 1
#include <immintrin.h>
#endif

#ifdef _OPENMP
#define LVS__TID() omp_get_thread_num()
#define LVS__PAR_FOR(work, nt) LVS__PRAGMA(omp parallel for schedule(static) num_threads(nt) if ((work) >= 32768))
static int lvs__threads(int want) { return want > 0 ? want : omp_get_max_threads(); }
#else
#define LVS__TID() 0
#define LVS__PAR_FOR(work, nt)
static int lvs__threads(int want) { (void)want; return 1; }
#endif

/* Activations entering a matrix product; the int8 copy is made on first use. */
typedef struct lvs__act {
    const float *x;             /* [n, cols] */
    int64_t n, cols;
    int8_t *q;                  /* [n, cols] int8 blocks (scratch) */
    float *qs;                  /* [n, nblocks] */
    int quantized;
} lvs__act;

#ifdef LVS__AVX2
static float lvs__hsum8(__m256 v) {
    __m128 a = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    a = _mm_add_ps(a, _mm_movehl_ps(a, a));
    a = _mm_add_ss(a, _mm_movehdup_ps(a));
    return _mm_cvtss_f32(a);
}
#define LVS__LD_F32(p) _mm256_loadu_ps((const float *)(p))
#define LVS__LD_F16(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p)))
#define LVS__LD_BF16(p) \
    _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(p))), 16))
/* 8 int32 lanes of w . x over 32 int8 (lane m: bytes 4m..4m+3), as floats; |x| <= 127 */
static __m256 lvs__q8dot(__m256i w, __m256i x) {
    __m256i p = _mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(w, x));
    return _mm256_cvtepi32_ps(_mm256_madd_epi16(p, _mm256_set1_epi16(1)));
}
#else
/* portable versions with the same 8-lane structure */
static float lvs__hsum8a(const float *a) {
    float l0 = a[0] + a[4], l1 = a[1] + a[5], l2 = a[2] + a[6], l3 = a[3] + a[7];
    l0 = l0 + l2;
    l1 = l1 + l3;
    return l0 + l1;
}
#endif

static float lvs__w1_f32(const void *w, int64_t k) { return ((const float *)w)[k]; }
static float lvs__w1_f16(const void *w, int64_t k) { return lvs_f16_to_f32(((const uint16_t *)w)[k]); }
static float lvs__w1_bf16(const void *w, int64_t k) { return lvs_bf16_to_f32(((const uint16_t *)w)[k]); }

/* Float-weight micro-kernels. TILE: 2 weight rows x 4 token rows -> out[r * 4 + t].
   ONE: 4 weight rows x 1 token row -> out[r]. Both sum each output identically. */
#ifdef LVS__AVX2
#define LVS__FKERNELS(TILE, ONE, T, LD8, LD1)                                                       \
    static void TILE(const void *wa, const void *wb, const float *const *x, int64_t cols, float *out) { \
        const T *w0 = (const T *)wa, *w1 = (const T *)wb;                                           \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0; \
        int64_t k = 0;                                                                              \
        int t;                                                                                      \
        for (; k + 8 <= cols; k += 8) {                                                             \
            __m256 u = LD8(w0 + k), v = LD8(w1 + k), xv;                                            \
            xv = _mm256_loadu_ps(x[0] + k); a0 = _mm256_fmadd_ps(u, xv, a0); b0 = _mm256_fmadd_ps(v, xv, b0); \
            xv = _mm256_loadu_ps(x[1] + k); a1 = _mm256_fmadd_ps(u, xv, a1); b1 = _mm256_fmadd_ps(v, xv, b1); \
            xv = _mm256_loadu_ps(x[2] + k); a2 = _mm256_fmadd_ps(u, xv, a2); b2 = _mm256_fmadd_ps(v, xv, b2); \
            xv = _mm256_loadu_ps(x[3] + k); a3 = _mm256_fmadd_ps(u, xv, a3); b3 = _mm256_fmadd_ps(v, xv, b3); \
        }                                                                                           \
        out[0] = lvs__hsum8(a0); out[1] = lvs__hsum8(a1); out[2] = lvs__hsum8(a2); out[3] = lvs__hsum8(a3); \
        out[4] = lvs__hsum8(b0); out[5] = lvs__hsum8(b1); out[6] = lvs__hsum8(b2); out[7] = lvs__hsum8(b3); \
        for (; k < cols; k++)                                                                       \
            for (t = 0; t < 4; t++) {                                                               \
                out[t] += LD1(w0, k) * x[t][k];                                                     \
                out[4 + t] += LD1(w1, k) * x[t][k];                                                 \
            }                                                                                       \
    }                                                                                               \
    static void ONE(const void *const *wr, const float *x, int64_t cols, float *out) {             \
        const T *w0 = (const T *)wr[0], *w1 = (const T *)wr[1], *w2 = (const T *)wr[2], *w3 = (const T *)wr[3]; \
        __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;                                 \
        int64_t k = 0;                                                                              \
        for (; k + 8 <= cols; k += 8) {                                                             \
            __m256 xv = _mm256_loadu_ps(x + k);                                                     \
            a0 = _mm256_fmadd_ps(LD8(w0 + k), xv, a0);                                              \
            a1 = _mm256_fmadd_ps(LD8(w1 + k), xv, a1);                                              \
            a2 = _mm256_fmadd_ps(LD8(w2 + k), xv, a2);                                              \
            a3 = _mm256_fmadd_ps(LD8(w3 + k), xv, a3);                                              \
        }                                                                                           \
        out[0] = lvs__hsum8(a0); out[1] = lvs__hsum8(a1); out[2] = lvs__hsum8(a2); out[3] = lvs__hsum8(a3); \
        for (; k < cols; k++) {                                                                     \
            out[0] += LD1(w0, k) * x[k]; out[1] += LD1(w1, k) * x[k];                               \
            out[2] += LD1(w2, k) * x[k]; out[3] += LD1(w3, k) * x[k];                               \
        }                                                                                           \
    }
LVS__FKERNELS(lvs__tile_f32, lvs__one_f32, float, LVS__LD_F32, lvs__w1_f32)
LVS__FKERNELS(lvs__tile_f16, lvs__one_f16, uint16_t, LVS__LD_F16, lvs__w1_f16)
LVS__FKERNELS(lvs__tile_bf16, lvs__one_bf16, uint16_t, LVS__LD_BF16, lvs__w1_bf16)
#else
/* one output: 8 lanes over full steps of 8, then the tail, as the SIMD kernels do */
static float lvs__fdot(float (*ld)(const void *, int64_t), const void *w, const float *x, int64_t cols) {
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;
    int64_t k = 0;
    int l;
    for (; k + 8 <= cols; k += 8)
        for (l = 0; l < 8; l++) a[l] += ld(w, k + l) * x[k + l];
    s = lvs__hsum8a(a);
    for (; k < cols; k++) s += ld(w, k) * x[k];
    return s;
}
#define LVS__FKERNELS(TILE, ONE, T, LD1)                                                            \
    static void TILE(const void *wa, const void *wb, const float *const *x, int64_t cols, float *out) { \
        int t;                                                                                      \
        for (t = 0; t < 4; t++) {                                                                   \
            out[t] = lvs__fdot(LD1, wa, x[t], cols);                                                \
            out[4 + t] = lvs__fdot(LD1, wb, x[t], cols);                                            \
        }                                                                                           \
    }                                                                                               \
    static void ONE(const void *const *wr, const float *x, int64_t cols, float *out) {             \
        int r;                                                                                      \
        for (r = 0; r < 4; r++) out[r] = lvs__fdot(LD1, wr[r], x, cols);                            \
    }
LVS__FKERNELS(lvs__tile_f32, lvs__one_f32, float, lvs__w1_f32)
LVS__FKERNELS(lvs__tile_f16, lvs__one_f16, uint16_t, lvs__w1_f16)
LVS__FKERNELS(lvs__tile_bf16, lvs__one_bf16, uint16_t, lvs__w1_bf16)
#endif

/* The last, partial int8 block of a row (cols not a multiple of 32), in integers. */
static int32_t lvs__q8tail(const int8_t *w, const int8_t *x, int64_t k0, int64_t cols) {
    int32_t s = 0;
    int64_t k;
    for (k = k0; k < cols; k++) s += (int32_t)w[k] * (int32_t)x[k];
    return s;
}

/* int8 micro-kernels: w rows with block scales ws, x rows with block scales xs. */
static void lvs__tile_q8(const int8_t *w0, const int8_t *w1, const float *s0, const float *s1,
                         const int8_t *const *x, const float *const *xs, int64_t cols, float *out) {
    int64_t b, nbf = cols / LVS_Q8_BLOCK, k0 = nbf * LVS_Q8_BLOCK;
    int t;
#ifdef LVS__AVX2
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, c0 = a0, c1 = a0, c2 = a0, c3 = a0;
    for (b = 0; b < nbf; b++) {
        __m256i u = _mm256_loadu_si256((const __m256i *)(const void *)(w0 + b * 32));
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(w1 + b * 32)), xv;
        xv = _mm256_loadu_si256((const __m256i *)(const void *)(x[0] + b * 32));
        a0 = _mm256_fmadd_ps(lvs__q8dot(u, xv), _mm256_set1_ps(s0[b] * xs[0][b]), a0);
        c0 = _mm256_fmadd_ps(lvs__q8dot(v, xv), _mm256_set1_ps(s1[b] * xs[0][b]), c0);
        xv = _mm256_loadu_si256((const __m256i *)(const void *)(x[1] + b * 32));
        a1 = _mm256_fmadd_ps(lvs__q8dot(u, xv), _mm256_set1_ps(s0[b] * xs[1][b]), a1);
        c1 = _mm256_fmadd_ps(lvs__q8dot(v, xv), _mm256_set1_ps(s1[b] * xs[1][b]), c1);
        xv = _mm256_loadu_si256((const __m256i *)(const void *)(x[2] + b * 32));
        a2 = _mm256_fmadd_ps(lvs__q8dot(u, xv), _mm256_set1_ps(s0[b] * xs[2][b]), a2);
        c2 = _mm256_fmadd_ps(lvs__q8dot(v, xv), _mm256_set1_ps(s1[b] * xs[2][b]), c2);
        xv = _mm256_loadu_si256((const __m256i *)(const void *)(x[3] + b * 32));
        a3 = _mm256_fmadd_ps(lvs__q8dot(u, xv), _mm256_set1_ps(s0[b] * xs[3][b]), a3);
        c3 = _mm256_fmadd_ps(lvs__q8dot(v, xv), _mm256_set1_ps(s1[b] * xs[3][b]), c3);
    }
    out[0] = lvs__hsum8(a0); out[1] = lvs__hsum8(a1); out[2] = lvs__hsum8(a2); out[3] = lvs__hsum8(a3);
    out[4] = lvs__hsum8(c0); out[5] = lvs__hsum8(c1); out[6] = lvs__hsum8(c2); out[7] = lvs__hsum8(c3);
#else
    for (t = 0; t < 8; t++) {
        const int8_t *w = t < 4 ? w0 : w1;
        const float *ws = t < 4 ? s0 : s1;
        float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int l, i;
        for (b = 0; b < nbf; b++) {
            float sc = ws[b] * xs[t & 3][b];
            for (l = 0; l < 8; l++) {
                int32_t s = 0;
                for (i = 0; i < 4; i++) s += (int32_t)w[b * 32 + 4 * l + i] * x[t & 3][b * 32 + 4 * l + i];
                a[l] += (float)s * sc;
            }
        }
        out[t] = lvs__hsum8a(a);
    }
#endif
    if (k0 < cols)
        for (t = 0; t < 4; t++) {
            out[t] += (float)lvs__q8tail(w0, x[t], k0, cols) * (s0[nbf] * xs[t][nbf]);
            out[4 + t] += (float)lvs__q8tail(w1, x[t], k0, cols) * (s1[nbf] * xs[t][nbf]);
        }
}

static float lvs__one_q8(const int8_t *w, const float *ws, const int8_t *x, const float *xs, int64_t cols) {
    int64_t b, nbf = cols / LVS_Q8_BLOCK, k0 = nbf * LVS_Q8_BLOCK;
    float out;
#ifdef LVS__AVX2
    __m256 acc = _mm256_setzero_ps();
    for (b = 0; b < nbf; b++) {
        acc = _mm256_fmadd_ps(lvs__q8dot(_mm256_loadu_si256((const __m256i *)(const void *)(w + b * 32)),
                                         _mm256_loadu_si256((const __m256i *)(const void *)(x + b * 32))),
                              _mm256_set1_ps(ws[b] * xs[b]), acc);
    }
    out = lvs__hsum8(acc);
#else
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int l, i;
    for (b = 0; b < nbf; b++) {
        float sc = ws[b] * xs[b];
        for (l = 0; l < 8; l++) {
            int32_t s = 0;
            for (i = 0; i < 4; i++) s += (int32_t)w[b * 32 + 4 * l + i] * x[b * 32 + 4 * l + i];
            a[l] += (float)s * sc;
        }
    }
    out = lvs__hsum8a(a);
#endif
    if (k0 < cols) out += (float)lvs__q8tail(w, x, k0, cols) * (ws[nbf] * xs[nbf]);
    return out;
}

static const void *lvs__mat_row(const lvs__mat *W, int64_t r) {
    static const size_t esz[4] = {4, 2, 2, 1};
    return (const char *)W->w + (size_t)r * (size_t)W->cols * esz[W->type];
}

/* One row of a matrix as f32 (embedding look-up). */
static void lvs__mat_row_f32(const lvs__mat *W, int64_t r, float *out) {
    static const lvs_dtype dt[3] = {LVS_F32, LVS_F16, LVS_BF16};
    if (W->type == LVS_W_INT8)
        lvs_q8_dequantize_row((const int8_t *)lvs__mat_row(W, r), W->s + r * lvs_q8_nblocks(W->cols), W->cols, out);
    else lvs__to_f32(lvs__mat_row(W, r), dt[W->type], 0, (size_t)W->cols, out);
}

/* One matrix product of a batch: y[t * ldy + r] = sum_k x[t][k] W[r][k] (+ bias[r]). */
typedef struct lvs__mm { const lvs__mat *W; float *y; int64_t ldy; const float *bias; } lvs__mm;

/* Rows per work group: decoding streams weight rows (int8 one after another, float types four
   side by side for four FMA chains); batches use 2-row x 4-token tiles. */
static int64_t lvs__mm_group(const lvs__mat *W, int64_t n) { return n > 1 ? 2 : W->type == LVS_W_INT8 ? 8 : 4; }

/* Group g of one product over tokens [t0, t1). */
static void lvs__mm_run(const lvs__mm *m, const lvs__act *a, int64_t g, int64_t t0, int64_t t1) {
    const lvs__mat *W = m->W;
    const int64_t rows = W->rows, cols = W->cols, nb = lvs_q8_nblocks(cols);
    float *y = m->y;
    const float *bias = m->bias;
    if (a->n == 1 && W->type == LVS_W_INT8) {
        int64_t r, r1 = 8 * g + 8 < rows ? 8 * g + 8 : rows;
        for (r = 8 * g; r < r1; r++)
            y[r] = lvs__one_q8((const int8_t *)lvs__mat_row(W, r), W->s + r * nb, a->q, a->qs, cols) + (bias ? bias[r] : 0.0f);
    } else if (a->n == 1) {
        const void *wr[4];
        float out[4];
        int r;
        for (r = 0; r < 4; r++) wr[r] = lvs__mat_row(W, 4 * g + r < rows ? 4 * g + r : rows - 1);
        switch (W->type) {
        case LVS_W_F32: lvs__one_f32(wr, a->x, cols, out); break;
        case LVS_W_F16: lvs__one_f16(wr, a->x, cols, out); break;
        default: lvs__one_bf16(wr, a->x, cols, out); break;
        }
        for (r = 0; r < 4 && 4 * g + r < rows; r++) y[4 * g + r] = out[r] + (bias ? bias[4 * g + r] : 0.0f);
    } else {
        int64_t r0 = 2 * g, r1 = r0 + 1 < rows ? r0 + 1 : r0, t;
        const void *w0 = lvs__mat_row(W, r0), *w1 = lvs__mat_row(W, r1);
        for (t = t0; t < t1; t += 4) {
            const float *xr[4];
            const int8_t *xq[4];
            const float *xs[4];
            float out[8];
            int k;
            for (k = 0; k < 4; k++) {
                int64_t tt = t + k < t1 ? t + k : t1 - 1;
                xr[k] = a->x + tt * cols;
                xq[k] = a->q ? a->q + tt * cols : NULL;
                xs[k] = a->qs ? a->qs + tt * nb : NULL;
            }
            switch (W->type) {
            case LVS_W_F32: lvs__tile_f32(w0, w1, xr, cols, out); break;
            case LVS_W_F16: lvs__tile_f16(w0, w1, xr, cols, out); break;
            case LVS_W_BF16: lvs__tile_bf16(w0, w1, xr, cols, out); break;
            default:
                lvs__tile_q8((const int8_t *)w0, (const int8_t *)w1, W->s + r0 * nb, W->s + r1 * nb, xq, xs, cols, out);
                break;
            }
            for (k = 0; k < 4 && t + k < t1; k++) {
                y[(t + k) * m->ldy + r0] = out[k] + (bias ? bias[r0] : 0.0f);
                if (r1 != r0) y[(t + k) * m->ldy + r1] = out[4 + k] + (bias ? bias[r1] : 0.0f);
            }
        }
    }
}

/* Several products of the same activations (q, k, v; gate, up) in one parallel loop. */
static void lvs__matmuls(const lvs__mm *mm, int nmm, lvs__act *a, int nt) {
    const int64_t n = a->n, cols = a->cols, nb = lvs_q8_nblocks(cols);
    int64_t start[4], total = 0, work = 0, t0, tb = 1 << 30, g, i;
    int k, any_q8 = 0;
    LVS_ASSERT(nmm >= 1 && nmm <= 3);
    for (k = 0; k < nmm; k++) {
        int64_t per = ((int64_t)(512 * 1024) / (cols * (mm[k].W->type == LVS_W_INT8 ? 1 : 4))) & ~(int64_t)3;
        LVS_ASSERT(mm[k].W->cols == cols);
        start[k] = total;
        total += (mm[k].W->rows + lvs__mm_group(mm[k].W, n) - 1) / lvs__mm_group(mm[k].W, n);
        work += mm[k].W->rows * cols;
        any_q8 |= mm[k].W->type == LVS_W_INT8;
        if (per < tb) tb = per; /* token blocks that stay in the L2 cache while the weights pass by */
    }
    start[nmm] = total;
    if (tb < 4) tb = 4;
    (void)nt;
    (void)work; /* both only steer the OpenMP loops */
    if (any_q8 && !a->quantized) {
        LVS__PAR_FOR(n * cols * 4, nt)
        for (i = 0; i < n; i++) lvs_q8_quantize_row(a->x + i * cols, cols, a->q + i * cols, a->qs + i * nb);
        a->quantized = 1;
    }
    for (t0 = 0; t0 < n; t0 += tb) {
        int64_t t1 = t0 + tb < n ? t0 + tb : n;
        LVS__PAR_FOR(work * (t1 - t0), nt)
        for (g = 0; g < total; g++) {
            int j = 0;
            while (g >= start[j + 1]) j++;
            lvs__mm_run(&mm[j], a, g - start[j], t0, t1);
        }
    }
}

static void lvs__matmul(const lvs__mat *W, lvs__act *a, float *y, int64_t ldy, const float *bias, int nt) {
    lvs__mm m;
    m.W = W;
    m.y = y;
    m.ldy = ldy;
    m.bias = bias;
    lvs__matmuls(&m, 1, a, nt);
}

/* y = x / sqrt(mean(x^2) + eps) * w, the mean taken in double. */
static void lvs__rmsnorm(const float *x, const float *w, int64_t d, double eps, float *y) {
    double ss = 0, inv;
    int64_t i;
    for (i = 0; i < d; i++) ss += (double)x[i] * x[i];
    inv = 1.0 / sqrt(ss / (double)d + eps);
    for (i = 0; i < d; i++) y[i] = (float)(x[i] * inv) * w[i];
}

/* Rotate-half RoPE on one head: dims i and i + half turn by the angle of frequency i. */
static void lvs__rope(float *x, const float *cs, const float *sn, int64_t half) {
    int64_t i;
    for (i = 0; i < half; i++) {
        float a = x[i], b = x[i + half];
        x[i] = a * cs[i] - b * sn[i];
        x[i + half] = b * cs[i] + a * sn[i];
    }
}

static float lvs__dot(const float *a, const float *b, int64_t n) {
#ifdef LVS__AVX2
    __m256 acc = _mm256_setzero_ps();
    int64_t k = 0;
    float s;
    for (; k + 8 <= n; k += 8) acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + k), _mm256_loadu_ps(b + k), acc);
    s = lvs__hsum8(acc);
    for (; k < n; k++) s += a[k] * b[k];
    return s;
#else
    float acc[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s;
    int64_t k = 0;
    int l;
    for (; k + 8 <= n; k += 8)
        for (l = 0; l < 8; l++) acc[l] += a[k + l] * b[k + l];
    s = lvs__hsum8a(acc);
    for (; k < n; k++) s += a[k] * b[k];
    return s;
#endif
}

/* =====================================================================================
   FORWARD: the KV cache (lvs_cache, which also owns the scratch memory of a pass) and a
   forward pass over several sequences at once, with hooks at every site.
   Calls: MODEL, KERNELS.
   ===================================================================================== */

static const char *const lvs__site_names[LVS_SITE_COUNT] = {"embed", "resid_pre", "attn_out", "resid_mid",
                                                            "mlp_out", "resid_post"};
LVSDEF const char *lvs_site_name(lvs_site s) {
    return ((int)s >= 0 && (int)s < LVS_SITE_COUNT) ? lvs__site_names[s] : "?";
}

LVSDEF lvs_status lvs_site_parse(const char *text, int64_t n_layers, lvs_site *site, int *layer, lvs_error *err) {
    long l = -1;
    char rest[32];
    int k, off = 0;
    if (!text || !site || !layer) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_site_parse: NULL argument");
    if (strcmp(text, "embed") == 0) { *site = LVS_SITE_EMBED; *layer = -1; return LVS_OK; }
    *site = LVS_SITE_RESID_POST;
    if (strcmp(text, "mid") == 0) l = (long)floor((double)n_layers / 2.0 + 0.5);
    else if (strcmp(text, "last") == 0) l = (long)n_layers - 1;
    else if (sscanf(text, "blocks.%ld.%n", &l, &off) == 1 && off > 0 && strlen(text + off) < sizeof rest) {
        strcpy(rest, text + off);
        for (k = 1; k < LVS_SITE_COUNT && strcmp(rest, lvs__site_names[k]) != 0; k++) {}
        if (k == LVS_SITE_COUNT)
            return lvs__fail(err, LVS_ERR_ARG, -1, "unknown site \"%s\" (sites: embed, blocks.L.resid_pre, attn_out, "
                             "resid_mid, mlp_out, resid_post)", text);
        *site = (lvs_site)k;
    } else {
        char *end;
        l = strtol(text, &end, 10);
        if (end == text || *end) l = -2;
    }
    if (l == -2 || l < 0 || l >= n_layers || l > INT32_MAX)
        return lvs__fail(err, LVS_ERR_ARG, -1, "site \"%s\": not embed, a layer 0..%lld, mid or last", text,
                         (long long)n_layers - 1);
    *layer = (int)l;
    return LVS_OK;
}

/* The mid layer of the paper: round(n_layers / 2). */

LVSDEF void lvs_hook_capture(void *user, const lvs_hook_call *c, float *x) {
    lvs_act_buf *b = (lvs_act_buf *)user;
    int t;
    for (t = 0; t < c->T; t++)
        if (c->pos[t] >= 0 && c->pos[t] < b->cap_pos) {
            memcpy(b->buf + c->pos[t] * b->d, x + (int64_t)t * c->d, sizeof(float) * (size_t)c->d);
            if (b->have) b->have[c->pos[t]] = 1;
        }
}
LVSDEF void lvs_hook_replace(void *user, const lvs_hook_call *c, float *x) {
    lvs_act_buf *b = (lvs_act_buf *)user;
    int t;
    for (t = 0; t < c->T; t++)
        if (c->pos[t] >= 0 && c->pos[t] < b->cap_pos && (!b->have || b->have[c->pos[t]]))
            memcpy(x + (int64_t)t * c->d, b->buf + c->pos[t] * b->d, sizeof(float) * (size_t)c->d);
}
LVSDEF void lvs_hook_add(void *user, const lvs_hook_call *c, float *x) {
    const lvs_add_spec *a = (const lvs_add_spec *)user;
    int t, i;
    for (t = 0; t < c->T; t++) {
        int64_t p = c->pos[t];
        float *row = x + (int64_t)t * c->d;
        if (a->prompt_len > 0 && p >= a->prompt_len) continue;
        if (a->vec)
            for (i = 0; i < c->d; i++) row[i] += a->scale * a->vec[i];
        if (a->tensor && p >= 0 && p < a->n_pos)
            for (i = 0; i < c->d; i++) row[i] += a->scale * a->tensor[p * c->d + i];
    }
}

struct lvs_cache {
    const lvs_model *m;
    int n_slots, nt;
    int64_t cap, kvd;
    int64_t *len;
    float *k, *v;               /* [layer][slot][position][kv heads x head_dim] */
    float *cos, *sin;           /* [position][head_dim / 2] */
    /* scratch of a forward pass, grown as needed */
    void *scratch;
    size_t scratch_bytes;
};

LVSDEF lvs_status lvs_cache_create(lvs_cache **out, const lvs_model *m, int n_slots, int64_t capacity, lvs_error *err) {
    const lvs_config *c;
    lvs_cache *cc;
    uint64_t per, total;
    int64_t p, i, half;
    if (!out || !m) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_cache_create: NULL argument");
    *out = NULL;
    c = &m->cfg;
    if (n_slots < 1 || capacity < 1)
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_cache_create: need at least one slot and one position");
    per = (uint64_t)c->n_kv_heads * (uint64_t)c->head_dim;
    if (lvs__mul_u64(per, (uint64_t)capacity, &total) || lvs__mul_u64(total, (uint64_t)n_slots, &total) ||
        lvs__mul_u64(total, (uint64_t)c->n_layers * 2 * sizeof(float), &total) || total > (uint64_t)((size_t)-1) / 2)
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_cache_create: %d slots x %lld positions do not fit in memory",
                         n_slots, (long long)capacity);
    cc = LVS__NEW(lvs_cache, 1);
    if (!cc) return lvs__oom(err);
    memset(cc, 0, sizeof *cc);
    cc->m = m;
    cc->n_slots = n_slots;
    cc->cap = capacity;
    cc->kvd = (int64_t)per;
    cc->nt = lvs__threads(m->n_threads);
    half = c->head_dim / 2;
    cc->len = LVS__NEW(int64_t, (size_t)n_slots);
    cc->k = (float *)LVS_MALLOC((size_t)total / 2);
    cc->v = (float *)LVS_MALLOC((size_t)total / 2);
    cc->cos = LVS__NEW(float, (size_t)(capacity * half));
    cc->sin = LVS__NEW(float, (size_t)(capacity * half));
    if (!cc->len || !cc->k || !cc->v || !cc->cos || !cc->sin) {
        lvs_cache_free(cc);
        return lvs__oom(err);
    }
    memset(cc->len, 0, sizeof(int64_t) * (size_t)n_slots);
    for (p = 0; p < capacity; p++)
        for (i = 0; i < half; i++) { /* angles in double: exact enough at any position */
            double ang = (double)p * m->inv_freq[i];
            cc->cos[p * half + i] = (float)cos(ang);
            cc->sin[p * half + i] = (float)sin(ang);
        }
    *out = cc;
    return LVS_OK;
}

LVSDEF void lvs_cache_free(lvs_cache *c) {
    if (!c) return;
    LVS_FREE(c->len);
    LVS_FREE(c->k);
    LVS_FREE(c->v);
    LVS_FREE(c->cos);
    LVS_FREE(c->sin);
    LVS_FREE(c->scratch);
    LVS_FREE(c);
}
LVSDEF int64_t lvs_cache_len(const lvs_cache *c, int slot) {
    return (c && slot >= 0 && slot < c->n_slots) ? c->len[slot] : -1;
}
LVSDEF lvs_status lvs_cache_truncate(lvs_cache *c, int slot, int64_t len, lvs_error *err) {
    if (!c || slot < 0 || slot >= c->n_slots || len < 0 || len > c->len[slot])
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_cache_truncate: slot %d cannot be cut to %lld positions", slot,
                         (long long)len);
    c->len[slot] = len;
    return LVS_OK;
}

/* Scratch layout of one pass over N rows. */
typedef struct lvs__work {
    float *x, *xn, *t2, *q, *k, *v, *att, *g, *u, *scores, *lrows, *lout;
    int8_t *qx;
    float *qs;
    int64_t *pos;
    int *row_seq;
} lvs__work;

static lvs_status lvs__work_get(lvs_cache *c, int64_t N, int n_seqs, lvs__work *w, lvs_error *err) {
    const lvs_config *cf = &c->m->cfg;
    int64_t d = cf->hidden_size, qd = cf->n_heads * cf->head_dim, ff = cf->intermediate_size, V = cf->vocab_size;
    int64_t wide = d > qd ? d : qd, nbw;
    size_t off = 0, need;
    char *base;
    wide = wide > ff ? wide : ff;
    nbw = lvs_q8_nblocks(wide);
#define LVS__CARVE(ptr, T, count) \
    do { off = (off + 63) & ~(size_t)63; if (base) ptr = (T *)(void *)(base + off); off += sizeof(T) * (size_t)(count); } while (0)
    for (base = NULL;; base = (char *)c->scratch) {
        off = 0;
        LVS__CARVE(w->x, float, N * d);
        LVS__CARVE(w->xn, float, N * wide);
        LVS__CARVE(w->t2, float, N * d);
        LVS__CARVE(w->q, float, N * qd);
        LVS__CARVE(w->k, float, N * c->kvd);
        LVS__CARVE(w->v, float, N * c->kvd);
        LVS__CARVE(w->att, float, N * qd);
        LVS__CARVE(w->g, float, N * ff);
        LVS__CARVE(w->u, float, N * ff);
        LVS__CARVE(w->scores, float, (int64_t)c->nt * c->cap);
        LVS__CARVE(w->lrows, float, (int64_t)n_seqs * d);
        LVS__CARVE(w->lout, float, (int64_t)n_seqs * V);
        LVS__CARVE(w->qx, int8_t, N * wide);
        LVS__CARVE(w->qs, float, N * nbw);
        LVS__CARVE(w->pos, int64_t, N);
        LVS__CARVE(w->row_seq, int, N);
        if (base) return LVS_OK;
        need = off + 64;
        if (need > c->scratch_bytes) {
            void *p = LVS_MALLOC(need);
            if (!p) return lvs__oom(err);
            LVS_FREE(c->scratch);
            c->scratch = p;
            c->scratch_bytes = need;
        }
    }
#undef LVS__CARVE
}

/* Calls the hooks of every sequence registered at (site, layer) on its rows of x. */
static void lvs__hooks(const lvs_seq *seqs, int n_seqs, const int64_t *row0, const int64_t *pos, lvs_site site,
                       int layer, float *x, int64_t d) {
    int s, h;
    for (s = 0; s < n_seqs; s++)
        for (h = 0; h < seqs[s].n_hooks; h++) {
            const lvs_hook *hk = &seqs[s].hooks[h];
            if (hk->site == site && (site == LVS_SITE_EMBED || hk->layer == layer) && hk->fn && seqs[s].n > 0) {
                lvs_hook_call call;
                call.site = site;
                call.layer = site == LVS_SITE_EMBED ? -1 : layer;
                call.seq = s;
                call.pos = pos + row0[s];
                call.T = seqs[s].n;
                call.d = (int)d;
                hk->fn(hk->user, &call, x + row0[s] * d);
            }
        }
}

LVSDEF lvs_status lvs_forward(const lvs_model *m, lvs_cache *c, const lvs_seq *seqs, int n_seqs, lvs_error *err) {
    const lvs_config *cf;
    int64_t d, H, KV, hd, half, qd, ff, V, N = 0, i, l, r, *row0 = NULL;
    int s, nt, n_last = 0;
    double eps;
    float scale;
    lvs__work w;
    lvs_status st;
    if (!m || !c || (!seqs && n_seqs) || n_seqs < 0 || c->m != m)
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_forward: invalid argument");
    cf = &m->cfg;
    d = cf->hidden_size; H = cf->n_heads; KV = cf->n_kv_heads; hd = cf->head_dim; half = hd / 2;
    qd = H * hd; ff = cf->intermediate_size; V = cf->vocab_size;
    eps = cf->norm_eps;
    scale = (float)(1.0 / sqrt((double)hd));
    nt = c->nt;
    for (s = 0; s < n_seqs; s++) {
        const lvs_seq *q = &seqs[s];
        int o;
        if (q->slot < 0 || q->slot >= c->n_slots || q->n < 0 || (q->n && !q->tokens) ||
            (q->logits && (!q->logits_out || q->n == 0)) || q->logits < 0 || q->logits > LVS_LOGITS_ALL ||
            q->logits_from < 0 || (q->logits == LVS_LOGITS_ALL && q->logits_from >= q->n))
            return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_forward: sequence %d: invalid slot, tokens or logits", s);
        for (o = 0; o < s; o++)
            if (seqs[o].slot == q->slot)
                return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_forward: sequences %d and %d share slot %d", o, s, q->slot);
        if (c->len[q->slot] + q->n > c->cap)
            return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_forward: sequence %d needs %lld positions; the cache holds %lld",
                             s, (long long)(c->len[q->slot] + q->n), (long long)c->cap);
        for (o = 0; o < q->n; o++)
            if (q->tokens[o] < 0 || q->tokens[o] >= V)
                return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_forward: sequence %d: token %d is %ld, outside the "
                                 "vocabulary of %lld", s, o, (long)q->tokens[o], (long long)V);
        N += q->n;
        if (q->logits == LVS_LOGITS_LAST) n_last++;
    }
    if (N == 0) return LVS_OK;
    row0 = LVS__NEW(int64_t, (size_t)n_seqs + 1);
    if (!row0) return lvs__oom(err);
    if ((st = lvs__work_get(c, N, n_seqs, &w, err)) != LVS_OK) { LVS_FREE(row0); return st; }
    /* rows: the sequences one after another */
    for (s = 0, r = 0; s < n_seqs; s++) {
        row0[s] = r;
        for (i = 0; i < seqs[s].n; i++, r++) {
            w.pos[r] = c->len[seqs[s].slot] + i;
            w.row_seq[r] = s;
            lvs__mat_row_f32(&m->embed, seqs[s].tokens[i], w.x + r * d);
        }
    }
    lvs__hooks(seqs, n_seqs, row0, w.pos, LVS_SITE_EMBED, -1, w.x, d);
    for (l = 0; l < cf->n_layers; l++) {
        const lvs__layer *L = &m->layers[l];
        lvs__act a;
        lvs__mm mm[3];
        int64_t item, n_items = N * H, wnd = cf->layer_sliding[l] ? cf->sliding_window : 0;
        float *kc = c->k + (size_t)l * (size_t)c->n_slots * (size_t)c->cap * (size_t)c->kvd;
        float *vc = c->v + (size_t)l * (size_t)c->n_slots * (size_t)c->cap * (size_t)c->kvd;
        lvs__hooks(seqs, n_seqs, row0, w.pos, LVS_SITE_RESID_PRE, (int)l, w.x, d);
        for (r = 0; r < N; r++) lvs__rmsnorm(w.x + r * d, L->attn_norm, d, eps, w.xn + r * d);
        a.x = w.xn; a.n = N; a.cols = d; a.q = w.qx; a.qs = w.qs; a.quantized = 0;
        mm[0].W = &L->wq; mm[0].y = w.q; mm[0].ldy = qd; mm[0].bias = L->bq;
        mm[1].W = &L->wk; mm[1].y = w.k; mm[1].ldy = c->kvd; mm[1].bias = L->bk;
        mm[2].W = &L->wv; mm[2].y = w.v; mm[2].ldy = c->kvd; mm[2].bias = L->bv;
        lvs__matmuls(mm, 3, &a, nt);
        for (r = 0; r < N; r++) { /* RoPE, then the keys and values join the cache */
            int64_t p = w.pos[r], h, slot = seqs[w.row_seq[r]].slot;
            size_t at = ((size_t)slot * (size_t)c->cap + (size_t)p) * (size_t)c->kvd;
            for (h = 0; h < H; h++) lvs__rope(w.q + r * qd + h * hd, c->cos + p * half, c->sin + p * half, half);
            for (h = 0; h < KV; h++) lvs__rope(w.k + r * c->kvd + h * hd, c->cos + p * half, c->sin + p * half, half);
            memcpy(kc + at, w.k + r * c->kvd, sizeof(float) * (size_t)c->kvd);
            memcpy(vc + at, w.v + r * c->kvd, sizeof(float) * (size_t)c->kvd);
        }
        LVS__PAR_FOR(n_items * 64 * hd, nt)
        for (item = 0; item < n_items; item++) { /* one query row and head */
            int64_t rr = item / H, h = item % H, p = w.pos[rr], j, lo = wnd > 0 && p - wnd + 1 > 0 ? p - wnd + 1 : 0;
            int64_t slot = seqs[w.row_seq[rr]].slot, kvh = h / (H / KV);
            const float *qv = w.q + rr * qd + h * hd;
            const float *kb = kc + (size_t)slot * (size_t)c->cap * (size_t)c->kvd + (size_t)(kvh * hd);
            const float *vb = vc + (size_t)slot * (size_t)c->cap * (size_t)c->kvd + (size_t)(kvh * hd);
            float *sc = w.scores + (int64_t)LVS__TID() * c->cap, mx = -FLT_MAX, sum = 0.0f, *o = w.att + rr * qd + h * hd;
            for (j = lo; j <= p; j++) {
                sc[j] = lvs__dot(qv, kb + j * c->kvd, hd) * scale;
                mx = sc[j] > mx ? sc[j] : mx;
            }
            for (j = lo; j <= p; j++) {
                sc[j] = expf(sc[j] - mx);
                sum += sc[j];
            }
            memset(o, 0, sizeof(float) * (size_t)hd);
            for (j = lo; j <= p; j++) {
                const float pj = sc[j] / sum, *vj = vb + j * c->kvd;
                int64_t e;
                for (e = 0; e < hd; e++) o[e] += pj * vj[e];
            }
        }
        a.x = w.att; a.n = N; a.cols = qd; a.quantized = 0;
        lvs__matmul(&L->wo, &a, w.t2, d, L->bo, nt);
        lvs__hooks(seqs, n_seqs, row0, w.pos, LVS_SITE_ATTN_OUT, (int)l, w.t2, d);
        for (i = 0; i < N * d; i++) w.x[i] += w.t2[i];
        lvs__hooks(seqs, n_seqs, row0, w.pos, LVS_SITE_RESID_MID, (int)l, w.x, d);
        for (r = 0; r < N; r++) lvs__rmsnorm(w.x + r * d, L->mlp_norm, d, eps, w.xn + r * d);
        a.x = w.xn; a.n = N; a.cols = d; a.quantized = 0;
        mm[0].W = &L->wg; mm[0].y = w.g; mm[0].ldy = ff; mm[0].bias = L->bg;
        mm[1].W = &L->wu; mm[1].y = w.u; mm[1].ldy = ff; mm[1].bias = L->bu;
        lvs__matmuls(mm, 2, &a, nt);
        for (i = 0; i < N * ff; i++) w.g[i] = w.g[i] / (1.0f + expf(-w.g[i])) * w.u[i];
        a.x = w.g; a.n = N; a.cols = ff; a.quantized = 0;
        lvs__matmul(&L->wd, &a, w.t2, d, L->bd, nt);
        lvs__hooks(seqs, n_seqs, row0, w.pos, LVS_SITE_MLP_OUT, (int)l, w.t2, d);
        for (i = 0; i < N * d; i++) w.x[i] += w.t2[i];
        lvs__hooks(seqs, n_seqs, row0, w.pos, LVS_SITE_RESID_POST, (int)l, w.x, d);
    }
    /* logits: the last rows of all sequences that want them in one product, whole sequences apart */
    if (n_last) {
        lvs__act a;
        int k = 0;
        for (s = 0; s < n_seqs; s++)
            if (seqs[s].logits == LVS_LOGITS_LAST)
                lvs__rmsnorm(w.x + (row0[s] + seqs[s].n - 1) * d, m->final_norm, d, eps, w.lrows + (k++) * d);
        a.x = w.lrows; a.n = n_last; a.cols = d; a.q = w.qx; a.qs = w.qs; a.quantized = 0;
        lvs__matmul(&m->lm_head, &a, w.lout, V, NULL, nt);
        for (s = 0, k = 0; s < n_seqs; s++)
            if (seqs[s].logits == LVS_LOGITS_LAST) memcpy(seqs[s].logits_out, w.lout + (k++) * V, sizeof(float) * (size_t)V);
    }
    for (s = 0; s < n_seqs; s++)
        if (seqs[s].logits == LVS_LOGITS_ALL) {
            lvs__act a;
            int64_t from = seqs[s].logits_from;
            for (i = from; i < seqs[s].n; i++)
                lvs__rmsnorm(w.x + (row0[s] + i) * d, m->final_norm, d, eps, w.xn + (i - from) * d);
            a.x = w.xn; a.n = seqs[s].n - from; a.cols = d; a.q = w.qx; a.qs = w.qs; a.quantized = 0;
            lvs__matmul(&m->lm_head, &a, seqs[s].logits_out, V, NULL, nt);
        }
    for (s = 0; s < n_seqs; s++) c->len[seqs[s].slot] += seqs[s].n;
    LVS_FREE(row0);
    return LVS_OK;
}

/* =====================================================================================
   GENERATION: sampling (greedy, temperature, top-k, top-p, min-p) and batched decoding
   with stop ids and stop strings. Calls: FORWARD.
   ===================================================================================== */

LVSDEF void lvs_gen_opts_default(lvs_gen_opts *o) {
    memset(o, 0, sizeof *o);
    o->max_new = 128;
    o->sampling.top_p = 1.0f;
}

typedef struct lvs__cand { float p; int32_t id; } lvs__cand;
static int lvs__cand_cmp(const void *a, const void *b) {
    const lvs__cand *x = (const lvs__cand *)a, *y = (const lvs__cand *)b;
    if (x->p != y->p) return x->p > y->p ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

LVSDEF int32_t lvs_sample(float *logits, int64_t vocab, const lvs_sampling *s, lvs_rng *rng) {
    int64_t i, best = 0, n = 0, keep;
    double sum = 0, u, acc;
    float mx;
    lvs__cand *c;
    for (i = 1; i < vocab; i++)
        if (logits[i] > logits[best]) best = i;
    if (!s || s->temperature <= 0.0f || vocab < 2) return (int32_t)best;
    mx = logits[best];
    c = LVS__NEW(lvs__cand, (size_t)vocab);
    if (!c) return (int32_t)best; /* out of memory: fall back to greedy */
    for (i = 0; i < vocab; i++) {
        double p = exp((double)(logits[i] - mx) / (double)s->temperature);
        if (p > 0) { c[n].p = (float)p; c[n].id = (int32_t)i; n++; }
    }
    qsort(c, (size_t)n, sizeof *c, lvs__cand_cmp);
    keep = n;
    if (s->top_k > 0 && s->top_k < keep) keep = s->top_k;
    for (i = 0; i < keep; i++) sum += c[i].p;
    if (s->top_p > 0.0f && s->top_p < 1.0f) { /* smallest prefix whose mass reaches top_p */
        acc = 0;
        for (i = 0; i < keep; i++) {
            acc += c[i].p / sum;
            if (acc >= s->top_p) { keep = i + 1; break; }
        }
    }
    if (s->min_p > 0.0f)
        for (i = 1; i < keep; i++)
            if (c[i].p < s->min_p * c[0].p) { keep = i; break; }
    for (i = 0, sum = 0; i < keep; i++) sum += c[i].p;
    u = lvs_rng_uniform(rng) * sum;
    for (i = 0, acc = 0; i < keep - 1; i++) {
        acc += c[i].p;
        if (u < acc) break;
    }
    best = c[i].id;
    LVS_FREE(c);
    return (int32_t)best;
}

/* Does the text of out[from..n) (via piece) contain a stop string? */
static int lvs__stop_text(const lvs_gen_opts *o, const int32_t *out, int n, lvs__buf *b) {
    int i, k;
    b->len = 0;
    for (i = 0; i < n; i++) {
        size_t len = 0;
        const char *p = o->piece(o->piece_user, out[i], &len);
        if (p) lvs__buf_put(b, p, len);
    }
    if (b->failed || !b->data) return 0;
    for (k = 0; k < o->n_stop_strings; k++) {
        size_t sl = strlen(o->stop_strings[k]), j;
        for (j = 0; sl && j + sl <= b->len; j++)
            if (memcmp(b->data + j, o->stop_strings[k], sl) == 0) return 1;
    }
    return 0;
}

LVSDEF lvs_status lvs_generate(const lvs_model *m, lvs_gen_seq *seqs, int n_seqs, const lvs_gen_opts *opts,
                               lvs_error *err) {
    lvs_gen_opts o;
    lvs_cache *c = NULL;
    lvs_seq *fs = NULL;
    float *logits = NULL;
    lvs_rng *rng = NULL;
    int32_t *next = NULL;
    int64_t cap = 0, V;
    int s, step, active;
    lvs__buf text = {NULL, 0, 0, 0};
    lvs_status st;
    if (!m || (!seqs && n_seqs) || n_seqs < 0) return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_generate: invalid argument");
    if (opts) o = *opts; else lvs_gen_opts_default(&o);
    if (o.max_new < 0 || (o.n_stop_strings && !o.piece))
        return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_generate: max_new < 0, or stop strings without a piece function");
    if (n_seqs == 0) return LVS_OK;
    V = m->cfg.vocab_size;
    for (s = 0; s < n_seqs; s++) {
        if (seqs[s].n_prompt < 1 || !seqs[s].prompt || (o.max_new && !seqs[s].out))
            return lvs__fail(err, LVS_ERR_ARG, -1, "lvs_generate: sequence %d needs a prompt and an output buffer", s);
        if (seqs[s].n_prompt + o.max_new > cap) cap = seqs[s].n_prompt + o.max_new;
        seqs[s].n_out = 0;
        seqs[s].finish = 0;
    }
    if ((st = lvs_cache_create(&c, m, n_seqs, cap, err)) != LVS_OK) return st;
    fs = LVS__NEW(lvs_seq, (size_t)n_seqs);
    logits = LVS__NEW(float, (size_t)n_seqs * (size_t)V);
    rng = LVS__NEW(lvs_rng, (size_t)n_seqs);
    next = LVS__NEW(int32_t, (size_t)n_seqs);
    if (!fs || !logits || !rng || !next) { st = lvs__oom(err); goto done; }
    for (s = 0; s < n_seqs; s++) {
        memset(&fs[s], 0, sizeof fs[s]);
        fs[s].slot = s;
        fs[s].tokens = seqs[s].prompt;
        fs[s].n = seqs[s].n_prompt;
        fs[s].logits = LVS_LOGITS_LAST;
        fs[s].logits_out = logits + (size_t)s * (size_t)V;
        fs[s].hooks = seqs[s].hooks;
        fs[s].n_hooks = seqs[s].n_hooks;
        lvs_rng_seed(&rng[s], o.sampling.seed + (uint64_t)s);
    }
    if ((st = lvs_forward(m, c, fs, n_seqs, err)) != LVS_OK) goto done;
    for (step = 0;; step++) {
        int k = 0;
        active = 0;
        for (s = 0; s < n_seqs; s++) { /* the sequences still running, in order */
            lvs_gen_seq *g = &seqs[s];
            int32_t tok;
            int j, stop = 0;
            if (g->finish) continue;
            if (g->n_out >= o.max_new) { g->finish = LVS_FINISH_LENGTH; continue; }
            tok = lvs_sample(logits + (size_t)s * (size_t)V, V, &o.sampling, &rng[s]);
            for (j = 0; j < o.n_stop_ids; j++) stop |= o.stop_ids[j] == tok;
            for (j = 0; !o.ignore_eos && j < m->stats.n_eos; j++) stop |= m->stats.eos[j] == tok;
            if (stop) { g->finish = LVS_FINISH_STOP_ID; continue; }
            g->out[g->n_out++] = tok;
            if (o.n_stop_strings && lvs__stop_text(&o, g->out, g->n_out, &text)) {
                g->finish = LVS_FINISH_STOP_STRING;
                continue;
            }
            if (g->n_out >= o.max_new) { g->finish = LVS_FINISH_LENGTH; continue; }
            next[s] = tok;
            fs[k].slot = s;
            fs[k].tokens = &next[s];
            fs[k].n = 1;
            fs[k].logits = LVS_LOGITS_LAST;
            fs[k].logits_out = logits + (size_t)s * (size_t)V;
            fs[k].hooks = g->hooks;
            fs[k].n_hooks = g->n_hooks;
            k++;
            active++;
        }
        if (!active) break;
        if ((st = lvs_forward(m, c, fs, k, err)) != LVS_OK) goto done;
    }
    st = LVS_OK;
done:
    LVS_FREE(text.data);
    LVS_FREE(fs);
    LVS_FREE(logits);
    LVS_FREE(rng);
    LVS_FREE(next);
    lvs_cache_free(c);
    return st;
}

#endif /* LVS_IMPLEMENTATION_DONE */
#endif /* LVS_IMPLEMENTATION */

/*
   -------------------------------------------------------------------------------------
   MIT License

   Copyright (c) 2026 the lvs.h authors

   Permission is hereby granted, free of charge, to any person obtaining a copy of this
   software and associated documentation files (the "Software"), to deal in the Software
   without restriction, including without limitation the rights to use, copy, modify, merge,
   publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
   to whom the Software is furnished to do so, subject to the following conditions:

   The above copyright notice and this permission notice shall be included in all copies or
   substantial portions of the Software.

   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
   INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
   PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
   FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
   OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
   DEALINGS IN THE SOFTWARE.
   -------------------------------------------------------------------------------------
*/
