#!/usr/bin/env python3
"""The roster CLI against a running server: tenant/user/token/audit commands and exit codes
(unknown command 2, connection refused 3, 401 -> 4, 404 -> 6, 409 -> 7)."""

import json
import os
import sys
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


def conn(token=None, url=None):
    return ["--server", url or S.base_url, "--token", token or S.root_token]


def roster(*args):
    code, out, err = h.run_roster(*args, timeout=60)
    return code, out, err


def items_of(out):
    j = json.loads(out)
    if isinstance(j, dict):
        return j["items"]
    return j


class CliTest(unittest.TestCase):
    def test_tenant_create(self):
        slug = "cli-" + h.uid()
        code, out, err = roster("tenant", "create", *conn(), "--slug", slug, "--name", "CLI Corp",
                                "--template", "threatconnect")
        self.assertEqual(code, 0, out + err)
        t = h.expect(S.root().get(h.tpath(slug)), 200).json
        self.assertEqual(t["name"], "CLI Corp")
        self.assertEqual(t["template"], "threatconnect")

    def test_user_create_and_list_json(self):
        t = h.new_tenant(S.root())
        name = "cli-user-" + h.uid()
        code, out, err = roster("user", "create", *conn(), "--tenant", t["slug"], "--username", name,
                                "--email", name + "@example.com")
        self.assertEqual(code, 0, out + err)
        users = S.root().list_all(h.tpath(t, "users"), {"username": name})
        self.assertEqual(len(users), 1)
        self.assertEqual(users[0]["email"], name + "@example.com")
        # --manager: another user of the tenant (the server refuses anything else).
        boss = h.make_user(S.root(), t, "boss-" + h.uid())
        code, out, err = roster("user", "update", *conn(), "--tenant", t["slug"], users[0]["id"],
                                "--manager", boss["id"])
        self.assertEqual(code, 0, out + err)
        self.assertEqual(h.expect(S.root().get(h.tpath(t, "users", users[0]["id"])), 200).json["manager"],
                         {"id": boss["id"], "username": boss["username"]})
        code, out, err = roster("user", "update", *conn(), "--tenant", t["slug"], users[0]["id"],
                                "--manager", users[0]["id"])
        self.assertNotEqual(code, 0, out + err)
        self.assertIn("their own manager", out + err)
        h.make_user(S.root(), t, "api-made-" + h.uid())
        code, out, err = roster("user", "list", "--json", *conn(), "--tenant", t["slug"])
        self.assertEqual(code, 0, out + err)
        try:
            listed = items_of(out)
        except (ValueError, KeyError) as e:
            self.fail("user list --json did not print JSON (%s): %r" % (e, out[:500]))
        self.assertEqual(sorted(u["username"] for u in listed),
                         sorted(u["username"] for u in S.root().list_all(h.tpath(t, "users"))))
        self.assertIn(name, [u["username"] for u in listed])

    def test_token_create_prints_working_secret(self):
        t = h.new_tenant(S.root())
        u = h.make_user(S.root(), t, "tok-" + h.uid(), system_role="Administrator")
        code, out, err = roster("token", "create", *conn(), "--tenant", t["slug"], "--name", "cli-token",
                                "--user-id", u["id"])
        self.assertEqual(code, 0, out + err)
        found = h.TOKEN_RE.findall(out)
        self.assertEqual(len(set(found)), 1, "expected exactly one secret on stdout: %r" % out)
        self.assertNotIn(h.secret_part(found[0]), err)
        me = h.expect(S.client(found[0]).get(h.API + "/me"), 200).json
        self.assertEqual(me["user"]["id"], u["id"])
        self.assertEqual(me["token"]["name"], "cli-token")
        # and the new token works with the CLI itself
        code, out, err = roster("user", "list", "--json", *conn(token=found[0]), "--tenant", t["slug"])
        self.assertEqual(code, 0, out + err)
        self.assertIn(u["id"], [x["id"] for x in items_of(out)])

    def test_audit_list(self):
        t = h.new_tenant(S.root())
        u = h.make_user(S.root(), t, "aud-" + h.uid())
        code, out, err = roster("audit", "list", *conn(), "--tenant", t["slug"])
        self.assertEqual(code, 0, out + err)
        self.assertIn("user.create", out)
        self.assertIn(u["id"], out)

    def test_audit_verify(self):
        code, out, err = roster("audit", "verify", "--db", S.db_path)
        self.assertEqual(code, 0, out + err)
        self.assertIn("ok", out)

    def test_exit_unknown_command(self):
        code, out, err = roster("frobnicate")
        self.assertEqual(code, 2, out + err)
        code, out, err = roster("user", "frobnicate", *conn())
        self.assertEqual(code, 2, out + err)

    def test_exit_connection_refused(self):
        port = h.free_port()
        code, out, err = roster("user", "list", "--json", *conn(url="http://127.0.0.1:%d" % port), "--tenant", "system")
        self.assertEqual(code, 3, out + err)

    def test_exit_unauthorised(self):
        code, out, err = roster("user", "list", "--json", *conn(token=h.make_token_string()), "--tenant", "system")
        self.assertEqual(code, 4, out + err)
        self.assertNotIn(S.root_token, out + err)

    def test_exit_not_found(self):
        code, out, err = roster("user", "list", "--json", *conn(), "--tenant", "no-such-" + h.uid())
        self.assertEqual(code, 6, out + err)

    def test_exit_conflict(self):
        t = h.new_tenant(S.root())
        code, out, err = roster("tenant", "create", *conn(), "--slug", t["slug"], "--name", "dup")
        self.assertEqual(code, 7, out + err)
        self.assertEqual(h.expect(S.root().get(h.tpath(t)), 200).json["name"], t["name"])
        name = "dup-" + h.uid()
        h.make_user(S.root(), t, name)
        code, out, err = roster("user", "create", *conn(), "--tenant", t["slug"], "--username", name.upper())
        self.assertEqual(code, 7, out + err)


if __name__ == "__main__":
    h.main()
