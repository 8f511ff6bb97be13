/* The audit report writers (lvs_report_render, lvs report): the text table's rows and
   columns, the Markdown table's shape, the HTML page's structure, the SVG plots' pixel
   coordinates recomputed here from the documented axis mapping, nulls, escaping, malformed
   input, the locale, and the CLI. */
#define _POSIX_C_SOURCE 200809L
#include "test.h"
#include <locale.h>

/* Two models with known numbers. Sites over both profiles: embed, 0, 1, 2, 3, 5 (6 sites). The
   largest LVS value drawn (medians and interval ends) is 0.62, so the LVS axis is [0, 0.8]. */
static const char two_models[] =
    "{\"lvs_report\":1,\"lvs_version\":\"0.1.0\",\"prompts\":\"p.jsonl\",\"n_prompts\":24,\"benign\":\"b.jsonl\","
    "\"n_benign\":32,\"unknown_top\":[1,{\"x\":null}],"
    "\"settings\":{\"lvs_budget\":0.001,\"tau\":0.8,\"ft_steps\":60,\"future_key\":{\"x\":[1,2]}},"
    "\"models\":["
    "{\"name\":\"base\",\"path\":\"m/base\",\"n_layers\":4,\"mid_layer\":2,\"clean_refusal\":0.97,\"clean_asr\":0.13,"
    "\"benign_over_refusal\":0.06,\"probe_auroc\":null,\"probe_gap\":0.41,\"lvs_mid\":0.08,\"lvs_mid_ci\":[0.03,0.15],"
    "\"lvs_mid_mean\":0.11,\"pgd_asr_mid\":0.48,\"random_asr_mid\":0.02,\"steer_door\":0.1,\"steer_door_layer\":3,"
    "\"steer_door_random\":0.01,\"an_unknown_field\":{\"deep\":[[1]]},"
    "\"steering\":[{\"site\":1,\"fracs\":[0,0.06,0.24],\"compliance\":[0,0.5,0.9],\"random\":[0,0,0]},"
    "{\"site\":3,\"fracs\":[0.24,0,0.06,0.12],\"compliance\":[0.3,0,0.1,0.2],\"random\":[0.05,0,null,0]}],"
    "\"onset_steps\":25,"
    "\"finetune_curve\":[{\"step\":0,\"compliance\":0},{\"step\":20,\"compliance\":0.5},{\"step\":25,\"compliance\":0.85},"
    "{\"step\":60,\"compliance\":1}],"
    "\"lvs_profile\":[{\"site\":0,\"median\":0.1,\"ci_lo\":0.05,\"ci_hi\":0.2,\"mean\":0.12,\"asr\":0},"
    "{\"site\":\"embed\",\"median\":0.3,\"ci_lo\":0.2,\"ci_hi\":0.45,\"mean\":0.3,\"asr\":0.01},"
    "{\"site\":2,\"median\":0.08,\"ci_lo\":0.03,\"ci_hi\":0.15,\"mean\":0.11,\"asr\":0.48},"
    "{\"site\":3,\"median\":null,\"ci_lo\":null,\"ci_hi\":null,\"mean\":null,\"asr\":null},"
    "{\"site\":1,\"median\":0.05,\"ci_lo\":0.01,\"ci_hi\":0.09,\"mean\":0.06,\"asr\":0.1}]},"
    "{\"name\":\"dissoc\",\"n_layers\":4,\"mid_layer\":2,\"clean_refusal\":0.95,\"clean_asr\":0.05,"
    "\"benign_over_refusal\":0.09,\"probe_auroc\":0.93,\"probe_gap\":0.38,\"lvs_mid\":0.22,\"lvs_mid_ci\":[0.12,0.31],"
    "\"lvs_mid_mean\":0.25,\"pgd_asr_mid\":0.82,\"random_asr_mid\":0.04,\"steer_door\":0.9,\"steer_door_layer\":\"embed\","
    "\"steer_door_random\":0.03,"
    "\"steering\":[{\"site\":\"embed\",\"fracs\":[0,0.06,0.24],\"compliance\":[0,0.9,1],\"random\":null}],"
    "\"onset_steps\":null,"
    "\"finetune_curve\":[{\"step\":0,\"compliance\":0},{\"step\":30,\"compliance\":0.6},{\"step\":60,\"compliance\":0.7}],"
    "\"lvs_profile\":[{\"site\":\"embed\",\"median\":0.4,\"ci_lo\":0.3,\"ci_hi\":0.62,\"mean\":0.4,\"asr\":0},"
    "{\"site\":2,\"median\":0.22,\"ci_lo\":0.12,\"ci_hi\":0.31,\"mean\":0.25,\"asr\":0.82},"
    "{\"site\":5,\"median\":0.1,\"ci_lo\":null,\"ci_hi\":0.2,\"mean\":0.1,\"asr\":0.5}]}"
    "]}";

