#!/usr/bin/env python3
"""The ThreatConnect rank rule (seed 001) through the API, threatconnect template.

Actors: Administrator (900), Operations Administrator (800), Accounts Administrator (700), User (300).
After every refusal the target is unchanged and the audit log has no new event about it.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
T = None
ACTORS = {}      # role name -> (user json, client)

EITHER = {"auth.permission_denied", "rank.outranked"}


def setUpModule():
    global S, T
    S = h.Server().start()
    T = h.new_tenant(S.root(), template="threatconnect")
    for role in ("Administrator", "Operations Administrator", "Accounts Administrator", "User"):
        ACTORS[role] = h.actor(S, T, role, username="actor-" + role.lower().replace(" ", "-"))


def tearDownModule():
    if S is not None:
        S.stop()


def target(system_role, roles=None):
    return h.make_user(S.root(), T, "tgt-" + h.uid(), system_role=system_role, roles=roles)


class RankTestBase(unittest.TestCase):
    def snapshot(self, user_id):
        root = S.root()
        u = h.expect(root.get(h.tpath(T, "users", user_id)), 200).json
        ev = h.audit_events(root, T, target=user_id)
        return u, [e["id"] for e in ev]

    def refused(self, who, method, path, body, user_id, codes, status=403):
        before = self.snapshot(user_id)
        _, c = ACTORS[who]
        r = c.request(method, path, json=body)
        h.assert_problem(r, status, codes)
        after = self.snapshot(user_id)
        self.assertEqual(after[0], before[0], "%s %s by %s changed the target" % (method, path, who))
        self.assertEqual(after[1], before[1], "%s %s by %s left an audit event on the target" % (method, path, who))
        return r

    def upath(self, u, *rest):
        return h.tpath(T, "users", u["id"], *rest)


class MeRankTest(RankTestBase):
    def test_ranks(self):
        for role, rank in (("Administrator", 900), ("Operations Administrator", 800),
                           ("Accounts Administrator", 700), ("User", 300)):
            me = h.expect(ACTORS[role][1].get(h.API + "/me"), 200).json
            self.assertEqual(me["rank"], rank, role)
            self.assertEqual(me["tenant"]["id"], T["id"])
            self.assertEqual(me["user"]["system_role"]["name"], role)


class EditDeleteTest(RankTestBase):
    def test_ops_admin_cannot_touch_administrator(self):
        t = target("Administrator")
        self.refused("Operations Administrator", "PATCH", self.upath(t), {"description": "x"}, t["id"], "rank.outranked")
        self.refused("Operations Administrator", "DELETE", self.upath(t), None, t["id"], "rank.outranked")
        self.refused("Operations Administrator", "PUT", self.upath(t, "roles"),
                     {"system_role": "User", "roles": []}, t["id"], "rank.outranked")
        self.refused("Operations Administrator", "PATCH", self.upath(t), {"system_role": "User"}, t["id"],
                     "rank.outranked")

    def test_ops_admin_can_edit_user_and_peer(self):
        _, ops = ACTORS["Operations Administrator"]
        t = target("User")
        r = h.expect(ops.patch(self.upath(t), json={"description": "edited"}), 200)
        self.assertEqual(r.json["description"], "edited")
        peer = target("Operations Administrator")
        h.expect(ops.patch(self.upath(peer), json={"description": "peer"}), 200)     # equal rank is not above
        h.expect(ops.delete(self.upath(t)), 202)

    def test_accounts_admin_cannot_touch_higher(self):
        for role in ("Administrator", "Operations Administrator"):
            t = target(role)
            self.refused("Accounts Administrator", "PATCH", self.upath(t), {"first_name": "x"}, t["id"], "rank.outranked")
            self.refused("Accounts Administrator", "DELETE", self.upath(t), None, t["id"], "rank.outranked")
        _, acct = ACTORS["Accounts Administrator"]
        t = target("User")
        h.expect(acct.patch(self.upath(t), json={"first_name": "ok"}), 200)
        t = target("Exchange Admin")
        h.expect(acct.delete(self.upath(t)), 202)

    def test_user_cannot_touch_admins(self):
        for role in ("Administrator", "Operations Administrator", "Accounts Administrator"):
            t = target(role)
            self.refused("User", "PATCH", self.upath(t), {"first_name": "x"}, t["id"], EITHER)
            self.refused("User", "DELETE", self.upath(t), None, t["id"], EITHER)

    def test_administrator_can_edit_ops(self):
        _, admin = ACTORS["Administrator"]
        t = target("Operations Administrator")
        h.expect(admin.patch(self.upath(t), json={"description": "ok"}), 200)
        h.expect(admin.delete(self.upath(t)), 202)

    def test_administrator_cannot_touch_maintenance_rank(self):
        # a custom role above 900 can only come from the maintenance account (rank 1000)
        root = S.root()
        name = h.expect(root.post(h.tpath(T, "roles"), json={"name": "Root-ish " + h.uid(), "scope": "system",
                                                             "rank": 950, "permissions": ["users.read"]}), 201).json["name"]
        t = target(name)
        self.refused("Administrator", "PATCH", self.upath(t), {"description": "x"}, t["id"], "rank.outranked")
        self.refused("Administrator", "DELETE", self.upath(t), None, t["id"], "rank.outranked")

    def test_org_role_counts_towards_rank(self):
        # system role User (300) + organisation role Organization Administrator (650): rank 650
        _, oa = h.actor(S, T, "User", roles=["Organization Administrator"])
        t = target("Accounts Administrator")
        before = self.snapshot(t["id"])
        h.assert_problem(oa.patch(self.upath(t), json={"description": "x"}), 403, "rank.outranked")
        self.assertEqual(self.snapshot(t["id"]), before)
        t2 = target("Exchange Admin")          # 600 < 650
        h.expect(oa.patch(self.upath(t2), json={"description": "ok"}), 200)
        # and a target's organisation role raises the target's rank too
        t3 = target("User", roles=["Organization Administrator"])                # rank 650
        _, acct = ACTORS["Accounts Administrator"]
        h.expect(acct.patch(self.upath(t3), json={"description": "ok"}), 200)      # 650 < 700
        high = h.expect(S.root().post(h.tpath(T, "roles"), json={
            "name": "Org Boss " + h.uid(), "scope": "tenant", "rank": 750, "permissions": ["users.read"]}), 201).json
        t4 = target("User", roles=[high["name"]])                                 # rank 750 > 700
        self.refused("Accounts Administrator", "PATCH", self.upath(t4), {"description": "x"}, t4["id"], "rank.outranked")


class GrantTest(RankTestBase):
    def test_ops_admin_cannot_grant_administrator(self):
        t = target("User")
        self.refused("Operations Administrator", "PUT", self.upath(t, "roles"),
                     {"system_role": "Administrator", "roles": []}, t["id"], "rank.role_above_own")
        self.refused("Operations Administrator", "PATCH", self.upath(t), {"system_role": "Administrator"},
                     t["id"], "rank.role_above_own")
        _, ops = ACTORS["Operations Administrator"]
        r = h.expect(ops.put(self.upath(t, "roles"), json={"system_role": "Operations Administrator", "roles": []}), 200)
        self.assertEqual(r.json["system_role"]["name"], "Operations Administrator")

    def test_accounts_admin_cannot_grant_ops(self):
        t = target("User")
        for role in ("Operations Administrator", "Administrator"):
            self.refused("Accounts Administrator", "PUT", self.upath(t, "roles"),
                         {"system_role": role, "roles": []}, t["id"], "rank.role_above_own")
        _, acct = ACTORS["Accounts Administrator"]
        h.expect(acct.put(self.upath(t, "roles"), json={"system_role": "Super User", "roles": ["Organization Administrator"]}), 200)

    def test_cannot_create_user_above_own(self):
        _, ops = ACTORS["Operations Administrator"]
        name = "hi-" + h.uid()
        h.assert_problem(ops.post(h.tpath(T, "users"), json={"username": name, "system_role": "Administrator"}),
                         403, "rank.role_above_own")
        _, acct = ACTORS["Accounts Administrator"]
        h.assert_problem(acct.post(h.tpath(T, "users"), json={"username": name, "system_role": "Operations Administrator"}),
                         403, "rank.role_above_own")
        self.assertEqual(S.root().list_all(h.tpath(T, "users"), {"username": name}), [])
        self.assertEqual([e for e in h.audit_events(S.root(), T, action="user.create")
                          if e.get("changes", {}).get("username", {}).get("after") == name], [])
        r = h.expect(ops.post(h.tpath(T, "users"), json={"username": name, "system_role": "Operations Administrator"}), 201)
        self.assertEqual(r.json["system_role"]["rank"], 800)

    def test_group_membership_obeys_rank(self):
        _, ops = ACTORS["Operations Administrator"]
        g = h.expect(S.root().post(h.tpath(T, "groups"), json={"name": "g-" + h.uid()}), 201).json
        t = target("Administrator")
        self.refused("Operations Administrator", "PUT", h.tpath(T, "groups", g["id"], "members", t["id"]), None,
                     t["id"], "rank.outranked")
        members = h.expect(S.root().get(h.tpath(T, "groups", g["id"], "members")), 200).json["items"]
        self.assertEqual(members, [])
        h.expect(S.root().put(h.tpath(T, "groups", g["id"], "members", t["id"])), 204)
        self.refused("Operations Administrator", "DELETE", h.tpath(T, "groups", g["id"], "members", t["id"]), None,
                     t["id"], "rank.outranked")
        u = target("User")
        h.expect(ops.put(h.tpath(T, "groups", g["id"], "members", u["id"])), 204)


class TokenRankTest(RankTestBase):
    def tokens_of(self, user_id):
        return [x["id"] for x in S.root().list_all(h.tpath(T, "tokens"), {"user_id": user_id})]

    def test_self_token_above_own_role(self):
        u, ops = ACTORS["Operations Administrator"]
        before = self.tokens_of(u["id"])
        h.assert_problem(ops.post(h.tpath(T, "tokens"), json={"name": "too-high", "role": "Administrator"}),
                         403, "rank.role_above_own")
        self.assertEqual(self.tokens_of(u["id"]), before)
        r = h.expect(ops.post(h.tpath(T, "tokens"), json={"name": "lower", "role": "User"}), 201)
        self.assertEqual(r.json["token"]["role"]["name"], "User")
        # the token acts with its own (lower) role
        low = S.client(r.json["secret"])
        h.expect(low.get(h.API + "/me"), 200)
        t = target("Super User")
        before = self.snapshot(t["id"])
        h.assert_problem(low.patch(self.upath(t), json={"description": "x"}), 403, EITHER)
        self.assertEqual(self.snapshot(t["id"]), before)

    def test_token_for_owner_above_owner_role(self):
        # even the maintenance account cannot mint a token whose role is above its owner's
        u, _ = ACTORS["Operations Administrator"]
        before = self.tokens_of(u["id"])
        h.assert_problem(S.root().post(h.tpath(T, "tokens"), json={"name": "x", "user_id": u["id"], "role": "Administrator"}),
                         403, "rank.role_above_own")
        self.assertEqual(self.tokens_of(u["id"]), before)

    def test_admin_cannot_mint_token_for_higher_user(self):
        _, acct = ACTORS["Accounts Administrator"]
        t = target("Administrator")
        before = self.tokens_of(t["id"])
        r = acct.post(h.tpath(T, "tokens"), json={"name": "steal", "user_id": t["id"]})
        h.assert_problem(r, 403, {"rank.outranked", "rank.role_above_own"})
        self.assertEqual(self.tokens_of(t["id"]), before)

    def test_user_cannot_mint_token_for_others(self):
        _, user = ACTORS["User"]
        t = target("User")
        h.assert_problem(user.post(h.tpath(T, "tokens"), json={"name": "x", "user_id": t["id"]}),
                         403, "auth.permission_denied")
        h.expect(user.post(h.tpath(T, "tokens"), json={"name": "mine"}), 201)


if __name__ == "__main__":
    h.main()
