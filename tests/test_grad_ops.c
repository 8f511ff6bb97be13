/* Each operation of the backward pass against finite differences of a float64 version of its
   forward pass written here (central differences, step 1e-6): RMSNorm (input and weight),
   RoPE, SwiGLU, causal attention with GQA and a sliding window, cross-entropy; the matrix
   products dx = dy W (f32, f16, bf16, int8 weights, odd sizes) and dW = dy^T x against float64
   sums. Also the whole model: a directional derivative of the loss through lvs_backward's own
   forward pass agrees with the gradient. The kernels are static: this file compiles a private
   copy of the library. */
#define LVS_STATIC
#define LVS_IMPLEMENTATION
#include "test.h"

static double urand(lvs_rng *r) { return 2.0 * lvs_rng_uniform(r) - 1.0; }
static void fill(float *x, int64_t n, lvs_rng *r, double scale) {
    int64_t i;
    for (i = 0; i < n; i++) x[i] = (float)(scale * urand(r));
}
/* max |a - b| / max |b| with b in double */
static double rel_errd(const float *a, const double *b, int64_t n) {
    double num = 0, den = 0;
    int64_t i;
    for (i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= num)) num = e;
        if (fabs(b[i]) > den) den = fabs(b[i]);
    }
    return den > 0 ? num / den : num;
}

/* float64 forward passes; each returns the loss sum(c * y) for fixed cotangents c */
static double rms_d(const double *x, const double *w, int64_t d, double eps, const float *c) {
    double ss = 0, inv, f = 0;
    int64_t i;
    for (i = 0; i < d; i++) ss += x[i] * x[i];
    inv = 1.0 / sqrt(ss / (double)d + eps);
    for (i = 0; i < d; i++) f += c[i] * x[i] * inv * w[i];
    return f;
}
static double rope_d(const double *x, const float *cs, const float *sn, int64_t half, const float *c) {
    double f = 0;
    int64_t i;
    for (i = 0; i < half; i++) {
        f += c[i] * (x[i] * cs[i] - x[i + half] * sn[i]);
        f += c[i + half] * (x[i + half] * cs[i] + x[i] * sn[i]);
    }
    return f;
}
static double swiglu_d(const double *g, const double *u, int64_t n, const float *c) {
    double f = 0;
    int64_t i;
    for (i = 0; i < n; i++) f += c[i] * g[i] / (1.0 + exp(-g[i])) * u[i];
    return f;
}
static double ce_d(const double *z, int rows, int64_t V, const int32_t *tg) {
    double f = 0;
    int r;
    int64_t v;
    for (r = 0; r < rows; r++) {
        double mx = -1e300, s = 0;
        for (v = 0; v < V; v++) mx = z[r * V + v] > mx ? z[r * V + v] : mx;
        for (v = 0; v < V; v++) s += exp(z[r * V + v] - mx);
        f += mx + log(s) - z[r * V + tg[r]];
    }
    return f / rows;
}
typedef struct attn_d { int64_t n, H, KV, hd, wnd; double scale, cap; } attn_d;
static double attn_fd(const attn_d *A, const double *q, const double *k, const double *v, const float *c) {
    int64_t qd = A->H * A->hd, kvd = A->KV * A->hd, i, h, j, e;
    double f = 0, sc[64];
    for (i = 0; i < A->n; i++)
        for (h = 0; h < A->H; h++) {
            int64_t kvh = h / (A->H / A->KV), lo = A->wnd > 0 && i - A->wnd + 1 > 0 ? i - A->wnd + 1 : 0;
            double mx = -1e300, s = 0;
            for (j = lo; j <= i; j++) {
                double dot = 0;
                for (e = 0; e < A->hd; e++) dot += q[i * qd + h * A->hd + e] * k[j * kvd + kvh * A->hd + e];
                sc[j] = dot * A->scale;
                if (A->cap > 0) sc[j] = A->cap * tanh(sc[j] / A->cap);
                mx = sc[j] > mx ? sc[j] : mx;
            }
            for (j = lo; j <= i; j++) { sc[j] = exp(sc[j] - mx); s += sc[j]; }
            for (e = 0; e < A->hd; e++) {
                double o = 0;
                for (j = lo; j <= i; j++) o += sc[j] / s * v[j * kvd + kvh * A->hd + e];
                f += c[i * qd + h * A->hd + e] * o;
            }
        }
    return f;
}

