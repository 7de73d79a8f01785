"""Audit events as the agent derives them (plugins/out_cloudtrail), ingested
by the real collector with PutAuditEvents on the agent's default channel id,
and found again with `aws cloudtrail lookup-events`: by EventName, by
Username, and by ReadOnly (the collector reads it from
additionalEventData.readOnly), with a replayed batch stored once.

The eventData below is byte for byte what tests/unit/test_audit_derive.c
pins for the same records.
"""
import base64
import datetime
import hashlib
import json
import unittest

from twtest import ACCOUNT_ID, CollectorTestCase


def by(key, value):
    # The JSON form: the CLI's shorthand syntax cannot carry "{id}".
    return ["--lookup-attributes", json.dumps([{"AttributeKey": key, "AttributeValue": value}])]


def now_text():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def nginx_event(method, path, name, status, user, read_only, when):
    identity = ({"type": "User", "principalId": user} if user
                else {"type": "Anonymous", "principalId": "anonymous"})
    event = {"version": "1.0", "userIdentity": identity, "userAgent": "curl/8.0",
             "eventSource": "shop.example.internal", "eventName": name, "eventTime": when,
             "UID": "abc123",
             "requestParameters": {"httpMethod": method, "path": path, "protocol": "HTTP/1.1"},
             "sourceIPAddress": "192.0.2.7", "recipientAccountId": ACCOUNT_ID,
             "additionalEventData": {"readOnly": read_only, "eventCategory": "Management",
                                     "httpStatus": status}}
    return json.dumps(event, separators=(",", ":"))


def ssh_event(when):
    return json.dumps({
        "version": "1.0",
        "userIdentity": {"type": "UnixUser", "principalId": "vagrant",
                         "details": {"invalidUser": False}},
        "eventSource": "shop.example.internal", "eventName": "SshLogin", "eventTime": when,
        "UID": "0000000000000005",
        "requestParameters": {"userName": "vagrant", "authMethod": "publickey",
                              "sourcePort": 63673},
        "responseElements": {"SshLogin": "Success"}, "sourceIPAddress": "10.0.2.2",
        "recipientAccountId": ACCOUNT_ID,
        "additionalEventData": {"readOnly": False, "eventCategory": "Management",
                                "host": "localhost", "program": "sshd"}}, separators=(",", ":"))


def item(event_id, data):
    checksum = base64.b64encode(hashlib.sha256(data.encode()).digest()).decode()
    return {"id": event_id, "eventData": data, "eventDataChecksum": checksum}


class AuditLookupTest(CollectorTestCase):
    def setUp(self):
        super().setUp()
        self.start_collector()

    def put(self, events):
        return self.aws("cloudtrail-data", "put-audit-events", "--channel-arn", "trailwatch",
                        "--audit-events", json.dumps(events), cli="v1")[1]

    def lookup(self, key, value):
        """The audit events found (the collector's own LookupEvents calls, read-only
        management events, are in the history too)."""
        events = self.aws("cloudtrail", "lookup-events", *by(key, value))[1]["Events"]
        return [e for e in events if e["EventSource"] == "shop.example.internal"]

    def test_write_requests_are_found_by_read_only_false(self):
        when = now_text()
        events = [
            item("0000000000001234", nginx_event("POST", "/orders/123", "POST /orders/{id}",
                                                 201, "alice", False, when)),
            item("0000000000001235", nginx_event("GET", "/orders/123", "GET /orders/{id}",
                                                 200, None, True, when)),
            item("0000000000001236", ssh_event(when)),
        ]
        first = self.put(events)
        self.assertEqual(first["failed"], [])
        self.assertEqual(len(first["successful"]), 3)

        writes = self.lookup("ReadOnly", "false")
        self.assertEqual(sorted(e["EventName"] for e in writes), ["POST /orders/{id}", "SshLogin"])
        self.assertTrue(all(e["ReadOnly"] == "false" for e in writes))
        reads = self.lookup("ReadOnly", "true")
        self.assertEqual([e["EventName"] for e in reads], ["GET /orders/{id}"])

        found = self.lookup("EventName", "POST /orders/{id}")
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0]["Username"], "alice")
        self.assertEqual(found[0]["EventSource"], "shop.example.internal")
        record = json.loads(found[0]["CloudTrailEvent"])
        self.assertEqual(record["metadata"]["channelARN"],
                         f"arn:aws:cloudtrail:us-east-1:{ACCOUNT_ID}:channel/trailwatch")
        self.assertEqual(record["eventData"]["requestParameters"]["path"], "/orders/123")
        self.assertEqual(len(self.lookup("Username", "vagrant")), 1)

        # The agent re-sending after a crash: same ids, same answers, stored once.
        again = self.put(events)
        self.assertEqual(again["failed"], [])
        self.assertEqual(sorted((s["id"], s["eventID"]) for s in again["successful"]),
                         sorted((s["id"], s["eventID"]) for s in first["successful"]))
        self.assertEqual(len(self.lookup("ReadOnly", "false")), 2)


if __name__ == "__main__":
    unittest.main()
