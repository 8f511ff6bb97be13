/* JSON reader: values, strings, numbers (against strtod), every error class with its byte
   offset, nesting limits, duplicate keys, UTF-8 validation, and real tokenizer.json files
   compared with figures from Python's json module. */
#include "test.h"
#include <locale.h>

static lvs_status parse(lvs_json_doc *d, const char *s, lvs_error *err) {
    return lvs_json_parse(d, s, strlen(s), 0, err);
}

void test_json_values(void) {
    lvs_json_doc d;
    lvs_error err;
    const lvs_json *r, *a;
    CHECK_OK(parse(&d, " {\"a\": [1, true, false, null, \"x\", {}, []], \"b\": {\"c\": -2.5}} ", &err), &err);
    r = d.root;
    CHECK(r->type == LVS_JSON_OBJECT && r->n == 2 && r->offset == 1);
    a = lvs_json_get(r, "a");
    CHECK(a && a->type == LVS_JSON_ARRAY && a->n == 7 && a->key_len == 1 && strcmp(a->key, "a") == 0);
    if (a && a->n == 7) {
        CHECK(a->items[0].type == LVS_JSON_NUMBER && a->items[0].i == 1 && a->items[0].key == NULL);
        CHECK(a->items[1].type == LVS_JSON_TRUE && a->items[2].type == LVS_JSON_FALSE);
        CHECK(a->items[3].type == LVS_JSON_NULL);
        CHECK(a->items[4].type == LVS_JSON_STRING && a->items[4].n == 1 && strcmp(a->items[4].str, "x") == 0);
        CHECK(a->items[5].type == LVS_JSON_OBJECT && a->items[5].n == 0);
        CHECK(a->items[6].type == LVS_JSON_ARRAY && a->items[6].n == 0);
        CHECK(a->items[4].offset == 30);
    }
    a = lvs_json_get(lvs_json_get(r, "b"), "c");
    CHECK(a && a->num == -2.5 && a->flags == 0);
    CHECK(lvs_json_get(r, "missing") == NULL && lvs_json_get(a, "c") == NULL);
    lvs_json_free(&d);
    CHECK_OK(parse(&d, "\"top\"", &err), &err); /* any value may be the root */
    CHECK(d.root->type == LVS_JSON_STRING && strcmp(d.root->str, "top") == 0);
    lvs_json_free(&d);
    CHECK_OK(parse(&d, "\t\r\n 42 \n", &err), &err);
    CHECK(d.root->type == LVS_JSON_NUMBER && d.root->i == 42);
    lvs_json_free(&d);
}

void test_json_strings(void) {
    static const struct { const char *json; const char *bytes; size_t n; } cases[] = {
        {"\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"", "\"\\/\b\f\n\r\t", 8},
        {"\"\\u0041\\u00e9\\u20AC\"", "A\xc3\xa9\xe2\x82\xac", 6},
        {"\"\\ud83d\\ude00\"", "\xf0\x9f\x98\x80", 4},
        {"\"\\uDBFF\\uDFFF\"", "\xf4\x8f\xbf\xbf", 4},
        {"\"a\\u0000b\"", "a\0b", 3},
        {"\"\xe2\x96\x81\xc4\xa0\xf0\x9f\xa6\x99\"", "\xe2\x96\x81\xc4\xa0\xf0\x9f\xa6\x99", 9},
        {"\"\"", "", 0},
    };
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lvs_json_doc d;
        lvs_error err;
        CHECK_OK(parse(&d, cases[i].json, &err), &err);
        if (!d.root) continue;
        CHECKF(d.root->type == LVS_JSON_STRING && d.root->n == cases[i].n &&
                   memcmp(d.root->str, cases[i].bytes, cases[i].n) == 0 && d.root->str[cases[i].n] == 0,
               "string case %d decodes wrongly", (int)i);
        lvs_json_free(&d);
    }
}

