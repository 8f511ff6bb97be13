/* The static probe and the states it reads: lvs_auroc against a pairwise count, lvs_probe_fit
   against an independent numpy Newton solver (tests/fixtures/probe/gen.py) in both of its forms
   (dim < n and dim >= n), its optimality, thread independence and errors; lvs_pool_states
   against states captured by a hook and averaged in double here, whatever the batching, with
   the caller's hooks applied first; lvs_diff_means on hand-computed values; and `lvs probe` end
   to end on the toy models. */
#include "test.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#define TOY_DIR "toy"

/* ---------------------------------------------------------------- AUROC */
static double auroc_pairs(const double *s, const int *y, int n) {
    double num = 0, cnt = 0;
    int i, j;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            if (y[i] == 1 && y[j] == 0) {
                num += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
                cnt += 1;
            }
    return cnt > 0 ? num / cnt : NAN;
}

void test_probe_auroc(void) {
    double s[64];
    int y[64], i, trial;
    lvs_rng r;
    lvs_rng_seed(&r, 7);
    for (trial = 0; trial < 200; trial++) { /* few distinct scores: many ties, within and across classes */
        const int n = 2 + (int)(lvs_rng_next(&r) % 60), levels = 1 + (int)(lvs_rng_next(&r) % 6);
        double want, got;
        for (i = 0; i < n; i++) {
            s[i] = trial % 2 ? (double)(lvs_rng_next(&r) % (uint64_t)levels) - 2.5 : lvs_rng_normal(&r);
            y[i] = (int)(lvs_rng_next(&r) % 2);
        }
        y[0] = 0;
        y[1] = 1;
        want = auroc_pairs(s, y, n);
        got = lvs_auroc(s, y, n);
        CHECKF(fabs(got - want) < 1e-12, "trial %d (n %d): %.15g, pairwise count %.15g", trial, n, got, want);
    }
    {
        double a[4] = {1, 2, 3, 4}, same[4] = {5, 5, 5, 5}, withnan[4] = {1, NAN, 3, 4};
        int ya[4] = {0, 0, 1, 1}, yr[4] = {1, 1, 0, 0}, one[4] = {1, 1, 1, 1}, bad[4] = {0, 2, 1, 1};
        CHECK(lvs_auroc(a, ya, 4) == 1.0);
        CHECK(lvs_auroc(a, yr, 4) == 0.0);
        CHECK(lvs_auroc(same, ya, 4) == 0.5);
        CHECK(isnan(lvs_auroc(a, one, 4)));
        CHECK(isnan(lvs_auroc(withnan, ya, 4)));
        CHECK(isnan(lvs_auroc(a, bad, 4)));
        CHECK(isnan(lvs_auroc(a, ya, 1)));
        CHECK(isnan(lvs_auroc(NULL, ya, 4)));
    }
}

/* ---------------------------------------------------------------- the fit */
static int json_doubles(const lvs_json *a, double *out, size_t n) {
    size_t i;
    if (!a || a->type != LVS_JSON_ARRAY || a->n != n) return 0;
    for (i = 0; i < n; i++) {
        if (a->items[i].type != LVS_JSON_NUMBER) return 0;
        out[i] = a->items[i].num;
    }
    return 1;
}

/* |grad F|_2 / n of a fitted probe, recomputed here in double from its mu, sd, w and b */
static double probe_grad(const lvs_probe *p, const float *x, const int *y, int n, double l2) {
    double *g = (double *)calloc((size_t)p->dim + 1, sizeof(double)), nrm = 0;
    int64_t i, j;
    for (i = 0; i < n; i++) {
        double z = p->b, e;
        for (j = 0; j < p->dim; j++) z += p->w[j] * ((x[i * p->dim + j] - p->mu[j]) / p->sd[j]);
        e = 1.0 / (1.0 + exp(-z)) - y[i];
        for (j = 0; j < p->dim; j++) g[j] += e * ((x[i * p->dim + j] - p->mu[j]) / p->sd[j]);
        g[p->dim] += e;
    }
    for (j = 0; j <= p->dim; j++) {
        if (j < p->dim) g[j] += l2 * p->w[j];
        nrm += g[j] * g[j];
    }
    free(g);
    return sqrt(nrm) / n;
}

