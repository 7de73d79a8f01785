"""CloudWatch Logs on the real collector, driven by the real AWS CLI.

Every operation goes through `aws logs ...` (Debian's awscli 2.9.19, and the
Python awscli 1.x with the newest botocore where it matters); bulk set-up
(dozens of groups) uses botocore directly to keep the suite fast. Errors are
checked by code and by AWS's exact message, as a user reads them on stderr.
"""
import concurrent.futures
import json
import sqlite3
import subprocess
import time
import unittest

from twtest import (ACCESS_KEY_ID, ACCOUNT_ID, AWS_V2, SECRET_ACCESS_KEY, CollectorTestCase,
                    wait_for)

DAY_MS = 24 * 3600 * 1000
HOUR_MS = 3600 * 1000


def now_ms():
    return int(time.time() * 1000)


def events_at(timestamps, text="event"):
    return json.dumps([{"timestamp": t, "message": f"{text} {i}"} for i, t in enumerate(timestamps)])


class LogsTestCase(CollectorTestCase):
    def setUp(self):
        super().setUp()
        self.start_collector()

    def logs(self, *args, cli="v2"):
        return self.aws("logs", *args, cli=cli)[1]

    def logs_fails(self, *args, code, message, cli="v2"):
        rc, _, err = self.aws("logs", *args, cli=cli, expect_rc=None)
        self.assertNotEqual(rc, 0, f"logs {args[0]} succeeded")
        self.assertIn(f"({code})", err)
        self.assertIn(message, err)
        return err

    def parallel(self, *calls):
        """Runs independent CLI calls at once (each CLI start costs a second);
        returns their results in order, raising the first failure."""
        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            futures = [pool.submit(call) for call in calls]
            return [f.result() for f in futures]

    def client(self):
        """botocore, for set-up that would take a minute through the CLI."""
        import botocore.session
        return botocore.session.get_session().create_client(
            "logs", region_name="us-east-1", endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key=SECRET_ACCESS_KEY)

    def make_stream(self, group, *streams):
        c = self.client()
        try:
            c.create_log_group(logGroupName=group)
        except c.exceptions.ResourceAlreadyExistsException:
            pass
        for s in streams:
            c.create_log_stream(logGroupName=group, logStreamName=s)
        return c

    def put(self, group, stream, timestamps, text="event", cli="v2"):
        return self.logs("put-log-events", "--log-group-name", group, "--log-stream-name", stream,
                         "--log-events", events_at(timestamps, text), cli=cli)

    def event_rows(self):
        db = sqlite3.connect(f"file:{self.data_dir}/collector.db?mode=ro", uri=True)
        try:
            return db.execute("SELECT count(*) FROM log_events").fetchone()[0]
        finally:
            db.close()


