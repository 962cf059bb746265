#!/usr/bin/env python3
"""SCIM 2.0 /Bulk (RFC 7644 section 3.7): the RFC's examples (bulkId references, the circular
reference of section 3.7.1, failOnErrors of section 3.7.3), the advertised limits enforced
(section 3.7.4), per-operation versions, seats, permissions and unresolvable references, every
malformed request and operation, and the state afterwards through SCIM and REST (a failed
operation changed nothing)."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import test_scim as ts  # noqa: E402

BASE = ts.BASE
CT = ts.CT
ERR = ts.ERR
USER = ts.USER
ENT = ts.ENT
GROUP = ts.GROUP
PATCHOP = ts.PATCHOP
BULK_REQ = "urn:ietf:params:scim:api:messages:2.0:BulkRequest"
BULK_RESP = "urn:ietf:params:scim:api:messages:2.0:BulkResponse"
MAX_OPS = 1000
MAX_PAYLOAD = 1048576


def setUpModule():
    ts.S = h.Server().start()


def tearDownModule():
    if ts.S is not None:
        ts.S.stop()


def user_data(name, **extra):
    d = {"schemas": [USER], "userName": name,
         "name": {"givenName": "Given", "familyName": "Family"},
         "emails": [{"value": name + "@example.com", "type": "work", "primary": True}]}
    d.update(extra)
    return d


class BulkBase(ts.ScimBase):
    def bulk(self, ops, client=None, status=200, **extra):
        body = {"schemas": [BULK_REQ], "Operations": ops}
        body.update(extra)
        r = (client or self.c).post(BASE + "/Bulk", json=body, content_type=CT)
        self.assertEqual(r.status, status, r.describe())
        if status == 200:
            self.assertEqual(r.content_type, CT)
            self.assertEqual(r.json["schemas"], [BULK_RESP])
        return r

    def ops(self, r):
        return r.json["Operations"]

    def op_error(self, op, status, scim_type=None):
        """One failed operation: status as a string, the SCIM error body as "response"."""
        self.assertEqual(op["status"], str(status), op)
        e = op["response"]
        self.assertEqual(e["schemas"], [ERR], op)
        self.assertEqual(e["status"], str(status), op)
        self.assertIsInstance(e["detail"], str)
        if scim_type is None:
            self.assertNotIn("scimType", e, op)
        else:
            self.assertEqual(e.get("scimType"), scim_type, op)
        return e

    def find_users(self, name):
        r = h.expect(self.c.get(BASE + "/Users",
                                params={"filter": 'userName eq "%s"' % name}), 200)
        return r.json["Resources"]

    def find_groups(self, name):
        r = h.expect(self.c.get(BASE + "/Groups",
                                params={"filter": 'displayName eq "%s"' % name}), 200)
        return r.json["Resources"]

    def id_of(self, op):
        self.assertTrue(op["location"].startswith(BASE + "/"), op)
        return op["location"].rsplit("/", 1)[1]


class DiscoveryTest(BulkBase):
    def test_advertised(self):
        j = h.expect(self.c.get(BASE + "/ServiceProviderConfig"), 200).json
        self.assertEqual(j["bulk"], {"supported": True, "maxOperations": MAX_OPS,
                                     "maxPayloadSize": MAX_PAYLOAD})


class RfcExamplesTest(BulkBase):
    def test_user_and_group_with_member_reference(self):
        """Section 3.7.2: a user POSTed with bulkId "qwerty", a group whose member is
        "bulkId:qwerty". The group comes first here: the service provider reorders."""
        uname, gname = "alice-" + h.uid(), "Tour Guides " + h.uid()
        r = self.bulk([
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"schemas": [GROUP], "displayName": gname,
                      "members": [{"type": "User", "value": "bulkId:qwerty"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "qwerty",
             "data": user_data(uname)},
        ])
        ops = self.ops(r)
        self.assertEqual([o["bulkId"] for o in ops], ["qwerty", "ytrewq"])
        for o in ops:
            self.assertEqual(o["method"], "POST")
            self.assertEqual(o["status"], "201", o)
            self.assertRegex(o["version"], r'^W/"\d+"$')
            self.assertNotIn("response", o)
        uid, gid = self.id_of(ops[0]), self.id_of(ops[1])
        self.assertEqual(ops[0]["location"], BASE + "/Users/" + uid)
        self.assertEqual(ops[1]["location"], BASE + "/Groups/" + gid)
        u = h.expect(self.get_user(uid), 200).json
        self.assertEqual(u["userName"], uname)
        self.assertEqual(u["meta"]["version"], ops[0]["version"])
        g = h.expect(self.c.get(BASE + "/Groups/" + gid), 200).json
        self.assertEqual([m["value"] for m in g["members"]], [uid])
        # The core's view: each operation its own audited change, the token as actor.
        members = h.expect(self.root.get(h.tpath(self.t, "groups", gid, "members")), 200).json
        self.assertEqual([m["id"] for m in members["items"]], [uid])
        for target in (uid, gid):
            ev = h.audit_events(self.root, self.t, target=target)
            self.assertTrue(ev)
            for e in ev:
                self.assertEqual(e["actor"]["id"], self.prov_user["id"], e)

    def test_circular_reference(self):
        """Section 3.7.1: two groups, each a member of the other (which roster's groups of
        users could not hold anyway: docs/scim.md says why cycles are refused rather than
        resolved). Both operations fail with 409 and nothing is created; an independent
        operation of the same request still runs."""
        a, b, c = ("Group A " + h.uid(), "Group B " + h.uid(), "Group C " + h.uid())
        r = self.bulk([
            {"method": "POST", "path": "/Groups", "bulkId": "qwerty",
             "data": {"schemas": [GROUP], "displayName": a,
                      "members": [{"type": "Group", "value": "bulkId:ytrewq"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "ytrewq",
             "data": {"schemas": [GROUP], "displayName": b,
                      "members": [{"type": "Group", "value": "bulkId:qwerty"}]}},
            {"method": "POST", "path": "/Groups", "bulkId": "zzz",
             "data": {"schemas": [GROUP], "displayName": c}},
        ])
        ops = self.ops(r)
        self.assertEqual([o["bulkId"] for o in ops], ["zzz", "qwerty", "ytrewq"])
        self.assertEqual(ops[0]["status"], "201")
        for o in ops[1:]:
            e = self.op_error(o, 409, "invalidValue")
            self.assertIn("circular", e["detail"])
            self.assertNotIn("location", o)
        self.assertEqual(self.find_groups(a), [])
        self.assertEqual(self.find_groups(b), [])
        self.assertEqual(len(self.find_groups(c)), 1)

    def test_self_reference(self):
        name = "self-" + h.uid()
        r = self.bulk([{"method": "POST", "path": "/Users", "bulkId": "me",
                        "data": user_data(name, **{ENT: {"manager": {"value": "bulkId:me"}}})}])
        self.op_error(self.ops(r)[0], 409, "invalidValue")
        self.assertEqual(self.find_users(name), [])

    def test_fail_on_errors(self):
        """Section 3.7.3: failOnErrors 1 and the first operation fails: the rest is neither
        performed nor reported, and the answer is still 200."""
        n1, n2 = "ok-" + h.uid(), "ok-" + h.uid()
        ops = [
            {"method": "POST", "path": "/Users", "bulkId": "qwerty",
             "data": {"schemas": [USER], "userName": ""}},
            {"method": "POST", "path": "/Users", "bulkId": "ytrewq", "data": user_data(n1)},
            {"method": "POST", "path": "/Users", "bulkId": "zxcvbn", "data": user_data(n2)},
        ]
        r = self.bulk(ops, failOnErrors=1)
        self.assertEqual(len(self.ops(r)), 1)
        o = self.ops(r)[0]
        self.assertEqual((o["method"], o["bulkId"]), ("POST", "qwerty"))
        self.op_error(o, 400, "invalidValue")
        self.assertEqual(self.find_users(n1), [])
        self.assertEqual(self.find_users(n2), [])
        # failOnErrors 2: the second error stops it; without it, everything is attempted.
        n3 = "ok-" + h.uid()
        ops2 = [
            {"method": "POST", "path": "/Users", "bulkId": "a", "data": {"userName": ""}},
            {"method": "POST", "path": "/Users", "bulkId": "b", "data": user_data(n1)},
            {"method": "DELETE", "path": "/Users/" + h.uuid7()},
            {"method": "POST", "path": "/Users", "bulkId": "c", "data": user_data(n3)},
        ]
        r = self.bulk(ops2, failOnErrors=2)
        self.assertEqual([o["status"] for o in self.ops(r)], ["400", "201", "404"])
        self.assertEqual(len(self.find_users(n1)), 1)
        self.assertEqual(self.find_users(n3), [])
        ops3 = [dict(o) for o in ops2]
        ops3[1]["data"] = user_data("ok-" + h.uid())
        r = self.bulk(ops3)
        self.assertEqual([o["status"] for o in self.ops(r)], ["400", "201", "404", "201"])
        self.assertEqual(len(self.find_users(n3)), 1)


class OperationsTest(BulkBase):
    def test_put_patch_delete_with_references(self):
        """A bulkId in a path ("/Users/bulkId:x") and in data (the enterprise manager)."""
        boss, emp = "boss-" + h.uid(), "emp-" + h.uid()
        r = self.bulk([
            {"method": "PATCH", "path": "/Users/bulkId:emp", "data": {
                "schemas": [PATCHOP],
                "Operations": [{"op": "replace", "path": "title", "value": "Engineer"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "emp",
             "data": user_data(emp, **{ENT: {"manager": {"value": "bulkId:boss"}}})},
            {"method": "POST", "path": "/Users", "bulkId": "boss", "data": user_data(boss)},
        ])
        ops = self.ops(r)
        self.assertEqual([(o["method"], o["status"]) for o in ops],
                         [("POST", "201"), ("POST", "201"), ("PATCH", "200")])
        self.assertEqual([o.get("bulkId") for o in ops], ["boss", "emp", None])
        boss_id, emp_id = self.id_of(ops[0]), self.id_of(ops[1])
        self.assertEqual(ops[2]["location"], BASE + "/Users/" + emp_id)
        u = h.expect(self.get_user(emp_id), 200).json
        self.assertEqual(u["title"], "Engineer")
        self.assertEqual(u[ENT]["manager"]["value"], boss_id)
        self.assertEqual(u["meta"]["version"], ops[2]["version"])
        # PUT with the current version, then DELETE of both.
        r = self.bulk([
            {"method": "PUT", "path": "/Users/" + emp_id, "version": ops[2]["version"],
             "data": user_data(emp, displayName="Emp")},
            {"method": "DELETE", "path": "/Users/" + boss_id},
        ])
        self.assertEqual([o["status"] for o in self.ops(r)], ["200", "204"])
        self.assertNotIn("version", self.ops(r)[1])
        self.assertEqual(self.ops(r)[1]["location"], BASE + "/Users/" + boss_id)
        ts.scim_error(self, self.get_user(boss_id), 404)
        self.assertEqual(h.expect(self.get_user(emp_id), 200).json["displayName"], "Emp")

    def test_groups(self):
        u = ts.new_user(self.c, "m-" + h.uid())
        gname = "G " + h.uid()
        r = self.bulk([
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": {
                "schemas": [GROUP], "displayName": gname, "members": [{"value": u["id"]}]}},
            {"method": "PATCH", "path": "/Groups/bulkId:g", "data": {
                "schemas": [PATCHOP], "Operations": [
                    {"op": "replace", "path": "displayName", "value": gname + " 2"}]}},
        ])
        # A group PATCH answers 204, in a bulk too (RFC 7644 3.5.2).
        self.assertEqual([o["status"] for o in self.ops(r)], ["201", "204"])
        gid = self.id_of(self.ops(r)[0])
        g = h.expect(self.c.get(BASE + "/Groups/" + gid), 200).json
        self.assertEqual(g["displayName"], gname + " 2")
        self.assertEqual([m["value"] for m in g["members"]], [u["id"]])
        r = self.bulk([
            {"method": "PUT", "path": "/Groups/" + gid,
             "data": {"schemas": [GROUP], "displayName": gname, "members": []}},
            {"method": "DELETE", "path": "/Groups/" + gid},
        ])
        self.assertEqual([o["status"] for o in self.ops(r)], ["200", "204"])
        ts.scim_error(self, self.c.get(BASE + "/Groups/" + gid), 404)

    def test_version_mismatch(self):
        """version is the operation's If-Match: stale is 412 and nothing changes."""
        u = ts.new_user(self.c, "v-" + h.uid())
        old = u["meta"]["version"]
        h.expect(self.c.patch(BASE + "/Users/" + u["id"], json={
            "schemas": [PATCHOP], "Operations": [{"op": "replace", "path": "title", "value": "A"}]},
            content_type=CT), 200)
        r = self.bulk([
            {"method": "PATCH", "path": "/Users/" + u["id"], "version": old, "data": {
                "schemas": [PATCHOP], "Operations": [{"op": "replace", "path": "title", "value": "B"}]}},
            {"method": "PUT", "path": "/Users/" + u["id"], "version": old,
             "data": user_data(u["userName"], title="C")},
            {"method": "DELETE", "path": "/Users/" + u["id"], "version": old},
            {"method": "DELETE", "path": "/Users/" + u["id"], "version": "garbage"},
        ])
        ops = self.ops(r)
        for o in ops[:3]:
            self.op_error(o, 412)
            self.assertEqual(o["location"], BASE + "/Users/" + u["id"])
        self.op_error(ops[3], 400, "invalidValue")
        cur = h.expect(self.get_user(u["id"]), 200).json
        self.assertEqual(cur["title"], "A")

    def test_seat_limit(self):
        """Seats apply per operation: the POSTs past the limit fail with the single POST's
        error, the ones before it are created."""
        used = [x for x in h.expect(self.root.get(h.tpath(self.t, "seats")), 200).json["types"]
                if x["type"] == "standard"][0]["used"]
        h.expect(self.root.patch(h.tpath(self.t), json={"seat_limits": {"standard": used + 2}}), 200)
        names = ["seat-%d-%s" % (i, h.uid()) for i in range(4)]
        r = self.bulk([{"method": "POST", "path": "/Users", "bulkId": "b%d" % i,
                        "data": user_data(n)} for i, n in enumerate(names)])
        ops = self.ops(r)
        self.assertEqual([o["status"] for o in ops], ["201", "201", "409", "409"])
        single = self.c.post(BASE + "/Users", json=user_data("seat-x-" + h.uid()), content_type=CT)
        want = ts.scim_error(self, single, 409)
        for o in ops[2:]:
            self.assertEqual(o["response"], want)
            self.assertNotIn("location", o)
        self.assertEqual([len(self.find_users(n)) for n in names], [1, 1, 0, 0])

    def test_permissions_per_operation(self):
        """A token with scim.provision but without users.create: each operation is decided
        as the single request would be."""
        h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "Group Syncer", "scope": "system", "rank": 640,
            "permissions": ["users.read", "groups.read", "groups.manage", "scim.provision"]}), 201)
        gu = h.make_user(self.root, self.t, "gs-" + h.uid(), system_role="Group Syncer")
        gc = ts.S.client(h.token_for(self.root, self.t, gu["id"]))
        uname, gname = "nope-" + h.uid(), "Syncers " + h.uid()
        r = self.bulk([
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": user_data(uname)},
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"schemas": [GROUP], "displayName": gname}},
            {"method": "POST", "path": "/Groups", "bulkId": "g2",
             "data": {"schemas": [GROUP], "displayName": gname + " 2",
                      "members": [{"value": "bulkId:u"}]}},
        ], client=gc)
        ops = self.ops(r)
        single = gc.post(BASE + "/Users", json=user_data(uname), content_type=CT)
        want = ts.scim_error(self, single, 403)
        self.assertEqual(ops[0]["response"], want)
        self.assertEqual(ops[1]["status"], "201")
        e = self.op_error(ops[2], 409, "invalidValue")
        self.assertIn("'u'", e["detail"])
        self.assertEqual(self.find_users(uname), [])
        self.assertEqual(len(self.find_groups(gname)), 1)
        self.assertEqual(self.find_groups(gname + " 2"), [])
        # The rank rule too: the provisioner (650) cannot delete an Administrator.
        boss = h.make_user(self.root, self.t, "boss-" + h.uid(), system_role="Administrator")
        r = self.bulk([{"method": "DELETE", "path": "/Users/" + boss["id"]}])
        self.op_error(self.ops(r)[0], 403)
        h.expect(self.root.get(h.tpath(self.t, "users", boss["id"])), 200)

    def test_unresolvable_references(self):
        gname = "Unres " + h.uid()
        r = self.bulk([
            {"method": "POST", "path": "/Groups", "bulkId": "g",
             "data": {"schemas": [GROUP], "displayName": gname,
                      "members": [{"value": "bulkId:nobody"}]}},
            {"method": "PATCH", "path": "/Users/bulkId:nobody", "data": {
                "schemas": [PATCHOP], "Operations": [{"op": "replace", "path": "title", "value": "x"}]}},
            {"method": "POST", "path": "/Users", "bulkId": "bad", "data": {"userName": ""}},
            {"method": "DELETE", "path": "/Users/bulkId:bad"},
            {"method": "POST", "path": "/Groups", "bulkId": "g2",
             "data": {"schemas": [GROUP], "displayName": gname + " 2",
                      "members": [{"value": "bulkId:bad"}]}},
        ])
        ops = self.ops(r)
        self.assertEqual([o.get("bulkId") for o in ops], ["g", None, "bad", None, "g2"])
        e = self.op_error(ops[0], 409, "invalidValue")
        self.assertIn("'nobody'", e["detail"])
        self.op_error(ops[1], 409, "invalidValue")
        self.assertEqual(ops[1]["location"], BASE + "/Users/bulkId:nobody")
        self.op_error(ops[2], 400, "invalidValue")
        for o in (ops[3], ops[4]):
            e = self.op_error(o, 409, "invalidValue")
            self.assertIn("'bad'", e["detail"])
        self.assertEqual(self.find_groups(gname), [])
        self.assertEqual(self.find_groups(gname + " 2"), [])


