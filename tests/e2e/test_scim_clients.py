#!/usr/bin/env python3
"""SCIM 2.0 request sequences of real identity providers, replayed verbatim over the socket:
Okta ("Okta and SCIM Version 2.0", developer.okta.com) and Microsoft Entra ID ("Tutorial:
Develop and plan provisioning for a SCIM endpoint", learn.microsoft.com; the requests not
already in test_scim.py's EntraSequenceTest). Each test asserts the statuses and the response
shapes the client relies on, then roster's own view through REST and the audit log."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402
import test_scim as ts  # noqa: E402

BASE = ts.BASE
CT = ts.CT
LIST = ts.LIST
PATCHOP = ts.PATCHOP
USER = ts.USER
ENT = ts.ENT
GROUP = ts.GROUP
MS_GROUP = "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"


def setUpModule():
    ts.S = h.Server().start()


def tearDownModule():
    if ts.S is not None:
        ts.S.stop()


class ClientBase(ts.ScimBase):
    def assert_list(self, r, total):
        """The ListResponse envelope every client parses before looking at Resources."""
        h.expect(r, 200)
        self.assertEqual(r.content_type, CT)
        j = r.json
        self.assertEqual(j["schemas"], [LIST])
        self.assertEqual(j["totalResults"], total, r.describe())
        self.assertEqual(j["startIndex"], 1)
        self.assertEqual(j["itemsPerPage"], len(j["Resources"]))
        return j

    def assert_resource(self, j, schema, rtype):
        self.assertIsInstance(j["id"], str)
        self.assertIn(schema, j["schemas"])
        self.assertEqual(j["meta"]["resourceType"], rtype)
        self.assertTrue(j["meta"]["location"].endswith("/" + j["id"]))
        self.assertRegex(j["meta"]["created"], h.TIME_RE)
        self.assertRegex(j["meta"]["lastModified"], h.TIME_RE)
        self.assertTrue(j["meta"]["version"].startswith('W/"'))

    def patch(self, kind, rid, ops):
        return self.c.patch(BASE + "/%s/%s" % (kind, rid), content_type=CT,
                            json={"schemas": [PATCHOP], "Operations": ops})

    def rest_user(self, uid):
        return h.expect(self.root.get(h.tpath(self.t, "users", uid)), 200).json

    def rest_members(self, gid):
        r = h.expect(self.root.get(h.tpath(self.t, "groups", gid, "members")), 200).json
        return sorted(m["id"] for m in r["items"])

    def assert_audited_by_token(self, target, *actions):
        ev = h.audit_events(self.root, self.t, target=target)
        seen = {e["action"] for e in ev}
        for a in actions:
            self.assertIn(a, seen, ev)
        for e in ev:
            self.assertEqual(e["actor"]["id"], self.prov_user["id"], e)


class OktaSequenceTest(ClientBase):
    """Okta's requests, in the order its SCIM 2.0 guide lists them."""

    def okta_user(self, name, given, family, **extra):
        body = {"schemas": [USER], "userName": name,
                "name": {"givenName": given, "familyName": family},
                "emails": [{"primary": True, "value": name, "type": "work"}],
                "displayName": "%s %s" % (given, family), "locale": "en-US",
                "externalId": "00ujl29u0le5T6Aj10h7", "groups": [],
                "password": "1mz050nq", "active": True}
        body.update(extra)
        return body

    def test_user_sequence(self):
        name = "test.user.%s@okta.local" % h.uid()
        # Does the user exist? Okta pages explicitly and expects an empty list, not 404.
        r = self.c.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % name,
                                                "startIndex": "1", "count": "100"})
        j = self.assert_list(r, 0)
        self.assertEqual(j["Resources"], [])
        r = self.c.post(BASE + "/Users", content_type=CT, json=self.okta_user(name, "Test", "User"))
        h.expect(r, 201)
        u = r.json
        self.assert_resource(u, USER, "User")
        uid = u["id"]
        self.assertEqual(u["userName"], name)
        self.assertEqual(u["displayName"], "Test User")
        self.assertEqual(u["locale"], "en-US")
        self.assertEqual(u["externalId"], "00ujl29u0le5T6Aj10h7")
        self.assertIs(u["active"], True)
        self.assertEqual(u["emails"], [{"value": name, "type": "work", "primary": True}])
        self.assertNotIn("password", u)
        self.assertEqual(u.get("groups", []), [])
        # The lookup now finds it (Okta keeps the id it reads here).
        r = self.c.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % name,
                                                "startIndex": "1", "count": "100"})
        j = self.assert_list(r, 1)
        self.assertEqual(j["Resources"][0]["id"], uid)
        g = h.expect(self.get_user(uid), 200).json
        self.assertEqual(g, u)
        # Profile update: the full user with id, groups, password and meta, as Okta read it.
        body = self.okta_user(name, "Another", "User", id=uid, meta=g["meta"])
        r = h.expect(self.c.put(BASE + "/Users/" + uid, content_type=CT, json=body), 200).json
        self.assertEqual(r["id"], uid)
        self.assertEqual(r["name"]["givenName"], "Another")
        self.assertEqual(r["displayName"], "Another User")
        self.assertIs(r["active"], True)
        ru = self.rest_user(uid)
        self.assertEqual((ru["first_name"], ru["last_name"], ru["status"]), ("Another", "User", "active"))
        # Deactivation by PUT with active false ...
        body = self.okta_user(name, "Another", "User", id=uid, active=False)
        r = h.expect(self.c.put(BASE + "/Users/" + uid, content_type=CT, json=body), 200).json
        self.assertIs(r["active"], False)
        self.assertEqual(self.rest_user(uid)["status"], "deactivated")
        # ... reactivation and deactivation by path-less PATCH.
        r = h.expect(self.patch("Users", uid, [{"op": "replace", "value": {"active": True}}]), 200).json
        self.assertIs(r["active"], True)
        self.assertEqual(self.rest_user(uid)["status"], "active")
        r = h.expect(self.patch("Users", uid, [{"op": "replace", "value": {"active": False}}]), 200).json
        self.assertIs(r["active"], False)
        ru = self.rest_user(uid)
        self.assertEqual(ru["status"], "deactivated")
        # A deactivated user is still found by the lookup (Okta reactivates, never recreates).
        r = self.c.get(BASE + "/Users", params={"filter": 'userName eq "%s"' % name,
                                                "startIndex": "1", "count": "100"})
        self.assertIs(self.assert_list(r, 1)["Resources"][0]["active"], False)
        self.assert_audited_by_token(uid, "user.create", "user.deactivate", "user.reactivate")
        deact = [e for e in h.audit_events(self.root, self.t, target=uid) if e["action"] == "user.deactivate"]
        self.assertEqual(len(deact), 2, deact)

    def test_group_sequence(self):
        users = [ts.new_user(self.c, "okta-g%d-%s" % (i, h.uid())) for i in range(2)]
        a, b = (u["id"] for u in users)
        name = "Test SCIMv2 %s" % h.uid()
        r = self.c.get(BASE + "/Groups", params={"filter": 'displayName eq "%s"' % name,
                                                 "startIndex": "1", "count": "100"})
        self.assertEqual(self.assert_list(r, 0)["Resources"], [])
        r = self.c.post(BASE + "/Groups", content_type=CT,
                        json={"schemas": [GROUP], "displayName": name, "members": []})
        h.expect(r, 201)
        g = r.json
        gid = g["id"]
        self.assert_resource(g, GROUP, "Group")
        self.assertEqual(g["displayName"], name)
        self.assertEqual(g.get("members", []), [])
        r = self.c.get(BASE + "/Groups", params={"filter": 'displayName eq "%s"' % name,
                                                 "startIndex": "1", "count": "100"})
        self.assertEqual(self.assert_list(r, 1)["Resources"][0]["id"], gid)
        r = h.expect(self.c.get(BASE + "/Groups/" + gid, params={"excludedAttributes": "members"}), 200).json
        self.assertEqual(r["displayName"], name)
        self.assertNotIn("members", r)
        # Push Groups: membership changes as PATCH, with display alongside value.
        r = h.expect(self.patch("Groups", gid, [
            {"op": "add", "path": "members", "value": [
                {"value": a, "display": users[0]["userName"]},
                {"value": b, "display": users[1]["userName"]}]}]), 200).json
        self.assertEqual(sorted(m["value"] for m in r["members"]), sorted([a, b]))
        self.assertEqual(self.rest_members(gid), sorted([a, b]))
        r = h.expect(self.patch("Groups", gid, [
            {"op": "remove", "path": 'members[value eq "%s"]' % a}]), 200).json
        self.assertEqual([m["value"] for m in r["members"]], [b])
        self.assertEqual(self.rest_members(gid), [b])
        # Rename: Okta's PATCH carries the group's id beside the new name.
        renamed = "Renamed SCIMv2 %s" % h.uid()
        r = h.expect(self.patch("Groups", gid, [
            {"op": "replace", "value": {"id": gid, "displayName": renamed}}]), 200).json
        self.assertEqual(r["displayName"], renamed)
        self.assertEqual([m["value"] for m in r["members"]], [b])
        # And the PUT form: the whole group as Okta holds it.
        put_name = "Put SCIMv2 %s" % h.uid()
        r = h.expect(self.c.put(BASE + "/Groups/" + gid, content_type=CT, json={
            "schemas": [GROUP], "id": gid, "displayName": put_name,
            "members": [{"value": b, "display": users[1]["userName"]}]}), 200).json
        self.assertEqual(r["displayName"], put_name)
        self.assertEqual([m["value"] for m in r["members"]], [b])
        rg = h.expect(self.root.get(h.tpath(self.t, "groups", gid)), 200).json
        self.assertEqual(rg["name"], put_name)
        self.assertEqual(self.rest_members(gid), [b])
        r = self.c.delete(BASE + "/Groups/" + gid)
        self.assertEqual(r.status, 204, r.describe())
        ts.scim_error(self, self.c.get(BASE + "/Groups/" + gid), 404)
        self.assert_audited_by_token(gid, "group.create", "group.member_add", "group.member_remove",
                                     "group.update", "group.delete")


