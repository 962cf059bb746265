#!/usr/bin/env python3
"""Groups: CRUD, membership (idempotent PUT, list, remove), uniqueness, user listing by group."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
GROUP_FIELDS = {"id", "tenant_id", "name", "description", "external_id", "member_count", "created_at", "updated_at",
                "version"}


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


class GroupTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        _, self.admin = h.actor(S, self.t, "Administrator")
        self.gp = h.tpath(self.t, "groups")

    def mk(self, name=None, description=None):
        body = {"name": name or ("g-" + h.uid())}
        if description is not None:
            body["description"] = description
        return h.expect(self.admin.post(self.gp, json=body), 201).json

    def test_crud(self):
        g = self.mk("Analysts", "tier 2")
        self.assertTrue(GROUP_FIELDS <= set(g), GROUP_FIELDS - set(g))
        self.assertEqual(g["name"], "Analysts")
        self.assertEqual(g["description"], "tier 2")
        self.assertEqual(g["member_count"], 0)
        self.assertEqual(g["tenant_id"], self.t["id"])
        self.assertRegex(g["id"], h.UUID7_RE)
        p = h.tpath(self.t, "groups", g["id"])
        r = h.expect(self.admin.get(p), 200)
        self.assertEqual(r.json, g)
        self.assertEqual(r.etag, h.etag_of(g["version"]))
        self.assertIn(g["id"], [x["id"] for x in self.admin.list_all(self.gp)])

        r = h.expect(self.admin.patch(p, json={"name": "Analysts-2", "description": None}), 200)
        self.assertEqual(r.json["name"], "Analysts-2")
        self.assertIsNone(r.json["description"])
        self.assertGreater(r.json["version"], g["version"])
        h.assert_problem(self.admin.patch(p, json={"name": "x"}, headers={"If-Match": h.etag_of(g["version"])}),
                         412, "request.precondition_failed")
        h.assert_problem(self.admin.patch(p, json={"colour": "x"}), 400, "request.unknown_field", field="colour")
        self.assertEqual(h.expect(self.admin.get(p), 200).json, r.json)

        h.expect(self.admin.delete(p), 204)
        h.assert_problem(self.admin.get(p), 404, "group.not_found")
        h.assert_problem(self.admin.delete(p), 404, "group.not_found")
        self.assertNotIn(g["id"], [x["id"] for x in self.admin.list_all(self.gp)])

    def test_validation(self):
        h.assert_problem(self.admin.post(self.gp, json={"name": ""}), 400, "request.invalid_field", field="name")
        h.assert_problem(self.admin.post(self.gp, json={"description": "no name"}), 400, "request.invalid_field",
                         field="name")
        h.assert_problem(self.admin.post(self.gp, json={"name": 3}), 400, "request.invalid_field", field="name")
        h.assert_problem(self.admin.get(h.tpath(self.t, "groups", h.uuid7())), 404, "group.not_found")
        self.assertEqual(self.admin.list_all(self.gp), [])

    def test_duplicate_name(self):
        g = self.mk("Hunters")
        h.assert_problem(self.admin.post(self.gp, json={"name": "Hunters"}), 409, "group.name_taken")
        other = self.mk("Others")
        h.assert_problem(self.admin.patch(h.tpath(self.t, "groups", other["id"]), json={"name": "Hunters"}),
                         409, "group.name_taken")
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "groups", other["id"])), 200).json["name"], "Others")
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "groups", g["id"])), 200).json["name"], "Hunters")

    def test_members(self):
        g = self.mk()
        gp = h.tpath(self.t, "groups", g["id"])
        a = h.make_user(self.root, self.t, "alice-" + h.uid())
        b = h.make_user(self.root, self.t, "bob-" + h.uid())
        c = h.make_user(self.root, self.t, "carol-" + h.uid())
        for u in (a, b):
            r = h.expect(self.admin.put(gp + "/members/" + u["id"]), 204)
            self.assertEqual(r.body, b"")
        h.expect(self.admin.put(gp + "/members/" + a["id"]), 204)       # idempotent
        members = self.admin.list_all(gp + "/members")
        self.assertEqual(sorted((m["id"], m["username"]) for m in members),
                         sorted([(a["id"], a["username"]), (b["id"], b["username"])]))
        now = h.expect(self.admin.get(gp), 200).json
        self.assertEqual(now["member_count"], 2)
        # Two memberships changed the group (its member_count, its SCIM members): two versions;
        # the idempotent PUT changed nothing.
        self.assertEqual(now["version"], g["version"] + 2)
        ua = h.expect(self.admin.get(h.tpath(self.t, "users", a["id"])), 200).json
        self.assertEqual(ua["groups"], [{"id": g["id"], "name": g["name"]}])

        # paging over members
        r = h.expect(self.admin.get(gp + "/members", params={"limit": 1}), 200)
        self.assertEqual(len(r.json["items"]), 1)
        self.assertTrue(r.json["next_cursor"])
        r2 = h.expect(self.admin.get(gp + "/members", params={"limit": 1, "cursor": r.json["next_cursor"]}), 200)
        self.assertEqual(len(r2.json["items"]), 1)
        self.assertNotEqual(r.json["items"][0]["id"], r2.json["items"][0]["id"])

        # removing
        h.expect(self.admin.delete(gp + "/members/" + a["id"]), 204)
        h.assert_problem(self.admin.delete(gp + "/members/" + a["id"]), 404, "group.not_member")
        h.assert_problem(self.admin.delete(gp + "/members/" + c["id"]), 404, "group.not_member")
        self.assertEqual([m["id"] for m in self.admin.list_all(gp + "/members")], [b["id"]])
        self.assertEqual(h.expect(self.admin.get(gp), 200).json["member_count"], 1)
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "users", a["id"])), 200).json["groups"], [])

        # unknown user / group
        h.assert_problem(self.admin.put(gp + "/members/" + h.uuid7()), 404, "user.not_found")
        h.assert_problem(self.admin.put(h.tpath(self.t, "groups", h.uuid7(), "members", b["id"])), 404, "group.not_found")
        h.assert_problem(self.admin.get(h.tpath(self.t, "groups", h.uuid7(), "members")), 404, "group.not_found")

    def test_deleted_user_leaves_group(self):
        g = self.mk()
        gp = h.tpath(self.t, "groups", g["id"])
        u = h.make_user(self.root, self.t, "gone-" + h.uid())
        h.expect(self.admin.put(gp + "/members/" + u["id"]), 204)
        h.delete_user(self.admin, self.t, u["id"])
        self.assertEqual(self.admin.list_all(gp + "/members"), [])
        self.assertEqual(h.expect(self.admin.get(gp), 200).json["member_count"], 0)

    def test_deleting_group_updates_users(self):
        g = self.mk()
        u = h.make_user(self.root, self.t, "m-" + h.uid())
        h.expect(self.admin.put(h.tpath(self.t, "groups", g["id"], "members", u["id"])), 204)
        h.expect(self.admin.delete(h.tpath(self.t, "groups", g["id"])), 204)
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "users", u["id"])), 200).json["groups"], [])
        h.expect(self.admin.get(h.tpath(self.t, "users", u["id"])), 200)

    def test_user_listing_group_filter(self):
        g1 = self.mk("red")
        g2 = self.mk("blue")
        us = [h.make_user(self.root, self.t, "lf-%d-%s" % (i, h.uid())) for i in range(4)]
        for u in us[:2]:
            h.expect(self.admin.put(h.tpath(self.t, "groups", g1["id"], "members", u["id"])), 204)
        h.expect(self.admin.put(h.tpath(self.t, "groups", g2["id"], "members", us[1]["id"])), 204)
        up = h.tpath(self.t, "users")
        ids = lambda **p: sorted(x["id"] for x in self.admin.list_all(up, p))  # noqa: E731
        self.assertEqual(ids(group=g1["id"]), sorted(u["id"] for u in us[:2]))
        self.assertEqual(ids(group="red"), sorted(u["id"] for u in us[:2]))
        self.assertEqual(ids(group="blue"), [us[1]["id"]])
        self.assertEqual(ids(group=g2["id"]), [us[1]["id"]])

    def test_permissions(self):
        g = self.mk()
        u, user = h.actor(S, self.t, "User")        # groups.read only
        h.expect(user.get(self.gp), 200)
        h.expect(user.get(h.tpath(self.t, "groups", g["id"])), 200)
        h.assert_problem(user.post(self.gp, json={"name": "mine"}), 403, "auth.permission_denied")
        h.assert_problem(user.patch(h.tpath(self.t, "groups", g["id"]), json={"name": "mine"}), 403,
                         "auth.permission_denied")
        h.assert_problem(user.put(h.tpath(self.t, "groups", g["id"], "members", u["id"])), 403,
                         {"auth.permission_denied", "rank.outranked"})
        h.assert_problem(user.delete(h.tpath(self.t, "groups", g["id"])), 403, "auth.permission_denied")
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "groups", g["id"])), 200).json, g)


if __name__ == "__main__":
    h.main()