class LogGroupsTest(LogsTestCase):
    def test_groups_are_created_described_and_deleted(self):
        before = now_ms()
        self.logs("create-log-group", "--log-group-name", "/app/web", "--tags", "team=core")
        self.logs_fails("create-log-group", "--log-group-name", "/app/web",
                        code="ResourceAlreadyExistsException",
                        message="The specified log group already exists")
        self.logs("create-log-group", "--log-group-name", "/app/api")
        # Names are unique per region, not per account.
        self.aws("logs", "create-log-group", "--log-group-name", "/app/web", region="eu-west-2")
        groups, prefixed, matched, _, _, london = self.parallel(
            lambda: self.logs("describe-log-groups")["logGroups"],
            lambda: self.logs("describe-log-groups", "--log-group-name-prefix", "/app/w"),
            lambda: self.logs("describe-log-groups", "--log-group-name-pattern", "pi", cli="v1"),
            lambda: self.logs_fails("describe-log-groups", "--log-group-name-prefix", "/a",
                                    "--log-group-name-pattern", "a",
                                    code="InvalidParameterException", message="mutually exclusive"),
            # The CloudWatch agent falls back to a prefix on exactly this message.
            lambda: self.logs_fails("describe-log-groups", "--log-group-identifiers", "/app/web",
                                    cli="v1", code="InvalidParameterException",
                                    message="Input filter on Log group identifiers is not "
                                            "supported."),
            lambda: self.aws("logs", "describe-log-groups", region="eu-west-2")[1]["logGroups"])
        self.assertEqual([g["logGroupName"] for g in groups], ["/app/api", "/app/web"])
        self.assertEqual([g["arn"] for g in london],
                         [f"arn:aws:logs:eu-west-2:{ACCOUNT_ID}:log-group:/app/web:*"])
        web = groups[1]
        self.assertEqual(web["arn"], f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/app/web:*")
        self.assertGreaterEqual(web["creationTime"], before - 1000)
        self.assertLessEqual(web["creationTime"], now_ms())
        self.assertEqual(web["metricFilterCount"], 0)
        self.assertEqual(web["storedBytes"], 0)
        self.assertNotIn("retentionInDays", web)
        self.assertEqual([g["logGroupName"] for g in prefixed["logGroups"]], ["/app/web"])
        self.assertEqual([g["logGroupName"] for g in matched["logGroups"]], ["/app/api"])

        self.logs("delete-log-group", "--log-group-name", "/app/api")
        self.logs_fails("delete-log-group", "--log-group-name", "/app/api",
                        code="ResourceNotFoundException",
                        message="The specified log group does not exist.")
        groups = self.logs("describe-log-groups")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in groups], ["/app/web"])

    def test_bad_and_reserved_names_are_refused(self):
        self.logs_fails("create-log-group", "--log-group-name", "bad:name",
                        code="InvalidParameterException",
                        message="1 validation error detected: Value 'bad:name' at 'logGroupName' "
                                "failed to satisfy constraint: Member must satisfy regular "
                                "expression pattern: [\\.\\-_/#A-Za-z0-9]+")
        self.logs_fails("create-log-group", "--log-group-name", "AWS/mine",
                        code="InvalidParameterException",
                        message="Log groups starting with AWS/ are reserved for AWS.")
        self.logs("create-log-group", "--log-group-name", "g")
        self.logs_fails("create-log-stream", "--log-group-name", "g", "--log-stream-name", "a:b",
                        code="InvalidParameterException",
                        message="Member must satisfy regular expression pattern: [^:*]*")

    def test_describe_log_groups_paginates(self):
        c = self.client()
        names = [f"/pages/g{i:02d}" for i in range(55)]
        for name in reversed(names):
            c.create_log_group(logGroupName=name)
        # The CLI follows nextToken through both pages (50 + 5).
        everything = self.logs("describe-log-groups")["logGroups"]
        self.assertEqual([g["logGroupName"] for g in everything], names)
        first = self.logs("describe-log-groups", "--max-items", "20", "--page-size", "7")
        self.assertEqual([g["logGroupName"] for g in first["logGroups"]], names[:20])
        self.assertIn("NextToken", first)
        rest = self.logs("describe-log-groups", "--starting-token", first["NextToken"])
        self.assertEqual([g["logGroupName"] for g in rest["logGroups"]], names[20:])
        self.assertNotIn("NextToken", rest)