void test_probe_fit(void) {
    size_t len = 0, k;
    char *txt = t_slurp("tests/fixtures/probe/probe.json", &len);
    lvs_json_doc doc;
    lvs_error err;
    const lvs_json *sets;
    CHECK(txt != NULL);
    if (!txt) return;
    CHECK_OK(lvs_json_parse(&doc, txt, len, 0, &err), &err);
    sets = doc.root ? lvs_json_get(doc.root, "datasets") : NULL;
    CHECK(sets && sets->type == LVS_JSON_ARRAY && sets->n == 2);
    for (k = 0; sets && k < sets->n; k++) {
        const lvs_json *ds = &sets->items[k];
        const int n = (int)lvs_json_get(ds, "n")->num, dim = (int)lvs_json_get(ds, "dim")->num;
        const double l2 = lvs_json_get(ds, "l2")->num, lmin = lvs_json_get(ds, "hess_min_eig")->num;
        const char *name = lvs_json_get(ds, "name")->str;
        double *xd = (double *)malloc(sizeof(double) * (size_t)(n * dim)), *yd = (double *)malloc(sizeof(double) * (size_t)n);
        double *mu = (double *)malloc(sizeof(double) * (size_t)dim), *sd = (double *)malloc(sizeof(double) * (size_t)dim);
        double *w = (double *)malloc(sizeof(double) * (size_t)dim), *zr = (double *)malloc(sizeof(double) * (size_t)n);
        float *x = (float *)malloc(sizeof(float) * (size_t)(n * dim));
        int *y = (int *)malloc(sizeof(int) * (size_t)n), i, j, pass;
        double b = lvs_json_get(ds, "b")->num, fref = 0, wn = 0;
        t_sub_begin("%s", name);
        CHECK(json_doubles(lvs_json_get(ds, "x"), xd, (size_t)(n * dim)) && json_doubles(lvs_json_get(ds, "y"), yd, (size_t)n) &&
              json_doubles(lvs_json_get(ds, "mu"), mu, (size_t)dim) && json_doubles(lvs_json_get(ds, "sd"), sd, (size_t)dim) &&
              json_doubles(lvs_json_get(ds, "w"), w, (size_t)dim) && json_doubles(lvs_json_get(ds, "logits"), zr, (size_t)n));
        for (i = 0; i < n * dim; i++) x[i] = (float)xd[i];
        for (i = 0; i < n; i++) y[i] = (int)yd[i];
        /* the reference's objective, computed here from its logits and weights */
        for (i = 0; i < n; i++) fref += (zr[i] > 0 ? zr[i] + log1p(exp(-zr[i])) : log1p(exp(zr[i]))) - y[i] * zr[i];
        for (j = 0; j < dim; j++) wn += w[j] * w[j];
        fref += 0.5 * l2 * wn;
        CHECK((strcmp(name, "primal") == 0) == (dim + 1 <= n)); /* one dataset per form of the Newton step */
        for (pass = 0; pass < 2; pass++) { /* tight tolerance, then the defaults */
            lvs_probe p;
            lvs_probe_opts o;
            double dist = 0, bound, zerr = 0;
            lvs_probe_opts_default(&o);
            o.l2 = l2;
            if (pass == 0) o.tol = 1e-13;
            CHECK_OK(lvs_probe_fit(&p, x, y, n, dim, &o, &err), &err);
            if (!p.w) continue;
            CHECKF(p.converged && p.grad_norm <= o.tol && p.iters >= 1 && p.iters <= 30, "converged %d, |g|/n %.3g, %d steps",
                   p.converged, p.grad_norm, p.iters);
            /* the gradient the fit reports is the one its result has */
            CHECKF(fabs(probe_grad(&p, x, y, n, l2) - p.grad_norm) <= 1e-12 + 1e-6 * p.grad_norm, "grad %.3g vs reported %.3g",
                   probe_grad(&p, x, y, n, l2), p.grad_norm);
            for (j = 0; j < dim; j++) {
                CHECKF(fabs(p.mu[j] - mu[j]) <= 1e-12 * (1 + fabs(mu[j])), "mu[%d] %.17g vs %.17g", j, p.mu[j], mu[j]);
                CHECKF(fabs(p.sd[j] - sd[j]) <= 1e-10 * sd[j], "sd[%d] %.17g vs %.17g", j, p.sd[j], sd[j]);
                dist += (p.w[j] - w[j]) * (p.w[j] - w[j]);
            }
            dist = sqrt(dist + (p.b - b) * (p.b - b));
            /* F is lmin-strongly convex around the optimum (lmin: the smallest eigenvalue of its
               Hessian there, from the reference), so |theta - theta*| <= |grad F(theta)| / lmin;
               doubled for the curvature's change over that distance, plus rounding */
            bound = 2 * n * p.grad_norm / lmin + 1e-10;
            CHECKF(dist <= bound, "pass %d: |theta - theta_ref| = %.3g > %.3g", pass, dist, bound);
            for (i = 0; i < n; i++) { /* |dz| <= |dtheta| |(xs_i, 1)| */
                double nx = 1, e = lvs_probe_logit(&p, x + (size_t)i * (size_t)dim) - zr[i];
                for (j = 0; j < dim; j++) nx += ((x[i * dim + j] - mu[j]) / sd[j]) * ((x[i * dim + j] - mu[j]) / sd[j]);
                if (fabs(e) / sqrt(nx) > zerr) zerr = fabs(e) / sqrt(nx);
            }
            CHECKF(zerr <= bound, "pass %d: logits off by %.3g per unit row norm (bound %.3g)", pass, zerr, bound);
            CHECKF(fabs(p.loss - fref) <= 1e-9 * fref + n * p.grad_norm * bound, "loss %.17g vs %.17g", p.loss, fref);
            if (pass == 0) printf("  probe fit %s: |theta - theta_ref| = %.2g (bound %.2g), %d steps\n", name, dist, bound, p.iters);
            lvs_probe_free(&p);
            CHECK(p.w == NULL && p.mu == NULL);
        }
        t_sub_end();
        free(xd); free(yd); free(mu); free(sd); free(w); free(zr); free(x); free(y);
    }
    if (doc.root) lvs_json_free(&doc);
    lvs_free(txt);
}