/* LayerNorm: sum_i c_i y_i (biased variance, eps inside the square root) */
static double ln_d(const double *x, const double *w, const double *b, int64_t d, double eps, const float *c) {
    double mu = 0, var = 0, f = 0;
    int64_t i;
    for (i = 0; i < d; i++) mu += x[i] / (double)d;
    for (i = 0; i < d; i++) var += (x[i] - mu) * (x[i] - mu) / (double)d;
    for (i = 0; i < d; i++) f += c[i] * ((x[i] - mu) / sqrt(var + eps) * w[i] + b[i]);
    return f;
}
/* GELU, tanh form, gated or not: sum_i c_i gelu(g_i) u_i (u NULL: sum_i c_i gelu(g_i)) */
static double gelu_d(const double *g, const double *u, int64_t n, const float *c) {
    double f = 0;
    int64_t i;
    for (i = 0; i < n; i++) {
        const double x = g[i], y = 0.5 * x * (1 + tanh(sqrt(2 / 3.141592653589793) * (x + 0.044715 * x * x * x)));
        f += c[i] * y * (u ? u[i] : 1.0);
    }
    return f;
}

/* d f / d x by central differences, x in double */
#define FD_STEP 1e-6
#define FD(out, x, n, expr)                                            \
    do {                                                               \
        int64_t i_;                                                    \
        for (i_ = 0; i_ < (n); i_++) {                                 \
            double x0_ = (x)[i_], fp_, fm_;                            \
            (x)[i_] = x0_ + FD_STEP; fp_ = (expr);                     \
            (x)[i_] = x0_ - FD_STEP; fm_ = (expr);                     \
            (x)[i_] = x0_;                                             \
            (out)[i_] = (fp_ - fm_) / (2 * FD_STEP);                   \
        }                                                              \
    } while (0)

static void to_d(const float *a, double *b, int64_t n) {
    int64_t i;
    for (i = 0; i < n; i++) b[i] = a[i];
}