void test_json_numbers(void) {
    static const struct { const char *s; int flags; unsigned long long u; double num; } ints[] = {
        {"0", 3, 0, 0.0},
        {"-0", 1, 0, 0.0},
        {"9223372036854775807", 3, 9223372036854775807ULL, 9223372036854775807.0},
        {"-9223372036854775808", 1, 9223372036854775808ULL, -9223372036854775808.0},
        {"9223372036854775808", 2, 9223372036854775808ULL, 9223372036854775808.0},
        {"18446744073709551615", 2, 18446744073709551615ULL, 18446744073709551615.0},
        {"18446744073709551616", 0, 0, 18446744073709551616.0},
        {"-9223372036854775809", 0, 0, -9223372036854775809.0},
        {"1.0", 0, 0, 1.0},
        {"1E2", 0, 0, 100.0},
        {"-1e-400", 0, 0, -0.0},
    };
    lvs_json_doc d;
    lvs_error err;
    lvs_rng r;
    size_t k;
    int bad = 0, n;
    for (k = 0; k < sizeof ints / sizeof ints[0]; k++) {
        CHECK_OK(parse(&d, ints[k].s, &err), &err);
        if (!d.root) continue;
        CHECKF(d.root->flags == ints[k].flags, "%s: flags %d, expected %d", ints[k].s, d.root->flags, ints[k].flags);
        if (ints[k].flags) CHECKF((unsigned long long)d.root->i == ints[k].u, "%s: integer value", ints[k].s);
        CHECKF(d.root->num == ints[k].num, "%s: double %.17g", ints[k].s, d.root->num);
        lvs_json_free(&d);
    }
    CHECK_OK(parse(&d, "-0.0", &err), &err);
    CHECK(d.root && signbit(d.root->num));
    lvs_json_free(&d);
    /* random decimals against the C library's correctly rounded strtod */
    lvs_rng_seed(&r, 7);
    for (n = 0; n < 100000; n++) {
        char s[96];
        int len = 0, nd = 1 + (int)(lvs_rng_next(&r) % 22), fd = (int)(lvs_rng_next(&r) % 12), j;
        int e = (int)(lvs_rng_next(&r) % 700) - 350, style = (int)(lvs_rng_next(&r) % 3);
        if (lvs_rng_next(&r) & 1) s[len++] = '-';
        s[len++] = (char)('1' + lvs_rng_next(&r) % 9);
        for (j = 1; j < nd; j++) s[len++] = (char)('0' + lvs_rng_next(&r) % 10);
        if (fd) {
            s[len++] = '.';
            for (j = 0; j < fd; j++) s[len++] = (char)('0' + lvs_rng_next(&r) % 10);
        }
        if (style == 0) len += snprintf(s + len, sizeof s - (size_t)len, "e%d", e);
        else if (style == 1) len += snprintf(s + len, sizeof s - (size_t)len, "E%+d", e % 23);
        s[len] = 0;
        if (lvs_json_parse(&d, s, (size_t)len, 0, &err) != LVS_OK) {
            double ref = strtod(s, NULL);
            if (!isinf(ref) || err.status != LVS_ERR_JSON_NUMBER) bad++;
            continue;
        }
        if (d.root->num != strtod(s, NULL)) {
            if (bad < 5) printf("  %s -> %.17g, strtod %.17g\n", s, d.root->num, strtod(s, NULL));
            bad++;
        }
        lvs_json_free(&d);
    }
    CHECKF(bad == 0, "%d random decimals differ from strtod", bad);
    {   /* saturated exponents and mantissas longer than 64 bits go to strtod, which decides */
        static const char *odd[] = {"1e-99999999999999999999", "0e99999999999999999999", "-0.0e-5",
                                    "123456789012345678901234567890e-10", "0.000000000000000000000000000001234",
                                    "18446744073709551616.5", "4.9406564584124654e-324", "2.2250738585072011e-308"};
        size_t k2;
        for (k2 = 0; k2 < sizeof odd / sizeof odd[0]; k2++) {
            CHECK_OK(parse(&d, odd[k2], &err), &err);
            CHECKF(d.root && d.root->num == strtod(odd[k2], NULL), "%s -> %.17g", odd[k2], d.root ? d.root->num : 0.0);
            lvs_json_free(&d);
        }
    }
    {   /* 0.000...0001e1000005: the digits and the exponent together overflow */
        size_t nz = 100000, k2;
        char *big = (char *)malloc(nz + 32);
        memcpy(big, "0.", 2);
        for (k2 = 2; k2 < nz; k2++) big[k2] = '0'; /* 1e-99999 after the 1 below */
        snprintf(big + nz, 32, "1e1000005");
        CHECK_ST(parse(&d, big, &err), LVS_ERR_JSON_NUMBER);
        snprintf(big + nz, 32, "1e99999");
        CHECK_OK(parse(&d, big, &err), &err);
        CHECK(d.root && d.root->num == 1.0);
        lvs_json_free(&d);
        free(big);
    }
    if (setlocale(LC_NUMERIC, "de_DE.UTF-8") || setlocale(LC_NUMERIC, "fr_FR.UTF-8")) {
        /* a locale whose decimal point is ',' must not change the reading */
        CHECK_OK(parse(&d, "[1.5, 2.25e-400, 3.0000000000000000000001]", &err), &err);
        CHECK(d.root && d.root->items[0].num == 1.5 && d.root->items[2].num == 3.0);
        lvs_json_free(&d);
        setlocale(LC_NUMERIC, "C");
    }
    CHECK_ST(parse(&d, "1e309", &err), LVS_ERR_JSON_NUMBER);
    CHECK_ST(parse(&d, "[-1.8e308]", &err), LVS_ERR_JSON_NUMBER);
    CHECK(err.offset == 1);
    CHECK_OK(parse(&d, "1.7976931348623157e308", &err), &err);
    lvs_json_free(&d);
}

