"""End-to-end harness for roster: starts the real binary on a loopback port and talks HTTP to it.

Python 3 standard library only (plus the psql and pg_dump clients for PostgreSQL).  Every wait in
here is bounded.

Engines: ROSTER_TEST_ENGINE=sqlite (the default) gives every Server a fresh SQLite file in its temp
directory; ROSTER_TEST_ENGINE=pg gives it a fresh database (roster_e2e_<random>) on the cluster
named by ROSTER_TEST_PG (a libpq URI, e.g. the one `scripts/pg start DIR` prints), dropped at exit.
Either way Server.db_path is what `roster ... --db` takes, and db_query / db_exec / db_dump reach
the server's database directly, as someone holding it would, on either engine.

`python3 harness.py pg-preflight` checks that the PostgreSQL side is usable at all (the suite
`pg` runs it first).
"""

import atexit
import base64
import glob
import http.client
import json as _json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import sqlite3
import sys
import urllib.parse
import uuid

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TOKEN_RE = re.compile(r"rst_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")
TOKEN_FULL_RE = re.compile(r"^rst_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$")
UUID7_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
REQUEST_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

HTTP_TIMEOUT = 30.0
API = "/api/v1"

ENGINES = ("sqlite", "pg")
ENGINE = os.environ.get("ROSTER_TEST_ENGINE") or "sqlite"
PG_TIMEOUT = 60

# threatconnect template, as the brief states it: name -> (scope, rank)
TC_ROLES = {
    "Administrator": ("system", 900),
    "Operations Administrator": ("system", 800),
    "Accounts Administrator": ("system", 700),
    "Exchange Admin": ("system", 600),
    "Super User": ("system", 500),
    "Api User": ("system", 400),
    "User": ("system", 300),
    "Read Only User": ("system", 100),
    "Organization Administrator": ("tenant", 650),
    "Standard User": ("tenant", 300),
    "Read Only Commenter": ("tenant", 150),
    "Org Read Only User": ("tenant", 100),
}
ADMIN_PERMS = {"users.read", "users.create", "users.update", "users.suspend", "users.delete",
               "roles.read", "roles.assign", "groups.read", "groups.manage", "tokens.read",
               "tokens.manage", "audit.read", "tenant.read"}

TEMPLATE_ROLES = {
    "default": {"Owner": 900, "Admin": 700, "Member": 300, "Viewer": 100},
    "qradar": {"Admin": 900, "Analyst": 500, "Reader": 100},
    "threatq": {"Administrative Access": 900, "Analyst": 500, "Read-only": 100},
    "thought_industries": {"Super Admin": 900, "Admin": 700, "Manager": 500, "Learner": 100},
    "threatconnect": {k: v[1] for k, v in TC_ROLES.items()},
}


# --------------------------------------------------------------------------- utilities

def uid(n=4):
    return secrets.token_hex(n)


def uuid7():
    """A random, well-formed UUIDv7 string (almost certainly not an existing object)."""
    ms = int(time.time() * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    rand_a = rand >> 68 & 0xFFF
    rand_b = rand & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))


def make_token_string():
    """rst_<16 hex>_<43 base64url chars> (32 random bytes, unpadded)."""
    tail = base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("=")
    assert len(tail) == 43
    return "rst_%s_%s" % (secrets.token_hex(8), tail)


def secret_part(token):
    """The 43-char secret of rst_<16 hex>_<43 base64url> (it may itself contain '_')."""
    return token[21:]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def roster_bin():
    b = os.environ.get("ROSTER_BIN", "build/roster")
    if not os.path.isabs(b):
        b = os.path.join(REPO_ROOT, b)
    return b


def tail(path, max_lines=200):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return "<cannot read %s: %s>" % (path, e)
    lines = data.decode("utf-8", "replace").splitlines()
    if len(lines) > max_lines:
        return "... (%d earlier lines omitted)\n" % (len(lines) - max_lines) + "\n".join(lines[-max_lines:])
    return "\n".join(lines)


# --------------------------------------------------------------------------- engines

class EngineError(AssertionError):
    pass


def _engine_fail(msg):
    """The engine setup is unusable: fail the whole test program loudly (exit 1, never 77=skip)."""
    sys.stderr.write("\n*** roster e2e (ROSTER_TEST_ENGINE=%s): %s\n\n" % (ENGINE, msg))
    sys.stderr.flush()
    sys.exit(1)


