#!/usr/bin/env python3
"""Seats per user type: limits set by the operator, enforced on create, type change and
reactivation; freed by deactivation and deletion; the seat report and the unused-seat report."""

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


class SeatsTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.tp = h.tpath(self.t)

    def limits(self, **kw):
        return h.expect(self.root.patch(self.tp, json={"seat_limits": kw}), 200).json

    def report(self, client=None, **params):
        return h.expect((client or self.root).get(h.tpath(self.t, "seats"), params=params), 200).json

    def used(self, type_):
        return [x for x in self.report()["types"] if x["type"] == type_][0]

    def test_limits_enforced_and_freed(self):
        t = self.limits(standard=2, read_only=1)
        self.assertEqual(t["seat_limits"], {"standard": 2, "api": None, "taxii": None, "read_only": 1})
        a = h.make_user(self.root, self.t, "s1")
        h.make_user(self.root, self.t, "s2")
        r = self.root.post(h.tpath(self.t, "users"), json={"username": "s3"})
        h.assert_problem(r, 409, "seats.exhausted", field="type")
        self.assertIn("2 of 2", r.json["detail"])
        # read-only users don't take standard seats, and have their own limit
        ro = h.make_user(self.root, self.t, "r1", type="read_only", system_role="Read Only User")
        h.assert_problem(self.root.post(h.tpath(self.t, "users"), json={"username": "r2",
                                                                           "type": "read_only"}),
                         409, "seats.exhausted")
        # api users are unlimited here
        h.make_user(self.root, self.t, "a1", type="api")
        # changing type needs a seat of the new type
        h.assert_problem(self.root.patch(h.tpath(self.t, "users", ro["id"]), json={"type": "standard"}),
                         409, "seats.exhausted")
        # deactivation frees a seat; reactivation needs one again
        h.expect(self.root.post(h.tpath(self.t, "users", a["id"], "deactivate"), json={"reason": "x"}),
                 200)
        self.assertEqual(self.used("standard")["used"], 1)
        s3 = h.make_user(self.root, self.t, "s3")
        h.assert_problem(self.root.post(h.tpath(self.t, "users", a["id"], "reactivate")), 409,
                         "seats.exhausted")
        h.delete_user(self.root, self.t, s3["id"])  # deletion frees it
        h.expect(self.root.post(h.tpath(self.t, "users", a["id"], "reactivate")), 200)
        st = self.used("standard")
        self.assertEqual((st["used"], st["limit"], st["available"]), (2, 2, 0))
        # raising the limit, then removing it
        self.limits(standard=3)
        h.make_user(self.root, self.t, "s4")
        t = self.limits(standard=None)
        self.assertIsNone(t["seat_limits"]["standard"])
        h.make_user(self.root, self.t, "s5")
        ev = h.audit_events(self.root, {"slug": "system"}, target=self.t["id"], action="tenant.update")
        self.assertTrue(any("seat_limits.standard" in e["changes"] for e in ev))

    def test_only_the_operator_sets_limits(self):
        _, admin = h.actor(S, self.t, "Administrator")
        h.assert_problem(admin.patch(self.tp, json={"seat_limits": {"standard": 100}}), 403,
                         "auth.permission_denied")
        for bad in ({"standard": -1}, {"nope": 1}, {"standard": "1"}, [1], {"api": 1.5}):
            h.assert_problem(self.root.patch(self.tp, json={"seat_limits": bad}), 400,
                             "request.invalid_field", field="seat_limits")
        self.assertEqual(h.expect(self.root.get(self.tp), 200).json["seat_limits"]["standard"], None)

    def test_reports(self):
        fresh = h.make_user(self.root, self.t, "new")
        rep = self.report(inactive_days=30)
        self.assertEqual(rep["inactive_days"], 30)
        # users created within the window aren't "unused" yet
        self.assertNotIn(fresh["id"], [u["id"] for u in rep["unused"]["items"]])
        # make one seat holder old and idle, behind the server's back
        old_ms = 1700000000000
        h.db_exec(S, "UPDATE users SET created_at = ? WHERE id = ?", (old_ms, fresh["id"]))
        rep = self.report(inactive_days=30)
        self.assertIn(fresh["id"], [u["id"] for u in rep["unused"]["items"]])
        # API use counts as activity
        tok = h.token_for(self.root, self.t, fresh["id"])
        h.expect(S.client(tok).get(h.API + "/me"), 200)
        rep = self.report(inactive_days=30)
        self.assertNotIn(fresh["id"], [u["id"] for u in rep["unused"]["items"]])
        self.assertEqual(h.expect(self.root.get(h.tpath(self.t, "users", fresh["id"])), 200)
                         .json["last_activity_at"] is not None, True)
        for bad in ("0", "x", "4000"):
            h.assert_problem(self.root.get(h.tpath(self.t, "seats"), params={"inactive_days": bad}),
                             400, "request.invalid_parameter", field="inactive_days")
        _, plain = h.actor(S, self.t, "User")
        h.assert_problem(plain.get(h.tpath(self.t, "seats")), 403, "auth.permission_denied")
        other = h.new_tenant(self.root)
        _, foreign = h.actor(S, other, "Administrator")
        h.assert_problem(foreign.get(h.tpath(self.t, "seats")), 404, "tenant.not_found")


if __name__ == "__main__":
    h.main()