class LogStreamsTest(LogsTestCase):
    def test_streams_lifecycle_and_order(self):
        self.logs("create-log-group", "--log-group-name", "g")
        for s in ["b", "a", "c"]:
            self.logs("create-log-stream", "--log-group-name", "g", "--log-stream-name", s)
        self.logs_fails("create-log-stream", "--log-group-name", "g", "--log-stream-name", "a",
                        code="ResourceAlreadyExistsException",
                        message="The specified log stream already exists")
        self.logs_fails("create-log-stream", "--log-group-name", "nope", "--log-stream-name", "a",
                        code="ResourceNotFoundException",
                        message="The specified log group does not exist.")
        t = now_ms()
        self.put("g", "a", [t - 5000, t - 4000])
        self.put("g", "b", [t - 1000])

        streams, latest, _ = self.parallel(
            lambda: self.logs("describe-log-streams", "--log-group-name", "g")["logStreams"],
            lambda: self.logs("describe-log-streams", "--log-group-name", "g", "--order-by",
                              "LastEventTime", "--descending")["logStreams"],
            lambda: self.logs_fails("describe-log-streams", "--log-group-name", "g",
                                    "--order-by", "LastEventTime", "--log-stream-name-prefix",
                                    "a", code="InvalidParameterException",
                                    message="Cannot order by LastEventTime with a "
                                            "logStreamNamePrefix."))
        self.assertEqual([s["logStreamName"] for s in streams], ["a", "b", "c"])
        a = streams[0]
        self.assertEqual(a["firstEventTimestamp"], t - 5000)
        self.assertEqual(a["lastEventTimestamp"], t - 4000)
        self.assertGreaterEqual(a["lastIngestionTime"], t - 1000)
        self.assertEqual(a["storedBytes"], 0)
        self.assertIn("uploadSequenceToken", a)
        self.assertEqual(a["arn"], f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:g:log-stream:a")
        self.assertNotIn("firstEventTimestamp", streams[2])

        self.assertEqual([s["logStreamName"] for s in latest], ["b", "a", "c"])

        self.logs("delete-log-stream", "--log-group-name", "g", "--log-stream-name", "c")
        self.logs_fails("delete-log-stream", "--log-group-name", "g", "--log-stream-name", "c",
                        code="ResourceNotFoundException",
                        message="The specified log stream does not exist.")
        self.logs_fails("put-log-events", "--log-group-name", "g", "--log-stream-name", "c",
                        "--log-events", events_at([t]), code="ResourceNotFoundException",
                        message="The specified log stream does not exist.")

    def test_describe_log_streams_paginates_by_name(self):
        self.make_stream("g", *[f"s{i:02d}" for i in range(12)])
        out = self.logs("describe-log-streams", "--log-group-name", "g", "--page-size", "5")
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]],
                         [f"s{i:02d}" for i in range(12)])
        out = self.logs("describe-log-streams", "--log-group-name", "g", "--descending",
                        "--max-items", "3")
        self.assertEqual([s["logStreamName"] for s in out["logStreams"]], ["s11", "s10", "s09"])


