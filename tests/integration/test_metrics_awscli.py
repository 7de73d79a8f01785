"""CloudWatch metrics through the real clients, in all three protocols.

Debian's awscli 2.9.19 (/usr/bin/aws) speaks the query protocol (form POST,
XML answers); the Python awscli 1.x on newer botocore speaks AWS JSON 1.0
(GraniteServiceVersion20100801, x-amzn-query-error); boto3 with the service
model's protocol list narrowed to smithy-rpc-v2-cbor speaks Smithy RPC v2
CBOR, as the newest Go/Ruby/JS SDKs do. Each drives the running collector:
put-metric-data in every form, get-metric-statistics (basic and percentile
statistics), get-metric-data with metric math, list-metrics with filters and
pagination, and CloudWatch's error answers.
"""
import datetime
import json
import os
import tempfile
import unittest

from twtest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, CollectorTestCase

V2_ERROR_RC = 254  # awscli v2: the service answered with an error
V1_ERROR_RC = 255


def minute_ago(minutes=2):
    now = datetime.datetime.now(datetime.timezone.utc).replace(second=0, microsecond=0)
    return now - datetime.timedelta(minutes=minutes)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cbor_client(url):
    """A boto3 CloudWatch client that speaks Smithy RPC v2 CBOR: botocore 1.43
    picks JSON 1.0 from the model's protocol list, so the test loads the model
    with that list narrowed to CBOR."""
    try:
        import boto3
        import botocore.session
    except ImportError:
        return None
    session = botocore.session.get_session()
    model = session.get_component("data_loader").load_service_model("cloudwatch", "service-2")
    if "smithy-rpc-v2-cbor" not in model["metadata"].get("protocols", []):
        return None
    model["metadata"]["protocols"] = ["smithy-rpc-v2-cbor"]
    data_dir = tempfile.mkdtemp(prefix="tw-cbor-model-")
    os.makedirs(os.path.join(data_dir, "cloudwatch", "2010-08-01"))
    with open(os.path.join(data_dir, "cloudwatch", "2010-08-01", "service-2.json"), "w") as f:
        json.dump(model, f)
    forced = botocore.session.get_session()
    forced.get_component("data_loader").search_paths.insert(0, data_dir)
    client = boto3.Session(botocore_session=forced).client(
        "cloudwatch", endpoint_url=url, region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)
    if client.meta.service_model.resolved_protocol != "smithy-rpc-v2-cbor":
        return None
    return client


