/* lvs: the command-line front end of lvs.h. */
#define LVS_IMPLEMENTATION
#include "../lvs.h"
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: lvs COMMAND [ARGS]   (lvs COMMAND --help for details)\n"
    "\n"
    "Commands:\n"
    "  tensors PATH [--meta]   list the tensors (and metadata) of a safetensors file or model folder\n"
    "  version                 print the version of lvs.h\n"
    "  help                    this text\n"
    "\n"
    "The engine, tokenizers, LVS estimation, fine-tuning and the audit arrive in later versions;\n"
    "see README.md for the status of each.\n"
    "Exit status: 0 done, 1 bad input or failure, 2 bad usage.\n";

static const char usage_tensors[] =
    "usage: lvs tensors PATH [--meta]\n"
    "\n"
    "Validates PATH (a .safetensors file, or a model folder with model.safetensors or\n"
    "model.safetensors.index.json) with every rule of the safetensors format and lists each\n"
    "tensor: name, dtype, shape, byte range in its file and, for sharded folders, the shard.\n"
    "  --meta   also print the __metadata__ entries (long values shortened)\n"
    "Exit status: 0 valid, 1 invalid or unreadable (the message names the problem), 2 bad usage.\n";

static int cmd_tensors(int argc, char **argv) {
    const char *path = NULL;
    int meta = 0, i;
    size_t k;
    lvs_safetensors st;
    lvs_error err;
    unsigned long long total = 0;
    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage_tensors, stdout);
            return 0;
        } else if (strcmp(argv[i], "--meta") == 0) meta = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "lvs tensors: unknown option %s\n", argv[i]);
            return 2;
        } else if (!path) path = argv[i];
        else {
            fprintf(stderr, "lvs tensors: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!path) {
        fputs(usage_tensors, stderr);
        return 2;
    }
    if (lvs_st_open(&st, path, &err) != LVS_OK) {
        fprintf(stderr, "lvs tensors: error: %s [%s]\n", err.message, lvs_status_name(err.status));
        return 1;
    }
    for (k = 0; k < st.n_tensors; k++) {
        const lvs_st_tensor *t = &st.tensors[k];
        char shape[160];
        size_t n = 0;
        int d;
        n += (size_t)snprintf(shape, sizeof shape, "[");
        for (d = 0; d < t->ndim && n < sizeof shape; d++)
            n += (size_t)snprintf(shape + n, sizeof shape - n, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
        if (n < sizeof shape) snprintf(shape + n, sizeof shape - n, "]");
        printf("%-60s %-7s %-20s [%llu, %llu)", t->name, lvs_dtype_name(t->dtype), shape,
               (unsigned long long)t->begin, (unsigned long long)t->end);
        if (st.n_shards > 1) printf("  %s", st.shards[t->shard]);
        printf("\n");
        total += (unsigned long long)t->nbytes;
    }
    printf("%lu tensors, %llu bytes of data, %d file%s\n", (unsigned long)st.n_tensors, total, st.n_shards,
           st.n_shards == 1 ? "" : "s");
    if (meta)
        for (k = 0; k < st.n_meta; k++) {
            const lvs_st_meta *m = &st.meta[k];
            size_t j, shown = m->value_len > 60 ? 60 : m->value_len;
            printf("meta %s = \"", m->key);
            for (j = 0; j < shown; j++) {
                unsigned char c = (unsigned char)m->value[j];
                if (c < 0x20) printf("\\x%02x", c);
                else putchar(c);
            }
            printf(m->value_len > shown ? "\"... (%lu bytes)\n" : "\"\n", (unsigned long)m->value_len);
        }
    lvs_st_close(&st);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fputs(usage, stderr);
        return 2;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("lvs %s\n", lvs_version());
        return 0;
    }
    if (strcmp(argv[1], "tensors") == 0) return cmd_tensors(argc - 2, argv + 2);
    fprintf(stderr, "lvs: unknown command \"%s\" (see lvs help)\n", argv[1]);
    return 2;
}
