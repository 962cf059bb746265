#!/usr/bin/env python3
"""Access tokens, refresh, introspection and revocation over a real socket: the JWT a login
returns is checked by an independent verifier (the npm package jose, tests/e2e/jose/), works
as a bearer credential, and dies with its session before it expires; refresh tokens rotate
and a reused one ends its session; introspection (RFC 7662) and revocation (RFC 7009) behave
as their RFCs say, with OAuth's own error format."""

import base64
import json
import os
import subprocess
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
PW = "correct horse battery staple"
VERIFY = os.path.join(os.path.dirname(os.path.abspath(__file__)), "jose", "verify.mjs")


def setUpModule():
    global S
    S = h.Server(extra_env={"ROSTER_LOGIN_ATTEMPTS_PER_MINUTE": "0"}).start()


def tearDownModule():
    if S is not None:
        S.stop()


def form(path, data, client=None, **kw):
    body = urllib.parse.urlencode(data) if isinstance(data, (dict, list)) else data
    return (client or S.client()).request("POST", path, raw_body=body,
                                          content_type="application/x-www-form-urlencoded", **kw)


def oauth_error(r, status, code):
    assert r.status == status, r.describe()
    assert r.headers.get("Content-Type", "").startswith("application/json"), r.describe()
    assert r.json["error"] == code and r.json["error_description"], r.describe()
    assert r.headers.get("Cache-Control") == "no-store", r.describe()


def jose_verify(token):
    """The independent verifier: exit 0 and the payload, or exit 1."""
    p = subprocess.run(["node", VERIFY, "--jwks", S.base_url + "/.well-known/jwks.json",
                        "--token", token, "--issuer", S.base_url],
                       capture_output=True, text=True, timeout=60)
    return p.returncode, json.loads(p.stdout.strip().splitlines()[-1]) if p.stdout.strip() else {}


class OAuthTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")
        self.u = h.make_user(self.root, self.t, "oa-" + h.uid(), system_role="Administrator",
                             roles=["Standard User"])
        h.expect(self.root.post(h.tpath(self.t, "users", self.u["id"], "password"), json={"password": PW}), 204)

    def login(self):
        return h.expect(S.client().post(h.API + "/auth/login", json={
            "tenant": self.t["slug"], "username": self.u["username"], "password": PW}), 201).json

    def test_access_token_verified_independently_and_revoked_early(self):
        lr = self.login()
        self.assertEqual(lr["token_type"], "Bearer")
        self.assertEqual(lr["expires_in"], 300)
        code, out = jose_verify(lr["access_token"])
        self.assertEqual(code, 0, out)
        p = out["payload"]
        self.assertEqual((p["sub"], p["tenant_id"], p["sid"]), (self.u["id"], self.t["id"], lr["session"]["id"]))
        self.assertEqual(sorted(p["roles"]), ["Administrator", "Standard User"])
        self.assertEqual(p["exp"] - p["iat"], 300)
        self.assertEqual(out["header"]["alg"], "ES256")
        bearer = S.client(lr["access_token"])
        self.assertEqual(h.expect(bearer.get(h.API + "/me"), 200).json["user"]["id"], self.u["id"])
        h.expect(bearer.get(h.tpath(self.t, "users")), 200)
        # a tampered token fails both verifiers
        head, payload, sig = lr["access_token"].split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        claims["sub"] = self.admin_user["id"]
        forged = head + "." + base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=") + "." + sig
        self.assertEqual(jose_verify(forged)[0], 1)
        h.assert_problem(S.client(forged).get(h.API + "/me"), 401, "auth.invalid_token")
        # the session ends: the unexpired token is refused on the next request
        h.expect(bearer.post(h.API + "/auth/logout"), 204)
        h.assert_problem(bearer.get(h.API + "/me"), 401, "auth.invalid_session")
        self.assertEqual(jose_verify(lr["access_token"])[0], 0)  # still well signed, but dead

    def test_retired_key_refused_although_verified_before(self):
        """A token is verified once per node and remembered; retiring its key (two rotations)
        must still refuse it within the keys' reload window."""
        lr = self.login()
        bearer = S.client(lr["access_token"])
        for _ in range(3):
            h.expect(bearer.get(h.API + "/me"), 200)
        args = ["--db", S.db_path]
        if h.is_pg():
            args += ["--key-file", os.path.join(S.tmpdir, "roster.key")]
        for _ in range(2):
            code, out, err = h.run_roster("keys", "rotate", *args)
            self.assertEqual(code, 0, (out, err))
        deadline = time.monotonic() + 15
        while bearer.get(h.API + "/me").status == 200:
            self.assertLess(time.monotonic(), deadline, "a token of a retired key still accepted")
            time.sleep(0.1)
        h.assert_problem(bearer.get(h.API + "/me"), 401, "auth.invalid_token")
        # a new login gets a token of the new key
        h.expect(S.client(self.login()["access_token"]).get(h.API + "/me"), 200)

    def test_suspension_kills_tokens(self):
        lr = self.login()
        bearer = S.client(lr["access_token"])
        h.expect(bearer.get(h.API + "/me"), 200)
        h.expect(self.admin.post(h.tpath(self.t, "users", self.u["id"], "suspend"), json={"reason": "r"}), 200)
        h.assert_problem(bearer.get(h.API + "/me"), 401, "auth.invalid_session")
        oauth_error(form("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": lr["refresh_token"]}),
                    400, "invalid_grant")

    def test_refresh_rotates_and_reuse_ends_the_session(self):
        lr = self.login()
        r = form("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": lr["refresh_token"]})
        self.assertEqual(r.status, 200, r.describe())
        self.assertEqual(r.headers.get("Cache-Control"), "no-store")
        t2 = r.json
        self.assertNotEqual(t2["refresh_token"], lr["refresh_token"])
        self.assertEqual(jose_verify(t2["access_token"])[0], 0)
        h.expect(S.client(t2["access_token"]).get(h.API + "/me"), 200)
        # the spent token again: a copy exists somewhere, so the whole session ends
        oauth_error(form("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": lr["refresh_token"]}),
                    400, "invalid_grant")
        h.assert_problem(S.client(t2["access_token"]).get(h.API + "/me"), 401, "auth.invalid_session")
        oauth_error(form("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": t2["refresh_token"]}),
                    400, "invalid_grant")
        acts = [e["action"] for e in h.audit_events(self.root, self.t, target=self.u["id"])]
        self.assertIn("session.refresh_reuse", acts)

    def test_token_endpoint_errors(self):
        lr = self.login()
        oauth_error(form("/oauth2/token", {}), 400, "invalid_request")
        oauth_error(form("/oauth2/token", {"grant_type": "password", "username": "x", "password": "y"}),
                    400, "unsupported_grant_type")
        oauth_error(form("/oauth2/token", {"grant_type": "refresh_token"}), 400, "invalid_request")
        oauth_error(form("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": "rsr_0123456789abcdef_nope"}),
                    400, "invalid_grant")
        oauth_error(form("/oauth2/token", {"grant_type": "refresh_token", "refresh_token": "garbage"}),
                    400, "invalid_grant")
        oauth_error(form("/oauth2/token", [("grant_type", "refresh_token"), ("refresh_token", lr["refresh_token"]),
                                           ("refresh_token", lr["refresh_token"])]), 400, "invalid_request")
        r = S.client().post("/oauth2/token", json={"grant_type": "refresh_token", "refresh_token": lr["refresh_token"]})
        oauth_error(r, 400, "invalid_request")
        # none of those spent it
        self.assertEqual(form("/oauth2/token", {"grant_type": "refresh_token",
                                                "refresh_token": lr["refresh_token"]}).status, 200)

    def test_introspect(self):
        lr = self.login()
        r = form("/oauth2/introspect", {"token": lr["access_token"]}, client=self.admin)
        self.assertEqual(r.status, 200, r.describe())
        j = r.json
        self.assertEqual((j["active"], j["sub"], j["tenant_id"], j["sid"], j["token_type"]),
                         (True, self.u["id"], self.t["id"], lr["session"]["id"], "access_token"))
        j = form("/oauth2/introspect", {"token": lr["refresh_token"]}, client=self.admin).json
        self.assertEqual((j["active"], j["token_type"], j["sub"]), (True, "refresh_token", self.u["id"]))
        self.assertEqual(form("/oauth2/introspect", {"token": "nonsense"}, client=self.admin).json, {"active": False})
        # another tenant's caller learns nothing
        other = h.new_tenant(self.root)
        _, stranger = h.actor(S, other, "Administrator")
        self.assertEqual(form("/oauth2/introspect", {"token": lr["access_token"]}, client=stranger).json,
                         {"active": False})
        h.assert_problem(form("/oauth2/introspect", {"token": lr["access_token"]}), 401, "auth.missing_token")
        # revoked: inactive
        h.expect(self.admin.delete(h.tpath(self.t, "users", self.u["id"], "sessions")), 204)
        self.assertEqual(form("/oauth2/introspect", {"token": lr["access_token"]}, client=self.admin).json,
                         {"active": False})
        self.assertEqual(form("/oauth2/introspect", {"token": lr["refresh_token"]}, client=self.admin).json,
                         {"active": False})

    def test_revoke(self):
        a, b = self.login(), self.login()
        r = form("/oauth2/revoke", {"token": a["refresh_token"]})
        self.assertEqual((r.status, r.json), (200, {}), r.describe())
        h.assert_problem(S.client(a["access_token"]).get(h.API + "/me"), 401, "auth.invalid_session")
        h.expect(S.client(b["access_token"]).get(h.API + "/me"), 200)  # only that session
        self.assertEqual(form("/oauth2/revoke", {"token": b["access_token"]}).status, 200)
        h.assert_problem(S.client(b["access_token"]).get(h.API + "/me"), 401, "auth.invalid_session")
        # unknown tokens are no error; API tokens have their own endpoint
        self.assertEqual(form("/oauth2/revoke", {"token": "whatever"}).status, 200)
        tok = h.create_token(self.root, self.t, user_id=self.u["id"])["secret"]
        oauth_error(form("/oauth2/revoke", {"token": tok}), 400, "unsupported_token_type")
        h.expect(S.client(tok).get(h.API + "/me"), 200)
        oauth_error(form("/oauth2/revoke", {}), 400, "invalid_request")