static char *render(const char *json, lvs_report_kind kind) {
    char *out = NULL;
    size_t n = 0;
    lvs_error err;
    CHECK_OK(lvs_report_render(json, strlen(json), kind, &out, &n, &err), &err);
    if (out) CHECKF(strlen(out) == n, "out_len %lu, strlen %lu", (unsigned long)n, (unsigned long)strlen(out));
    return out;
}
static int count(const char *s, const char *what) {
    int n = 0;
    size_t w = strlen(what);
    while (s && (s = strstr(s, what)) != NULL) { n++; s += w; }
    return n;
}
/* the line of s that starts with prefix (a copy, NUL-terminated), or NULL */
static char *line_starting(const char *s, const char *prefix) {
    const char *p = s;
    size_t n = strlen(prefix);
    while (p && *p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= n && memcmp(p, prefix, n) == 0) {
            char *l = (char *)malloc(len + 1);
            memcpy(l, p, len);
            l[len] = 0;
            return l;
        }
        p = e ? e + 1 : NULL;
    }
    return NULL;
}

/* ---- text: each value in its row, right-aligned under its model's name */
static void check_text_row(const char *text, const char *label, const char *v1, const char *v2, size_t end1,
                           size_t end2) {
    char *l = line_starting(text, label);
    const char *p1, *p2;
    CHECKF(l != NULL, "no row \"%s\" in:\n%s", label, text);
    if (!l) return;
    p1 = strstr(l + strlen(label), v1);
    p2 = p1 ? strstr(p1 + strlen(v1), v2) : NULL;
    CHECKF(p1 && p2, "row \"%s\": expected %s then %s, got: %s", label, v1, v2, l);
    if (p1 && p2) {
        CHECKF((size_t)(p1 - l) + strlen(v1) == end1 && (size_t)(p2 - l) + strlen(v2) == end2 && l[end2] == 0,
               "row \"%s\": values not under their columns (ends %lu, %lu): %s", label, (unsigned long)end1,
               (unsigned long)end2, l);
    }
    free(l);
}

void test_report_text(void) {
    char *t = render(two_models, LVS_REPORT_TEXT), *head;
    const char *a, *b;
    size_t end1 = 0, end2 = 0;
    if (!t) return;
    head = line_starting(t, "Measure");
    CHECKF(head != NULL, "no header row:\n%s", t);
    if (!head) { lvs_free(t); return; }
    a = strstr(head, " base");
    b = strstr(head, " dissoc");
    CHECKF(a && b && a < b, "header: %s", head);
    if (a && b) {
        end1 = (size_t)(a - head) + 5;
        end2 = (size_t)(b - head) + 7;
        CHECK(head[end2] == 0);
    }
    check_text_row(t, "Blocks (middle block)", "4 (2)", "4 (2)", end1, end2);
    check_text_row(t, "Static direct-harm ASR", "0.13", "0.05", end1, end2);
    check_text_row(t, "Clean refusal rate", "0.97", "0.95", end1, end2);
    check_text_row(t, "Benign over-refusal", "0.06", "0.09", end1, end2);
    check_text_row(t, "Probe AUROC", "-", "0.93", end1, end2);
    check_text_row(t, "Probe gap", "0.41", "0.38", end1, end2);
    check_text_row(t, "PGD ASR, middle block", "0.48", "0.82", end1, end2);
    check_text_row(t, "Random-control ASR, middle block", "0.02", "0.04", end1, end2);
    check_text_row(t, "LVS, middle block, p = 0.001: median [95% CI]", "0.080 [0.030, 0.150]", "0.220 [0.120, 0.310]",
                   end1, end2);
    check_text_row(t, "LVS, middle block, p = 0.001: mean", "0.110", "0.250", end1, end2);
    check_text_row(t, "Steering door (its block)", "0.10 (block 3)", "0.90 (embed)", end1, end2);
    check_text_row(t, "Steering, random direction", "0.01", "0.03", end1, end2);
    check_text_row(t, "Fine-tuning onset t_0.8 (steps)", "25", "> 60", end1, end2); /* null + a curve: > ft_steps */
    CHECKF(strstr(t, "24 harmful prompts, 32 benign prompts"), "%s", t);
    CHECK(!strstr(t, "nan") && !strstr(t, "inf"));
    free(head);
    lvs_free(t);
}

/* ---- Markdown: the audit-gap table has a header, an alignment row and 13 measures, each with
   a label and one cell per model; unescaped | separate the cells */
static int md_pipes(const char *line) {
    int n = 0;
    const char *p;
    for (p = line; *p; p++) {
        if (*p == '\\' && p[1]) { p++; continue; }
        n += *p == '|';
    }
    return n;
}
static void check_md_table(const char *md, int n_models) {
    const char *sec = strstr(md, "## The audit gap\n\n"), *p;
    int rows = 0;
    CHECKF(sec != NULL, "no audit-gap section:\n%s", md);
    if (!sec) return;
    p = sec + strlen("## The audit gap\n\n");
    while (*p == '|') {
        const char *e = strchr(p, '\n');
        char line[2048];
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len >= sizeof line) len = sizeof line - 1;
        memcpy(line, p, len);
        line[len] = 0;
        CHECKF(md_pipes(line) == n_models + 2, "row %d has %d cells: %s", rows, md_pipes(line) - 1, line);
        if (rows == 1) CHECKF(strncmp(line, "|---|---:|", 10) == 0, "alignment row: %s", line);
        rows++;
        p = e ? e + 1 : p + len;
    }
    CHECKF(rows == 2 + 13, "the table has %d lines", rows);
}

