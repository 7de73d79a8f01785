/* test_statistics.c — CloudWatch's statistics: statistic names, the basic
 * summary, weighted nearest-rank percentiles, and StatisticSet rules.
 *
 * Percentiles follow CloudWatch's definition ("p95 ... means that 95 percent
 * of the data within the period is lower than this value and 5 percent of
 * the data is higher than this value",
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html):
 * nearest rank over the samples, weighted by Counts, so a percentile is always
 * a value that was published; CloudWatch documents no interpolation. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "statistics.h"

static void test_basic_statistic_names_parse_exactly(void **state)
{
    (void)state;
    tw_statistic s;
    assert_int_equal(tw_statistic_parse_basic("SampleCount", &s), 0);
    assert_int_equal(s.kind, TW_STAT_SAMPLE_COUNT);
    assert_int_equal(tw_statistic_parse_basic("Maximum", &s), 0);
    assert_int_equal(s.kind, TW_STAT_MAXIMUM);
    assert_int_equal(tw_statistic_parse_basic("average", &s), -EINVAL);
    assert_int_equal(tw_statistic_parse_basic("Max", &s), -EINVAL);
    assert_int_equal(tw_statistic_parse_basic("p99", &s), -EINVAL);
    assert_string_equal(tw_statistic_basic_name(TW_STAT_AVERAGE), "Average");
    assert_null(tw_statistic_basic_name(TW_STAT_PERCENTILE));
}

static void test_percentile_names_take_up_to_two_decimals(void **state)
{
    (void)state;
    tw_statistic s;
    assert_int_equal(tw_statistic_parse_percentile("p99", &s), 0);
    assert_int_equal(s.kind, TW_STAT_PERCENTILE);
    assert_true(s.percentile == 99.0);
    assert_int_equal(tw_statistic_parse_percentile("p99.9", &s), 0);
    assert_true(fabs(s.percentile - 99.9) < 1e-9);
    assert_int_equal(tw_statistic_parse_percentile("p0", &s), 0);
    assert_true(s.percentile == 0);
    assert_int_equal(tw_statistic_parse_percentile("p100", &s), 0);
    assert_int_equal(tw_statistic_parse_percentile("p50.25", &s), 0);
    assert_true(fabs(s.percentile - 50.25) < 1e-9);
    const char *bad[] = {"p", "p100.01", "p101", "p99.999", "p99.", "P99", "p-1", "p+9", "p9e1",
                         "p 9", "99", "p0x1", "p1000", "pNaN"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(tw_statistic_parse_percentile(bad[i], &s), -EINVAL);
    /* GetMetricData's Stat takes both forms */
    assert_int_equal(tw_statistic_parse("Sum", &s), 0);
    assert_int_equal(s.kind, TW_STAT_SUM);
    assert_int_equal(tw_statistic_parse("p90", &s), 0);
    assert_int_equal(s.kind, TW_STAT_PERCENTILE);
    assert_int_equal(tw_statistic_parse("tm99", &s), -EINVAL);
}

static void test_summary_adds_values_and_statistic_sets(void **state)
{
    (void)state;
    tw_stat_summary s;
    double v;
    tw_stat_summary_init(&s);
    assert_false(tw_stat_summary_value(&s, TW_STAT_SUM, &v)); /* empty: no datapoint */
    tw_stat_summary_add(&s, 1, 5, 5, 5);
    tw_stat_summary_add(&s, 10, 55, 1, 10); /* a StatisticSet */
    tw_stat_summary_add(&s, 0, 0, -100, 100); /* an empty set adds nothing */
    assert_true(tw_stat_summary_value(&s, TW_STAT_SAMPLE_COUNT, &v) && v == 11);
    assert_true(tw_stat_summary_value(&s, TW_STAT_SUM, &v) && v == 60);
    assert_true(tw_stat_summary_value(&s, TW_STAT_MINIMUM, &v) && v == 1);
    assert_true(tw_stat_summary_value(&s, TW_STAT_MAXIMUM, &v) && v == 10);
    assert_true(tw_stat_summary_value(&s, TW_STAT_AVERAGE, &v) && fabs(v - 60.0 / 11) < 1e-12);
    assert_false(tw_stat_summary_value(&s, TW_STAT_PERCENTILE, &v));

    tw_stat_summary other;
    tw_stat_summary_init(&other);
    tw_stat_summary_add(&other, 2, -4, -3, -1);
    tw_stat_summary_merge(&s, &other);
    assert_true(tw_stat_summary_value(&s, TW_STAT_MINIMUM, &v) && v == -3);
    assert_true(tw_stat_summary_value(&s, TW_STAT_SAMPLE_COUNT, &v) && v == 13);
}