class LimitsTest(BulkBase):
    def test_too_many_operations(self):
        ops = [{"method": "DELETE", "path": "/Users/" + h.uuid7()} for _ in range(MAX_OPS + 1)]
        r = self.bulk(ops, status=413)
        e = ts.scim_error(self, r, 413)
        self.assertIn(str(MAX_OPS), e["detail"])

    def test_max_operations_accepted(self):
        ops = [{"method": "DELETE", "path": "/Groups/not-a-group-%d" % i} for i in range(MAX_OPS)]
        r = self.bulk(ops)
        self.assertEqual(len(self.ops(r)), MAX_OPS)
        self.assertEqual({o["status"] for o in self.ops(r)}, {"404"})

    def test_payload_too_large(self):
        name = "big-" + h.uid()
        body = {"schemas": [BULK_REQ], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": user_data(name)}],
            "pad": "x" * MAX_PAYLOAD}
        r = self.c.post(BASE + "/Bulk", json=body, content_type=CT)
        e = ts.scim_error(self, r, 413)
        self.assertIn(str(MAX_PAYLOAD), e["detail"])
        self.assertEqual(self.find_users(name), [])
        # Just under the limit is read (and refused for what it is, not for its size).
        raw = '{"schemas":["%s"],"Operations":[],"pad":"' % BULK_REQ
        raw += "x" * (MAX_PAYLOAD - len(raw) - 2) + '"}'
        self.assertEqual(len(raw), MAX_PAYLOAD)
        r = self.c.post(BASE + "/Bulk", raw_body=raw, content_type=CT)
        h.expect(r, 200)
        self.assertEqual(r.json["Operations"], [])
        # A 413 needs a valid token first.
        r = self.c.post(BASE + "/Bulk", json=body, content_type=CT, auth=False)
        ts.scim_error(self, r, 401)


