/* in_host_sink.c — recording sink and fake /proc for the host metrics
 * input tests (see in_host_sink.h). */
#include "in_host_sink.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static int record(void *ctx, const tw_metric_sample *sample)
{
    host_sink *s = ctx;
    char why[256];
    if (tw_metric_sample_check(sample, why, sizeof why) != 0)
        fail_msg("sample rejected: %s", why);
    assert_true(sample->n_dimensions <= HOST_DIMS_MAX);
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 64;
        s->samples = realloc(s->samples, s->cap * sizeof *s->samples);
        assert_non_null(s->samples);
    }
    host_sample *h = &s->samples[s->n++];
    memset(h, 0, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", sample->name);
    snprintf(h->unit, sizeof h->unit, "%s", sample->unit ? sample->unit : "None");
    h->value = sample->value;
    h->time_ms = sample->time_ms;
    h->n_dims = sample->n_dimensions;
    for (size_t i = 0; i < sample->n_dimensions; i++) {
        snprintf(h->dim_name[i], sizeof h->dim_name[i], "%s", sample->dimensions[i].name);
        snprintf(h->dim_value[i], sizeof h->dim_value[i], "%s", sample->dimensions[i].value);
    }
    return 0;
}

void host_sink_init(host_sink *s)
{
    memset(s, 0, sizeof *s);
    s->sink.emit = record;
    s->sink.ctx = s;
}

void host_sink_clear(host_sink *s)
{
    s->n = 0;
}

void host_sink_free(host_sink *s)
{
    free(s->samples);
    memset(s, 0, sizeof *s);
}

static bool has_dim(const host_sample *h, const char *dim_name, const char *dim_value)
{
    if (dim_name == NULL)
        return h->n_dims == 0;
    for (size_t i = 0; i < h->n_dims; i++)
        if (strcmp(h->dim_name[i], dim_name) == 0 && strcmp(h->dim_value[i], dim_value) == 0)
            return true;
    return false;
}

const host_sample *host_sink_find(const host_sink *s, const char *name, const char *dim_name,
                                  const char *dim_value)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->samples[i].name, name) == 0 && has_dim(&s->samples[i], dim_name, dim_value))
            return &s->samples[i];
    return NULL;
}

double host_sink_value(const host_sink *s, const char *name, const char *unit,
                       const char *dim_name, const char *dim_value, const char *file, int line)
{
    const host_sample *h = host_sink_find(s, name, dim_name, dim_value);
    if (h == NULL) {
        host_sink_dump(s);
        print_error("no sample %s{%s=%s}\n", name, dim_name ? dim_name : "",
                    dim_value ? dim_value : "");
        _fail(file, line);
    }
    if (strcmp(h->unit, unit) != 0) {
        print_error("%s: unit %s, want %s\n", name, h->unit, unit);
        _fail(file, line);
    }
    return h->value;
}

size_t host_sink_count_dim(const host_sink *s, const char *dim_name, const char *dim_value)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += has_dim(&s->samples[i], dim_name, dim_value);
    return n;
}

size_t host_sink_count_name(const host_sink *s, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += strcmp(s->samples[i].name, name) == 0;
    return n;
}

void host_sink_dump(const host_sink *s)
{
    for (size_t i = 0; i < s->n; i++) {
        const host_sample *h = &s->samples[i];
        print_message("  %s %.6f %s", h->name, h->value, h->unit);
        for (size_t d = 0; d < h->n_dims; d++)
            print_message(" %s=%s", h->dim_name[d], h->dim_value[d]);
        print_message("\n");
    }
}

static int count(void *ctx, const tw_metric_sample *sample)
{
    host_count_sink *s = ctx;
    s->n++;
    s->sum += sample->value;
    return 0;
}

void host_count_sink_init(host_count_sink *s)
{
    memset(s, 0, sizeof *s);
    s->sink.emit = count;
    s->sink.ctx = s;
}

void host_proc_init(host_proc *p, const char *name)
{
    assert_int_equal(tw_test_mkdtemp(p->root, sizeof p->root, name), 0);
}

static void make_parents(const host_proc *p, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", p->root, rel);
    for (char *s = path + strlen(p->root) + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        assert_true(mkdir(path, 0755) == 0 || errno == EEXIST);
        *s = '/';
    }
}

void host_proc_write_bytes(const host_proc *p, const char *rel, const void *data, size_t len)
{
    char path[512];
    make_parents(p, rel);
    snprintf(path, sizeof path, "%s/%s", p->root, rel);
    FILE *fp = fopen(path, "w"); /* truncates in place: same inode */
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

void host_proc_write(const host_proc *p, const char *rel, const char *text)
{
    host_proc_write_bytes(p, rel, text, strlen(text));
}

void host_proc_put(const host_proc *p, const char *snapshot, const char *rel)
{
    char path[512];
    snprintf(path, sizeof path, "%s/tests/data/proc/%s/%s", TW_SOURCE_DIR, snapshot, rel);
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        fail_msg("fixture %s: %s", path, strerror(errno));
    static char data[1 << 16];
    size_t len = fread(data, 1, sizeof data, fp);
    fclose(fp);
    host_proc_write_bytes(p, rel, data, len);
}

void host_proc_free(host_proc *p)
{
    tw_test_rm_rf(p->root);
}

double host_now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

double host_cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

void host_random_text(uint64_t *state, char *out, size_t len)
{
    static const char alphabet[] = "0123456789012345678901234567890123456789     \n\n\n::"
                                   "cpuethloMemTotalkBsdanvme-_/|.\t";
    for (size_t i = 0; i < len; i++) {
        *state ^= *state << 13; /* xorshift64 */
        *state ^= *state >> 7;
        *state ^= *state << 17;
        uint64_t r = *state;
        out[i] = (r & 0xf) == 0 ? (char)(r >> 8) : alphabet[(r >> 8) % (sizeof alphabet - 1)];
    }
}
