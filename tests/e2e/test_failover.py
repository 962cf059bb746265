#!/usr/bin/env python3
"""Failover (issue 3, item 4): a roster node on a PostgreSQL primary with a synchronous
streaming standby, connected with a multi-host URI (target_session_attrs=read-write). Under a
write load the primary is killed with SIGKILL and the standby promoted. The test proves:

  - roster recovers without a restart: creates succeed again soon after the promotion;
  - every request that failed during the switch failed cleanly: a 503 problem with
    Retry-After, never a 500, never another 4xx (a 409 would mean a write applied twice),
    never a hang beyond the client timeout, never a dropped connection;
  - every user acknowledged with 201, before or after the switch, is on the new primary;
  - the audit chain of the tenant verifies on the new primary, its seqs are gapless, and
    /readyz answers 200 at the end.

Builds its own clusters (tests/e2e/pgcluster.py, ports 57000-57999); needs only Debian's
PostgreSQL binaries, not ROSTER_TEST_PG.
"""

import atexit
import os
import shutil
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# This test needs no shared cluster: don't let the harness insist on ROSTER_TEST_PG.
if os.environ.get("ROSTER_TEST_ENGINE") == "pg" and not os.environ.get("ROSTER_TEST_PG"):
    os.environ["ROSTER_TEST_ENGINE"] = "sqlite"

import harness as h  # noqa: E402
import pgcluster  # noqa: E402
from test_jobs import Node  # noqa: E402

pgcluster.exit_on_signals()

CLIENT_TIMEOUT = 15.0     # a request taking longer than this is a hang
WRITERS = 4
READERS = 1
RECOVERY_LIMIT_S = 15.0   # creates must succeed again this soon after the promotion
OUTAGE_S = 4.0            # time between the kill and the promotion (no primary at all)
AFTER_S = 5.0             # load kept running after recovery


_NODES = []     # roster processes of this run (killed at exit, whatever happens)


@atexit.register
def _kill_nodes():
    for n in _NODES:
        n.kill()


class Load:
    """Writer threads creating users with unique names, and a reader listing users, until
    stopped. Every outcome is recorded with its time."""

    def __init__(self, urls, token, tenant):
        self.urls, self.token, self.tenant = urls, token, tenant
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.acked = []        # (t, username, id) answered 201
        self.failed = []       # (t, kind, username, status, retry_after, code, detail)
        self.reads = []        # (t, status, retry_after, code)
        self.errors = []       # (t, kind, repr): transport errors (timeouts, resets)
        self.threads = []

    def start(self):
        for k in range(WRITERS):
            self.threads.append(threading.Thread(target=self.writer, args=(k,), daemon=True))
        for k in range(READERS):
            self.threads.append(threading.Thread(target=self.reader, args=(k,), daemon=True))
        for th in self.threads:
            th.start()
        return self

    def last_ack(self):
        with self.lock:
            return self.acked[-1][0] if self.acked else None

    def acks_after(self, t):
        with self.lock:
            return [a for a in self.acked if a[0] >= t]

    def _pause(self, r):
        # a polite client honours Retry-After; the test caps it to keep the load dense
        time.sleep(0.1 if r is None or r.status >= 500 else 0.0)

    def writer(self, k):
        # writers alternate between the nodes
        c = h.Client(self.urls[k % len(self.urls)], self.token, timeout=CLIENT_TIMEOUT)
        path = h.tpath(self.tenant, "users")
        i = 0
        while not self.stop.is_set():
            name = "w%d-%05d-%s" % (k, i, h.uid(3))
            i += 1
            t0 = time.monotonic()
            r = None
            try:
                r = c.post(path, json={"username": name})
            except Exception as e:  # noqa: BLE001 - a transport error is a finding
                with self.lock:
                    self.errors.append((t0, "create " + name, "%r after %.1fs"
                                        % (e, time.monotonic() - t0)))
                self._pause(None)
                continue
            t1 = time.monotonic()
            with self.lock:
                if r.status == 201:
                    self.acked.append((t1, name, (r.json or {}).get("id")))
                else:
                    j = r.json if isinstance(r.json, dict) else {}
                    self.failed.append((t1, "create", name, r.status, r.headers.get("Retry-After"),
                                        j.get("code"), r.text[:300], r.content_type))
            self._pause(r)

    def reader(self, k):
        c = h.Client(self.urls[k % len(self.urls)], self.token, timeout=CLIENT_TIMEOUT)
        path = h.tpath(self.tenant, "users")
        while not self.stop.is_set():
            t0 = time.monotonic()
            try:
                r = c.get(path, params={"limit": 5})
            except Exception as e:  # noqa: BLE001
                with self.lock:
                    self.errors.append((t0, "list", "%r after %.1fs" % (e, time.monotonic() - t0)))
                time.sleep(0.1)
                continue
            j = r.json if isinstance(r.json, dict) else {}
            with self.lock:
                self.reads.append((time.monotonic(), r.status, r.headers.get("Retry-After"),
                                   j.get("code"), r.text[:300], r.content_type))
            time.sleep(0.05)

    def finish(self, timeout=CLIENT_TIMEOUT + 5):
        self.stop.set()
        for th in self.threads:
            th.join(timeout)
        return [th.name for th in self.threads if th.is_alive()]


class FailoverTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roster-failover-")
        self.pair = pgcluster.ReplicatedPair()
        self.nodes = []
        self.load = None
        self.addCleanup(self._cleanup)
        self.pair.start()
        # Created on the primary; it reaches the standby (synchronous replication).
        self.pair.primary.sql("CREATE DATABASE roster")
        deadline = time.monotonic() + 30
        while self.pair.standby.sql("SELECT count(*) FROM pg_database WHERE datname = 'roster'",
                                    check=False).strip() != "1":
            self.assertLess(time.monotonic(), deadline, "the database never reached the standby")
            time.sleep(0.05)
        self.key_file = os.path.join(self.dir, "roster.key")
        self.token = h.make_token_string()
        self.uri = self.pair.multi_host_uri("roster")

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in list(result.failures) + list(result.errors))

    def _cleanup(self):
        failed = self._failed()
        if self.load is not None:
            self.load.finish(2)
        for n in self.nodes:
            n.kill()
            if failed:
                sys.stderr.write("\n---- roster node %s log ----\n%s\n" % (n.name, n.logs()[-30000:]))
            try:
                n.log.close()
            except OSError:
                pass
        if failed:
            for c in (self.pair.primary, self.pair.standby):
                if c is not None:
                    sys.stderr.write("\n%s\n" % c.log_tail(60))
        keep = bool(os.environ.get("ROSTER_E2E_KEEP"))
        self.pair.cleanup(keep=keep)
        if keep:
            sys.stderr.write("kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def test_primary_killed_under_load_standby_promoted(self):
        t_begin = time.monotonic()
        # two nodes on the multi-host URI; a writes the key file, b shares it
        for name in ("a", "b"):
            n = Node(self.uri, self.token, self.dir, name,
                     {"ROSTER_KEY_FILE": self.key_file, "ROSTER_LOG_LEVEL": "info"})
            n.name = name
            self.nodes.append(n)
            _NODES.append(n)
        a, b = self.nodes
        root = h.Client(a.url, self.token, timeout=CLIENT_TIMEOUT)
        self.assertNotEqual(self.pair.primary.sql("SELECT count(*) FROM pg_stat_activity WHERE "
                                                  "datname = 'roster'").strip(), "0",
                            "roster holds no connection to the primary")
        tenant = h.expect(root.post(h.API + "/tenants", json={"slug": "fo-" + h.uid(),
                                                              "name": "Failover",
                                                              "template": "default"}), 201).json
        # a token used on b (b caches it), to be revoked through a right after the failover
        svc = h.make_user(root, tenant, "svc", system_role="Admin")
        cached = h.create_token(root, tenant, user_id=svc["id"])
        on_b = h.Client(b.url, cached["secret"], timeout=5)
        h.expect(on_b.get(h.API + "/me"), 200)
        self.load = Load([a.url, b.url], self.token, tenant).start()

        # steady state first
        deadline = time.monotonic() + 20
        while len(self.load.acks_after(0)) < 30:
            self.assertLess(time.monotonic(), deadline, "no steady write load before the kill: %r"
                            % (self.load.failed[-5:] + self.load.errors[-5:]))
            time.sleep(0.05)
        time.sleep(0.5)

        # the primary dies (SIGKILL of the postmaster and all its processes), nothing is up
        # for OUTAGE_S, then the standby is promoted
        t_kill = time.monotonic()
        self.pair.primary.kill()
        acked_before_kill = len(self.load.acks_after(0))
        readyz_outage = None
        time.sleep(OUTAGE_S / 2)
        try:
            readyz_outage = h.Client(a.url, timeout=5).get("/readyz").status
        except Exception as e:  # noqa: BLE001
            readyz_outage = repr(e)
        # /readyz probes the store (at most once a second): with no writable primary the node
        # tells the load balancer it can't serve.
        self.assertEqual(readyz_outage, 503, "readyz during the outage")
        time.sleep(OUTAGE_S / 2)
        t_promote = time.monotonic()
        self.pair.standby.promote()
        t_promoted = time.monotonic()

        # roster recovers on its own
        deadline = t_promoted + RECOVERY_LIMIT_S
        recovered_at = None
        while time.monotonic() < deadline:
            after = self.load.acks_after(t_promoted)
            if after:
                recovered_at = after[0][0]
                break
            time.sleep(0.05)
        # Revocation across nodes right after the failover: b's notification connection
        # died with the old primary; a token revoked through a must still be refused by b
        # within a second (store.h: by notification, or by polling while the channel is down).
        revoke_s = None
        if recovered_at is not None:
            h.expect(on_b.get(h.API + "/me"), 200)
            for _ in range(100):
                r = root.delete(h.tpath(tenant, "tokens", cached["token"]["id"]))
                if r.status != 503:
                    break
                time.sleep(0.05)
            h.expect(r, 204)
            t_rev = time.monotonic()
            while time.monotonic() - t_rev < 8:
                r = on_b.get(h.API + "/me")
                if r.status == 401:
                    revoke_s = time.monotonic() - t_rev
                    break
                time.sleep(0.05)
            time.sleep(AFTER_S)
        stuck = self.load.finish()
        t_end = time.monotonic()
        load = self.load

        # ---- report
        fails_by = {}
        for f in load.failed:
            key = (f[3], f[5], f[4])
            fails_by[key] = fails_by.get(key, 0) + 1
        sys.stderr.write(
            "\nfailover: %d creates acknowledged (%d before the kill), %d failed %r, %d reads "
            "(%d not 200), %d transport errors; readyz during the outage: %r; promote took "
            "%.2fs; first create acknowledged %s after the promotion; test %.1fs\n" % (
                len(load.acked), acked_before_kill, len(load.failed), fails_by, len(load.reads),
                len([r for r in load.reads if r[1] != 200]), len(load.errors), readyz_outage,
                t_promoted - t_promote,
                ("%.2fs" % (recovered_at - t_promoted)) if recovered_at else "never",
                t_end - t_begin))
        sys.stderr.write("token revoked through a right after the recovery: refused by b after "
                         "%s\n" % (("%.3fs" % revoke_s) if revoke_s is not None else "more than 8s"))
        window = [f for f in load.failed if f[0] >= t_kill]
        if window:
            sys.stderr.write("failures span %.2fs..%.2fs after the kill\n"
                             % (window[0][0] - t_kill, window[-1][0] - t_kill))

        # ---- nothing hung, nothing broke the connection
        self.assertEqual(stuck, [], "load threads still blocked after the client timeout")
        self.assertEqual(load.errors, [], "requests that hung or lost their connection")

        # ---- recovered without a restart
        for n in self.nodes:
            self.assertTrue(n.proc.poll() is None, "roster %s exited:\n%s" % (n.name, n.logs()))
        self.assertIsNotNone(recovered_at, "no create succeeded within %.0fs of the promotion"
                             % RECOVERY_LIMIT_S)
        self.assertGreater(len(load.acks_after(recovered_at)), 10,
                           "creates did not keep succeeding after the recovery")

        # ---- every failure is a clean 503 with Retry-After
        for f in load.failed:
            t, kind, name, status, retry_after, code, text, ctype = f
            self.assertEqual(status, 503, "a create failed with %d (not 503) %.2fs after the "
                             "kill: %s %s" % (status, t - t_kill, name, text))
            self.assertEqual(ctype, "application/problem+json", text)
            self.assertTrue(retry_after and retry_after.strip().isdigit(),
                            "503 without a valid Retry-After (%r): %s" % (retry_after, text))
            self.assertTrue(code and code.startswith("store."), text)
        for r in load.reads:
            t, status, retry_after, code, text, ctype = r
            self.assertIn(status, (200, 503), "a read answered %d: %s" % (status, text))
            if status == 503:
                self.assertTrue(retry_after and retry_after.strip().isdigit(), text)
        self.assertTrue([f for f in load.failed if f[0] >= t_kill],
                        "no request failed after the kill: the load did not see the switch")
        self.assertFalse([a for a in load.acked if t_kill + 0.2 < a[0] < t_promote],
                         "creates acknowledged while no primary was up")

        # ---- every acknowledged write is on the new primary
        rows = self.pair.standby.sql("SELECT username FROM users WHERE tenant_id = '%s' "
                                     "AND status <> 'deleted'" % tenant["id"], db="roster")
        present = set(rows.split())
        acked = {a[1] for a in load.acked}
        lost = sorted(acked - present)
        self.assertEqual(lost, [], "%d acknowledged creates are missing on the new primary"
                         % len(lost))
        failed_names = {f[2] for f in load.failed}
        ambiguous = sorted(failed_names & present)
        sys.stderr.write("%d users on the new primary: %d acknowledged + %d answered 503 but "
                         "committed anyway%s\n" % (len(present), len(acked), len(ambiguous),
                                                   (" (%s)" % ", ".join(ambiguous[:5]))
                                                   if ambiguous else ""))
        self.assertEqual(present - acked - failed_names - {"svc"}, set(), "users nobody asked for")
        # and through the API: the node reads from the new primary
        listed = {u["username"] for u in root.list_all(h.tpath(tenant, "users"))}
        self.assertEqual(listed, present)

        # ---- the audit chain of the tenant on the new primary
        seqs = [int(x) for x in self.pair.standby.sql(
            "SELECT seq FROM audit_events WHERE tenant_id = '%s' ORDER BY seq" % tenant["id"],
            db="roster").split()]
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))), "audit seqs have gaps")
        creates = int(self.pair.standby.sql(
            "SELECT count(*) FROM audit_events WHERE tenant_id = '%s' AND action = 'user.create'"
            % tenant["id"], db="roster").strip())
        self.assertEqual(creates, len(present), "user.create events != users")
        rc, out, err = h.run_roster("audit", "verify", "--db", self.pair.standby.uri("roster"),
                                    env={"ROSTER_KEY_FILE": self.key_file})
        self.assertEqual(rc, 0, "audit verify on the new primary: " + out + err)

        # ---- ready, and the node writes through the multi-host URI to the new primary
        for n in self.nodes:
            self.assertEqual(h.Client(n.url, timeout=5).get("/readyz").status, 200)
            h.make_user(h.Client(n.url, self.token), tenant, "after-" + h.uid())
        # b heard of the revocation in time (checked last: the rest is worth knowing first)
        self.assertIsNotNone(revoke_s, "b still accepted a token revoked through a 8s after the "
                             "failover")
        self.assertLessEqual(revoke_s, 1.0, "b accepted a token revoked through a for %.2fs "
                             "after the failover" % revoke_s)
        for n in self.nodes:
            self.assertEqual(n.stop(), 0)
        self.assertLess(time.monotonic() - t_begin, 170, "the failover test took too long")


if __name__ == "__main__":
    h.main()