class MetricsAwsCliTest(CollectorTestCase):
    def setUp(self):
        super().setUp()
        self.start_collector()
        self.t = minute_ago()

    # ---- helpers ------------------------------------------------------

    def put(self, namespace, data, cli="v2", expect_rc=0):
        path = self.write(f"data-{len(data)}-{cli}.json", json.dumps(data))
        return self.aws("cloudwatch", "put-metric-data", "--namespace", namespace,
                        "--metric-data", "file://" + path, cli=cli, expect_rc=expect_rc)

    def stats(self, namespace, name, *extra, cli="v2", period=60, start=None, end=None,
              expect_rc=0):
        start = start or self.t - datetime.timedelta(minutes=1)
        end = end or self.t + datetime.timedelta(minutes=2)
        return self.aws("cloudwatch", "get-metric-statistics", "--namespace", namespace,
                        "--metric-name", name, "--start-time", iso(start), "--end-time", iso(end),
                        "--period", str(period), *extra, cli=cli, expect_rc=expect_rc)

    def only_datapoint(self, out):
        self.assertEqual(len(out["Datapoints"]), 1, out)
        return out["Datapoints"][0]

    # ---- PutMetricData and GetMetricStatistics -----------------------------

    def check_every_form(self, cli):
        ns = f"App/{cli}"
        ts = iso(self.t)
        self.put(ns, [
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "web 1"}],
             "Timestamp": ts, "Value": 4, "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "web 1"}],
             "Timestamp": ts, "Values": [1.5, 2, 10], "Counts": [3, 4, 1], "Unit": "Milliseconds"},
            {"MetricName": "Latency", "Dimensions": [{"Name": "Host", "Value": "web 1"}],
             "Timestamp": ts, "StatisticValues": {"SampleCount": 2, "Sum": 3, "Minimum": 1,
                                                  "Maximum": 2}, "Unit": "Milliseconds"},
        ], cli=cli)
        _, out, _ = self.stats(ns, "Latency", "--dimensions", "Name=Host,Value=web 1",
                               "--statistics", "SampleCount", "Sum", "Minimum", "Maximum",
                               "Average", cli=cli)
        self.assertEqual(out["Label"], "Latency")
        point = self.only_datapoint(out)
        # 4 | 1.5x3 2x4 10 | {2, 3, 1, 2}
        self.assertEqual(point["SampleCount"], 11.0)
        self.assertEqual(point["Sum"], 29.5)
        self.assertEqual(point["Minimum"], 1.0)
        self.assertEqual(point["Maximum"], 10.0)
        self.assertAlmostEqual(point["Average"], 29.5 / 11)
        self.assertEqual(point["Unit"], "Milliseconds")
        # the dimension set is part of the identity: none here, no data
        _, out, _ = self.stats(ns, "Latency", "--statistics", "Sum", cli=cli)
        self.assertEqual(out["Datapoints"], [])
        # a unit filter that matches nothing: empty, not an error
        _, out, _ = self.stats(ns, "Latency", "--dimensions", "Name=Host,Value=web 1",
                               "--statistics", "Sum", "--unit", "Seconds", cli=cli)
        self.assertEqual(out["Datapoints"], [])

    def test_put_every_form_and_get_statistics_query_protocol(self):
        self.check_every_form("v2")

    def test_put_every_form_and_get_statistics_json_protocol(self):
        self.check_every_form("v1")

    def check_percentiles(self, cli):
        ns = f"Pct/{cli}"
        self.put(ns, [{"MetricName": "Lat", "Timestamp": iso(self.t),
                       "Values": list(range(100, 0, -1)), "Unit": "Milliseconds"}], cli=cli)
        _, out, _ = self.stats(ns, "Lat", "--extended-statistics", "p50", "p99", "p99.5", cli=cli)
        point = self.only_datapoint(out)
        self.assertEqual(point["ExtendedStatistics"], {"p50": 50.0, "p99": 99.0, "p99.5": 100.0})
        self.assertNotIn("Sum", point)
        # a StatisticSet that percentiles cannot use: no percentile datapoint
        self.put(ns, [{"MetricName": "Set", "Timestamp": iso(self.t),
                       "StatisticValues": {"SampleCount": 10, "Sum": 55, "Minimum": 1,
                                           "Maximum": 10}}], cli=cli)
        _, out, _ = self.stats(ns, "Set", "--extended-statistics", "p50", cli=cli)
        self.assertEqual(out["Datapoints"], [])

    def test_percentiles_from_raw_values_query_protocol(self):
        self.check_percentiles("v2")

    def test_percentiles_from_raw_values_json_protocol(self):
        self.check_percentiles("v1")

    def test_high_resolution_data_answers_one_second_periods(self):
        base = self.t
        data = [{"MetricName": "Hot", "Timestamp": iso(base + datetime.timedelta(seconds=s)),
                 "Value": s, "StorageResolution": 1} for s in (5, 5, 7)]
        self.put("HighRes", data)
        _, out, _ = self.stats("HighRes", "Hot", "--statistics", "Sum", "SampleCount", period=1,
                               start=base, end=base + datetime.timedelta(seconds=30))
        points = sorted(out["Datapoints"], key=lambda p: p["Timestamp"])
        self.assertEqual([(p["Sum"], p["SampleCount"]) for p in points], [(10.0, 2.0), (7.0, 1.0)])
        # standard data has no 1-second buckets
        self.put("HighRes", [{"MetricName": "Cold", "Timestamp": iso(base), "Value": 1}])
        _, out, _ = self.stats("HighRes", "Cold", "--statistics", "Sum", period=1,
                               start=base, end=base + datetime.timedelta(seconds=30))
        self.assertEqual(out["Datapoints"], [])

    # ---- GetMetricData -------------------------------------------------------

    def check_metric_math(self, cli):
        ns = f"Math/{cli}"
        t0, t1 = self.t - datetime.timedelta(minutes=1), self.t
        self.put(ns, [
            {"MetricName": "Requests", "Timestamp": iso(t0), "Value": 200},
            {"MetricName": "Requests", "Timestamp": iso(t1), "Value": 400},
            {"MetricName": "Errors", "Timestamp": iso(t0), "Value": 2},
            {"MetricName": "Errors", "Timestamp": iso(t1), "Value": 10},
        ], cli=cli)
        queries = [
            {"Id": "req", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Requests"},
                                         "Period": 60, "Stat": "Sum"}, "ReturnData": False},
            {"Id": "err", "MetricStat": {"Metric": {"Namespace": ns, "MetricName": "Errors"},
                                         "Period": 60, "Stat": "Sum"}},
            {"Id": "rate", "Expression": "100 * err / req", "Label": "Error rate"},
            {"Id": "total", "Expression": "SUM([req, err])"},
        ]
        path = self.write(f"queries-{cli}.json", json.dumps(queries))
        _, out, _ = self.aws("cloudwatch", "get-metric-data", "--metric-data-queries",
                             "file://" + path, "--start-time", iso(t0 - datetime.timedelta(minutes=1)),
                             "--end-time", iso(t1 + datetime.timedelta(minutes=2)),
                             "--scan-by", "TimestampAscending", cli=cli)
        results = {r["Id"]: r for r in out["MetricDataResults"]}
        self.assertEqual(sorted(results), ["err", "rate", "total"])  # ReturnData false: not shown
        self.assertEqual(results["rate"]["Label"], "Error rate")
        self.assertEqual(results["rate"]["Values"], [1.0, 2.5])
        self.assertEqual(results["total"]["Values"], [202.0, 410.0])
        self.assertEqual(results["err"]["Label"], "Errors")
        self.assertEqual(results["err"]["StatusCode"], "Complete")
        self.assertEqual(len(results["err"]["Timestamps"]), 2)
        # an expression that refers to nothing: ValidationError
        bad = self.write(f"bad-{cli}.json", json.dumps([{"Id": "e1", "Expression": "m9 * 2"}]))
        rc, _, err = self.aws("cloudwatch", "get-metric-data", "--metric-data-queries",
                              "file://" + bad, "--start-time", iso(t0), "--end-time", iso(t1),
                              cli=cli, expect_rc=None)
        self.assertNotEqual(rc, 0)
        self.assertIn("(ValidationError)", err)
        self.assertIn("Error in expression e1: Unrecognized metric id at position 1: m9", err)

    def test_get_metric_data_with_expressions_query_protocol(self):
        self.check_metric_math("v2")

    def test_get_metric_data_with_expressions_json_protocol(self):
        self.check_metric_math("v1")

    def test_get_metric_data_pages_by_max_datapoints(self):
        data = [{"MetricName": "Paged", "Timestamp": iso(self.t - datetime.timedelta(minutes=m)),
                 "Value": m} for m in range(5)]
        self.put("Pages", data)
        query = [{"Id": "p", "MetricStat": {"Metric": {"Namespace": "Pages", "MetricName": "Paged"},
                                             "Period": 60, "Stat": "Maximum"}}]
        path = self.write("paged.json", json.dumps(query))
        args = ("cloudwatch", "get-metric-data", "--metric-data-queries", "file://" + path,
                "--start-time", iso(self.t - datetime.timedelta(minutes=10)),
                "--end-time", iso(self.t + datetime.timedelta(minutes=1)))
        _, out, _ = self.aws(*args, "--no-paginate", "--max-datapoints", "2")
        self.assertEqual(out["MetricDataResults"][0]["Values"], [0.0, 1.0])  # newest first
        self.assertEqual(out["MetricDataResults"][0]["StatusCode"], "PartialData")
        self.assertIn("NextToken", out)
        # --page-size becomes MaxDatapoints and the CLI follows the tokens
        _, out, _ = self.aws(*args, "--page-size", "2")
        values = [v for r in out["MetricDataResults"] for v in r["Values"]]
        self.assertEqual(values, [0.0, 1.0, 2.0, 3.0, 4.0])

    # ---- ListMetrics -------------------------------------------------------

    def test_list_metrics_filters(self):
        ts = iso(self.t)
        self.put("Shop", [
            {"MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "eu"},
                                                    {"Name": "Tier", "Value": "gold"}],
             "Timestamp": ts, "Value": 1},
            {"MetricName": "Orders", "Dimensions": [{"Name": "Region", "Value": "us"}],
             "Timestamp": ts, "Value": 1},
            {"MetricName": "Refunds", "Timestamp": ts, "Value": 1},
        ])
        self.put("Other", [{"MetricName": "Orders", "Timestamp": ts, "Value": 1}], cli="v1")

        def names(*args, cli="v2"):
            _, out, _ = self.aws("cloudwatch", "list-metrics", *args, cli=cli)
            return sorted((m["Namespace"], m["MetricName"],
                           tuple((d["Name"], d["Value"]) for d in m["Dimensions"]))
                          for m in out["Metrics"])

        self.assertEqual(len(names("--namespace", "Shop")), 3)
        self.assertEqual(names("--metric-name", "Orders", "--namespace", "Other"),
                         [("Other", "Orders", ())])
        self.assertEqual(len(names("--metric-name", "Orders")), 3)
        self.assertEqual(names("--dimensions", "Name=Tier"),
                         [("Shop", "Orders", (("Region", "eu"), ("Tier", "gold")))])
        self.assertEqual(names("--dimensions", "Name=Region,Value=us", cli="v1"),
                         [("Shop", "Orders", (("Region", "us"),))])
        self.assertEqual(names("--dimensions", "Name=Region,Value=asia"), [])
        self.assertEqual(len(names("--namespace", "Shop", "--recently-active", "PT3H")), 3)
        rc, _, err = self.aws("cloudwatch", "list-metrics", "--recently-active", "P1D",
                              expect_rc=V2_ERROR_RC)
        self.assertIn("PT3H", err)

    def test_thousand_datums_in_one_call_and_list_pagination(self):
        ts = iso(self.t)
        data = [{"MetricName": f"m{i:04d}", "Timestamp": ts, "Value": i} for i in range(520)]
        data += [{"MetricName": f"m{i:04d}", "Timestamp": ts, "Value": 1} for i in range(480)]
        self.put("Bulk", data, cli="v1")  # > 10 KiB: newest botocore gzips it
        _, out, _ = self.aws("cloudwatch", "list-metrics", "--namespace", "Bulk", "--no-paginate")
        self.assertEqual(len(out["Metrics"]), 500)
        self.assertIn("NextToken", out)
        _, out, _ = self.aws("cloudwatch", "list-metrics", "--namespace", "Bulk")
        self.assertEqual(len({m["MetricName"] for m in out["Metrics"]}), 520)
        _, out, _ = self.stats("Bulk", "m0010", "--statistics", "Sum", "SampleCount")
        point = self.only_datapoint(out)
        self.assertEqual((point["Sum"], point["SampleCount"]), (11.0, 2.0))

    # ---- errors ----------------------------------------------------------------

    def check_errors(self, cli, rc_expected):
        cases = [
            ("AWS/EC2", [{"MetricName": "a", "Value": 1}], "InvalidParameterValue",
             "The value AWS/EC2 for parameter Namespace is invalid."),
            ("App", [{"MetricName": "a", "Value": 1, "Unit": "Parsecs"}], "InvalidParameterValue",
             "The parameter MetricData.member.1.Unit must be a value in the set [ Seconds,"),
            ("App", [{"MetricName": "a"}], "InvalidParameterCombination",
             "At least one of the parameters MetricData.member.1.Value and "
             "MetricData.member.1.StatisticValues must be specified."),
            ("App", [{"MetricName": "a", "Value": 1, "Timestamp": "2001-01-01T00:00:00Z"},
                     {"MetricName": "b", "Value": 1, "Timestamp": "2001-01-01T00:00:00Z"}],
             "InvalidParameterValue",
             "The parameter MetricData.member.1.Timestamp must specify a time within the past "
             "two weeks.\nThe parameter MetricData.member.2.Timestamp must specify a time within "
             "the past two weeks."),
        ]
        for namespace, data, code, message in cases:
            rc, _, err = self.put(namespace, data, cli=cli, expect_rc=None)
            self.assertEqual(rc, rc_expected, err)
            self.assertIn(f"An error occurred ({code}) when calling the PutMetricData operation: "
                          f"{message}", err)
        rc, _, err = self.stats("App", "a", "--statistics", "Sum", period=1,
                                start=self.t - datetime.timedelta(days=1), end=self.t, cli=cli,
                                expect_rc=None)
        self.assertEqual(rc, rc_expected, err)
        self.assertIn("(InvalidParameterCombination) when calling the GetMetricStatistics "
                      "operation: You have requested up to 86400 datapoints, which exceeds the "
                      "limit of 1440. You may reduce the datapoints requested by increasing "
                      "Period, or decreasing the time range.", err)
        rc, _, err = self.stats("App", "a", "--statistics", "Sum", "--extended-statistics", "p99",
                                cli=cli, expect_rc=None)
        self.assertIn("(InvalidParameterCombination)", err)

    def test_errors_query_protocol(self):
        self.check_errors("v2", V2_ERROR_RC)

    def test_errors_json_protocol(self):
        self.check_errors("v1", V1_ERROR_RC)

    # ---- Smithy RPC v2 CBOR ----------------------------------------------------

    def test_cbor_clients_put_get_list_and_see_modelled_errors(self):
        client = cbor_client(self.url)
        if client is None:
            self.skipTest("this botocore cannot speak smithy-rpc-v2-cbor to CloudWatch")
        t = self.t
        client.put_metric_data(Namespace="Cbor", MetricData=[
            {"MetricName": "Lat", "Timestamp": t, "Values": [1.0, 2.0, 3.0, 4.0],
             "Dimensions": [{"Name": "Host", "Value": "a"}], "Unit": "Seconds"}])
        window = dict(StartTime=t - datetime.timedelta(minutes=1),
                      EndTime=t + datetime.timedelta(minutes=2))
        out = client.get_metric_statistics(Namespace="Cbor", MetricName="Lat", Period=60,
                                           Dimensions=[{"Name": "Host", "Value": "a"}],
                                           Statistics=["Sum", "Average"], **window)
        point = out["Datapoints"][0]
        self.assertEqual((point["Sum"], point["Average"], point["Unit"]), (10.0, 2.5, "Seconds"))
        self.assertEqual(point["Timestamp"], t)  # CBOR tag 1 → the same instant
        out = client.get_metric_statistics(Namespace="Cbor", MetricName="Lat", Period=60,
                                           Dimensions=[{"Name": "Host", "Value": "a"}],
                                           ExtendedStatistics=["p50"], **window)
        self.assertEqual(out["Datapoints"][0]["ExtendedStatistics"], {"p50": 2.0})
        out = client.get_metric_data(MetricDataQueries=[
            {"Id": "m", "MetricStat": {"Metric": {"Namespace": "Cbor", "MetricName": "Lat",
                                                  "Dimensions": [{"Name": "Host", "Value": "a"}]},
                                       "Period": 60, "Stat": "Maximum"}, "ReturnData": False},
            {"Id": "e", "Expression": "m * 1000"}], **window)
        self.assertEqual(out["MetricDataResults"][0]["Values"], [4000.0])
        metrics = client.list_metrics(Namespace="Cbor")["Metrics"]
        self.assertEqual(metrics, [{"Namespace": "Cbor", "MetricName": "Lat",
                                    "Dimensions": [{"Name": "Host", "Value": "a"}]}])
        with self.assertRaises(client.exceptions.InvalidParameterValueException) as caught:
            client.put_metric_data(Namespace="AWS/Foo", MetricData=[{"MetricName": "a",
                                                                      "Value": 1}])
        error = caught.exception.response["Error"]
        self.assertEqual(error["Code"], "InvalidParameterValue")
        self.assertEqual(error["Message"], "The value AWS/Foo for parameter Namespace is invalid.")


if __name__ == "__main__":
    unittest.main()