def is_pg():
    return ENGINE == "pg"


def pg_base():
    """The libpq URI of the test cluster's maintenance database (ROSTER_TEST_PG)."""
    uri = os.environ.get("ROSTER_TEST_PG")
    if not uri:
        raise EngineError("ROSTER_TEST_ENGINE=pg but ROSTER_TEST_PG is unset: start a cluster with "
                          "`scripts/pg start DIR` and export ROSTER_TEST_PG=<the URI it prints> "
                          "(./scripts/test does this)")
    return uri


def pg_uri(dbname, base=None):
    """base (a postgresql:// URI) with its database replaced by dbname."""
    u = urllib.parse.urlsplit(base or pg_base())
    if u.scheme not in ("postgresql", "postgres"):
        raise EngineError("ROSTER_TEST_PG must be a postgresql:// URI, not %r" % (base or pg_base()))
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + urllib.parse.quote(dbname), u.query, ""))


def _psql(uri, script, tuples=True, timeout=PG_TIMEOUT):
    """Runs an SQL script through psql on uri (ON_ERROR_STOP); returns stdout, raises on error."""
    args = ["psql", "-X", "-q" if not tuples else "-At", "-v", "ON_ERROR_STOP=1", "-d", uri, "-f", "-"]
    try:
        p = subprocess.run(args, input=script.encode(), capture_output=True, timeout=timeout)
    except FileNotFoundError:
        raise EngineError("psql not found (install Debian's postgresql-client: scripts/deps)")
    except subprocess.TimeoutExpired:
        raise EngineError("psql on %s did not finish within %ds:\n%s" % (uri, timeout, script))
    if p.returncode != 0:
        raise EngineError("psql on %s failed (exit %d): %s\nscript:\n%s"
                          % (uri, p.returncode, p.stderr.decode("utf-8", "replace").strip(), script))
    return p.stdout.decode("utf-8", "replace")


def _pg_ident(name):
    return '"' + name.replace('"', '""') + '"'


_PG_DATABASES = []      # databases created by this process (dropped at exit)


def pg_create_db(prefix="roster_e2e_"):
    """Creates a fresh, empty database on the test cluster; returns its URI."""
    name = prefix + uid(6)
    _psql(pg_base(), "CREATE DATABASE %s;\n" % _pg_ident(name))
    _PG_DATABASES.append(name)
    return pg_uri(name)


def pg_drop_db(name):
    """Drops a database of the test cluster, given its name or its URI."""
    if name.startswith(("postgresql://", "postgres://")):
        name = urllib.parse.unquote(urllib.parse.urlsplit(name).path.lstrip("/"))
    _psql(pg_base(), "DROP DATABASE IF EXISTS %s WITH (FORCE);\n" % _pg_ident(name))
    if name in _PG_DATABASES:
        _PG_DATABASES.remove(name)


def fresh_db(directory):
    """A fresh store location on the engine under test: an SQLite file in directory, or a new
    database on the test cluster.  Returns what --db takes."""
    if is_pg():
        return pg_create_db()
    return os.path.join(directory, "roster.db")


def _db_of(target):
    return target.db_path if isinstance(target, Server) else target


def _pg_literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return "'\\x%s'::bytea" % bytes(v).hex()
    return "'" + str(v).replace("'", "''") + "'"


def _pg_bind(sql, params):
    """Replaces each ? of sql with a quoted literal (the tests write SQLite's ? placeholders)."""
    params = list(params)
    out = []
    i = 0
    in_str = False
    for ch in sql:
        if ch == "'":
            in_str = not in_str
        if ch == "?" and not in_str:
            if i >= len(params):
                raise EngineError("more ? than parameters in %r" % sql)
            out.append(_pg_literal(params[i]))
            i += 1
        else:
            out.append(ch)
    if i != len(params):
        raise EngineError("%d parameters for %d ? in %r" % (len(params), i, sql))
    return "".join(out)


