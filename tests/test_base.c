/* Base layer: status names, half-float conversions against independent references, the
   random number generator against a Python implementation, file mapping. */
#include "test.h"

void test_status_names(void) {
    int i;
    for (i = 0; i < LVS_STATUS_COUNT; i++) {
        CHECK(strncmp(lvs_status_name((lvs_status)i), "LVS_", 4) == 0);
        CHECK(strlen(lvs_status_text((lvs_status)i)) > 3);
    }
    CHECK(strcmp(lvs_status_name(LVS_ERR_JSON_DEPTH), "LVS_ERR_JSON_DEPTH") == 0);
    CHECK(strcmp(lvs_status_name(LVS_ERR_ST_INDEX), "LVS_ERR_ST_INDEX") == 0);
    CHECK(strcmp(lvs_status_name(LVS_ERR_NONFINITE), "LVS_ERR_NONFINITE") == 0);
    CHECK(strcmp(lvs_version(), LVS_VERSION) == 0);
}

/* value of a half, computed in double from its fields */
static double half_value(unsigned h) {
    unsigned e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp((double)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexp(1024.0 + m, (int)e - 25);
    return (h & 0x8000) ? -v : v;
}

void test_f16_exhaustive(void) {
    unsigned h;
    int bad = 0;
    for (h = 0; h < 65536; h++) {
        float f = lvs_f16_to_f32((uint16_t)h);
        double want = half_value(h);
        if (isnan(want)) {
            if (!isnan(f)) bad++;
        } else if ((double)f != want || !signbit(f) != !signbit(want)) bad++;
        if (!isnan(want) && lvs_f32_to_f16(f) != h) bad++; /* exact values round-trip */
    }
    CHECKF(bad == 0, "%d half values decode or round-trip wrongly", bad);
}

/* reference rounding of a float to half: nearest representable, ties to even, |x| >= 65520
   overflows (IEEE 754 round-to-nearest) */
static unsigned ref_f16(float x) {
    double a = fabs((double)x);
    unsigned sign = signbit(x) ? 0x8000u : 0, lo = 0, hi = 0x7bff;
    if (isnan(x)) return 0x7e00;
    if (a >= 65520.0) return sign | 0x7c00;
    while (hi - lo > 1) { /* largest lo with half_value(lo) <= a */
        unsigned mid = (lo + hi) / 2;
        if (half_value(mid) <= a) lo = mid; else hi = mid;
    }
    if (half_value(hi) <= a) lo = hi;
    if (lo < 0x7bff) {
        double dl = a - half_value(lo), dh = half_value(lo + 1) - a;
        if (dh < dl || (dh == dl && (lo & 1))) lo++;
    } else if (a - 65504.0 >= 16.0) return sign | 0x7c00;
    return sign | lo;
}

void test_f32_to_f16(void) {
    static const float edge[] = {0.0f, -0.0f, 1.0f, -1.0f, 65504.0f, 65519.99f, 65520.0f, 1e10f, -1e10f,
                                 6.103515625e-05f, 6.0975551605224609375e-05f, 5.9604644775390625e-08f,
                                 2.98023223876953125e-08f, 2.98023259404089e-08f, 1e-30f, 0.1f,
                                 0.333333343f, 1.00048828125f, 1.000732421875f, 2049.0f, 2051.0f};
    uint32_t u;
    size_t i;
    int bad = 0, n = 0;
    for (i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        unsigned got = lvs_f32_to_f16(edge[i]), want = ref_f16(edge[i]);
        CHECKF(got == want, "f32_to_f16(%.9g) = 0x%04x, expected 0x%04x", edge[i], got, want);
    }
    for (u = 0; u < 0xff000000u; u += 4093u) { /* ~1M bit patterns across the range */
        float f;
        unsigned got, want;
        memcpy(&f, &u, 4);
        got = lvs_f32_to_f16(f);
        want = ref_f16(f);
        if (isnan(f)) { if ((got & 0x7c00) != 0x7c00 || !(got & 0x3ff)) bad++; }
        else if (got != want) bad++;
#if defined(__FLT16_MAX__) && !defined(__cplusplus)
        if (!isnan(f)) {
            __extension__ _Float16 hw = (__extension__(_Float16)f); /* the compiler's conversion */
            uint16_t hb;
            memcpy(&hb, &hw, 2);
            if (hb != got) bad++;
        }
#endif
        n++;
    }
    CHECKF(bad == 0, "%d of %d float -> half conversions differ from the reference", bad, n);
}

static double bf16_value(uint32_t pattern) { /* exponent 255 continues to 2^128 */
    unsigned e = (pattern >> 23) & 255, m = (pattern >> 16) & 127;
    return e == 0 ? ldexp((double)m, -133) : ldexp(128.0 + m, (int)e - 134);
}

void test_bf16(void) {
    uint32_t u;
    int bad = 0;
    for (u = 0; u < 0xff000000u; u += 997u) {
        float f;
        uint32_t a, lo, hi;
        unsigned got, want;
        double x, dl, dh;
        memcpy(&f, &u, 4);
        if (isnan(f)) {
            got = lvs_f32_to_bf16(f);
            if ((got & 0x7f80) != 0x7f80 || !(got & 0x7f)) bad++;
            continue;
        }
        a = u & 0x7fffffffu;
        x = fabs((double)f);
        lo = a & 0xffff0000u;
        hi = lo + 0x10000u;
        dl = x - bf16_value(lo);
        dh = bf16_value(hi) - x;
        want = ((dh < dl || (dh == dl && ((lo >> 16) & 1))) ? hi : lo) >> 16;
        if (isinf(f)) want = 0x7f80;
        want |= (u >> 16) & 0x8000u;
        got = lvs_f32_to_bf16(f);
        if (got != want) bad++;
        if ((got & 0x7f80) != 0x7f80 &&
            (double)lvs_bf16_to_f32((uint16_t)got) != ((u >> 31) ? -1 : 1) * bf16_value((uint32_t)got << 16))
            bad++;
    }
    CHECKF(bad == 0, "%d float <-> bfloat16 conversions differ from the reference", bad);
}

void test_rng(void) {
    /* from tests/reference/rng_reference.py (an independent Python implementation) */
    static const uint64_t want42[4] = {0x15780b2e0c2ec716ull, 0x6104d9866d113a7eull, 0xae17533239e499a1ull,
                                       0xecb8ad4703b360a1ull};
    static const uint64_t want0[4] = {0x99ec5f36cb75f2b4ull, 0xbf6e1f784956452aull, 0x1a5f849d4933e6e0ull,
                                      0x6aa594f1262d2d2cull};
    lvs_rng r;
    int i;
    double sum = 0, sum2 = 0, umin = 1, umax = 0;
    const int n = 200000;
    lvs_rng_seed(&r, 42);
    for (i = 0; i < 4; i++) CHECK(lvs_rng_next(&r) == want42[i]);
    lvs_rng_seed(&r, 0);
    for (i = 0; i < 4; i++) CHECK(lvs_rng_next(&r) == want0[i]);
    for (i = 0; i < n; i++) {
        double u = lvs_rng_uniform(&r), g = lvs_rng_normal(&r);
        umin = u < umin ? u : umin;
        umax = u > umax ? u : umax;
        sum += g;
        sum2 += g * g;
    }
    CHECK(umin >= 0.0 && umax < 1.0 && umin < 1e-3 && umax > 1 - 1e-3);
    CHECKF(fabs(sum / n) < 0.01, "normal mean %g", sum / n);
    CHECKF(fabs(sum2 / n - 1.0) < 0.02, "normal variance %g", sum2 / n);
}

void test_files(void) {
    char *p = t_path("file.bin"), *e = t_path("empty.bin"), *miss = t_path("missing.bin"), *data = NULL;
    unsigned char buf[3000];
    lvs_file f;
    lvs_error err;
    size_t i, n = 0;
    for (i = 0; i < sizeof buf; i++) buf[i] = (unsigned char)(i * 7 + 3);
    CHECK(t_write(p, buf, sizeof buf) == 0);
    CHECK(t_write(e, "", 0) == 0);
    CHECK_OK(lvs_file_open(&f, p, &err), &err);
    CHECK(f.size == sizeof buf && memcmp(f.data, buf, sizeof buf) == 0);
#ifndef LVS_NO_MMAP
    CHECK(f.mapped == 1);
#endif
    lvs_file_close(&f);
    CHECK_OK(lvs_file_open(&f, e, &err), &err);
    CHECK(f.size == 0 && f.data != NULL);
    lvs_file_close(&f);
    CHECK_ST(lvs_file_open(&f, miss, &err), LVS_ERR_NOT_FOUND);
    CHECK(strstr(err.message, "missing.bin") != NULL);
    CHECK_ST(lvs_file_open(&f, t_tmp(), &err), LVS_ERR_IO);
    CHECK(strstr(err.message, "directory") != NULL);
    CHECK_OK(lvs_read_file(p, &data, &n, &err), &err);
    CHECK(n == sizeof buf && data && memcmp(data, buf, n) == 0 && data[n] == 0);
    lvs_free(data);
    CHECK(lvs_is_dir(t_tmp()) && !lvs_is_file(t_tmp()) && lvs_is_file(p) && !lvs_is_dir(p) && !lvs_is_file(miss));
    free(p);
    free(e);
    free(miss);
}
