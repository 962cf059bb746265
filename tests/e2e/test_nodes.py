#!/usr/bin/env python3
"""Several roster nodes on one PostgreSQL database (issue 3, item 3).

Two real `roster serve` processes, A and B, share a fresh database on the cluster named by
ROSTER_TEST_PG, one bootstrap token and one key file. The tests prove:

  - revocation crosses nodes: a token revoked, a user deleted or a role's permissions changed
    through A is enforced by B (which had the token cached) within one second;
  - the fallback: with B's LISTEN connection terminated, and even while B cannot open a new
    one, a revocation through A still reaches B within one second; once B reconnects,
    notifications work again;
  - writes through both nodes interleave into one consistent tenant: every user visible on
    both, the audit chain verifies and its seqs are gapless;
  - work done once on PostgreSQL: a slow purge job whose node is killed with SIGKILL is
    finished by the other node (FOR UPDATE SKIP LOCKED + leases), every expired token purged
    exactly once.

PostgreSQL only: fails (never skips) when ROSTER_TEST_PG is unset.
"""

import atexit
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

if not os.environ.get("ROSTER_TEST_PG"):
    sys.stderr.write("\n*** test_nodes.py needs a PostgreSQL cluster: set ROSTER_TEST_PG to its "
                     "libpq URI (`scripts/pg start DIR` prints one; ./scripts/test does this)\n\n")
    sys.exit(1)
os.environ.setdefault("ROSTER_TEST_ENGINE", "pg")

import harness as h  # noqa: E402
from test_jobs import Node, wait_job  # noqa: E402

LIMIT_S = 1.0          # the promise: enforced by the other node within one second
POLL_S = 0.05          # how often the test asks B
GIVE_UP_S = 10.0       # how long the test keeps asking before calling it never


# --------------------------------------------------------------------------- helpers

def psql_rows(db, sql, params=()):
    return h.db_query(db, sql, params)


def wait_status(client, path, want, t0, give_up=GIVE_UP_S, interval=POLL_S, allowed=(200,)):
    """Asks client for path every interval until it answers want; returns (seconds since t0,
    response). Any answer other than want or one of allowed fails at once."""
    while True:
        r = client.get(path)
        elapsed = time.monotonic() - t0
        if r.status == want:
            return elapsed, r
        if r.status not in allowed:
            raise AssertionError("while waiting for %d after %.3fs, got:\n%s"
                                 % (want, elapsed, r.describe()))
        if elapsed > give_up:
            raise AssertionError("still %d after %.1fs (want %d):\n%s"
                                 % (r.status, elapsed, want, r.describe()))
        time.sleep(interval)


def socket_ports(pid):
    """Local TCP ports of the sockets process pid holds (from /proc: its fds' socket inodes
    matched against the namespace's tcp tables)."""
    inodes = set()
    try:
        for fd in os.listdir("/proc/%d/fd" % pid):
            try:
                link = os.readlink("/proc/%d/fd/%s" % (pid, fd))
            except OSError:
                continue
            if link.startswith("socket:["):
                inodes.add(link[8:-1])
    except OSError:
        return set()
    ports = set()
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                lines = f.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > 9 and parts[9] in inodes:
                ports.add(int(parts[1].rsplit(":", 1)[1], 16))
    return ports


def watch_backends(db):
    """(pid, client_port, backend_start) of every roster-watch connection to db."""
    rows = psql_rows(db, "SELECT pid, client_port, extract(epoch from backend_start)::float8 "
                         "FROM pg_stat_activity WHERE datname = current_database() "
                         "AND application_name = 'roster-watch' AND pid <> pg_backend_pid()")
    return [(int(p), (int(c) if c is not None else None), float(s)) for p, c, s in rows]