void test_report_md(void) {
    char *md = render(two_models, LVS_REPORT_MD);
    if (!md) return;
    CHECK(strncmp(md, "# LVS audit report\n", 19) == 0);
    check_md_table(md, 2);
    CHECKF(strstr(md, "| Static direct-harm ASR | 0.13 | 0.05 |"), "%s", md);
    CHECK(strstr(md, "| Fine-tuning onset t\\_0.8 (steps) | 25 | &gt; 60 |"));
    CHECK(strstr(md, "| LVS, middle block, p = 0.001: median \\[95% CI\\] | 0.080 \\[0.030, 0.150\\] | "
                     "0.220 \\[0.120, 0.310\\] |"));
    /* inputs and settings, unknown settings shown as they are */
    CHECK(strstr(md, "| harmful prompts | p.jsonl (24) |"));
    CHECK(strstr(md, "| future\\_key | {x: \\[1, 2\\]} |"));
    /* the profile of base, sorted by site, the null site shown as - */
    CHECKF(strstr(md, "### base (4 blocks, middle block 2)\n\n| site | median | 95% CI | mean | ASR |\n"
                      "|---|---:|---:|---:|---:|\n| embed | 0.300 | [0.200, 0.450] | 0.300 | 0.01 |\n"
                      "| 0 | 0.100 | [0.050, 0.200] | 0.120 | 0.00 |\n| 1 | 0.050 | [0.010, 0.090] | 0.060 | 0.10 |\n"
                      "| 2 | 0.080 | [0.030, 0.150] | 0.110 | 0.48 |\n| 3 | - | - | - | - |\n"),
           "%s", md);
    /* the fine-tuning table: the union of the steps; - where a model has no evaluation */
    CHECK(strstr(md, "| step | base | dissoc |\n|---:|---:|---:|\n| 0 | 0.00 | 0.00 |\n| 20 | 0.50 | - |\n"
                     "| 25 | 0.85 | - |\n| 30 | - | 0.60 |\n| 60 | 1.00 | 0.70 |\n| onset | 25 | &gt; 60 |\n"));
    /* steering at the door layer (base: block 3, sorted by frac), and the controls */
    CHECKF(strstr(md, "| model (door layer) | frac 0 | frac 0.06 | frac 0.12 | frac 0.24 |\n"
                      "|---|---:|---:|---:|---:|\n| base (block 3) | 0.00 | 0.10 | 0.20 | 0.30 |\n"
                      "| base (block 3), random direction | 0.00 | - | 0.00 | 0.05 |\n"
                      "| dissoc (embed) | 0.00 | 0.90 | - | 1.00 |\n"
                      "| dissoc (embed), random direction | - | - | - | - |\n"),
           "%s", md);
    CHECK(strstr(md, "## How to read this report\n"));
    CHECK(!strstr(md, "nan") && !strstr(md, "inf"));
    lvs_free(md);
}

/* ---- HTML */
/* the numbers of attribute points="..." of the first element that starts with head */
static int svg_points(const char *html, const char *head, double *xy, int cap) {
    const char *p = strstr(html, head), *end, *q;
    int n = 0;
    if (!p) return -1;
    end = strchr(p, '>');
    q = strstr(p, " points=\"");
    if (!q || !end || q > end) return -1;
    q += 9;
    while (*q != '"' && n < cap) {
        char *e;
        xy[n++] = strtod(q, &e);
        if (e == q) return -1;
        q = e;
        if (*q == ',' || *q == ' ') q++;
    }
    return n;
}
/* Documented mapping (lvs.h, REPORTS): plot rectangle left 72, top 24, width 500, height 300;
   numeric x -> 72 + (x - lo) / (hi - lo) * 500; y -> 24 + 300 - (y - lo) / (hi - lo) * 300;
   site i of n -> 72 + (i + 0.5) * 500 / n. Coordinates have 2 decimals. */
static double map_x(double x, double lo, double hi) { return 72 + (x - lo) / (hi - lo) * 500; }
static double map_y(double y, double lo, double hi) { return 24 + 300 - (y - lo) / (hi - lo) * 300; }
static double map_site(int i, int n) { return 72 + (i + 0.5) * 500 / n; }
static void check_points(const char *html, const char *head, const double *want, int n_want) {
    double got[64];
    int n = svg_points(html, head, got, 64), i, bad = -1;
    CHECKF(n == n_want, "%s: %d numbers, expected %d", head, n, n_want);
    if (n != n_want) return;
    for (i = 0; i < n; i++)
        if (fabs(got[i] - want[i]) > 0.0051) { bad = i; break; }
    CHECKF(bad < 0, "%s: number %d is %.4f, expected %.4f", head, bad, bad >= 0 ? got[bad] : 0, bad >= 0 ? want[bad] : 0);
}