class PutLogEventsTest(LogsTestCase):
    def test_whole_call_rules(self):
        self.make_stream("g", "s")
        t = now_ms()
        # 9 events of 120,000 bytes: 1,080,234 bytes with the 26-byte overhead.
        big = self.write("big.json", json.dumps({
            "logGroupName": "g", "logStreamName": "s",
            "logEvents": [{"timestamp": t, "message": "x" * 120000} for _ in range(9)]}))
        many = self.write("many.json", json.dumps({
            "logGroupName": "g", "logStreamName": "s",
            "logEvents": [{"timestamp": t, "message": "m"} for _ in range(10001)]}))
        put = ["put-log-events", "--log-group-name", "g", "--log-stream-name", "s"]
        self.parallel(
            lambda: self.logs_fails(*put, "--log-events", events_at([t, t - 1]),
                                    code="InvalidParameterException",
                                    message="Log events in a single PutLogEvents request must "
                                            "be in chronological order."),
            lambda: self.logs_fails(*put, "--log-events", events_at([t - 25 * HOUR_MS, t]),
                                    code="InvalidParameterException",
                                    message="The batch of log events in a single PutLogEvents "
                                            "request cannot span more than 24 hours."),
            lambda: self.logs_fails("put-log-events", "--cli-input-json", f"file://{big}",
                                    code="InvalidParameterException",
                                    message="Upload too large: 1080234 bytes exceeds limit of "
                                            "1048576"),
            lambda: self.logs_fails("put-log-events", "--cli-input-json", f"file://{many}",
                                    code="InvalidParameterException",
                                    message="Member must have length less than or equal to "
                                            "10000"))
        # Nothing of the refused batches was stored.
        out = self.logs("get-log-events", "--log-group-name", "g", "--log-stream-name", "s")
        self.assertEqual(out["events"], [])

    def test_out_of_window_events_are_reported_and_the_rest_stored(self):
        self.make_stream("g", "s")
        t = now_ms()
        out = self.put("g", "s", [t - 15 * DAY_MS, t - 1000, t, t + 3 * HOUR_MS])
        self.assertEqual(out["rejectedLogEventsInfo"],
                         {"tooOldLogEventEndIndex": 1, "tooNewLogEventStartIndex": 3})
        self.assertTrue(out["nextSequenceToken"])
        events = self.logs("get-log-events", "--log-group-name", "g", "--log-stream-name",
                           "s")["events"]
        self.assertEqual([e["message"] for e in events], ["event 1", "event 2"])
        self.assertEqual([e["timestamp"] for e in events], [t - 1000, t])
        for e in events:
            self.assertGreaterEqual(e["ingestionTime"], t - 1000)
            self.assertLessEqual(e["ingestionTime"], now_ms())
        groups = self.logs("describe-log-groups")["logGroups"]
        self.assertEqual(groups[0]["storedBytes"], len("event 1") + len("event 2"))

        # Older than the group's retention: expired, reported by index.
        self.logs("put-retention-policy", "--log-group-name", "g", "--retention-in-days", "1")
        out = self.put("g", "s", [t - 3 * DAY_MS, t - 2 * DAY_MS, t])
        self.assertEqual(out["rejectedLogEventsInfo"], {"expiredLogEventEndIndex": 2})

    def test_sequence_tokens_are_returned_and_ignored(self):
        self.make_stream("g", "s")
        t = now_ms()
        first = self.put("g", "s", [t])["nextSequenceToken"]
        out = self.logs("put-log-events", "--log-group-name", "g", "--log-stream-name", "s",
                        "--log-events", events_at([t]), "--sequence-token", "stale-token")
        self.assertNotEqual(out["nextSequenceToken"], first)


class RetentionTest(LogsTestCase):
    def test_retention_hides_then_sweeps_expired_events(self):
        self.make_stream("g", "s")
        t = now_ms()
        self.put("g", "s", [t - 3 * DAY_MS, t - 3 * DAY_MS + 1, t - 3 * DAY_MS + 2], text="old")
        self.put("g", "s", [t - HOUR_MS], text="recent")
        self.logs_fails("put-retention-policy", "--log-group-name", "g", "--retention-in-days", "2",
                        code="InvalidParameterException",
                        message="Value '2' at 'retentionInDays' failed to satisfy constraint: "
                                "Member must satisfy enum value set: [1, 3, 5, 7, 14, 30, 60, 90, "
                                "120, 150, 180, 365, 400, 545, 731, 1096, 1827")
        self.logs_fails("put-retention-policy", "--log-group-name", "missing",
                        "--retention-in-days", "1", code="ResourceNotFoundException",
                        message="The specified log group does not exist.")
        self.logs("put-retention-policy", "--log-group-name", "g", "--retention-in-days", "1")
        group = self.logs("describe-log-groups")["logGroups"][0]
        self.assertEqual(group["retentionInDays"], 1)

        # Expired events are never read, even before the sweep removed them.
        events = self.logs("get-log-events", "--log-group-name", "g", "--log-stream-name",
                           "s", "--start-from-head")["events"]
        self.assertEqual([e["message"] for e in events], ["recent 0"])
        events = self.logs("filter-log-events", "--log-group-name", "g")["events"]
        self.assertEqual([e["message"] for e in events], ["recent 0"])
        # The sweep, started by the new policy, deletes them from disk.
        wait_for(lambda: self.event_rows() == 1, timeout=20, interval=0.2,
                 what="the retention sweep to delete the 3 expired events")
        self.assertEqual(self.logs("describe-log-groups")["logGroups"][0]["storedBytes"],
                         len("recent 0"))

        self.logs("delete-retention-policy", "--log-group-name", "g")
        self.assertNotIn("retentionInDays", self.logs("describe-log-groups")["logGroups"][0])
        # 1096 is allowed by the current model (the newest CLI knows it).
        self.logs("put-retention-policy", "--log-group-name", "g", "--retention-in-days", "1096",
                  cli="v1")
        self.assertEqual(self.logs("describe-log-groups")["logGroups"][0]["retentionInDays"], 1096)