def watch_backend_of(db, node, timeout=5.0):
    """The backend pid of node's LISTEN connection: the roster-watch connection whose client
    port is one of node's sockets."""
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        seen = watch_backends(db)
        ports = socket_ports(node.proc.pid)
        mine = [pid for pid, port, _ in seen if port is not None and port in ports]
        if len(mine) == 1:
            return mine[0]
        if len(mine) > 1:
            raise AssertionError("node has %d watch connections: %r" % (len(mine), seen))
        time.sleep(0.05)
    raise AssertionError("no roster-watch connection of node pid %d within %.0fs (all watch "
                         "connections: %r; the node's ports: %r; ROSTER_TEST_PG must be a TCP "
                         "URI for this test)" % (node.proc.pid, timeout, seen,
                                                 sorted(socket_ports(node.proc.pid))))


def warm_pool(node, path, threads=8, rounds=5):
    """Concurrent requests, so that node's connection pool opens several connections."""
    def run():
        for _ in range(rounds):
            node.client.get(path)
    ths = [threading.Thread(target=run) for _ in range(threads)]
    for th in ths:
        th.start()
    for th in ths:
        th.join(30)


# --------------------------------------------------------------------------- base

_NODES = []     # roster processes of this run (killed at exit, whatever happens)


@atexit.register
def _kill_nodes():
    for n in _NODES:
        n.kill()


def _exit_on_sigterm(signum, frame):
    sys.exit(128 + signum)


signal.signal(signal.SIGTERM, _exit_on_sigterm)


