#!/usr/bin/env python3
"""roster init / migrate / backup and configuration precedence, with the real binary.

On ROSTER_TEST_ENGINE=pg the store is a fresh database on the test cluster and the key file is
named explicitly (its default place is beside an SQLite file); `roster backup` is SQLite's online
backup of the file, so its test is skipped there, saying why."""

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402


def clean_env(**kw):
    e = {k: v for k, v in os.environ.items() if not k.startswith("ROSTER_")}
    e.update(kw)
    return e


def json_lines(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out


def get_status(url, token=None, timeout=2):
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


class Serve:
    """A `roster serve` started with exactly the given arguments and environment."""

    def __init__(self, args, env, probe_port):
        # stderr (the JSON log) goes to a file, so that a failed stop can show what happened
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([h.roster_bin(), "serve"] + args, env=env,
                                     stdout=subprocess.PIPE, stderr=self.err)
        self.url = "http://127.0.0.1:%d" % probe_port
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if get_status(self.url + "/readyz") == 200:
                return
            if self.proc.poll() is not None:
                raise AssertionError("roster serve exited with %s" % self.proc.returncode)
            time.sleep(0.02)
        self.stop()
        raise AssertionError("roster serve not ready on %s" % self.url)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        if self.proc.returncode != 0:
            self.err.seek(0)
            sys.stderr.write("roster serve exited %s; its log:\n%s\n" % (
                self.proc.returncode, self.err.read().decode("utf-8", "replace")[-4000:]))
        return self.proc.returncode


class InitTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roster-init-")
        if h.is_pg():
            self.db = h.pg_create_db("roster_init_")
            self.key = os.path.join(self.dir, "sub", "roster.key")
            self.store = ["--db", self.db, "--key-file", self.key]
        else:
            self.db = os.path.join(self.dir, "sub", "roster.db")
            self.key = os.path.join(os.path.dirname(self.db), "roster.key")   # the default place
            self.store = ["--db", self.db]

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        if h.is_pg() and not os.environ.get("ROSTER_E2E_KEEP"):
            h.pg_drop_db(self.db)

    def test_init_prints_token_once_and_it_works(self):
        rc, out, err = h.run_roster("init", *self.store, env=clean_env())
        self.assertEqual(rc, 0, err)
        lines = json_lines(out)
        boot = [x for x in lines if x.get("msg") == "bootstrap"]
        self.assertEqual(len(boot), 1, out)
        token = boot[0]["maintenance_token"]
        self.assertRegex(token, h.TOKEN_FULL_RE)
        key = self.key
        self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600)
        self.assertEqual(os.path.getsize(key), 32)
        # A second init changes nothing and prints no credential.
        rc, out2, err2 = h.run_roster("init", *self.store, env=clean_env())
        self.assertEqual(rc, 0, err2)
        self.assertNotIn("maintenance_token\":\"rst_", out2)
        self.assertNotIn(token, out2 + err2)
        port = h.free_port()
        s = Serve(self.store + ["--listen", "127.0.0.1:%d" % port], clean_env(), port)
        try:
            self.assertEqual(get_status(s.url + "/api/v1/me", token), 200)
            self.assertEqual(get_status(s.url + "/api/v1/me", token[:-1] + "x"), 401)
        finally:
            self.assertEqual(s.stop(), 0)
        # The first start of an initialised store prints no credential either.
        self.assertNotIn(token.encode(), s.proc.stdout.read())

    def test_bootstrap_token_from_environment(self):
        token = "an-operator-chosen-bootstrap-secret-" + h.uid()
        rc, out, err = h.run_roster("init", *self.store,
                                    env=clean_env(ROSTER_BOOTSTRAP_TOKEN=token))
        self.assertEqual(rc, 0, err)
        self.assertNotIn(token, out + err)
        port = h.free_port()
        s = Serve(self.store + ["--listen", "127.0.0.1:%d" % port], clean_env(), port)
        try:
            self.assertEqual(get_status(s.url + "/api/v1/me", token), 200)
        finally:
            s.stop()

    def test_short_bootstrap_token_refused(self):
        rc, out, err = h.run_roster("init", *self.store,
                                    env=clean_env(ROSTER_BOOTSTRAP_TOKEN="short"))
        self.assertNotEqual(rc, 0)
        self.assertIn("ROSTER_BOOTSTRAP_TOKEN", err)
        self.assertNotIn("short", out)

    def test_migrate_and_verify(self):
        rc, out, err = h.run_roster("init", *self.store, env=clean_env())
        self.assertEqual(rc, 0, err)
        rc, out, err = h.run_roster("migrate", *self.store, env=clean_env())
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(json_lines(out)[-1]["schema_version"], 1)
        rc, out, err = h.run_roster("audit", "verify", "--db", self.db, env=clean_env())
        self.assertEqual(rc, 0, out + err)
        self.assertIn("ok   tenant system", out)

    def test_migrate_backup_and_verify_the_copy(self):
        if h.is_pg():
            reason = ("roster backup is SQLite's online backup of the file; a PostgreSQL store is "
                      "backed up with pg_dump/pg_basebackup (docs/deploy.md)")
            print("\nSKIP on PostgreSQL: " + reason, file=sys.stderr)
            self.skipTest(reason)
        rc, out, err = h.run_roster("init", "--db", self.db, env=clean_env())
        self.assertEqual(rc, 0, err)
        rc, out, err = h.run_roster("migrate", "--db", self.db, env=clean_env())
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(json_lines(out)[-1]["schema_version"], 1)
        copy = os.path.join(self.dir, "copy.db")
        rc, out, err = h.run_roster("backup", "--db", self.db, "--out", copy, env=clean_env())
        self.assertEqual(rc, 0, err)
        self.assertTrue(os.path.getsize(copy) > 0)
        # The copy verifies on its own, without the key file beside it.
        rc, out, err = h.run_roster("audit", "verify", "--db", copy, env=clean_env())
        self.assertEqual(rc, 0, out + err)
        self.assertIn("ok   tenant system", out)
        rc, out, err = h.run_roster("backup", "--db", self.db, env=clean_env())
        self.assertEqual(rc, 2, "backup without --out is a usage error")


