#!/usr/bin/env python3
"""The OpenAPI document served at /api/v1/openapi.json matches what the server does.

Every documented path+method exists on the server (never 404 route.not_found nor 405), every
server route is documented, every answer is one of the documented statuses and validates
against the documented schema (objects are closed, so no undocumented or missing field), ETag
and Location headers appear exactly where documented, If-Match is honoured exactly where
documented, and required / closed request bodies are refused as documented.
"""

import glob
import os
import re
import sys
import time
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
DOC = None
LOGIN = {}  # a user with a password, for the operations that need a session (Fixture)
SESSION_OPS = {("POST", "/api/v1/auth/logout"), ("DELETE", "/api/v1/me/sessions/{id}"),
               ("GET", "/api/v1/me/sessions/{id}"),
               ("POST", "/api/v1/me/password"), ("POST", "/api/v1/me/required-actions/{action}")}
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")

# Every route the server registers (src/api/rest/*.c rest_*_register, src/http/ops.c).
KNOWN_ROUTES = [
    ("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"),
    ("GET", "/api/v1/me"), ("GET", "/api/v1/templates"), ("GET", "/api/v1/openapi.json"),
    ("GET", "/.well-known/jwks.json"),
    ("POST", "/api/v1/tenants"), ("GET", "/api/v1/tenants"),
    ("GET", "/api/v1/tenants/{tenant}"), ("PATCH", "/api/v1/tenants/{tenant}"),
    ("DELETE", "/api/v1/tenants/{tenant}"),
    ("POST", "/api/v1/tenants/{tenant}/users"), ("GET", "/api/v1/tenants/{tenant}/users"),
    ("GET", "/api/v1/tenants/{tenant}/users/{id}"), ("PATCH", "/api/v1/tenants/{tenant}/users/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/users/{id}"),
    ("PUT", "/api/v1/tenants/{tenant}/users/{id}/roles"),
    ("GET", "/api/v1/tenants/{tenant}/roles"), ("POST", "/api/v1/tenants/{tenant}/roles"),
    ("GET", "/api/v1/tenants/{tenant}/roles/{id}"), ("PATCH", "/api/v1/tenants/{tenant}/roles/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/roles/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/groups"), ("POST", "/api/v1/tenants/{tenant}/groups"),
    ("GET", "/api/v1/tenants/{tenant}/groups/{id}"), ("PATCH", "/api/v1/tenants/{tenant}/groups/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/groups/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/groups/{id}/members"),
    ("PUT", "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/groups/{id}/members/{user_id}"),
    ("GET", "/api/v1/tenants/{tenant}/departments"), ("POST", "/api/v1/tenants/{tenant}/departments"),
    ("GET", "/api/v1/tenants/{tenant}/departments/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant}/departments/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/departments/{id}"),
    ("PUT", "/api/v1/tenants/{tenant}/departments/{id}/managers/{user_id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/departments/{id}/managers/{user_id}"),
    ("POST", "/api/v1/tenants/{tenant}/tokens"), ("GET", "/api/v1/tenants/{tenant}/tokens"),
    ("GET", "/api/v1/tenants/{tenant}/tokens/{id}"), ("DELETE", "/api/v1/tenants/{tenant}/tokens/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/audit"),
    ("POST", "/api/v1/jobs"), ("GET", "/api/v1/jobs/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/webhooks"), ("POST", "/api/v1/tenants/{tenant}/webhooks"),
    ("GET", "/api/v1/tenants/{tenant}/webhooks/{id}"), ("PATCH", "/api/v1/tenants/{tenant}/webhooks/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/webhooks/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/webhooks/{id}/deliveries"),
    ("POST", "/api/v1/tenants/{tenant}/webhooks/{id}/ping"),
    ("GET", "/api/v1/tenants/{tenant}/outbox"), ("GET", "/api/v1/tenants/{tenant}/outbox/{id}"),
    ("POST", "/api/v1/tenants/{tenant}/outbox/{id}/retry"),
    ("GET", "/api/v1/tenants/{tenant}/templates/{name}"), ("PUT", "/api/v1/tenants/{tenant}/templates/{name}"),
    ("DELETE", "/api/v1/tenants/{tenant}/templates/{name}"),
    ("POST", "/api/v1/tenants/{tenant}/templates/{name}/test"),
    ("GET", "/api/v1/tenants/{tenant}/seats"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/suspend"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/resume"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/deactivate"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/reactivate"),
    ("POST", "/api/v1/tenants/{tenant}/invitations"), ("GET", "/api/v1/tenants/{tenant}/invitations"),
    ("GET", "/api/v1/tenants/{tenant}/invitations/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/invitations/{id}"),
    ("POST", "/api/v1/tenants/{tenant}/invitations/{id}/resend"),
    ("GET", "/api/v1/invitations/{token}"), ("POST", "/api/v1/invitations/{token}/accept"),
    ("POST", "/api/v1/tenants/{tenant}/resources"), ("GET", "/api/v1/tenants/{tenant}/resources"),
    ("GET", "/api/v1/tenants/{tenant}/resources/{id}"),
    ("PATCH", "/api/v1/tenants/{tenant}/resources/{id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/resources/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/tasks/{id}"),
    ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"),
    ("GET", "/api/v1/me/sessions"), ("DELETE", "/api/v1/me/sessions"),
    ("GET", "/api/v1/me/sessions/{id}"), ("DELETE", "/api/v1/me/sessions/{id}"),
    ("GET", "/api/v1/tenants/{tenant}/users/{id}/sessions"),
    ("DELETE", "/api/v1/tenants/{tenant}/users/{id}/sessions"),
    ("DELETE", "/api/v1/tenants/{tenant}/users/{id}/sessions/{session_id}"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/unlock"),
    ("GET", "/api/v1/tenants/{tenant}/users/{id}/login-failures"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/password"),
    ("POST", "/api/v1/me/password"),
    ("POST", "/api/v1/me/required-actions/{action}"),
    ("POST", "/oauth2/token"), ("POST", "/oauth2/introspect"), ("POST", "/oauth2/revoke"),
    ("POST", "/api/v1/tenants/{tenant}/api-users"),
    ("GET", "/api/v1/tenants/{tenant}/users/{id}/api-credentials"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/api-credentials"),
    ("GET", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}"),
    ("PATCH", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}"),
    ("DELETE", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}"),
    ("POST", "/api/v1/tenants/{tenant}/users/{id}/api-credentials/{access_id}/rotate"),
]
FORM_OPS = {("POST", "/oauth2/token"), ("POST", "/oauth2/introspect"), ("POST", "/oauth2/revoke")}


def source_routes():
    """Routes found in the sources (when the tests run from a checkout): catches new routes."""
    found = set()
    src = os.path.join(h.REPO_ROOT, "src")
    pats = [re.compile(r'\{\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"\s*,\s*\w+\s*\}'),
            re.compile(r'http_route_add\(\s*\w+\s*,\s*"([A-Z]+)"\s*,\s*"(/[^"]*)"')]
    for f in glob.glob(os.path.join(src, "api", "rest", "*.c")) + glob.glob(os.path.join(src, "http", "ops.c")):
        with open(f, encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for p in pats:
            found.update(p.findall(text))
    return found


# --------------------------------------------------------------------------- a small JSON Schema checker

def resolve(schema):
    while isinstance(schema, dict) and "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/"), ref
        node = DOC
        for part in ref[2:].split("/"):
            node = node[part]
        schema = node
    return schema


def type_ok(v, t):
    return {
        "null": v is None,
        "boolean": isinstance(v, bool),
        "integer": isinstance(v, int) and not isinstance(v, bool),
        "number": isinstance(v, (int, float)) and not isinstance(v, bool),
        "string": isinstance(v, str),
        "array": isinstance(v, list),
        "object": isinstance(v, dict),
    }[t]


def validate(v, schema, where="$"):
    """A list of messages (empty when v matches)."""
    schema = resolve(schema)
    if schema is True or schema == {}:
        return []
    errs = []
    for key in ("oneOf", "anyOf"):
        if key in schema:
            results = [validate(v, s, where) for s in schema[key]]
            good = sum(1 for r in results if not r)
            if good == 0 or (key == "oneOf" and good > 1):
                errs.append("%s: matches %d branches of %s: %s" % (where, good, key, results))
            return errs
    t = schema.get("type")
    if t is not None:
        ts = t if isinstance(t, list) else [t]
        if not any(type_ok(v, x) for x in ts):
            return ["%s: %r is not of type %s" % (where, v, t)]
    if "enum" in schema and v not in schema["enum"]:
        errs.append("%s: %r not in enum %s" % (where, v, schema["enum"]))
    if isinstance(v, str):
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append("%s: %r does not match %s" % (where, v, schema["pattern"]))
        if len(v) < schema.get("minLength", 0) or len(v) > schema.get("maxLength", 1 << 30):
            errs.append("%s: length of %r out of bounds" % (where, v))
        fmt = schema.get("format")
        if fmt == "date-time" and not h.TIME_RE.match(v):
            errs.append("%s: %r is not an RFC 3339 UTC time" % (where, v))
        if fmt == "uuid" and not h.UUID7_RE.match(v):
            errs.append("%s: %r is not a UUIDv7" % (where, v))
    if type_ok(v, "number"):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append("%s: %r < minimum %r" % (where, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            errs.append("%s: %r > maximum %r" % (where, v, schema["maximum"]))
    if isinstance(v, list):
        if len(v) > schema.get("maxItems", 1 << 30):
            errs.append("%s: too many items" % where)
        if "items" in schema:
            for i, e in enumerate(v):
                errs.extend(validate(e, schema["items"], "%s[%d]" % (where, i)))
    if isinstance(v, dict):
        props = schema.get("properties", {})
        for r in schema.get("required", []):
            if r not in v:
                errs.append("%s: documented required member %r is missing" % (where, r))
        extra = schema.get("additionalProperties", True)
        for k, e in v.items():
            if k in props:
                errs.extend(validate(e, props[k], "%s.%s" % (where, k)))
            elif extra is False:
                errs.append("%s: undocumented member %r" % (where, k))
            elif isinstance(extra, dict):
                errs.extend(validate(e, extra, "%s.%s" % (where, k)))
    return errs


# --------------------------------------------------------------------------- document helpers

def operations():
    for path, item in DOC["paths"].items():
        for m in METHODS:
            if m in item:
                yield path, m.upper(), item[m]


def params_of(path, method):
    item = DOC["paths"][path]
    out = [resolve(p) for p in item.get("parameters", [])]
    out += [resolve(p) for p in item[method.lower()].get("parameters", [])]
    return out


def body_schema(op):
    """The JSON body's schema; None for no body or a form body (OAuth's, tested in test_oauth)."""
    rb = op.get("requestBody")
    if not rb or "application/json" not in resolve(rb)["content"]:
        return None
    return resolve(resolve(rb)["content"]["application/json"]["schema"])


def is_form(op):
    rb = op.get("requestBody")
    return bool(rb) and "application/x-www-form-urlencoded" in resolve(rb)["content"]


def documented_response(op, status):
    r = op["responses"].get(str(status))
    return resolve(r) if r is not None else None


def needs_auth(op):
    sec = op.get("security", DOC.get("security", []))
    return bool(sec)


class Fixture:
    """Objects the calls refer to, created in a fresh tenant by the maintenance account."""

    def __init__(self, server):
        self.root = server.root()
        self.tenant = h.new_tenant(self.root)
        t = self.tenant
        self.user = h.make_user(self.root, t, "oa-" + h.uid(), email="oa@example.com", first_name="Oa",
                                custom_attributes={"k": 1}, required_actions=["mfa_reset"],
                                idle_logout_minutes=30, summary_mail_time="08:30", roles=["Standard User"])
        self.member = h.make_user(self.root, t, "mem-" + h.uid())
        self.role = h.expect(self.root.post(h.tpath(t, "roles"), json={
            "name": "role-" + h.uid(), "rank": 200, "permissions": ["users.read"], "description": "d"}), 201).json
        self.group = h.expect(self.root.post(h.tpath(t, "groups"), json={"name": "grp-" + h.uid()}), 201).json
        # The user is in one department; the documented calls act on another, empty one.
        self.home = h.expect(self.root.post(h.tpath(t, "departments"), json={"name": "home-" + h.uid()}), 201).json
        h.expect(self.root.patch(h.tpath(t, "users", self.user["id"]), json={"department_id": self.home["id"]}), 200)
        self.department = h.expect(self.root.post(h.tpath(t, "departments"), json={"name": "dep-" + h.uid()}), 201).json
        self.token = h.create_token(self.root, t, user_id=self.user["id"], role="User", expires_in_days=5)["token"]
        self.job = h.expect(self.root.post(h.API + "/jobs", json={"kind": "purge_expired_tokens"}), 202).json
        self.webhook = h.expect(self.root.post(h.tpath(t, "webhooks"), json={
            "url": "http://127.0.0.1:9/hook", "events": ["user.*"]}), 201).json
        # An e-mail that can't leave (no SMTP relay, one attempt): a dead letter to retry.
        self.mail = h.expect(self.root.post(h.tpath(t, "templates", "invitation", "test"),
                                            json={"to": "oa@example.com"}), 202).json
        self.invitation = self.invite()["invitation"]
        self.pw_user = self.login_user()
        self.resource = h.expect(self.root.post(h.tpath(t, "resources"), json={
            "kind": "playbook", "external_id": "pb-" + h.uid(), "name": "Playbook",
            "owner_id": self.member["id"]}), 201).json
        # An API user and its access id: the api-credentials operations act on them.
        self.api = h.expect(self.root.post(h.tpath(t, "api-users"), json={
            "first_name": "Api", "last_name": "Fixture"}), 201).json
        doomed = h.make_user(self.root, t, "doomed-" + h.uid())
        self.task = h.expect(self.root.delete(h.tpath(t, "users", doomed["id"])), 202).json
        deadline = time.monotonic() + 30
        while h.expect(self.root.get(h.tpath(t, "outbox", self.mail["id"])), 200).json["status"] != "failed":
            if time.monotonic() > deadline:
                raise AssertionError("the fixture's test e-mail never failed")
            time.sleep(0.05)

    def login_user(self):
        """A user with a password: login and the session operations use it."""
        self.pw = "a long enough secret " + h.uid()
        u = h.make_user(self.root, self.tenant, "pw-" + h.uid())
        h.expect(self.root.post(h.tpath(self.tenant, "users", u["id"], "password"),
                                json={"password": self.pw}), 204)
        LOGIN.update(tenant=self.tenant, user=u, password=self.pw)
        return u

    def fresh_login(self):
        return h.expect(S.client().post(h.API + "/auth/login", json={
            "tenant": self.tenant["slug"], "username": self.pw_user["username"],
            "password": self.pw}), 201).json

    def session_of(self, u):
        """A live session of u, made now (setting its password ends its older ones)."""
        pw = "a long enough secret " + h.uid()
        h.expect(self.root.post(h.tpath(self.tenant, "users", u["id"], "password"),
                                json={"password": pw}), 204)
        r = h.expect(S.client().post(h.API + "/auth/login", json={
            "tenant": self.tenant["slug"], "username": u["username"], "password": pw}), 201)
        return r.json["session"]["id"]

    def invite(self):
        return h.expect(self.root.post(h.tpath(self.tenant, "invitations"),
                                       json={"email": "inv-%s@example.com" % h.uid()}), 201).json

    def subst(self, path, method):
        t = self.tenant["slug"]
        ident = None
        m = re.search(r"/users/\{id\}/(suspend|resume|deactivate|reactivate)$", path)
        if m:
            # A lifecycle transition changes state: each call gets a user in the state it needs.
            u = h.make_user(self.root, self.tenant, "lc-" + h.uid())
            before = {"resume": "suspend", "reactivate": "deactivate"}.get(m.group(1))
            if before:
                h.expect(self.root.post(h.tpath(self.tenant, "users", u["id"], before),
                                        json={"reason": "setup"}), 200)
            ident = u["id"]
        elif "/api-credentials" in path:
            ident = self.api["user"]["id"]
        elif "/users/{id}" in path:
            ident = self.user["id"]
        elif "/roles/{id}" in path:
            ident = self.role["id"]
        elif "/groups/{id}" in path:
            ident = self.group["id"]
        elif "/departments/{id}" in path:
            ident = self.department["id"]
        elif "/tokens/{id}" in path:
            ident = self.token["id"]
        elif "/jobs/{id}" in path:
            ident = self.job["id"]
        elif "/webhooks/{id}" in path:
            ident = self.webhook["id"]
        elif "/outbox/{id}" in path:
            ident = self.mail["id"]
        elif "/invitations/{id}" in path:
            ident = self.invitation["id"]
        elif "/resources/{id}" in path:
            ident = self.resource["id"]
        elif "/me/sessions/{id}" in path:
            ident = h.uuid7()
        elif "/tasks/{id}" in path:
            ident = self.task["id"]
        if "{token}" in path:
            # the link is single-use: each call gets a fresh one
            out = path.replace("{token}", self.invite()["link"].rsplit("/", 1)[1])
            assert "{" not in out, "no value for a parameter of %s %s" % (method, path)
            return out
        out = path.replace("{tenant}", urllib.parse.quote(t, safe=""))
        if ident:
            out = out.replace("{id}", ident)
        out = out.replace("{user_id}", self.member["id"])
        out = out.replace("{access_id}", self.api["access_id"])
        if "{session_id}" in out:
            out = out.replace("{session_id}", self.session_of(self.user))
        out = out.replace("{action}", "terms_of_service")
        out = out.replace("{name}", "invitation")
        assert "{" not in out, "no value for a parameter of %s %s" % (method, path)
        return out

    def body(self, path, method):
        """A valid body for the operation (unique names)."""
        key = (method, re.sub(r"\{[^}]+\}", "*", path))
        u = h.uid()
        sample = {
            ("POST", "/api/v1/tenants"): {"slug": "oa-" + u, "name": "OA " + u, "template": "default"},
            ("PATCH", "/api/v1/tenants/*"): {"name": "Renamed " + u},
            ("POST", "/api/v1/tenants/*/users"): {"username": "new-" + u, "email": u + "@example.com"},
            ("PATCH", "/api/v1/tenants/*/users/*"): {"first_name": "F" + u},
            ("PUT", "/api/v1/tenants/*/users/*/roles"): {"system_role": "User", "roles": ["Standard User"]},
            ("POST", "/api/v1/tenants/*/roles"): {"name": "r-" + u, "rank": 100, "scope": "tenant",
                                                  "permissions": ["users.read"]},
            ("PATCH", "/api/v1/tenants/*/roles/*"): {"description": "desc " + u},
            ("POST", "/api/v1/tenants/*/groups"): {"name": "g-" + u, "description": "d"},
            ("PATCH", "/api/v1/tenants/*/groups/*"): {"description": "desc " + u},
            ("POST", "/api/v1/tenants/*/departments"): {"name": "d-" + u, "parent_id": self.home["id"],
                                                        "description": "d"},
            ("PATCH", "/api/v1/tenants/*/departments/*"): {"description": "desc " + u},
            ("POST", "/api/v1/tenants/*/tokens"): {"name": "t-" + u, "user_id": self.user["id"],
                                                   "expires_in_days": 1},
            ("POST", "/api/v1/jobs"): {"kind": "purge_expired_tokens", "payload": {"chunk": 100}},
            ("POST", "/api/v1/tenants/*/webhooks"): {"url": "https://hooks.example.com/" + u,
                                                     "events": ["user.*", "group.created"],
                                                     "description": "d"},
            ("PATCH", "/api/v1/tenants/*/webhooks/*"): {"description": "desc " + u},
            ("PUT", "/api/v1/tenants/*/templates/*"): {"subject": "Join {{tenant_name}}",
                                                       "text": "Hi {{first_name}}: {{link}}",
                                                       "html": "<p>Hi {{first_name}}: {{link}}</p>"},
            ("POST", "/api/v1/tenants/*/templates/*/test"): {"to": u + "@example.com"},
            ("POST", "/api/v1/tenants/*/users/*/suspend"): {"reason": "r " + u},
            ("POST", "/api/v1/tenants/*/users/*/resume"): {},
            ("POST", "/api/v1/tenants/*/users/*/deactivate"): {"reason": "r " + u},
            ("POST", "/api/v1/tenants/*/users/*/reactivate"): {},
            ("POST", "/api/v1/tenants/*/invitations"): {"email": "inv-" + u + "@example.com",
                                                        "system_role": "User", "message": "Welcome"},
            ("POST", "/api/v1/tenants/*/invitations/*/resend"): {"message": "again " + u},
            ("POST", "/api/v1/tenants/*/resources"): {"kind": "dashboard", "external_id": "d-" + u,
                                                      "name": "Board " + u,
                                                      "owner_id": self.member["id"]},
            ("PATCH", "/api/v1/tenants/*/resources/*"): {"name": "Renamed " + u},
            ("POST", "/api/v1/auth/login"): {"tenant": self.tenant["slug"],
                                             "username": self.pw_user["username"],
                                             "password": self.pw},
            ("POST", "/api/v1/tenants/*/api-users"): {"first_name": "F" + u, "last_name": "L",
                                                      "system_role": "Api User",
                                                      "roles": ["Standard User"],
                                                      "token_expiry_days": 30, "disabled": False},
            ("POST", "/api/v1/tenants/*/users/*/api-credentials"): {"token_expiry_days": 1},
            ("PATCH", "/api/v1/tenants/*/users/*/api-credentials/*"): {"disabled": False},
            ("POST", "/api/v1/tenants/*/users/*/api-credentials/*/rotate"): {"token_expiry_days": 7},
            ("POST", "/api/v1/tenants/*/users/*/password"): {"password": "a long enough secret " + u,
                                                             "temporary": True},
            ("POST", "/api/v1/me/password"): {"current_password": self.pw, "password": self.pw},
            ("POST", "/oauth2/token"): lambda: {"grant_type": "refresh_token",
                                                "refresh_token": self.fresh_login()["refresh_token"]},
            ("POST", "/oauth2/introspect"): lambda: {"token": self.fresh_login()["access_token"]},
            ("POST", "/oauth2/revoke"): lambda: {"token": self.fresh_login()["refresh_token"]},
            ("POST", "/api/v1/invitations/*/accept"): {"password": "a long enough secret " + u,
                                                       "first_name": "Ada", "last_name": "L",
                                                       "timezone": "UTC"},
        }.get(key)
        return sample() if callable(sample) else sample


def harmless_value(p):
    s = resolve(p.get("schema", {}))
    if "enum" in s:
        return s["enum"][0]
    if s.get("format") == "date-time":
        return "2026-01-01T00:00:00Z"
    if s.get("format") == "uuid":
        return h.uuid7()
    if s.get("type") == "integer":
        return s.get("minimum", 1)
    return "x"


# --------------------------------------------------------------------------- tests

def setUpModule():
    global S, DOC
    # No SMTP relay and one attempt per message: the fixture's test e-mail fails at once.
    S = h.Server(extra_env={"ROSTER_LOGIN_ATTEMPTS_PER_MINUTE": "0", "ROSTER_DELIVERY_MAX_ATTEMPTS": "1", "ROSTER_JOB_POLL_MS": "50",
                            "ROSTER_SMTP_URL": None}).start()
    r = h.expect(S.root().get("/api/v1/openapi.json"), 200)
    DOC = r.json


def tearDownModule():
    if S is not None:
        S.stop()


class OpenApiTest(unittest.TestCase):
    maxDiff = None

    def check(self, path, method, resp, expect_auth=True):
        """resp is a documented answer of path+method, and validates against its schema."""
        op = DOC["paths"][path][method.lower()]
        ctx = "%s %s: %s" % (method, path, resp.describe())
        self.assertLess(resp.status, 500, ctx)
        self.assertFalse(resp.status == 404 and isinstance(resp.json, dict)
                         and resp.json.get("code") == "route.not_found", "route missing: " + ctx)
        self.assertNotEqual(resp.status, 405, "method missing: " + ctx)
        doc = documented_response(op, resp.status)
        self.assertIsNotNone(doc, "status %d is not documented for %s %s\n%s" % (resp.status, method, path, ctx))
        content = doc.get("content", {})
        if resp.status == 204:
            self.assertEqual(resp.body, b"", ctx)
            self.assertFalse(content, "204 documents a body: " + ctx)
        else:
            self.assertIn(resp.content_type, content, "undocumented content type: " + ctx)
            schema = content[resp.content_type].get("schema")
            if resp.content_type.endswith("json"):
                errs = validate(resp.json, schema)
                self.assertEqual(errs, [], ctx)
        headers = doc.get("headers", {})
        if 200 <= resp.status < 300:
            for name in ("ETag", "Location"):
                if name in headers:
                    self.assertTrue(resp.headers.get(name), "documented %s missing: %s" % (name, ctx))
                    errs = validate(resp.headers.get(name), resolve(headers[name]).get("schema", {}))
                    self.assertEqual(errs, [], ctx)
                else:
                    self.assertIsNone(resp.headers.get(name), "undocumented %s header: %s" % (name, ctx))
        if resp.status == 201:
            self.assertIn("Location", headers, "201 without a documented Location: " + ctx)
            loc = resp.headers.get("Location")
            cookie = resp.headers.get("Set-Cookie")
            # A new session is the new session's to read
            hdrs = {"Cookie": cookie.split(";")[0]} if cookie else None
            reader = S.client() if cookie else S.root()
            self.assertEqual(h.expect(reader.get(loc, headers=hdrs), 200).status, 200, loc)
        return resp

    def call(self, client, path, method, concrete, body=None, **kw):
        if (method, path) in FORM_OPS and body is not None:
            # OAuth's endpoints take forms; the introspecting caller is the maintenance account
            r = client.request(method, concrete, raw_body=urllib.parse.urlencode(body),
                               content_type="application/x-www-form-urlencoded", **kw)
            return self.check(path, method, r)
        if (method, path) in SESSION_OPS and client.token is not None:
            # These act on the caller's own session: a fresh one of the Fixture's user.
            root, t, u = S.root(), LOGIN["tenant"], LOGIN["user"]
            if "{action}" in path:
                h.expect(root.patch(h.tpath(t, "users", u["id"]),
                                    json={"required_actions": ["terms_of_service"]}), 200)
            r = h.expect(S.client().post(h.API + "/auth/login", json={
                "tenant": t["slug"], "username": u["username"], "password": LOGIN["password"]}), 201)
            kw["headers"] = dict(kw.get("headers") or {}, Cookie=r.headers["Set-Cookie"].split(";")[0])
            kw["headers"]["X-CSRF-Token"] = r.json["csrf_token"]
            if "/me/sessions/{id}" in path:
                concrete = h.API + "/me/sessions/" + r.json["session"]["id"]
            client = S.client()
        if body is None:
            r = client.request(method, concrete, **kw)
        else:
            r = client.request(method, concrete, json=body, **kw)
        return self.check(path, method, r)

    # -- the document itself

    def test_document_shape(self):
        self.assertTrue(str(DOC.get("openapi", "")).startswith("3.1"), DOC.get("openapi"))
        for k in ("info", "paths", "components", "servers", "security"):
            self.assertIn(k, DOC)
        self.assertIn("bearer", DOC["components"]["securitySchemes"])
        self.assertEqual(DOC["security"], [{"bearer": []}])
        self.assertEqual(DOC["servers"][0]["url"], "http://127.0.0.1:7070")
        # no auth is needed for the document itself
        r = h.expect(S.client().get("/api/v1/openapi.json"), 200)
        self.assertEqual(r.json, DOC)
        for name in ("Tenant", "User", "Role", "RoleRef", "Group", "Token", "TokenCreated", "AuditEvent",
                     "Me", "Template", "Problem", "TenantList", "UserList", "RoleList", "GroupList",
                     "TokenList", "AuditList", "MemberList", "TemplateList"):
            self.assertIn(name, DOC["components"]["schemas"])

    def test_refs_and_path_params(self):
        def walk(node):
            if isinstance(node, dict):
                if "$ref" in node:
                    resolve(node)
                for v in node.values():
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)
        walk(DOC)
        op_ids = set()
        for path, method, op in operations():
            self.assertNotIn(op["operationId"], op_ids)
            op_ids.add(op["operationId"])
            declared = {p["name"] for p in params_of(path, method) if p["in"] == "path"}
            self.assertEqual(declared, set(re.findall(r"\{([^}]+)\}", path)), "%s %s" % (method, path))
            for st in op["responses"]:
                if st.startswith(("4", "5")) and not (path == "/readyz" and st == "503"):
                    content = resolve(op["responses"][st])["content"]
                    if (method, path) in FORM_OPS and "application/json" in content:
                        continue  # OAuth's error format (RFC 6749 5.2), checked by test_oauth
                    self.assertIn("application/problem+json", content, "%s %s %s" % (method, path, st))

    def test_problem_codes(self):
        codes = DOC.get("x-roster-problem-codes")
        self.assertIsInstance(codes, dict)
        for code, status in codes.items():
            self.assertRegex(code, r"^[a-z_]+(\.[a-z_]+)?$")
            self.assertIsInstance(status, int)
        for name, resp in DOC["components"]["responses"].items():
            listed = resp["description"].split("Codes: ")[-1].split(", ")
            for c in listed:
                self.assertIn(c, codes, "%s lists %s" % (name, c))
        # a few real problems carry listed codes with the listed status
        root = S.root()
        for r in (S.client().get("/api/v1/me"), S.client("rst_bad").get("/api/v1/me"),
                  root.get("/api/v1/nope"), root.request("OPTIONS", "/api/v1/me"),
                  root.get("/api/v1/tenants", params={"limit": "0"}),
                  root.post("/api/v1/tenants", raw_body="x", content_type="text/plain"),
                  root.post("/api/v1/tenants", raw_body="{", content_type="application/json"),
                  root.post("/api/v1/tenants", json={"slug": "a", "name": "b", "zz": 1}),
                  root.get("/api/v1/tenants/" + h.uuid7()), root.delete("/api/v1/tenants/system")):
            j = r.json
            self.assertIn(j["code"], codes, r.describe())
            self.assertEqual(codes[j["code"]], r.status, r.describe())
            self.assertEqual(validate(j, {"$ref": "#/components/schemas/Problem"}), [], r.describe())

    # -- documented -> served, and served -> documented

    def test_every_documented_operation_is_served(self):
        fx = Fixture(S)
        root = fx.root
        ops = list(operations())
        self.assertGreaterEqual(len(ops), len(KNOWN_ROUTES))

        # unauthenticated: 401 where security applies, a documented answer where it does not
        for path, method, op in ops:
            r = S.client().request(method, fx.subst(path, method))
            if needs_auth(op):
                h.assert_problem(r, 401, "auth.missing_token")
            self.check(path, method, r)

        # authenticated, mutations last, deeper paths deleted first, the tenant last of all
        def order(o):
            path, method, _ = o
            return (method == "DELETE", -path.count("/") if method == "DELETE" else 0)

        for path, method, op in sorted(ops, key=order):
            concrete = fx.subst(path, method)
            plist = params_of(path, method)
            has_if_match = any(p["in"] == "header" and p["name"] == "If-Match" for p in plist)
            has_body = "requestBody" in op
            body = fx.body(path, method) if has_body else None
            if has_body:
                self.assertIsNotNone(body, "no sample body for %s %s" % (method, path))
            if method in ("PATCH", "PUT", "DELETE"):
                stale = {"If-Match": 'W/"987654"'}
                if has_if_match:
                    r = self.call(root, path, method, concrete, body, headers=stale)
                    h.assert_problem(r, 412, "request.precondition_failed")
                elif method == "DELETE" or not has_body:
                    # not honoured: the call goes through (this is the real call)
                    r = self.call(root, path, method, concrete, body, headers=stale)
                    self.assertTrue(200 <= r.status < 300, "If-Match honoured but undocumented: " + r.describe())
                    continue
            r = self.call(root, path, method, concrete, body)
            self.assertTrue(200 <= r.status < 300, r.describe())
            if method == "GET" and (method, path) not in SESSION_OPS:
                rh = root.request("HEAD", concrete)
                self.assertEqual(rh.status, r.status, "HEAD " + rh.describe())
            if has_if_match and method in ("PATCH", "PUT") and r.etag:
                # the ETag of the answer is a fresh If-Match (repeatable writes only: a
                # lifecycle POST like suspend can't be applied twice)
                r2 = self.call(root, path, method, concrete, body, headers={"If-Match": r.etag})
                self.assertTrue(200 <= r2.status < 300, r2.describe())
            # query parameters: every documented one is accepted with a plausible value
            for p in plist:
                # a mutation's query parameters (DELETE …/users/{id}?transfer_to) can't be
                # replayed on what the call just changed
                if p["in"] != "query" or method != "GET":
                    continue
                if p["name"] == "cursor":
                    continue
                v = harmless_value(p)
                r = self.call(root, path, method, concrete, params={p["name"]: v})
                self.assertEqual(r.status, 200, "%s=%r: %s" % (p["name"], v, r.describe()))
                if p["name"] == "limit":
                    r = self.call(root, path, method, concrete, params={"limit": "0"})
                    h.assert_problem(r, 400, "request.invalid_parameter", field="limit")
                    r = self.call(root, path, method, concrete, params={"limit": "1"})
                    # lists answer {"items", "next_cursor"}; the seat report nests its list
                    nc = (r.json.get("unused") or r.json)["next_cursor"]
                    if nc:
                        r = self.call(root, path, method, concrete,
                                      params={"limit": "1", "cursor": nc})
                        self.assertEqual(r.status, 200, r.describe())
                    r = self.call(root, path, method, concrete, params={"cursor": "bogus.cursor"})
                    h.assert_problem(r, 400, "request.invalid_cursor")

    def test_every_server_route_is_documented(self):
        routes = set(KNOWN_ROUTES) | source_routes()
        self.assertTrue(set(KNOWN_ROUTES) <= routes)
        documented = {(m, p) for p, m, _ in operations()}
        root = S.root()
        for method, path in sorted(routes):
            self.assertIn((method, path), documented, "%s %s is served but not documented" % (method, path))
            concrete = re.sub(r"\{[^}]+\}", "zz", path)
            r = root.request(method, concrete)   # never a missing route, whatever the objects
            self.assertFalse(r.status == 404 and r.json and r.json.get("code") == "route.not_found", r.describe())
            self.assertNotEqual(r.status, 405, r.describe())
        self.assertEqual(documented - routes, set(), "documented but not served")
        r = root.get("/api/v1/definitely-not-a-route")
        h.assert_problem(r, 404, "route.not_found")

    # -- response shapes: exactly the documented members

    def assert_exact(self, obj, schema_name):
        schema = resolve({"$ref": "#/components/schemas/" + schema_name})
        self.assertEqual(set(obj), set(schema["properties"]), "%s: %r" % (schema_name, obj))
        self.assertEqual(set(schema["required"]), set(schema["properties"]), schema_name)
        self.assertIs(schema.get("additionalProperties"), False, schema_name)
        self.assertEqual(validate(obj, schema), [], schema_name)

    def test_resource_fields_match_schemas(self):
        fx = Fixture(S)
        root, t = fx.root, fx.tenant
        h.expect(root.put(h.tpath(t, "groups", fx.group["id"], "members", fx.user["id"])), 204)
        self.assert_exact(h.expect(root.get(h.tpath(t)), 200).json, "Tenant")
        u = h.expect(root.get(h.tpath(t, "users", fx.user["id"])), 200).json
        self.assert_exact(u, "User")
        self.assertTrue(u["roles"] and u["groups"], u)
        self.assert_exact(u["system_role"], "RoleRef")
        self.assert_exact(u["roles"][0], "RoleRef")
        self.assert_exact(u["groups"][0], "GroupRef")
        self.assert_exact(h.expect(root.get(h.tpath(t, "roles", fx.role["id"])), 200).json, "Role")
        self.assert_exact(h.expect(root.get(h.tpath(t, "groups", fx.group["id"])), 200).json, "Group")
        self.assert_exact(u["department"], "DepartmentRef")
        h.expect(root.put(h.tpath(t, "departments", fx.home["id"], "managers", fx.member["id"])), 204)
        dep = h.expect(root.get(h.tpath(t, "departments", fx.home["id"])), 200).json
        self.assert_exact(dep, "Department")
        self.assert_exact(dep["managers"][0], "Member")
        tok = h.expect(root.get(h.tpath(t, "tokens", fx.token["id"])), 200).json
        self.assert_exact(tok, "Token")
        self.assert_exact(tok["role"], "RoleRef")
        created = h.expect(root.post(h.tpath(t, "tokens"), json={"name": "x", "user_id": fx.user["id"]}), 201).json
        self.assert_exact(created, "TokenCreated")
        self.assertIsNone(created["token"]["role"], created)   # no role: acts as its owner
        events = h.expect(root.get(h.tpath(t, "audit")), 200).json["items"]
        self.assertTrue(events)
        for e in events:
            self.assert_exact(e, "AuditEvent")
        me = h.expect(root.get("/api/v1/me"), 200).json
        self.assert_exact(me, "Me")
        for item in h.expect(root.get("/api/v1/templates"), 200).json["items"]:
            self.assert_exact(item, "Template")
            for role in item["roles"]:
                self.assert_exact(role, "TemplateRole")
        members = h.expect(root.get(h.tpath(t, "groups", fx.group["id"], "members")), 200).json
        self.assert_exact(members, "MemberList")
        self.assert_exact(members["items"][0], "Member")
        self.assert_exact(h.expect(root.get(h.tpath(t, "invitations", fx.invitation["id"])), 200).json,
                          "Invitation")
        self.assert_exact(h.expect(root.get(h.tpath(t, "resources", fx.resource["id"])), 200).json,
                          "Resource")
        for name, p in (("TenantList", h.API + "/tenants"), ("UserList", h.tpath(t, "users")),
                        ("ResourceList", h.tpath(t, "resources")),
                        ("InvitationList", h.tpath(t, "invitations")),
                        ("RoleList", h.tpath(t, "roles")), ("GroupList", h.tpath(t, "groups")),
                        ("DepartmentList", h.tpath(t, "departments")),
                        ("TokenList", h.tpath(t, "tokens")), ("AuditList", h.tpath(t, "audit"))):
            self.assert_exact(h.expect(root.get(p), 200).json, name)

    # -- request bodies

    def test_required_request_fields_are_refused_when_missing(self):
        fx = Fixture(S)
        seen = 0
        for path, method, op in operations():
            schema = body_schema(op)
            if not schema or not schema.get("required"):
                continue
            base = fx.body(path, method)
            self.assertIsNotNone(base, "no sample body for %s %s" % (method, path))
            for field in schema["required"]:
                self.assertIn(field, base, "sample body of %s %s lacks %s" % (method, path, field))
                body = {k: v for k, v in base.items() if k != field}
                r = self.call(fx.root, path, method, fx.subst(path, method), body)
                h.assert_problem(r, 400, "request.invalid_field", field=field)
                seen += 1
            # and the full sample is accepted
            r = self.call(fx.root, path, method, fx.subst(path, method), base)
            self.assertTrue(200 <= r.status < 300, r.describe())
        self.assertGreater(seen, 0)

    def test_closed_request_bodies_refuse_unknown_members(self):
        fx = Fixture(S)
        for path, method, op in operations():
            schema = body_schema(op)
            if not schema:
                continue
            self.assertIs(schema.get("additionalProperties"), False, "%s %s body is not closed" % (method, path))
            body = dict(fx.body(path, method))
            body["undocumented_member"] = 1
            r = self.call(fx.root, path, method, fx.subst(path, method), body)
            h.assert_problem(r, 400, "request.unknown_field", field="undocumented_member")
            # every documented member is known to the server
            for name in schema["properties"]:
                r = self.call(fx.root, path, method, fx.subst(path, method), {name: {"wrong": "type"}})
                if r.status == 400:
                    self.assertNotEqual(r.json["code"], "request.unknown_field",
                                        "%s %s: documented %s refused as unknown" % (method, path, name))

    def test_unsupported_media_type_documented(self):
        fx = Fixture(S)
        for path, method, op in operations():
            if "requestBody" not in op or is_form(op):
                continue
            r = fx.root.request(method, fx.subst(path, method), raw_body="{}", content_type="text/plain")
            self.check(path, method, r)
            h.assert_problem(r, 415, "request.unsupported_media_type")


if __name__ == "__main__":
    h.main()