class TwoNodes(unittest.TestCase):
    """A fresh database, node A started first (it writes the key file), then node B with the
    same key file and bootstrap token."""

    node_env = {}

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roster-nodes-")
        self.db = h.pg_create_db("roster_nodes_")
        self.key_file = os.path.join(self.dir, "roster.key")
        self.token = h.make_token_string()
        self.nodes = []
        self.a = self.node("a")
        self.assertTrue(os.path.exists(self.key_file), "node a did not write the key file")
        self.b = self.node("b")

    def node(self, name, **env):
        e = {"ROSTER_KEY_FILE": self.key_file, "ROSTER_JOB_POLL_MS": "50"}
        e.update(self.node_env)
        e.update(env)
        n = Node(self.db, self.token, self.dir, name, e)
        n.name = name
        self.nodes.append(n)
        _NODES.append(n)
        return n

    def _failed(self):
        outcome = getattr(self, "_outcome", None)
        result = getattr(outcome, "result", None)
        if result is None:
            return False
        return any(t is self for t, _ in list(result.failures) + list(result.errors))

    def tearDown(self):
        failed = self._failed()
        for n in self.nodes:
            n.kill()
            if failed:
                sys.stderr.write("\n---- node %s (pid %d) log ----\n%s\n" % (
                    n.name, n.proc.pid, n.logs()[-20000:]))
            try:
                n.log.close()
            except OSError:
                pass
        try:
            h.pg_drop_db(self.db)
        except h.EngineError as e:
            sys.stderr.write("warning: %s\n" % e)
        if os.environ.get("ROSTER_E2E_KEEP"):
            sys.stderr.write("kept %s\n" % self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # -- fixtures through A
    def tenant(self, template="default"):
        return h.expect(self.a.client.post(h.API + "/tenants", json={
            "slug": "n-" + h.uid(), "name": "Nodes", "template": template}), 201).json

    def user_with_token(self, t, system_role="Admin", role=None):
        u = h.make_user(self.a.client, t, "u-" + h.uid(), system_role=system_role)
        tok = h.create_token(self.a.client, t, user_id=u["id"], role=role)
        return u, tok

    def on(self, node, secret):
        return h.Client(node.url, secret, timeout=10)

    def assert_cached_on(self, node, secret, path=h.API + "/me", times=3):
        c = self.on(node, secret)
        for _ in range(times):   # the first fills B's cache, the others hit it
            h.expect(c.get(path), 200)
        return c


# --------------------------------------------------------------------------- revocation

class RevocationAcrossNodes(TwoNodes):
    def test_token_revoked_on_a_is_refused_by_b_within_a_second(self):
        t = self.tenant()
        timings = []
        for i in range(3):
            _, tok = self.user_with_token(t)
            b = self.assert_cached_on(self.b, tok["secret"])
            h.expect(self.a.client.delete(h.tpath(t, "tokens", tok["token"]["id"])), 204)
            t0 = time.monotonic()
            el, r = wait_status(b, h.API + "/me", 401, t0)
            h.assert_problem(r, 401, "auth.invalid_token")
            self.assertEqual(r.headers.get("WWW-Authenticate", "").split(" ")[0], "Bearer")
            timings.append(el)
            self.assertLessEqual(el, LIMIT_S, "B still accepted the token %.3fs after A revoked "
                                 "it (attempt %d)" % (el, i))
        sys.stderr.write("token revoked on A -> refused by B after %s s\n"
                         % ", ".join("%.3f" % x for x in timings))
        # and the other way round: revoked through B, refused by A
        _, tok = self.user_with_token(t)
        a = self.assert_cached_on(self.a, tok["secret"])
        h.expect(self.b.client.delete(h.tpath(t, "tokens", tok["token"]["id"])), 204)
        el, r = wait_status(a, h.API + "/me", 401, time.monotonic())
        h.assert_problem(r, 401, "auth.invalid_token")
        self.assertLessEqual(el, LIMIT_S)

    def test_user_deleted_on_a_is_refused_by_b_within_a_second(self):
        t = self.tenant()
        u, tok = self.user_with_token(t)
        b = self.assert_cached_on(self.b, tok["secret"])
        h.delete_user(self.a.client, t, u["id"])
        # Until B hears of it, B may still honour the cached token, and /me then finds no
        # user (404 user.not_found): tolerated inside the one-second window only.
        el, r = wait_status(b, h.API + "/me", 401, time.monotonic(), allowed=(200, 404))
        h.assert_problem(r, 401, "auth.invalid_token")
        sys.stderr.write("user deleted on A -> its token refused by B after %.3f s\n" % el)
        self.assertLessEqual(el, LIMIT_S)

    def test_role_permissions_changed_on_a_are_enforced_by_b_within_a_second(self):
        t = self.tenant()
        role = h.expect(self.a.client.post(h.tpath(t, "roles"), json={
            "name": "Lister-" + h.uid(), "scope": "tenant", "rank": 100,
            "permissions": ["users.read"]}), 201).json
        _, tok = self.user_with_token(t, system_role="Admin", role=role["id"])
        users = h.tpath(t, "users")
        b = self.assert_cached_on(self.b, tok["secret"], users)

        # permission taken away through A: B refuses within a second
        h.expect(self.a.client.patch(h.tpath(t, "roles", role["id"]),
                                     json={"permissions": ["tenant.read"]}), 200)
        el, r = wait_status(b, users, 403, time.monotonic())
        h.assert_problem(r, 403, "auth.permission_denied")
        sys.stderr.write("permission removed on A -> refused by B after %.3f s\n" % el)
        self.assertLessEqual(el, LIMIT_S)
        # the role's other permission now works on B
        h.expect(b.get(h.tpath(t)), 200)

        # and given back: B allows within a second
        h.expect(self.a.client.patch(h.tpath(t, "roles", role["id"]),
                                     json={"permissions": ["users.read"]}), 200)
        el, r = wait_status(b, users, 200, time.monotonic(), allowed=(403,))
        sys.stderr.write("permission restored on A -> allowed by B after %.3f s\n" % el)
        self.assertLessEqual(el, LIMIT_S)


# --------------------------------------------------------------------------- fallback

class SessionsAcrossNodes(TwoNodes):
    """An access token is minted by one node and honoured by another (one issuer, one set of
    signing keys in the store), and a session ended on one node is refused by the other within
    the revocation window, however long the token has left."""
    node_env = {"ROSTER_PUBLIC_URL": "https://roster.test", "ROSTER_LOGIN_ATTEMPTS_PER_MINUTE": "0"}

    def test_token_from_a_works_on_b_and_dies_there_when_a_ends_its_session(self):
        t = self.tenant()
        u = h.make_user(self.a.client, t, "s-" + h.uid(), system_role="Admin")
        pw = "a passphrase for two servers"
        h.expect(self.a.client.post(h.tpath(t, "users", u["id"], "password"), json={"password": pw}), 204)
        lr = h.expect(h.Client(self.a.url).post(h.API + "/auth/login", json={
            "tenant": t["slug"], "username": u["username"], "password": pw}), 201).json
        b = self.assert_cached_on(self.b, lr["access_token"])
        h.expect(self.on(self.a, lr["access_token"]).delete(h.API + "/me/sessions/" + lr["session"]["id"]), 204)
        el, r = wait_status(b, h.API + "/me", 401, time.monotonic())
        h.assert_problem(r, 401, "auth.invalid_session")
        sys.stderr.write("session ended on A -> its access token refused by B after %.3f s\n" % el)
        self.assertLessEqual(el, LIMIT_S)
        # a refresh token from A is spent on B, and its reuse on A ends the new session too
        lr = h.expect(h.Client(self.a.url).post(h.API + "/auth/login", json={
            "tenant": t["slug"], "username": u["username"], "password": pw}), 201).json
        form = "grant_type=refresh_token&refresh_token=" + lr["refresh_token"]
        r = h.Client(self.b.url).request("POST", "/oauth2/token", raw_body=form,
                                         content_type="application/x-www-form-urlencoded")
        self.assertEqual(r.status, 200, r.describe())
        fresh = self.assert_cached_on(self.b, r.json["access_token"])
        r = h.Client(self.a.url).request("POST", "/oauth2/token", raw_body=form,
                                         content_type="application/x-www-form-urlencoded")
        self.assertEqual((r.status, r.json["error"]), (400, "invalid_grant"), r.describe())
        el, r = wait_status(fresh, h.API + "/me", 401, time.monotonic())
        self.assertLessEqual(el, LIMIT_S)


class NotificationFallback(TwoNodes):
    def revoke_and_time(self, t, node_from, node_to):
        _, tok = self.user_with_token(t)
        c = self.assert_cached_on(node_to, tok["secret"])
        h.expect(node_from.client.delete(h.tpath(t, "tokens", tok["token"]["id"])), 204)
        el, r = wait_status(c, h.API + "/me", 401, time.monotonic(), interval=0.01)
        h.assert_problem(r, 401, "auth.invalid_token")
        return el

    def test_listen_connection_terminated_then_revocation_still_reaches_b(self):
        t = self.tenant()
        # warm up: the normal path, and B's pool already holds connections
        self.assertLessEqual(self.revoke_and_time(t, self.a, self.b), LIMIT_S)
        _, tok = self.user_with_token(t)
        b = self.assert_cached_on(self.b, tok["secret"])

        old = watch_backend_of(self.db, self.b)
        a_watch = watch_backend_of(self.db, self.a)
        self.assertNotEqual(old, a_watch)
        killed = psql_rows(self.db, "SELECT pg_terminate_backend(?)", (old,))
        self.assertEqual(killed, [(True,)])
        # revoke at once: the notification may well be sent while B has no LISTEN
        h.expect(self.a.client.delete(h.tpath(t, "tokens", tok["token"]["id"])), 204)
        el, r = wait_status(b, h.API + "/me", 401, time.monotonic())
        h.assert_problem(r, 401, "auth.invalid_token")
        sys.stderr.write("LISTEN connection terminated, revoked on A -> refused by B after "
                         "%.3f s\n" % el)
        self.assertLessEqual(el, LIMIT_S)

        # B reconnects on its own (a new backend), A's listener was never touched
        deadline = time.monotonic() + 10
        new = None
        while time.monotonic() < deadline:
            try:
                new = watch_backend_of(self.db, self.b, timeout=0.5)
            except AssertionError:
                new = None
            if new is not None and new != old:
                break
            time.sleep(0.05)
        self.assertIsNotNone(new, "B never reopened its LISTEN connection")
        self.assertNotEqual(new, old)
        self.assertEqual(watch_backend_of(self.db, self.a), a_watch)
        self.assert_notifications_work()

    def test_revocation_reaches_b_while_its_listen_connection_cannot_come_back(self):
        # The notification connection is down and stays down (the database refuses new
        # connections for a while; the pools keep theirs): B must fall back to polling
        # the store, and still refuse a token revoked through A within one second.
        t = self.tenant()
        secrets_ = []
        for _ in range(2):
            _, tok = self.user_with_token(t)
            secrets_.append(tok)
        # enough traffic on B that its pool holds connections
        clients = [self.assert_cached_on(self.b, tok["secret"], times=5) for tok in secrets_]
        # Both pools hold several open connections before new ones are refused: the job
        # poller (every 50 ms) takes one now and then, so a lone request may need another.
        warm_pool(self.a, h.API + "/tenants")
        warm_pool(self.b, h.API + "/tenants")
        old = watch_backend_of(self.db, self.b)
        dbname = self.db.rsplit("/", 1)[1].split("?")[0]
        base = h.pg_base()
        h._psql(base, 'ALTER DATABASE "%s" ALLOW_CONNECTIONS false;\n' % dbname)
        try:
            h._psql(base, "SELECT pg_terminate_backend(%d);\n" % old)
            time.sleep(0.3)     # B notices and its reconnect attempts start failing
            for i, tok in enumerate(secrets_):
                # A 503 from A (its pool wanted one more connection) is the test's doing, not
                # what is tested: ask again.
                for _ in range(50):
                    r = self.a.client.delete(h.tpath(t, "tokens", tok["token"]["id"]))
                    if r.status != 503:
                        break
                    time.sleep(0.05)
                h.expect(r, 204)
                # B may answer 503 too when its pool wants a new connection; what it may not
                # do after a second is accept the token.
                el, r = wait_status(clients[i], h.API + "/me", 401, time.monotonic(),
                                    give_up=4.0, allowed=(200, 503))
                h.assert_problem(r, 401, "auth.invalid_token")
                sys.stderr.write("LISTEN connection down (cannot reconnect), revoked on A -> "
                                 "refused by B after %.3f s\n" % el)
                self.assertLessEqual(el, LIMIT_S)
        finally:
            h._psql(base, 'ALTER DATABASE "%s" ALLOW_CONNECTIONS true;\n' % dbname)
        # B's listener comes back (its backoff is at most a few seconds) and works again
        deadline = time.monotonic() + 15
        new = None
        while time.monotonic() < deadline:
            try:
                new = watch_backend_of(self.db, self.b, timeout=0.5)
            except AssertionError:
                new = None
            if new is not None and new != old:
                break
            time.sleep(0.1)
        self.assertIsNotNone(new, "B never reopened its LISTEN connection")
        self.assert_notifications_work()

    def assert_notifications_work(self):
        """Revocations reach B by notification again, not only by a periodic poll: B's
        latency is that of a notification (tens of ms), not spread over a poll interval.
        Seven samples; at least five must be within 150 ms (a 500 ms poll alone would put
        that many there about once in a hundred runs)."""
        t = self.tenant()
        samples = [self.revoke_and_time(t, self.a, self.b) for _ in range(7)]
        sys.stderr.write("after reconnect, revoked on A -> refused by B after %s s\n"
                         % ", ".join("%.3f" % x for x in samples))
        for el in samples:
            self.assertLessEqual(el, LIMIT_S)
        fast = [x for x in samples if x <= 0.15]
        self.assertGreaterEqual(len(fast), 5, "revocations reach B at poll speed only (%r): "
                                "are notifications delivered after the reconnect?" % samples)


# --------------------------------------------------------------------------- writes

class InterleavedWrites(TwoNodes):
    def test_writes_through_both_nodes_make_one_consistent_tenant(self):
        t = self.tenant()
        made = []
        # strictly alternating
        for i in range(20):
            n = (self.a, self.b)[i % 2]
            u = h.make_user(n.client, t, "alt-%02d" % i)
            made.append(u)
            # what one node wrote, the other reads at once
            other = (self.b, self.a)[i % 2]
            h.expect(other.client.get(h.tpath(t, "users", u["id"])), 200)
        # and concurrently: two writers per node at the same time, on the same tenant
        errors, lock = [], threading.Lock()

        def writer(node, tag):
            for i in range(15):
                try:
                    r = node.client.post(h.tpath(t, "users"), json={"username": "%s-%02d" % (tag, i)})
                    if r.status != 201:
                        raise AssertionError(r.describe())
                    with lock:
                        made.append(r.json)
                except Exception as e:  # noqa: BLE001 - reported below
                    with lock:
                        errors.append("%s: %r" % (tag, e))

        threads = [threading.Thread(target=writer, args=(n, "%s%d" % (n.name, k)))
                   for n in (self.a, self.b) for k in range(2)]
        for th in threads:
            th.start()
        for th in threads:
            th.join(120)
        self.assertFalse(any(th.is_alive() for th in threads), "a writer hung")
        self.assertEqual(errors, [])
        self.assertEqual(len(made), 80)

        want = sorted(u["username"] for u in made)
        for n in (self.a, self.b):
            got = sorted(u["username"] for u in n.client.list_all(h.tpath(t, "users")))
            self.assertEqual(got, want, "node %s sees a different tenant" % n.name)

        seqs = [r[0] for r in psql_rows(self.db, "SELECT seq FROM audit_events WHERE tenant_id = ? "
                                                 "ORDER BY seq", (t["id"],))]
        self.assertTrue(seqs, "no audit events")
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + len(seqs))),
                         "audit seqs have gaps or duplicates")
        self.assertIn(seqs[0], (0, 1))
        creates = psql_rows(self.db, "SELECT count(*) FROM audit_events WHERE tenant_id = ? "
                                     "AND action = 'user.create'", (t["id"],))[0][0]
        self.assertEqual(creates, 80)
        # prev_hash links each event to the one before it
        links = psql_rows(self.db, "SELECT count(*) FROM audit_events e JOIN audit_events p "
                                   "ON p.tenant_id = e.tenant_id AND p.seq = e.seq - 1 "
                                   "WHERE e.tenant_id = ? AND e.prev_hash <> p.hash", (t["id"],))
        self.assertEqual(links[0][0], 0, "broken prev_hash links")

        rc, out, err = h.run_roster("audit", "verify", "--db", self.db,
                                    env={"ROSTER_KEY_FILE": self.key_file})
        self.assertEqual(rc, 0, out + err)


