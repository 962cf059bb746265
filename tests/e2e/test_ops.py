#!/usr/bin/env python3
"""Operations: health, readiness, metrics, request ids, routing errors, graceful SIGTERM."""

import json
import os
import re
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def parse_metrics(text):
    """[(name, {labels}, value)] of the Prometheus text exposition."""
    out = []
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        m = line_re.match(line.strip())
        if not m:
            raise AssertionError("unparseable metrics line: %r" % line)
        labels = dict(label_re.findall(m.group(3) or ""))
        v = m.group(4)
        value = float("inf") if v == "+Inf" else float(v)
        out.append((m.group(1), labels, value))
    return out


def healthz_count(samples):
    total = 0.0
    for name, labels, value in samples:
        if (name == "roster_http_requests_total" and labels.get("method") == "GET"
                and labels.get("status") == "200" and "healthz" in labels.get("route", "")):
            total += value
    return total


class HealthTest(unittest.TestCase):
    def test_healthz(self):
        r = h.expect(S.client().get("/healthz"), 200)
        self.assertEqual(r.json, {"status": "ok"})
        self.assertEqual(r.content_type, "application/json")

    def test_readyz(self):
        r = h.expect(S.client().get("/readyz"), 200)
        self.assertEqual(r.json, {"status": "ready"})

    def test_openapi_document(self):
        r = h.expect(S.root().get("/api/v1/openapi.json"), 200)
        self.assertIsInstance(r.json, dict, r.describe())
        self.assertTrue(str(r.json.get("openapi", "")).startswith("3.1"), r.json.get("openapi"))
        self.assertTrue(r.json.get("paths"), "openapi document has no paths")

    def test_me(self):
        r = h.expect(S.root().get("/api/v1/me"), 200)
        self.assertEqual(r.json["tenant"]["slug"], "system")
        self.assertEqual(r.json["user"]["username"], "maintenance")
        self.assertEqual(r.json["rank"], 1000)
        self.assertIn("platform.tenants", r.json["permissions"])
        self.assertEqual(r.json["user"]["system_role"]["name"], "Maintenance Account")


class MetricsTest(unittest.TestCase):
    def test_metrics_content(self):
        c = S.client()
        h.expect(c.get("/healthz"), 200)
        r = h.expect(c.get("/metrics"), 200)
        self.assertTrue((r.headers.get("Content-Type") or "").startswith("text/plain"),
                        r.headers.get("Content-Type"))
        samples = parse_metrics(r.text)
        names = {n for n, _, _ in samples}
        self.assertIn("roster_http_requests_total", names)
        self.assertIn("roster_http_request_duration_seconds_bucket", names)
        self.assertIn("roster_store_errors_total", names)
        for n, labels, _ in samples:
            if n == "roster_http_requests_total":
                self.assertTrue({"route", "method", "status"} <= set(labels), labels)
        buckets = [l for n, l, _ in samples if n == "roster_http_request_duration_seconds_bucket"]
        self.assertTrue(all("le" in l for l in buckets))
        self.assertTrue(any(l["le"] == "+Inf" for l in buckets), "no +Inf bucket")

    def test_counter_rises(self):
        c = S.client()
        h.expect(c.get("/healthz"), 200)
        before = healthz_count(parse_metrics(h.expect(c.get("/metrics"), 200).text))
        for _ in range(5):
            h.expect(c.get("/healthz"), 200)
        after = healthz_count(parse_metrics(h.expect(c.get("/metrics"), 200).text))
        self.assertGreaterEqual(after - before, 5, "healthz counter went %s -> %s" % (before, after))

    def test_api_route_is_a_template_not_a_raw_path(self):
        root = S.root()
        t = h.new_tenant(root)
        u = h.make_user(root, t, "metric-" + h.uid())
        h.expect(root.get(h.tpath(t, "users", u["id"])), 200)
        samples = parse_metrics(h.expect(root.get("/metrics"), 200).text)
        routes = {l.get("route", "") for n, l, _ in samples if n == "roster_http_requests_total"}
        self.assertFalse(any(u["id"] in r for r in routes), "raw ids in route labels: %s" % routes)
        self.assertFalse(any(t["slug"] in r for r in routes), "raw slugs in route labels: %s" % routes)


class RequestIdTest(unittest.TestCase):
    def test_echoed_when_valid(self):
        rid = "e2e-" + h.uid() + ".A_b"
        r = S.client().get("/healthz", headers={"X-Request-Id": rid})
        self.assertEqual(r.request_id, rid)
        r = S.root().get("/api/v1/me", headers={"X-Request-Id": rid})
        self.assertEqual(r.request_id, rid)

    def test_echoed_at_64_chars(self):
        rid = "a" * 64
        self.assertEqual(S.client().get("/healthz", headers={"X-Request-Id": rid}).request_id, rid)

    def test_generated_when_absent(self):
        r1 = S.client().get("/healthz")
        r2 = S.client().get("/healthz")
        for r in (r1, r2):
            self.assertTrue(r.request_id, "no X-Request-Id generated")
            self.assertRegex(r.request_id, h.REQUEST_ID_RE)
        self.assertNotEqual(r1.request_id, r2.request_id)

    def test_replaced_when_invalid(self):
        for bad in ("a" * 65, "has space", "semi;colon", "quote\"d", "slash/x", "ü-unicode".encode().decode("latin-1")):
            r = S.client().get("/healthz", headers={"X-Request-Id": bad})
            self.assertEqual(r.status, 200)
            self.assertTrue(r.request_id)
            self.assertNotEqual(r.request_id, bad)
            self.assertRegex(r.request_id, h.REQUEST_ID_RE)

    def test_present_on_errors(self):
        r = S.client().get("/api/v1/me")
        h.assert_problem(r, 401, "auth.missing_token")
        rid = "err-" + h.uid()
        r = S.client().get("/api/v1/me", headers={"X-Request-Id": rid})
        self.assertEqual(h.assert_problem(r, 401, "auth.missing_token")["instance"], rid)