void test_grad_ops(void) {
    lvs_rng r;
    enum { D = 37, N = 6, H = 4, KV = 2, HD = 8, V = 23 };
    float x[D], w[D], c[D], dx[D], dw[D];
    double xd[D], wd[D], ref[D], e;
    int64_t i;
    lvs_rng_seed(&r, 5);
    /* RMSNorm: input and weight gradients (dx accumulates onto what is there) */
    fill(x, D, &r, 2.0); fill(w, D, &r, 1.0); fill(c, D, &r, 1.0);
    to_d(x, xd, D); to_d(w, wd, D);
    for (i = 0; i < D; i++) { dx[i] = 0.5f; dw[i] = 0; }
    lvs__rmsnorm_back(x, w, D, 0.1, c, dx, 1, dw);
    for (i = 0; i < D; i++) dx[i] -= 0.5f;
    FD(ref, xd, D, rms_d(xd, wd, D, 0.1, c));
    e = rel_errd(dx, ref, D);
    CHECKF(e < 1e-5, "rmsnorm dx: %.3g", e);
    FD(ref, wd, D, rms_d(xd, wd, D, 0.1, c));
    e = rel_errd(dw, ref, D);
    CHECKF(e < 1e-5, "rmsnorm dw: %.3g", e);
    /* RoPE */
    {
        float cs[8], sn[8], g[16];
        double xr[16];
        for (i = 0; i < 8; i++) { double a = 0.7 * (double)(i + 1) * 3.1; cs[i] = (float)cos(a); sn[i] = (float)sin(a); }
        fill(c, 16, &r, 1.0);
        memcpy(g, c, sizeof g);
        lvs__rope_back(g, cs, sn, 8);
        for (i = 0; i < 16; i++) xr[i] = urand(&r);
        FD(ref, xr, 16, rope_d(xr, cs, sn, 8, c));
        e = rel_errd(g, ref, 16);
        CHECKF(e < 1e-6, "rope: %.3g", e);
    }
    /* SwiGLU */
    {
        float g[D], u[D], dg[D], du[D];
        double gd[D], ud[D], r2[D];
        fill(g, D, &r, 4.0); fill(u, D, &r, 2.0); fill(c, D, &r, 1.0);
        to_d(g, gd, D); to_d(u, ud, D);
        lvs__swiglu_back(g, u, c, D, dg, du, 1);
        FD(ref, gd, D, swiglu_d(gd, ud, D, c));
        FD(r2, ud, D, swiglu_d(gd, ud, D, c));
        CHECKF(rel_errd(dg, ref, D) < 1e-5 && rel_errd(du, r2, D) < 1e-5, "swiglu: %.3g %.3g", rel_errd(dg, ref, D),
               rel_errd(du, r2, D));
    }
    /* cross-entropy over 3 rows */
    {
        float z[3 * V], dz[3 * V];
        double zd[3 * V], r3[3 * V], rowloss[3];
        int32_t tg[3] = {4, 0, 22};
        float loss;
        fill(z, 3 * V, &r, 6.0);
        to_d(z, zd, 3 * V);
        loss = lvs__ce_loss(z, 3, V, tg, dz, rowloss, 1);
        CHECK(fabs(loss - ce_d(zd, 3, V, tg)) < 1e-5);
        FD(r3, zd, 3 * V, ce_d(zd, 3, V, tg));
        e = rel_errd(dz, r3, 3 * V);
        CHECKF(e < 1e-5, "cross-entropy: %.3g", e);
    }
    /* LayerNorm: dx (accumulated), dw and db */
    {
        float b[D], db[D];
        double bd[D], r2[D], r3[D];
        fill(x, D, &r, 2.0); fill(w, D, &r, 1.0); fill(b, D, &r, 1.0); fill(c, D, &r, 1.0);
        for (i = 0; i < D; i++) x[i] += 3.0f; /* a mean far from 0 */
        to_d(x, xd, D); to_d(w, wd, D); to_d(b, bd, D);
        for (i = 0; i < D; i++) { dx[i] = 0.25f; dw[i] = 0; db[i] = 0; }
        lvs__layernorm_back(x, w, D, 1e-5, c, dx, 1, dw, db);
        for (i = 0; i < D; i++) dx[i] -= 0.25f;
        FD(ref, xd, D, ln_d(xd, wd, bd, D, 1e-5, c));
        FD(r2, wd, D, ln_d(xd, wd, bd, D, 1e-5, c));
        FD(r3, bd, D, ln_d(xd, wd, bd, D, 1e-5, c));
        CHECKF(rel_errd(dx, ref, D) < 1e-5 && rel_errd(dw, r2, D) < 1e-5 && rel_errd(db, r3, D) < 1e-5,
               "layernorm: dx %.3g dw %.3g db %.3g", rel_errd(dx, ref, D), rel_errd(dw, r2, D), rel_errd(db, r3, D));
    }
    /* GELU (tanh): gated (Gemma-2's GeGLU) and plain (GPT-2's MLP), through lvs__act_back */
    {
        lvs_model fake;
        float g[D], u[D], dg[D], du[D], h[D];
        double gd[D], ud[D], r2[D];
        int gated;
        memset(&fake, 0, sizeof fake);
        fake.gelu = 1;
        fill(g, D, &r, 4.0); fill(u, D, &r, 2.0); fill(c, D, &r, 1.0);
        to_d(g, gd, D); to_d(u, ud, D);
        for (gated = 0; gated < 2; gated++) {
            fake.gated = gated;
            lvs__act_back(&fake, g, gated ? u : g, c, dg, du, D, 1);
            lvs__act_fwd(&fake, g, gated ? u : g, h, D, 1);
            for (i = 0; i < D; i++) r2[i] = (gated ? lvs__gelu(g[i]) * u[i] : lvs__gelu(g[i])) - h[i];
            CHECKF(fabs(gelu_d(gd, gated ? ud : NULL, D, c) - (double)lvs__dot(c, h, D)) < 1e-5, "gelu forward");
            FD(ref, gd, D, gelu_d(gd, gated ? ud : NULL, D, c));
            if (gated) {
                FD(r2, ud, D, gelu_d(gd, ud, D, c));
                CHECKF(rel_errd(dg, ref, D) < 1e-5 && rel_errd(du, r2, D) < 1e-5, "geglu: %.3g %.3g",
                       rel_errd(dg, ref, D), rel_errd(du, r2, D));
            } else CHECKF(rel_errd(du, ref, D) < 1e-5, "gelu: %.3g", rel_errd(du, ref, D));
        }
    }
    /* attention, GQA 4/2, window 3 and none; the last run with Gemma-2's scale and soft-cap. Without
       a window the backward pass runs twice: computing P and dS again in its second pass, and
       reading them as the first pass kept them (the same bits) */
    {
        enum { NA = 21 }; /* rows of 1 to 21 keys: exp's vector body and its tail */
        int wi, kp;
        for (wi = 0; wi < 3; wi++) {
            float q[NA * H * HD], k[NA * KV * HD], v[NA * KV * HD], att[NA * H * HD], lse[NA * H], dO[NA * H * HD];
            float dq[NA * H * HD], dk[NA * KV * HD], dv[NA * KV * HD], ddot[NA * H];
            float dq0[NA * H * HD], dk0[NA * KV * HD], dv0[NA * KV * HD];
            float scores[LVS__ATTN_SCRATCH(NA, H * HD, KV * HD, 1)], kept[2 * H * NA * LVS__N16(NA)];
            double qd[NA * H * HD], kd[NA * KV * HD], vd[NA * KV * HD], rq[NA * H * HD], rk[NA * KV * HD], rv[NA * KV * HD];
            lvs__attn A;
            attn_d Ad;
            fill(q, NA * H * HD, &r, 1.5); fill(k, NA * KV * HD, &r, 1.5); fill(v, NA * KV * HD, &r, 1.0);
            fill(dO, NA * H * HD, &r, 1.0);
            to_d(q, qd, NA * H * HD); to_d(k, kd, NA * KV * HD); to_d(v, vd, NA * KV * HD);
            A.n = NA; A.H = H; A.KV = KV; A.hd = HD; A.wnd = wi == 1 ? 3 : 0; A.q = q; A.k = k; A.v = v; A.att = att; A.lse = lse;
            A.from = 0; A.kept = NULL;
            A.scale = wi == 2 ? 0.3f : (float)(1.0 / sqrt((double)HD));
            A.cap = wi == 2 ? 1.5f : 0.0f;
            Ad.n = NA; Ad.H = H; Ad.KV = KV; Ad.hd = HD; Ad.wnd = A.wnd; Ad.scale = A.scale; Ad.cap = A.cap;
            lvs__attn_fwd(&A, scores, 1);
            FD(rq, qd, NA * H * HD, attn_fd(&Ad, qd, kd, vd, dO));
            FD(rk, kd, NA * KV * HD, attn_fd(&Ad, qd, kd, vd, dO));
            FD(rv, vd, NA * KV * HD, attn_fd(&Ad, qd, kd, vd, dO));
            for (kp = 0; kp < (A.wnd ? 1 : 2); kp++) {
                for (i = 0; i < 2 * H * NA * LVS__N16(NA); i++) kept[i] = NAN; /* every value read must be written */
                A.kept = kp ? kept : NULL;
                lvs__attn_back(&A, dO, dq, dk, dv, ddot, scores, 1);
                CHECKF(rel_errd(dq, rq, NA * H * HD) < 1e-5, "attention dq (run %d%s): %.3g", wi, kp ? ", kept" : "",
                       rel_errd(dq, rq, NA * H * HD));
                CHECKF(rel_errd(dk, rk, NA * KV * HD) < 1e-5, "attention dk (run %d%s): %.3g", wi, kp ? ", kept" : "",
                       rel_errd(dk, rk, NA * KV * HD));
                CHECKF(rel_errd(dv, rv, NA * KV * HD) < 1e-5, "attention dv (run %d%s): %.3g", wi, kp ? ", kept" : "",
                       rel_errd(dv, rv, NA * KV * HD));
                if (kp)
                    CHECKF(!memcmp(dq, dq0, sizeof dq) && !memcmp(dk, dk0, sizeof dk) && !memcmp(dv, dv0, sizeof dv),
                           "attention (run %d): kept P and dS change the gradients' bits", wi);
                memcpy(dq0, dq, sizeof dq); memcpy(dk0, dk, sizeof dk); memcpy(dv0, dv, sizeof dv);
            }
        }
    }
}

