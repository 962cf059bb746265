#!/usr/bin/env python3
"""SCIM writes as one provisioning (core users_provision): a PUT or PATCH that changes fields
and "active" happens whole or not at all; roles as roster roles within the token's rank; the
enterprise manager as a user of the tenant; passwords behind the tenant setting
provisioned_passwords; PUT and PATCH of /Me; the audit trail's actor and request id."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import test_scim as ts  # noqa: E402
from test_scim import BASE, CT, ENT, PATCHOP, USER  # noqa: E402

GOOD_PW = "violet-harbour-sextant-42"


def setUpModule():
    ts.S = h.Server().start()


def tearDownModule():
    if ts.S is not None:
        ts.S.stop()


class ProvisionBase(ts.ScimBase):
    def patch(self, uid, *ops, client=None, **kw):
        return (client or self.c).patch(BASE + "/Users/" + uid, json={
            "schemas": [PATCHOP], "Operations": list(ops)}, content_type=CT, **kw)

    def rest_user(self, uid):
        return h.expect(self.root.get(h.tpath(self.t, "users", uid)), 200).json

    def events(self, uid, action):
        return [e for e in h.audit_events(self.root, self.t, target=uid) if e["action"] == action]

    def login(self, username, password):
        return ts.S.client().post(h.API + "/auth/login", json={
            "tenant": self.t["slug"], "username": username, "password": password})


class AtomicTest(ProvisionBase):
    def test_refused_reactivation_undoes_the_profile_change(self):
        u = ts.new_user(self.c, "atom-" + h.uid())
        h.expect(self.patch(u["id"], {"op": "replace", "path": "active", "value": False}), 200)
        seats = h.expect(self.root.get(h.tpath(self.t, "seats")), 200).json
        used = [s for s in seats["types"] if s["type"] == "standard"][0]["used"]
        h.expect(self.root.patch(h.tpath(self.t), json={"seat_limits": {"standard": used}}), 200)
        before = self.rest_user(u["id"])
        r = self.patch(u["id"], {"op": "replace", "path": "name.familyName", "value": "Changed"},
                       {"op": "replace", "path": "active", "value": True})
        ts.scim_error(self, r, 409)
        after = self.rest_user(u["id"])
        self.assertEqual(after["last_name"], "Family")
        self.assertEqual(after["status"], "deactivated")
        self.assertEqual(after["version"], before["version"])
        self.assertEqual(self.events(u["id"], "user.update"), [])
        # With a seat, the same request does both, as two audit events of one request.
        h.expect(self.root.patch(h.tpath(self.t), json={"seat_limits": {"standard": None}}), 200)
        r = self.patch(u["id"], {"op": "replace", "path": "name.familyName", "value": "Changed"},
                       {"op": "replace", "path": "active", "value": True},
                       headers={"X-Request-Id": "scim-atomic-" + h.uid()})
        h.expect(r, 200)
        self.assertEqual((r.json["name"]["familyName"], r.json["active"]), ("Changed", True))
        upd, react = self.events(u["id"], "user.update"), self.events(u["id"], "user.reactivate")
        self.assertEqual(len(upd), 1)
        self.assertEqual(len(react), 1)
        self.assertEqual(upd[0]["request_id"], r.request_id)
        self.assertEqual(react[0]["request_id"], r.request_id)
        self.assertTrue(r.request_id.startswith("scim-atomic-"))
        for e in upd + react:
            self.assertEqual(e["actor"]["id"], self.prov_user["id"])

    def test_put_that_changes_nothing_writes_nothing(self):
        u = ts.new_user(self.c, "noop-" + h.uid(), displayName=None)
        got = h.expect(self.get_user(u["id"]), 200).json
        before = self.rest_user(u["id"])
        r = self.c.put(BASE + "/Users/" + u["id"], json=got, content_type=CT)
        h.expect(r, 200)
        self.assertEqual(r.json["meta"]["version"], got["meta"]["version"])
        after = self.rest_user(u["id"])
        self.assertEqual(after["version"], before["version"])
        # The computed displayName and name.formatted were not stored as the provider's.
        self.assertNotIn("displayName", after["custom_attributes"].get("scim", {}))
        self.assertNotIn("name", after["custom_attributes"].get("scim", {}))
        # So a rename moves them.
        r = self.patch(u["id"], {"op": "replace", "path": "name.givenName", "value": "Renamed"})
        self.assertEqual(h.expect(r, 200).json["name"]["formatted"], "Renamed Family")
        self.assertEqual(r.json["displayName"], "Renamed Family")


class RolesTest(ProvisionBase):
    def setUp(self):
        super().setUp()
        h.expect(self.root.post(h.tpath(self.t, "roles"), json={
            "name": "SCIM Role Provisioner", "scope": "system", "rank": 650,
            "permissions": ts.PROVISIONER_PERMS + ["roles.assign"]}), 201)
        self.rp = h.make_user(self.root, self.t, "scimr-" + h.uid(), system_role="SCIM Role Provisioner")
        self.rc = ts.S.client(h.token_for(self.root, self.t, self.rp["id"]))

    def test_roles_are_roster_roles(self):
        u = ts.new_user(self.rc, "roles-" + h.uid(), roles=[{"value": "Standard User"}])
        rest = self.rest_user(u["id"])
        self.assertEqual([r["name"] for r in rest["roles"]], ["Standard User"])
        self.assertEqual(rest["system_role"]["name"], "User")  # the tenant's default stays
        self.assertIn({"value": "User", "display": "User", "type": "system", "primary": True}, u["roles"])
        self.assertIn({"value": "Standard User", "display": "Standard User", "type": "tenant"}, u["roles"])
        # A system role in the list becomes the system role; names are case-insensitive.
        r = self.patch(u["id"], {"op": "replace", "path": "roles",
                                 "value": [{"value": "super user"}, {"value": "Read Only Commenter"}]},
                       client=self.rc)
        h.expect(r, 200)
        rest = self.rest_user(u["id"])
        self.assertEqual(rest["system_role"]["name"], "Super User")
        self.assertEqual([x["name"] for x in rest["roles"]], ["Read Only Commenter"])
        self.assertEqual(len(self.events(u["id"], "user.roles_assign")), 1)
        # PUT without "roles" leaves them; "roles": [] clears the tenant roles only.
        got = h.expect(self.rc.get(BASE + "/Users/" + u["id"]), 200).json
        got.pop("roles")
        h.expect(self.rc.put(BASE + "/Users/" + u["id"], json=got, content_type=CT), 200)
        self.assertEqual([x["name"] for x in self.rest_user(u["id"])["roles"]], ["Read Only Commenter"])
        got["roles"] = []
        h.expect(self.rc.put(BASE + "/Users/" + u["id"], json=got, content_type=CT), 200)
        rest = self.rest_user(u["id"])
        self.assertEqual((rest["roles"], rest["system_role"]["name"]), ([], "Super User"))

    def test_role_errors_change_nothing(self):
        u = ts.new_user(self.rc, "rerr-" + h.uid())
        before = self.rest_user(u["id"])
        cases = [
            ([{"value": "No Such Role"}], 400, "invalidValue"),
            ([{"value": "User"}, {"value": "Super User"}], 400, "invalidValue"),  # two system roles
            ([{"value": "Administrator"}], 403, None),  # rank 900 > the token's 650
            ([{"display": "no value"}], 400, "invalidValue"),
            ([{"value": ""}], 400, "invalidValue"),
        ]
        for value, status, stype in cases:
            r = self.patch(u["id"], {"op": "replace", "path": "roles", "value": value}, client=self.rc)
            ts.scim_error(self, r, status, stype)
        got = h.expect(self.get_user(u["id"]), 200).json
        got["roles"] = "Standard User"  # not a list
        ts.scim_error(self, self.rc.put(BASE + "/Users/" + u["id"], json=got, content_type=CT),
                      400, "invalidValue")
        self.assertEqual(self.rest_user(u["id"])["version"], before["version"])
        # A token without roles.assign may not change roles, but may send them unchanged.
        r = self.patch(u["id"], {"op": "replace", "path": "roles", "value": [{"value": "Standard User"}]})
        ts.scim_error(self, r, 403)
        got = h.expect(self.get_user(u["id"]), 200).json
        got["title"] = "Unchanged roles"
        h.expect(self.c.put(BASE + "/Users/" + u["id"], json=got, content_type=CT), 200)
        self.assertEqual(self.rest_user(u["id"])["system_role"]["name"], "User")


class ManagerTest(ProvisionBase):
    def test_manager_is_a_user_of_the_tenant(self):
        boss = ts.new_user(self.c, "boss-" + h.uid())
        u = ts.new_user(self.c, "rep-" + h.uid())
        r = self.patch(u["id"], {"op": "Replace", "path": ENT + ":manager", "value": boss["id"]})
        m = h.expect(r, 200).json[ENT]["manager"]
        self.assertEqual(m["value"], boss["id"])
        self.assertEqual(m["displayName"], boss["userName"])
        self.assertEqual(m["$ref"], BASE + "/Users/" + boss["id"])
        rest = self.rest_user(u["id"])
        self.assertEqual(rest["manager"], {"id": boss["id"], "username": boss["userName"]})
        self.assertNotIn("scim_enterprise", rest["custom_attributes"])
        for bad in (h.uuid7(), u["id"], "not-a-uuid"):
            ts.scim_error(self, self.patch(u["id"], {"op": "replace", "path": ENT + ":manager",
                                                     "value": {"value": bad}}), 400, "invalidValue")
        other = h.new_tenant(self.root)
        stranger = h.make_user(self.root, other, "stranger-" + h.uid())
        ts.scim_error(self, self.patch(u["id"], {"op": "replace", "path": ENT + ":manager",
                                                 "value": stranger["id"]}), 400, "invalidValue")
        self.assertEqual(self.rest_user(u["id"])["manager"]["id"], boss["id"])
        # Deleting the manager unlinks its reports.
        h.expect(self.c.delete(BASE + "/Users/" + boss["id"]), 204)
        deadline = time.monotonic() + 20
        while self.root.get(h.tpath(self.t, "users", boss["id"])).status != 404:
            self.assertLess(time.monotonic(), deadline, "the deletion task did not finish")
            time.sleep(0.05)
        rest = self.rest_user(u["id"])
        self.assertIsNone(rest["manager"])
        self.assertTrue(any(e["action"] == "user.update" or e["action"] == "user.delete"
                            for e in h.audit_events(self.root, self.t, target=boss["id"])))
        self.assertNotIn("manager", h.expect(self.get_user(u["id"]), 200).json.get(ENT, {}))
        # Remove by path.
        boss2 = ts.new_user(self.c, "boss2-" + h.uid())
        h.expect(self.patch(u["id"], {"op": "add", "path": "manager", "value": [{"value": boss2["id"]}]}), 200)
        h.expect(self.patch(u["id"], {"op": "remove", "path": ENT + ":manager"}), 200)
        self.assertIsNone(self.rest_user(u["id"])["manager"])

    def test_rest_manager_id(self):
        boss = h.make_user(self.root, self.t, "rboss-" + h.uid())
        u = h.make_user(self.root, self.t, "rrep-" + h.uid(), manager_id=boss["id"])
        self.assertEqual(u["manager"], {"id": boss["id"], "username": boss["username"]})
        h.assert_problem(self.root.patch(h.tpath(self.t, "users", u["id"]), json={"manager_id": u["id"]}),
                         400, "request.invalid_field", "manager_id")
        h.assert_problem(self.root.patch(h.tpath(self.t, "users", u["id"]), json={"manager_id": "x"}),
                         400, "request.invalid_field", "manager_id")
        r = h.expect(self.root.patch(h.tpath(self.t, "users", u["id"]), json={"manager_id": None}), 200)
        self.assertIsNone(r.json["manager"])


class PasswordTest(ProvisionBase):
    def test_ignored_by_default(self):
        name = "pw-" + h.uid()
        ts.new_user(self.c, name, password=GOOD_PW)
        h.expect(self.login(name, GOOD_PW), 401)
        u = self.c.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % name}).json["Resources"][0]
        # A change asked for by itself is refused, not lost.
        r = self.patch(u["id"], {"op": "replace", "value": {"password": GOOD_PW}})
        j = ts.scim_error(self, r, 400, "invalidValue")
        self.assertIn("provisioned_passwords", j["detail"])
        self.assertEqual(self.events(u["id"], "user.password_set"), [])

    def test_set_when_the_tenant_takes_them(self):
        h.expect(self.root.patch(h.tpath(self.t), json={"provisioned_passwords": "set"}), 200)
        self.assertEqual(h.expect(self.root.get(h.tpath(self.t)), 200).json["provisioned_passwords"], "set")
        name = "pws-" + h.uid()
        # The policy holds: a short one is refused and nothing is created.
        ts.scim_error(self, self.c.post(BASE + "/Users", json={
            "schemas": [USER], "userName": name, "password": "short"}, content_type=CT), 400, "invalidValue")
        r = self.c.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % name})
        self.assertEqual(r.json["totalResults"], 0)
        u = ts.new_user(self.c, name, password=GOOD_PW)
        self.assertNotIn("password", u)
        h.expect(self.login(name, GOOD_PW), 201)
        self.assertEqual(len(self.events(u["id"], "user.password_set")), 1)
        # Okta sends the password again with every PUT: the same one changes nothing.
        got = h.expect(self.get_user(u["id"]), 200).json
        got["password"] = GOOD_PW
        h.expect(self.c.put(BASE + "/Users/" + u["id"], json=got, content_type=CT), 200)
        self.assertEqual(len(self.events(u["id"], "user.password_set")), 1)
        # A new one by PATCH: the old stops working, the new works.
        new_pw = GOOD_PW + "-rotated"
        h.expect(self.patch(u["id"], {"op": "replace", "path": "password", "value": new_pw}), 200)
        h.expect(self.login(name, GOOD_PW), 401)
        h.expect(self.login(name, new_pw), 201)
        ev = self.events(u["id"], "user.password_set")
        self.assertEqual(len(ev), 2)
        self.assertEqual(ev[-1]["actor"]["id"], self.prov_user["id"])
        self.assertNotIn(new_pw, str(ev))
        # A password that fails the policy together with a name change: neither happens.
        r = self.patch(u["id"], {"op": "replace", "path": "password", "value": name},
                       {"op": "replace", "path": "title", "value": "Never"})
        ts.scim_error(self, r, 400, "invalidValue")
        self.assertNotIn("title", h.expect(self.get_user(u["id"]), 200).json)


class ListRenderingTest(ProvisionBase):
    def test_streamed_page_equals_the_built_one(self):
        """A page of whole users is written by YAJL, on two threads from 200 users on
        (user_stream.c); a projection takes the jansson path. With an excludedAttributes that
        excludes nothing the two must be the same JSON, user for user."""
        boss = ts.new_user(self.c, "lb-boss-" + h.uid())
        ops = []
        for i in range(260):
            body = {"schemas": [USER, ENT], "userName": "lr-%s-%03d" % (h.uid(), i),
                    "emails": [{"value": "lr%03d@example.com" % i, "type": "work", "primary": True}],
                    ENT: {"manager": {"value": boss["id"]}}}
            if i % 3 == 0:
                body["name"] = {"givenName": "G\u00e9 \"%d\"" % i, "familyName": "F\\%d" % i}
            if i % 7 == 0:
                body["title"] = "kept in custom attributes"
            if i % 11 == 0:
                body["active"] = False
            ops.append({"method": "POST", "path": "/Users", "bulkId": "u%d" % i, "data": body})
        r = h.expect(self.c.post(BASE + "/Bulk", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops},
            content_type=CT), 200)
        self.assertTrue(all(o["status"] == "201" for o in r.json["Operations"]))
        streamed = h.expect(self.c.get(BASE + "/Users", params={"count": 1000}), 200).json
        built = h.expect(self.c.get(BASE + "/Users", params={"count": 1000,
                                                              "excludedAttributes": "nickName"}), 200).json
        self.assertGreaterEqual(streamed["itemsPerPage"], 262)
        self.assertEqual(streamed, built)
        # A page that starts inside the tenant, and one of a few users (one thread).
        for params in ({"startIndex": 37, "count": 211}, {"startIndex": 5, "count": 3}):
            a = h.expect(self.c.get(BASE + "/Users", params=params), 200).json
            b = h.expect(self.c.get(BASE + "/Users", params=dict(params, excludedAttributes="nickName")),
                         200).json
            self.assertEqual(a, b)
            self.assertEqual(a["itemsPerPage"], params["count"])

    def test_pages_carry_each_users_roles_and_groups(self):
        """A page is read and completed a chunk at a time while it is written: its users' roles
        and groups come from the range of their ids when the page is in id order, else (or
        when the range holds too many other users) from the list of their ids. Whatever the
        page's order, filter or size, each user on it has the roles and groups that reading
        that one user shows."""
        pre = "rg-%s-" % h.uid()
        ops = [{"method": "POST", "path": "/Users", "bulkId": "u%d" % i, "data": {
            "schemas": [USER], "userName": "%s%03d" % (pre, i)}} for i in range(130)]
        r = h.expect(self.c.post(BASE + "/Bulk", json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": ops},
            content_type=CT), 200)
        ids = [o["location"].rsplit("/", 1)[1] for o in r.json["Operations"]]
        # Three groups of everyone: a page of three users far apart meets some 390 memberships
        # of others in its range of ids, more than the range read allows.
        for g in ("all-a", "all-b", "all-c"):
            h.expect(self.c.post(BASE + "/Groups", json={
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": pre + g, "members": [{"value": i} for i in ids]}, content_type=CT), 201)
        h.expect(self.c.post(BASE + "/Groups", json={
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": pre + "odd", "members": [{"value": i} for i in ids[1::2]]},
            content_type=CT), 201)
        for i in ids[::3]:
            h.expect(self.root.patch(h.tpath(self.t, "users", i), json={
                "roles": ["Standard User", "Read Only Commenter"]}), 200)
        one = {}
        for i in ids:
            u = h.expect(self.c.get(BASE + "/Users/" + i), 200).json
            one[i] = (u.get("groups"), u.get("roles"))
        self.assertEqual(len(one[ids[1]][0]), 4)
        self.assertEqual(len(one[ids[0]][1]), 3)  # the system role and two tenant roles
        far = " or ".join('userName eq "%s%03d"' % (pre, i) for i in (0, 64, 129))
        pages = [{"count": 1000}, {"count": 1000, "sortBy": "userName"},
                 {"count": 1000, "sortOrder": "descending", "sortBy": "meta.created"},
                 {"startIndex": 3, "count": 77}, {"count": 1000, "filter": far},
                 {"count": 1000, "filter": 'userName sw "%s"' % pre}]
        for params in pages:
            got = h.expect(self.c.get(BASE + "/Users", params=params), 200).json["Resources"]
            mine = [u for u in got if u["id"] in one]
            if "startIndex" not in params:
                self.assertEqual(len(mine), 3 if params.get("filter") == far else 130, params)
            for u in mine:
                self.assertEqual((u.get("groups"), u.get("roles")), one[u["id"]], params)


class MeTest(ProvisionBase):
    def test_put_and_patch_me(self):
        me = h.expect(self.c.get(BASE + "/Me"), 200).json
        self.assertEqual(me["id"], self.prov_user["id"])
        r = self.c.patch(BASE + "/Me", json={"schemas": [PATCHOP], "Operations": [
            {"op": "replace", "path": "name.familyName", "value": "Myself"}]}, content_type=CT)
        self.assertEqual(h.expect(r, 200).json["name"]["familyName"], "Myself")
        self.assertEqual(self.rest_user(me["id"])["last_name"], "Myself")
        got = r.json
        got["locale"] = "fr-FR"
        r = self.c.put(BASE + "/Me", json=got, content_type=CT, headers={"If-Match": got["meta"]["version"]})
        self.assertEqual(h.expect(r, 200).json["locale"], "fr-FR")
        ts.scim_error(self, self.c.put(BASE + "/Me", json=got, content_type=CT,
                                       headers={"If-Match": got["meta"]["version"]}), 412)
        # Nobody deactivates themselves, here either.
        r = self.c.patch(BASE + "/Me", json={"schemas": [PATCHOP], "Operations": [
            {"op": "replace", "path": "active", "value": False}]}, content_type=CT)
        ts.scim_error(self, r, 409)
        self.assertEqual(self.rest_user(me["id"])["status"], "active")


if __name__ == "__main__":
    h.main()
