/* The toy world: rows and splits, the tokenizer, the committed models' behaviour, training
   determinism, the CLI; and the injected gradients of lvs_backward that its dissociated
   model needs. */
#include "test.h"

#define TOY_DIR "toy"

/* ---- lvs_backward_req.inject: the gradient of <g, h_l(x)> by finite differences */

static const char inject_cfg[] =
    "{\"architectures\":[\"LlamaForCausalLM\"],\"hidden_size\":32,\"intermediate_size\":48,\"num_hidden_layers\":3,"
    "\"num_attention_heads\":4,\"num_key_value_heads\":2,\"vocab_size\":50,\"max_position_embeddings\":64,"
    "\"tie_word_embeddings\":false}";

static float zero_loss(void *user, const float *logits, int n_rows, int64_t vocab, float *dl) {
    (void)user; (void)logits;
    memset(dl, 0, sizeof(float) * (size_t)((int64_t)n_rows * vocab));
    return 0.0f;
}

/* <g, h_layer(x0)> in double: the block output captured during a no-grad pass from x0 */
static double inject_objective(const lvs_model *m, lvs_tape *t, const int32_t *ids, int n, const float *x0, int layer,
                               const float *g, int d) {
    lvs_backward_req r;
    lvs_hook hk;
    lvs_act_buf ab;
    lvs_error err;
    float *h = (float *)calloc((size_t)(n * d), sizeof(float));
    double f = 0;
    int i;
    ab.buf = h; ab.cap_pos = n; ab.d = d; ab.have = NULL;
    hk.site = LVS_SITE_RESID_POST; hk.layer = layer; hk.fn = lvs_hook_capture; hk.user = &ab;
    memset(&r, 0, sizeof r);
    r.tokens = ids; r.n = n; r.x0 = x0; r.hooks = &hk; r.n_hooks = 1;
    r.loss_fn = zero_loss; r.logits_from = n - 1; r.no_grad = 1;
    CHECK_OK(lvs_backward(m, t, &r, &err), &err);
    for (i = 0; i < n * d; i++) f += (double)g[i] * h[i];
    free(h);
    return f;
}

void test_backward_inject(void) {
    char *dir = t_path("inject-model");
    t_model tm;
    lvs_model *m = NULL;
    lvs_model_opts mo;
    lvs_tape *t = NULL;
    lvs_error err;
    enum { N = 9, D = 32 };
    int32_t ids[N] = {3, 17, 4, 40, 8, 21, 9, 33, 2};
    float x0[N * D], g[N * D], u[N * D], xp[N * D], grad[N * D], g_ce[N * D], g_both[N * D];
    lvs_grad_site inj, site;
    lvs_backward_req r;
    lvs_rng rng;
    int i, layer;
    memset(&tm, 0, sizeof tm);
    tm.config = inject_cfg; tm.dtype = LVS_F32; tm.scale = 0.3; tm.seed = 5;
    CHECK(t_make_model(dir, &tm) == 0);
    lvs_model_opts_default(&mo);
    mo.n_threads = 1;
    CHECK_OK(lvs_model_open(&m, dir, &mo, &err), &err);
    if (!m) { free(dir); return; }
    CHECK_OK(lvs_tape_create(&t, m, 32, 0, &err), &err);
    lvs_rng_seed(&rng, 11);
    for (i = 0; i < N * D; i++) {
        x0[i] = (float)(0.5 * lvs_rng_normal(&rng));
        g[i] = (float)lvs_rng_normal(&rng);
        u[i] = (float)lvs_rng_normal(&rng);
    }
    for (layer = 0; layer < 3; layer++) {
        double fp, fm, fd, an = 0, h = 1e-2;
        t_sub_begin("inject at blocks.%d.resid_post", layer);
        inj.site = LVS_SITE_RESID_POST; inj.layer = layer; inj.grad = g;
        site.site = LVS_SITE_EMBED; site.layer = -1; site.grad = grad;
        memset(&r, 0, sizeof r);
        r.tokens = ids; r.n = N; r.x0 = x0; r.loss_fn = zero_loss; r.logits_from = N - 1;
        r.sites = &site; r.n_sites = 1; r.inject = &inj; r.n_inject = 1;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        for (i = 0; i < N * D; i++) an += (double)grad[i] * u[i];
        for (i = 0; i < N * D; i++) xp[i] = x0[i] + (float)h * u[i];
        fp = inject_objective(m, t, ids, N, xp, layer, g, D);
        for (i = 0; i < N * D; i++) xp[i] = x0[i] - (float)h * u[i];
        fm = inject_objective(m, t, ids, N, xp, layer, g, D);
        fd = (fp - fm) / (2 * h);
        printf("  inject at block %d: directional derivative %.6f, finite difference %.6f\n", layer, an, fd);
        CHECKF(fabs(an - fd) <= 2e-3 * (fabs(fd) + 1), "layer %d: %g vs %g", layer, an, fd);
        /* with a cross-entropy loss, the injected gradient adds to the loss's: linearity */
        r.loss_fn = NULL; r.loss_from = 4; r.inject = NULL; r.n_inject = 0; site.grad = g_ce;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        r.inject = &inj; r.n_inject = 1; r.loss_weight = 1.0f; site.grad = g_both;
        CHECK_OK(lvs_backward(m, t, &r, &err), &err);
        {
            double worst = 0, scale = 0;
            for (i = 0; i < N * D; i++) {
                double e = fabs((double)g_both[i] - g_ce[i] - grad[i]);
                worst = e > worst ? e : worst;
                scale = fabs(grad[i]) > scale ? fabs(grad[i]) : scale;
            }
            CHECKF(worst <= 1e-5 * (scale + 1), "layer %d: not additive (%g)", layer, worst);
        }
        t_sub_end();
    }
    /* only resid_post sites at or after start_layer */
    memset(&r, 0, sizeof r);
    r.tokens = ids; r.n = N; r.loss_from = 4; r.inject = &inj; r.n_inject = 1;
    inj.site = LVS_SITE_MLP_OUT; inj.layer = 1;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
    inj.site = LVS_SITE_RESID_POST; inj.layer = 3;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
    inj.layer = 0; r.start_layer = 1; r.x0 = x0;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
    inj.grad = NULL; r.start_layer = 0; r.x0 = NULL;
    CHECK_ST(lvs_backward(m, t, &r, &err), LVS_ERR_ARG);
    lvs_tape_free(t);
    lvs_model_close(m);
    free(dir);
}