/* dx = dy W for every weight type and dW = dy^T x, against float64 sums */
void test_grad_matmul(void) {
    enum { R = 300, C = 70, T = 7, TK = 5 }; /* R > LVS__DX_RB: two row blocks */
    static float wf[R * C], dy[T * R], xx[T * C], dx[T * C], dwm[R * C], db[R];
    static uint16_t wh[R * C];
    static int8_t wq[R * C];
    static float sq[R * 3], pack[LVS__FWD_SCRATCH(T, R, 2) + LVS__DX_SCRATCH(R, 2)], y[T * R];
    static float panels[R * ((C + 15) / 16 * 16)];
    static double refy[T * R];
    static double ref[T * C], wdq[R * C], refw[R * C], refb[R];
    lvs_rng r;
    int ty, k;
    int64_t i, j, t;
    lvs_rng_seed(&r, 9);
    fill(wf, R * C, &r, 0.5); fill(dy, T * R, &r, 1.0); fill(xx, T * C, &r, 1.0);
    for (ty = 0; ty < 4; ty++) {
        lvs__mat W;
        W.type = (lvs_wtype)ty; W.rows = R; W.cols = C; W.s = NULL;
        if (ty == LVS_W_F32) W.w = wf;
        else if (ty == LVS_W_F16 || ty == LVS_W_BF16) {
            for (i = 0; i < R * C; i++) wh[i] = ty == LVS_W_F16 ? lvs_f32_to_f16(wf[i]) : lvs_f32_to_bf16(wf[i]);
            W.w = wh;
        } else {
            for (i = 0; i < R; i++) lvs_q8_quantize_row(wf + i * C, C, wq + i * C, sq + i * 3);
            W.w = wq;
            W.s = sq;
        }
        for (i = 0; i < R; i++)
            for (j = 0; j < C; j++)
                wdq[i * C + j] = ty == LVS_W_F32 ? wf[i * C + j] : ty == LVS_W_F16 ? lvs_f16_to_f32(wh[i * C + j])
                                 : ty == LVS_W_BF16 ? lvs_bf16_to_f32(wh[i * C + j])
                                                    : (double)wq[i * C + j] * sq[i * 3 + j / 32];
        for (t = 0; t < T; t++)
            for (j = 0; j < C; j++) {
                double s = 0;
                for (i = 0; i < R; i++) s += (double)dy[t * R + i] * wdq[i * C + j];
                ref[t * C + j] = s;
            }
        /* 7 rows (packed panels: copied per block, then from W packed once) and 3 (streamed): 1 and
           2 threads, the same bits each way */
        CHECK(lvs__pack_panels(&W, panels, 2));
        for (k = 0; k < 6; k++) {
            static float first[T * C], first7[T * C];
            const int64_t rows_dy = k == 2 || k == 3 ? 3 : T;
            lvs__matmul_dx(&W, dy, R, rows_dy, dx, C, 0, k >= 4 ? panels : NULL, pack, k % 2 + 1, NULL);
            CHECKF(rel_errd(dx, ref, rows_dy * C) < 2e-6, "matmul_dx %s, %d rows%s: %.3g", lvs_wtype_name((lvs_wtype)ty),
                   (int)rows_dy, k >= 4 ? ", W packed once" : "", rel_errd(dx, ref, rows_dy * C));
            if (k == 0) memcpy(first7, dx, sizeof first7);
            if (k % 2 == 0 && k < 4) memcpy(first, dx, sizeof first);
            else CHECK(memcmp(k >= 4 ? first7 : first, dx, sizeof(float) * (size_t)(rows_dy * C)) == 0);
        }
        /* a fused tail of TK more steps (an adapter's A^T u): dx[t][j] += sum_k tu[t][k] P[k][j], P
           packed [panel][TK][16]; 7 rows (panels) and 3 (streamed), 1 and 2 threads */
        for (k = 0; k < 4; k++) {
            static float tu[T * TK], tp[(C + 15) / 16 * TK * 16];
            static double reft[T * C];
            const int64_t rows_dy = k < 2 ? T : 3;
            lvs__tail tl;
            fill(tu, T * TK, &r, 1.0);
            fill(tp, (C + 15) / 16 * TK * 16, &r, 1.0);
            for (t = 0; t < rows_dy; t++)
                for (j = 0; j < C; j++) {
                    reft[t * C + j] = ref[t * C + j];
                    for (i = 0; i < TK; i++) reft[t * C + j] += (double)tu[t * TK + i] * tp[((j / 16) * TK + i) * 16 + j % 16];
                }
            tl.A = tu, tl.lda = TK, tl.B = tp, tl.K = TK;
            lvs__matmul_dx(&W, dy, R, rows_dy, dx, C, 0, k == 0 ? panels : NULL, pack, k % 2 + 1, &tl);
            CHECKF(rel_errd(dx, reft, rows_dy * C) < 2e-6, "matmul_dx %s with a tail, %d rows: %.3g",
                   lvs_wtype_name((lvs_wtype)ty), (int)rows_dy, rel_errd(dx, reft, rows_dy * C));
        }
        /* accumulate: adds to what is there */
        for (i = 0; i < T * C; i++) { dx[i] = 1.0f; ref[i] += 1.0; }
        lvs__matmul_dx(&W, dy, R, T, dx, C, 1, NULL, pack, 1, NULL);
        CHECKF(rel_errd(dx, ref, T * C) < 2e-6, "matmul_dx accumulate %s", lvs_wtype_name((lvs_wtype)ty));
        /* the packed forward product y = x W^T + b */
        for (t = 0; t < T; t++)
            for (i = 0; i < R; i++) {
                double s = 0.25 * (double)i;
                for (j = 0; j < C; j++) s += (double)xx[t * C + j] * wdq[i * C + j];
                refy[t * R + i] = s;
            }
        for (i = 0; i < R; i++) db[i] = 0.25f * (float)i;
        lvs__matmul_fwd(&W, xx, T, y, R, db, pack, 2, NULL);
        CHECKF(rel_errd(y, refy, T * R) < 2e-6, "matmul_fwd %s: %.3g", lvs_wtype_name((lvs_wtype)ty), rel_errd(y, refy, T * R));
        { /* with a tail (an adapter's B (A x)): y[t][i] += sum_k ta[i][k] tv[t][k], tv packed like x */
            static float ta[R * TK], tv[T * TK], tq[(T + 15) / 16 * 16 * TK];
            lvs__tail tl;
            fill(ta, R * TK, &r, 1.0);
            fill(tv, T * TK, &r, 1.0);
            for (t = 0; t < T; t++)
                for (i = 0; i < R; i++)
                    for (j = 0; j < TK; j++) refy[t * R + i] += (double)ta[i * TK + j] * tv[t * TK + j];
            lvs__pack16(tv, T, TK, TK, tq, 1);
            tl.A = ta, tl.lda = TK, tl.B = tq, tl.K = TK;
            lvs__matmul_fwd(&W, xx, T, y, R, db, pack, 2, &tl);
            CHECKF(rel_errd(y, refy, T * R) < 2e-6, "matmul_fwd %s with a tail: %.3g", lvs_wtype_name((lvs_wtype)ty),
                   rel_errd(y, refy, T * R));
        }
    }
    memset(dwm, 0, sizeof dwm);
    memset(db, 0, sizeof db);
    lvs__matmul_dw(dy, R, xx, C, T, R, C, dwm, db, 2);
    for (i = 0; i < R; i++) {
        refb[i] = 0;
        for (t = 0; t < T; t++) refb[i] += dy[t * R + i];
        for (j = 0; j < C; j++) {
            double s = 0;
            for (t = 0; t < T; t++) s += (double)dy[t * R + i] * xx[t * C + j];
            refw[i * C + j] = s;
        }
    }
    CHECKF(rel_errd(dwm, refw, R * C) < 2e-6 && rel_errd(db, refb, R) < 2e-6, "matmul_dw: %.3g, bias %.3g",
           rel_errd(dwm, refw, R * C), rel_errd(db, refb, R));
}