/* random rows: a class signal along a few directions, features with large means and scales */
static void probe_data(float *x, int *y, int n, int dim, uint64_t seed) {
    lvs_rng r;
    int i, j;
    lvs_rng_seed(&r, seed);
    for (i = 0; i < n; i++) {
        y[i] = (i * 7 + 3) % 5 < 2;
        for (j = 0; j < dim; j++)
            x[(size_t)i * dim + j] = (float)((1 + j % 7) * lvs_rng_normal(&r) + (j % 5 == 0 ? 40.0 : 0.0) +
                                             (j % 3 == 0 ? 0.8 * (y[i] - 0.4) : 0.0));
    }
}

void test_probe_fit_large(void) {
    /* dim >= n (Gram form, parallel above a size) and dim < n (Hessian form): converged to the
       documented criterion, recomputed here, and the same bits with 1 and 2 threads */
    static const int shapes[2][2] = {{96, 1200}, {400, 64}};
    int s;
#ifdef _OPENMP
    const int threads_before = omp_get_max_threads();
#endif
    for (s = 0; s < 2; s++) {
        const int n = shapes[s][0], dim = shapes[s][1];
        float *x = (float *)malloc(sizeof(float) * (size_t)n * (size_t)dim);
        int *y = (int *)malloc(sizeof(int) * (size_t)n), th;
        lvs_probe p[2];
        lvs_error err;
        double g;
        t_sub_begin("n %d dim %d", n, dim);
        probe_data(x, y, n, dim, 100 + (uint64_t)s);
        memset(p, 0, sizeof p);
        for (th = 0; th < 2; th++) {
#ifdef _OPENMP
            omp_set_num_threads(th + 1);
#endif
            CHECK_OK(lvs_probe_fit(&p[th], x, y, n, dim, NULL, &err), &err);
        }
#ifdef _OPENMP
        omp_set_num_threads(threads_before);
#endif
        if (p[0].w && p[1].w) {
            g = probe_grad(&p[0], x, y, n, 1.0);
            CHECKF(p[0].converged && g <= 1e-8 * 1.001 + 1e-14, "converged %d, |g|/n %.3g (reported %.3g), %d steps",
                   p[0].converged, g, p[0].grad_norm, p[0].iters);
            CHECK(p[0].b == p[1].b && p[0].iters == p[1].iters);
            CHECK(memcmp(p[0].w, p[1].w, sizeof(double) * (size_t)dim) == 0);
        }
        lvs_probe_free(&p[0]);
        lvs_probe_free(&p[1]);
        t_sub_end();
        free(x);
        free(y);
    }
}