class GetLogEventsTest(LogsTestCase):
    def get(self, *args):
        return self.logs("get-log-events", "--log-group-name", "g", "--log-stream-name", "s",
                         *args)

    def test_pages_forward_and_backward_with_tokens(self):
        self.make_stream("g", "s")
        t = now_ms() - 100000
        self.put("g", "s", [t + i for i in range(25)])
        messages = [f"event {i}" for i in range(25)]

        def forward():
            """From the head: 10, 10, 5, then the same token again."""
            seen, token = [], None
            for expected in (10, 10, 5, 0):
                args = ["--start-from-head", "--limit", "10"]
                page = self.get(*args + (["--next-token", token] if token else []))
                self.assertEqual(len(page["events"]), expected)
                seen += [e["message"] for e in page["events"]]
                if expected == 0:
                    self.assertEqual(page["nextForwardToken"], token)
                token = page["nextForwardToken"]
            return seen

        def backward():
            """By default the latest page comes first, each page ascending."""
            seen, token = [], None
            for expected in (10, 10, 5, 0):
                page = self.get("--limit", "10", *(["--next-token", token] if token else []))
                self.assertEqual(len(page["events"]), expected)
                self.assertTrue(page["nextForwardToken"] and page["nextBackwardToken"])
                seen = [e["message"] for e in page["events"]] + seen
                if token is None:
                    self.assertEqual(page["events"][0]["message"], "event 15")
                if expected == 0:
                    self.assertEqual(page["nextBackwardToken"], token)
                token = page["nextBackwardToken"]
            return seen

        def time_range():
            """startTime inclusive, endTime exclusive."""
            page = self.get("--start-from-head", "--start-time", str(t + 5), "--end-time",
                            str(t + 8))
            return [e["message"] for e in page["events"]]

        ahead, back, ranged = self.parallel(forward, backward, time_range)
        self.assertEqual(ahead, messages)
        self.assertEqual(back, messages)
        self.assertEqual(ranged, messages[5:8])


