#!/usr/bin/env python3
"""Owned resources and their transfer: the registry (register, duplicates, owner validation,
tenant isolation), and deactivation / deletion of an owner — refused with 409 listing what it
owns when there is no target, moved to the named target or the tenant default otherwise, each
move audited and announced by a signed webhook; job apps only to an API user (seed 001)."""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
from test_outbox import Receiver, wait_for  # noqa: E402

S = None


def setUpModule():
    global S
    S = h.Server(extra_env={"ROSTER_JOB_POLL_MS": "50", "ROSTER_DELIVERY_BACKOFF_MS": "300"}).start()


def tearDownModule():
    if S is not None:
        S.stop()


class OwnershipTest(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user, self.admin = h.actor(S, self.t, "Administrator")

    def user(self, type=None):
        fields = {"type": type} if type else {}
        return h.make_user(self.root, self.t, "own-" + h.uid(), system_role="User", **fields)

    def register(self, owner, kind="playbook", ext=None, name=None, client=None):
        body = {"kind": kind, "external_id": ext or ("x-" + h.uid()), "name": name or "Thing",
                "owner_id": owner["id"]}
        return h.expect((client or self.admin).post(h.tpath(self.t, "resources"), json=body), 201).json

    def owned(self, u):
        return self.admin.list_all(h.tpath(self.t, "resources"), params={"owner_id": u["id"]})

    def status(self, u):
        return h.expect(self.admin.get(h.tpath(self.t, "users", u["id"])), 200).json["status"]

    def deactivate(self, u, **extra):
        body = {"reason": "left the company"}
        body.update(extra)
        return self.admin.post(h.tpath(self.t, "users", u["id"], "deactivate"), json=body)

    # -- the registry

    def test_register_read_update_delete(self):
        u, v = self.user(), self.user()
        r = self.register(u, kind="dashboard", ext="d-1", name="SOC board")
        self.assertEqual((r["kind"], r["external_id"], r["name"], r["owner_id"]),
                         ("dashboard", "d-1", "SOC board", u["id"]))
        p = h.tpath(self.t, "resources", r["id"])
        self.assertEqual(h.expect(self.admin.get(p), 200).json, r)
        # duplicates (same kind and external id) are refused; another kind is another thing
        h.assert_problem(self.admin.post(h.tpath(self.t, "resources"), json={
            "kind": "dashboard", "external_id": "d-1", "name": "again", "owner_id": v["id"]}),
            409, "resource.exists")
        self.register(v, kind="playbook", ext="d-1")
        # listing by owner and by kind, paged
        for i in range(3):
            self.register(u, kind="investigation", ext="i-%d" % i)
        self.assertEqual(len(self.owned(u)), 4)
        page = h.expect(self.admin.get(h.tpath(self.t, "resources"),
                                       params={"owner_id": u["id"], "limit": 2}), 200).json
        self.assertEqual(len(page["items"]), 2)
        self.assertTrue(page["next_cursor"])
        kinds = self.admin.list_all(h.tpath(self.t, "resources"), params={"kind": "investigation"})
        self.assertEqual({x["external_id"] for x in kinds}, {"i-0", "i-1", "i-2"})
        # PATCH name and owner
        r2 = h.expect(self.admin.patch(p, json={"name": "NOC board", "owner_id": v["id"]}), 200).json
        self.assertEqual((r2["name"], r2["owner_id"]), ("NOC board", v["id"]))
        h.expect(self.admin.delete(p), 204)
        h.assert_problem(self.admin.get(p), 404, "resource.not_found")
        actions = [e["action"] for e in h.audit_events(self.root, self.t, target=r["id"])]
        self.assertEqual(actions, ["resource.delete", "resource.update", "resource.register"])
        upd = h.audit_events(self.root, self.t, target=r["id"], action="resource.update")[0]
        self.assertEqual(upd["changes"]["owner_id"], {"before": u["id"], "after": v["id"]})

    def test_validation(self):
        u = self.user()
        post = lambda body: self.admin.post(h.tpath(self.t, "resources"), json=body)  # noqa: E731
        base = {"kind": "playbook", "external_id": "p-1", "name": "P", "owner_id": u["id"]}
        for kind in ("", "Playbook", "a b", "x" * 65):
            h.assert_problem(post(dict(base, kind=kind)), 400, "request.invalid_field", "kind")
        h.assert_problem(post(dict(base, owner_id=h.uuid7())), 400, "request.invalid_field",
                         "owner_id")
        h.assert_problem(post(dict(base, owner_id="nope")), 400, "request.invalid_field", "owner_id")
        gone = self.user()
        h.delete_user(self.admin, self.t, gone["id"])
        h.assert_problem(post(dict(base, owner_id=gone["id"])), 400, "request.invalid_field",
                         "owner_id")
        r = self.register(u)
        h.assert_problem(self.admin.patch(h.tpath(self.t, "resources", r["id"]),
                                          json={"owner_id": h.uuid7()}),
                         400, "request.invalid_field", "owner_id")
        # permissions: users.read reads, users.update writes
        _, reader = h.actor(S, self.t, "Read Only User")
        h.expect(reader.get(h.tpath(self.t, "resources")), 200)
        h.assert_problem(reader.post(h.tpath(self.t, "resources"), json=base), 403,
                         "auth.permission_denied")

    def test_tenant_isolation(self):
        u = self.user()
        r = self.register(u)
        other = h.new_tenant(self.root)
        _, foreign = h.actor(S, other, "Administrator")
        ou = h.make_user(self.root, other, "o-" + h.uid())
        h.assert_problem(foreign.get(h.tpath(self.t, "resources", r["id"])), 404,
                         {"tenant.not_found", "resource.not_found"})
        h.assert_problem(foreign.get(h.tpath(other, "resources", r["id"])), 404,
                         "resource.not_found")
        h.assert_problem(foreign.delete(h.tpath(other, "resources", r["id"])), 404,
                         "resource.not_found")
        # an owner of another tenant is no owner here
        h.assert_problem(self.admin.post(h.tpath(self.t, "resources"), json={
            "kind": "playbook", "external_id": "p", "name": "P", "owner_id": ou["id"]}),
            400, "request.invalid_field", "owner_id")

    # -- transfer

    def test_no_target_no_default_refused_and_nothing_changes(self):
        u = self.user()
        a = self.register(u, kind="playbook", ext="pb-1")
        b = self.register(u, kind="dashboard", ext="db-9")
        for resp in (self.deactivate(u), self.admin.delete(h.tpath(self.t, "users", u["id"]))):
            j = h.assert_problem(resp, 409, "user.owns_resources")
            self.assertIn("playbook/pb-1", j["detail"])
            self.assertIn("dashboard/db-9", j["detail"])
        self.assertEqual(self.status(u), "active")
        self.assertEqual({x["id"] for x in self.owned(u)}, {a["id"], b["id"]})
        self.assertEqual(h.audit_events(self.root, self.t, action="resource.transfer"), [])
        # a user who owns nothing needs no target
        free = self.user()
        h.expect(self.deactivate(free), 200)

    def test_transfer_on_deactivation_audited_and_announced(self):
        recv = Receiver()
        self.addCleanup(recv.close)
        hook = h.expect(self.root.post(h.tpath(self.t, "webhooks"), json={
            "url": recv.url, "events": ["resource.*"]}), 201).json
        recv.secret = hook["secret"]
        u, to = self.user(), self.user()
        res = [self.register(u, kind=k) for k in ("playbook", "investigation", "data_collection")]
        r = h.expect(self.deactivate(u, transfer_to=to["id"]), 200)
        self.assertEqual(r.json["status"], "deactivated")
        self.assertEqual(self.owned(u), [])
        self.assertEqual({x["id"] for x in self.owned(to)}, {x["id"] for x in res})
        for x in res:
            ev = h.audit_events(self.root, self.t, target=x["id"], action="resource.transfer")
            self.assertEqual(len(ev), 1)
            self.assertEqual(ev[0]["changes"]["owner_id"], {"before": u["id"], "after": to["id"]})
            self.assertEqual(ev[0]["actor"]["id"], self.admin_user["id"])
        wait_for(lambda: recv.count() >= 3, 30, "3 webhook calls")
        time.sleep(0.3)
        with recv.lock:
            calls = list(recv.calls)
        self.assertEqual(len(calls), 3)
        self.assertTrue(all(c["verified"] for c in calls))
        self.assertEqual({c["headers"].get("Roster-Event-Type") for c in calls},
                         {"resource.transferred"})
        bodies = [json.loads(c["body"]) for c in calls]
        self.assertEqual({json.dumps(b).count(to["id"]) > 0 for b in bodies}, {True})
        got = set()
        for b in bodies:
            data = b.get("data", b)
            self.assertEqual(data["from"]["id"], u["id"])
            self.assertEqual(data["to"]["id"], to["id"])
            self.assertEqual(data["reason"], "deactivation")
            got.add(data["resource"]["id"])
        self.assertEqual(got, {x["id"] for x in res})

    def test_transfer_on_deletion(self):
        u, to = self.user(), self.user()
        a = self.register(u)
        h.delete_user(self.admin, self.t, u["id"], transfer_to=to["id"])
        h.assert_problem(self.admin.get(h.tpath(self.t, "users", u["id"])), 404, "user.not_found")
        self.assertEqual(h.expect(self.admin.get(h.tpath(self.t, "resources", a["id"])), 200)
                         .json["owner_id"], to["id"])
        ev = h.audit_events(self.root, self.t, target=a["id"], action="resource.transfer")
        self.assertEqual(ev[0]["changes"]["owner_id"], {"before": u["id"], "after": to["id"]})

    def test_tenant_default_target(self):
        d = self.user()
        tp = h.tpath(self.t)
        t = h.expect(self.root.patch(tp, json={"default_transfer_user_id": d["id"]}), 200).json
        self.assertEqual(t["default_transfer_user_id"], d["id"])
        self.assertEqual(h.expect(self.root.get(tp), 200).json["default_transfer_user_id"], d["id"])
        h.assert_problem(self.root.patch(tp, json={"default_transfer_user_id": h.uuid7()}), 400,
                         "request.invalid_field", "default_transfer_user_id")
        u, w = self.user(), self.user()
        a, b = self.register(u), self.register(w)
        h.expect(self.deactivate(u), 200)
        h.delete_user(self.admin, self.t, w["id"])
        self.assertEqual({x["id"] for x in self.owned(d)}, {a["id"], b["id"]})
        # a named target wins over the default
        x, y = self.user(), self.user()
        c = self.register(x)
        h.expect(self.deactivate(x, transfer_to=y["id"]), 200)
        self.assertEqual([r["id"] for r in self.owned(y)], [c["id"]])
        # the default can't receive once it is no longer active: 409, nothing changes
        h.expect(self.deactivate(d, transfer_to=y["id"]), 200)
        z = self.user()
        e = self.register(z)
        h.assert_problem(self.deactivate(z), 409, "transfer.default_unusable")
        self.assertEqual(self.status(z), "active")
        self.assertEqual([r["id"] for r in self.owned(z)], [e["id"]])
        t = h.expect(self.root.patch(tp, json={"default_transfer_user_id": None}), 200).json
        self.assertIsNone(t["default_transfer_user_id"])
        h.assert_problem(self.deactivate(z), 409, "user.owns_resources")

    def test_job_apps_only_to_an_api_user(self):
        u, person, bot = self.user(), self.user(), self.user(type="api")
        j = self.register(u, kind="job_app")
        p = self.register(u, kind="playbook")
        h.assert_problem(self.deactivate(u, transfer_to=person["id"]), 409,
                         "transfer.job_app_needs_api_user")
        h.assert_problem(self.admin.delete(h.tpath(self.t, "users", u["id"]),
                                           params={"transfer_to": person["id"]}),
                         409, "transfer.job_app_needs_api_user")
        self.assertEqual(self.status(u), "active")
        self.assertEqual({x["id"] for x in self.owned(u)}, {j["id"], p["id"]})
        h.expect(self.deactivate(u, transfer_to=bot["id"]), 200)
        self.assertEqual({x["id"] for x in self.owned(bot)}, {j["id"], p["id"]})

    def test_target_validation(self):
        u = self.user()
        a = self.register(u)
        other = h.new_tenant(self.root)
        ou = h.make_user(self.root, other, "o-" + h.uid())
        off = self.user()
        h.expect(self.deactivate(off), 200)
        suspended = self.user()
        h.expect(self.admin.post(h.tpath(self.t, "users", suspended["id"], "suspend"),
                                 json={"reason": "r"}), 200)
        for bad in (u["id"], ou["id"], off["id"], suspended["id"], h.uuid7(), "garbage"):
            h.assert_problem(self.deactivate(u, transfer_to=bad), 400, "request.invalid_field",
                             "transfer_to")
            h.assert_problem(self.admin.delete(h.tpath(self.t, "users", u["id"]),
                                               params={"transfer_to": bad}),
                             400, "request.invalid_field", "transfer_to")
        self.assertEqual(self.status(u), "active")
        self.assertEqual([x["id"] for x in self.owned(u)], [a["id"]])
        # only a deactivation takes a target
        h.assert_problem(self.admin.post(h.tpath(self.t, "users", u["id"], "suspend"),
                                         json={"reason": "r", "transfer_to": off["id"]}),
                         400, "request.invalid_field", "transfer_to")

    def test_rank_rule_still_applies(self):
        boss = h.make_user(self.root, self.t, "boss-" + h.uid(), system_role="Administrator")
        to = self.user()
        self.register(boss)
        _, ops = h.actor(S, self.t, "Operations Administrator")
        h.assert_problem(ops.post(h.tpath(self.t, "users", boss["id"], "deactivate"),
                                  json={"reason": "r", "transfer_to": to["id"]}),
                         403, "rank.outranked")
        self.assertEqual(self.status(boss), "active")


if __name__ == "__main__":
    h.main()