static void test_values_and_counts_summarise_as_weighted_samples(void **state)
{
    (void)state;
    /* PutMetricData Values [1.5, 2] Counts [3, 4]: SampleCount = 7,
     * Sum = 1.5*3 + 2*4 = 12.5 (spec §7 pitfall 14) */
    tw_stat_pair pairs[] = {{1.5, 3}, {2, 4}, {99, 0}};
    tw_stat_summary s;
    double v;
    tw_stat_summary_from_pairs(&s, pairs, 3);
    assert_true(tw_stat_summary_value(&s, TW_STAT_SAMPLE_COUNT, &v) && v == 7);
    assert_true(tw_stat_summary_value(&s, TW_STAT_SUM, &v) && v == 12.5);
    assert_true(tw_stat_summary_value(&s, TW_STAT_MAXIMUM, &v) && v == 2); /* count 0 ignored */
}

static double percentile_of(const double *values, size_t n, double p)
{
    tw_stat_pair *pairs = malloc(n * sizeof *pairs);
    for (size_t i = 0; i < n; i++)
        pairs[i] = (tw_stat_pair){values[i], 1};
    double out = NAN;
    if (!tw_stat_percentile(pairs, n, p, &out))
        out = NAN;
    free(pairs);
    return out;
}

static void test_percentile_is_nearest_rank_over_raw_values(void **state)
{
    (void)state;
    double hundred[100];
    for (int i = 0; i < 100; i++)
        hundred[99 - i] = i + 1; /* unsorted on purpose */
    assert_true(percentile_of(hundred, 100, 50) == 50);
    assert_true(percentile_of(hundred, 100, 99) == 99);
    assert_true(percentile_of(hundred, 100, 99.5) == 100);
    assert_true(percentile_of(hundred, 100, 0) == 1);
    assert_true(percentile_of(hundred, 100, 100) == 100);
    assert_true(percentile_of(hundred, 100, 0.5) == 1);
    assert_true(percentile_of(hundred, 100, 1.01) == 2);

    double four[] = {4, 1, 3, 2};
    assert_true(percentile_of(four, 4, 25) == 1);
    assert_true(percentile_of(four, 4, 50) == 2);
    assert_true(percentile_of(four, 4, 50.01) == 3);
    assert_true(percentile_of(four, 4, 75) == 3);
    assert_true(percentile_of(four, 4, 99) == 4);

    double twenty[20];
    for (int i = 0; i < 20; i++)
        twenty[i] = i + 1;
    /* 0.95 * 20 is 19.000000000000004 in floating point: still the 19th */
    assert_true(percentile_of(twenty, 20, 95) == 19);

    double one[] = {42};
    assert_true(percentile_of(one, 1, 0) == 42);
    assert_true(percentile_of(one, 1, 99.99) == 42);
}

static void test_percentile_weights_values_by_their_counts(void **state)
{
    (void)state;
    tw_stat_pair pairs[] = {{100, 1}, {1, 9}};
    double v;
    assert_true(tw_stat_percentile(pairs, 2, 90, &v) && v == 1);
    assert_true(tw_stat_percentile(pairs, 2, 90.01, &v) && v == 100);
    assert_true(tw_stat_percentile(pairs, 2, 50, &v) && v == 1);
    /* fractional counts (Counts are doubles) */
    tw_stat_pair frac[] = {{10, 0.5}, {20, 0.25}, {30, 0.25}};
    assert_true(tw_stat_percentile(frac, 3, 50, &v) && v == 10);
    assert_true(tw_stat_percentile(frac, 3, 60, &v) && v == 20);
    assert_true(tw_stat_percentile(frac, 3, 76, &v) && v == 30);
    /* a value published with count 0 is not a sample */
    tw_stat_pair zero[] = {{5, 1}, {1000, 0}};
    assert_true(tw_stat_percentile(zero, 2, 100, &v) && v == 5);
}