class RoutingTest(unittest.TestCase):
    def test_unknown_route_404(self):
        h.assert_problem(S.root().get("/api/v1/no-such-thing"), 404, "route.not_found")
        h.assert_problem(S.root().get("/nope"), 404, "route.not_found")
        h.assert_problem(S.root().get("/api/v1/tenants/system/nonsense"), 404, "route.not_found")

    def test_method_not_allowed_405(self):
        root = S.root()
        h.assert_problem(root.delete("/api/v1/templates"), 405, "request.method_not_allowed")
        h.assert_problem(root.put("/api/v1/tenants", json={}), 405, "request.method_not_allowed")
        h.assert_problem(root.post("/healthz", json={}), 405, "request.method_not_allowed")
        h.assert_problem(root.post("/api/v1/tenants/system/users/" + h.uuid7(), json={}),
                         405, "request.method_not_allowed")


class LogFormatTest(unittest.TestCase):
    def test_log_is_json_lines(self):
        h.expect(S.client().get("/healthz"), 200)
        text = S.read_stderr() + "\n" + S.read_stdout()
        lines = [l for l in text.splitlines() if l.strip()]
        self.assertTrue(lines, "the server logged nothing at debug level")
        for l in lines:
            try:
                obj = json.loads(l)
            except ValueError:
                self.fail("log line is not JSON: %r" % l)
            self.assertIsInstance(obj, dict, l)


class GracefulShutdownTest(unittest.TestCase):
    """Uses its own server: SIGTERM with a request in flight."""

    def test_sigterm_completes_in_flight_request(self):
        srv = h.Server().start()
        try:
            root = srv.root()
            t = h.new_tenant(root)
            body = json.dumps({"username": "inflight-" + h.uid(), "description": "x" * 1500}).encode()
            head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                    "Content-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                    % (h.tpath(t, "users"), srv.port, srv.root_token, len(body))).encode()
            sock = socket.create_connection(("127.0.0.1", srv.port), timeout=15)
            try:
                sock.sendall(head + body[:100])
                time.sleep(0.3)                      # the server has the headers: the request is in flight
                srv.proc.send_signal(15)
                time.sleep(0.3)
                sock.sendall(body[100:])
                data = b""
                deadline = time.monotonic() + 15
                while time.monotonic() < deadline:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            finally:
                sock.close()
            self.assertTrue(data.startswith(b"HTTP/1.1 201") or data.startswith(b"HTTP/1.0 201"),
                            "in-flight request did not complete with 201: %r" % data[:500])
            head_part, _, payload = data.partition(b"\r\n\r\n")
            cl = re.search(rb"(?i)content-length:\s*(\d+)", head_part)
            if cl:
                self.assertEqual(len(payload), int(cl.group(1)), "truncated response")
            try:
                code = srv.proc.wait(timeout=10)
            except Exception:
                srv.kill()
                self.fail("server did not exit within 10s of SIGTERM")
            self.assertEqual(code, 0, srv.logs())
        finally:
            srv.kill()

    def test_sigterm_with_concurrent_lists(self):
        srv = h.Server().start()
        try:
            root = srv.root()
            t = h.new_tenant(root)
            for i in range(60):
                h.make_user(root, t, "bulk-%03d" % i, description="d" * 500)
            started = threading.Event()
            results = []
            lock = threading.Lock()

            def worker():
                c = srv.root()
                started.set()
                for _ in range(200):
                    try:
                        r = c.get(h.tpath(t, "users"), params={"limit": 200})
                    except (ConnectionRefusedError, ConnectionResetError, OSError) as e:
                        with lock:
                            results.append(("conn", repr(e)))
                        return
                    except Exception as e:  # e.g. IncompleteRead: a response cut short
                        with lock:
                            results.append(("broken", repr(e)))
                        return
                    with lock:
                        results.append(("resp", r.status, r.json is not None and len(r.json.get("items", []))))

            threads = [threading.Thread(target=worker, daemon=True) for _ in range(4)]
            for th in threads:
                th.start()
            started.wait(5)
            time.sleep(0.2)
            srv.proc.send_signal(15)
            for th in threads:
                th.join(30)
            self.assertFalse(any(th.is_alive() for th in threads), "client threads hung")
            try:
                code = srv.proc.wait(timeout=10)
            except Exception:
                srv.kill()
                self.fail("server did not exit within 10s of SIGTERM")
            self.assertEqual(code, 0, srv.logs())
            responses = [r for r in results if r[0] == "resp"]
            self.assertTrue(responses, "no request completed at all: %s" % results[:5])
            for r in responses:
                self.assertIn(r[1], (200, 503), r)
                if r[1] == 200:
                    self.assertEqual(r[2], 60, "a list answer was incomplete: %s" % (r,))
            broken = [r for r in results if r[0] == "broken"]
            self.assertFalse(broken, "responses cut short during shutdown: %s" % broken)
        finally:
            srv.kill()


if __name__ == "__main__":
    h.main()
