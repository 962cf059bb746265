#!/usr/bin/env python3
"""The outbox, e-mail and webhooks, end to end: a real SMTP server on loopback (tests/e2e/mail/,
the npm package smtp-server + mailparser) receives what roster sends; a loopback webhook
receiver checks every signature; retries with backoff, the dead letter and its retry, the
delivery log; and the crash test: a node killed (SIGKILL) after the change committed and before
the e-mail left, restarted, delivers it.

Delivery is at least once, not exactly once: a node killed after the relay accepted a message
but before the job was marked done sends it again. Messages carry their job id (Message-ID,
X-Roster-Message-Id; webhooks: Roster-Event-Id, Roster-Delivery-Id) so receivers can drop
duplicates; the crash here happens before any attempt reached the relay, so exactly one copy
arrives."""

import glob
import hashlib
import hmac
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

MAIL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mail")
PUBLIC = "https://roster.example.test"


def wait_for(pred, timeout=30, what="condition", interval=0.05):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = pred()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


class MailServer:
    """node mail/server.js: every message it accepts becomes a JSON file in self.dir."""

    def __init__(self):
        if not os.path.isdir(os.path.join(MAIL_DIR, "node_modules", "smtp-server")):
            raise AssertionError("run `npm ci --prefix tests/e2e/mail` first (scripts/test does)")
        self.dir = tempfile.mkdtemp(prefix="roster-mail-")
        # stdin is a pipe: the server exits when this process dies, whatever happens.
        self.proc = subprocess.Popen(["node", os.path.join(MAIL_DIR, "server.js"), self.dir],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        line = self.proc.stdout.readline()
        if not line:
            raise AssertionError("the SMTP server did not start")
        self.port = json.loads(line)["port"]
        self.url = "smtp://127.0.0.1:%d" % self.port

    def messages(self):
        out = []
        for f in sorted(glob.glob(os.path.join(self.dir, "*.json"))):
            with open(f, encoding="utf-8") as fh:
                out.append(json.load(fh))
        return out

    def wait(self, count, timeout=30):
        return wait_for(lambda: len(self.messages()) >= count and self.messages(), timeout,
                        "%d e-mail(s)" % count)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Receiver:
    """A webhook receiver on loopback: checks Roster-Signature with the subscription's secret
    (401 when it does not hold), then answers the next status of self.answers (200 once they
    are used up, or always self.default)."""

    def __init__(self):
        self.secret = None
        self.answers = []
        self.default = 200
        self.calls = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                ok = outer.verify(self.headers, body)
                with outer.lock:
                    status = 401 if not ok else (outer.answers.pop(0) if outer.answers else outer.default)
                    outer.calls.append({"at": time.monotonic(), "headers": dict(self.headers),
                                        "body": body, "verified": ok, "status": status})
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def verify(self, headers, body):
        ts = headers.get("Roster-Timestamp") or ""
        sig = headers.get("Roster-Signature") or ""
        if not self.secret or not ts.isdigit() or not sig.startswith("v1="):
            return False
        if abs(time.time() - int(ts)) > 300:      # replay window, as a real receiver would
            return False
        want = hmac.new(self.secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(want, sig[3:])

    def count(self):
        with self.lock:
            return len(self.calls)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class OutboxTest(unittest.TestCase):
    def setUp(self):
        self.mail = MailServer()
        self.recv = Receiver()

    def tearDown(self):
        self.mail.close()
        self.recv.close()

    def server(self, **env):
        e = {"ROSTER_SMTP_URL": self.mail.url, "ROSTER_SMTP_FROM": "Roster <noreply@roster.test>",
             "ROSTER_PUBLIC_URL": PUBLIC, "ROSTER_JOB_POLL_MS": "50",
             "ROSTER_DELIVERY_BACKOFF_MS": "300"}
        e.update(env)
        return h.Server(extra_env=e).start()

    def outbox_job(self, client, t, job_id):
        return h.expect(client.get(h.tpath(t, "outbox", job_id)), 200).json

    def wait_status(self, client, t, job_id, status, timeout=30):
        return wait_for(lambda: (lambda j: j if j["status"] == status else None)(
            self.outbox_job(client, t, job_id)), timeout, "job %s %s" % (job_id, status))

    # -- e-mail

    def test_email_received_with_both_parts_and_link(self):
        s = self.server()
        root = s.root()
        t = h.new_tenant(root, template="default", name="Équipe Zürich")
        _, admin = h.actor(s, t, "Owner")
        r = h.expect(admin.post(h.tpath(t, "templates", "invitation", "test"),
                                json={"to": "ada@example.com"}), 202)
        job = r.json
        self.assertEqual(job["kind"], "email")
        self.assertTrue(r.headers["Location"].endswith("/outbox/" + job["id"]))
        self.assertEqual(job["payload"]["to"], "ada@example.com")
        m = self.mail.wait(1)[0]
        self.assertEqual(m["envelope"]["to"], ["ada@example.com"])
        self.assertEqual(m["envelope"]["from"], "noreply@roster.test")
        self.assertEqual(m["subject"], "You are invited to Équipe Zürich")
        self.assertIn("=?UTF-8?B?", m["raw"])          # RFC 2047: the header itself is ASCII
        self.assertIn("multipart/alternative", m["raw"])
        link = PUBLIC + "/accept?token=sample-token"
        self.assertIn("Hello Ada,", m["text"])
        self.assertIn(link, m["text"])
        self.assertNotIn("{{", m["text"] + m["html"])
        self.assertIn('<a href="%s">' % link, m["html"])
        self.assertEqual(m["message_id"].split("@")[0], "<" + job["id"])
        self.assertEqual(m["headers"]["x-roster-message-id"], job["id"])
        self.assertTrue(m["date"])
        done = self.wait_status(admin, t, job["id"], "done")
        self.assertEqual(done["attempts"], 1)
        # audited, and only with tenant.settings
        self.assertTrue(h.audit_events(root, t, action="email_template.test"))
        _, viewer = h.actor(s, t, "Viewer")
        h.assert_problem(viewer.post(h.tpath(t, "templates", "invitation", "test"),
                                     json={"to": "x@example.com"}), 403, "auth.permission_denied")
        h.assert_problem(viewer.get(h.tpath(t, "outbox")), 403, "auth.permission_denied")
        h.assert_problem(admin.post(h.tpath(t, "templates", "invitation", "test"),
                                    json={"to": "two@a.b, three@c.d"}), 400,
                         "request.invalid_field", field="to")
        h.assert_problem(admin.get(h.tpath(t, "templates", "nope")), 404, "template.not_found")
        s.stop()

    def test_template_override(self):
        s = self.server()
        root = s.root()
        t = h.new_tenant(root, template="default")
        other = h.new_tenant(root, template="default")
        path = h.tpath(t, "templates", "suspension")
        h.assert_problem(root.put(path, json={"subject": "Hi {{first_name}}", "text": "{{link}}",
                                              "html": "x"}), 400, "template.unknown_variable",
                         field="text")
        h.assert_problem(root.put(path, json={"subject": "Hi {{first_name", "text": "x",
                                              "html": "x"}), 400, "template.syntax", field="subject")
        body = {"subject": "Paused: {{username}}", "text": "Until {{until}} because {{reason}}",
                "html": "<p>{{reason}}</p>"}
        got = h.expect(root.put(path, json=body), 200).json
        self.assertTrue(got["overridden"])
        self.assertIn("reason", got["variables"])
        self.assertFalse(h.expect(root.get(h.tpath(other, "templates", "suspension")), 200).json["overridden"])
        h.expect(root.post(path + "/test", json={"to": "bob@example.com"}), 202)
        m = self.mail.wait(1)[0]
        self.assertEqual(m["subject"], "Paused: ada.sample")
        self.assertEqual(m["text"].strip(), "Until 2026-12-31T00:00:00Z because A sample reason")
        self.assertIn("<p>A sample reason</p>", m["html"])
        h.expect(root.delete(path), 204)
        h.expect(root.delete(path), 204)            # no override: nothing to drop, no error
        self.assertFalse(h.expect(root.get(path), 200).json["overridden"])
        actions = [e["action"] for e in h.audit_events(root, t, action="email_template.")]
        self.assertEqual(sorted(actions), ["email_template.delete", "email_template.test",
                                           "email_template.update"])
        s.stop()

    # -- webhooks

    def test_lifecycle_tells_the_user_and_the_host_platform(self):
        # Every lifecycle step queues, in its own transaction, an e-mail to the user and a
        # webhook event for the host platform; a refused step queues nothing.
        s = self.server()
        root = s.root()
        t = h.new_tenant(root, template="default")
        self.make_hook(root, t, events=("user.*",))
        u = h.expect(root.post(h.tpath(t, "users"), json={"username": "eve", "email": "eve@acme.test",
                                                          "first_name": "Eve"}), 201).json
        p = h.tpath(t, "users", u["id"])
        h.expect(root.post(p + "/suspend", json={"reason": "audit finding"}), 200)
        h.assert_problem(root.post(p + "/suspend", json={"reason": "again"}), 409,
                         "user.invalid_transition")
        h.expect(root.post(p + "/resume"), 200)
        h.expect(root.post(p + "/deactivate", json={"reason": "left"}), 200)
        h.expect(root.patch(p, json={"first_name": "Eva"}), 200)
        h.delete_user(root, t, u["id"])
        mails = self.mail.wait(4)
        self.assertTrue(all(m["to"] == ["eve@acme.test"] or "eve@acme.test" in json.dumps(m["to"])
                            for m in mails), mails)
        texts = [m.get("text") or "" for m in mails]
        self.assertTrue(any("audit finding" in x for x in texts), texts)
        self.assertTrue(any("left" in x for x in texts), texts)
        want = ["user.created", "user.suspended", "user.resumed", "user.deactivated", "user.updated",
                "user.deleted"]
        wait_for(lambda: self.recv.count() >= len(want), 30, "%d webhook calls" % len(want))
        time.sleep(0.5)  # nothing more arrives: the refused suspend queued no event
        with self.recv.lock:
            calls = list(self.recv.calls)
        self.assertTrue(all(c["verified"] for c in calls))
        types = [c["headers"].get("Roster-Event-Type") for c in calls]
        self.assertEqual(sorted(types), sorted(want))
        suspended = [json.loads(c["body"]) for c in calls
                     if c["headers"].get("Roster-Event-Type") == "user.suspended"][0]
        self.assertIn("audit finding", json.dumps(suspended))
        self.assertIn(u["id"], json.dumps(suspended))

    def make_hook(self, client, t, events=("webhook.*",)):
        r = h.expect(client.post(h.tpath(t, "webhooks"), json={"url": self.recv.url,
                                                               "events": list(events)}), 201)
        self.assertTrue(r.json["secret"].startswith("whsec_"))
        self.recv.secret = r.json["secret"]
        return r.json

    def test_webhook_signed_retried_with_backoff_and_logged(self):
        s = self.server()
        root = s.root()
        t = h.new_tenant(root, template="default")
        hook = self.make_hook(root, t)
        self.assertNotIn("secret", h.expect(root.get(h.tpath(t, "webhooks", hook["id"])), 200).json)
        self.assertNotIn(self.recv.secret.encode(), h.db_dump(s))   # stored encrypted only
        self.recv.answers = [500, 500]
        job = h.expect(root.post(h.tpath(t, "webhooks", hook["id"], "ping")), 202).json
        wait_for(lambda: self.recv.count() >= 3, 30, "three attempts")
        done = self.wait_status(root, t, job["id"], "done")
        self.assertEqual(done["attempts"], 3)
        calls = self.recv.calls
        self.assertEqual([c["status"] for c in calls], [500, 500, 200])
        self.assertTrue(all(c["verified"] for c in calls), calls)
        body = json.loads(calls[-1]["body"])
        self.assertEqual(body["type"], "webhook.ping")
        self.assertEqual(body["data"], {"webhook_id": hook["id"]})
        self.assertEqual(body["tenant"]["slug"], t["slug"])
        self.assertEqual(calls[-1]["headers"]["Roster-Event-Id"], body["id"])
        self.assertEqual(calls[-1]["headers"]["Roster-Event-Type"], "webhook.ping")
        self.assertEqual(calls[-1]["headers"]["Roster-Delivery-Id"], job["id"])
        self.assertEqual(len({json.loads(c["body"])["id"] for c in calls}), 1, "one event id")
        # backoff: 300 ms, then 600 ms (plus polling)
        self.assertGreaterEqual(calls[1]["at"] - calls[0]["at"], 0.25)
        self.assertGreaterEqual(calls[2]["at"] - calls[1]["at"], 0.55)
        log = h.expect(root.get(h.tpath(t, "webhooks", hook["id"], "deliveries")), 200).json["items"]
        self.assertEqual([(d["attempt"], d["status_code"]) for d in log], [(3, 200), (2, 500), (1, 500)])
        self.assertIsNone(log[0]["error"])
        self.assertIn("500", log[1]["error"])
        self.assertTrue(all(d["event_id"] == body["id"] and d["job_id"] == job["id"] for d in log))
        # a forged or replayed signature is refused by the receiver
        self.recv.secret = "whsec_wrong"
        h.expect(root.post(h.tpath(t, "webhooks", hook["id"], "ping")), 202)
        wait_for(lambda: self.recv.count() >= 4, 30, "a fourth call")
        self.assertEqual(self.recv.calls[3]["status"], 401)
        s.stop()

    def test_dead_letter_and_retry(self):
        s = self.server(ROSTER_DELIVERY_MAX_ATTEMPTS="2")
        root = s.root()
        t = h.new_tenant(root, template="default")
        hook = self.make_hook(root, t, events=["*"])
        self.recv.default = 503
        job = h.expect(root.post(h.tpath(t, "webhooks", hook["id"], "ping")), 202).json
        failed = self.wait_status(root, t, job["id"], "failed")
        self.assertEqual(failed["attempts"], 2)
        self.assertIn("503", failed["last_error"])
        dead = h.expect(root.get(h.tpath(t, "outbox"), params={"status": "failed"}), 200).json["items"]
        self.assertEqual([j["id"] for j in dead], [job["id"]])
        self.assertEqual(h.expect(root.get(h.tpath(t, "outbox"), params={"status": "failed",
                                                                          "kind": "email"}), 200).json["items"], [])
        self.assertEqual(self.recv.count(), 2)
        # the receiver is fixed: an operator retries the dead letter
        self.recv.default = 204
        r = h.expect(root.post(h.tpath(t, "outbox", job["id"], "retry")), 200).json
        self.assertEqual((r["status"], r["attempts"]), ("queued", 0))
        self.wait_status(root, t, job["id"], "done")
        h.assert_problem(root.post(h.tpath(t, "outbox", job["id"], "retry")), 409, "outbox.not_retryable")
        self.assertTrue(h.audit_events(root, t, action="outbox.retry"))
        # subscriptions: validation, pause, delete
        h.assert_problem(root.post(h.tpath(t, "webhooks"), json={"url": "ftp://x/", "events": ["*"]}),
                         400, "request.invalid_field", field="url")
        h.assert_problem(root.post(h.tpath(t, "webhooks"), json={"url": self.recv.url, "events": ["user*"]}),
                         400, "request.invalid_field", field="events")
        p = h.expect(root.patch(h.tpath(t, "webhooks", hook["id"]), json={"active": False}), 200).json
        self.assertFalse(p["active"])
        h.expect(root.delete(h.tpath(t, "webhooks", hook["id"])), 204)
        h.assert_problem(root.get(h.tpath(t, "webhooks", hook["id"], "deliveries")), 404, "webhook.not_found")
        actions = [e["action"] for e in h.audit_events(root, t, action="webhook.")]
        self.assertEqual(sorted(actions), ["webhook.create", "webhook.delete", "webhook.update"])
        # tenant isolation: another tenant's admin can't see any of it
        other = h.new_tenant(root, template="default")
        _, stranger = h.actor(s, other, "Owner")
        for path in (h.tpath(t, "webhooks"), h.tpath(t, "outbox"), h.tpath(t, "outbox", job["id"])):
            self.assertEqual(stranger.get(path).status, 404, path)
        s.stop()

    # -- the crash test

    def test_killed_after_commit_before_delivery_then_delivered(self):
        closed = "smtp://127.0.0.1:%d" % h.free_port()     # nothing listens there
        s = self.server(ROSTER_SMTP_URL=closed, ROSTER_DELIVERY_MAX_ATTEMPTS="100",
                        ROSTER_JOB_LEASE_MS="1000")
        root = s.root()
        t = h.new_tenant(root, template="default")
        job = h.expect(root.post(h.tpath(t, "templates", "deactivation", "test"),
                                 json={"to": "crash@example.com"}), 202).json
        # committed, tried, not delivered. attempts counts a claim at once, last_error only once
        # the attempt has failed: wait for the latter.
        failed = wait_for(lambda: self.outbox_job(root, t, job["id"])["last_error"], 30,
                          "a failed attempt")
        self.assertIn("connect", failed.lower())
        s.kill()                                            # SIGKILL: no hand-back, no cleanup
        self.assertEqual(self.mail.messages(), [])
        s.extra_env["ROSTER_SMTP_URL"] = self.mail.url
        s.start()
        m = self.mail.wait(1)[0]
        self.assertEqual(m["envelope"]["to"], ["crash@example.com"])
        self.assertIn("deactivated", m["subject"])
        self.assertEqual(m["headers"]["x-roster-message-id"], job["id"])
        self.wait_status(s.root(), t, job["id"], "done")
        time.sleep(0.5)
        self.assertEqual(len(self.mail.messages()), 1, "delivered once")
        s.stop()


if __name__ == "__main__":
    h.main()
