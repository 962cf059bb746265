#!/usr/bin/env python3
"""API tokens: create (secret shown once), use, list, revoke, validation, authentication failures,
revocation through user and tenant deletion, secrets never stored in clear."""

import base64
import datetime
import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
TOKEN_FIELDS = {"id", "tenant_id", "user_id", "name", "role", "created_at", "expires_at", "last_used_at", "revoked_at"}


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def parse_time(s):
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")


class TokenTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")
        self.tp = h.tpath(self.t, "tokens")

    def test_create_use_list_revoke(self):
        r = h.expect(self.admin.post(self.tp, json={"name": "ci"}), 201)
        secret = r.json["secret"]
        tok = r.json["token"]
        self.assertRegex(secret, h.TOKEN_FULL_RE)
        self.assertTrue(TOKEN_FIELDS <= set(tok), TOKEN_FIELDS - set(tok))
        self.assertEqual(tok["name"], "ci")
        self.assertEqual(tok["user_id"], self.admin_user["id"])
        self.assertEqual(tok["tenant_id"], self.t["id"])
        # default: no role of its own; the token acts as its owner
        self.assertIsNone(tok["role"])
        me = h.expect(S.client(secret).get(h.API + "/me"), 200).json
        self.assertEqual(me["rank"], 900)
        self.assertEqual(me["user"]["system_role"]["name"], "Administrator")
        self.assertIsNone(tok["expires_at"])
        self.assertIsNone(tok["revoked_at"])
        self.assertRegex(tok["created_at"], h.TIME_RE)
        self.assertNotIn(secret, json.dumps(tok))
        self.assertNotIn(h.secret_part(secret), r.text.replace(secret, ""))

        # GET never shows it
        g = h.expect(self.admin.get(h.tpath(self.t, "tokens", tok["id"])), 200)
        self.assertNotIn("secret", g.json)
        self.assertNotIn(h.secret_part(secret), g.text)
        for k in ("id", "name", "user_id", "role", "created_at", "expires_at", "revoked_at"):
            self.assertEqual(g.json[k], tok[k], k)
        listed = self.admin.list_all(self.tp)
        self.assertIn(tok["id"], [x["id"] for x in listed])
        self.assertNotIn(h.secret_part(secret), json.dumps(listed))
        for x in listed:
            self.assertNotIn("secret", x)

        # use it
        c = S.client(secret)
        me = h.expect(c.get(h.API + "/me"), 200).json
        self.assertEqual(me["token"]["id"], tok["id"])
        self.assertEqual(me["user"]["id"], self.admin_user["id"])
        self.assertEqual(me["tenant"]["id"], self.t["id"])
        self.assertNotIn(h.secret_part(secret), json.dumps(me))
        deadline = time.monotonic() + 2.0          # allow the server to record last use lazily
        while True:
            used = h.expect(self.admin.get(h.tpath(self.t, "tokens", tok["id"])), 200).json
            if used["last_used_at"] is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self.assertIsNotNone(used["last_used_at"], "last_used_at not set after use")

        # revoke
        h.expect(self.admin.delete(h.tpath(self.t, "tokens", tok["id"])), 204)
        h.assert_problem(c.get(h.API + "/me"), 401, "auth.invalid_token")
        h.assert_problem(c.get(h.tpath(self.t, "users")), 401, "auth.invalid_token")
        g = self.admin.get(h.tpath(self.t, "tokens", tok["id"]))
        if g.status == 200:
            self.assertIsNotNone(g.json["revoked_at"])
        else:
            h.assert_problem(g, 404, "token.not_found")
        h.expect(self.admin.get(h.API + "/me"), 200)        # the caller's own token is unaffected

    def test_token_for_another_user(self):
        u = h.make_user(self.root, self.t, "svc-" + h.uid(), system_role="Api User")
        r = h.expect(self.admin.post(self.tp, json={"name": "svc", "user_id": u["id"], "expires_in_days": 1}), 201)
        tok = r.json["token"]
        self.assertEqual(tok["user_id"], u["id"])
        self.assertIsNone(tok["role"])
        self.assertEqual(h.expect(S.client(r.json["secret"]).get(h.API + "/me"), 200).json["rank"], 400)
        delta = (parse_time(tok["expires_at"]) - parse_time(tok["created_at"])).total_seconds()
        self.assertTrue(86400 - 5 <= delta <= 86400 + 5, delta)
        me = h.expect(S.client(r.json["secret"]).get(h.API + "/me"), 200).json
        self.assertEqual(me["user"]["id"], u["id"])
        only = self.admin.list_all(self.tp, {"user_id": u["id"]})
        self.assertEqual([x["id"] for x in only], [tok["id"]])

    def test_expires_in_days_validation(self):
        for bad in (0, -1, 3651, "7", 1.5):
            h.assert_problem(self.admin.post(self.tp, json={"name": "x", "expires_in_days": bad}), 400,
                             "request.invalid_field", field="expires_in_days")
        r = h.expect(self.admin.post(self.tp, json={"name": "max", "expires_in_days": 3650}), 201)
        self.assertIsNotNone(r.json["token"]["expires_at"])
        names = [x["name"] for x in self.admin.list_all(self.tp)]
        self.assertNotIn("x", names)

    def test_other_validation(self):
        h.assert_problem(self.admin.post(self.tp, json={"name": "x", "role": "No Such Role"}), 400,
                         "request.invalid_field", field="role")
        r = self.admin.post(self.tp, json={"name": "x", "user_id": h.uuid7()})
        if r.status == 404:
            h.assert_problem(r, 404, "user.not_found")
        else:
            h.assert_problem(r, 400, "request.invalid_field", field="user_id")
        h.assert_problem(self.admin.get(h.tpath(self.t, "tokens", h.uuid7())), 404, "token.not_found")
        h.assert_problem(self.admin.delete(h.tpath(self.t, "tokens", h.uuid7())), 404, "token.not_found")

    def test_missing_and_garbage_tokens(self):
        anon = S.client()
        h.assert_problem(anon.get(h.API + "/me"), 401, "auth.missing_token")
        h.assert_problem(anon.get(h.tpath(self.t, "users")), 401, "auth.missing_token")
        h.assert_problem(anon.post(h.tpath(self.t, "users"), json={"username": "anon"}), 401, "auth.missing_token")
        for bad in ("garbage", "rst_", "rst_0000000000000000_" + "A" * 43, h.make_token_string(),
                    S.root_token[:-10] + ("A" if S.root_token[-10] != "A" else "B") + S.root_token[-9:],
                    S.root_token[:21] + "x" * 43):
            r = S.client(bad).get(h.API + "/me")
            h.assert_problem(r, 401, "auth.invalid_token")
        r = anon.get(h.API + "/me", headers={"Authorization": "Bearer"})
        h.assert_problem(r, 401, {"auth.invalid_token", "auth.missing_token"})
        r = anon.get(h.API + "/me", headers={"Authorization": "Basic dXNlcjpwYXNz"})
        h.assert_problem(r, 401, {"auth.invalid_token", "auth.missing_token"})
        self.assertEqual(self.admin.list_all(h.tpath(self.t, "users"), {"username": "anon"}), [])

    def test_self_service_without_tokens_manage(self):
        u, user = h.actor(S, self.t, "User")
        other = h.make_user(self.root, self.t, "o-" + h.uid())
        r = h.expect(user.post(self.tp, json={"name": "mine"}), 201)
        mine = r.json["token"]
        mine_secret = r.json["secret"]
        self.assertEqual(mine["user_id"], u["id"])
        h.assert_problem(user.post(self.tp, json={"name": "theirs", "user_id": other["id"]}), 403,
                         "auth.permission_denied")
        # without tokens.read only one's own tokens are listed
        admins = h.create_token(self.admin, self.t, name="admin-only")
        listed = user.list_all(self.tp)
        self.assertTrue(listed)
        self.assertTrue(all(x["user_id"] == u["id"] for x in listed), listed)
        self.assertNotIn(admins["token"]["id"], [x["id"] for x in listed])
        # cannot revoke someone else's token (403, or 404 if it is invisible to the caller)
        r = user.delete(h.tpath(self.t, "tokens", admins["token"]["id"]))
        if r.status == 404:
            h.assert_problem(r, 404, "token.not_found")
        else:
            h.assert_problem(r, 403, "auth.permission_denied")
        h.expect(S.client(admins["secret"]).get(h.API + "/me"), 200)
        # ... but can revoke its own
        h.expect(user.delete(h.tpath(self.t, "tokens", mine["id"])), 204)
        h.assert_problem(S.client(mine_secret).get(h.API + "/me"), 401, "auth.invalid_token")

    def test_deleting_owner_revokes(self):
        u = h.make_user(self.root, self.t, "leaver-" + h.uid())
        secret = h.token_for(self.root, self.t, u["id"])
        c = S.client(secret)
        h.expect(c.get(h.API + "/me"), 200)
        h.delete_user(self.admin, self.t, u["id"])
        h.assert_problem(c.get(h.API + "/me"), 401, "auth.invalid_token")
        h.assert_problem(c.get(h.tpath(self.t, "users")), 401, "auth.invalid_token")

    def test_deleting_tenant_revokes(self):
        t2 = h.new_tenant(self.root)
        u, c = h.actor(S, t2, "Administrator")
        h.expect(c.get(h.tpath(t2, "users")), 200)
        h.expect(self.root.delete(h.tpath(t2)), 204)
        h.assert_problem(c.get(h.API + "/me"), 401, "auth.invalid_token")
        h.assert_problem(c.get(h.tpath(t2, "users")), 401, "auth.invalid_token")
        h.expect(self.root.get(h.API + "/me"), 200)
        h.expect(self.admin.get(h.API + "/me"), 200)

    def test_secrets_not_stored_in_clear(self):
        secrets_made = [h.create_token(self.admin, self.t)["secret"] for _ in range(3)]
        for s in secrets_made:
            h.expect(S.client(s).get(h.API + "/me"), 200)
        secrets_made.append(S.root_token)
        # Everything the database holds: the SQLite files (with the WAL) byte for byte, or a
        # pg_dump of the PostgreSQL database.
        blobs = h.db_dump(S)
        self.assertTrue(blobs, "nothing dumped from the database %s" % S.db_path)
        for s in secrets_made:
            part = h.secret_part(s)
            raw = base64.urlsafe_b64decode(part + "=")
            for needle, form in ((part.encode(), "as text"), (raw, "as raw bytes"),
                                 (raw.hex().encode(), "as hex (bytea)")):
                self.assertNotIn(needle, blobs, "a token secret is stored in clear in the database (%s)" % form)
        logs = (S.read_stdout() + S.read_stderr())
        for s in secrets_made:
            self.assertNotIn(h.secret_part(s), logs, "a token secret appears in the server log")


if __name__ == "__main__":
    h.main()