class MalformedTest(BulkBase):
    def test_request_errors(self):
        def req(raw, status, scim_type=None, ct=CT, client=None):
            r = (client or self.c).post(BASE + "/Bulk", raw_body=raw, content_type=ct)
            return ts.scim_error(self, r, status, scim_type)

        import json as _j
        req("[]", 400, "invalidSyntax")
        req("{", 400, "invalidSyntax")
        req("", 400, "invalidSyntax")
        req(_j.dumps({"Operations": []}), 400, "invalidSyntax")
        req(_j.dumps({"schemas": [USER], "Operations": []}), 400, "invalidSyntax")
        req(_j.dumps({"schemas": [BULK_REQ]}), 400, "invalidSyntax")
        req(_j.dumps({"schemas": [BULK_REQ], "Operations": {}}), 400, "invalidSyntax")
        for bad in (0, -1, "1", 1.5, True):
            req(_j.dumps({"schemas": [BULK_REQ], "Operations": [], "failOnErrors": bad}),
                400, "invalidValue")
        e = req(_j.dumps({"schemas": [BULK_REQ], "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "x", "data": user_data("d1-" + h.uid())},
            {"method": "POST", "path": "/Groups", "bulkId": "x", "data": {"displayName": "d"}},
        ]}), 400, "invalidValue")
        self.assertIn("'x'", e["detail"])
        req(_j.dumps({"schemas": [BULK_REQ], "Operations": [
            {"method": "DELETE", "path": "/Users/" + h.uuid7(), "bulkId": "y"},
            {"method": "POST", "path": "/Users", "bulkId": "y", "data": user_data("d2-" + h.uid())},
        ]}), 400, "invalidValue")
        r = self.c.post(BASE + "/Bulk", raw_body="{}", content_type="text/plain")
        ts.scim_error(self, r, 415)
        r = self.c.post(BASE + "/Bulk", json={"schemas": [BULK_REQ], "Operations": []}, auth=False)
        ts.scim_error(self, r, 401)
        _, user = h.actor(ts.S, self.t, "User")
        req(_j.dumps({"schemas": [BULK_REQ], "Operations": []}), 403, client=user)
        r = self.c.get(BASE + "/Bulk")
        self.assertEqual(r.status, 405)

    def test_operation_errors(self):
        """A malformed operation fails alone (400), the others run."""
        uid = h.uuid7()
        cases = [
            ("not an object", "invalidSyntax"),
            ({"path": "/Users", "bulkId": "a", "data": {}}, "invalidValue"),
            ({"method": "GET", "path": "/Users"}, "invalidValue"),
            ({"method": 7, "path": "/Users"}, "invalidValue"),
            ({"method": "POST", "path": "/Users", "data": user_data("nb-" + h.uid())}, "invalidValue"),
            ({"method": "POST", "path": "/Users", "bulkId": 5, "data": {}}, "invalidSyntax"),
            ({"method": "POST", "path": "/Users", "bulkId": "", "data": {}}, "invalidSyntax"),
            ({"method": "POST", "bulkId": "b", "data": {}}, "invalidValue"),
            ({"method": "POST", "path": 3, "bulkId": "c", "data": {}}, "invalidSyntax"),
            ({"method": "POST", "path": "/Things", "bulkId": "d", "data": {}}, "invalidValue"),
            ({"method": "POST", "path": "/Users/" + uid, "bulkId": "e", "data": {}}, "invalidValue"),
            ({"method": "PUT", "path": "/Users", "data": {}}, "invalidValue"),
            ({"method": "DELETE", "path": "/Groups/"}, "invalidValue"),
            ({"method": "PATCH", "path": "/Users/a/b", "data": {}}, "invalidValue"),
            ({"method": "POST", "path": "/Users", "bulkId": "f"}, "invalidValue"),
            ({"method": "PUT", "path": "/Users/" + uid, "data": []}, "invalidSyntax"),
            ({"method": "PATCH", "path": "/Users/" + uid, "version": 3, "data": {}}, "invalidSyntax"),
        ]
        good = "good-" + h.uid()
        ops = [c for c, _ in cases] + [
            {"method": "post", "path": "/Users", "bulkId": "ok", "data": user_data(good)}]
        r = self.bulk(ops)
        out = self.ops(r)
        self.assertEqual(len(out), len(cases) + 1)
        for (case, scim_type), o in zip(cases, out):
            with self.subTest(case=case):
                self.op_error(o, 400, scim_type)
        self.assertEqual((out[-1]["method"], out[-1]["status"]), ("POST", "201"))
        self.assertEqual(len(self.find_users(good)), 1)
        # The handlers' own refusals come back verbatim.
        r = self.bulk([{"method": "PATCH", "path": "/Users/" + self.prov_user["id"],
                        "data": {"schemas": [PATCHOP]}}])
        self.op_error(self.ops(r)[0], 400, "invalidSyntax")
        r = self.bulk([{"method": "POST", "path": "/Users", "bulkId": "dup",
                        "data": user_data(good)}])
        self.op_error(self.ops(r)[0], 409, "uniqueness")

    def test_deep_data(self):
        deep = {}
        cur = deep
        for _ in range(40):
            cur["a"] = {}
            cur = cur["a"]
        r = self.bulk([{"method": "POST", "path": "/Users", "bulkId": "x",
                        "data": dict(user_data("deep-" + h.uid()), x=deep)}])
        self.op_error(self.ops(r)[0], 400, "invalidValue")


if __name__ == "__main__":
    unittest.main(verbosity=2)
