/* libFuzzer harness for the safetensors reader: any input must be accepted or rejected with a
   status; an accepted file must round-trip through the writer to identical tensors. */
#define LVS_IMPLEMENTATION
#include "../../lvs.h"
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lvs_safetensors st, st2;
    lvs_error err;
    lvs_st_writer *w;
    void *out;
    size_t n, i;
    if (lvs_st_parse(&st, data, size, &err) != LVS_OK) {
        if (err.status == LVS_OK || !err.message[0]) __builtin_trap();
        return 0;
    }
    w = lvs_st_writer_create();
    for (i = 0; i < st.n_tensors; i++) {
        const lvs_st_tensor *t = &st.tensors[i];
        if (t->numel <= (1 << 16) && (t->dtype == LVS_F32 || t->dtype == LVS_F16 || t->dtype == LVS_BF16 ||
                                      t->dtype == LVS_F64)) {
            float *f = (float *)malloc((size_t)t->numel * sizeof(float) + 1);
            if (lvs_st_read_f32(t, f, &err) != LVS_OK) __builtin_trap();
            free(f);
        }
        if (lvs_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data, &err) != LVS_OK) __builtin_trap();
    }
    for (i = 0; i < st.n_meta; i++)
        if (lvs_st_writer_set_meta(w, st.meta[i].key, st.meta[i].value, st.meta[i].value_len, &err) != LVS_OK)
            __builtin_trap();
    if (lvs_st_writer_save_mem(w, &out, &n, &err) != LVS_OK) __builtin_trap();
    if (lvs_st_parse(&st2, out, n, &err) != LVS_OK) __builtin_trap();
    if (st2.n_tensors != st.n_tensors || st2.n_meta != st.n_meta) __builtin_trap();
    for (i = 0; i < st.n_tensors; i++) {
        const lvs_st_tensor *a = &st.tensors[i], *b = &st2.tensors[i];
        if (strcmp(a->name, b->name) || a->dtype != b->dtype || a->ndim != b->ndim || a->nbytes != b->nbytes ||
            memcmp(a->shape, b->shape, sizeof a->shape) || (a->nbytes && memcmp(a->data, b->data, a->nbytes)))
            __builtin_trap();
    }
    for (i = 0; i < st.n_meta; i++)
        if (strcmp(st.meta[i].key, st2.meta[i].key) || st.meta[i].value_len != st2.meta[i].value_len ||
            memcmp(st.meta[i].value, st2.meta[i].value, st.meta[i].value_len))
            __builtin_trap();
    lvs_st_close(&st2);
    lvs_free(out);
    lvs_st_writer_destroy(w);
    lvs_st_close(&st);
    return 0;
}