static void test_no_percentile_for_negative_or_missing_samples(void **state)
{
    (void)state;
    double v = 7;
    tw_stat_pair negative[] = {{1, 1}, {-0.5, 1}, {3, 1}};
    assert_false(tw_stat_percentile(negative, 3, 50, &v));
    assert_false(tw_stat_percentile(NULL, 0, 50, &v));
    tw_stat_pair zeros[] = {{1, 0}, {2, 0}};
    assert_false(tw_stat_percentile(zeros, 2, 50, &v));
    assert_true(v == 7); /* untouched */
    tw_stat_pair zero_value[] = {{0, 3}};
    assert_true(tw_stat_percentile(zero_value, 1, 50, &v) && v == 0);
}

static void test_statistic_sets_usable_for_percentiles_only_when_cloudwatch_allows(void **state)
{
    (void)state;
    tw_stat_pair p;
    /* SampleCount 1 */
    assert_true(tw_stat_set_as_pair(1, 7, 7, 7, &p));
    assert_true(p.value == 7 && p.count == 1);
    /* Min = Max: every sample equals Min */
    assert_true(tw_stat_set_as_pair(10, 50, 5, 5, &p));
    assert_true(p.value == 5 && p.count == 10);
    /* a real distribution summarised: the samples are unknown */
    assert_false(tw_stat_set_as_pair(10, 55, 1, 10, &p));
    assert_false(tw_stat_set_as_pair(0, 0, 0, 0, &p));
}

static void test_pairs_compact_sorts_merges_and_drops_zero_counts(void **state)
{
    (void)state;
    tw_stat_pair pairs[] = {{3, 1}, {1, 2}, {3, 4}, {2, 0}, {1, 1}};
    size_t n = tw_stat_pairs_compact(pairs, 5);
    assert_int_equal(n, 2);
    assert_true(pairs[0].value == 1 && pairs[0].count == 3);
    assert_true(pairs[1].value == 3 && pairs[1].count == 5);
    assert_int_equal(tw_stat_pairs_compact(pairs, 0), 0);
}

static void test_pairs_round_trip_through_their_storage_form(void **state)
{
    (void)state;
    tw_stat_pair pairs[] = {{1.5, 3}, {-0.0, 1}, {1e300, 0.25}};
    tw_buf blob = TW_BUF_INIT;
    tw_stat_pairs_encode(pairs, 3, &blob);
    assert_int_equal(blob.len, 48);
    /* little-endian IEEE 754: 1.5 is 0x3FF8000000000000 */
    assert_int_equal((unsigned char)blob.data[7], 0x3f);
    assert_int_equal((unsigned char)blob.data[6], 0xf8);
    tw_stat_pairs v = {0};
    tw_stat_pairs_push(&v, 9, 9);
    assert_int_equal(tw_stat_pairs_append_blob(&v, blob.data, blob.len), 0);
    assert_int_equal(v.n, 4);
    assert_true(v.items[1].value == 1.5 && v.items[1].count == 3);
    assert_true(v.items[3].value == 1e300 && v.items[3].count == 0.25);
    assert_int_equal(tw_stat_pairs_append_blob(&v, blob.data, 47), -EINVAL);
    assert_int_equal(v.n, 4);
    tw_stat_pairs_clear(&v);
    assert_int_equal(v.n, 0);
    for (int i = 0; i < 1000; i++) /* growth */
        tw_stat_pairs_push(&v, i, 1);
    assert_int_equal(v.n, 1000);
    assert_true(v.items[999].value == 999);
    tw_stat_pairs_free(&v);
    tw_buf_free(&blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_statistic_names_parse_exactly),
        cmocka_unit_test(test_percentile_names_take_up_to_two_decimals),
        cmocka_unit_test(test_summary_adds_values_and_statistic_sets),
        cmocka_unit_test(test_values_and_counts_summarise_as_weighted_samples),
        cmocka_unit_test(test_percentile_is_nearest_rank_over_raw_values),
        cmocka_unit_test(test_percentile_weights_values_by_their_counts),
        cmocka_unit_test(test_no_percentile_for_negative_or_missing_samples),
        cmocka_unit_test(test_statistic_sets_usable_for_percentiles_only_when_cloudwatch_allows),
        cmocka_unit_test(test_pairs_compact_sorts_merges_and_drops_zero_counts),
        cmocka_unit_test(test_pairs_round_trip_through_their_storage_form),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