void test_json_errors(void) {
    static const struct { const char *s; lvs_status st; long off; } cases[] = {
        {"", LVS_ERR_JSON_SYNTAX, 0},
        {"   ", LVS_ERR_JSON_SYNTAX, 3},
        {"[1,]", LVS_ERR_JSON_SYNTAX, 3},
        {"{\"a\":1,}", LVS_ERR_JSON_SYNTAX, 7},
        {"{\"a\" 1}", LVS_ERR_JSON_SYNTAX, 5},
        {"{,}", LVS_ERR_JSON_SYNTAX, 1},
        {"{1:2}", LVS_ERR_JSON_SYNTAX, 1},
        {"[1 2]", LVS_ERR_JSON_SYNTAX, 3},
        {"[", LVS_ERR_JSON_SYNTAX, 1},
        {"[1", LVS_ERR_JSON_SYNTAX, 2},
        {"{\"a\":", LVS_ERR_JSON_SYNTAX, 5},
        {"\"abc", LVS_ERR_JSON_SYNTAX, 0},
        {"\"abc\\", LVS_ERR_JSON_SYNTAX, 0},
        {"tru", LVS_ERR_JSON_SYNTAX, 0},
        {"nul", LVS_ERR_JSON_SYNTAX, 0},
        {"01", LVS_ERR_JSON_SYNTAX, 0},
        {"-", LVS_ERR_JSON_SYNTAX, 0},
        {"1.", LVS_ERR_JSON_SYNTAX, 2},
        {".5", LVS_ERR_JSON_SYNTAX, 0},
        {"1e", LVS_ERR_JSON_SYNTAX, 2},
        {"1e+", LVS_ERR_JSON_SYNTAX, 3},
        {"+1", LVS_ERR_JSON_SYNTAX, 0},
        {"NaN", LVS_ERR_JSON_SYNTAX, 0},
        {"Infinity", LVS_ERR_JSON_SYNTAX, 0},
        {"'a'", LVS_ERR_JSON_SYNTAX, 0},
        {"/*c*/1", LVS_ERR_JSON_SYNTAX, 0},
        {"[1]x", LVS_ERR_JSON_SYNTAX, 3},
        {"1 2", LVS_ERR_JSON_SYNTAX, 2},
        {"\xef\xbb\xbf{}", LVS_ERR_JSON_SYNTAX, 0},
        {"\"\\x\"", LVS_ERR_JSON_STRING, 1},
        {"\"\\u12\"", LVS_ERR_JSON_STRING, 1},
        {"\"\\u12G4\"", LVS_ERR_JSON_STRING, 1},
        {"\"ab\\ud800\"", LVS_ERR_JSON_STRING, 3},
        {"\"\\udc00\"", LVS_ERR_JSON_STRING, 1},
        {"\"\\ud800\\u0041\"", LVS_ERR_JSON_STRING, 1},
        {"\"a\tb\"", LVS_ERR_JSON_STRING, 2},
        {"\"a\nb\"", LVS_ERR_JSON_STRING, 2},
        {"[\"\x80\"]", LVS_ERR_JSON_UTF8, 2},
    };
    size_t i;
    lvs_json_doc d;
    lvs_error err;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lvs_status s = parse(&d, cases[i].s, &err);
        CHECKF(s == cases[i].st, "case %d (%s): got %s, expected %s", (int)i, cases[i].s, lvs_status_name(s),
               lvs_status_name(cases[i].st));
        if (s == cases[i].st)
            CHECKF(err.offset == cases[i].off && err.status == s && strstr(err.message, "byte"),
                   "case %d (%s): offset %ld, expected %ld (%s)", (int)i, cases[i].s, (long)err.offset,
                   cases[i].off, err.message);
        CHECK(d.root == NULL);
        if (s == LVS_OK) lvs_json_free(&d);
    }
    /* a NUL byte is not whitespace */
    CHECK_ST(lvs_json_parse(&d, "[1]\0", 4, 0, &err), LVS_ERR_JSON_SYNTAX);
    CHECK_ST(lvs_json_parse(&d, "[1,\0]", 5, 0, &err), LVS_ERR_JSON_SYNTAX);
    CHECK_ST(lvs_json_parse(NULL, "1", 1, 0, &err), LVS_ERR_ARG);
}