class EntraClientTest(ClientBase):
    """Entra ID's requests beyond test_scim.EntraSequenceTest."""

    def test_user_patches(self):
        mgr = ts.new_user(self.c, "mgr-%s" % h.uid())
        name = "Test_User_%s@testuser.com" % h.uid()
        ext = "ext-" + h.uid()
        r = self.c.post(BASE + "/Users", content_type=CT, json={
            "schemas": [USER, ENT], "externalId": ext, "userName": name, "active": True,
            "emails": [{"primary": True, "type": "work", "value": name}],
            "meta": {"resourceType": "User"},
            "name": {"formatted": "givenName familyName", "familyName": "familyName",
                     "givenName": "givenName"}, "roles": []})
        uid = h.expect(r, 201).json["id"]
        r = self.c.get(BASE + "/Users", params={"filter": 'externalId eq "%s"' % ext})
        self.assertEqual(self.assert_list(r, 1)["Resources"][0]["id"], uid)
        r = self.c.get(BASE + "/Users", params={"filter": 'externalId eq "%s"' % ext.upper()})
        self.assert_list(r, 0)  # externalId is caseExact
        # Path-less values with capitalised ops, dotted and URN-qualified keys.
        r = h.expect(self.patch("Users", uid, [
            {"op": "Add", "value": {"title": "Engineer", "name.givenName": "Given2",
                                    ENT + ":employeeNumber": "701"}},
            {"op": "Replace", "value": {"displayName": "Display Two", "name.familyName": "Family2"}}]),
            200).json
        self.assertEqual(r["title"], "Engineer")
        self.assertEqual(r["displayName"], "Display Two")
        self.assertEqual(r["name"]["givenName"], "Given2")
        self.assertEqual(r["name"]["familyName"], "Family2")
        self.assertEqual(r[ENT]["employeeNumber"], "701")
        ru = self.rest_user(uid)
        self.assertEqual((ru["first_name"], ru["last_name"]), ("Given2", "Family2"))
        # The manager as a plain id string.
        r = h.expect(self.patch("Users", uid, [
            {"op": "Replace", "path": ENT + ":manager", "value": mgr["id"]}]), 200).json
        self.assertEqual(r[ENT]["manager"]["value"], mgr["id"])
        r = h.expect(self.patch("Users", uid, [
            {"op": "Add", "path": ENT + ":manager", "value": mgr["id"]}]), 200).json
        self.assertEqual(r[ENT]["manager"]["value"], mgr["id"])
        r = h.expect(self.get_user(uid), 200).json
        self.assertEqual(r[ENT]["manager"]["value"], mgr["id"])
        # Single-valued userName replace, then active as the string "False" in a path-less value.
        new_name = "renamed-%s@testuser.com" % h.uid()
        r = h.expect(self.patch("Users", uid, [{"op": "Replace", "path": "userName", "value": new_name}]), 200).json
        self.assertEqual(r["userName"], new_name)
        r = h.expect(self.patch("Users", uid, [{"op": "Replace", "value": {"active": "False"}}]), 200).json
        self.assertIs(r["active"], False)
        ru = self.rest_user(uid)
        self.assertEqual((ru["username"], ru["status"]), (new_name, "deactivated"))
        r = h.expect(self.patch("Users", uid, [{"op": "Replace", "path": "active", "value": "True"}]), 200).json
        self.assertIs(r["active"], True)
        self.assertEqual(self.rest_user(uid)["status"], "active")
        self.assert_audited_by_token(uid, "user.create", "user.deactivate", "user.reactivate")

    def test_group_sequence(self):
        a, b = (ts.new_user(self.c, "entra-g%d-%s" % (i, h.uid()))["id"] for i in range(2))
        name = "displayName-" + h.uid()
        r = self.c.post(BASE + "/Groups", content_type=CT, json={
            "schemas": [GROUP, MS_GROUP], "externalId": "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
            "displayName": name, "meta": {"resourceType": "Group"}})
        h.expect(r, 201)
        gid = r.json["id"]
        self.assertEqual(r.json.get("members", []), [])
        r = h.expect(self.c.get(BASE + "/Groups/" + gid, params={"excludedAttributes": "members"}), 200).json
        self.assertNotIn("members", r)
        r = self.c.get(BASE + "/Groups", params={"excludedAttributes": "members",
                                                 "filter": 'displayName eq "%s"' % name})
        self.assertEqual(self.assert_list(r, 1)["Resources"][0]["id"], gid)
        r = h.expect(self.patch("Groups", gid, [
            {"op": "Replace", "path": "displayName", "value": name + "updatedDisplayName"}]), 200).json
        self.assertEqual(r["displayName"], name + "updatedDisplayName")
        # Add Members / Remove Members, as the tutorial shows them ("$ref": null included).
        r = h.expect(self.patch("Groups", gid, [
            {"op": "Add", "path": "members", "value": [{"$ref": None, "value": a}]}]), 200).json
        self.assertEqual([m["value"] for m in r["members"]], [a])
        r = h.expect(self.patch("Groups", gid, [
            {"op": "Add", "path": "members", "value": [{"value": b}]}]), 200).json
        self.assertEqual(sorted(m["value"] for m in r["members"]), sorted([a, b]))
        r = h.expect(self.patch("Groups", gid, [
            {"op": "Remove", "path": "members", "value": [{"$ref": None, "value": a}]}]), 200).json
        self.assertEqual([m["value"] for m in r["members"]], [b])
        self.assertEqual(self.rest_members(gid), [b])
        r = self.c.delete(BASE + "/Groups/" + gid)
        self.assertEqual(r.status, 204, r.describe())
        ts.scim_error(self, self.c.get(BASE + "/Groups/" + gid), 404)
        self.assert_audited_by_token(gid, "group.create", "group.member_add", "group.member_remove",
                                     "group.update", "group.delete")


if __name__ == "__main__":
    h.main()