void test_report_html(void) {
    char *h = render(two_models, LVS_REPORT_HTML);
    double w[32];
    int k;
    if (!h) return;
    CHECK(strncmp(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">", 60) == 0);
    CHECK(count(h, "<html") == 1 && count(h, "</html>") == 1 && count(h, "<body>") == 1 && count(h, "</body>") == 1);
    CHECK(count(h, "<title>LVS audit report</title>") == 1);
    /* exactly three plots, each with a title, balanced tags, no scripts, nothing fetched */
    CHECKF(count(h, "<svg") == 3 && count(h, "</svg>") == 3, "%d <svg, %d </svg>", count(h, "<svg"), count(h, "</svg>"));
    CHECK(count(h, "<title id=\"plot-lvs-t\">LVS across depth</title>") == 1);
    CHECK(count(h, "<title id=\"plot-ft-t\">Compliance during harmful fine-tuning</title>") == 1);
    CHECK(count(h, "<title id=\"plot-steer-t\">Steering</title>") == 1);
    CHECK(count(h, "<table") == count(h, "</table>") && count(h, "<tr>") == count(h, "</tr>"));
    CHECK(count(h, "<figure>") == 3 && count(h, "</figure>") == 3);
    CHECK(count(h, "<text") == count(h, "</text>") && count(h, "<g ") == count(h, "</g>"));
    CHECK(!strstr(h, "http") && !strstr(h, "<script") && !strstr(h, "src=") && !strstr(h, "url(") &&
          !strstr(h, "@import") && !strstr(h, "<link"));
    CHECK(!strstr(h, "nan") && !strstr(h, "inf"));
    /* the table: a header cell per model and 13 measures */
    CHECK(strstr(h, "<th scope=\"col\">Measure</th><th scope=\"col\">base</th><th scope=\"col\">dissoc</th>"));
    CHECK(count(h, "<th scope=\"row\">") == 13 + 2 + 4); /* measures, 2 inputs, 4 settings */
    CHECK(strstr(h, "<th scope=\"row\">Fine-tuning onset t_0.8 (steps)</th><td>25</td><td>&gt; 60</td></tr>"));

    /* (1) LVS: 6 sites (embed 0 1 2 3 5), y axis [0, 0.8] (nice(0.62) = 0.8, 4 intervals) */
    CHECK(strstr(h, "text-anchor=\"end\">0.8</text>") && strstr(h, "text-anchor=\"end\">0.6</text>"));
    {
        static const int si[4] = {0, 1, 2, 3};
        static const double v[4] = {0.3, 0.1, 0.05, 0.08}; /* site 3 is null: no point */
        for (k = 0; k < 4; k++) { w[2 * k] = map_site(si[k], 6); w[2 * k + 1] = map_y(v[k], 0, 0.8); }
        check_points(h, "<polyline class=\"lvs-median\" data-model=\"base\"", w, 8);
    }
    {
        static const int si[3] = {0, 3, 5};
        static const double v[3] = {0.4, 0.22, 0.1};
        for (k = 0; k < 3; k++) { w[2 * k] = map_site(si[k], 6); w[2 * k + 1] = map_y(v[k], 0, 0.8); }
        check_points(h, "<polyline class=\"lvs-median\" data-model=\"dissoc\"", w, 6);
    }
    { /* the band of dissoc: sites with both ends (embed, 2): hi left to right, lo right to left */
        static const int si[4] = {0, 3, 3, 0};
        static const double v[4] = {0.62, 0.31, 0.12, 0.3};
        for (k = 0; k < 4; k++) { w[2 * k] = map_site(si[k], 6); w[2 * k + 1] = map_y(v[k], 0, 0.8); }
        check_points(h, "<polygon class=\"lvs-ci\" data-model=\"dissoc\"", w, 8);
    }
    CHECK(count(h, "class=\"lvs-point\"") == 7);
    CHECK(count(h, "class=\"mid-marker\"") == 1); /* both models: block 2 */
    {
        char want[128];
        snprintf(want, sizeof want, "<line class=\"mid-marker\" x1=\"%.2f\"", map_site(3, 6));
        CHECKF(strstr(h, want), "no %s", want);
    }

    /* (2) fine-tuning: x [0, 60] (nice(60) = 60, 6 intervals), y [0, 1] */
    {
        static const double st[4] = {0, 20, 25, 60}, c[4] = {0, 0.5, 0.85, 1};
        for (k = 0; k < 4; k++) { w[2 * k] = map_x(st[k], 0, 60); w[2 * k + 1] = map_y(c[k], 0, 1); }
        check_points(h, "<polyline class=\"ft-curve\" data-model=\"base\"", w, 8);
    }
    {
        char want[160];
        snprintf(want, sizeof want, "<line class=\"tau\" x1=\"72.00\" y1=\"%.2f\" x2=\"572.00\"", map_y(0.8, 0, 1));
        CHECKF(strstr(h, want), "no %s", want);
        snprintf(want, sizeof want, "<circle class=\"onset-point\" data-model=\"base\" cx=\"%.2f\" cy=\"%.2f\"",
                 map_x(25, 0, 60), map_y(0.8, 0, 1));
        CHECKF(strstr(h, want), "no %s", want);
        CHECK(!strstr(h, "class=\"onset-point\" data-model=\"dissoc\"")); /* never reached */
    }
    CHECK(strstr(h, "text-anchor=\"middle\">60</text>") && strstr(h, "text-anchor=\"middle\">50</text>"));

    /* (3) steering at the door layer: x [0, 0.25] (nice(0.24) = 0.25, 5 intervals) */
    {
        static const double fr[4] = {0, 0.06, 0.12, 0.24}, c[4] = {0, 0.1, 0.2, 0.3};
        for (k = 0; k < 4; k++) { w[2 * k] = map_x(fr[k], 0, 0.25); w[2 * k + 1] = map_y(c[k], 0, 1); }
        check_points(h, "<polyline class=\"steer-door\" data-model=\"base\"", w, 8);
    }
    {
        static const double fr[3] = {0, 0.12, 0.24}, c[3] = {0, 0, 0.05}; /* the null at 0.06 is skipped */
        for (k = 0; k < 3; k++) { w[2 * k] = map_x(fr[k], 0, 0.25); w[2 * k + 1] = map_y(c[k], 0, 1); }
        check_points(h, "<polyline class=\"steer-random\" data-model=\"base\"", w, 6);
    }
    {
        static const double fr[3] = {0, 0.06, 0.24}, c[3] = {0, 0.9, 1};
        for (k = 0; k < 3; k++) { w[2 * k] = map_x(fr[k], 0, 0.25); w[2 * k + 1] = map_y(c[k], 0, 1); }
        check_points(h, "<polyline class=\"steer-door\" data-model=\"dissoc\"", w, 6);
    }
    CHECK(!strstr(h, "class=\"steer-random\" data-model=\"dissoc\"")); /* random: null */
    CHECK(strstr(h, "text-anchor=\"middle\">0.25</text>") && strstr(h, "text-anchor=\"middle\">0.05</text>"));
    /* legends name each model in each plot */
    CHECK(count(h, "<g class=\"legend\" data-model=\"base\">") == 3 &&
          count(h, "<g class=\"legend\" data-model=\"dissoc\">") == 3);
    lvs_free(h);
}