/* The whole model: the derivative of the loss along a random direction of the embedding
   output, by central differences of lvs_backward's own forward pass (f32; step chosen for
   f32), against the gradient's dot product with that direction. */
void test_grad_directional(void) {
    static const char *const models[] = {"llama_gqa", "llama3_rope", "llama_headdim", "mistral_sw", "qwen2_bias",
                                         "qwen2_swa", "llama_sharded", "llama_bf16", "llama_moderate", "qwen2_moderate"};
    size_t mi;
    for (mi = 0; mi < sizeof models / sizeof models[0]; mi++) {
        char p[256];
        lvs_model *m = NULL;
        lvs_tape *t = NULL;
        lvs_error err;
        lvs_backward_req br;
        lvs_rng r;
        int32_t ids[20];
        float *x0, *u, *g, *xp;
        double dir = 0, fd, lp, lm, hstep, xn = 0, un = 0;
        int64_t d, n = 20, i;
        snprintf(p, sizeof p, "tests/fixtures/engine/%s", models[mi]);
        if (lvs_model_open(&m, p, NULL, &err) != LVS_OK) { CHECKF(0, "%s", err.message); continue; }
        d = lvs_model_config(m)->hidden_size;
        lvs_rng_seed(&r, 31 + mi);
        for (i = 0; i < n; i++) ids[i] = (int32_t)(lvs_rng_next(&r) % (uint64_t)lvs_model_config(m)->vocab_size);
        x0 = (float *)malloc(sizeof(float) * (size_t)(n * d));
        u = (float *)malloc(sizeof(float) * (size_t)(n * d));
        g = (float *)malloc(sizeof(float) * (size_t)(n * d));
        xp = (float *)malloc(sizeof(float) * (size_t)(n * d));
        for (i = 0; i < n; i++) lvs__mat_row_f32(&m->embed, ids[i], x0 + i * d);
        for (i = 0; i < n * d; i++) { u[i] = (float)urand(&r); xn += (double)x0[i] * x0[i]; un += (double)u[i] * u[i]; }
        CHECK_OK(lvs_tape_create(&t, m, n, 0, &err), &err);
        memset(&br, 0, sizeof br);
        br.tokens = ids; br.n = (int)n; br.x0 = x0; br.loss_from = 12; br.grad_x0 = g;
        CHECK_OK(lvs_backward(m, t, &br, &err), &err);
        { /* u = a random unit direction plus the unit gradient: no cancellation in g . u */
            double gn = 0;
            for (i = 0; i < n * d; i++) gn += (double)g[i] * g[i];
            gn = sqrt(gn);
            for (i = 0; i < n * d; i++) u[i] = (float)(u[i] / sqrt(un) + g[i] / gn);
            for (un = 0, i = 0; i < n * d; i++) un += (double)u[i] * u[i];
        }
        for (i = 0; i < n * d; i++) dir += (double)g[i] * u[i];
        hstep = 1e-3 * sqrt(xn / un);
        br.x0 = xp;
        br.no_grad = 1;
        for (i = 0; i < n * d; i++) xp[i] = (float)(x0[i] + hstep * u[i]);
        lvs_backward(m, t, &br, &err);
        lp = br.loss;
        for (i = 0; i < n * d; i++) xp[i] = (float)(x0[i] - hstep * u[i]);
        lvs_backward(m, t, &br, &err);
        lm = br.loss;
        fd = (lp - lm) / (2 * hstep);
        printf("  %-15s directional derivative: differences %.6g, gradient %.6g\n", models[mi], fd, dir);
        CHECKF(fabs(fd - dir) <= 1e-2 * fabs(dir), "%s: directional derivative %.6g by differences, %.6g by the "
               "gradient", models[mi], fd, dir);
        free(x0); free(u); free(g); free(xp);
        lvs_tape_free(t);
        lvs_model_close(m);
    }
}

