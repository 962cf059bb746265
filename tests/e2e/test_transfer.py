#!/usr/bin/env python3
"""roster export / import: a deployment moves to another store with nothing lost. The source
is SQLite; the target is PostgreSQL when ROSTER_TEST_PG names a server (the test suite always
sets it for the pg variant), else a second SQLite file."""

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from test_jobs import Node  # noqa: E402

TABLES = ["tenants", "roles", "users", "user_roles", "groups", "group_members", "api_tokens",
          "audit_events"]


def pg_target():
    """A fresh database on ROSTER_TEST_PG: (url, drop function), or (None, None)."""
    base = os.environ.get("ROSTER_TEST_PG")
    if os.environ.get("ROSTER_TEST_ENGINE") != "pg" or not base:
        return None, None
    name = "roster_xfer_" + h.uid(8).replace("-", "_").lower()
    subprocess.run(["psql", base, "-q", "-c", "CREATE DATABASE " + name], check=True,
                   capture_output=True)
    u = urllib.parse.urlsplit(base)
    url = urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, u.query, ""))

    def drop():
        subprocess.run(["psql", base, "-q", "-c", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name],
                       capture_output=True)
    return url, drop


def counts(db):
    if db.startswith("postgres"):
        out = {}
        for t in TABLES:
            p = subprocess.run(["psql", db, "-At", "-c", "SELECT count(*) FROM " + t],
                               check=True, capture_output=True, text=True)
            out[t] = int(p.stdout.strip())
        return out
    con = sqlite3.connect(db)
    try:
        return {t: con.execute("SELECT count(*) FROM " + t).fetchone()[0] for t in TABLES}
    finally:
        con.close()


class TransferTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="roster-xfer-")
        self.src = os.path.join(self.dir, "src", "roster.db")
        os.makedirs(os.path.dirname(self.src))
        self.token = h.make_token_string()
        self.drop = None

    def tearDown(self):
        if self.drop:
            self.drop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def populate(self, client):
        made = []
        for tpl in ("threatconnect", "qradar"):
            t = h.expect(client.post(h.API + "/tenants", json={"slug": "x-" + h.uid(), "name": "X",
                                                               "template": tpl}), 201).json
            g = h.expect(client.post(h.tpath(t, "groups"), json={"name": "analysts"}), 201).json
            for i in range(25):
                u = h.make_user(client, t, "user%02d" % i, email="u%d@x.test" % i,
                                custom_attributes={"n": i, "s": "é\"\n"})
                if i % 3 == 0:
                    h.expect(client.put(h.tpath(t, "groups", g["id"], "members", u["id"])), 204)
            victim = h.make_user(client, t, "gone")
            h.delete_user(client, t, victim["id"])  # a tombstone
            tok = h.create_token(client, t, user_id=u["id"], expires_in_days=30)
            made.append((t, u, tok["secret"]))
        return made

    def test_export_import_nothing_lost(self):
        a = Node(self.src, self.token, self.dir, "source")
        try:
            made = self.populate(a.client)
            before = {t["slug"]: a.client.list_all(h.tpath(t, "users")) for t, _, _ in made}
        finally:
            self.assertEqual(a.stop(), 0)
        dump = os.path.join(self.dir, "dump.jsonl")
        rc, out, err = h.run_roster("export", "--db", self.src, "--out", dump)
        self.assertEqual(rc, 0, err)
        with open(dump) as f:
            lines = [json.loads(x) for x in f]
        self.assertEqual(lines[0]["roster_export"], 1)
        self.assertTrue(lines[-1]["end"])

        target, self.drop = pg_target()
        if not target:
            target = os.path.join(self.dir, "dst", "roster.db")
        key = os.path.join(os.path.dirname(self.src), "roster.key")
        rc, out, err = h.run_roster("import", "--db", target, "--key-file", key, "--in", dump)
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out.strip().splitlines()[-1])["rows"], lines[-1]["rows"])
        self.assertEqual(counts(target), counts(self.src))
        rc, out, err = h.run_roster("audit", "verify", "--db", target, "--key-file", key)
        self.assertEqual(rc, 0, out + err)
        # A second import into the now non-empty target is refused and changes nothing.
        rc, out, err = h.run_roster("import", "--db", target, "--key-file", key, "--in", dump)
        self.assertNotEqual(rc, 0)
        self.assertIn("fresh", err)
        self.assertEqual(counts(target), counts(self.src))

        # The target serves the same data, and the tokens work there (same key file).
        b = Node(target, self.token, self.dir, "target", {"ROSTER_KEY_FILE": key})
        try:
            for t, u, secret in made:
                self.assertEqual(b.client.list_all(h.tpath(t, "users")), before[t["slug"]])
                me = h.expect(h.Client(b.url, secret).get(h.API + "/me"), 200).json
                self.assertEqual(me["user"]["id"], u["id"])
        finally:
            self.assertEqual(b.stop(), 0)

    def test_bad_input_is_refused(self):
        target = os.path.join(self.dir, "dst", "roster.db")
        bad = os.path.join(self.dir, "bad.jsonl")
        cases = [
            "not json\n",
            '{"something":"else"}\n',
            '{"roster_export":1,"schema_version":1}\n{"table":"nope","columns":[]}\n',
            '{"roster_export":1,"schema_version":1}\n{"r":["x"]}\n',
            '{"roster_export":1,"schema_version":1}\n{"table":"timers","columns":["name","next_run"]}\n',
            '{"roster_export":1,"schema_version":999}\n',
        ]
        for i, text in enumerate(cases):
            with open(bad, "w") as f:
                f.write(text)
            db = target + str(i)
            rc, out, err = h.run_roster("import", "--db", db, "--in", bad)
            self.assertEqual(rc, 1, "case %d: %r\n%s" % (i, text, err))
            self.assertIn("roster: import:", err)
        rc, out, err = h.run_roster("export", "--db", os.path.join(self.dir, "missing", "x.db"))
        self.assertNotEqual(rc, 0)


if __name__ == "__main__":
    h.main()
