#!/usr/bin/env python3
"""Departments: the tree (create, rename, move, cycle and depth refusals, delete with and
without move_to), managers, user listing by department, and roles scoped to a subtree: a
scoped administrator acts inside its subtree only and gets 404 for a user outside it, even by
id. Every refusal changes nothing (checked with a GET afterwards)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
DEPT_FIELDS = {"id", "tenant_id", "name", "parent_id", "description", "path", "managers", "user_count",
               "child_count", "created_at", "updated_at", "version"}


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


class Base(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        _, self.admin = h.actor(S, self.t, "Administrator")

    def mk(self, name, parent=None, client=None, status=201, **kw):
        body = {"name": name}
        if parent is not None:
            body["parent_id"] = parent["id"]
        body.update(kw)
        return h.expect((client or self.admin).post(h.tpath(self.t, "departments"), json=body), status).json

    def dp(self, d, *parts):
        return h.tpath(self.t, "departments", d["id"], *parts)

    def get(self, d):
        return h.expect(self.admin.get(self.dp(d)), 200).json

    def user(self, name, dept=None, **kw):
        if dept is not None:
            kw["department_id"] = dept["id"]
        return h.make_user(self.root, self.t, name + "-" + h.uid(), **kw)

    def uget(self, u):
        return h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json


class TreeTest(Base):
    def test_crud_and_path(self):
        a = self.mk("Security", description="the SOC and friends")
        self.assertTrue(DEPT_FIELDS <= set(a), DEPT_FIELDS - set(a))
        self.assertRegex(a["id"], h.UUID7_RE)
        self.assertEqual((a["parent_id"], a["path"], a["user_count"], a["child_count"], a["managers"]),
                         (None, ["Security"], 0, 0, []))
        a1 = self.mk("SOC", a)
        a11 = self.mk("Tier 2", a1)
        self.assertEqual(a11["path"], ["Security", "SOC", "Tier 2"])
        self.assertEqual(a11["parent_id"], a1["id"])
        r = h.expect(self.admin.get(self.dp(a)), 200)
        self.assertEqual(r.etag, h.etag_of(r.json["version"]))
        self.assertEqual(r.json["child_count"], 1)
        roots = [x["id"] for x in self.admin.list_all(h.tpath(self.t, "departments"), params={"root": "true"})]
        self.assertEqual(roots, [a["id"]])
        kids = [x["id"] for x in self.admin.list_all(h.tpath(self.t, "departments"), params={"parent_id": a1["id"]})]
        self.assertEqual(kids, [a11["id"]])
        self.assertEqual(len(self.admin.list_all(h.tpath(self.t, "departments"))), 3)
        # rename; the path of descendants follows
        r = h.expect(self.admin.patch(self.dp(a1), json={"name": "Blue team", "description": None}), 200).json
        self.assertEqual((r["name"], r["description"]), ("Blue team", None))
        self.assertEqual(self.get(a11)["path"], ["Security", "Blue team", "Tier 2"])
        # If-Match
        h.assert_problem(self.admin.patch(self.dp(a1), json={"name": "x"}, headers={"If-Match": h.etag_of(1)}),
                         412, "request.precondition_failed")
        self.assertEqual(self.get(a1)["name"], "Blue team")
        acts = [e["action"] for e in h.audit_events(self.root, self.t, action="department.")]
        self.assertEqual(sorted(set(acts)), ["department.create", "department.update"])

    def test_sibling_names_are_unique(self):
        a = self.mk("Ops")
        self.mk("ops", status=409)        # roots are siblings, case-insensitively
        h.assert_problem(self.admin.post(h.tpath(self.t, "departments"), json={"name": "OPS"}),
                         409, "department.name_taken")
        c = self.mk("Night", a)
        b = self.mk("Dev")
        self.mk("Night", b)               # the same name under another parent is fine
        h.assert_problem(self.admin.post(h.tpath(self.t, "departments"), json={"name": "night", "parent_id": a["id"]}),
                         409, "department.name_taken")
        h.assert_problem(self.admin.patch(self.dp(b), json={"name": "OPS"}), 409, "department.name_taken")
        self.assertEqual(self.get(b)["name"], "Dev")
        # moving next to a sibling of the same name clashes too
        h.assert_problem(self.admin.patch(self.dp(c), json={"parent_id": b["id"]}), 409, "department.name_taken")
        self.assertEqual(self.get(c)["parent_id"], a["id"])

    def test_bad_input(self):
        h.assert_problem(self.admin.post(h.tpath(self.t, "departments"), json={}), 400,
                         "request.invalid_field", field="name")
        h.assert_problem(self.admin.post(h.tpath(self.t, "departments"), json={"name": "x", "parent_id": h.uuid7()}),
                         400, "request.invalid_field", field="parent_id")
        h.assert_problem(self.admin.post(h.tpath(self.t, "departments"), json={"name": "x", "colour": 1}),
                         400, "request.unknown_field", field="colour")
        h.assert_problem(self.admin.get(h.tpath(self.t, "departments", h.uuid7())), 404, "department.not_found")
        self.assertEqual(self.admin.list_all(h.tpath(self.t, "departments")), [])
        # a member (no departments.manage) reads but does not write
        _, member = h.actor(S, self.t, "User")
        a = self.mk("A")
        h.expect(member.get(self.dp(a)), 200)
        h.assert_problem(member.post(h.tpath(self.t, "departments"), json={"name": "B"}), 403,
                         "auth.permission_denied")
        h.assert_problem(member.patch(self.dp(a), json={"name": "B"}), 403, "auth.permission_denied")
        h.assert_problem(member.delete(self.dp(a)), 403, "auth.permission_denied")
        self.assertEqual(self.get(a)["name"], "A")
        # another tenant's department is a missing one
        t2 = h.new_tenant(self.root)
        h.assert_problem(self.root.get(h.tpath(t2, "departments", a["id"])), 404, "department.not_found")

    def test_move_cycle_and_depth(self):
        a = self.mk("A")
        a1 = self.mk("A1", a)
        a11 = self.mk("A11", a1)
        b = self.mk("B")
        r = h.expect(self.admin.patch(self.dp(b), json={"parent_id": a1["id"]}), 200).json
        self.assertEqual(r["path"], ["A", "A1", "B"])
        before = [self.get(x) for x in (a, a1, a11, b)]
        for d, parent in ((a, a), (a, a1), (a, a11), (a, b), (a1, a11)):
            h.assert_problem(self.admin.patch(self.dp(d), json={"parent_id": parent["id"]}), 409, "department.cycle")
        self.assertEqual([self.get(x) for x in (a, a1, a11, b)], before)
        # back to a root
        r = h.expect(self.admin.patch(self.dp(b), json={"parent_id": None}), 200).json
        self.assertEqual((r["parent_id"], r["path"]), (None, ["B"]))
        self.assertTrue(h.audit_events(self.root, self.t, action="department.move"))
        # depth: 32 levels at most
        chain = [a]
        for i in range(2, 33):
            chain.append(self.mk("L%d" % i, chain[-1]))
        self.assertEqual(len(self.get(chain[-1])["path"]), 32)
        h.assert_problem(self.admin.post(h.tpath(self.t, "departments"), json={"name": "L33", "parent_id": chain[-1]["id"]}),
                         409, "department.too_deep")
        # moving B (a leaf) under the deepest is too deep; under level 31 it fits
        h.assert_problem(self.admin.patch(self.dp(b), json={"parent_id": chain[-1]["id"]}), 409, "department.too_deep")
        h.expect(self.admin.patch(self.dp(b), json={"parent_id": chain[-2]["id"]}), 200)
        # a subtree of height 1 (A1 -> A11) does not fit under level 31
        h.assert_problem(self.admin.patch(self.dp(a1), json={"parent_id": chain[-2]["id"]}), 409, "department.too_deep")
        self.assertEqual(self.get(a1)["parent_id"], a["id"])

    def test_delete(self):
        a = self.mk("A")
        a1 = self.mk("A1", a)
        a2 = self.mk("A2", a1)
        x = self.mk("X")
        ua = self.user("ua", a)
        ua1 = self.user("ua1", a1)
        h.expect(self.admin.put(self.dp(a1, "managers", ua1["id"])), 204)
        # not empty: refused, counting what is there
        r = self.admin.delete(self.dp(a1))
        h.assert_problem(r, 409, "department.not_empty")
        self.assertIn("1 users and 1 child", r.json["detail"])
        # a target inside the deleted subtree
        for t in (a1, a2):
            h.assert_problem(self.admin.delete(self.dp(a1), params={"move_to": t["id"]}), 409,
                             "department.move_into_subtree")
        h.assert_problem(self.admin.delete(self.dp(a1), params={"move_to": h.uuid7()}), 400,
                         "request.invalid_parameter", field="move_to")
        self.assertEqual(self.get(a1)["user_count"], 1)
        self.assertEqual(self.uget(ua1)["department"], {"id": a1["id"], "name": "A1"})
        # a role scoped to it
        role = h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "scoped-" + h.uid(), "rank": 100, "permissions": ["users.read"],
            "department_id": x["id"]}), 201).json
        h.assert_problem(self.admin.delete(self.dp(x)), 409, "department.in_use")
        h.expect(self.root.delete(h.tpath(self.t, "roles", role["id"])), 204)
        # with a target: users and children move there
        h.expect(self.admin.delete(self.dp(a1), params={"move_to": x["id"]}), 204)
        h.assert_problem(self.admin.get(self.dp(a1)), 404, "department.not_found")
        self.assertEqual(self.uget(ua1)["department"], {"id": x["id"], "name": "X"})
        self.assertEqual(self.get(a2)["path"], ["X", "A2"])
        self.assertEqual(self.get(x)["managers"], [])
        self.assertEqual(self.uget(ua)["department"]["id"], a["id"])
        # empty now: plain delete
        h.expect(self.admin.delete(self.dp(a)), 409)     # still holds ua
        h.expect(self.admin.patch(h.tpath(self.t, "users", ua["id"]), json={"department_id": None}), 200)
        h.expect(self.admin.delete(self.dp(a)), 204)
        self.assertIsNone(self.uget(ua)["department"])
        self.assertTrue(h.audit_events(self.root, self.t, action="department.delete"))

    def test_managers(self):
        a = self.mk("A")
        u = self.user("boss")
        h.expect(self.admin.put(self.dp(a, "managers", u["id"])), 204)
        h.expect(self.admin.put(self.dp(a, "managers", u["id"])), 204)      # idempotent
        self.assertEqual(self.get(a)["managers"], [{"id": u["id"], "username": u["username"]}])
        self.assertEqual(len(h.audit_events(self.root, self.t, action="department.manager_add")), 1)
        h.assert_problem(self.admin.put(self.dp(a, "managers", h.uuid7())), 404, "user.not_found")
        h.expect(self.admin.delete(self.dp(a, "managers", u["id"])), 204)
        h.assert_problem(self.admin.delete(self.dp(a, "managers", u["id"])), 404, "department.not_manager")
        self.assertEqual(self.get(a)["managers"], [])
        # a manager gets no power from it (docs: managers are data for the host platform)
        h.expect(self.admin.put(self.dp(a, "managers", u["id"])), 204)
        other = self.user("other", a)
        c = S.client(h.token_for(self.root, self.t, u["id"]))
        h.assert_problem(c.patch(h.tpath(self.t, "users", other["id"]), json={"description": "x"}),
                         403, "auth.permission_denied")

    def test_users_by_department(self):
        a = self.mk("A")
        a1 = self.mk("A1", a)
        a11 = self.mk("A11", a1)
        b = self.mk("B")
        u = {k: self.user(k, d) for k, d in (("ua", a), ("ua1", a1), ("ua11", a11), ("ub", b))}
        self.user("none")
        self.assertEqual(self.uget(u["ua11"])["department"], {"id": a11["id"], "name": "A11"})

        def listed(**params):
            return {x["username"].split("-")[0] for x in
                    self.admin.list_all(h.tpath(self.t, "users"), params=params) if "-" in x["username"]}
        self.assertEqual(listed(department_id=a["id"]), {"ua", "ua1", "ua11"})
        self.assertEqual(listed(department_id=a1["id"]), {"ua1", "ua11"})
        self.assertEqual(listed(department_id=a["id"], descendants="false"), {"ua"})
        self.assertEqual(listed(department_id=b["id"]), {"ub"})
        self.assertEqual(listed(department_id=h.uuid7()), set())
        h.assert_problem(self.admin.get(h.tpath(self.t, "users"), params={"department_id": a["id"], "descendants": "no"}),
                         400, "request.invalid_parameter", field="descendants")
        self.assertEqual(self.get(a)["user_count"], 1)
        # an unknown department on a user is refused, nothing changes
        h.assert_problem(self.admin.patch(h.tpath(self.t, "users", u["ua"]["id"]), json={"department_id": h.uuid7()}),
                         400, "request.invalid_field", field="department_id")
        h.assert_problem(self.admin.post(h.tpath(self.t, "users"), json={"username": "z-" + h.uid(), "department_id": "R&D"}),
                         400, "request.invalid_field", field="department_id")
        self.assertEqual(self.uget(u["ua"])["department"]["id"], a["id"])
        # a move is audited with the user
        h.expect(self.admin.patch(h.tpath(self.t, "users", u["ua"]["id"]), json={"department_id": b["id"]}), 200)
        e = h.audit_events(self.root, self.t, action="user.update", target=u["ua"]["id"])[-1]
        self.assertEqual(e["changes"]["department_id"], {"before": a["id"], "after": b["id"]})


class ScopedRoleTest(Base):
    """A role scoped to subtree A: its holder manages users in A and below, nothing else."""

    def setUp(self):
        super().setUp()
        self.a = self.mk("A")
        self.a1 = self.mk("A1", self.a)
        self.b = self.mk("B")
        # a system role that grants nothing on users: all the actor's power comes from the scope
        h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "Nobody", "scope": "system", "rank": 50, "permissions": ["tenant.read"]}), 201)
        self.role = h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "A admin", "scope": "tenant", "rank": 600, "department_id": self.a["id"],
            "permissions": ["users.read", "users.create", "users.update", "users.suspend", "users.delete",
                            "roles.assign"]}), 201).json
        self.assertEqual(self.role["department_id"], self.a["id"])
        self.me, self.scoped = h.actor(S, self.t, "Nobody", roles=["A admin"])
        self.ua = self.user("ua", self.a)
        self.ua1 = self.user("ua1", self.a1)
        self.ub = self.user("ub", self.b)
        self.un = self.user("un")     # in no department

    def up(self, u, *parts):
        return h.tpath(self.t, "users", u["id"], *parts)

    def test_acts_inside_its_subtree(self):
        for u in (self.ua, self.ua1):
            h.expect(self.scoped.get(self.up(u)), 200)
            r = h.expect(self.scoped.patch(self.up(u), json={"description": "edited"}), 200).json
            self.assertEqual(r["description"], "edited")
            h.expect(self.scoped.post(self.up(u, "suspend"), json={"reason": "r"}), 200)
            h.expect(self.scoped.post(self.up(u, "resume")), 200)
        # moves inside the subtree
        r = h.expect(self.scoped.patch(self.up(self.ua), json={"department_id": self.a1["id"]}), 200).json
        self.assertEqual(r["department"]["id"], self.a1["id"])
        # creates inside it
        c = h.expect(self.scoped.post(h.tpath(self.t, "users"), json={
            "username": "new-" + h.uid(), "department_id": self.a1["id"]}), 201).json
        self.assertEqual(c["department"]["id"], self.a1["id"])
        h.expect(self.scoped.delete(self.up(c)), 202, 204)
        h.expect(self.scoped.delete(self.up(self.ua1)), 202, 204)

    def test_grants_nothing_beyond_its_scope(self):
        """Rank permitting, a department manager still can't make a tenant-wide administrator
        of a user of its own department."""
        wide = h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "Wide editor", "scope": "tenant", "rank": 100,
            "permissions": ["users.update"]}), 201).json
        sysadm = h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "Small admin", "scope": "system", "rank": 100,
            "permissions": ["users.read", "users.delete"]}), 201).json
        other = h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "B helper", "scope": "tenant", "rank": 100, "department_id": self.b["id"],
            "permissions": ["users.read"]}), 201).json
        before = self.uget(self.ua)
        for body, field in (({"system_role": "Nobody", "roles": [wide["id"]]}, "roles"),
                            ({"system_role": sysadm["id"], "roles": []}, "system_role"),
                            ({"system_role": "Nobody", "roles": [other["id"]]}, "roles")):
            h.assert_problem(self.scoped.put(self.up(self.ua, "roles"), json=body), 403,
                             "role.beyond_scope", field)
        self.assertEqual(self.uget(self.ua), before)
        h.assert_problem(self.scoped.post(h.tpath(self.t, "users"), json={
            "username": "esc-" + h.uid(), "department_id": self.a["id"], "roles": [wide["id"]]}),
            403, "role.beyond_scope", "roles")
        # a role scoped inside its reach, holding no more than it holds there, is fine
        inner = h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "A1 reader", "scope": "tenant", "rank": 100, "department_id": self.a1["id"],
            "permissions": ["users.read"]}), 201).json
        r = h.expect(self.scoped.put(self.up(self.ua, "roles"),
                                     json={"system_role": "Nobody", "roles": [inner["id"]]}), 200).json
        self.assertEqual([x["id"] for x in r["roles"]], [inner["id"]])

    def test_deletion_tasks_are_as_visible_as_their_users(self):
        # the scoped admin's own deletion in A: visible while the user exists, its outcome too
        # once done only to tenant-wide readers (the tombstone has no department any more)
        mine = h.expect(self.scoped.delete(self.up(self.ua1)), 202).json
        other = h.expect(self.root.delete(self.up(self.ub)), 202).json
        h.assert_problem(self.scoped.get(h.tpath(self.t, "tasks", other["id"])), 404, "task.not_found")
        done = h.wait_task(self.root, self.t, mine["id"])
        self.assertEqual(done["status"], "COMPLETED")
        h.assert_problem(self.scoped.get(h.tpath(self.t, "tasks", mine["id"])), 404, "task.not_found")
        self.assertEqual(h.expect(self.root.get(h.tpath(self.t, "tasks", mine["id"])), 200).json["id"],
                         mine["id"])

    def test_outside_is_not_found_even_by_id(self):
        for u in (self.ub, self.un):
            before = self.uget(u)
            h.assert_problem(self.scoped.get(self.up(u)), 404, "user.not_found")
            h.assert_problem(self.scoped.patch(self.up(u), json={"description": "x"}), 404, "user.not_found")
            h.assert_problem(self.scoped.patch(self.up(u), json={"description": "x"},
                                               headers={"If-Match": h.etag_of(999)}), 404, "user.not_found")
            h.assert_problem(self.scoped.post(self.up(u, "suspend"), json={"reason": "r"}), 404, "user.not_found")
            h.assert_problem(self.scoped.put(self.up(u, "roles"), json={"system_role": "User"}), 404,
                             "user.not_found")
            h.assert_problem(self.scoped.delete(self.up(u)), 404, "user.not_found")
            self.assertEqual(self.uget(u), before)
        # identical to a user that never existed
        ghost = self.scoped.get(h.tpath(self.t, "users", h.uuid7()))
        real = self.scoped.get(self.up(self.ub))
        self.assertEqual(h.problem_signature(ghost), h.problem_signature(real))

    def test_no_way_out(self):
        # can't create in B, nor without a department
        h.assert_problem(self.scoped.post(h.tpath(self.t, "users"), json={
            "username": "b-" + h.uid(), "department_id": self.b["id"]}), 403, "auth.permission_denied",
            field="department_id")
        h.assert_problem(self.scoped.post(h.tpath(self.t, "users"), json={"username": "n-" + h.uid()}), 403,
                         "auth.permission_denied", field="department_id")
        # can't move a user from A to B, nor out of every department
        for dest in (self.b["id"], None):
            h.assert_problem(self.scoped.patch(self.up(self.ua), json={"department_id": dest}), 403,
                             "auth.permission_denied", field="department_id")
        self.assertEqual(self.uget(self.ua)["department"]["id"], self.a["id"])
        self.assertEqual([], [x for x in self.root.list_all(h.tpath(self.t, "users"), params={"department_id": self.b["id"]})
                              if x["id"] != self.ub["id"]])
        # departments themselves need departments.manage
        h.assert_problem(self.scoped.patch(self.dp(self.a), json={"name": "mine"}), 403, "auth.permission_denied")
        # its listing shows A's subtree only, with or without filters
        ids = {x["id"] for x in self.scoped.list_all(h.tpath(self.t, "users"))}
        self.assertEqual(ids, {self.ua["id"], self.ua1["id"]})
        ids = {x["id"] for x in self.scoped.list_all(h.tpath(self.t, "users"), params={"department_id": self.b["id"]})}
        self.assertEqual(ids, set())
        ids = {x["id"] for x in self.scoped.list_all(h.tpath(self.t, "users"), params={"q": "u"})}
        self.assertEqual(ids, {self.ua["id"], self.ua1["id"]})

    def test_scope_follows_the_tree(self):
        # B moved under A: its users come into reach at once
        h.expect(self.admin.patch(self.dp(self.b), json={"parent_id": self.a1["id"]}), 200)
        h.expect(self.scoped.get(self.up(self.ub)), 200)
        # and out again
        h.expect(self.admin.patch(self.dp(self.b), json={"parent_id": None}), 200)
        h.assert_problem(self.scoped.get(self.up(self.ub)), 404, "user.not_found")
        # re-scoping the role to B swaps what the actor reaches (the token cache follows)
        h.expect(self.root.patch(h.tpath(self.t, "roles", self.role["id"]), json={"department_id": self.b["id"]}), 200)
        h.expect(self.scoped.get(self.up(self.ub)), 200)
        h.assert_problem(self.scoped.get(self.up(self.ua)), 404, "user.not_found")

    def test_scoped_role_rules(self):
        h.assert_problem(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "sys-" + h.uid(), "scope": "system", "rank": 10, "permissions": [],
            "department_id": self.a["id"]}), 400, "request.invalid_field", field="department_id")
        h.assert_problem(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "x-" + h.uid(), "scope": "tenant", "rank": 10, "permissions": [],
            "department_id": h.uuid7()}), 400, "request.invalid_field", field="department_id")


if __name__ == "__main__":
    h.main()