class ConfigPrecedenceTest(unittest.TestCase):
    """Flags win over the environment, which wins over the config file."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roster-cfg-")
        self.db = h.fresh_db(self.dir)
        self.ports = [h.free_port() for _ in range(3)]
        self.cfg = os.path.join(self.dir, "roster.conf")
        # Line 1 names the key on PostgreSQL (a URI has no directory to put it beside), so that
        # test_bad_config_is_refused_with_the_line finds its bad key on line 5 on both engines.
        first = ("key_file = \"%s\"" % os.path.join(self.dir, "roster.key")) if h.is_pg() else "# test config"
        with open(self.cfg, "w") as f:
            f.write("%s\nlisten = 127.0.0.1:%d\ndb = \"%s\"\nlog_level = warn\n"
                    % (first, self.ports[0], self.db))

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)
        if h.is_pg() and not os.environ.get("ROSTER_E2E_KEEP"):
            h.pg_drop_db(self.db)

    def serve_on(self, args, env, port):
        s = Serve(args, env, port)
        try:
            for other in self.ports:
                if other != port:
                    self.assertIsNone(get_status("http://127.0.0.1:%d/healthz" % other))
        finally:
            self.assertEqual(s.stop(), 0)

    def test_file_then_env_then_flag(self):
        self.serve_on(["--config", self.cfg], clean_env(), self.ports[0])
        env = clean_env(ROSTER_CONFIG=self.cfg, ROSTER_LISTEN="127.0.0.1:%d" % self.ports[1])
        self.serve_on([], env, self.ports[1])
        self.serve_on(["--listen", "127.0.0.1:%d" % self.ports[2]], env, self.ports[2])
        if h.is_pg():
            ((n,),) = h.db_query(self.db, "SELECT count(*) FROM tenants")
            self.assertGreaterEqual(int(n), 1, "the database named by the file was used")
        else:
            self.assertTrue(os.path.exists(self.db), "the database named by the file was used")

    def test_bad_config_is_refused_with_the_line(self):
        with open(self.cfg, "a") as f:
            f.write("no_such_key = 1\n")
        p = subprocess.run([h.roster_bin(), "serve", "--config", self.cfg], env=clean_env(),
                           capture_output=True, timeout=10)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"5", p.stderr)  # the line number
        self.assertIn(b"no_such_key", p.stderr)

    def test_unknown_flag_is_refused(self):
        p = subprocess.run([h.roster_bin(), "serve", "--no-such-flag"], env=clean_env(),
                           capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"no-such-flag", p.stderr)


if __name__ == "__main__":
    h.main()
