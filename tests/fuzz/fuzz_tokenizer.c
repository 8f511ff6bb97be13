/* libFuzzer harness for the tokenizer. The first input byte picks a tokenizer (two built-in
   byte-level ones with added tokens, and the real gpt2, llama3, qwen3 and llama2 files from
   $LVS_SHARED/tokenizers, default ../shared/tokenizers, where present) and whether special
   tokens are added; the rest is the text. Any bytes: encoding succeeds or fails with
   LVS_ERR_ARG (not UTF-8), never crashes. Valid UTF-8 on a lossless (byte-level, no
   normalizer, no space-stripping added token) tokenizer: decode(encode(x)) == x. The same
   bytes read as token ids must decode, in one piece and streamed, to valid UTF-8, the
   streamed text a prefix of the whole unless the whole holds U+FFFD (byte tokens that do not
   form UTF-8 decode as U+FFFD per byte, but only once the run is complete: pieces streamed
   before it may hold those bytes as text). */
#define LVS_IMPLEMENTATION
#include "../../lvs.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static lvs_tokenizer *toks[6];
static int lossless[6], n_toks;

static int has_fffd(const char *s, size_t n) {
    size_t i;
    for (i = 0; i + 3 <= n; i++)
        if (memcmp(s + i, "\xef\xbf\xbd", 3) == 0) return 1;
    return 0;
}

static void put_cp(lvs__buf *b, uint32_t cp) {
    unsigned char u[4];
    lvs__buf_put(b, u, (size_t)(lvs__utf8_put(u, cp) - u));
}

/* every byte as its GPT-2 character, a few merges, added tokens (strip: one that takes the
   spaces around it, which makes the tokenizer lossy) */
static lvs_tokenizer *builtin(int strip) {
    static const char *const merges[] = {"\xc4\xa0 t", "h e", "\xc4\xa0t he", "i n", "\xc4\xa0 a"};
    lvs__buf b = {NULL, 0, 0, 0};
    lvs_tokenizer *t = NULL;
    lvs_error err;
    int k = 0, c, id = 0;
    size_t i;
    lvs__buf_puts(&b, "{\"model\":{\"type\":\"BPE\",\"vocab\":{");
    for (c = 0; c < 256; c++) {
        int keep = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || (c >= 174 && c <= 255);
        uint32_t cp = keep ? (uint32_t)c : (uint32_t)(256 + k++);
        char num[32];
        lvs__buf_puts(&b, c ? ",\"" : "\"");
        if (cp == '"' || cp == '\\') lvs__buf_putc(&b, '\\');
        put_cp(&b, cp);
        snprintf(num, sizeof num, "\":%d", id++);
        lvs__buf_puts(&b, num);
    }
    lvs__buf_puts(&b, ",\"\xc4\xa0t\":256,\"he\":257,\"\xc4\xa0the\":258,\"in\":259,\"\xc4\xa0""a\":260},\"merges\":[");
    for (i = 0; i < 5; i++) {
        lvs__buf_puts(&b, i ? ",\"" : "\"");
        lvs__buf_puts(&b, merges[i]);
        lvs__buf_puts(&b, "\"");
    }
    lvs__buf_puts(&b, "]},\"pre_tokenizer\":{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":true},"
                      "\"decoder\":{\"type\":\"ByteLevel\"},\"added_tokens\":["
                      "{\"id\":261,\"content\":\"<|end|>\",\"special\":true},"
                      "{\"id\":262,\"content\":\"<x>\",\"special\":true,\"lstrip\":");
    lvs__buf_puts(&b, strip ? "true,\"rstrip\":true}," : "false},");
    lvs__buf_puts(&b, 
                      "{\"id\":263,\"content\":\"word\",\"special\":false,\"single_word\":true,\"normalized\":false}]}");
    if (b.failed || lvs_tokenizer_load(&t, b.data, b.len, NULL, 0, &err) != LVS_OK) {
        fprintf(stderr, "built-in tokenizer: %s\n", err.message);
        abort();
    }
    LVS_FREE(b.data);
    return t;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv) {
    static const char *const names[4] = {"gpt2", "llama3", "qwen3", "llama2"};
    static const int lossless_real[4] = {1, 1, 0, 0}; /* qwen3 applies NFC, llama2 is not byte-level */
    const char *shared = getenv("LVS_SHARED") ? getenv("LVS_SHARED") : "../shared";
    int i;
    (void)argc;
    (void)argv;
    toks[0] = builtin(0);
    lossless[0] = 1;
    toks[1] = builtin(1);
    n_toks = 2;
    for (i = 0; i < 4; i++) {
        char path[1024];
        lvs_error err;
        snprintf(path, sizeof path, "%s/tokenizers/%s/tokenizer.json", shared, names[i]);
        if (lvs_tokenizer_open(&toks[n_toks], path, &err) == LVS_OK) lossless[n_toks++] = lossless_real[i];
    }
    fprintf(stderr, "fuzz_tokenizer: %d tokenizers\n", n_toks);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const lvs_tokenizer *t;
    const char *text = (const char *)data + 1;
    size_t len = size ? size - 1 : 0, n = 0, dl = 0, i, sl = 0;
    int32_t *ids = NULL, *raw;
    char *back = NULL, *streamed;
    int special;
    lvs_error err;
    lvs_status st;
    lvs_detok_stream ds;
    if (size == 0) return 0;
    t = toks[data[0] % n_toks];
    special = (data[0] / n_toks) & 1;
    st = lvs_tokenize(t, text, len, special, &ids, &n, &err);
    if (lvs_utf8_check(text, len) != len) {
        if (st != LVS_ERR_ARG) __builtin_trap();
    } else {
        if (st != LVS_OK) __builtin_trap();
        if (lvs_detokenize(t, ids, n, 0, &back, &dl, &err) != LVS_OK || lvs_utf8_check(back, dl) != dl) __builtin_trap();
        if (lossless[data[0] % n_toks] && !special && (dl != len || memcmp(back, text, len) != 0)) __builtin_trap();
        lvs_free(back);
    }
    lvs_free(ids);
    /* the bytes as ids (two bytes each, within the vocabulary) */
    raw = (int32_t *)malloc(sizeof(int32_t) * (len / 2 + 1));
    for (i = 0; i + 1 < len; i += 2)
        raw[i / 2] = (int32_t)((((unsigned)(unsigned char)text[i] << 8) | (unsigned char)text[i + 1]) % (unsigned)lvs_tokenizer_vocab_size(t));
    n = len / 2;
    for (i = 0; i < n; i++)
        if (!lvs_token_piece(t, raw[i], &dl)) raw[i] = 0;
    if (lvs_detokenize(t, raw, n, special, &back, &dl, &err) != LVS_OK || lvs_utf8_check(back, dl) != dl) __builtin_trap();
    streamed = (char *)malloc(dl + 1);
    lvs_detok_stream_init(&ds, t, special);
    for (i = 0; i < n; i++) {
        char *piece;
        size_t pl;
        if (lvs_detok_stream_push(&ds, raw[i], &piece, &pl, &err) != LVS_OK) __builtin_trap();
        if (piece) {
            if (lvs_utf8_check(piece, pl) != pl) __builtin_trap();
            if (sl + pl <= dl) memcpy(streamed + sl, piece, pl);
            sl += pl;
            lvs_free(piece);
        }
    }
    lvs_detok_stream_free(&ds);
    if (!has_fffd(back, dl) && (sl > dl || memcmp(streamed, back, sl) != 0)) __builtin_trap();
    free(streamed);
    lvs_free(back);
    free(raw);
    return 0;
}