static char *nested(int depth, char open, char close, const char *inner) {
    size_t n = strlen(inner), i, k = 0;
    char *s = (char *)malloc(2 * (size_t)depth * 6 + n + 1);
    for (i = 0; i < (size_t)depth; i++) {
        if (open == '{') { memcpy(s + k, "{\"k\":", 5); k += 5; }
        else s[k++] = open;
    }
    memcpy(s + k, inner, n);
    k += n;
    for (i = 0; i < (size_t)depth; i++) s[k++] = close;
    s[k] = 0;
    return s;
}

void test_json_depth(void) {
    lvs_json_doc d;
    lvs_error err;
    char *s;
    const lvs_json *v;
    int i;
    s = nested(100000, '[', ']', "1");
    CHECK_ST(parse(&d, s, &err), LVS_ERR_JSON_DEPTH);
    CHECK(err.offset == 256);
    free(s);
    s = nested(100000, '{', '}', "1");
    CHECK_ST(parse(&d, s, &err), LVS_ERR_JSON_DEPTH);
    free(s);
    s = nested(256, '[', ']', "1"); /* exactly the default limit */
    CHECK_OK(parse(&d, s, &err), &err);
    for (i = 0, v = d.root; v && v->type == LVS_JSON_ARRAY && v->n == 1; i++) v = &v->items[0];
    CHECK(i == 256 && v && v->type == LVS_JSON_NUMBER);
    lvs_json_free(&d);
    free(s);
    s = nested(257, '[', ']', "1");
    CHECK_ST(parse(&d, s, &err), LVS_ERR_JSON_DEPTH);
    free(s);
    CHECK_OK(lvs_json_parse(&d, "[[[1]]]", 7, 3, &err), &err);
    lvs_json_free(&d);
    CHECK_ST(lvs_json_parse(&d, "[[[[1]]]]", 9, 3, &err), LVS_ERR_JSON_DEPTH);
    CHECK_ST(lvs_json_parse(&d, "{\"a\":{\"b\":{\"c\":{}}}}", 20, 3, &err), LVS_ERR_JSON_DEPTH);
}

void test_json_duplicates(void) {
    lvs_json_doc d;
    lvs_error err;
    char big[20000];
    int i, k;
    CHECK_ST(parse(&d, "{\"a\":1,\"b\":2,\"a\":3}", &err), LVS_ERR_JSON_DUPLICATE_KEY);
    CHECK(strstr(err.message, "\"a\"") != NULL && err.offset == 17);
    CHECK_ST(parse(&d, "{\"\\u0061\":1,\"a\":2}", &err), LVS_ERR_JSON_DUPLICATE_KEY); /* equal once decoded */
    CHECK_OK(parse(&d, "{\"a\":1,\"a\\u0000\":2,\"A\":3}", &err), &err);
    lvs_json_free(&d);
    CHECK_OK(parse(&d, "{\"a\":{\"a\":1},\"b\":{\"a\":2}}", &err), &err); /* different objects */
    lvs_json_free(&d);
    for (k = 0; k < 2; k++) { /* the hashed path for large objects */
        size_t n = 0;
        n += (size_t)snprintf(big + n, sizeof big - n, "{");
        for (i = 0; i < 1000; i++) n += (size_t)snprintf(big + n, sizeof big - n, "%s\"key%d\":%d", i ? "," : "", i, i);
        if (k) n += (size_t)snprintf(big + n, sizeof big - n, ",\"key500\":0");
        snprintf(big + n, sizeof big - n, "}");
        if (k) {
            CHECK_ST(parse(&d, big, &err), LVS_ERR_JSON_DUPLICATE_KEY);
            CHECK(strstr(err.message, "key500") != NULL);
        } else {
            CHECK_OK(parse(&d, big, &err), &err);
            CHECK(d.root && d.root->n == 1000 && lvs_json_get(d.root, "key999")->i == 999);
            lvs_json_free(&d);
        }
    }
}

