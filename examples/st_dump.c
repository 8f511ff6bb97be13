/* st_dump: lists the tensors (name, dtype, shape, data offsets) and the metadata of a
   safetensors file. Build: cc -O2 examples/st_dump.c -lm */
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>

int main(int argc, char **argv) {
    lvs_safetensors st;
    lvs_error err;
    size_t i;
    int d;
    if (argc != 2) {
        fprintf(stderr, "usage: st_dump FILE.safetensors\n");
        return 2;
    }
    if (lvs_st_open(&st, argv[1], &err) != LVS_OK) {
        fprintf(stderr, "st_dump: %s\n", err.message);
        return 1;
    }
    for (i = 0; i < st.n_tensors; i++) {
        const lvs_st_tensor *t = &st.tensors[i];
        printf("%s\t%s\t[", t->name, lvs_dtype_name(t->dtype));
        for (d = 0; d < t->ndim; d++) printf(d ? ", %lld" : "%lld", (long long)t->shape[d]);
        printf("]\toffset %llu\n", (unsigned long long)t->begin);
    }
    for (i = 0; i < st.n_meta; i++)
        printf("metadata\t%s\t%lu bytes\n", st.meta[i].key, (unsigned long)st.meta[i].value_len);
    lvs_st_close(&st);
    return 0;
}