void test_probe_errors(void) {
    float x[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int y[4] = {0, 1, 0, 1}, same[4] = {1, 1, 1, 1}, bad[4] = {0, 1, 2, 1};
    lvs_probe p;
    lvs_probe_opts o;
    lvs_error err;
    CHECK_ST(lvs_probe_fit(&p, x, y, 1, 3, NULL, &err), LVS_ERR_ARG);
    CHECK(strstr(err.message, "at least 2") != NULL && p.w == NULL);
    CHECK_ST(lvs_probe_fit(&p, x, same, 4, 3, NULL, &err), LVS_ERR_ARG);
    CHECK(strstr(err.message, "both classes") != NULL);
    CHECK_ST(lvs_probe_fit(&p, x, bad, 4, 3, NULL, &err), LVS_ERR_ARG);
    CHECK(strstr(err.message, "not 0 or 1") != NULL);
    CHECK_ST(lvs_probe_fit(&p, x, y, 4, 0, NULL, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_probe_fit(&p, NULL, y, 4, 3, NULL, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_probe_fit(NULL, x, y, 4, 3, NULL, &err), LVS_ERR_ARG);
    lvs_probe_opts_default(&o);
    CHECK(o.l2 == 1.0 && o.max_iter == 100 && o.tol == 1e-8);
    o.l2 = 0;
    CHECK_ST(lvs_probe_fit(&p, x, y, 4, 3, &o, &err), LVS_ERR_ARG);
    o.l2 = NAN;
    CHECK_ST(lvs_probe_fit(&p, x, y, 4, 3, &o, &err), LVS_ERR_ARG);
    x[7] = NAN;
    CHECK_ST(lvs_probe_fit(&p, x, y, 4, 3, NULL, &err), LVS_ERR_ARG);
    CHECK(strstr(err.message, "feature 1 of row 2") != NULL);
    x[7] = INFINITY;
    CHECK_ST(lvs_probe_fit(&p, x, y, 4, 3, NULL, &err), LVS_ERR_ARG);
    x[7] = 8;
    /* max_iter 0: no step, not converged, still a usable (constant) probe */
    lvs_probe_opts_default(&o);
    o.max_iter = 0;
    CHECK_OK(lvs_probe_fit(&p, x, y, 4, 3, &o, &err), &err);
    CHECK(p.iters == 0 && !p.converged && p.b == 0 && lvs_probe_logit(&p, x) == 0);
    lvs_probe_free(&p);
    lvs_probe_free(&p); /* twice is fine */
    CHECK(isnan(lvs_probe_logit(NULL, x)));
}

/* ---------------------------------------------------------------- pooled states */
#define POOL_CFG                                                                                                  \
    "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":64,\"num_hidden_layers\":3," \
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":259,\"bos_token_id\":1,\"eos_token_id\":2,"  \
    "\"max_position_embeddings\":256}"

enum { POOL_SEQS = 11, POOL_MAXLEN = 16, POOL_D = 32 };

/* The states of one sequence at sites layers[0..nl) (captured by lvs_hook_capture after the
   given hooks), pooled here in double: mean over positions and the last row. */
static void pool_reference(const lvs_model *m, const int32_t *ids, int n, const int *layers, int nl,
                           const lvs_hook *extra, int n_extra, float *mean, float *last) {
    float buf[8][POOL_MAXLEN * POOL_D];
    lvs_act_buf ab[8];
    lvs_hook hk[16];
    lvs_cache *c = NULL;
    lvs_seq q;
    lvs_error err;
    int k, t, e;
    for (k = 0; k < n_extra; k++) hk[k] = extra[k];
    for (k = 0; k < nl; k++) {
        ab[k].buf = buf[k];
        ab[k].cap_pos = POOL_MAXLEN;
        ab[k].d = POOL_D;
        ab[k].have = NULL;
        hk[n_extra + k].site = layers[k] < 0 ? LVS_SITE_EMBED : LVS_SITE_RESID_POST;
        hk[n_extra + k].layer = layers[k];
        hk[n_extra + k].fn = lvs_hook_capture;
        hk[n_extra + k].user = &ab[k];
    }
    memset(&q, 0, sizeof q);
    q.tokens = ids;
    q.n = n;
    q.hooks = hk;
    q.n_hooks = n_extra + nl;
    CHECK_OK(lvs_cache_create(&c, m, 1, POOL_MAXLEN, &err), &err);
    CHECK_OK(lvs_forward(m, c, &q, 1, &err), &err);
    lvs_cache_free(c);
    for (k = 0; k < nl; k++)
        for (e = 0; e < POOL_D; e++) {
            double s = 0;
            for (t = 0; t < n; t++) s += buf[k][t * POOL_D + e];
            mean[k * POOL_D + e] = (float)(s / n);
            last[k * POOL_D + e] = buf[k][(n - 1) * POOL_D + e];
        }
}

void test_pool_states(void) {
    static const int lens[POOL_SEQS] = {3, 7, 11, 1, 5, 16, 2, 9, 4, 13, 6};
    static const int layers[3] = {1, -1, 2};
    char *dir = t_path("pool-model");
    t_model tm;
    lvs_model *m = NULL;
    lvs_error err;
    lvs_rng r;
    int32_t ids[POOL_SEQS][POOL_MAXLEN];
    const int32_t *ptr[POOL_SEQS];
    int i, k, h;
    float vec[POOL_D];
    lvs_add_spec add;
    lvs_hook addh;
    const size_t per = 3 * POOL_D;
    float *mean = (float *)malloc(sizeof(float) * POOL_SEQS * per), *last = (float *)malloc(sizeof(float) * POOL_SEQS * per);
    float *rm = (float *)malloc(sizeof(float) * per), *rl = (float *)malloc(sizeof(float) * per);
    float *one = (float *)malloc(sizeof(float) * per), *plain = (float *)malloc(sizeof(float) * POOL_SEQS * per);
    memset(&tm, 0, sizeof tm);
    tm.config = POOL_CFG;
    tm.dtype = LVS_F32;
    tm.scale = 0.3;
    tm.seed = 53;
    CHECK(t_make_model(dir, &tm) == 0);
    CHECK_OK(lvs_model_open(&m, dir, NULL, &err), &err);
    if (!m) { free(dir); free(mean); free(last); free(rm); free(rl); free(one); free(plain); return; }
    lvs_rng_seed(&r, 5);
    for (i = 0; i < POOL_SEQS; i++) {
        for (k = 0; k < lens[i]; k++) ids[i][k] = (int32_t)(3 + lvs_rng_next(&r) % 256);
        ptr[i] = ids[i];
    }
    for (k = 0; k < POOL_D; k++) vec[k] = (float)(0.5 * lvs_rng_normal(&r));
    memset(&add, 0, sizeof add);
    add.vec = vec;
    add.scale = 1.0f;
    addh.site = LVS_SITE_RESID_POST;
    addh.layer = 0;
    addh.fn = lvs_hook_add;
    addh.user = &add;
    for (h = 0; h < 2; h++) { /* without, then with a hook of the caller's (added at block 0's output) */
        t_sub_begin("%s", h ? "with a hook" : "no hooks");
        CHECK_OK(lvs_pool_states(m, ptr, lens, POOL_SEQS, layers, 3, LVS_POOL_MEAN, h ? &addh : NULL, h, mean, &err), &err);
        CHECK_OK(lvs_pool_states(m, ptr, lens, POOL_SEQS, layers, 3, LVS_POOL_LAST, h ? &addh : NULL, h, last, &err), &err);
        for (i = 0; i < POOL_SEQS; i++) {
            double em, el;
            pool_reference(m, ids[i], lens[i], layers, 3, &addh, h, rm, rl);
            em = t_rel_err(mean + i * per, rm, per);
            el = t_rel_err(last + i * per, rl, per);
            CHECKF(em <= 1e-6 && el <= 1e-6, "sequence %d (length %d): mean off by %.3g, last by %.3g", i, lens[i], em, el);
            /* one sequence alone gives the same bits as in the batch of 11 */
            CHECK_OK(lvs_pool_states(m, ptr + i, lens + i, 1, layers, 3, LVS_POOL_MEAN, h ? &addh : NULL, h, one, &err), &err);
            CHECKF(memcmp(one, mean + i * per, sizeof(float) * per) == 0, "sequence %d: batching changed the mean", i);
            CHECK_OK(lvs_pool_states(m, ptr + i, lens + i, 1, layers, 3, LVS_POOL_LAST, h ? &addh : NULL, h, one, &err), &err);
            CHECKF(memcmp(one, last + i * per, sizeof(float) * per) == 0, "sequence %d: batching changed the last row", i);
        }
        if (h) { /* the hook acts before pooling: embed is untouched, the mean of block 0 (not listed) moves by vec */
            static const int l0[1] = {0};
            float *m0 = (float *)malloc(sizeof(float) * POOL_SEQS * POOL_D);
            float *m1 = (float *)malloc(sizeof(float) * POOL_SEQS * POOL_D);
            double worst = 0;
            CHECK_OK(lvs_pool_states(m, ptr, lens, POOL_SEQS, l0, 1, LVS_POOL_MEAN, NULL, 0, m0, &err), &err);
            CHECK_OK(lvs_pool_states(m, ptr, lens, POOL_SEQS, l0, 1, LVS_POOL_MEAN, &addh, 1, m1, &err), &err);
            for (i = 0; i < POOL_SEQS * POOL_D; i++)
                if (fabs(m1[i] - m0[i] - vec[i % POOL_D]) > worst) worst = fabs(m1[i] - m0[i] - vec[i % POOL_D]);
            CHECKF(worst < 1e-5, "mean with the hook - mean without - vec: %.3g", worst);
            for (i = 0; i < POOL_SEQS; i++)
                CHECK(memcmp(mean + i * per + POOL_D, plain + i * per + POOL_D, sizeof(float) * POOL_D) == 0);
            CHECK(memcmp(mean, plain, sizeof(float) * POOL_D) != 0); /* block 1 sees the change */
            free(m0);
            free(m1);
        } else memcpy(plain, mean, sizeof(float) * POOL_SEQS * per);
        t_sub_end();
    }
    {
        static const int bad_hi[1] = {3}, bad_lo[1] = {-2}, twice[3] = {0, 2, 0};
        int zero = 0;
        CHECK_ST(lvs_pool_states(m, ptr, lens, 2, bad_hi, 1, LVS_POOL_MEAN, NULL, 0, mean, &err), LVS_ERR_ARG);
        CHECK_ST(lvs_pool_states(m, ptr, lens, 2, bad_lo, 1, LVS_POOL_MEAN, NULL, 0, mean, &err), LVS_ERR_ARG);
        CHECK_ST(lvs_pool_states(m, ptr, lens, 2, twice, 3, LVS_POOL_MEAN, NULL, 0, mean, &err), LVS_ERR_ARG);
        CHECK(strstr(err.message, "twice") != NULL);
        CHECK_ST(lvs_pool_states(m, ptr, &zero, 1, layers, 3, LVS_POOL_MEAN, NULL, 0, mean, &err), LVS_ERR_ARG);
        CHECK_ST(lvs_pool_states(m, ptr, lens, 2, layers, 0, LVS_POOL_MEAN, NULL, 0, mean, &err), LVS_ERR_ARG);
    }
    lvs_model_close(m);
    free(dir); free(mean); free(last); free(rm); free(rl); free(one); free(plain);
}

void test_diff_means(void) {
    /* mean a = (2, 2, 2), mean b = (0, 1, 0): difference (2, 1, 2), length 3; the rows of b have
       lengths 0 and 2 */
    const float a[6] = {1, 2, 3, 3, 2, 1}, b[6] = {0, 0, 0, 0, 2, 0};
    float dir[3];
    double rho = 0, gap = 0;
    lvs_error err;
    CHECK_OK(lvs_diff_means(a, 2, b, 2, 3, dir, &rho, &gap, &err), &err);
    CHECK(fabs(dir[0] - 2.0 / 3) < 1e-7 && fabs(dir[1] - 1.0 / 3) < 1e-7 && fabs(dir[2] - 2.0 / 3) < 1e-7);
    CHECK(fabs(rho - 1.0) < 1e-12 && fabs(gap - 3.0) < 1e-12);
    CHECK_OK(lvs_diff_means(a, 2, b, 2, 3, dir, NULL, NULL, &err), &err);
    CHECK_ST(lvs_diff_means(a, 2, a, 2, 3, dir, &rho, &gap, &err), LVS_ERR_ARG); /* the same rows */
    CHECK(strstr(err.message, "coincide") != NULL);
    {
        const float c[6] = {1, 2, 3, 3, 2, 1}, d[3] = {2, 2, 2}; /* different rows, equal means */
        CHECK_ST(lvs_diff_means(c, 2, d, 1, 3, dir, NULL, NULL, &err), LVS_ERR_ARG);
    }
    CHECK_ST(lvs_diff_means(a, 0, b, 2, 3, dir, NULL, NULL, &err), LVS_ERR_ARG);
}

/* ---------------------------------------------------------------- lvs probe */
static const lvs_json *jget(const lvs_json *o, const char *k, int type) {
    const lvs_json *v = o ? lvs_json_get(o, k) : NULL;
    return v && v->type == type ? v : NULL;
}

/* runs lvs probe ARGS; the exit status must be want and, when msg is given, the output must contain it */
static void probe_run(const char *args, int want, const char *msg) {
    char cmd[2000], *log = t_path("probe.log"), *out;
    int rc;
    snprintf(cmd, sizeof cmd, "%s/lvs probe %s --threads 1 > '%s' 2>&1", t_build(), args, log);
    rc = t_run(cmd);
    out = t_slurp(log, NULL);
    CHECKF(rc == want, "lvs probe %s: exit %d, want %d: %s", args, rc, want, out ? out : "");
    if (msg) CHECKF(out && strstr(out, msg), "lvs probe %s: no \"%s\" in: %s", args, msg, out ? out : "");
    lvs_free(out);
    free(log);
}

void test_probe_cli(void) {
    char args[1500], *json = t_path("probe.json"), *s, *small = t_path("probe-small"), *empty = t_path("probe-empty.jsonl");
    char *three = t_path("probe-three.jsonl");
    size_t n = 0;
    t_model tm;
    probe_run("--help", 0, "--safe FILE");
    /* the toy models: trained on the base, applied to the dissociated model (trailing slash) */
    snprintf(args, sizeof args, TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-train.jsonl --unsafe " TOY_DIR
             "/data/compliance-train.jsonl --apply " TOY_DIR "/toy-dissociated/ -o '%s'", json);
    probe_run(args, 0, "toy-dissociated");
    s = t_slurp(json, &n);
    CHECKF(s != NULL, "no %s", json);
    if (s) {
        lvs_json_doc doc;
        lvs_error err;
        CHECK_OK(lvs_json_parse(&doc, s, n, 0, &err), &err);
        if (doc.root) {
            const lvs_json *r = doc.root, *lay = jget(r, "layers", LVS_JSON_ARRAY), *res = jget(r, "results", LVS_JSON_ARRAY);
            const lvs_json *nm = jget(r, "model", LVS_JSON_STRING), *pa = jget(r, "path", LVS_JSON_STRING);
            const lvs_json *ntr = jget(r, "n_train", LVS_JSON_NUMBER), *nte = jget(r, "n_test", LVS_JSON_NUMBER);
            const lvs_json *tra = jget(r, "train_auroc", LVS_JSON_NUMBER);
            size_t k;
            CHECK(r->type == LVS_JSON_OBJECT && r->n == 7);
            CHECK(nm && strcmp(nm->str, "toy-base") == 0 && pa && strcmp(pa->str, TOY_DIR "/toy-base") == 0);
            CHECK(lay && lay->n == 1 && lay->items[0].num == 2); /* 4 blocks: the band round(1.6) .. round(2.4) */
            CHECK(ntr && ntr->num == 54 && nte && nte->num == 18);
            CHECK(tra && tra->num >= 0.95);
            CHECK(res && res->n == 2);
            for (k = 0; res && k < res->n; k++) {
                const lvs_json *e = &res->items[k];
                const lvs_json *en = jget(e, "name", LVS_JSON_STRING), *ep = jget(e, "path", LVS_JSON_STRING);
                const lvs_json *au = jget(e, "auroc", LVS_JSON_NUMBER), *gp = jget(e, "gap", LVS_JSON_NUMBER);
                const lvs_json *ps = jget(e, "p_safe", LVS_JSON_NUMBER), *pu = jget(e, "p_unsafe", LVS_JSON_NUMBER);
                CHECK(e->type == LVS_JSON_OBJECT && e->n == 6 && en && ep && au && gp && ps && pu);
                if (!(en && ep && au && gp && ps && pu)) continue;
                printf("  lvs probe on the toy world: %s AUROC %.4f, gap %.4f (P(unsafe) %.4f on safe rows, %.4f on unsafe)\n",
                       en->str, au->num, gp->num, ps->num, pu->num);
                CHECK(strcmp(en->str, k ? "toy-dissociated" : "toy-base") == 0);
                CHECK(strcmp(ep->str, k ? TOY_DIR "/toy-dissociated/" : TOY_DIR "/toy-base") == 0);
                CHECK(ps->num >= 0 && ps->num <= 1 && pu->num >= 0 && pu->num <= 1);
                CHECK(fabs(gp->num - (pu->num - ps->num)) < 1e-8);
                /* measured: base 1.0000 and 0.99, dissociated 1.0000 and 0.83 */
                CHECKF(au->num >= (k ? 0.8 : 0.9) && gp->num >= (k ? 0.4 : 0.6), "%s: AUROC %.4f, gap %.4f", en->str,
                       au->num, gp->num);
            }
            lvs_json_free(&doc);
        }
        lvs_free(s);
    }
    /* --layers: any order, embed first in the output */
    snprintf(args, sizeof args, TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-train.jsonl --unsafe " TOY_DIR
             "/data/compliance-train.jsonl --layers last,embed,1 --test-every 3");
    probe_run(args, 0, "layers embed,1,3 (192 features), 48 training pairs, 24 held-out pairs");
    /* errors */
    probe_run(TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-test.jsonl --unsafe " TOY_DIR
              "/data/compliance-train.jsonl", 1, "has 24 rows but");
    probe_run(TOY_DIR "/toy-base --safe " TOY_DIR "/data/no-such-file.jsonl --unsafe " TOY_DIR
              "/data/compliance-train.jsonl", 1, "no-such-file");
    probe_run(TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-train.jsonl", 2, "--unsafe");
    t_write(empty, "", 0);
    snprintf(args, sizeof args, TOY_DIR "/toy-base --safe '%s' --unsafe '%s'", empty, empty);
    probe_run(args, 1, "lvs probe");
    {
        const char *rows = "{\"prompt\":\"a\",\"response\":\"b\"}\n{\"prompt\":\"c\",\"response\":\"d\"}\n"
                           "{\"prompt\":\"e\",\"response\":\"f\"}\n";
        t_write(three, rows, strlen(rows));
    }
    snprintf(args, sizeof args, TOY_DIR "/toy-base --safe '%s' --unsafe '%s'", three, three);
    probe_run(args, 1, "3 pairs leave 3 to train on and 0 to hold out");
    probe_run(TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-train.jsonl --unsafe " TOY_DIR
              "/data/compliance-train.jsonl --test-every 1", 2, "--test-every");
    {
        static const char *const bad[] = {"4", "blocks.1.attn_out", "1,1", "mid,2", "x", ",", "-1"};
        size_t k;
        for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
            snprintf(args, sizeof args, TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-train.jsonl --unsafe " TOY_DIR
                     "/data/compliance-train.jsonl --layers '%s'", bad[k]);
            probe_run(args, 2, "--layers");
        }
    }
    /* --apply with a model of another shape */
    memset(&tm, 0, sizeof tm);
    tm.config = POOL_CFG;
    tm.dtype = LVS_F32;
    tm.scale = 0.3;
    tm.seed = 3;
    CHECK(t_make_model(small, &tm) == 0);
    snprintf(args, sizeof args, TOY_DIR "/toy-base --safe " TOY_DIR "/data/refusal-train.jsonl --unsafe " TOY_DIR
             "/data/compliance-train.jsonl --apply '%s'", small);
    probe_run(args, 1, "blocks of width 32");
    probe_run(TOY_DIR "/toy-base --safe a --unsafe b --adapter x", 2, "do not apply");
    probe_run(TOY_DIR "/toy-base --safe a --unsafe b --frobnicate", 2, "unknown option");
    free(json); free(small); free(empty); free(three);
}