def _sqlite_connect(path):
    conn = sqlite3.connect(path, timeout=10, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


class _Pairs(list):
    pass


def _unpair(v):
    if isinstance(v, _Pairs):
        return {k: _unpair(x) for k, x in v}
    if isinstance(v, list):
        return [_unpair(x) for x in v]
    return v


def db_query(target, sql, params=()):
    """Rows (a list of tuples) of one SELECT on the database of target (a Server, or what --db
    takes).  SQLite gives its own types; PostgreSQL gives JSON values (numbers, strings, None,
    and json/jsonb columns as Python objects)."""
    db = _db_of(target)
    if db.startswith(("postgresql://", "postgres://")):
        text = _psql(db, "SELECT coalesce(json_agg(q), '[]') FROM (%s) q;\n"
                     % _pg_bind(sql.strip().rstrip(";"), params))
        # json (not jsonb) keeps every column of a row in order, duplicate names included.
        return [tuple(_unpair(v) for _, v in row) for row in _json.loads(text, object_pairs_hook=_Pairs)]
    conn = _sqlite_connect(db)
    try:
        return [tuple(r) for r in conn.execute(sql, tuple(params))]
    finally:
        conn.close()


def db_exec(target, statements, params=(), tamper=False):
    """Runs statements directly on the database of target, in one transaction: one SQL string
    (with params for its ? placeholders) or a list of strings or (sql, params) pairs.  Returns the
    rows changed by each statement (an int for one statement, a list for a list).

    tamper=True acts as an attacker holding the database: on SQLite every trigger is dropped
    first; on PostgreSQL the session runs with session_replication_role=replica (the superuser's
    way to bypass triggers, so no guard trigger or foreign key stops the edit)."""
    single = isinstance(statements, str)
    stmts = [(statements, params)] if single else [
        (s, ()) if isinstance(s, str) else (s[0], s[1]) for s in statements]
    db = _db_of(target)
    counts = []
    if db.startswith(("postgresql://", "postgres://")):
        script = "SET session_replication_role = replica;\n" if tamper else ""
        script += "BEGIN;\n"
        for sql, p in stmts:
            script += _pg_bind(sql.strip().rstrip(";"), p) + ";\n"
        script += "COMMIT;\n"
        out = _psql(db, script)
        for line in out.splitlines():
            m = re.match(r"^(?:INSERT \d+|UPDATE|DELETE|MERGE|SELECT|COPY) (\d+)$", line.strip())
            if m:
                counts.append(int(m.group(1)))
        if len(counts) != len(stmts):
            raise EngineError("psql reported %d row counts for %d statements:\n%s"
                              % (len(counts), len(stmts), out))
    else:
        conn = _sqlite_connect(db)
        try:
            if tamper:
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'").fetchall():
                    conn.execute('DROP TRIGGER "%s"' % name.replace('"', '""'))
            conn.execute("BEGIN")
            try:
                for sql, p in stmts:
                    counts.append(conn.execute(sql, tuple(p)).rowcount)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        finally:
            conn.close()
    return counts[0] if single else counts


def db_dump(target):
    """Every byte the database holds, for greps: the SQLite files (database, WAL, journal) as
    they are on disk, or a pg_dump of the PostgreSQL database (schema and data, plain text)."""
    db = _db_of(target)
    if db.startswith(("postgresql://", "postgres://")):
        try:
            p = subprocess.run(["pg_dump", "--no-owner", "-d", db], capture_output=True, timeout=PG_TIMEOUT)
        except FileNotFoundError:
            raise EngineError("pg_dump not found (install Debian's postgresql-client: scripts/deps)")
        if p.returncode != 0:
            raise EngineError("pg_dump %s failed: %s" % (db, p.stderr.decode("utf-8", "replace")))
        return p.stdout
    blobs = b""
    for path in sorted(glob.glob(glob.escape(db) + "*")):
        with open(path, "rb") as f:
            blobs += f.read()
    return blobs


def _check_engine():
    if ENGINE not in ENGINES:
        _engine_fail("unknown ROSTER_TEST_ENGINE=%r (want one of %s)" % (ENGINE, ", ".join(ENGINES)))
    if is_pg():
        try:
            pg_base()
        except EngineError as e:
            _engine_fail(str(e))
        if shutil.which("psql") is None:
            _engine_fail("psql not found (install Debian's postgresql-client: scripts/deps)")


_check_engine()


# --------------------------------------------------------------------------- server

_LIVE_SERVERS = []      # servers started and not yet stopped (killed at exit)
_RECENT_SERVERS = []    # every server of this process (logs dumped on failure)


class ServerStartError(AssertionError):
    pass


class Server:
    def __init__(self, extra_env=None, bootstrap_token=None):
        self.tmpdir = tempfile.mkdtemp(prefix="roster-e2e-")
        self.engine = ENGINE
        # What --db takes: an SQLite file here, or a PostgreSQL database made at the first start.
        self.db_name = None
        if is_pg():
            self.db_name = "roster_e2e_" + uid(6)
            self.db_path = pg_uri(self.db_name)
        else:
            self.db_path = os.path.join(self.tmpdir, "roster.db")
        self.db_created = False
        self.stdout_path = os.path.join(self.tmpdir, "stdout.log")
        self.stderr_path = os.path.join(self.tmpdir, "stderr.log")
        self.root_token = bootstrap_token or make_token_string()
        self.extra_env = dict(extra_env or {})
        self.proc = None
        self.port = None
        self.base_url = None
        self.starts = 0

    # -- lifecycle
    def env(self):
        env = dict(os.environ)
        env["ROSTER_BOOTSTRAP_TOKEN"] = self.root_token
        env["ROSTER_LOG_LEVEL"] = "debug"
        if is_pg():
            # The key's default place is beside an SQLite file; a URI has no directory.
            env["ROSTER_KEY_FILE"] = os.path.join(self.tmpdir, "roster.key")
        for k, v in self.extra_env.items():     # a value of None removes the variable
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    def start(self):
        binary = roster_bin()
        if not os.path.exists(binary):
            raise ServerStartError("roster binary not found at %s (set ROSTER_BIN)" % binary)
        if is_pg() and not self.db_created:
            _psql(pg_base(), "CREATE DATABASE %s;\n" % _pg_ident(self.db_name))
            _PG_DATABASES.append(self.db_name)
            self.db_created = True
        last_err = None
        for _attempt in range(3):   # the free port may be taken between close() and the server's bind()
            self.port = free_port()
            self.base_url = "http://127.0.0.1:%d" % self.port
            out = open(self.stdout_path, "ab")
            err = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen(
                [binary, "serve", "--listen", "127.0.0.1:%d" % self.port, "--db", self.db_path],
                env=self.env(), stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=self.tmpdir)
            out.close()
            err.close()
            self.starts += 1
            _LIVE_SERVERS.append(self)
            if self not in _RECENT_SERVERS:
                _RECENT_SERVERS.append(self)
            try:
                self._wait_ready(10.0)
                return self
            except ServerStartError as e:
                last_err = e
                if self.proc.poll() is None:
                    self.kill()
                    raise
                self._forget()
        raise last_err

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError("roster exited with %s before becoming ready\n%s"
                                       % (self.proc.returncode, self.logs()))
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1.0)
                conn.request("GET", "/readyz")
                r = conn.getresponse()
                r.read()
                conn.close()
                if r.status == 200:
                    return
                last = "status %d" % r.status
            except OSError as e:
                last = repr(e)
            time.sleep(0.02)
        raise ServerStartError("roster not ready after %.0fs (last: %s)\n%s" % (timeout, last, self.logs()))

    def _forget(self):
        if self in _LIVE_SERVERS:
            _LIVE_SERVERS.remove(self)

    def terminate(self, timeout=10.0):
        """Send SIGTERM, wait (bounded) and return the exit code (None if it did not exit)."""
        if self.proc is None or self.proc.poll() is not None:
            self._forget()
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None
        self._forget()
        return code

    def stop(self):
        """SIGTERM and assert a clean exit (code 0 within 10 s).  A no-op once stopped or killed."""
        if self.proc is None or self not in _LIVE_SERVERS:
            return
        already = self.proc.poll()
        if already is not None:
            self._forget()
            raise AssertionError("roster had already exited with %s before stop()\n%s" % (already, self.logs()))
        code = self.terminate(10.0)
        if code != 0:
            raise AssertionError("roster did not exit 0 within 10s after SIGTERM (code %r)\n%s"
                                 % (code, self.logs()))

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        self._forget()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- logs
    def read_stdout(self):
        try:
            with open(self.stdout_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def read_stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def logs(self, max_lines=200):
        return ("---- roster on %s (--db %s) ----\n"
                "---- roster stdout (%s) ----\n%s\n---- roster stderr (%s) ----\n%s\n----"
                % (self.engine, self.db_path, self.stdout_path, tail(self.stdout_path, max_lines),
                   self.stderr_path, tail(self.stderr_path, max_lines)))

    # -- clients
    def client(self, token=None):
        return Client(self.base_url, token)

    def root(self):
        return Client(self.base_url, self.root_token)


@atexit.register
def _kill_leftovers():
    for s in list(_LIVE_SERVERS):
        s.kill()
    if not os.environ.get("ROSTER_E2E_KEEP"):       # set ROSTER_E2E_KEEP=1 to keep dbs and logs
        for s in _RECENT_SERVERS:
            shutil.rmtree(s.tmpdir, ignore_errors=True)
        for d in _SCRATCH:
            shutil.rmtree(d, ignore_errors=True)
        for name in list(_PG_DATABASES):
            try:
                pg_drop_db(name)
            except EngineError as e:
                sys.stderr.write("warning: %s\n" % e)
    elif _PG_DATABASES:
        sys.stderr.write("ROSTER_E2E_KEEP: kept databases %s\n" % ", ".join(_PG_DATABASES))


# --------------------------------------------------------------------------- client

class Response:
    def __init__(self, method, path, status, headers, body):
        self.method = method
        self.path = path
        self.status = status
        self.headers = headers          # http.client.HTTPMessage: case-insensitive .get()
        self.body = body
        self.text = body.decode("utf-8", "replace")
        self.json = None
        if body:
            try:
                self.json = _json.loads(self.text)
            except ValueError:
                self.json = None

    @property
    def request_id(self):
        return self.headers.get("X-Request-Id")

    @property
    def etag(self):
        return self.headers.get("ETag")

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def describe(self):
        t = self.text if len(self.text) < 2000 else self.text[:2000] + "...(truncated)"
        return "%s %s -> %d\n%s" % (self.method, self.path, self.status, t)

    def __repr__(self):
        return "<Response %s>" % self.describe()


class Client:
    def __init__(self, base_url, token=None, timeout=HTTP_TIMEOUT):
        u = urllib.parse.urlsplit(base_url)
        assert u.hostname == "127.0.0.1", "tests only talk to 127.0.0.1"
        self.base_url = base_url
        self.host = u.hostname
        self.port = u.port
        self.token = token
        self.timeout = timeout

    def with_token(self, token):
        return Client(self.base_url, token, self.timeout)

    def request(self, method, path, json=None, headers=None, raw_body=None,
                content_type="application/json", params=None, auth=True):
        if params:
            q = urllib.parse.urlencode(params, doseq=True)
            path = path + ("&" if "?" in path else "?") + q
        h = {}
        if auth and self.token is not None:
            h["Authorization"] = "Bearer " + self.token
        body = None
        if raw_body is not None:
            body = raw_body if isinstance(raw_body, bytes) else raw_body.encode()
            if content_type is not None:
                h["Content-Type"] = content_type
        elif json is not None:
            body = _json.dumps(json).encode()
            if content_type is not None:
                h["Content-Type"] = content_type
        if headers:
            h.update(headers)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            data = r.read()
            return Response(method, path, r.status, r.headers, data)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json=None, **kw):
        return self.request("POST", path, json=json, **kw)

    def patch(self, path, json=None, **kw):
        return self.request("PATCH", path, json=json, **kw)

    def put(self, path, json=None, **kw):
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def list_all(self, path, params=None, limit=200, max_pages=1000):
        """Follows next_cursor; returns every item (asserting 200 on each page)."""
        items = []
        p = dict(params or {})
        p["limit"] = limit
        for _ in range(max_pages):
            r = expect(self.get(path, params=p), 200)
            items.extend(r.json["items"])
            nxt = r.json.get("next_cursor")
            if not nxt:
                return items
            p["cursor"] = nxt
        raise AssertionError("more than %d pages at %s" % (max_pages, path))