/* ---- nulls everywhere, and models with nothing but a name */
void test_report_nulls(void) {
    static const char js[] =
        "{\"models\":[{\"name\":\"nulls\",\"n_layers\":null,\"mid_layer\":null,\"clean_refusal\":null,"
        "\"clean_asr\":null,\"benign_over_refusal\":null,\"probe_auroc\":null,\"probe_gap\":null,\"lvs_mid\":null,"
        "\"lvs_mid_ci\":null,\"lvs_mid_mean\":null,\"pgd_asr_mid\":null,\"random_asr_mid\":null,\"steer_door\":null,"
        "\"steer_door_layer\":null,\"steer_door_random\":null,\"steering\":null,\"onset_steps\":null,"
        "\"finetune_curve\":[],\"lvs_profile\":[{\"site\":\"embed\",\"median\":null,\"ci_lo\":null,\"ci_hi\":null,"
        "\"mean\":null,\"asr\":null}]},{\"name\":\"bare\"}],\"settings\":null}";
    static const char zeros[] =
        "{\"models\":[{\"name\":\"z\",\"lvs_mid\":0,\"lvs_mid_ci\":[0,0],\"mid_layer\":1,"
        "\"lvs_profile\":[{\"site\":\"embed\",\"median\":0,\"ci_lo\":0,\"ci_hi\":0},{\"site\":0,\"median\":0,"
        "\"ci_lo\":0,\"ci_hi\":0},{\"site\":1,\"median\":0,\"ci_lo\":0,\"ci_hi\":0}],"
        "\"finetune_curve\":[{\"step\":0,\"compliance\":0},{\"step\":5,\"compliance\":null},{\"step\":10,\"compliance\":0}],"
        "\"steer_door_layer\":1,\"steering\":[{\"site\":1,\"fracs\":[0,0.5],\"compliance\":[null,null]}]}]}";
    char *t = render(js, LVS_REPORT_TEXT), *md = render(js, LVS_REPORT_MD), *h = render(js, LVS_REPORT_HTML), *l;
    double w[8];
    int k;
    if (t) {
        static const char *const labels[4] = {"Static direct-harm ASR", "Probe AUROC", "Steering door (its block)",
                                               "Fine-tuning onset (steps)"}; /* no tau: no t_tau */
        for (k = 0; k < 4; k++) {
            l = line_starting(t, labels[k]);
            CHECKF(l && count(l, "-") >= 2 && !strpbrk(l + strlen(labels[k]), "0123456789"), "%s: %s", labels[k],
                   l ? l : "(missing)");
            free(l);
        }
        l = line_starting(t, "LVS, middle block: median [95% CI]"); /* no budget in the label */
        CHECKF(l != NULL, "%s", t);
        free(l);
        CHECK(!strstr(t, "harmful prompts")); /* counts not given */
        CHECK(!strstr(t, "nan") && !strstr(t, "inf"));
    }
    if (md) {
        check_md_table(md, 2);
        CHECK(strstr(md, "### bare\n\nNot measured.\n"));
        CHECK(!strstr(md, "nan") && !strstr(md, "inf"));
    }
    if (h) {
        CHECK(count(h, "<svg") == 3 && count(h, "</svg>") == 3);
        CHECK(!strstr(h, "<polyline") && !strstr(h, "<polygon") && !strstr(h, "<circle"));
        CHECK(strstr(h, "no LVS profile: not measured for any model") &&
              strstr(h, "no fine-tuning curve: not measured for any model") &&
              strstr(h, "no steering curve at a door layer: not measured for any model"));
        CHECK(!strstr(h, "nan") && !strstr(h, "inf"));
    }
    lvs_free(t);
    lvs_free(md);
    lvs_free(h);
    /* all-zero data: the LVS axis is [0, 1]; a null point is skipped; a curve of nulls draws nothing */
    h = render(zeros, LVS_REPORT_HTML);
    if (h) {
        for (k = 0; k < 3; k++) { w[2 * k] = map_site(k, 3); w[2 * k + 1] = map_y(0, 0, 1); }
        check_points(h, "<polyline class=\"lvs-median\" data-model=\"z\"", w, 6);
        for (k = 0; k < 2; k++) { w[2 * k] = map_x(10.0 * k, 0, 10); w[2 * k + 1] = map_y(0, 0, 1); }
        check_points(h, "<polyline class=\"ft-curve\" data-model=\"z\"", w, 4);
        CHECK(!strstr(h, "class=\"steer-door\"") && strstr(h, "no steering curve"));
        CHECK(!strstr(h, "nan") && !strstr(h, "inf"));
    }
    lvs_free(h);
}