/* float64 LoRA of one projection: sum_t,o c[t][o] scale sum_j B[o][j] sum_e A[j][e] x[t][e] keep[t][e] */
typedef struct lora_d { int64_t n, in, out, r; double scale; const double *keep; const float *c; } lora_d;
static double lora_fd(const lora_d *L, const double *x, const double *A, const double *B) {
    double f = 0;
    int64_t t, o, j, e;
    for (t = 0; t < L->n; t++)
        for (j = 0; j < L->r; j++) {
            double a = 0;
            for (e = 0; e < L->in; e++) a += A[j * L->in + e] * x[t * L->in + e] * L->keep[t * L->in + e];
            for (o = 0; o < L->out; o++) f += L->c[t * L->out + o] * L->scale * B[o * L->r + j] * a;
        }
    return f;
}

/* The adapter of one projection (q, and down), with and without dropout, ranks 3, 8 and 11
   (the vector kernels take the rank eight at a time: a partial group, a whole one, both), 13
   rows (a tile of 12 and one more): the forward product and dx, dA, dB against central
   differences of a float64 version. */
void test_grad_lora(void) {
    enum { N = 13, MAXR = 11, MAXD = 36 };
    static const int ranks[3] = {3, 8, 11};
    lvs_config c;
    int drop, pk, ri;
    memset(&c, 0, sizeof c);
    c.arch = LVS_ARCH_LLAMA;
    c.hidden_size = 20; c.n_heads = 2; c.head_dim = 10; c.n_kv_heads = 1; c.intermediate_size = MAXD; c.n_layers = 2;
    for (ri = 0; ri < 3; ri++)
    for (drop = 0; drop < 2; drop++)
        for (pk = 0; pk < 2; pk++) {
            const int64_t i = 7 + (pk ? 6 : 0), R = ranks[ri]; /* layer 1: q_proj or down_proj */
            const uint64_t seed = 77;
            lvs_lora *lo = NULL;
            lvs_lora_opts o;
            lvs_error err;
            lvs_rng r;
            lora_d L;
            float x[N * MAXD], cy[N * MAXD], y[N * MAXD], dx[N * MAXD], drop_buf[N * MAXD], ax[N * MAXR], u[N * MAXR];
            float work[MAXR * MAXD], y2[N * MAXD], ax2[N * MAXR], ap[(MAXD + 15) / 16 * 16 * MAXR];
            float axq[(N + 15) / 16 * 16 * MAXR];
            static float wzero[MAXD * MAXD], pack[LVS__FWD_SCRATCH(N, MAXD, 1) + LVS__DX_SCRATCH(MAXD, 1)];
            lvs__mat Z;
            lvs__tail tl;
            double xd[N * MAXD], Ad[MAXR * MAXD], Bd[MAXR * MAXD], keep[N * MAXD], rx[N * MAXD], rA[MAXR * MAXD];
            double rB[MAXR * MAXD];
            const float *xin;
            int64_t in, out, t, e, oo, j;
            double worst = 0;
            lvs_lora_opts_default(&o);
            o.rank = (int)R; o.alpha = 5; o.dropout = drop ? 0.3 : 0; o.seed = 3;
            CHECK_OK(lvs_lora_create(&lo, &c, &o, &err), &err);
            if (!lo) return;
            in = lo->in[i % 7]; out = lo->out[i % 7];
            lvs_rng_seed(&r, 100 + drop * 2 + pk);
            fill(lo->A[i], R * in, &r, 0.5);
            fill(lo->B[i], out * R, &r, 0.5);
            fill(x, N * in, &r, 1.0);
            fill(cy, N * out, &r, 1.0);
            to_d(x, xd, N * in); to_d(lo->A[i], Ad, R * in); to_d(lo->B[i], Bd, out * R);
            for (t = 0; t < N; t++)
                for (e = 0; e < in; e++) keep[t * in + e] = drop ? lvs__lora_keep(seed, i, t, e, 0.3) : 1.0;
            L.n = N; L.in = in; L.out = out; L.r = R; L.scale = lo->scale; L.keep = keep; L.c = cy;
            /* forward: y = scale B A (x keep) */
            xin = lvs__lora_in(lo, seed, 1, i, x, N, drop_buf);
            memset(y, 0, sizeof y);
            lvs__lora_fwd(lo, i, xin, N, y, out, ax, work, 1);
            for (t = 0; t < N; t++)
                for (oo = 0; oo < out; oo++) {
                    double want = 0;
                    for (j = 0; j < R; j++) {
                        double a = 0;
                        for (e = 0; e < in; e++) a += Ad[j * in + e] * xd[t * in + e] * keep[t * in + e];
                        want += lo->scale * Bd[oo * R + j] * a;
                    }
                    worst = fabs(y[t * out + oo] - want) > worst ? fabs(y[t * out + oo] - want) : worst;
                }
            CHECKF(worst < 1e-5, "lora forward (rank %d, dropout %d, projection %d): %.3g", (int)R, drop, (int)(i % 7), worst);
            /* the same, fused into a product with W = 0 (the backward pass's forward) */
            Z.type = LVS_W_F32; Z.rows = out; Z.cols = in; Z.w = wzero; Z.s = NULL;
            lvs__matmul_fwd(&Z, x, N, y2, out, NULL, pack, 1, lvs__lora_tail(lo, i, xin, N, 0, ax2, work, axq, &tl, 1));
            CHECK(memcmp(ax, ax2, sizeof(float) * (size_t)(N * R)) == 0);
            worst = 0;
            for (t = 0; t < N * out; t++) worst = fabsf(y2[t] - y[t]) > worst ? fabsf(y2[t] - y[t]) : worst;
            CHECKF(worst < 1e-5, "lora forward in the product (rank %d, dropout %d): %.3g", (int)R, drop, worst);
            /* backward: u and A's panels, the input-gradient product with W = 0 (the adapter its tail,
               or after it with dropout), the gradients */
            lvs_lora_zero_grad(lo);
            {
                const lvs__tail *tp = lvs__lora_pre(lo, i, cy, out, N, 0, u, ap, 1, &tl, 1);
                CHECK((tp == NULL) == (drop != 0));
                lvs__matmul_dx(&Z, cy, out, N, dx, in, 0, NULL, pack, 1, tp);
            }
            lvs__lora_post(lo, lo, i, xin, cy, out, N, dx, ax, u, work, seed, 1, 1);
            FD(rx, xd, N * in, lora_fd(&L, xd, Ad, Bd));
            FD(rA, Ad, R * in, lora_fd(&L, xd, Ad, Bd));
            FD(rB, Bd, out * R, lora_fd(&L, xd, Ad, Bd));
            CHECKF(rel_errd(dx, rx, N * in) < 1e-5, "lora dx (dropout %d): %.3g", drop, rel_errd(dx, rx, N * in));
            CHECKF(rel_errd(lo->gA[i], rA, R * in) < 1e-5, "lora dA (dropout %d): %.3g", drop,
                   rel_errd(lo->gA[i], rA, R * in));
            CHECKF(rel_errd(lo->gB[i], rB, out * R) < 1e-5, "lora dB (dropout %d): %.3g", drop,
                   rel_errd(lo->gB[i], rB, out * R));
            if (drop) { /* about 30% of the inputs are dropped, the rest scaled by 1 / 0.7 */
                int zeros = 0;
                for (t = 0; t < N * in; t++) zeros += keep[t] == 0.0;
                CHECKF(zeros > N * in / 6 && zeros < N * in / 2, "%d of %d dropped", zeros, (int)(N * in));
            }
            lvs_lora_free(lo);
        }
}