# --------------------------------------------------------------------------- assertions

def expect(resp, *statuses):
    if resp.status not in statuses:
        raise AssertionError("expected status %s, got:\n%s" % ("/".join(map(str, statuses)), resp.describe()))
    return resp


def assert_problem(resp, status, code, field=None):
    """RFC 9457 problem with the roster conventions.  `code` may be a set of acceptable codes."""
    codes = {code} if isinstance(code, str) else set(code)
    msg = "expected problem %d %s%s, got:\n%s" % (
        status, "/".join(sorted(codes)), (" field=" + field) if field else "", resp.describe())
    if resp.status != status:
        raise AssertionError(msg)
    if resp.content_type != "application/problem+json":
        raise AssertionError("Content-Type is %r; " % resp.headers.get("Content-Type") + msg)
    j = resp.json
    if not isinstance(j, dict):
        raise AssertionError("body is not a JSON object; " + msg)
    if j.get("status") != status:
        raise AssertionError("body status %r; " % j.get("status") + msg)
    if j.get("code") not in codes:
        raise AssertionError(msg)
    if j.get("type") != "urn:roster:problem:" + j.get("code"):
        raise AssertionError("type %r; " % j.get("type") + msg)
    if not isinstance(j.get("title"), str) or not j.get("title"):
        raise AssertionError("missing title; " + msg)
    rid = resp.request_id
    if not rid or j.get("instance") != rid:
        raise AssertionError("instance %r != X-Request-Id %r; " % (j.get("instance"), rid) + msg)
    if field is not None and j.get("field") != field:
        raise AssertionError("field %r; " % j.get("field") + msg)
    return j