# --------------------------------------------------------------------------- jobs

def expire_tokens(db, tenant_id, keep_id):
    past = int(time.time() * 1000) - 10 * 86400000
    h.db_exec(db, [("UPDATE api_tokens SET expires_at = ? WHERE tenant_id = ?", (past, tenant_id)),
                   ("UPDATE api_tokens SET expires_at = NULL WHERE tenant_id = ? AND id = ?",
                    (tenant_id, keep_id))])


def count_tokens(db, tenant_id):
    return psql_rows(db, "SELECT count(*) FROM api_tokens WHERE tenant_id = ?", (tenant_id,))[0][0]


class JobsOnPostgres(TwoNodes):
    node_env = {"ROSTER_JOB_LEASE_MS": "1500"}

    def test_killed_node_leaves_work_another_node_finishes(self):
        # Both nodes run and poll the queue (SKIP LOCKED); whichever claims the slow purge job
        # is killed with SIGKILL mid-job; the other claims it once the lease expires and
        # finishes from the committed progress. Every expired token purged exactly once.
        c = self.a.client
        t = h.expect(c.post(h.API + "/tenants", json={"slug": "jobs-" + h.uid(), "name": "Jobs",
                                                      "template": "default"}), 201).json
        u = h.make_user(c, t, "svc", system_role="Owner")
        for i in range(80):
            h.create_token(c, t, user_id=u["id"], name="t%d" % i, expires_in_days=1)
        keep = h.create_token(c, t, user_id=u["id"], name="keep")
        expire_tokens(self.db, t["id"], keep["token"]["id"])
        self.assertEqual(count_tokens(self.db, t["id"]), 81)

        r = h.expect(c.post(h.API + "/jobs", json={"kind": "purge_expired_tokens",
                                                   "payload": {"chunk": 5, "pause_ms": 150}}), 202)
        job_id = r.json["id"]
        mid = wait_job(c, job_id, lambda j: j["status"] == "running"
                       and j["progress"].get("done", 0) >= 15, timeout=30)
        owner = mid["lease_owner"]
        by_pid = {"/%d" % n.proc.pid: n for n in self.nodes}
        holders = [n for suffix, n in by_pid.items() if owner.endswith(suffix)]
        self.assertEqual(len(holders), 1, "lease_owner %r is neither node %r" % (owner, list(by_pid)))
        victim = holders[0]
        survivor = self.b if victim is self.a else self.a
        # While the lease is held the other node, polling every 50 ms, never takes the job.
        for _ in range(6):
            j = h.expect(survivor.client.get(h.API + "/jobs/" + job_id), 200).json
            if j["status"] != "running":
                break
            self.assertEqual(j["lease_owner"], owner, "the job changed hands under a live lease")
            self.assertEqual(j["attempts"], 1)
            time.sleep(0.1)
        victim.kill()
        left = count_tokens(self.db, t["id"]) - 1
        self.assertGreater(left, 0, "the job finished before its node was killed: slow it down")
        killed_at = time.monotonic()

        job = wait_job(survivor.client, job_id, lambda j: j["status"] == "done", timeout=60)
        sys.stderr.write("node %s killed with %d tokens left; node %s finished the job %.1fs "
                         "later\n" % (victim.name, left, survivor.name,
                                      time.monotonic() - killed_at))
        self.assertEqual(count_tokens(self.db, t["id"]), 1)
        self.assertEqual(psql_rows(self.db, "SELECT id FROM api_tokens WHERE tenant_id = ?",
                                   (t["id"],)), [(keep["token"]["id"],)])
        self.assertEqual(job["progress"]["done"], 80, job)
        self.assertGreaterEqual(job["attempts"], 2)
        self.assertIsNone(job["lease_owner"])
        self.assertIn("job claimed", survivor.logs())
        events = h.audit_events(survivor.client, t, action="token.purge")
        self.assertEqual(sum(e["changes"]["purged"]["after"] for e in events), 80,
                         "purge counts in the audit don't add up to 80: a chunk counted twice "
                         "or lost")
        self.assertEqual(psql_rows(self.db, "SELECT count(*) FROM jobs WHERE id = ? AND "
                                            "status = 'done'", (job_id,)), [(1,)])
        self.assertEqual(survivor.stop(), 0)
        rc, out, err = h.run_roster("audit", "verify", "--db", self.db,
                                    env={"ROSTER_KEY_FILE": self.key_file})
        self.assertEqual(rc, 0, out + err)

    def test_many_jobs_each_done_once_by_two_nodes(self):
        # Several fast jobs queued at once on two nodes: each claimed by exactly one node
        # (SKIP LOCKED), all done, and the tokens purged once in all.
        c = self.a.client
        t = h.expect(c.post(h.API + "/tenants", json={"slug": "jobs-" + h.uid(), "name": "Jobs",
                                                      "template": "default"}), 201).json
        u = h.make_user(c, t, "svc", system_role="Owner")
        for i in range(30):
            h.create_token(c, t, user_id=u["id"], name="t%d" % i, expires_in_days=1)
        keep = h.create_token(c, t, user_id=u["id"], name="keep")
        expire_tokens(self.db, t["id"], keep["token"]["id"])
        ids = []
        for i in range(8):
            n = (self.a, self.b)[i % 2]
            ids.append(h.expect(n.client.post(h.API + "/jobs", json={
                "kind": "purge_expired_tokens", "payload": {"chunk": 3}}), 202).json["id"])
        jobs = [wait_job(c, j, lambda x: x["status"] == "done", timeout=60) for j in ids]
        self.assertEqual(sum(j["progress"]["done"] for j in jobs), 30, jobs)
        self.assertTrue(all(j["attempts"] == 1 for j in jobs), jobs)
        self.assertEqual(count_tokens(self.db, t["id"]), 1)
        events = h.audit_events(c, t, action="token.purge")
        self.assertEqual(sum(e["changes"]["purged"]["after"] for e in events), 30)


if __name__ == "__main__":
    h.main()
