/* libFuzzer harness for the JSON reader: any input must parse or fail with a JSON status;
   a parsed tree must be consistent (valid UTF-8 strings, offsets inside the input). */
#define LVS_IMPLEMENTATION
#include "../../lvs.h"

static size_t walk(const lvs_json *v, size_t size, int depth) {
    size_t i, n = 1;
    if (v->offset >= size || depth > 64) __builtin_trap();
    if (v->key && lvs_utf8_check(v->key, v->key_len) != v->key_len) __builtin_trap();
    if (v->type == LVS_JSON_STRING && (lvs_utf8_check(v->str, v->n) != v->n || v->str[v->n] != 0)) __builtin_trap();
    if (v->type == LVS_JSON_ARRAY || v->type == LVS_JSON_OBJECT)
        for (i = 0; i < v->n; i++) {
            if ((v->type == LVS_JSON_OBJECT) != (v->items[i].key != NULL)) __builtin_trap();
            n += walk(&v->items[i], size, depth + 1);
        }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    lvs_json_doc d;
    lvs_error err;
    lvs_status s = lvs_json_parse(&d, (const char *)data, size, 64, &err);
    if (s == LVS_OK) {
        walk(d.root, size ? size : 1, 0);
        lvs_json_free(&d);
    } else if (s < LVS_ERR_JSON_SYNTAX || s > LVS_ERR_JSON_DUPLICATE_KEY || err.offset < 0 || (size_t)err.offset > size) {
        __builtin_trap();
    }
    {   /* the same bytes as a config.json must never crash either */
        lvs_config c;
        lvs_config_parse(&c, (const char *)data, size, &err);
    }
    return 0;
}