def problem_signature(resp):
    """What must be identical between a foreign id and a truly missing one."""
    j = resp.json if isinstance(resp.json, dict) else {}
    return (resp.status, resp.content_type, j.get("code"), j.get("type"), j.get("title"),
            j.get("status"), j.get("field"), tuple(sorted(j.keys())))


def etag_of(version):
    return 'W/"%d"' % version


# --------------------------------------------------------------------------- helpers

def tpath(tenant, *parts):
    """/api/v1/tenants/{tenant}/part/part...  (tenant: json object, slug or id)"""
    t = tenant["slug"] if isinstance(tenant, dict) else tenant
    p = API + "/tenants/" + urllib.parse.quote(str(t), safe="")
    for part in parts:
        p += "/" + urllib.parse.quote(str(part), safe="")
    return p


def new_tenant(root, template="threatconnect", slug=None, name=None):
    slug = slug or ("t-" + uid(6))
    body = {"slug": slug, "name": name or ("Tenant " + slug)}
    if template is not None:
        body["template"] = template
    r = expect(root.post(API + "/tenants", json=body), 201)
    return r.json


def make_user(client, tenant, username, system_role=None, roles=None, **fields):
    body = {"username": username}
    if system_role is not None:
        body["system_role"] = system_role
    if roles is not None:
        body["roles"] = roles
    body.update(fields)
    r = expect(client.post(tpath(tenant, "users"), json=body), 201)
    return r.json