/* ---- every string from the file is escaped for its output */
void test_report_escape(void) {
    static const char js[] =
        "{\"prompts\":\"<img src=x>.jsonl\",\"settings\":{\"judge\":\"a&b\",\"<k>\":\"'q'\"},"
        "\"models\":[{\"name\":\"a<b&\\\"c\\\"\",\"clean_asr\":0.5},{\"name\":\"x|y*_z_\"},"
        "{\"name\":\"esc\\u001b[31m\\nO'Brien\"}]}";
    char *t = render(js, LVS_REPORT_TEXT), *md = render(js, LVS_REPORT_MD), *h = render(js, LVS_REPORT_HTML);
    if (h) {
        CHECKF(count(h, "a&lt;b&amp;&quot;c&quot;") >= 1 + 3 * 2, "%d", count(h, "a&lt;b&amp;&quot;c&quot;"));
        CHECK(!strstr(h, "a<b") && !strstr(h, "<img") && !strstr(h, "\x1b") && !strstr(h, "O'Brien"));
        CHECK(strstr(h, "&lt;img src=x&gt;.jsonl") && strstr(h, "<td>a&amp;b</td>") &&
              strstr(h, "<th scope=\"row\">&lt;k&gt;</th><td>&#39;q&#39;</td>"));
        CHECK(strstr(h, "data-model=\"a&lt;b&amp;&quot;c&quot;\"") && strstr(h, "esc?[31m O&#39;Brien"));
    }
    if (md) {
        CHECK(strstr(md, "| Measure | a&lt;b&amp;\"c\" | x\\|y\\*\\_z\\_ | esc?\\[31m O'Brien |"));
        CHECK(!strstr(md, "a<b") && !strstr(md, "<img") && !strstr(md, "\x1b"));
        check_md_table(md, 3);
    }
    if (t) {
        CHECK(strstr(t, "a<b&\"c\"") && strstr(t, "x|y*_z_") && strstr(t, "esc?[31m O'Brien") && !strstr(t, "\x1b"));
    }
    lvs_free(t);
    lvs_free(md);
    lvs_free(h);
}

