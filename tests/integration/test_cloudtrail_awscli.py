"""CloudTrail event history and audit-event ingestion on the real collector,
driven by the real AWS CLI.

`aws cloudtrail lookup-events` runs with Debian's awscli 2.9.19 and the
Python awscli 1.x; `aws cloudtrail-data put-audit-events` exists only in
awscli 1.x. Bulk set-up (dozens of calls) and the requests the CLI refuses
to send (MaxResults 0, a forged NextToken) go through botocore directly.
"""
import base64
import concurrent.futures
import datetime
import hashlib
import json
import re
import time
import unittest

from twtest import ACCESS_KEY_ID, ACCOUNT_ID, SECRET_ACCESS_KEY, USER_NAME, CollectorTestCase

BOB_KEY = "AKIDTRAILWATCHBOB01"
BOB_SECRET = "bobsecretbobsecretbobsecretbobsecret0000"
CHANNEL = f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:channel/0f3a9c1e-4b7d-4e2a-9b1c-5d6e7f809a1b"
UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"


def by(key, value):
    return ["--lookup-attributes", f"AttributeKey={key},AttributeValue={value}"]


def event_time_seconds(value):
    """EventTime as the CLIs print it: v2 an ISO string, v1 epoch seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    return datetime.datetime.fromisoformat(value).timestamp()


def audit_data(name="Login", principal="carol", when=None, account=ACCOUNT_ID, uid="u-1"):
    when = when or datetime.datetime.now(datetime.timezone.utc)
    return json.dumps({
        "version": "1.0",
        "userIdentity": {"type": "CustomUser", "principalId": principal},
        "userAgent": "myapp/2.1",
        "eventSource": "myapp.example.com",
        "eventName": name,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "UID": uid,
        "requestParameters": {"user": principal},
        "sourceIPAddress": "192.0.2.10",
        "recipientAccountId": account,
    })


def checksum(data):
    return base64.b64encode(hashlib.sha256(data.encode()).digest()).decode()


class CloudTrailTestCase(CollectorTestCase):
    def setUp(self):
        super().setUp()
        self.start_collector(self.extra_config())

    def extra_config(self):
        return ""

    def lookup(self, *args, cli="v2", region="us-east-1", akid=ACCESS_KEY_ID,
               secret=SECRET_ACCESS_KEY):
        return self.aws("cloudtrail", "lookup-events", *args, cli=cli, region=region,
                        akid=akid, secret=secret)[1]

    def lookup_fails(self, *args, code, message, cli="v2"):
        rc, _, err = self.aws("cloudtrail", "lookup-events", *args, cli=cli, expect_rc=None)
        self.assertNotEqual(rc, 0, f"lookup-events {args} succeeded")
        self.assertIn(f"({code})", err)
        self.assertIn(message, err)

    def parallel(self, *calls):
        with concurrent.futures.ThreadPoolExecutor(len(calls)) as pool:
            return [f.result() for f in [pool.submit(c) for c in calls]]

    def client(self, service, akid=ACCESS_KEY_ID, secret=SECRET_ACCESS_KEY, region="us-east-1",
               validate=True):
        import botocore.config
        import botocore.session
        return botocore.session.get_session().create_client(
            service, region_name=region, endpoint_url=self.url, aws_access_key_id=akid,
            aws_secret_access_key=secret,
            config=botocore.config.Config(parameter_validation=validate,
                                          retries={"max_attempts": 1}))

    def put_audit(self, events, channel=CHANNEL, expect_rc=0, extra=()):
        return self.aws("cloudtrail-data", "put-audit-events", "--channel-arn", channel,
                        "--audit-events", json.dumps(events), *extra, cli="v1",
                        expect_rc=expect_rc)


class LookupEventsTest(CloudTrailTestCase):
    def test_who_created_this_log_group_is_one_lookup_away(self):
        before = time.time()
        self.aws("logs", "create-log-group", "--log-group-name", "/app/who")
        after = time.time()
        v2, v1 = self.parallel(
            lambda: self.lookup(*by("EventName", "CreateLogGroup")),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), cli="v1"))
        for cli, out in (("v2", v2), ("v1", v1)):
            with self.subTest(cli=cli):
                self.assertNotIn("NextToken", out)
                self.assertEqual(len(out["Events"]), 1, out)
                e = out["Events"][0]
                self.assertEqual(e["EventName"], "CreateLogGroup")
                self.assertEqual(e["Username"], USER_NAME)
                self.assertEqual(e["EventSource"], "logs.amazonaws.com")
                self.assertEqual(e["ReadOnly"], "false")
                self.assertEqual(e["AccessKeyId"], ACCESS_KEY_ID)
                self.assertRegex(e["EventId"], UUID)
                self.assertGreaterEqual(event_time_seconds(e["EventTime"]), int(before))
                self.assertLessEqual(event_time_seconds(e["EventTime"]), after)
                self.assertEqual(e["Resources"], [{"ResourceType": "AWS::Logs::LogGroup",
                                                   "ResourceName": "/app/who"}])
                self.assertIsInstance(e["CloudTrailEvent"], str)
                record = json.loads(e["CloudTrailEvent"])
                self.assertEqual(record["eventVersion"], "1.08")
                self.assertEqual(record["userIdentity"], {
                    "type": "IAMUser", "principalId": record["userIdentity"]["principalId"],
                    "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/{USER_NAME}",
                    "accountId": ACCOUNT_ID, "accessKeyId": ACCESS_KEY_ID,
                    "userName": USER_NAME})
                self.assertRegex(record["userIdentity"]["principalId"], r"^AIDA[A-Z0-9]+$")
                self.assertRegex(record["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
                self.assertEqual(datetime.datetime.strptime(
                    record["eventTime"], "%Y-%m-%dT%H:%M:%SZ").replace(
                        tzinfo=datetime.timezone.utc).timestamp(),
                    event_time_seconds(e["EventTime"]))
                self.assertEqual(record["eventSource"], "logs.amazonaws.com")
                self.assertEqual(record["eventName"], "CreateLogGroup")
                self.assertEqual(record["awsRegion"], "us-east-1")
                self.assertEqual(record["sourceIPAddress"], "127.0.0.1")
                self.assertTrue(record["userAgent"].startswith("aws-cli/"), record["userAgent"])
                self.assertEqual(record["requestParameters"], {"logGroupName": "/app/who"})
                self.assertIsNone(record["responseElements"])
                self.assertRegex(record["requestID"], UUID)
                self.assertEqual(record["eventID"], e["EventId"])
                self.assertIs(record["readOnly"], False)
                self.assertEqual(record["resources"], [{
                    "ARN": f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/app/who:*",
                    "accountId": ACCOUNT_ID, "type": "AWS::Logs::LogGroup"}])
                self.assertEqual(record["eventType"], "AwsApiCall")
                self.assertIs(record["managementEvent"], True)
                self.assertEqual(record["recipientAccountId"], ACCOUNT_ID)
                self.assertEqual(record["eventCategory"], "Management")
                self.assertNotIn("errorCode", record)
        self.assertEqual(v1["Events"][0]["EventId"], v2["Events"][0]["EventId"])

    def test_each_lookup_attribute_finds_its_events(self):
        self.aws("logs", "create-log-group", "--log-group-name", "/it/alice")
        self.aws("logs", "create-log-group", "--log-group-name", "/it/bob", akid=BOB_KEY,
                 secret=BOB_SECRET)
        self.aws("logs", "describe-log-groups", akid=BOB_KEY, secret=BOB_SECRET)
        created = self.lookup(*by("EventName", "CreateLogGroup"))["Events"]
        self.assertEqual([e["Username"] for e in created], ["bob", USER_NAME])  # newest first
        bob_create = created[0]["EventId"]
        arn = f"arn:aws:logs:us-east-1:{ACCOUNT_ID}:log-group:/it/bob:*"
        queries = [
            (by("EventId", bob_create), lambda names, users: names == ["CreateLogGroup"]),
            (by("EventName", "DescribeLogGroups"),
             lambda names, users: names == ["DescribeLogGroups"] and users == ["bob"]),
            (by("ReadOnly", "true"),
             lambda names, users: "DescribeLogGroups" in names and "CreateLogGroup" not in names),
            (by("ReadOnly", "false"),
             lambda names, users: names == ["CreateLogGroup", "CreateLogGroup"]),
            (by("Username", "bob"),
             lambda names, users: names == ["DescribeLogGroups", "CreateLogGroup"]),
            (by("ResourceType", "AWS::Logs::LogGroup"),
             lambda names, users: names == ["CreateLogGroup", "CreateLogGroup"]),
            (by("ResourceName", "/it/bob"), lambda names, users: users == ["bob"]),
            (by("ResourceName", arn), lambda names, users: users == ["bob"]),
            (by("EventSource", "logs.amazonaws.com"),
             lambda names, users: names == ["DescribeLogGroups", "CreateLogGroup",
                                            "CreateLogGroup"]),
            (by("AccessKeyId", BOB_KEY),
             lambda names, users: users == ["bob", "bob"]),
            (by("EventSource", "cloudtrail.amazonaws.com"),
             lambda names, users: set(names) == {"LookupEvents"}),
        ]
        results = self.parallel(*[lambda q=q: self.lookup(*q[0]) for q in queries])
        for (args, check), out in zip(queries, results):
            names = [e["EventName"] for e in out["Events"]]
            users = [e["Username"] for e in out["Events"]]
            self.assertTrue(check(names, users), f"{args}: {names} {users}")
        self.assertEqual(results[0]["Events"][0]["EventId"], bob_create)

    def test_events_are_kept_per_region(self):
        self.aws("logs", "create-log-group", "--log-group-name", "/london", region="eu-west-2")
        here, there = self.parallel(
            lambda: self.lookup(*by("EventName", "CreateLogGroup")),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), region="eu-west-2"))
        self.assertEqual(here["Events"], [])
        self.assertEqual(len(there["Events"]), 1)
        self.assertEqual(json.loads(there["Events"][0]["CloudTrailEvent"])["awsRegion"],
                         "eu-west-2")

    def test_time_range_is_inclusive(self):
        self.aws("logs", "create-log-group", "--log-group-name", "/timed")
        e = self.lookup(*by("EventName", "CreateLogGroup"))["Events"][0]
        t = int(event_time_seconds(e["EventTime"]))
        exact, later, earlier, iso = self.parallel(
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), "--start-time", str(t),
                                "--end-time", str(t)),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), "--start-time",
                                str(t + 1)),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), "--end-time", str(t - 1),
                                cli="v1"),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), "--start-time",
                                datetime.datetime.fromtimestamp(t - 60, datetime.timezone.utc)
                                .strftime("%Y-%m-%dT%H:%M:%SZ")))
        self.assertEqual([x["EventId"] for x in exact["Events"]], [e["EventId"]])
        self.assertEqual(later["Events"], [])
        self.assertEqual(earlier["Events"], [])
        self.assertEqual(len(iso["Events"]), 1)

    def test_many_events_page_newest_first(self):
        logs = self.client("logs")
        names = [f"/page/{i:03d}" for i in range(73)]
        for name in names:
            logs.create_log_group(logGroupName=name)
        # The CLI follows NextToken to the end (50 + 23).
        everything, small_pages, v1 = self.parallel(
            lambda: self.lookup(*by("EventName", "CreateLogGroup")),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), "--page-size", "7"),
            lambda: self.lookup(*by("EventName", "CreateLogGroup"), cli="v1"))
        shown = [json.loads(e["CloudTrailEvent"])["requestParameters"]["logGroupName"]
                 for e in everything["Events"]]
        self.assertEqual(shown, list(reversed(names)))
        self.assertEqual(len({e["EventId"] for e in everything["Events"]}), 73)
        self.assertEqual([e["EventId"] for e in small_pages["Events"]],
                         [e["EventId"] for e in everything["Events"]])
        self.assertEqual([e["EventId"] for e in v1["Events"]],
                         [e["EventId"] for e in everything["Events"]])

        first = self.lookup(*by("EventName", "CreateLogGroup"), "--max-items", "30")
        self.assertEqual(len(first["Events"]), 30)
        self.assertIn("NextToken", first)
        rest = self.lookup(*by("EventName", "CreateLogGroup"), "--starting-token",
                           first["NextToken"])
        self.assertNotIn("NextToken", rest)
        self.assertEqual([e["EventId"] for e in first["Events"] + rest["Events"]],
                         [e["EventId"] for e in everything["Events"]])

        # The wire: pages of MaxResults, no NextToken on the last one.
        ct = self.client("cloudtrail")
        attrs = [{"AttributeKey": "EventName", "AttributeValue": "CreateLogGroup"}]
        page = ct.lookup_events(LookupAttributes=attrs)
        self.assertEqual(len(page["Events"]), 50)
        page2 = ct.lookup_events(LookupAttributes=attrs, NextToken=page["NextToken"])
        self.assertEqual(len(page2["Events"]), 23)
        self.assertNotIn("NextToken", page2)
        # A token belongs to its parameters.
        with self.assertRaises(ct.exceptions.InvalidNextTokenException):
            ct.lookup_events(NextToken=page["NextToken"])
        with self.assertRaises(ct.exceptions.InvalidNextTokenException):
            ct.lookup_events(LookupAttributes=attrs, NextToken="bm90IGEgdG9rZW4=")

    def test_bad_parameters_get_cloudtrail_errors(self):
        two = ["--lookup-attributes", "AttributeKey=EventName,AttributeValue=A",
               "AttributeKey=Username,AttributeValue=B"]
        self.parallel(
            lambda: self.lookup_fails(*two, code="InvalidLookupAttributesException",
                                      message="only one lookup attribute"),
            lambda: self.lookup_fails(*two, cli="v1", code="InvalidLookupAttributesException",
                                      message="only one lookup attribute"),
            lambda: self.lookup_fails(*by("Colour", "blue"),
                                      code="InvalidLookupAttributesException",
                                      message="AttributeKey \"Colour\" is not valid"),
            lambda: self.lookup_fails(*by("ReadOnly", "maybe"),
                                      code="InvalidLookupAttributesException",
                                      message="true or false"),
            lambda: self.lookup_fails("--page-size", "51", code="InvalidMaxResultsException",
                                      message="MaxResults must be between 1 and 50; got 51."),
            lambda: self.lookup_fails("--start-time", "1704067300", "--end-time", "1704067200",
                                      code="InvalidTimeRangeException",
                                      message="must not be after the EndTime"),
            lambda: self.lookup_fails("--event-category", "management", cli="v1",
                                      code="InvalidEventCategoryException",
                                      message="the only event category is insight"))
        # Requests the CLI will not send itself (botocore checks MaxResults >= 1).
        ct = self.client("cloudtrail", validate=False)
        with self.assertRaises(ct.exceptions.InvalidMaxResultsException):
            ct.lookup_events(MaxResults=0)
        # insight is valid: there are no Insights events.
        self.assertEqual(ct.lookup_events(EventCategory="insight")["Events"], [])

    def test_failed_calls_are_recorded_with_their_error(self):
        self.aws("logs", "create-log-group", "--log-group-name", "/twice")
        self.aws("logs", "create-log-group", "--log-group-name", "/twice", expect_rc=None)
        events = self.lookup(*by("EventName", "CreateLogGroup"))["Events"]
        self.assertEqual(len(events), 2)
        failed, ok = (json.loads(e["CloudTrailEvent"]) for e in events)
        self.assertEqual(failed["errorCode"], "ResourceAlreadyExistsException")
        self.assertEqual(failed["errorMessage"], "The specified log group already exists")
        self.assertIsNone(failed["responseElements"])
        self.assertEqual(failed["requestParameters"], {"logGroupName": "/twice"})
        self.assertNotIn("errorCode", ok)

    def test_data_events_stay_out_of_event_history(self):
        logs = self.client("logs")
        logs.create_log_group(logGroupName="g")
        logs.create_log_stream(logGroupName="g", logStreamName="s")
        self.aws("logs", "put-log-events", "--log-group-name", "g", "--log-stream-name", "s",
                 "--log-events", json.dumps([{"timestamp": int(time.time() * 1000),
                                              "message": "hello"}]))
        out = self.lookup(*by("EventName", "PutLogEvents"))
        self.assertEqual(out["Events"], [])
        names = {e["EventName"] for e in self.lookup(*by("EventSource",
                                                         "logs.amazonaws.com"))["Events"]}
        self.assertEqual(names, {"CreateLogGroup", "CreateLogStream"})


class PutAuditEventsTest(CloudTrailTestCase):
    def test_audit_events_are_ingested_and_found_by_lookup_events(self):
        data = audit_data(name="ApproveInvoice", principal="carol")
        _, out, _ = self.put_audit([{"id": "inv-1", "eventData": data,
                                     "eventDataChecksum": checksum(data)}],
                                   extra=["--external-id", "ext-42"])
        self.assertEqual(out["failed"], [])
        self.assertEqual(len(out["successful"]), 1)
        self.assertEqual(out["successful"][0]["id"], "inv-1")
        event_id = out["successful"][0]["eventID"]
        self.assertRegex(event_id, UUID)

        by_name, by_user, by_source, by_id, v1 = self.parallel(
            lambda: self.lookup(*by("EventName", "ApproveInvoice")),
            lambda: self.lookup(*by("Username", "carol")),
            lambda: self.lookup(*by("EventSource", "myapp.example.com")),
            lambda: self.lookup(*by("EventId", event_id)),
            lambda: self.lookup(*by("EventName", "ApproveInvoice"), cli="v1"))
        for out in (by_name, by_user, by_source, by_id, v1):
            self.assertEqual([e["EventId"] for e in out["Events"]], [event_id])
        e = by_name["Events"][0]
        self.assertEqual(e["Username"], "carol")
        self.assertEqual(e["EventSource"], "myapp.example.com")
        record = json.loads(e["CloudTrailEvent"])
        self.assertEqual(record["eventCategory"], "ActivityAuditLog")
        self.assertEqual(record["eventType"], "ActivityLog")
        self.assertEqual(record["eventID"], event_id)
        self.assertEqual(record["awsRegion"], "us-east-1")
        self.assertEqual(record["recipientAccountId"], ACCOUNT_ID)
        self.assertEqual(record["metadata"]["channelARN"], CHANNEL)
        self.assertRegex(record["metadata"]["ingestionTime"], r"Z$")
        self.assertEqual(record["eventData"], json.loads(data))
        self.assertEqual(record["eventTime"], json.loads(data)["eventTime"])

        # The PutAuditEvents call itself is a data event: not in the history.
        self.assertEqual(self.lookup(*by("EventName", "PutAuditEvents"))["Events"], [])

    def test_bad_events_fail_one_by_one(self):
        good = audit_data(uid="good")
        events = [
            {"id": "good", "eventData": good},
            {"id": "tampered", "eventData": audit_data(uid="t"), "eventDataChecksum":
                checksum(audit_data(uid="other"))},
            {"id": "stranger", "eventData": audit_data(account="111122223333")},
            {"id": "aws", "eventData": audit_data().replace("myapp.example.com",
                                                            "iam.amazonaws.com")},
            {"id": "broken", "eventData": "{not json"},
            {"id": "nameless", "eventData": json.dumps(
                {k: v for k, v in json.loads(good).items() if k != "eventName"})},
            {"id": "long", "eventData": good.replace('"Login"', '"' + "L" * 1025 + '"')},
        ]
        _, out, _ = self.put_audit(events)
        self.assertEqual([s["id"] for s in out["successful"]], ["good"])
        codes = {f["id"]: f["errorCode"] for f in out["failed"]}
        self.assertEqual(codes, {"tampered": "InvalidChecksum", "stranger": "InvalidRecipient",
                                 "aws": "InvalidEventSource", "broken": "InvalidData",
                                 "nameless": "FieldNotFound", "long": "FieldTooLong"})
        for f in out["failed"]:
            self.assertTrue(f["errorMessage"])

    def test_request_level_errors(self):
        data = audit_data()
        cases = [
            ("arn:aws:cloudtrail:us-east-1:bad", "InvalidChannelARN",
             "The specified channel ARN is not a valid channel ARN"),
            (f"arn:aws:cloudtrail:us-east-1:999999999999:channel/x",
             "ChannelInsufficientPermission",
             "The caller's account ID (123456789012) must be the same as the channel owner's"),
            (f"arn:aws:cloudtrail:eu-west-2:{ACCOUNT_ID}:channel/x", "ChannelNotFound",
             "The channel could not be found"),
        ]
        runs = [lambda c=c: (c, self.put_audit([{"id": "a", "eventData": data}], channel=c[0],
                                               expect_rc=None)) for c in cases]
        runs.append(lambda: (("dup", "DuplicatedAuditEventId",
                              "Two or more entries in the request have the same event ID: a."),
                             self.put_audit([{"id": "a", "eventData": data},
                                             {"id": "a", "eventData": data}], expect_rc=None)))
        for (channel, code, message), (rc, _, err) in self.parallel(*runs):
            with self.subTest(code=code):
                self.assertNotEqual(rc, 0)
                self.assertIn(f"An error occurred ({code}) when calling the PutAuditEvents "
                              f"operation: {message}", err)
        # Nothing was stored by any of them.
        self.assertEqual(self.lookup(*by("EventName", "Login"))["Events"], [])

    def test_a_repeated_id_is_accepted_once_per_channel(self):
        data = audit_data(name="Transfer")
        first = self.put_audit([{"id": "tx-1", "eventData": data}])[1]
        again = self.put_audit([{"id": "tx-1", "eventData": data},
                                {"id": "tx-2", "eventData": data}])[1]
        self.assertEqual(again["failed"], [])
        ids = {s["id"]: s["eventID"] for s in again["successful"]}
        self.assertEqual(ids["tx-1"], first["successful"][0]["eventID"])
        self.assertNotEqual(ids["tx-2"], ids["tx-1"])
        # Another channel is another id space.
        other = CHANNEL[:-4] + "ffff"
        third = self.put_audit([{"id": "tx-1", "eventData": data}], channel=other)[1]
        self.assertNotEqual(third["successful"][0]["eventID"], ids["tx-1"])
        events = self.lookup(*by("EventName", "Transfer"))["Events"]
        self.assertEqual(sorted(e["EventId"] for e in events),
                         sorted([ids["tx-1"], ids["tx-2"], third["successful"][0]["eventID"]]))


class RetentionTest(CloudTrailTestCase):
    def extra_config(self):
        return "[cloudtrail]\nevent_history_days = 1\n"

    def test_events_older_than_the_history_are_never_shown(self):
        now = datetime.datetime.now(datetime.timezone.utc)
        old = audit_data(name="Ancient", when=now - datetime.timedelta(days=2))
        recent = audit_data(name="Recent", when=now - datetime.timedelta(hours=20))
        out = self.put_audit([{"id": "old", "eventData": old},
                              {"id": "recent", "eventData": recent}])[1]
        self.assertEqual(len(out["successful"]), 2)
        start = str(int((now - datetime.timedelta(days=5)).timestamp()))
        ancient, fresh = self.parallel(
            lambda: self.lookup(*by("EventName", "Ancient"), "--start-time", start),
            lambda: self.lookup(*by("EventName", "Recent")))
        self.assertEqual(ancient["Events"], [])
        self.assertEqual(len(fresh["Events"]), 1)


if __name__ == "__main__":
    unittest.main()