def create_token(client, tenant, user_id=None, role=None, name=None, expires_in_days=None):
    body = {"name": name or ("tok-" + uid())}
    if user_id is not None:
        body["user_id"] = user_id
    if role is not None:
        body["role"] = role
    if expires_in_days is not None:
        body["expires_in_days"] = expires_in_days
    r = expect(client.post(tpath(tenant, "tokens"), json=body), 201)
    return r.json


def token_for(root, tenant, user_id, role=None, name=None):
    """Creates an API token for user_id (as the maintenance account); returns the secret."""
    return create_token(root, tenant, user_id=user_id, role=role, name=name)["secret"]


def actor(server, tenant, system_role, roles=None, username=None):
    """A user with the given roles and a client holding its token: (user_json, Client)."""
    root = server.root()
    u = make_user(root, tenant, username or ("u-" + uid()), system_role=system_role, roles=roles)
    return u, server.client(token_for(root, tenant, u["id"]))


def audit_events(client, tenant, **params):
    return client.list_all(tpath(tenant, "audit"), params=params)


def strip(obj, *keys):
    if isinstance(obj, dict):
        return {k: strip(v, *keys) for k, v in obj.items() if k not in keys}
    if isinstance(obj, list):
        return [strip(v, *keys) for v in obj]
    return obj


# --------------------------------------------------------------------------- CLI

_SCRATCH = []


def _scratch_dir():
    """A private temp directory (removed at exit) for the CLI to run in on PostgreSQL, where a
    store path is a URI: anything it might derive from the URI as a relative path lands here,
    not in the tree the tests were started from."""
    if not _SCRATCH:
        _SCRATCH.append(tempfile.mkdtemp(prefix="roster-cli-"))
    return _SCRATCH[0]