class ClientCredentialsTest(unittest.TestCase):
    """API users (seed 001) get access tokens with their access id and secret key."""

    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        j = h.expect(self.root.post(h.tpath(self.t, "api-users"),
                                    json={"first_name": "Feed", "last_name": "Bot"}), 201).json
        self.uid, self.aid, self.secret = j["user"]["id"], j["access_id"], j["secret_key"]

    def grant(self, **kw):
        return form("/oauth2/token", dict({"grant_type": "client_credentials"}, **kw), **{})

    def test_grant_use_and_revocation(self):
        r = self.grant(client_id=self.aid, client_secret=self.secret)
        self.assertEqual(r.status, 200, r.describe())
        self.assertNotIn("refresh_token", r.json)  # RFC 6749 4.4.3: the client keeps its credentials
        code, out = jose_verify(r.json["access_token"])
        self.assertEqual(code, 0, out)
        self.assertEqual((out["payload"]["client_id"], out["payload"]["sub"]), (self.aid, self.uid))
        self.assertNotIn("sid", out["payload"])
        bearer = S.client(r.json["access_token"])
        self.assertEqual(h.expect(bearer.get(h.API + "/me"), 200).json["user"]["id"], self.uid)
        # HTTP Basic works as well
        basic = base64.b64encode(("%s:%s" % (self.aid, self.secret)).encode()).decode()
        r2 = form("/oauth2/token", {"grant_type": "client_credentials"}, headers={"Authorization": "Basic " + basic})
        self.assertEqual(r2.status, 200, r2.describe())
        # introspection sees it alive
        j = form("/oauth2/introspect", {"token": r.json["access_token"]}, client=self.root).json
        self.assertEqual((j["active"], j["client_id"], j["sub"]), (True, self.aid, self.uid))
        # disabling the credential kills its tokens at once
        h.expect(self.root.patch(h.tpath(self.t, "users", self.uid, "api-credentials", self.aid),
                                 json={"disabled": True}), 200)
        h.assert_problem(bearer.get(h.API + "/me"), 401, "auth.invalid_token")
        self.assertEqual(form("/oauth2/introspect", {"token": r.json["access_token"]}, client=self.root).json,
                         {"active": False})
        oauth_error(self.grant(client_id=self.aid, client_secret=self.secret), 401, "invalid_client")
        h.expect(self.root.patch(h.tpath(self.t, "users", self.uid, "api-credentials", self.aid),
                                 json={"disabled": False}), 200)
        bearer = S.client(self.grant(client_id=self.aid, client_secret=self.secret).json["access_token"])
        h.expect(bearer.get(h.API + "/me"), 200)
        # and so does deactivating the user
        h.expect(self.root.post(h.tpath(self.t, "users", self.uid, "deactivate"), json={"reason": "retired"}), 200)
        h.assert_problem(bearer.get(h.API + "/me"), 401, "auth.invalid_token")

    def test_refusals(self):
        r = self.grant(client_id=self.aid, client_secret=self.secret[:-2] + "xx")
        oauth_error(r, 401, "invalid_client")
        self.assertIn("Basic", r.headers.get("WWW-Authenticate", ""))
        unknown = self.grant(client_id="A" * 20, client_secret=self.secret)
        oauth_error(unknown, 401, "invalid_client")
        self.assertEqual(unknown.json, r.json)  # an unknown id looks like a wrong secret
        oauth_error(self.grant(), 401, "invalid_client")
        oauth_error(self.grant(client_id=self.aid), 401, "invalid_client")
        basic = base64.b64encode(("%s:%s" % (self.aid, self.secret)).encode()).decode()
        oauth_error(form("/oauth2/token", {"grant_type": "client_credentials", "client_id": self.aid,
                                           "client_secret": self.secret},
                         headers={"Authorization": "Basic " + basic}), 400, "invalid_request")


if __name__ == "__main__":
    unittest.main()