class FilterLogEventsTest(LogsTestCase):
    def setUp(self):
        super().setUp()
        self.make_stream("web", "s1", "s2", "other")
        self.t = t = now_ms() - 60000
        c = self.client()
        c.put_log_events(logGroupName="web", logStreamName="s1", logEvents=[
            {"timestamp": t, "message": "ERROR database timeout"},
            {"timestamp": t + 1, "message": "INFO all good"},
            {"timestamp": t + 4, "message": '{"status": 500, "path": "/api"}'},
            {"timestamp": t + 5, "message": "10.0.0.1 alice 503 1234"},
        ])
        c.put_log_events(logGroupName="web", logStreamName="s2", logEvents=[
            {"timestamp": t + 2, "message": "WARN disk almost full"},
            {"timestamp": t + 3, "message": "ERROR disk full"},
            {"timestamp": t + 6, "message": "10.0.0.2 bob 200 99"},
        ])
        c.put_log_events(logGroupName="web", logStreamName="other", logEvents=[
            {"timestamp": t + 7, "message": "ERROR elsewhere"}])

    def filtered(self, *args, cli="v2"):
        return [e["message"] for e in
                self.logs("filter-log-events", "--log-group-name", "web", *args,
                          cli=cli)["events"]]

    def test_patterns_select_events_in_time_order(self):
        results = self.parallel(
            lambda: self.filtered("--filter-pattern", "ERROR"),
            lambda: self.filtered("--filter-pattern", "?WARN ?INFO"),
            lambda: self.filtered("--filter-pattern", 'ERROR -timeout -"elsewhere"'),
            lambda: self.filtered("--filter-pattern", "{ $.status = 500 }"),
            lambda: self.filtered("--filter-pattern", "[ip, user, status = 5*, bytes]"),
            lambda: self.logs_fails("filter-log-events", "--log-group-name", "web",
                                    "--filter-pattern", "{ $.status = ",
                                    code="InvalidParameterException",
                                    message="Invalid filter pattern"))
        self.assertEqual(results[0],
                         ["ERROR database timeout", "ERROR disk full", "ERROR elsewhere"])
        self.assertEqual(results[1], ["INFO all good", "WARN disk almost full"])
        self.assertEqual(results[2], ["ERROR disk full"])
        self.assertEqual(results[3], ['{"status": 500, "path": "/api"}'])
        self.assertEqual(results[4], ["10.0.0.1 alice 503 1234"])

    def test_streams_time_range_and_event_ids(self):
        t = self.t
        by_name, by_prefix, _, by_time = self.parallel(
            lambda: self.filtered("--log-stream-names", "s2", "--filter-pattern", "disk"),
            lambda: self.filtered("--log-stream-name-prefix", "s", "--filter-pattern", "ERROR",
                                  cli="v1"),
            lambda: self.logs_fails("filter-log-events", "--log-group-name", "web",
                                    "--log-stream-names", "s1", "--log-stream-name-prefix", "s",
                                    code="InvalidParameterException",
                                    message="mutually exclusive"),
            # startTime and endTime are both inclusive here.
            lambda: self.filtered("--start-time", str(t + 1), "--end-time", str(t + 3)))
        self.assertEqual(by_name, ["WARN disk almost full", "ERROR disk full"])
        self.assertEqual(by_prefix, ["ERROR database timeout", "ERROR disk full"])
        self.assertEqual(by_time, ["INFO all good", "WARN disk almost full", "ERROR disk full"])
        out, again = self.parallel(
            lambda: self.logs("filter-log-events", "--log-group-name", "web"),
            lambda: self.logs("filter-log-events", "--log-group-name", "web", cli="v1"))
        self.assertEqual(out["searchedLogStreams"], [])
        self.assertNotIn("nextToken", out)
        ids = [e["eventId"] for e in out["events"]]
        self.assertEqual(len(ids), 8)
        self.assertEqual(len(set(ids)), 8)
        self.assertEqual([e["logStreamName"] for e in out["events"]][:3], ["s1", "s1", "s2"])
        self.assertEqual([e["eventId"] for e in again["events"]], ids)

    def test_pagination_with_tokens(self):
        first = self.logs("filter-log-events", "--log-group-name", "web", "--max-items", "3",
                          "--page-size", "2")
        self.assertEqual(len(first["events"]), 3)
        self.assertIn("NextToken", first)
        rest = self.logs("filter-log-events", "--log-group-name", "web", "--starting-token",
                         first["NextToken"], "--page-size", "2")
        messages = [e["message"] for e in first["events"] + rest["events"]]
        self.assertEqual(len(messages), 8)
        self.assertEqual(messages[0], "ERROR database timeout")
        self.assertEqual(messages[-1], "ERROR elsewhere")

    def test_tail_prints_the_events(self):
        # aws logs tail prints text lines, not JSON: run it directly.
        r = subprocess.run([AWS_V2, "--endpoint-url", self.url, "logs", "tail", "web", "--since",
                            "1h", "--format", "short"], capture_output=True, text=True,
                           timeout=60, env=self.aws_env())
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 8, r.stdout)
        self.assertTrue(lines[0].endswith("ERROR database timeout"), lines[0])
        self.assertTrue(lines[-1].endswith("ERROR elsewhere"), lines[-1])


