#!/usr/bin/env python3
"""JWT signing keys end to end: GET /.well-known/jwks.json (public, cacheable), `roster keys
list` and `roster keys rotate` run against the running server's --db, the server publishing
current + previous after a rotation and dropping the retired key after a second one, the
rotation audited in the system tenant's chain, a rotation with the wrong key file refused
before it changes anything, and a database without keys (an upgrade) getting one at start-up.

On SQLite the rotating CLI and the server are two processes that share no signal: the server
re-reads its keys within 5 s. On PostgreSQL the rotation's NOTIFY reaches it within a second.
Tokens themselves are checked by the unit tests and, independently, by the npm package jose
(tests/unit/core/jose_check.sh); no HTTP endpoint mints them yet."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
JWK_FIELDS = {"kty", "crv", "x", "y", "kid", "use", "alg"}
PROPAGATION_S = 1.5 if h.is_pg() else 7.0


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def key_args(server, key_file=None):
    args = ["--db", server.db_path]
    if key_file:
        args += ["--key-file", key_file]
    elif h.is_pg():
        args += ["--key-file", os.path.join(server.tmpdir, "roster.key")]
    return args


def keys_cli(server, *args, key_file=None):
    return h.run_roster("keys", *args, *key_args(server, key_file))


def jwks(server):
    r = server.client().get("/.well-known/jwks.json")
    h.expect(r, 200)
    return r


def kids(server):
    return [k["kid"] for k in jwks(server).json["keys"]]


def listed(server):
    code, out, err = keys_cli(server, "list")
    assert code == 0, (code, out, err)
    lines = out.strip().splitlines()
    assert lines[0].split() == ["KID", "STATUS", "CREATED_AT"], out
    return [tuple(line.split()) for line in lines[1:]]


def rotate(server):
    code, out, err = keys_cli(server, "rotate")
    assert code == 0, (code, out, err)
    msg = json.loads(out.strip().splitlines()[-1])
    assert msg["msg"] == "keys rotated", out
    return msg


def wait_kids(server, want):
    deadline = time.monotonic() + PROPAGATION_S
    got = kids(server)
    while got != want and time.monotonic() < deadline:
        time.sleep(0.05)
        got = kids(server)
    return got


class JwksTest(unittest.TestCase):
    def test_1_served_public_with_the_current_key(self):
        r = jwks(S)
        self.assertEqual(r.headers.get("Cache-Control"), "public, max-age=300")
        self.assertTrue(r.content_type.startswith("application/json"), r.describe())
        keys = r.json["keys"]
        self.assertEqual(len(keys), 1, r.describe())
        k = keys[0]
        self.assertEqual(set(k), JWK_FIELDS)   # no private member ("d") ever
        self.assertEqual((k["kty"], k["crv"], k["alg"], k["use"]), ("EC", "P-256", "ES256", "sig"))
        for f in ("x", "y"):
            self.assertRegex(k[f], r"^[A-Za-z0-9_-]{43}$")
        self.assertRegex(k["kid"], r"^[A-Za-z0-9_-]{43}$")
        # the same key the CLI lists as current
        self.assertEqual(listed(S), [(k["kid"], "current", listed(S)[0][2])])
        # no credential needed, a bad one changes nothing; HEAD works, POST does not
        r2 = S.client(token="rst_0000000000000000_" + "A" * 43).get("/.well-known/jwks.json")
        self.assertEqual(r2.status, 200)
        self.assertEqual(S.client().request("HEAD", "/.well-known/jwks.json").status, 200)
        self.assertEqual(S.client().post("/.well-known/jwks.json", json={}).status, 405)

    def test_2_rotate_twice(self):
        (first,) = kids(S)
        msg = rotate(S)
        self.assertEqual(msg["previous"], first)
        second = msg["current"]
        self.assertNotEqual(second, first)
        # the running server publishes current then previous
        self.assertEqual(wait_kids(S, [second, first]), [second, first])
        st = {kid: status for kid, status, _ in listed(S)}
        self.assertEqual(st, {second: "current", first: "previous"})

        msg = rotate(S)
        third = msg["current"]
        self.assertEqual(msg["previous"], second)
        self.assertEqual(wait_kids(S, [third, second]), [third, second])
        st = {kid: status for kid, status, _ in listed(S)}
        self.assertEqual(st, {third: "current", second: "previous", first: "retired"})
        # the retired key's private part is gone from the store
        rows = h.db_query(S.db_path, "SELECT kid FROM signing_keys WHERE private_enc IS NULL")
        self.assertEqual([r[0] for r in rows], [first])

        # audited in the system tenant's chain, by roster itself, and the chain holds
        events = h.audit_events(S.root(), "system", action="keys.rotate")
        self.assertEqual(len(events), 2, events)
        self.assertEqual(events[0]["actor"]["type"], "system")
        self.assertEqual({e["target"]["id"] for e in events}, {second, third})
        code, out, err = h.run_roster("audit", "verify", *key_args(S))
        self.assertEqual(code, 0, out + err)

    def test_3_wrong_key_file_is_refused(self):
        before = kids(S)
        other = os.path.join(S.tmpdir, "other.key")
        with open(other, "wb") as f:
            f.write(os.urandom(32))
        os.chmod(other, 0o600)
        code, out, err = keys_cli(S, "rotate", key_file=other)
        self.assertEqual(code, 1, out + err)
        self.assertIn("keys.unreadable", err)
        self.assertEqual(kids(S), before)
        self.assertEqual(len(h.db_query(S.db_path, "SELECT kid FROM signing_keys WHERE "
                                                   "status = 'current'")), 1)

    def test_4_usage(self):
        code, out, err = h.run_roster("keys")
        self.assertEqual(code, 2)
        self.assertIn("usage: roster keys rotate", err)
        code, out, err = h.run_roster("keys", "spin")
        self.assertEqual(code, 2)
        if not h.is_pg():
            code, out, err = h.run_roster("keys", "rotate", "--db",
                                          os.path.join(S.tmpdir, "missing.db"))
            self.assertEqual(code, 1)
            self.assertIn("no database", err)
            self.assertFalse(os.path.exists(os.path.join(S.tmpdir, "missing.db")))


class UpgradeTest(unittest.TestCase):
    """A database from before the signing keys gets a key when a server starts on it."""

    def test_first_key_at_start(self):
        srv = h.Server().start()
        try:
            srv.stop()
            h.db_exec(srv.db_path, ["DELETE FROM signing_keys"])
            srv.start()
            (kid,) = kids(srv)
            self.assertEqual(listed(srv), [(kid, "current", listed(srv)[0][2])])
        finally:
            srv.stop()


if __name__ == "__main__":
    h.main()