/* ---- malformed input: a specific status, a message naming the field, nothing returned */
void test_report_errors(void) {
    static const struct { const char *json; lvs_status st; const char *field; } cases[] = {
        {"[]", LVS_ERR_FORMAT, "the top level"},
        {"\"x\"", LVS_ERR_FORMAT, "the top level"},
        {"{}", LVS_ERR_FORMAT, "models"},
        {"{\"models\":{}}", LVS_ERR_FORMAT, "models: expected an array"},
        {"{\"models\":[]}", LVS_ERR_FORMAT, "models: the list is empty"},
        {"{\"models\":[1]}", LVS_ERR_FORMAT, "models[0]: expected an object"},
        {"{\"models\":[{}]}", LVS_ERR_FORMAT, "models[0].name"},
        {"{\"models\":[{\"name\":\"\"}]}", LVS_ERR_FORMAT, "models[0].name: empty"},
        {"{\"models\":[{\"name\":\"a\"},{\"name\":\"b\",\"clean_asr\":\"0.5\"}]}", LVS_ERR_FORMAT,
         "models[1].clean_asr: expected a number or null, got string"},
        {"{\"models\":[{\"name\":\"a\",\"onset_steps\":true}]}", LVS_ERR_FORMAT, "models[0].onset_steps"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_mid\":1e301}]}", LVS_ERR_FORMAT, "models[0].lvs_mid"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_mid_ci\":[1]}]}", LVS_ERR_FORMAT, "models[0].lvs_mid_ci"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_mid_ci\":[1,\"2\"]}]}", LVS_ERR_FORMAT, "models[0].lvs_mid_ci"},
        {"{\"models\":[{\"name\":\"a\",\"steer_door_layer\":\"mid\"}]}", LVS_ERR_FORMAT, "models[0].steer_door_layer"},
        {"{\"models\":[{\"name\":\"a\",\"steer_door_layer\":1.5}]}", LVS_ERR_FORMAT, "models[0].steer_door_layer"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_profile\":{}}]}", LVS_ERR_FORMAT, "models[0].lvs_profile"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_profile\":[3]}]}", LVS_ERR_FORMAT, "models[0].lvs_profile[0]"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_profile\":[{\"site\":0},{\"site\":-1}]}]}", LVS_ERR_FORMAT,
         "models[0].lvs_profile[1].site"},
        {"{\"models\":[{\"name\":\"a\",\"lvs_profile\":[{\"site\":0,\"ci_hi\":[]}]}]}", LVS_ERR_FORMAT,
         "models[0].lvs_profile[0].ci_hi"},
        {"{\"models\":[{\"name\":\"a\",\"steering\":[{\"site\":0,\"fracs\":[0,1],\"compliance\":[0]}]}]}",
         LVS_ERR_FORMAT, "models[0].steering[0].compliance"},
        {"{\"models\":[{\"name\":\"a\",\"steering\":[{\"site\":0,\"compliance\":[0]}]}]}", LVS_ERR_FORMAT,
         "models[0].steering[0].fracs"},
        {"{\"models\":[{\"name\":\"a\",\"steering\":[{\"site\":0,\"fracs\":[0,null],\"compliance\":[0,0]}]}]}",
         LVS_ERR_FORMAT, "models[0].steering[0].fracs[1]"},
        {"{\"models\":[{\"name\":\"a\",\"steering\":[{\"site\":0,\"fracs\":[0],\"compliance\":[0],\"random\":[0,1]}]}]}",
         LVS_ERR_FORMAT, "models[0].steering[0].random"},
        {"{\"models\":[{\"name\":\"a\",\"finetune_curve\":[{\"compliance\":1}]}]}", LVS_ERR_FORMAT,
         "models[0].finetune_curve[0].step"},
        {"{\"models\":[{\"name\":\"a\",\"finetune_curve\":[{\"step\":0,\"compliance\":\"x\"}]}]}", LVS_ERR_FORMAT,
         "models[0].finetune_curve[0].compliance"},
        {"{\"settings\":3,\"models\":[{\"name\":\"a\"}]}", LVS_ERR_FORMAT, "settings: expected an object"},
        {"{\"settings\":{\"tau\":\"high\"},\"models\":[{\"name\":\"a\"}]}", LVS_ERR_FORMAT, "settings.tau"},
        {"{\"prompts\":7,\"models\":[{\"name\":\"a\"}]}", LVS_ERR_FORMAT, "prompts"},
        {"{\"n_prompts\":\"7\",\"models\":[{\"name\":\"a\"}]}", LVS_ERR_FORMAT, "n_prompts"},
        {"{\"models\":[{\"name\":\"a\"}]", LVS_ERR_JSON_SYNTAX, "report.json"},
        {"", LVS_ERR_JSON_SYNTAX, "report.json"},
    };
    size_t i;
    char *out;
    size_t n;
    lvs_error err;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        lvs_status st;
        out = (char *)1;
        n = 7;
        err.message[0] = 0;
        st = lvs_report_render(cases[i].json, strlen(cases[i].json), LVS_REPORT_HTML, &out, &n, &err);
        CHECKF(st == cases[i].st && err.status == st && strstr(err.message, cases[i].field) && out == NULL && n == 0,
               "case %d (%s): %s, \"%s\"", (int)i, cases[i].json, lvs_status_name(st), err.message);
    }
    /* unknown fields anywhere are ignored */
    out = render("{\"x\":1,\"settings\":{\"y\":[{}]},\"models\":[{\"name\":\"a\",\"z\":{\"q\":[1,2]},"
                 "\"lvs_profile\":[{\"site\":0,\"median\":1,\"w\":\"?\"}]}]}",
                 LVS_REPORT_TEXT);
    CHECK(out != NULL);
    lvs_free(out);
    CHECK_ST(lvs_report_render(NULL, 0, LVS_REPORT_TEXT, &out, &n, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_report_render("{}", 2, LVS_REPORT_TEXT, NULL, &n, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_report_render(two_models, strlen(two_models), (lvs_report_kind)7, &out, &n, &err), LVS_ERR_ARG);
    CHECK_ST(lvs_report_render(two_models, strlen(two_models), LVS_REPORT_TEXT, &out, NULL, NULL), LVS_OK);
    lvs_free(out);
}

/* ---- the output does not depend on the C locale's decimal point */
void test_report_locale(void) {
    static const char *const names[] = {"de_DE.UTF-8", "de_DE.utf8", "fr_FR.UTF-8", "fr_FR.utf8", "de_DE", "fr_FR"};
    char *ref[3], *got[3], cmd[2200], locdir[600];
    const char *loc = NULL;
    size_t i;
    int k;
    for (k = 0; k < 3; k++) ref[k] = render(two_models, (lvs_report_kind)k);
    for (i = 0; i < sizeof names / sizeof names[0] && !loc; i++)
        if (setlocale(LC_NUMERIC, names[i])) loc = names[i];
    if (!loc) { /* build one with localedef into the build folder (once) */
        snprintf(locdir, sizeof locdir, "%s/locale", t_build());
        snprintf(cmd, sizeof cmd,
                 "test -d '%s/de_DE.UTF-8' || (command -v localedef >/dev/null && mkdir -p '%s' && "
                 "localedef -i de_DE -f UTF-8 '%s/de_DE.UTF-8') >/dev/null 2>&1",
                 locdir, locdir, locdir);
        if (t_run(cmd) == 0) {
            setenv("LOCPATH", locdir, 1);
            if (setlocale(LC_NUMERIC, "de_DE.UTF-8")) loc = "de_DE.UTF-8 (built with localedef)";
        }
    }
    if (!loc) {
        for (k = 0; k < 3; k++) lvs_free(ref[k]);
        unsetenv("LOCPATH");
        t_skip("no locale with a decimal comma (and no localedef to build one)");
        return;
    }
    {
        char num[32];
        snprintf(num, sizeof num, "%.2f", 0.5);
        CHECKF(strcmp(num, "0,50") == 0, "locale %s prints 0.5 as %s", loc, num);
    }
    for (k = 0; k < 3; k++) {
        got[k] = render(two_models, (lvs_report_kind)k);
        CHECKF(ref[k] && got[k] && strcmp(ref[k], got[k]) == 0, "kind %d differs under %s", k, loc);
        lvs_free(got[k]);
        lvs_free(ref[k]);
    }
    setlocale(LC_NUMERIC, "C");
    unsetenv("LOCPATH");
}

/* ---- lvs report */
static int run_cli(const char *args, char **out) {
    char cmd[8192], *log = t_path("report-cli.log");
    int rc;
    snprintf(cmd, sizeof cmd, "%s/lvs report %s > '%s' 2>&1", t_build(), args, log);
    rc = t_run(cmd);
    if (out) *out = t_slurp(log, NULL);
    free(log);
    return rc;
}

void test_report_cli(void) {
    char *dir = t_path("report-cli"), *bad = t_path("report-bad"), args[4096], cmd[4096], *out = NULL, *f, *want;
    char *sample = t_slurp("tests/fixtures/report/sample.json", NULL);
    size_t n;
    int rc;
    CHECK(sample != NULL);
    if (!sample) { free(dir); free(bad); return; }
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s' && mkdir -p '%s' '%s' && cp tests/fixtures/report/sample.json '%s/report.json'",
             dir, bad, dir, bad, dir);
    CHECK(t_run(cmd) == 0);
    CHECK(run_cli("--help", &out) == 0 && out && strstr(out, "--format text|md|html"));
    free(out);
    CHECK(run_cli("", NULL) == 2);
    CHECK(run_cli("x --format pdf", NULL) == 2);
    CHECK(run_cli("x -o y", NULL) == 2);
    CHECK(run_cli("x --frobnicate", NULL) == 2);
    CHECK(run_cli("/nonexistent/report.json", NULL) == 1);

    /* default: the table on stdout, report.md and report.html beside report.json */
    snprintf(args, sizeof args, "'%s'", dir);
    rc = run_cli(args, &out);
    CHECKF(rc == 0 && out && strstr(out, "Static direct-harm ASR") && strstr(out, "toy-dissociated") &&
               strstr(out, "report.md") && strstr(out, "report.html"),
           "status %d, output:\n%s", rc, out ? out : "");
    free(out);
    snprintf(cmd, sizeof cmd, "%s/report.md", dir);
    f = t_slurp(cmd, &n);
    want = render(sample, LVS_REPORT_MD);
    CHECK(f && want && strcmp(f, want) == 0);
    lvs_free(f);
    lvs_free(want);
    snprintf(cmd, sizeof cmd, "%s/report.html", dir);
    f = t_slurp(cmd, &n);
    want = render(sample, LVS_REPORT_HTML);
    CHECK(f && want && strcmp(f, want) == 0 && count(f, "<svg") == 3);
    lvs_free(f);
    lvs_free(want);

    /* one format to stdout or to a file */
    snprintf(args, sizeof args, "'%s/report.json' --format text", dir);
    CHECK(run_cli(args, &out) == 0);
    want = render(sample, LVS_REPORT_TEXT);
    CHECK(out && want && strcmp(out, want) == 0);
    free(out);
    lvs_free(want);
    snprintf(args, sizeof args, "'%s' --format html -o '%s/other.html'", dir, dir);
    CHECK(run_cli(args, &out) == 0 && out && out[0] == 0);
    free(out);
    snprintf(cmd, sizeof cmd, "%s/other.html", dir);
    f = t_slurp(cmd, NULL);
    CHECK(f && strncmp(f, "<!DOCTYPE html>", 15) == 0);
    lvs_free(f);

    /* malformed report.json: exit 1, the field named, nothing written */
    snprintf(cmd, sizeof cmd, "%s/report.json", bad);
    CHECK(t_write(cmd, "{\"models\":[{\"name\":3}]}", 23) == 0);
    snprintf(args, sizeof args, "'%s'", bad);
    rc = run_cli(args, &out);
    CHECKF(rc == 1 && out && strstr(out, "models[0].name") && strstr(out, "LVS_ERR_FORMAT"), "status %d: %s", rc,
           out ? out : "");
    free(out);
    snprintf(cmd, sizeof cmd, "test ! -e '%s/report.md' && test ! -e '%s/report.html'", bad, bad);
    CHECK(t_run(cmd) == 0);
    lvs_free(sample);
    free(dir);
    free(bad);
}