void test_json_utf8(void) {
    static const char *bad[] = {"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80",
                                "\xed\xbf\xbf", "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80",
                                "\xf5\x80\x80\x80", "\xff", "\x80", "\xc2", "\xe2\x82", "\xf0\x9f\x98",
                                "\xc2\x41", "\xe2\x28\xa1"};
    static const char *good[] = {"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
                                 "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "\x7f"};
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char s[32];
        lvs_json_doc d;
        lvs_error err;
        snprintf(s, sizeof s, "[\"ab%s\"]", bad[i]);
        CHECKF(parse(&d, s, &err) == LVS_ERR_JSON_UTF8 && err.offset == 4, "bad UTF-8 case %d accepted", (int)i);
        CHECK(lvs_utf8_check(bad[i], strlen(bad[i])) == 0);
        snprintf(s, sizeof s, "{\"%s\":1}", bad[i]); /* keys too */
        CHECK_ST(parse(&d, s, &err), LVS_ERR_JSON_UTF8);
    }
    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        char s[32];
        lvs_json_doc d;
        lvs_error err;
        snprintf(s, sizeof s, "\"%s\"", good[i]);
        CHECK_OK(parse(&d, s, &err), &err);
        CHECK(d.root && d.root->n == strlen(good[i]) && memcmp(d.root->str, good[i], d.root->n) == 0);
        lvs_json_free(&d);
        CHECK(lvs_utf8_check(good[i], strlen(good[i])) == strlen(good[i]));
    }
    CHECK(lvs_utf8_check("ab\xe2\x82\xac" "cd\xff", 8) == 7);
}

typedef struct { long objects, arrays, strings, literals, numbers; long long intsum, keybytes, strbytes; } jcount;
static void count(const lvs_json *v, jcount *c) {
    size_t i;
    if (v->key) c->keybytes += (long long)v->key_len;
    switch (v->type) {
    case LVS_JSON_OBJECT: c->objects++; break;
    case LVS_JSON_ARRAY: c->arrays++; break;
    case LVS_JSON_STRING: c->strings++; c->strbytes += (long long)v->n; break;
    case LVS_JSON_NUMBER: c->numbers++; if (v->flags & LVS_JSON_INT) c->intsum += v->i; break;
    default: c->literals++;
    }
    for (i = 0; i < v->n && (v->type == LVS_JSON_OBJECT || v->type == LVS_JSON_ARRAY); i++) count(&v->items[i], c);
}

void test_json_tokenizers(void) {
    char *fix = t_slurp("tests/fixtures/tokenizer_counts.txt", NULL), *line;
    int n = 0;
    if (!t_shared()) { t_skip("../shared/tokenizers not found (set LVS_SHARED)"); free(fix); return; }
    CHECK(fix != NULL);
    for (line = fix; line && *line; n++) {
        char name[32], path[600];
        long long size, nvocab, nmerges, nadded;
        jcount want, got;
        char *text;
        size_t len;
        lvs_json_doc d;
        lvs_error err;
        const lvs_json *model;
        if (sscanf(line, "%31s %lld %lld %lld %lld %ld %ld %ld %ld %ld %lld %lld %lld", name, &size, &nvocab,
                   &nmerges, &nadded, &want.objects, &want.arrays, &want.strings, &want.literals, &want.numbers,
                   &want.intsum, &want.keybytes, &want.strbytes) != 13)
            break;
        line = strchr(line, '\n');
        if (line) line++;
        t_sub_begin("tokenizer %s", name);
        snprintf(path, sizeof path, "%s/tokenizers/%s/tokenizer.json", t_shared(), name);
        text = t_slurp(path, &len);
        CHECK(text && (long long)len == size);
        if (text && lvs_json_parse(&d, text, len, 0, &err) == LVS_OK) {
            memset(&got, 0, sizeof got);
            count(d.root, &got);
            model = lvs_json_get(d.root, "model");
            CHECK((long long)lvs_json_get(model, "vocab")->n == nvocab);
            CHECK((long long)lvs_json_get(model, "merges")->n == nmerges);
            CHECK((long long)lvs_json_get(d.root, "added_tokens")->n == nadded);
            CHECKF(got.objects == want.objects && got.arrays == want.arrays && got.strings == want.strings &&
                       got.literals == want.literals && got.numbers == want.numbers,
                   "value counts differ from Python's json");
            CHECKF(got.intsum == want.intsum, "integer sum %lld, Python %lld", got.intsum, want.intsum);
            CHECKF(got.keybytes == want.keybytes && got.strbytes == want.strbytes,
                   "decoded bytes: keys %lld/%lld strings %lld/%lld", got.keybytes, want.keybytes, got.strbytes,
                   want.strbytes);
            lvs_json_free(&d);
        } else CHECKF(0, "%s does not parse: %s", path, text ? err.message : "unreadable");
        free(text);
        t_sub_end();
    }
    CHECK(n == 4);
    free(fix);
}