def run_roster(*args, env=None, timeout=60, input=None, cwd=None):
    """Runs the roster CLI; returns (exit code, stdout, stderr)."""
    e = dict(os.environ)
    if env:
        e.update(env)
    if cwd is None and is_pg():
        cwd = _scratch_dir()
    p = subprocess.run([roster_bin()] + [str(a) for a in args], env=e, capture_output=True, cwd=cwd,
                       timeout=timeout, input=input, stdin=None if input is not None else subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr.decode("utf-8", "replace")


# --------------------------------------------------------------------------- runner

class _LogDumpingResult(unittest.TextTestResult):
    def _dump(self):
        for s in _RECENT_SERVERS[-3:]:
            self.stream.write("\n" + s.logs() + "\n")
        self.stream.flush()

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._dump()

    def addError(self, test, err):
        super().addError(test, err)
        self._dump()


class _Runner(unittest.TextTestRunner):
    resultclass = _LogDumpingResult


def main():
    unittest.main(testRunner=_Runner(verbosity=2), buffer=False)


class ModuleServer:
    """setUpModule/tearDownModule helper: one server per module."""
    server = None

    @classmethod
    def up(cls):
        cls.server = Server().start()
        return cls.server

    @classmethod
    def down(cls):
        if cls.server is not None:
            s, cls.server = cls.server, None
            s.stop()


# --------------------------------------------------------------------------- pg preflight

def pg_preflight():
    """The suite pg's first test: the cluster answers, and roster can open a store on it.  Says
    plainly what is missing instead of letting every test fail the same way."""
    if not is_pg():
        print("pg-preflight needs ROSTER_TEST_ENGINE=pg")
        return 1
    base = pg_base()
    try:
        print("cluster: %s" % _psql(base, "SELECT version();\n").strip())
    except EngineError as e:
        print("FAIL: the test cluster at ROSTER_TEST_PG=%s does not answer:\n%s" % (base, e))
        return 1
    binary = roster_bin()
    if not os.path.exists(binary):
        print("FAIL: roster binary not found at %s (set ROSTER_BIN)" % binary)
        return 1
    tmp = tempfile.mkdtemp(prefix="roster-pg-preflight-")
    try:
        db = pg_create_db("roster_preflight_")
        env = {"ROSTER_KEY_FILE": os.path.join(tmp, "roster.key")}
        ok = True
        for args in (("migrate", "--db", db), ("audit", "verify", "--db", db)):
            rc, out, err = run_roster(*args, env=env)
            print("$ roster %s -> exit %d\n%s%s" % (" ".join(args), rc, out, err))
            if rc != 0:
                print("FAIL: roster cannot use a PostgreSQL store (`roster %s` exited %d): %s"
                      % (args[0], rc, (err or out).strip()))
                ok = False
                break
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for name in list(_PG_DATABASES):
            pg_drop_db(name)


if __name__ == "__main__":
    if sys.argv[1:] == ["pg-preflight"]:
        sys.exit(pg_preflight())
    sys.stderr.write("usage: harness.py pg-preflight\n")
    sys.exit(2)


def wait_task(client, tenant, task_id, until=("COMPLETED", "FAILED"), timeout=20.0):
    """Polls a task until its status is one of `until`; returns the task."""
    deadline = time.monotonic() + timeout
    while True:
        t = expect(client.get(tpath(tenant, "tasks", task_id)), 200).json
        if t["status"] in until:
            return t
        if time.monotonic() > deadline:
            raise AssertionError("task %s still %s after %.0f s" % (task_id, t["status"], timeout))
        time.sleep(0.05)


def delete_user(client, tenant, user_id, transfer_to=None, status="COMPLETED", **kw):
    """DELETE a user (202 + task), then waits for the task; asserts its final status."""
    params = {"transfer_to": transfer_to} if transfer_to else None
    r = expect(client.delete(tpath(tenant, "users", user_id), params=params, **kw), 202)
    assert r.headers.get("Location", "").endswith("/tasks/" + r.json["id"]), r.describe()
    assert r.json["kind"] == "user.delete" and r.json["target_id"] == user_id, r.describe()
    t = wait_task(client, tenant, r.json["id"])
    assert t["status"] == status, "task ended %s, wanted %s: %r" % (t["status"], status, t)
    return t
