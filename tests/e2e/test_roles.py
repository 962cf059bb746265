#!/usr/bin/env python3
"""Roles: listing order, template contents, custom roles, validation, built-ins, in-use, assignment."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None

ROLE_FIELDS = {"id", "tenant_id", "name", "scope", "rank", "permissions", "description", "builtin",
               "created_at", "updated_at", "version"}


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


class RoleListTest(unittest.TestCase):
    def test_threatconnect_roles_sorted_by_rank(self):
        t = h.new_tenant(S.root())
        items = h.expect(S.root().get(h.tpath(t, "roles")), 200).json["items"]
        ranks = [x["rank"] for x in items]
        self.assertEqual(ranks, sorted(ranks, reverse=True), [(x["name"], x["rank"]) for x in items])
        by = {x["name"]: x for x in items}
        for name, (scope, rank) in h.TC_ROLES.items():
            self.assertIn(name, by)
            self.assertEqual(by[name]["rank"], rank, name)
            self.assertEqual(by[name]["scope"], scope, name)
            self.assertIs(by[name]["builtin"], True, name)
            self.assertEqual(by[name]["tenant_id"], t["id"])
            self.assertTrue(ROLE_FIELDS <= set(by[name]), ROLE_FIELDS - set(by[name]))
        for name in ("Administrator", "Operations Administrator", "Accounts Administrator",
                     "Organization Administrator"):
            self.assertTrue(h.ADMIN_PERMS <= set(by[name]["permissions"]),
                            "%s lacks %s" % (name, h.ADMIN_PERMS - set(by[name]["permissions"])))
        self.assertTrue({"tenant.settings", "roles.manage"} <= set(by["Administrator"]["permissions"]))
        self.assertEqual(set(by["User"]["permissions"]), {"users.read", "roles.read", "groups.read", "tenant.read"})
        for r in items:
            self.assertNotIn("platform.tenants", r["permissions"], r["name"])

    def test_get_single_role(self):
        t = h.new_tenant(S.root())
        items = h.expect(S.root().get(h.tpath(t, "roles")), 200).json["items"]
        r = h.expect(S.root().get(h.tpath(t, "roles", items[0]["id"])), 200)
        self.assertEqual(r.json, items[0])
        self.assertEqual(r.etag, h.etag_of(r.json["version"]))
        h.assert_problem(S.root().get(h.tpath(t, "roles", h.uuid7())), 404, "role.not_found")

    def test_user_role_can_read_roles(self):
        t = h.new_tenant(S.root())
        _, user = h.actor(S, t, "User")
        h.expect(user.get(h.tpath(t, "roles")), 200)
        h.assert_problem(user.post(h.tpath(t, "roles"), json={"name": "x", "rank": 10, "permissions": []}),
                         403, "auth.permission_denied")


class CustomRoleTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")
        self.p = h.tpath(self.t, "roles")

    def create(self, client=None, **body):
        return (client or self.admin).post(self.p, json=body)

    def test_create_custom_role(self):
        r = h.expect(self.create(name="SOC Analyst", rank=450, permissions=["users.read", "groups.read"],
                                 description="tier 1"), 201)
        role = r.json
        self.assertTrue(ROLE_FIELDS <= set(role))
        self.assertEqual(role["name"], "SOC Analyst")
        self.assertEqual(role["scope"], "tenant")
        self.assertEqual(role["rank"], 450)
        self.assertEqual(sorted(role["permissions"]), ["groups.read", "users.read"])
        self.assertEqual(role["description"], "tier 1")
        self.assertIs(role["builtin"], False)
        self.assertEqual(role["tenant_id"], self.t["id"])
        self.assertRegex(role["id"], h.UUID7_RE)
        got = h.expect(self.admin.get(h.tpath(self.t, "roles", role["id"])), 200).json
        self.assertEqual(got, role)
        items = h.expect(self.admin.get(self.p), 200).json["items"]
        names = [x["name"] for x in items]
        self.assertIn("SOC Analyst", names)
        # position by rank: between Api User (400) and Super User (500)
        self.assertLess(names.index("Super User"), names.index("SOC Analyst"))
        self.assertLess(names.index("SOC Analyst"), names.index("Api User"))

    def test_system_scope_custom_role(self):
        r = h.expect(self.create(name="Night Ops", scope="system", rank=350, permissions=["users.read"]), 201)
        self.assertEqual(r.json["scope"], "system")
        u = h.make_user(self.root, self.t, "n-" + h.uid(), system_role="Night Ops")
        self.assertEqual(u["system_role"]["name"], "Night Ops")

    def test_validation(self):
        h.assert_problem(self.create(name="Bad", rank=100, permissions=["users.read", "users.fly"]),
                         400, "request.invalid_field", field="permissions")
        h.assert_problem(self.create(name="Bad", rank=100, permissions="users.read"),
                         400, "request.invalid_field", field="permissions")
        h.assert_problem(self.create(name="Bad", rank=-1, permissions=[]), 400, "request.invalid_field", field="rank")
        h.assert_problem(self.create(name="Bad", rank="high", permissions=[]), 400, "request.invalid_field", field="rank")
        h.assert_problem(self.create(name="Bad", scope="galaxy", rank=10, permissions=[]),
                         400, "request.invalid_field", field="scope")
        h.assert_problem(self.create(name="", rank=10, permissions=[]), 400, "request.invalid_field", field="name")
        h.assert_problem(self.create(rank=10, permissions=[]), 400, "request.invalid_field", field="name")
        names = [x["name"] for x in h.expect(self.admin.get(self.p), 200).json["items"]]
        self.assertNotIn("Bad", names)

    def test_duplicate_name(self):
        h.expect(self.create(name="Hunters", rank=200, permissions=[]), 201)
        h.assert_problem(self.create(name="Hunters", rank=200, permissions=[]), 409, "role.name_taken")
        h.assert_problem(self.create(name="hUNTERS", rank=200, permissions=[]), 409, "role.name_taken")
        h.assert_problem(self.create(name="administrator", rank=200, permissions=[]), 409, "role.name_taken")
        # another tenant may use the name
        other = h.new_tenant(self.root)
        h.expect(self.root.post(h.tpath(other, "roles"), json={"name": "Hunters", "rank": 200, "permissions": []}), 201)

    def test_rank_above_own(self):
        h.assert_problem(self.create(name="Overlord", rank=950, permissions=[]), 403, "rank.role_above_own")
        h.assert_problem(self.create(name="Overlord", rank=1000, permissions=[]), 403, "rank.role_above_own")
        names = [x["name"] for x in h.expect(self.admin.get(self.p), 200).json["items"]]
        self.assertNotIn("Overlord", names)
        # equal rank is not above
        h.expect(self.create(name="Peer", rank=900, permissions=["users.read"]), 201)

    def test_permissions_beyond_own(self):
        h.assert_problem(self.create(name="Platformer", rank=100, permissions=["platform.tenants"]),
                         403, "auth.permission_denied")
        names = [x["name"] for x in h.expect(self.admin.get(self.p), 200).json["items"]]
        self.assertNotIn("Platformer", names)

    def test_patch_custom_role(self):
        role = h.expect(self.create(name="Editors", rank=200, permissions=["users.read"]), 201).json
        rp = h.tpath(self.t, "roles", role["id"])
        r = h.expect(self.admin.patch(rp, json={"name": "Editors2", "rank": 250, "description": "d",
                                                "permissions": ["users.read", "users.update"]}), 200)
        self.assertEqual(r.json["name"], "Editors2")
        self.assertEqual(r.json["rank"], 250)
        self.assertEqual(sorted(r.json["permissions"]), ["users.read", "users.update"])
        self.assertGreater(r.json["version"], role["version"])
        self.assertEqual(r.etag, h.etag_of(r.json["version"]))
        h.assert_problem(self.admin.patch(rp, json={"rank": 200}, headers={"If-Match": h.etag_of(role["version"])}),
                         412, "request.precondition_failed")
        h.assert_problem(self.admin.patch(rp, json={"rank": 950}), 403, "rank.role_above_own")
        h.assert_problem(self.admin.patch(rp, json={"scope": "system"}), 400,
                         {"request.unknown_field", "request.invalid_field"}, field="scope")
        h.assert_problem(self.admin.patch(rp, json={"permissions": ["nope.nope"]}), 400, "request.invalid_field",
                         field="permissions")
        self.assertEqual(h.expect(self.admin.get(rp), 200).json, r.json)

    def test_builtin_is_immutable(self):
        roles = {x["name"]: x for x in h.expect(self.root.get(self.p), 200).json["items"]}
        for name in ("Administrator", "User", "Standard User"):
            rp = h.tpath(self.t, "roles", roles[name]["id"])
            h.assert_problem(self.root.patch(rp, json={"description": "changed"}), 409, "role.builtin")
            h.assert_problem(self.root.delete(rp), 409, "role.builtin")
            self.assertEqual(h.expect(self.root.get(rp), 200).json, roles[name])

    def test_delete_in_use_and_unused(self):
        role = h.expect(self.create(name="Temp", rank=200, permissions=["users.read"]), 201).json
        rp = h.tpath(self.t, "roles", role["id"])
        u = h.make_user(self.root, self.t, "tmp-" + h.uid(), roles=["Temp"])
        h.assert_problem(self.admin.delete(rp), 409, "role.in_use")
        h.expect(self.admin.get(rp), 200)
        h.expect(self.admin.put(h.tpath(self.t, "users", u["id"], "roles"), json={"system_role": "User", "roles": []}), 200)
        h.expect(self.admin.delete(rp), 204)
        h.assert_problem(self.admin.get(rp), 404, "role.not_found")
        h.assert_problem(self.admin.delete(rp), 404, "role.not_found")
        self.assertNotIn("Temp", [x["name"] for x in h.expect(self.admin.get(self.p), 200).json["items"]])

    def test_delete_role_used_by_token(self):
        role = h.expect(self.create(name="TokRole", scope="system", rank=200, permissions=["users.read"]), 201).json
        h.create_token(self.admin, self.t, role="TokRole")
        h.assert_problem(self.admin.delete(h.tpath(self.t, "roles", role["id"])), 409, "role.in_use")

    def test_delete_role_used_as_system_role(self):
        role = h.expect(self.create(name="SysTemp", scope="system", rank=200, permissions=["users.read"]), 201).json
        h.make_user(self.root, self.t, "st-" + h.uid(), system_role=role["id"])
        h.assert_problem(self.admin.delete(h.tpath(self.t, "roles", role["id"])), 409, "role.in_use")


class RoleAssignmentTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")
        self.roles = {x["name"]: x for x in h.expect(self.root.get(h.tpath(self.t, "roles")), 200).json["items"]}
        self.u = h.make_user(self.root, self.t, "as-" + h.uid())
        self.up = h.tpath(self.t, "users", self.u["id"])

    def test_put_roles(self):
        r = h.expect(self.admin.put(self.up + "/roles", json={"system_role": "Super User",
                                                              "roles": ["Standard User", "Read Only Commenter"]}), 200)
        self.assertEqual(r.json["id"], self.u["id"])
        self.assertEqual(r.json["system_role"]["name"], "Super User")
        self.assertEqual(r.json["system_role"]["rank"], 500)
        self.assertEqual(sorted(x["name"] for x in r.json["roles"]), ["Read Only Commenter", "Standard User"])
        self.assertGreater(r.json["version"], self.u["version"])
        g = h.expect(self.admin.get(self.up), 200).json
        self.assertEqual(g["system_role"], r.json["system_role"])
        self.assertEqual(sorted(x["id"] for x in g["roles"]), sorted(x["id"] for x in r.json["roles"]))
        # by id
        r = h.expect(self.admin.put(self.up + "/roles", json={"system_role": self.roles["Api User"]["id"],
                                                              "roles": [self.roles["Standard User"]["id"]]}), 200)
        self.assertEqual(r.json["system_role"]["id"], self.roles["Api User"]["id"])
        self.assertEqual([x["id"] for x in r.json["roles"]], [self.roles["Standard User"]["id"]])
        listed = [x["username"] for x in self.admin.list_all(h.tpath(self.t, "users"), {"role": "Api User"})]
        self.assertEqual(listed, [self.u["username"]])

    def test_put_roles_validation(self):
        h.assert_problem(self.admin.put(self.up + "/roles", json={"system_role": "Standard User", "roles": []}),
                         400, "request.invalid_field", field="system_role")
        h.assert_problem(self.admin.put(self.up + "/roles", json={"system_role": "User", "roles": ["Administrator"]}),
                         400, "request.invalid_field", field="roles")
        h.assert_problem(self.admin.put(self.up + "/roles", json={"system_role": "Nope", "roles": []}),
                         400, "request.invalid_field", field="system_role")
        h.assert_problem(self.admin.put(self.up + "/roles", json={"system_role": "User", "roles": [h.uuid7()]}),
                         400, "request.invalid_field", field="roles")
        h.assert_problem(self.admin.put(self.up + "/roles", json={"system_role": "User", "roles": [], "x": 1}),
                         400, "request.unknown_field", field="x")
        h.assert_problem(self.admin.put(h.tpath(self.t, "users", h.uuid7(), "roles"),
                                        json={"system_role": "User", "roles": []}), 404, "user.not_found")
        self.assertEqual(h.expect(self.admin.get(self.up), 200).json, self.u)

    def test_patch_roles_needs_roles_assign(self):
        # Super User has no roles.assign per the template's admin-type list; User has no users.update
        _, user = h.actor(S, self.t, "User")
        h.assert_problem(user.put(self.up + "/roles", json={"system_role": "User", "roles": ["Standard User"]}),
                         403, "auth.permission_denied")
        h.assert_problem(user.patch(self.up, json={"roles": ["Standard User"]}), 403, "auth.permission_denied")
        self.assertEqual(h.expect(self.admin.get(self.up), 200).json, self.u)

    def test_patch_roles_via_merge_patch(self):
        r = h.expect(self.admin.patch(self.up, json={"roles": ["Standard User"], "system_role": "Api User"}), 200)
        self.assertEqual(r.json["system_role"]["name"], "Api User")
        self.assertEqual([x["name"] for x in r.json["roles"]], ["Standard User"])

    def test_rank_is_max_of_roles(self):
        u, c = h.actor(S, self.t, "User", roles=["Organization Administrator"])
        me = h.expect(c.get(h.API + "/me"), 200).json
        self.assertEqual(me["rank"], 650)
        self.assertEqual(me["user"]["id"], u["id"])
        self.assertIn("users.update", me["permissions"])


if __name__ == "__main__":
    h.main()
