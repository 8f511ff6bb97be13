/* safetensors: writer output against bytes produced by the reference implementation,
   round trips of every dtype, determinism, alignment, reader rules, sharded folders. */
#include "test.h"

/* header + padding + data, as the reference serializer lays them out */
static size_t image(unsigned char *out, const char *header, const void *data, size_t ndata) {
    size_t h = strlen(header), padded = (h + 7) / 8 * 8, i;
    for (i = 0; i < 8; i++) out[i] = (unsigned char)(padded >> (8 * i));
    memcpy(out + 8, header, h);
    memset(out + 8 + h, ' ', padded - h);
    if (ndata) memcpy(out + 8 + padded, data, ndata);
    return 8 + padded + ndata;
}

void test_st_reference_bytes(void) {
    /* expected bytes from the tests of huggingface/safetensors (tensor.rs: test_serialization,
       test_empty, test_serialization_forced_alignement) */
    static const float data[6] = {0, 1, 2, 3, 4, 5};
    unsigned char want[200];
    void *got;
    size_t n, wn;
    lvs_error err;
    int64_t s3[3] = {1, 2, 3}, s4[4] = {1, 1, 2, 3};
    lvs_st_writer *w = lvs_st_writer_create();
    CHECK_OK(lvs_st_writer_add(w, "attn.0", LVS_F32, 3, s3, data, &err), &err);
    CHECK_OK(lvs_st_writer_save_mem(w, &got, &n, &err), &err);
    wn = image(want, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", data, 24);
    CHECK(wn == 96 && n == wn && memcmp(got, want, n) == 0);
    lvs_free(got);
    lvs_st_writer_destroy(w);

    w = lvs_st_writer_create();
    CHECK_OK(lvs_st_writer_save_mem(w, &got, &n, &err), &err);
    CHECK(n == 16 && memcmp(got, "\x08\0\0\0\0\0\0\0{}      ", 16) == 0);
    lvs_free(got);
    CHECK_OK(lvs_st_writer_set_meta(w, "framework", "pt", 2, &err), &err);
    CHECK_OK(lvs_st_writer_save_mem(w, &got, &n, &err), &err);
    wn = image(want, "{\"__metadata__\":{\"framework\":\"pt\"}}", NULL, 0);
    CHECK(wn == 48 && n == wn && memcmp(got, want, n) == 0);
    lvs_free(got);
    lvs_st_writer_destroy(w);

    w = lvs_st_writer_create();
    CHECK_OK(lvs_st_writer_add(w, "attn0", LVS_F32, 4, s4, data, &err), &err);
    CHECK_OK(lvs_st_writer_save_mem(w, &got, &n, &err), &err);
    wn = image(want, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}", data, 24);
    CHECK(wn == 104 && n == wn && memcmp(got, want, n) == 0);
    lvs_free(got);
    lvs_st_writer_destroy(w);
}

typedef struct { const char *name; lvs_dtype dt; int ndim; int64_t shape[8]; } tspec;
static const tspec specs[] = {
    {"f64", LVS_F64, 2, {3, 5}},
    {"f32 \"quoted\" \\ name", LVS_F32, 1, {7}},
    {"f16.\xc3\xa9\xe2\x96\x81", LVS_F16, 3, {2, 3, 1}},
    {"bf16", LVS_BF16, 2, {4, 3}},
    {"i64", LVS_I64, 1, {3}},
    {"u64", LVS_U64, 1, {2}},
    {"i32", LVS_I32, 2, {1, 5}},
    {"u32", LVS_U32, 0, {0}},
    {"i16", LVS_I16, 1, {9}},
    {"u16", LVS_U16, 1, {1}},
    {"i8", LVS_I8, 1, {13}},
    {"u8", LVS_U8, 2, {3, 3}},
    {"bool", LVS_BOOL, 1, {5}},
    {"f8a", LVS_F8_E4M3, 1, {3}},
    {"f8b", LVS_F8_E5M2, 1, {2}},
    {"zero", LVS_F32, 3, {2, 0, 3}},
    {"tab\there\x01", LVS_F32, 8, {1, 2, 1, 2, 1, 2, 1, 1}},
};
#define NSPECS (sizeof specs / sizeof specs[0])

static size_t numel_of(const tspec *s) {
    size_t n = 1;
    int d;
    for (d = 0; d < s->ndim; d++) n *= (size_t)s->shape[d];
    return n;
}

/* A writer holding every spec, in the order given by perm (NULL = natural). */
static lvs_st_writer *make_writer(unsigned char **bufs, const size_t *perm) {
    lvs_st_writer *w = lvs_st_writer_create();
    lvs_error err;
    size_t i;
    for (i = 0; i < NSPECS; i++) {
        const tspec *s = &specs[perm ? perm[i] : i];
        CHECK_OK(lvs_st_writer_add(w, s->name, s->dt, s->ndim, s->shape, bufs[perm ? perm[i] : i], &err), &err);
    }
    CHECK_OK(lvs_st_writer_set_meta(w, "zeta", "last", 4, &err), &err);
    CHECK_OK(lvs_st_writer_set_meta(w, "alpha \xe2\x82\xac", "with \"quotes\", \\, \n and a NUL\0!", 30, &err), &err);
    return w;
}

static unsigned char **make_bufs(void) {
    unsigned char **bufs = (unsigned char **)malloc(NSPECS * sizeof *bufs);
    size_t i, j;
    lvs_rng r;
    lvs_rng_seed(&r, 1);
    for (i = 0; i < NSPECS; i++) {
        size_t nb = numel_of(&specs[i]) * lvs_dtype_size(specs[i].dt);
        bufs[i] = (unsigned char *)malloc(nb + 1);
        for (j = 0; j < nb; j++) bufs[i][j] = (unsigned char)lvs_rng_next(&r);
    }
    return bufs;
}
static void free_bufs(unsigned char **bufs) {
    size_t i;
    for (i = 0; i < NSPECS; i++) free(bufs[i]);
    free(bufs);
}

static void check_contents(const lvs_safetensors *st, unsigned char **bufs) {
    size_t i;
    const lvs_st_meta *m;
    CHECK(st->n_tensors == NSPECS);
    for (i = 0; i < NSPECS; i++) {
        const lvs_st_tensor *t = lvs_st_find(st, specs[i].name);
        int d;
        CHECKF(t != NULL, "tensor %s not found", specs[i].name);
        if (!t) continue;
        CHECK(t->dtype == specs[i].dt && t->ndim == specs[i].ndim && (size_t)t->numel == numel_of(&specs[i]));
        for (d = 0; d < t->ndim; d++) CHECK(t->shape[d] == specs[i].shape[d]);
        CHECK(t->nbytes == numel_of(&specs[i]) * lvs_dtype_size(specs[i].dt));
        CHECKF(t->nbytes == 0 || memcmp(t->data, bufs[i], t->nbytes) == 0, "tensor %s bytes differ", t->name);
        CHECK(((uintptr_t)t->data % lvs_dtype_size(t->dtype)) == 0);
    }
    for (i = 1; i < st->n_tensors; i++) CHECK(strcmp(st->tensors[i - 1].name, st->tensors[i].name) < 0);
    CHECK(st->n_meta == 2);
    m = lvs_st_get_meta(st, "alpha \xe2\x82\xac");
    CHECK(m && m->value_len == 30 && memcmp(m->value, "with \"quotes\", \\, \n and a NUL\0!", 30) == 0);
    m = lvs_st_get_meta(st, "zeta");
    CHECK(m && strcmp(m->value, "last") == 0);
    CHECK(lvs_st_find(st, "nope") == NULL && lvs_st_get_meta(st, "nope") == NULL);
}

void test_st_roundtrip(void) {
    unsigned char **bufs = make_bufs();
    lvs_st_writer *w = make_writer(bufs, NULL);
    char *path = t_path("rt.safetensors");
    void *mem;
    size_t n, fn;
    char *file;
    lvs_safetensors st;
    lvs_error err;
    CHECK_OK(lvs_st_writer_save(w, path, &err), &err);
    CHECK_OK(lvs_st_writer_save_mem(w, &mem, &n, &err), &err);
    file = t_slurp(path, &fn);
    CHECK(file && fn == n && memcmp(file, mem, n) == 0);
    CHECK((((const unsigned char *)mem)[0] | (((const unsigned char *)mem)[1] << 8)) % 8 == 0);
    CHECK_OK(lvs_st_open(&st, path, &err), &err);
    check_contents(&st, bufs);
    CHECK(st.n_shards == 1 && strcmp(st.shards[0], path) == 0);
    lvs_st_close(&st);
    CHECK_OK(lvs_st_parse(&st, mem, n, &err), &err);
    check_contents(&st, bufs);
    lvs_st_close(&st);
    /* read(write(read(x))) == the same bytes */
    lvs_st_writer_destroy(w);
    free(file);
    lvs_free(mem);
    free(path);
    free_bufs(bufs);
}

void test_st_deterministic(void) {
    unsigned char **bufs = make_bufs();
    size_t perm[NSPECS], i, n1, n2;
    void *a, *b;
    lvs_error err;
    lvs_st_writer *w1 = make_writer(bufs, NULL), *w2;
    for (i = 0; i < NSPECS; i++) perm[i] = NSPECS - 1 - i;
    w2 = make_writer(bufs, perm);
    CHECK_OK(lvs_st_writer_save_mem(w1, &a, &n1, &err), &err);
    CHECK_OK(lvs_st_writer_save_mem(w2, &b, &n2, &err), &err);
    CHECK(n1 == n2 && memcmp(a, b, n1) == 0);
    /* header keys in byte order of names, __metadata__ first */
    CHECK(strncmp((const char *)a + 8, "{\"__metadata__\":{\"alpha", 23) == 0);
    lvs_free(a);
    lvs_free(b);
    lvs_st_writer_destroy(w1);
    lvs_st_writer_destroy(w2);
    free_bufs(bufs);
}

void test_st_alignment(void) {
    unsigned char **bufs = make_bufs();
    lvs_st_writer *w = make_writer(bufs, NULL);
    void *mem;
    unsigned char *shifted;
    size_t n, i, ncopied = 0;
    lvs_safetensors st;
    lvs_error err;
    char *path = t_path("al.safetensors");
    CHECK_OK(lvs_st_writer_save(w, path, &err), &err);
    CHECK_OK(lvs_st_open(&st, path, &err), &err);
    for (i = 0; i < st.n_tensors; i++) ncopied += (size_t)st.tensors[i].copied;
    CHECKF(ncopied == 0, "%d tensors copied from a mapped file the writer aligned", (int)ncopied);
    lvs_st_close(&st);
    /* the same image one byte off: every multi-byte tensor must be copied, bytes unchanged */
    CHECK_OK(lvs_st_writer_save_mem(w, &mem, &n, &err), &err);
    shifted = (unsigned char *)malloc(n + 8);
    memcpy(shifted + 1, mem, n);
    CHECK_OK(lvs_st_parse(&st, shifted + 1, n, &err), &err);
    check_contents(&st, bufs);
    for (i = 0; i < st.n_tensors; i++) {
        const lvs_st_tensor *t = &st.tensors[i];
        if (lvs_dtype_size(t->dtype) > 1 && t->nbytes) CHECKF(t->copied, "%s not copied", t->name);
        if (lvs_dtype_size(t->dtype) == 1 && t->nbytes) /* zero-copy: points into the buffer */
            CHECK(!t->copied && (const unsigned char *)t->data > shifted && (const unsigned char *)t->data < shifted + 1 + n);
    }
    lvs_st_close(&st);
    free(shifted);
    lvs_free(mem);
    lvs_st_writer_destroy(w);
    free(path);
    free_bufs(bufs);
}

static lvs_status parse_text(const char *header, size_t ndata, lvs_safetensors *st, lvs_error *err,
                             unsigned char **keep) {
    size_t h = strlen(header), i;
    unsigned char *buf = (unsigned char *)malloc(8 + h + ndata + 1);
    lvs_status s;
    for (i = 0; i < 8; i++) buf[i] = (unsigned char)(h >> (8 * i));
    memcpy(buf + 8, header, h);
    for (i = 0; i < ndata; i++) buf[8 + h + i] = (unsigned char)i;
    s = lvs_st_parse(st, buf, 8 + h + ndata, err);
    *keep = buf;
    return s;
}

void test_st_rules(void) {
    lvs_safetensors st;
    lvs_error err;
    unsigned char *buf;
    const lvs_st_tensor *t;
    /* header order need not follow offsets; zero-size tensors; extra keys ignored; spaces */
    CHECK_OK(parse_text("  {\"b\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[2,5]},"
                        "\"z\":{\"dtype\":\"I32\",\"shape\":[0],\"data_offsets\":[2,2],\"extra\":1},"
                        "\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        "\"s\":{\"dtype\":\"I16\",\"shape\":[],\"data_offsets\":[5,7]}}   \n",
                        7, &st, &err, &buf),
             &err);
    CHECK(st.n_tensors == 4 && strcmp(st.tensors[0].name, "a") == 0);
    t = lvs_st_find(&st, "b");
    CHECK(t && t->numel == 3 && ((const unsigned char *)t->data)[0] == 2);
    t = lvs_st_find(&st, "s");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->nbytes == 2);
    t = lvs_st_find(&st, "z");
    CHECK(t && t->numel == 0 && t->nbytes == 0);
    lvs_st_close(&st);
    free(buf);
    CHECK_ST(parse_text("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]},"
                        "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                        2, &st, &err, &buf),
             LVS_ERR_ST_OFFSETS);
    CHECK(strstr(err.message, "overlap") != NULL);
    free(buf);
    CHECK_ST(parse_text("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 3, &st, &err, &buf),
             LVS_ERR_ST_TRAILING);
    CHECK(err.offset > 0);
    free(buf);
    CHECK_ST(parse_text("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}", 1, &st, &err, &buf),
             LVS_ERR_ST_BOUNDS);
    free(buf);
    CHECK_ST(parse_text("{\"a\":{\"dtype\":\"f32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 8, &st, &err, &buf),
             LVS_ERR_ST_DTYPE); /* dtype names are case-sensitive */
    CHECK(strstr(err.message, "\"a\"") && strstr(err.message, "f32"));
    free(buf);
    /* as the reference reads them: "__metadata__": null, -0, and the newer dtypes */
    CHECK_OK(parse_text("{\"__metadata__\":null,\"a\":{\"dtype\":\"F4\",\"shape\":[2,2],\"data_offsets\":[-0,2]},"
                        "\"b\":{\"dtype\":\"F6_E2M3\",\"shape\":[4],\"data_offsets\":[2,5]},"
                        "\"c\":{\"dtype\":\"C64\",\"shape\":[1],\"data_offsets\":[5,13]},"
                        "\"d\":{\"dtype\":\"F8_E8M0\",\"shape\":[-0],\"data_offsets\":[13,13]}}",
                        13, &st, &err, &buf),
             &err);
    CHECK(st.n_meta == 0 && st.n_tensors == 4 && lvs_st_find(&st, "a")->nbytes == 2 && lvs_st_find(&st, "b")->nbytes == 3);
    CHECK(lvs_dtype_bits(LVS_F4) == 4 && lvs_dtype_size(LVS_F4) == 0 && lvs_dtype_size(LVS_C64) == 8);
    lvs_st_close(&st);
    free(buf);
    CHECK_ST(parse_text("{\"a\":{\"dtype\":\"F4\",\"shape\":[3],\"data_offsets\":[0,2]}}", 2, &st, &err, &buf),
             LVS_ERR_ST_SHAPE); /* 12 bits are not whole bytes */
    free(buf);
    CHECK_ST(parse_text("{\"a\":{\"dtype\":\"U8\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0, &st, &err, &buf),
             LVS_ERR_ST_SHAPE);
    free(buf);
    CHECK_ST(lvs_st_parse(&st, NULL, 0, &err), LVS_ERR_ST_TOO_SMALL);
    CHECK_ST(lvs_st_parse(NULL, "x", 1, &err), LVS_ERR_ARG);
}

void test_st_read_f32(void) {
    static const float v[5] = {1.0f, -2.5f, 3.14159274f, 65504.0f, 1e-7f};
    uint16_t h[5], b[5];
    double dd[5];
    float out[5];
    int64_t five = 5;
    int i;
    int32_t ints[5] = {1, 2, 3, 4, 5};
    lvs_st_writer *w = lvs_st_writer_create();
    void *mem;
    size_t n;
    lvs_safetensors st;
    lvs_error err;
    for (i = 0; i < 5; i++) { h[i] = lvs_f32_to_f16(v[i]); b[i] = lvs_f32_to_bf16(v[i]); dd[i] = v[i]; }
    lvs_st_writer_add(w, "h", LVS_F16, 1, &five, h, &err);
    lvs_st_writer_add(w, "b", LVS_BF16, 1, &five, b, &err);
    lvs_st_writer_add(w, "d", LVS_F64, 1, &five, dd, &err);
    lvs_st_writer_add(w, "f", LVS_F32, 1, &five, v, &err);
    lvs_st_writer_add(w, "i", LVS_I32, 1, &five, ints, &err);
    CHECK_OK(lvs_st_writer_save_mem(w, &mem, &n, &err), &err);
    CHECK_OK(lvs_st_parse(&st, mem, n, &err), &err);
    CHECK_OK(lvs_st_read_f32(lvs_st_find(&st, "h"), out, &err), &err);
    for (i = 0; i < 5; i++) CHECK(out[i] == lvs_f16_to_f32(h[i]));
    CHECK_OK(lvs_st_read_f32(lvs_st_find(&st, "b"), out, &err), &err);
    for (i = 0; i < 5; i++) CHECK(out[i] == lvs_bf16_to_f32(b[i]));
    CHECK_OK(lvs_st_read_f32(lvs_st_find(&st, "d"), out, &err), &err);
    for (i = 0; i < 5; i++) CHECK(out[i] == v[i]);
    CHECK_OK(lvs_st_read_f32(lvs_st_find(&st, "f"), out, &err), &err);
    CHECK(memcmp(out, v, sizeof v) == 0);
    CHECK_ST(lvs_st_read_f32(lvs_st_find(&st, "i"), out, &err), LVS_ERR_UNSUPPORTED);
    lvs_st_close(&st);
    lvs_free(mem);
    lvs_st_writer_destroy(w);
}

/* writes a two-shard folder; `index` is the weight_map body */
static char *make_shards(const char *name, const char *index) {
    char *dir = t_path(name), path[600], cmd[700];
    float a[2] = {1, 2}, b[3] = {3, 4, 5};
    int64_t two = 2, three = 3;
    lvs_error err;
    lvs_st_writer *w1 = lvs_st_writer_create(), *w2 = lvs_st_writer_create();
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", dir);
    CHECK(t_run(cmd) == 0);
    lvs_st_writer_add(w1, "a", LVS_F32, 1, &two, a, &err);
    lvs_st_writer_set_meta(w1, "format", "pt", 2, &err);
    lvs_st_writer_add(w2, "b", LVS_F32, 1, &three, b, &err);
    lvs_st_writer_set_meta(w2, "format", "other", 5, &err);
    lvs_st_writer_set_meta(w2, "second", "yes", 3, &err);
    snprintf(path, sizeof path, "%s/m-1.safetensors", dir);
    CHECK_OK(lvs_st_writer_save(w1, path, &err), &err);
    snprintf(path, sizeof path, "%s/m-2.safetensors", dir);
    CHECK_OK(lvs_st_writer_save(w2, path, &err), &err);
    snprintf(path, sizeof path, "%s/model.safetensors.index.json", dir);
    t_write(path, index, strlen(index));
    lvs_st_writer_destroy(w1);
    lvs_st_writer_destroy(w2);
    return dir;
}

void test_st_sharded(void) {
    static const struct { const char *index; lvs_status st; const char *msg; } bad[] = {
        {"{\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-1.safetensors\"}}", LVS_ERR_ST_INDEX, "\"b\""},
        {"{\"weight_map\":{\"a\":\"m-2.safetensors\",\"b\":\"m-1.safetensors\"}}", LVS_ERR_ST_INDEX, "\"a\""},
        {"{\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-2.safetensors\",\"c\":\"m-2.safetensors\"}}",
         LVS_ERR_ST_INDEX, "\"c\""},
        {"{\"weight_map\":{\"a\":\"m-1.safetensors\",\"b\":\"m-3.safetensors\"}}", LVS_ERR_ST_INDEX, "m-3"},
        {"{\"weight_map\":{\"a\":\"../m-1.safetensors\",\"b\":\"m-2.safetensors\"}}", LVS_ERR_ST_INDEX, "plain"},
        {"{\"weight_map\":{\"a\":\"/etc/passwd\",\"b\":\"m-2.safetensors\"}}", LVS_ERR_ST_INDEX, "plain"},
        {"{\"weight_map\":{\"a\":1}}", LVS_ERR_ST_INDEX, "string"},
        {"{\"metadata\":{}}", LVS_ERR_ST_INDEX, "weight_map"},
        {"{\"weight_map\":{\"a\":\"m-1.safetensors\",\"a\":\"m-1.safetensors\"}}", LVS_ERR_JSON_DUPLICATE_KEY, "a"},
        {"{\"weight_map\":", LVS_ERR_JSON_SYNTAX, "index.json"},
    };
    char *dir = make_shards("shards", "{\"metadata\":{\"total_size\":20},\"weight_map\":{\"b\":\"m-2.safetensors\","
                                      "\"a\":\"m-1.safetensors\"}}");
    lvs_safetensors st;
    lvs_error err;
    const lvs_st_tensor *t;
    size_t i;
    char *empty;
    CHECK_OK(lvs_st_open(&st, dir, &err), &err);
    CHECK(st.n_shards == 2 && st.n_tensors == 2);
    t = lvs_st_find(&st, "b");
    CHECK(t && t->shard == 1 && ((const float *)t->data)[2] == 5.0f && strstr(st.shards[t->shard], "m-2"));
    t = lvs_st_find(&st, "a");
    CHECK(t && t->shard == 0 && ((const float *)t->data)[1] == 2.0f);
    CHECK(lvs_st_get_meta(&st, "format") && strcmp(lvs_st_get_meta(&st, "format")->value, "pt") == 0);
    CHECK(lvs_st_get_meta(&st, "second") != NULL);
    lvs_st_close(&st);
    free(dir);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[32];
        lvs_status s;
        snprintf(name, sizeof name, "shards-bad-%d", (int)i);
        dir = make_shards(name, bad[i].index);
        s = lvs_st_open(&st, dir, &err);
        CHECKF(s == bad[i].st && strstr(err.message, bad[i].msg), "bad index %d: %s (%s)", (int)i,
               lvs_status_name(s), err.message);
        free(dir);
    }
    empty = t_path("empty-folder");
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", empty);
        CHECK(t_run(cmd) == 0);
    }
    CHECK_ST(lvs_st_open(&st, empty, &err), LVS_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "model.safetensors") != NULL);
    free(empty);
}

static lvs_status fail_fill(void *user, void *dst, size_t n, lvs_error *err) {
    (void)user;
    (void)dst;
    (void)n;
    err->status = LVS_ERR_NONFINITE;
    snprintf(err->message, sizeof err->message, "producer failed");
    return LVS_ERR_NONFINITE;
}

void test_st_writer_errors(void) {
    lvs_st_writer *w = lvs_st_writer_create();
    lvs_error err;
    float x[4] = {1, 2, 3, 4};
    int64_t s1 = 4, neg = -1, s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
    char *path = t_path("keep.safetensors"), *tmp = t_path("keep.safetensors.tmp"), *before, *after;
    size_t nb, na;
    CHECK_OK(lvs_st_writer_add(w, "x", LVS_F32, 1, &s1, x, &err), &err);
    CHECK_ST(lvs_st_writer_add(w, "x", LVS_F32, 1, &s1, x, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_add(w, "__metadata__", LVS_F32, 1, &s1, x, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_add(w, "n", LVS_F32, 1, &neg, x, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_add(w, "n", LVS_F32, 9, s9, x, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_add(w, "n", LVS_F32, 1, &s1, NULL, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_add(w, "n", LVS_DTYPE_INVALID, 1, &s1, x, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_add(w, "bad\xff", LVS_F32, 1, &s1, x, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_st_writer_set_meta(w, "k", "\xc0\x80", 2, &err), LVS_ERR_ARG);
    CHECK_OK(lvs_st_writer_save(w, path, &err), &err);
    before = t_slurp(path, &nb);
    /* a failing producer leaves the existing file untouched and no temporary behind */
    CHECK_OK(lvs_st_writer_add_fill(w, "y", LVS_F32, 1, &s1, fail_fill, NULL, &err), &err);
    CHECK_ST(lvs_st_writer_save(w, path, &err), LVS_ERR_NONFINITE);
    CHECK(strstr(err.message, "producer failed") != NULL);
    after = t_slurp(path, &na);
    CHECK(before && after && nb == na && memcmp(before, after, nb) == 0);
    CHECK(!lvs_is_file(tmp));
    CHECK_ST(lvs_st_writer_save(w, "/nonexistent-dir/x.safetensors", &err), LVS_ERR_IO);
    {   /* an existing PATH.tmp (here: a link to a file we care about) is neither followed nor
           overwritten; the writer picks another temporary name */
        lvs_st_writer *w2 = lvs_st_writer_create();
        char *precious = t_path("precious.bin"), *out = t_path("out.safetensors"), *outtmp = t_path("out.safetensors.tmp");
        char cmd[1200], *got;
        size_t ng;
        CHECK(t_write(precious, "keep me", 7) == 0);
        snprintf(cmd, sizeof cmd, "ln -sf '%s' '%s'", precious + 0, outtmp);
        CHECK(t_run(cmd) == 0);
        CHECK_OK(lvs_st_writer_add(w2, "x", LVS_F32, 1, &s1, x, &err), &err);
        CHECK_OK(lvs_st_writer_save(w2, out, &err), &err);
        got = t_slurp(precious, &ng);
        CHECK(got && ng == 7 && memcmp(got, "keep me", 7) == 0);
        free(got);
        got = t_slurp(out, &ng);
        CHECK(got && ng > 8 && got[8] == '{');
        free(got);
        lvs_st_writer_destroy(w2);
        free(precious);
        free(out);
        free(outtmp);
    }
    lvs_st_writer_destroy(w);
    free(before);
    free(after);
    free(path);
    free(tmp);
}
