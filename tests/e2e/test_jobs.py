#!/usr/bin/env python3
"""Work done once across nodes: the job queue with leases, proven with the purge of expired
API tokens, on one node and on two nodes sharing a store where the first is killed (SIGKILL)
in the middle of the job."""

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


class Node:
    """One `roster serve` process on a given store, with its own port and log."""

    def __init__(self, db, token, tmpdir, name, env=None):
        self.port = h.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.log_path = os.path.join(tmpdir, name + ".log")
        e = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
        e.update({"ROSTER_BOOTSTRAP_TOKEN": token, "ROSTER_LOG_LEVEL": "info",
                  "ROSTER_JOB_POLL_MS": "50"})
        e.update(env or {})
        self.log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([h.roster_bin(), "serve", "--db", db, "--listen",
                                      "127.0.0.1:%d" % self.port], env=e,
                                     stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/readyz", timeout=1) as r:
                    if r.status == 200:
                        self.client = h.Client(self.url, token)
                        return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError("node %s did not start:\n%s" % (name, self.logs()))

    def logs(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.log.close()
        return self.proc.returncode


def expire_all_tokens(db, tenant_id):
    """Moves every token of the tenant 10 days into the past, behind the server's back: the API
    can't make a token that is already expired."""
    con = sqlite3.connect(db, timeout=10)
    try:
        with con:
            con.execute("UPDATE api_tokens SET expires_at = ? WHERE tenant_id = ?",
                        (int(time.time() * 1000) - 10 * 86400000, tenant_id))
    finally:
        con.close()


def count_tokens(db, tenant_id):
    con = sqlite3.connect(db, timeout=10)
    try:
        return con.execute("SELECT count(*) FROM api_tokens WHERE tenant_id = ?",
                           (tenant_id,)).fetchone()[0]
    finally:
        con.close()


def wait_job(client, job_id, pred, timeout=60):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        r = client.get(h.API + "/jobs/" + job_id)
        if r.status == 200:
            last = r.json
            if pred(last):
                return last
        time.sleep(0.05)
    raise AssertionError("job never reached the expected state; last: %r" % (last,))


class JobsTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roster-jobs-")
        self.db = os.path.join(self.dir, "roster.db")
        self.token = h.make_token_string()
        self.nodes = []

    def tearDown(self):
        for n in self.nodes:
            n.kill()
        if os.environ.get("ROSTER_E2E_KEEP"):
            print("kept", self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def node(self, name, **env):
        n = Node(self.db, self.token, self.dir, name, env)
        self.nodes.append(n)
        return n

    def make_expired_tokens(self, client, count):
        t = h.expect(client.post(h.API + "/tenants", json={"slug": "jobs-" + h.uid(),
                                                           "name": "Jobs",
                                                           "template": "default"}), 201).json
        u = h.expect(client.post(h.tpath(t, "users"), json={"username": "svc",
                                                             "system_role": "Owner"}), 201).json
        for i in range(count):
            h.expect(client.post(h.tpath(t, "tokens"), json={"name": "t%d" % i, "user_id": u["id"],
                                                             "expires_in_days": 1}), 201)
        # one token that has not expired and must survive the purge
        keep = h.expect(client.post(h.tpath(t, "tokens"), json={"name": "keep", "user_id": u["id"]}),
                        201).json
        expire_all_tokens(self.db, t["id"])
        con = sqlite3.connect(self.db, timeout=10)
        with con:
            con.execute("UPDATE api_tokens SET expires_at = NULL WHERE id = ?", (keep["token"]["id"],))
        con.close()
        return t

    def test_purge_on_one_node(self):
        a = self.node("a")
        t = self.make_expired_tokens(a.client, 40)
        self.assertEqual(count_tokens(self.db, t["id"]), 41)
        r = h.expect(a.client.post(h.API + "/jobs", json={"kind": "purge_expired_tokens",
                                                          "payload": {"chunk": 7}}), 202)
        self.assertTrue(r.headers.get("Location", "").endswith("/jobs/" + r.json["id"]))
        job = wait_job(a.client, r.json["id"], lambda j: j["status"] == "done")
        self.assertEqual(job["progress"]["done"], 40)
        self.assertIsNone(job["lease_owner"])
        self.assertEqual(count_tokens(self.db, t["id"]), 1, "the unexpired token survives")
        events = h.audit_events(a.client, t, action="token.purge")
        self.assertEqual(sum(e["changes"]["purged"]["after"] for e in events), 40)
        self.assertEqual(len(events), 6)  # 40 tokens in chunks of 7
        self.assertEqual(a.stop(), 0)
        rc, out, err = h.run_roster("audit", "verify", "--db", self.db)
        self.assertEqual(rc, 0, out + err)

    def test_errors(self):
        a = self.node("a")
        h.assert_problem(a.client.post(h.API + "/jobs", json={"kind": "nope"}), 400,
                         "request.invalid_field", field="kind")
        h.assert_problem(a.client.post(h.API + "/jobs", json={"kind": "purge_expired_tokens",
                                                              "payload": [1]}), 400,
                         "request.invalid_field", field="payload")
        h.assert_problem(a.client.get(h.API + "/jobs/" + h.uuid7()), 404, "job.not_found")
        t = h.expect(a.client.post(h.API + "/tenants", json={"slug": "j-" + h.uid(), "name": "J"}),
                     201).json
        _, admin = h.actor(a_server(a), t, "Owner")
        h.assert_problem(admin.post(h.API + "/jobs", json={"kind": "purge_expired_tokens"}), 403,
                         "auth.permission_denied")

    def test_killed_node_leaves_work_another_node_finishes(self):
        # Node a runs the job slowly (chunks of 5, 150 ms apart); it is killed mid-job with
        # SIGKILL, so it can't hand the job back. Node b claims it once a's lease expires and
        # finishes from the progress a committed: every token is purged exactly once.
        a = self.node("a", ROSTER_JOB_LEASE_MS="1500")
        t = self.make_expired_tokens(a.client, 80)
        r = h.expect(a.client.post(h.API + "/jobs", json={"kind": "purge_expired_tokens",
                                                          "payload": {"chunk": 5,
                                                                      "pause_ms": 150}}), 202)
        job_id = r.json["id"]
        mid = wait_job(a.client, job_id, lambda j: j["status"] == "running"
                       and j["progress"].get("done", 0) >= 15)
        self.assertIn("/%d" % a.proc.pid, mid["lease_owner"])
        a.kill()
        left = count_tokens(self.db, t["id"]) - 1
        self.assertGreater(left, 0, "node a finished before it was killed: slow it down")
        b = self.node("b", ROSTER_JOB_LEASE_MS="1500")
        job = wait_job(b.client, job_id, lambda j: j["status"] == "done", timeout=60)
        self.assertEqual(count_tokens(self.db, t["id"]), 1)
        self.assertEqual(job["progress"]["done"], 80, job)
        self.assertGreaterEqual(job["attempts"], 2)
        self.assertIn("job claimed", b.logs())
        events = h.audit_events(b.client, t, action="token.purge")
        self.assertEqual(sum(e["changes"]["purged"]["after"] for e in events), 80)
        self.assertEqual(b.stop(), 0)
        rc, out, err = h.run_roster("audit", "verify", "--db", self.db)
        self.assertEqual(rc, 0, out + err)

    def test_timer_fires_once_across_nodes(self):
        # Two nodes on one store with a 1-second purge timer: within ~3 s the timer fires about
        # three times in all, not three times per node, and its jobs purge the tokens.
        a = self.node("a", ROSTER_PURGE_EVERY_S="1")
        b = self.node("b", ROSTER_PURGE_EVERY_S="1")
        t = self.make_expired_tokens(a.client, 5)
        deadline = time.monotonic() + 20
        while count_tokens(self.db, t["id"]) > 1 and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertEqual(count_tokens(self.db, t["id"]), 1)
        time.sleep(2.5)
        con = sqlite3.connect(self.db, timeout=10)
        kinds = con.execute("SELECT count(*) FROM jobs WHERE kind = 'purge_expired_tokens'"
                            ).fetchone()[0]
        start = con.execute("SELECT min(created_at), max(created_at) FROM jobs").fetchone()
        con.close()
        span_s = max(1.0, (start[1] - start[0]) / 1000.0)
        self.assertLessEqual(kinds, span_s + 2, "the timer fired on both nodes")
        self.assertEqual(a.stop(), 0)
        self.assertEqual(b.stop(), 0)


def a_server(node):
    """A harness.Server stand-in over a Node, for harness helpers that need .client()."""
    class _S:
        def client(self, token):
            return h.Client(node.url, token)

        def root(self):
            return node.client
    return _S()


if __name__ == "__main__":
    h.main()
