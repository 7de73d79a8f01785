"""Authentication and request dispatch of trailwatch-collector, driven with
the real AWS CLI (Debian's awscli 2.9.19 and the Python awscli 1.x) and with
requests signed here by hand (to control the clock, the body encoding and
the headers): every protocol gets the auth error its clients expect, in its
own envelope; gzip bodies are verified then inflated; a replayed batch id is
answered without running the operation again.
"""
import datetime
import gzip
import hashlib
import hmac
import json
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
import uuid

from twtest import ACCESS_KEY_ID, SECRET_ACCESS_KEY, CollectorTestCase

LOGS_TARGET = "Logs_20140328."
CLOUDTRAIL_TARGET = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
MONITORING_TARGET = "GraniteServiceVersion20100801."
JSON_11 = "application/x-amz-json-1.1"
JSON_10 = "application/x-amz-json-1.0"
FORM = "application/x-www-form-urlencoded; charset=utf-8"


def _hmac(key, text):
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def sign(method, url, headers, body, service, region="us-east-1", akid=ACCESS_KEY_ID,
         secret=SECRET_ACCESS_KEY, when=None):
    """SigV4 (spec/sigv4.md §2-5) in header form; returns the headers to send."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    parts = urllib.parse.urlsplit(url)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    hdrs = {k.lower(): v for k, v in headers.items()}
    hdrs["host"] = parts.netloc
    hdrs["x-amz-date"] = amz_date
    names = sorted(hdrs)
    canonical_headers = "".join(f"{n}:{' '.join(str(hdrs[n]).split())}\n" for n in names)
    pairs = sorted((urllib.parse.quote(urllib.parse.unquote(k), safe="-_.~"),
                    urllib.parse.quote(urllib.parse.unquote(v), safe="-_.~"))
                   for k, _, v in (item.partition("=") for item in parts.query.split("&") if item))
    canonical_query = "&".join(f"{k}={v}" for k, v in pairs)
    canonical = "\n".join([method, urllib.parse.quote(parts.path or "/", safe="/-_.~"),
                           canonical_query, canonical_headers, ";".join(names),
                           hashlib.sha256(body).hexdigest()])
    scope = f"{amz_date[:8]}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(("AWS4" + secret).encode(), amz_date[:8])
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    hdrs["authorization"] = (f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, "
                             f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return hdrs


class Response:
    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return f"<{self.status} {dict(self.headers)} {self.body[:600]!r}>"


class AuthTestCase(CollectorTestCase):
    def setUp(self):
        super().setUp()
        self.start_collector()

    def send(self, path, headers, body=b"", service=None, method="POST", signed=True, **sign_args):
        url = self.url + path
        if signed:
            headers = sign(method, url, headers, body, service, **sign_args)
        req = urllib.request.Request(url, data=body if method != "GET" else None,
                                     headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            return Response(e.code, e.headers, e.read())

    def logs(self, operation, members, body=None, extra_headers=None, **kw):
        headers = {"Content-Type": JSON_11, "X-Amz-Target": LOGS_TARGET + operation}
        headers.update(extra_headers or {})
        return self.send("/", headers, body if body is not None else json.dumps(members).encode(),
                         kw.pop("service", "logs"), **kw)

    def query(self, form, **kw):
        return self.send("/", {"Content-Type": FORM}, form.encode(), kw.pop("service", "monitoring"),
                         **kw)

    def assert_json_error(self, r, status, code, message=None):
        self.assertEqual(r.status, status, r)
        doc = r.json()
        self.assertEqual(doc["__type"].split("#")[-1], code, r)
        if message:
            self.assertIn(message, doc["message"], r)
        self.assertTrue(r.header("x-amzn-RequestId"), r)
        return doc

    def assert_query_error(self, r, status, code, message=None):
        self.assertEqual(r.status, status, r)
        text = r.body.decode()
        self.assertIn("<ErrorResponse", text, r)
        self.assertIn('xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"', text)
        self.assertIn(f"<Code>{code}</Code>", text, r)
        self.assertIn("<Type>Sender</Type>", text, r)
        self.assertRegex(text, r"<RequestId>[0-9a-f-]{36}</RequestId>")
        if message:
            self.assertIn(message, text, r)

    def assert_cli_error(self, args, code, message=None, cli="v2", **kw):
        rc, _, err = self.aws(*args, cli=cli, expect_rc=None, **kw)
        self.assertNotEqual(rc, 0, err)
        self.assertIn(f"({code})", err)
        if message:
            self.assertIn(message, err)
        return err


class CliAuthTest(AuthTestCase):
    """What a user of the AWS CLI sees."""

    COMMANDS = {
        "logs": ["logs", "describe-log-groups"],
        "cloudwatch": ["cloudwatch", "list-metrics"],
        "cloudtrail": ["cloudtrail", "lookup-events", "--max-results", "5"],
    }

    def test_a_configured_user_is_served_by_every_service(self):
        for name, args in self.COMMANDS.items():
            with self.subTest(service=name, cli="v2"):
                self.aws(*args)
        # Newer botocore speaks JSON 1.0 to CloudWatch.
        with self.subTest(service="cloudwatch", cli="v1"):
            self.aws("cloudwatch", "list-metrics", cli="v1")

    def test_a_wrong_secret_is_a_signature_mismatch_in_each_protocol(self):
        wrong = "wrongsecretwrongsecretwrongsecretwrong000"
        self.assert_cli_error(self.COMMANDS["logs"], "InvalidSignatureException",
                              "The request signature we calculated does not match", secret=wrong)
        self.assert_cli_error(self.COMMANDS["cloudtrail"], "InvalidSignatureException",
                              secret=wrong)
        self.assert_cli_error(self.COMMANDS["cloudwatch"], "SignatureDoesNotMatch", secret=wrong)
        # JSON 1.0 with x-amzn-query-error: botocore reports the query code.
        self.assert_cli_error(self.COMMANDS["cloudwatch"], "SignatureDoesNotMatch", cli="v1",
                              secret=wrong)

    def test_an_unknown_key_is_an_unrecognized_client(self):
        akid = "AKIDNOSUCHUSER000000"
        message = "The security token included in the request is invalid"
        self.assert_cli_error(self.COMMANDS["logs"], "UnrecognizedClientException", message,
                              akid=akid)
        self.assert_cli_error(self.COMMANDS["cloudtrail"], "UnrecognizedClientException", message,
                              akid=akid)
        self.assert_cli_error(self.COMMANDS["cloudwatch"], "InvalidClientTokenId", message,
                              akid=akid)
        self.assert_cli_error(self.COMMANDS["cloudwatch"], "InvalidClientTokenId", message,
                              cli="v1", akid=akid)

    def test_a_region_that_is_not_configured_is_a_scope_error(self):
        message = "Credential should be scoped to a valid region"
        self.assert_cli_error(self.COMMANDS["logs"], "InvalidSignatureException", message,
                              region="ap-south-1")
        self.assert_cli_error(self.COMMANDS["cloudwatch"], "SignatureDoesNotMatch", message,
                              region="ap-south-1")
        self.assert_cli_error(self.COMMANDS["cloudtrail"], "InvalidSignatureException", message,
                              region="ap-south-1")

    def test_the_second_configured_region_is_served(self):
        self.aws("logs", "describe-log-groups", region="eu-west-2")


class WireAuthTest(AuthTestCase):
    """The exact envelopes, with requests signed here."""

    def test_an_unsigned_request_is_missing_its_token_in_every_envelope(self):
        r = self.logs("DescribeLogGroups", {}, signed=False)
        self.assert_json_error(r, 400, "MissingAuthenticationTokenException",
                               "Request is missing Authentication Token")
        self.assertEqual(r.header("Content-Type"), JSON_11)

        r = self.query("Action=ListMetrics&Version=2010-08-01", signed=False)
        self.assert_query_error(r, 403, "MissingAuthenticationToken")

        r = self.send("/", {"Content-Type": JSON_10,
                            "X-Amz-Target": MONITORING_TARGET + "ListMetrics",
                            "x-amzn-query-mode": "true"}, b"{}", signed=False)
        self.assert_json_error(r, 400, "MissingAuthenticationTokenException")
        self.assertEqual(r.header("x-amzn-query-error"), "MissingAuthenticationToken;Sender")

        r = self.send("/service/GraniteServiceVersion20100801/operation/ListMetrics",
                      {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                       "Accept": "application/cbor"}, b"\xa0", signed=False)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("Smithy-Protocol"), "rpc-v2-cbor")
        self.assertEqual(r.header("Content-Type"), "application/cbor")
        self.assertEqual(r.header("x-amzn-query-error"), "MissingAuthenticationToken;Sender")
        self.assertEqual(r.body[0] & 0xe0, 0xa0, "a CBOR map")
        self.assertIn(b"MissingAuthenticationTokenException", r.body)

        r = self.send("/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A"
                      "123456789012%3Achannel%2Fx", {"Content-Type": "application/json"},
                      b'{"auditEvents":[]}', signed=False)
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("x-amzn-ErrorType"), "MissingAuthenticationTokenException")

    def test_a_request_signed_20_minutes_ago_has_an_expired_signature(self):
        then = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        r = self.logs("DescribeLogGroups", {}, when=then)
        self.assert_json_error(r, 400, "InvalidSignatureException", "Signature expired")
        r = self.query("Action=ListMetrics&Version=2010-08-01", when=then)
        self.assert_query_error(r, 403, "SignatureDoesNotMatch", "Signature expired")

    def test_a_request_signed_for_another_service_names_both(self):
        r = self.logs("DescribeLogGroups", {}, service="monitoring")
        doc = self.assert_json_error(r, 400, "InvalidSignatureException",
                                     "Credential should be scoped to correct service: 'logs'")
        self.assertIn("signed for 'monitoring'", doc["message"])
        r = self.query("Action=ListMetrics&Version=2010-08-01", service="logs")
        self.assert_query_error(r, 403, "SignatureDoesNotMatch", "correct service")
        self.assertIn("logs", r.body.decode().split("<Message>")[1])

    def test_an_unknown_operation_is_refused_in_its_protocol(self):
        r = self.logs("NoSuchOperation", {})
        self.assert_json_error(r, 400, "UnknownOperationException", "NoSuchOperation")
        r = self.query("Action=NoSuchAction&Version=2010-08-01")
        self.assert_query_error(r, 400, "InvalidAction",
                                "Could not find operation NoSuchAction for version 2010-08-01")
        r = self.query("Version=2010-08-01&Namespace=x")
        self.assert_query_error(r, 400, "MissingAction")
        r = self.send("/", {"Content-Type": JSON_11, "X-Amz-Target": "Nobody_2020.Op"}, b"{}",
                      "logs")
        self.assert_json_error(r, 400, "UnknownOperationException")

    def test_a_body_that_is_not_json_is_a_serialization_error(self):
        r = self.logs("DescribeLogGroups", None, body=b"{not json")
        self.assert_json_error(r, 400, "SerializationException", "not valid JSON")
        r = self.logs("DescribeLogGroups", None, body=b"[]")
        self.assert_json_error(r, 400, "SerializationException", "must be a JSON object")

    def test_a_gzip_body_is_verified_as_sent_then_inflated(self):
        body = gzip.compress(json.dumps({"limit": 1}).encode())
        r = self.logs("DescribeLogGroups", None, body=body,
                      extra_headers={"Content-Encoding": "gzip"})
        self.assertEqual(r.status, 200, r)
        self.assertIn("logGroups", r.json())

    def test_a_corrupt_gzip_body_is_refused_clearly(self):
        good = gzip.compress(b'{"limit": 1}')
        for name, body in [("corrupt", good[:10] + b"\x00garbage\xff" * 4),
                           ("truncated", good[:-9]), ("not gzip", b'{"limit": 1}')]:
            with self.subTest(body=name):
                r = self.logs("DescribeLogGroups", None, body=body,
                              extra_headers={"Content-Encoding": "gzip"})
                doc = self.assert_json_error(r, 400, "SerializationException")
                self.assertIn("gzip", doc["message"])
        body = b"\x1f\x8b\x08\x00garbage"
        r = self.send("/", {"Content-Type": FORM, "Content-Encoding": "gzip"}, body, "monitoring")
        self.assert_query_error(r, 400, "InvalidQueryParameter", "gzip")

    def test_a_gzip_bomb_is_refused_not_inflated(self):
        # 8 MiB max_body by default: a body may inflate to 80 MiB at most.
        bomb = gzip.compress(b"{" + b" " * (90 << 20) + b"}", compresslevel=9)
        self.assertLess(len(bomb), 1 << 20)
        r = self.logs("DescribeLogGroups", None, body=bomb,
                      extra_headers={"Content-Encoding": "gzip"})
        self.assert_json_error(r, 413, "RequestEntityTooLargeException")

    def test_a_body_over_max_body_is_request_entity_too_large(self):
        # Over max_body (8 MiB) but within the server's slack: answered in AWS terms.
        size = (8 << 20) + (256 << 10)
        big = b'{"x":"' + b"a" * size + b'"}'
        r = self.logs("DescribeLogGroups", None, body=big)
        self.assert_json_error(r, 413, "RequestEntityTooLargeException")
        r = self.query("Action=ListMetrics&Version=2010-08-01&x=" + "a" * size)
        self.assert_query_error(r, 413, "RequestEntityTooLarge")

    def test_cbor_requests_route_on_their_path_and_answer_in_cbor(self):
        path = "/service/GraniteServiceVersion20100801/operation/ListMetrics"
        headers = {"smithy-protocol": "rpc-v2-cbor", "Content-Type": "application/cbor",
                   "Accept": "application/cbor", "x-amzn-query-mode": "true"}
        r = self.send(path, headers, b"\xa0", "monitoring")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Smithy-Protocol"), "rpc-v2-cbor")
        self.assertEqual(r.header("Content-Type"), "application/cbor")
        self.assertEqual(r.body[0] & 0xe0, 0xa0, r)
        # The namespaced service name routes too (Smithy rpcv2Cbor).
        r = self.send("/prefix/service/com.amazonaws.cloudwatch.GraniteServiceVersion20100801"
                      "/operation/ListMetrics", headers, b"\xa0", "monitoring")
        self.assertEqual(r.status, 200, r)
        # A CBOR request must not carry X-Amz-Target.
        r = self.send(path, dict(headers, **{"X-Amz-Target": MONITORING_TARGET + "ListMetrics"}),
                      b"\xa0", "monitoring")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("Smithy-Protocol"), "rpc-v2-cbor")
        self.assertIn(b"SerializationException", r.body)
        # An undecodable CBOR body.
        r = self.send(path, headers, b"\xbf\x61", "monitoring")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("x-amzn-query-error"), "SerializationException;Sender")

    def test_query_parameters_may_come_in_the_url(self):
        r = self.send("/?Action=ListMetrics&Version=2010-08-01", {}, b"", "monitoring",
                      method="GET")
        self.assertEqual(r.status, 200, r)
        self.assertIn(b"<ListMetricsResponse", r.body)
        self.assertRegex(r.body.decode(), r"<RequestId>[0-9a-f-]{36}</RequestId>")

    def test_rest_json_errors_carry_x_amzn_errortype(self):
        path = ("/PutAuditEvents?channelArn=arn%3Aaws%3Acloudtrail%3Aus-east-1%3A123456789012"
                "%3Achannel%2Fx")
        r = self.send(path, {"Content-Type": "application/json"}, b'{"auditEvents":[]}',
                      "cloudtrail")
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.header("x-amzn-ErrorType"), "InvalidSignatureException")
        self.assertIn("correct service: 'cloudtrail-data'", r.json()["message"])

    def test_every_json_answer_carries_a_request_id(self):
        r = self.logs("DescribeLogGroups", {})
        self.assertEqual(r.status, 200, r)
        self.assertRegex(r.header("x-amzn-RequestId"), r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-"
                                                        r"[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
        self.assertEqual(r.header("Content-Type"), JSON_11)
        other = self.logs("DescribeLogGroups", {})
        self.assertNotEqual(other.header("x-amzn-RequestId"), r.header("x-amzn-RequestId"))


class BatchReplayTest(AuthTestCase):
    """X-Trailwatch-Batch-Id: the agent's exactly-once header."""

    def put_events(self, batch_id, message):
        members = {"logGroupName": "/replay", "logStreamName": "s",
                   "logEvents": [{"timestamp": int(time.time() * 1000), "message": message}]}
        return self.logs("PutLogEvents", members,
                         extra_headers={"X-Trailwatch-Batch-Id": batch_id})

    def messages(self):
        _, out, _ = self.aws("logs", "get-log-events", "--log-group-name", "/replay",
                             "--log-stream-name", "s", "--start-from-head")
        return [e["message"] for e in out["events"]]

    def test_a_replayed_batch_is_answered_without_running_again(self):
        self.aws("logs", "create-log-group", "--log-group-name", "/replay")
        self.aws("logs", "create-log-stream", "--log-group-name", "/replay",
                 "--log-stream-name", "s")
        batch = str(uuid.uuid4())
        first = self.put_events(batch, "once")
        self.assertEqual(first.status, 200, first)
        again = self.put_events(batch, "once")
        self.assertEqual(again.status, 200, again)
        self.assertEqual(again.json(), first.json())
        self.assertNotEqual(again.header("x-amzn-RequestId"), first.header("x-amzn-RequestId"))
        self.assertEqual(self.messages(), ["once"])
        # Another batch id is another batch.
        self.assertEqual(self.put_events(str(uuid.uuid4()), "twice").status, 200)
        self.assertEqual(self.messages(), ["once", "twice"])

    def test_a_failed_batch_is_not_remembered(self):
        batch = str(uuid.uuid4())
        r = self.put_events(batch, "lost")  # the group does not exist yet
        self.assert_json_error(r, 400, "ResourceNotFoundException")
        self.aws("logs", "create-log-group", "--log-group-name", "/replay")
        self.aws("logs", "create-log-stream", "--log-group-name", "/replay",
                 "--log-stream-name", "s")
        self.assertEqual(self.put_events(batch, "found").status, 200)
        self.assertEqual(self.messages(), ["found"])

    def test_a_malformed_batch_id_is_refused(self):
        r = self.put_events("has space", "x")
        self.assert_json_error(r, 400, "InvalidParameterException", "X-Trailwatch-Batch-Id")


if __name__ == "__main__":
    unittest.main()
