/* libFuzzer harness for prompt lists and fine-tuning data: the first byte picks the format
   (CSV, JSON lines or text), the rest is the file. Any file must load or fail with a format,
   JSON or out-of-memory status; every loaded prompt, and every fine-tuning prompt and
   response, is a non-empty NUL-terminated string. */
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
    lvs_sft_data d;
    lvs_error err;
    lvs_status s;
    int i;
    if (size < 1) return 0;
    snprintf(path, sizeof path, "/tmp/lvs-fuzz-prompts-%d%s", (int)getpid(), ext[data[0] % 3]);
    if (!(f = fopen(path, "wb"))) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    s = lvs_prompts_load(&p, path, &err);
    if (lvs_sft_load(&d, path, &err) == LVS_OK) {
        if (d.n < 1) __builtin_trap();
        for (i = 0; i < d.n; i++)
            if (!d.rows[i].prompt[0] || !d.rows[i].response[0] || (d.rows[i].system && !d.rows[i].system[0]))
                __builtin_trap();
        lvs_sft_free(&d);
    } else if (err.status != LVS_ERR_FORMAT && err.status != LVS_ERR_NOMEM) {
        __builtin_trap();
    }
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
