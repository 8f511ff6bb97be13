/* libFuzzer harness for prompt lists: the first byte picks the format (CSV, JSON lines or
   text), the rest is the file. Any file must load or fail with a format, JSON or I/O status;
   every loaded prompt is a non-empty NUL-terminated string. */
#define _POSIX_C_SOURCE 200809L
#define LVS_IMPLEMENTATION
#include "../../lvs.h"
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const ext[3] = {".csv", ".jsonl", ".txt"};
    char path[64];
    FILE *f;
    lvs_prompts p;
    lvs_error err;
    lvs_status s;
    int i;
    if (size < 1) return 0;
    snprintf(path, sizeof path, "/tmp/lvs-fuzz-prompts-%d%s", (int)getpid(), ext[data[0] % 3]);
    if (!(f = fopen(path, "wb"))) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    s = lvs_prompts_load(&p, path, &err);
    remove(path);
    if (s == LVS_OK) {
        if (p.n < 1) __builtin_trap();
        for (i = 0; i < p.n; i++)
            if (!p.text[i] || !p.text[i][0]) __builtin_trap();
        lvs_prompts_free(&p);
    } else if (s != LVS_ERR_FORMAT && s != LVS_ERR_NOMEM && (s < LVS_ERR_JSON_SYNTAX || s > LVS_ERR_JSON_DUPLICATE_KEY)) {
        __builtin_trap();
    }
    return 0;
}