class TagsTest(LogsTestCase):
    def test_tags_by_name_and_by_arn(self):
        self.logs("create-log-group", "--log-group-name", "g", "--tags", "a=1")
        self.logs("tag-log-group", "--log-group-name", "g", "--tags", "b=2,c=3")
        self.assertEqual(self.logs("list-tags-log-group", "--log-group-name", "g")["tags"],
                         {"a": "1", "b": "2", "c": "3"})
        self.logs("untag-log-group", "--log-group-name", "g", "--tags", "a", "c")
        self.assertEqual(self.logs("list-tags-log-group", "--log-group-name", "g")["tags"],
                         {"b": "2"})
        arn = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:g"
        self.logs("tag-resource", "--resource-arn", arn, "--tags", "d=4")
        self.assertEqual(self.logs("list-tags-for-resource", "--resource-arn", arn)["tags"],
                         {"b": "2", "d": "4"})
        self.logs("untag-resource", "--resource-arn", arn, "--tag-keys", "b")
        self.assertEqual(self.logs("list-tags-for-resource", "--resource-arn", arn,
                                   cli="v1")["tags"], {"d": "4"})
        self.logs_fails("list-tags-log-group", "--log-group-name", "nope",
                        code="ResourceNotFoundException",
                        message="The specified log group does not exist.")


class OlderCliTest(LogsTestCase):
    def test_the_python_cli_round_trip(self):
        self.logs("create-log-group", "--log-group-name", "v1", cli="v1")
        self.logs("create-log-stream", "--log-group-name", "v1", "--log-stream-name", "s",
                  cli="v1")
        t = now_ms()
        out = self.put("v1", "s", [t, t + 1], text="from v1", cli="v1")
        self.assertNotIn("rejectedLogEventsInfo", out)
        got = self.logs("get-log-events", "--log-group-identifier", "v1", "--log-stream-name", "s",
                        "--start-from-head", cli="v1")
        self.assertEqual([e["message"] for e in got["events"]], ["from v1 0", "from v1 1"])
        streams = self.logs("describe-log-streams", "--log-group-identifier",
                            f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:v1", cli="v1")
        self.assertEqual([s["logStreamName"] for s in streams["logStreams"]], ["s"])


class CloudTrailTest(LogsTestCase):
    def test_create_log_group_is_in_the_event_history(self):
        self.logs("create-log-group", "--log-group-name", "/audited")
        out = self.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                       "AttributeKey=EventName,AttributeValue=CreateLogGroup")[1]
        events = [e for e in out["Events"] if e["EventName"] == "CreateLogGroup"]
        self.assertEqual(len(events), 1, out)
        self.assertEqual(events[0]["Username"], "alice")
        record = json.loads(events[0]["CloudTrailEvent"])
        self.assertEqual(record["eventSource"], "logs.amazonaws.com")
        self.assertEqual(record["requestParameters"]["logGroupName"], "/audited")
        self.assertEqual(record["userIdentity"]["userName"], "alice")
        arn = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/audited:*"
        self.assertEqual(record["resources"],
                         [{"ARN": arn, "accountId": ACCOUNT_ID, "type": "AWS::Logs::LogGroup"}])
        resources = events[0].get("Resources", [])
        self.assertEqual([r["ResourceType"] for r in resources], ["AWS::Logs::LogGroup"])
        self.assertIn(resources[0]["ResourceName"], ("/audited", arn))
        # "Who created this log group?" — one lookup by the group's name.
        out = self.aws("cloudtrail", "lookup-events", "--lookup-attributes",
                       f"AttributeKey=ResourceName,AttributeValue={resources[0]['ResourceName']}")[1]
        self.assertEqual([(e["EventName"], e["Username"]) for e in out["Events"]],
                         [("CreateLogGroup", "alice")])


if __name__ == "__main__":
    unittest.main()
