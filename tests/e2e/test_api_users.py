#!/usr/bin/env python3
"""API users (seed 001): creation with an access id and a secret key shown once, requests signed
the ThreatConnect way (`Authorization: TC <access id>:<base64 HMAC-SHA256 of path:METHOD:timestamp>`
with a Timestamp header) by an independent client written here with hmac/hashlib/base64, the
5-minute clock window, replay protection, rotation, disabling, and the user's deactivation and
deletion killing its credentials at once. Every refusal is problem+json and changes nothing."""

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
ACCESS_ID_RE = re.compile(r"^[A-Z0-9]{20}$")
SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
CRED_FIELDS = {"access_id", "tenant_id", "user_id", "disabled", "created_at", "expires_at", "last_used_at"}


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def signature(secret, path, method, ts):
    """ThreatConnect's documented signature: base64(HMAC-SHA256(secret, path:METHOD:timestamp))."""
    mac = hmac.new(secret.encode(), ("%s:%s:%s" % (path, method, ts)).encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def signed(access_id, secret, method, path, ts=None, scheme="TC", sig=None, body=None):
    """Sends a request signed with (access_id, secret) over a real socket."""
    ts = str(int(time.time())) if ts is None else str(ts)
    sig = sig or signature(secret, path, method, ts)
    hdrs = {"Authorization": "%s %s:%s" % (scheme, access_id, sig), "Timestamp": ts}
    return S.client().request(method, path, headers=hdrs, json=body)


class ApiUserTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.ap = h.tpath(self.t, "api-users")

    def create(self, client=None, **body):
        b = {"first_name": "Feed", "last_name": "Bot"}
        b.update(body)
        r = h.expect((client or self.root).post(self.ap, json=b), 201)
        return r

    def creds_path(self, user_id, *parts):
        return h.tpath(self.t, "users", user_id, "api-credentials", *parts)

    def test_create_and_sign(self):
        r = self.create()
        j = r.json
        self.assertEqual(set(j), {"user", "access_id", "secret_key", "token_expires_at"})
        self.assertRegex(j["access_id"], ACCESS_ID_RE)
        self.assertRegex(j["secret_key"], SECRET_RE)
        self.assertIsNone(j["token_expires_at"])
        u = j["user"]
        self.assertEqual(u["type"], "api")
        self.assertEqual(u["status"], "active")
        self.assertEqual(u["username"], "api-" + j["access_id"])
        self.assertEqual((u["first_name"], u["last_name"]), ("Feed", "Bot"))
        self.assertEqual(u["system_role"]["name"], "Api User")       # seed 001's default
        self.assertTrue(r.headers["Location"].endswith("/users/" + u["id"]))
        aid, secret = j["access_id"], j["secret_key"]

        # the secret is never shown again
        listed = h.expect(self.root.get(self.creds_path(u["id"])), 200).json["items"]
        self.assertEqual([c["access_id"] for c in listed], [aid])
        self.assertEqual(set(listed[0]), CRED_FIELDS)
        self.assertNotIn(secret, json.dumps(listed))
        got = h.expect(self.root.get(self.creds_path(u["id"], aid)), 200).json
        self.assertEqual(got["access_id"], aid)
        self.assertFalse(got["disabled"])

        # signed requests: /me and a tenant listing, with the query string signed too
        me = h.expect(signed(aid, secret, "GET", h.API + "/me"), 200).json
        self.assertEqual(me["user"]["id"], u["id"])
        self.assertEqual(me["tenant"]["id"], self.t["id"])
        path = h.tpath(self.t, "users") + "?limit=5&type=api"
        users = h.expect(signed(aid, secret, "GET", path), 200).json["items"]
        self.assertIn(u["id"], [x["id"] for x in users])
        # the scheme name is case-insensitive
        h.expect(signed(aid, secret, "GET", h.API + "/me?x=1", scheme="tc"), 200)
        # last use is recorded
        deadline = time.monotonic() + 2
        while h.expect(self.root.get(self.creds_path(u["id"], aid)), 200).json["last_used_at"] is None:
            self.assertLess(time.monotonic(), deadline, "last_used_at never set")
            time.sleep(0.1)

        # audit: api_user.create names the access id, never the secret
        ev = h.audit_events(self.root, self.t, action="api_user.create")
        self.assertEqual(len(ev), 1)
        self.assertIn(aid, json.dumps(ev))
        self.assertNotIn(secret, json.dumps(h.audit_events(self.root, self.t)))
        logs = S.read_stdout() + S.read_stderr()
        self.assertNotIn(secret, logs)

    def test_signature_failures_look_alike(self):
        j = self.create().json
        aid, secret, uid_ = j["access_id"], j["secret_key"], j["user"]["id"]
        me = h.API + "/me"
        now = int(time.time())
        bad = [
            signed(aid, secret, "GET", me, sig=signature(secret, me, "POST", now), ts=now),
            signed(aid, secret[:-1] + ("A" if secret[-1] != "A" else "B"), "GET", me),
            signed("A" * 20, secret, "GET", me),                     # unknown access id
            signed(aid, secret, "GET", me, sig="x" * 44),
            signed(aid, secret, "GET", me, sig="short"),
            S.client().get(me, headers={"Authorization": "TC nonsense", "Timestamp": str(now)}),
        ]
        # a query parameter changed after signing
        ts = str(now)
        sig = signature(secret, me + "?a=1", "GET", ts)
        bad.append(S.client().get(me + "?a=2", headers={"Authorization": "TC %s:%s" % (aid, sig),
                                                         "Timestamp": ts}))
        first = None
        for r in bad:
            h.assert_problem(r, 401, "auth.invalid_signature")
            if first is None:
                first = (h.problem_signature(r), r.json["detail"])
            self.assertEqual((h.problem_signature(r), r.json["detail"]), first, r.describe())

        # the clock: stale, far future, missing, not a number
        for ts in (now - 301 - 5, now + 301 + 5, "", "12ab"):
            hdrs = {"Authorization": "TC %s:%s" % (aid, signature(secret, me, "GET", ts)),
                    "Timestamp": str(ts)}
            h.assert_problem(S.client().get(me, headers=hdrs), 401, "auth.stale_timestamp")
        h.assert_problem(S.client().get(me, headers={"Authorization": "TC %s:%s" % (
            aid, signature(secret, me, "GET", now))}), 401, "auth.stale_timestamp")
        # within the window either way
        h.expect(signed(aid, secret, "GET", me, ts=now - 240), 200)
        h.expect(signed(aid, secret, "GET", me, ts=now + 240), 200)
        # nothing changed: the credential still works
        h.expect(signed(aid, secret, "GET", me), 200)
        self.assertEqual(len(h.expect(self.root.get(self.creds_path(uid_)), 200).json["items"]), 1)

    def test_replay_refused(self):
        j = self.create().json
        aid, secret = j["access_id"], j["secret_key"]
        path = h.tpath(self.t, "users") + "?limit=1"
        ts = str(int(time.time()))
        hdrs = {"Authorization": "TC %s:%s" % (aid, signature(secret, path, "GET", ts)), "Timestamp": ts}
        h.expect(S.client().get(path, headers=hdrs), 200)
        h.assert_problem(S.client().get(path, headers=hdrs), 401, "auth.replayed")
        # a write replayed changes nothing the second time
        gp = h.tpath(self.t, "groups")
        admin = self.create(system_role="Exchange Admin", roles=["Organization Administrator"]).json
        ts = str(int(time.time()))
        hdrs = {"Authorization": "TC %s:%s" % (admin["access_id"], signature(admin["secret_key"], gp, "POST", ts)),
                "Timestamp": ts}
        name = "g-" + h.uid()
        h.expect(S.client().post(gp, json={"name": name}, headers=hdrs), 201)
        h.assert_problem(S.client().post(gp, json={"name": name + "x"}, headers=hdrs), 401, "auth.replayed")
        names = [g["name"] for g in self.root.list_all(gp)]
        self.assertIn(name, names)
        self.assertNotIn(name + "x", names)

    def test_rotate_disable_delete(self):
        j = self.create(token_expiry_days=30).json
        self.assertIsNotNone(j["token_expires_at"])
        aid, old, uid_ = j["access_id"], j["secret_key"], j["user"]["id"]
        me = h.API + "/me"
        h.expect(signed(aid, old, "GET", me), 200)

        r = h.expect(self.root.post(self.creds_path(uid_, aid, "rotate"), json={}), 200).json
        new = r["secret_key"]
        self.assertRegex(new, SECRET_RE)
        self.assertNotEqual(new, old)
        self.assertEqual(r["credential"]["access_id"], aid)
        h.assert_problem(signed(aid, old, "GET", me + "?r=1"), 401, "auth.invalid_signature")
        h.expect(signed(aid, new, "GET", me + "?r=2"), 200)

        # disable, enable
        k = h.expect(self.root.patch(self.creds_path(uid_, aid), json={"disabled": True}), 200).json
        self.assertTrue(k["disabled"])
        h.assert_problem(signed(aid, new, "GET", me + "?d=1"), 401, "auth.invalid_signature")
        h.assert_problem(self.root.patch(self.creds_path(uid_, aid), json={"disabled": "yes"}),
                         400, "request.invalid_field", field="disabled")
        h.expect(self.root.patch(self.creds_path(uid_, aid), json={"disabled": False}), 200)
        h.expect(signed(aid, new, "GET", me + "?d=2"), 200)

        # a second credential; deleting the first leaves the second working
        second = h.expect(self.root.post(self.creds_path(uid_), json={"token_expiry_days": 1}), 201)
        k2 = second.json
        self.assertEqual(set(k2), {"credential", "secret_key"})
        h.expect(self.root.get(second.headers["Location"]), 200)
        h.expect(signed(k2["credential"]["access_id"], k2["secret_key"], "GET", me), 200)
        h.expect(self.root.delete(self.creds_path(uid_, aid)), 204)
        h.assert_problem(signed(aid, new, "GET", me + "?x=3"), 401, "auth.invalid_signature")
        h.assert_problem(self.root.get(self.creds_path(uid_, aid)), 404, "api_credential.not_found")
        h.expect(signed(k2["credential"]["access_id"], k2["secret_key"], "GET", me + "?x=4"), 200)
        actions = [e["action"] for e in h.audit_events(self.root, self.t, action="api_credential.")]
        for a in ("api_credential.rotate", "api_credential.update", "api_credential.create",
                  "api_credential.delete"):
            self.assertIn(a, actions)

    def test_user_lifecycle_kills_credentials(self):
        j = self.create().json
        aid, secret, uid_ = j["access_id"], j["secret_key"], j["user"]["id"]
        me = h.API + "/me"
        h.expect(signed(aid, secret, "GET", me), 200)   # now cached
        h.expect(self.root.post(h.tpath(self.t, "users", uid_, "suspend"), json={"reason": "x"}), 200)
        h.assert_problem(signed(aid, secret, "GET", me + "?s=1"), 401, "auth.invalid_signature")
        h.expect(self.root.post(h.tpath(self.t, "users", uid_, "resume"), json={}), 200)
        h.expect(signed(aid, secret, "GET", me + "?s=2"), 200)
        h.expect(self.root.post(h.tpath(self.t, "users", uid_, "deactivate"), json={"reason": "x"}), 200)
        h.assert_problem(signed(aid, secret, "GET", me + "?s=3"), 401, "auth.invalid_signature")
        h.expect(self.root.post(h.tpath(self.t, "users", uid_, "reactivate"), json={}), 200)
        h.expect(signed(aid, secret, "GET", me + "?s=4"), 200)
        # no longer an API user: its credentials stop at once, and work again when it is one
        h.expect(self.root.patch(h.tpath(self.t, "users", uid_), json={"type": "standard"}), 200)
        h.assert_problem(signed(aid, secret, "GET", me + "?s=6"), 401, "auth.invalid_signature")
        h.expect(self.root.patch(h.tpath(self.t, "users", uid_), json={"type": "api"}), 200)
        h.expect(signed(aid, secret, "GET", me + "?s=7"), 200)
        h.delete_user(self.root, self.t, uid_)
        h.assert_problem(signed(aid, secret, "GET", me + "?s=5"), 401, "auth.invalid_signature")
        # the credential rows went with the user
        rows = h.db_query(S, "SELECT count(*) FROM api_credentials WHERE id = ?", (aid,))
        self.assertEqual(rows[0][0], 0)

    def test_seats_validation_and_access(self):
        h.expect(self.root.patch(h.tpath(self.t), json={"seat_limits": {"api": 1}}), 200)
        self.create()
        seats = h.expect(self.root.get(h.tpath(self.t, "seats")), 200).json
        self.assertEqual([x["used"] for x in seats["types"] if x["type"] == "api"], [1])
        before = h.expect(self.root.get(h.tpath(self.t, "users")), 200).json
        h.assert_problem(self.root.post(self.ap, json={"first_name": "A", "last_name": "B"}),
                         409, "seats.exhausted")
        for body, field in (({"last_name": "B"}, "first_name"),
                            ({"first_name": "A", "last_name": "B", "token_expiry_days": -1},
                             "token_expiry_days"),
                            ({"first_name": "A", "last_name": "B", "disabled": 1}, "disabled"),
                            ({"first_name": "A", "last_name": "B", "zz": 1}, None)):
            r = self.root.post(self.ap, json=body)
            self.assertEqual(r.status, 400, r.describe())
            self.assertEqual(r.content_type, "application/problem+json")
            if field:
                self.assertEqual(r.json.get("field"), field, r.describe())
        # nothing was created by any refusal
        self.assertEqual(h.expect(self.root.get(h.tpath(self.t, "users")), 200).json, before)
        h.expect(self.root.patch(h.tpath(self.t), json={"seat_limits": {"api": None}}), 200)

        # the rank rule: a User can't create an API user; an admin can't exceed its rank
        _, plain = h.actor(S, self.t, "User")
        h.assert_problem(plain.post(self.ap, json={"first_name": "A", "last_name": "B"}), 403,
                         "auth.permission_denied")
        _, ops = h.actor(S, self.t, "Accounts Administrator")
        h.assert_problem(ops.post(self.ap, json={"first_name": "A", "last_name": "B",
                                                 "system_role": "Administrator"}),
                         403, {"rank.role_above_own", "rank.outranked"})
        # credentials only for api users; a standard user has none
        std = h.make_user(self.root, self.t, "std-" + h.uid())
        h.assert_problem(self.root.post(self.creds_path(std["id"]), json={}), 409,
                         "api_user.not_api_user")
        # another tenant's user answers like a missing one
        other = h.new_tenant(self.root)
        j = self.create().json
        r = self.root.get(h.tpath(other, "users", j["user"]["id"], "api-credentials"))
        h.assert_problem(r, 404, "user.not_found")


if __name__ == "__main__":
    h.main()
