#!/usr/bin/env python3
"""Tenant isolation: with tenant A's Administrator token, every endpoint of docs/api.md is walked
against tenant B's objects -- through B's slug and id in the path, and through A's path with B's
object ids (in the path, in bodies and in query filters).  Every answer must be exactly what a truly
missing id gets, B's objects must be unchanged and B's audit chain must have no new events."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
A = {}
B = {}

# every endpoint of docs/api.md below /api/v1/tenants (placeholders: t user role group member token)
ENDPOINTS = [
    ("GET", "/tenants/{t}", None),
    ("PATCH", "/tenants/{t}", {"name": "pwned"}),
    ("DELETE", "/tenants/{t}", None),
    ("GET", "/tenants/{t}/users", None),
    ("POST", "/tenants/{t}/users", {"username": "intruder"}),
    ("GET", "/tenants/{t}/users/{user}", None),
    ("PATCH", "/tenants/{t}/users/{user}", {"description": "pwned"}),
    ("DELETE", "/tenants/{t}/users/{user}", None),
    ("PUT", "/tenants/{t}/users/{user}/roles", {"system_role": "User", "roles": []}),
    ("GET", "/tenants/{t}/roles", None),
    ("POST", "/tenants/{t}/roles", {"name": "intruder", "rank": 100, "permissions": ["users.read"]}),
    ("GET", "/tenants/{t}/roles/{role}", None),
    ("PATCH", "/tenants/{t}/roles/{role}", {"description": "pwned"}),
    ("DELETE", "/tenants/{t}/roles/{role}", None),
    ("GET", "/tenants/{t}/groups", None),
    ("POST", "/tenants/{t}/groups", {"name": "intruder"}),
    ("GET", "/tenants/{t}/groups/{group}", None),
    ("PATCH", "/tenants/{t}/groups/{group}", {"name": "pwned"}),
    ("DELETE", "/tenants/{t}/groups/{group}", None),
    ("GET", "/tenants/{t}/groups/{group}/members", None),
    ("PUT", "/tenants/{t}/groups/{group}/members/{user}", None),
    ("DELETE", "/tenants/{t}/groups/{group}/members/{member}", None),
    ("GET", "/tenants/{t}/tokens", None),
    ("POST", "/tenants/{t}/tokens", {"name": "intruder"}),
    ("GET", "/tenants/{t}/tokens/{token}", None),
    ("DELETE", "/tenants/{t}/tokens/{token}", None),
    ("GET", "/tenants/{t}/audit", None),
    ("GET", "/tenants/{t}/tasks/{task}", None),
]

VOLATILE = ("last_used_at", "last_activity_at", "last_login_at")


def build(side):
    root = S.root()
    t = h.new_tenant(root, template="threatconnect")
    admin_user, admin = h.actor(S, t, "Administrator", username="admin")
    u1 = h.make_user(root, t, "alice", email="alice@%s.test" % t["slug"], roles=["Standard User"])
    u2 = h.make_user(root, t, "bob", system_role="Super User")
    role = h.expect(root.post(h.tpath(t, "roles"), json={"name": "Custom %s" % side, "rank": 200,
                                                         "permissions": ["users.read"]}), 201).json
    sysrole = h.expect(root.post(h.tpath(t, "roles"), json={"name": "Sys %s" % side, "scope": "system", "rank": 200,
                                                            "permissions": ["users.read"]}), 201).json
    h.expect(root.put(h.tpath(t, "users", u2["id"], "roles"), json={"system_role": "Super User", "roles": [role["id"]]}), 200)
    group = h.expect(root.post(h.tpath(t, "groups"), json={"name": "Group %s" % side}), 201).json
    h.expect(root.put(h.tpath(t, "groups", group["id"], "members", u1["id"])), 204)
    tok = h.create_token(root, t, user_id=u1["id"], name="u1-token")
    doomed = h.make_user(root, t, "doomed")
    task = h.delete_user(root, t, doomed["id"])
    return {"task": task, "tenant": t, "admin_user": admin_user, "admin": admin, "u1": u1, "u2": u2, "role": role,
            "sysrole": sysrole, "group": group, "token": tok["token"], "token_secret": tok["secret"]}


def setUpModule():
    global S
    S = h.Server().start()
    A.update(build("A"))
    B.update(build("B"))


def tearDownModule():
    if S is not None:
        S.stop()


def snapshot(side):
    c = side["admin"]
    t = side["tenant"]
    snap = {"tenant": h.expect(c.get(h.tpath(t)), 200).json}
    for coll in ("users", "roles", "groups", "tokens"):
        items = c.list_all(h.tpath(t, coll))
        snap[coll] = items
        for it in items:
            r = h.expect(c.get(h.tpath(t, coll, it["id"])), 200)
            snap["%s/%s" % (coll, it["id"])] = [r.json, r.etag]
            if coll == "groups":
                snap["members/" + it["id"]] = c.list_all(h.tpath(t, "groups", it["id"], "members"))
    snap["audit"] = [(e["id"], e["seq"], e["hash"]) for e in h.audit_events(c, t)]
    return h.strip(snap, *VOLATILE)


def fill(path, t, ids):
    return h.API + path.format(t=t, **ids)


class CrossTenantTest(unittest.TestCase):
    def setUp(self):
        self.a = A["admin"]
        self.before = snapshot(B)

    def tearDown(self):
        after = snapshot(B)
        for k in sorted(set(self.before) | set(after)):
            self.assertEqual(after.get(k), self.before.get(k), "tenant B changed: %s" % k)
        self.assertEqual(after["audit"], self.before["audit"], "new events in B's audit chain")
        h.expect(S.client(B["token_secret"]).get(h.API + "/me"), 200)

    def b_ids(self):
        return {"user": B["u2"]["id"], "role": B["role"]["id"], "group": B["group"]["id"],
                "member": B["u1"]["id"], "token": B["token"]["id"],
                "task": B["task"]["id"]}

    def compare(self, method, foreign_path, missing_path, body, failures, expect_404=True, client=None):
        c = client or self.a
        if isinstance(body, dict) and "username" in body:
            body = dict(body, username=body["username"] + "-" + h.uid())
        rf = c.request(method, foreign_path, json=body)
        rm = c.request(method, missing_path, json=body)
        if h.problem_signature(rf) != h.problem_signature(rm):
            failures.append("%s %s answered differently from a missing id:\n  foreign: %s\n  missing: %s"
                            % (method, foreign_path, rf.describe(), rm.describe()))
            return
        if expect_404:
            try:
                h.assert_problem(rf, 404, rm.json.get("code") if isinstance(rm.json, dict) else "?")
            except AssertionError as e:
                failures.append("%s %s: %s" % (method, foreign_path, e))
        elif 200 <= rf.status < 300:
            if method != "GET":
                failures.append("%s %s with a foreign reference succeeded: %s" % (method, foreign_path, rf.describe()))
            elif h.strip(rf.json, "next_cursor") != h.strip(rm.json, "next_cursor"):
                failures.append("%s %s: body differs from a missing id:\n  %s\n  %s"
                                % (method, foreign_path, rf.describe(), rm.describe()))
        else:
            try:
                h.assert_problem(rf, rf.status, rm.json.get("code") if isinstance(rm.json, dict) else "?")
            except AssertionError as e:
                failures.append("%s %s: %s" % (method, foreign_path, e))

    def walk_b_path(self, b_ident, missing_ident):
        failures = []
        ids = self.b_ids()
        for method, path, body in ENDPOINTS:
            # DELETE /tenants/{t} needs platform.tenants, which no tenant role has: 403 is also
            # leak-free, as long as it is the same answer a missing tenant gets.
            strict = not (method == "DELETE" and path == "/tenants/{t}")
            self.compare(method, fill(path, b_ident, ids), fill(path, missing_ident, ids), body, failures,
                         expect_404=strict)
        self.assertFalse(failures, "\n\n".join(failures))

    def test_b_slug_in_path(self):
        self.walk_b_path(B["tenant"]["slug"], "missing-" + h.uid())

    def test_b_id_in_path(self):
        self.walk_b_path(B["tenant"]["id"], h.uuid7())

    def test_a_path_with_b_ids(self):
        failures = []
        a_slug = A["tenant"]["slug"]
        foreign = self.b_ids()
        missing = {k: h.uuid7() for k in foreign}
        for method, path, body in ENDPOINTS:
            if "{" not in path.replace("{t}", ""):
                continue
            self.compare(method, fill(path, a_slug, foreign), fill(path, a_slug, missing), body, failures)
        # mixed: A's group with B's user, B's group with A's user
        ag, au = A["group"]["id"], A["u2"]["id"]
        for method in ("PUT", "DELETE"):
            self.compare(method, h.tpath(a_slug, "groups", ag, "members", B["u1"]["id"]),
                         h.tpath(a_slug, "groups", ag, "members", h.uuid7()), None, failures)
            self.compare(method, h.tpath(a_slug, "groups", B["group"]["id"], "members", au),
                         h.tpath(a_slug, "groups", h.uuid7(), "members", au), None, failures)
        # A's id form too
        self.compare("GET", h.tpath(A["tenant"]["id"], "users", B["u1"]["id"]),
                     h.tpath(A["tenant"]["id"], "users", h.uuid7()), None, failures)
        self.assertFalse(failures, "\n\n".join(failures))

    def test_b_ids_in_bodies_and_filters(self):
        failures = []
        a = A["tenant"]["slug"]
        au = A["u2"]["id"]
        refs = [("role", B["role"]["id"]), ("sysrole", B["sysrole"]["id"]), ("user", B["u1"]["id"]),
                ("group", B["group"]["id"])]
        r_id = dict(refs)
        cases = [
            ("POST", h.tpath(a, "users"), lambda x: {"username": "x", "system_role": x}, "sysrole"),
            ("POST", h.tpath(a, "users"), lambda x: {"username": "x", "roles": [x]}, "role"),
            ("PUT", h.tpath(a, "users", au, "roles"), lambda x: {"system_role": x, "roles": []}, "sysrole"),
            ("PUT", h.tpath(a, "users", au, "roles"), lambda x: {"system_role": "User", "roles": [x]}, "role"),
            ("PATCH", h.tpath(a, "users", au), lambda x: {"roles": [x]}, "role"),
            ("PATCH", h.tpath(a, "users", au), lambda x: {"system_role": x}, "sysrole"),
            ("POST", h.tpath(a, "tokens"), lambda x: {"name": "x", "user_id": x}, "user"),
            ("POST", h.tpath(a, "tokens"), lambda x: {"name": "x", "role": x}, "sysrole"),
            ("POST", h.tpath(a, "tokens"), lambda x: {"name": "x", "role": x}, "role"),
        ]
        for method, path, mkbody, kind in cases:
            rf = self.a.request(method, path, json=mkbody(r_id[kind]))
            rm = self.a.request(method, path, json=mkbody(h.uuid7()))
            if h.problem_signature(rf) != h.problem_signature(rm) or 200 <= rf.status < 300:
                failures.append("%s %s with B's %s: %s\n  missing gives: %s"
                                % (method, path, kind, rf.describe(), rm.describe()))
        queries = [
            (h.tpath(a, "users"), "role", r_id["role"]), (h.tpath(a, "users"), "role", r_id["sysrole"]),
            (h.tpath(a, "users"), "group", r_id["group"]), (h.tpath(a, "tokens"), "user_id", r_id["user"]),
            (h.tpath(a, "audit"), "target", r_id["user"]), (h.tpath(a, "audit"), "actor", B["admin_user"]["id"]),
            (h.tpath(a, "users"), "username", "alice"),
        ]
        for path, param, value in queries:
            rf = self.a.get(path, params={param: value})
            rm = self.a.get(path, params={param: h.uuid7() if param != "username" else "nobody-" + h.uid()})
            if param == "username":
                # A also has an "alice": the answer must be A's alice only
                h.expect(rf, 200)
                if [x["id"] for x in rf.json["items"]] != [A["u1"]["id"]]:
                    failures.append("username=alice in A returned %s" % rf.describe())
                continue
            if h.problem_signature(rf) != h.problem_signature(rm):
                failures.append("GET %s?%s=<B's> differs from missing:\n  %s\n  %s"
                                % (path, param, rf.describe(), rm.describe()))
            elif rf.status == 200 and rf.json.get("items"):
                failures.append("GET %s?%s=<B's> returned items: %s" % (path, param, rf.describe()))
        self.assertFalse(failures, "\n\n".join(failures))
        # nothing was created in A by those attempts either
        self.assertEqual(sorted(x["username"] for x in A["admin"].list_all(h.tpath(a, "users"))),
                         ["admin", "alice", "bob"])

    def test_listings_and_me(self):
        listed = self.a.list_all(h.API + "/tenants")
        self.assertEqual([x["id"] for x in listed], [A["tenant"]["id"]])
        me = h.expect(self.a.get(h.API + "/me"), 200).json
        self.assertEqual(me["tenant"]["id"], A["tenant"]["id"])
        users = self.a.list_all(h.tpath(A["tenant"], "users"))
        b_ids = {B[k]["id"] for k in ("u1", "u2", "admin_user")}
        self.assertFalse({u["id"] for u in users} & b_ids)
        roles = h.expect(self.a.get(h.tpath(A["tenant"], "roles")), 200).json["items"]
        self.assertNotIn(B["role"]["id"], [r["id"] for r in roles])
        toks = self.a.list_all(h.tpath(A["tenant"], "tokens"))
        self.assertNotIn(B["token"]["id"], [x["id"] for x in toks])
        events = h.audit_events(self.a, A["tenant"])
        self.assertTrue(all(e["tenant_id"] == A["tenant"]["id"] for e in events))
        self.assertFalse({e["target"]["id"] for e in events if e.get("target")} & b_ids)

    def test_b_token_against_a(self):
        # and the other way round, with a plain user token of B
        bc = S.client(B["token_secret"])
        before = snapshot(A)
        failures = []
        ids = {"user": A["u2"]["id"], "role": A["role"]["id"], "group": A["group"]["id"],
               "member": A["u1"]["id"], "token": A["token"]["id"], "task": A["task"]["id"]}
        for method, path, body in ENDPOINTS:
            strict = not (method == "DELETE" and path == "/tenants/{t}")
            self.compare(method, fill(path, A["tenant"]["slug"], ids), fill(path, "missing-" + h.uid(), ids), body,
                         failures, expect_404=strict, client=bc)
        self.assertFalse(failures, "\n\n".join(failures))
        self.assertEqual(snapshot(A), before)


if __name__ == "__main__":
    h.main()
