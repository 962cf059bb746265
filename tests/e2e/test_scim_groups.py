#!/usr/bin/env python3
"""SCIM Groups beyond test_scim.py's GroupTest: externalId (SCIM and REST), every group filter
the store compiles (displayName, externalId, id, meta.created/lastModified, members) with
and/or/not, invalidFilter for the rest, sortBy/sortOrder, POST /Groups/.search, the root's
POST /.search across Users and Groups, and atomic POST/PUT/PATCH: a refused member changes
nothing (checked by GET, REST, the audit log and `roster audit verify`)."""

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
GROUP = ts.GROUP


def setUpModule():
    ts.S = h.Server().start()


def tearDownModule():
    if ts.S is not None:
        ts.S.stop()


class GroupsBase(ts.ScimBase):
    def new_group(self, name, members=(), **extra):
        body = {"schemas": [GROUP], "displayName": name, "members": [{"value": m} for m in members]}
        body.update(extra)
        r = self.c.post(BASE + "/Groups", content_type=CT, json=body)
        h.expect(r, 201)
        return r.json

    def get_group(self, gid):
        return h.expect(self.c.get(BASE + "/Groups/" + gid), 200).json

    def patch(self, gid, ops, **kw):
        return self.c.patch(BASE + "/Groups/" + gid, json={"schemas": [PATCHOP], "Operations": ops},
                            content_type=CT, **kw)

    def patched(self, gid, ops, **kw):
        """A group PATCH answers 204 with the new ETag (RFC 7644 3.5.2; Entra ID's tutorial):
        the group as it now is, read back."""
        r = self.patch(gid, ops, **kw)
        h.expect(r, 204)
        self.assertEqual(r.body, b"")
        g = h.expect(self.c.get(BASE + "/Groups/" + gid), 200)
        self.assertEqual(r.etag, g.etag)
        return g

    def find(self, flt, **params):
        params["filter"] = flt
        r = self.c.get(BASE + "/Groups", params=params)
        h.expect(r, 200)
        self.assertEqual(r.json["schemas"], [LIST])
        return r.json

    def ids(self, flt, **params):
        return sorted(g["id"] for g in self.find(flt, **params)["Resources"])

    def members(self, g):
        return sorted(m["value"] for m in g.get("members", []))


class ExternalIdTest(GroupsBase):
    def test_scim_round_trip_and_filter(self):
        ext = "Ext-" + h.uid()
        g = self.new_group("Ext-" + h.uid(), externalId=ext)
        self.assertEqual(g["externalId"], ext)
        self.assertEqual(self.get_group(g["id"])["externalId"], ext)
        # caseExact: another case finds nothing.
        self.assertEqual(self.ids('externalId eq "%s"' % ext), [g["id"]])
        self.assertEqual(self.ids('externalId eq "%s"' % ext.lower()), [])
        self.assertEqual(self.ids('externalId pr and displayName eq "%s"' % g["displayName"]), [g["id"]])
        # REST shows it.
        rg = h.expect(self.root.get(h.tpath(self.t, "groups", g["id"])), 200).json
        self.assertEqual(rg["external_id"], ext)
        # PATCH replaces it, PUT without it clears it.
        r = self.patched(g["id"], [{"op": "replace", "path": "externalId", "value": "x2"}]).json
        self.assertEqual(r["externalId"], "x2")
        r = h.expect(self.c.put(BASE + "/Groups/" + g["id"], content_type=CT, json={
            "schemas": [GROUP], "displayName": g["displayName"]}), 200).json
        self.assertNotIn("externalId", r)
        rg = h.expect(self.root.get(h.tpath(self.t, "groups", g["id"])), 200).json
        self.assertIsNone(rg["external_id"])
        r = self.patched(g["id"], [{"op": "add", "value": {"externalId": "x3"}}]).json
        self.assertEqual(r["externalId"], "x3")
        ts.scim_error(self, self.c.post(BASE + "/Groups", content_type=CT, json={
            "displayName": "Bad-" + h.uid(), "externalId": 7}), 400, "invalidValue")

    def test_rest(self):
        r = h.expect(self.root.post(h.tpath(self.t, "groups"), json={
            "name": "R-" + h.uid(), "external_id": "okta-00g1"}), 201).json
        self.assertEqual(r["external_id"], "okta-00g1")
        r2 = h.expect(self.root.patch(h.tpath(self.t, "groups", r["id"]), json={
            "name": r["name"], "external_id": "okta-00g2"}), 200).json
        self.assertEqual(r2["external_id"], "okta-00g2")
        self.assertEqual(r2["version"], r["version"] + 1)
        g = self.get_group(r["id"])
        self.assertEqual(g["externalId"], "okta-00g2")
        r3 = h.expect(self.root.patch(h.tpath(self.t, "groups", r["id"]), json={
            "name": r["name"], "external_id": None}), 200).json
        self.assertIsNone(r3["external_id"])
        r4 = h.expect(self.root.get(h.tpath(self.t, "groups")), 200).json
        self.assertIn("external_id", r4["items"][0])
        h.expect(self.root.post(h.tpath(self.t, "groups"), json={
            "name": "R-" + h.uid(), "external_id": "x" * 257}), 400)
        ev = [e for e in h.audit_events(self.root, self.t, target=r["id"]) if e["action"] == "group.update"]
        self.assertTrue(ev)


class FilterTest(GroupsBase):
    def setUp(self):
        super().setUp()
        tag = h.uid()
        self.tag = tag
        self.u1 = ts.new_user(self.c, "f1-" + tag)["id"]
        self.u2 = ts.new_user(self.c, "f2-" + tag)["id"]
        self.u3 = ts.new_user(self.c, "f3-" + tag)["id"]
        self.a = self.new_group("Alpha-" + tag, [self.u1], externalId="A1-" + tag)
        self.b = self.new_group("Beta-" + tag, [self.u1, self.u2], externalId="b2-" + tag)
        self.g = self.new_group("Gamma-" + tag)
        self.all = sorted([self.a["id"], self.b["id"], self.g["id"]])

    def test_display_name_operators(self):
        a, b, g, t = self.a["id"], self.b["id"], self.g["id"], self.tag
        self.assertEqual(self.ids('displayName eq "ALPHA-%s"' % t), [a])
        self.assertEqual(self.ids('displayName ne "alpha-%s"' % t), sorted([b, g]))
        self.assertEqual(self.ids('displayName co "MMA-%s"' % t.upper()), [g])
        self.assertEqual(self.ids('displayName sw "be"'), [b])
        self.assertEqual(self.ids('displayName ew "A-%s"' % t), sorted([a, b, g]))
        self.assertEqual(self.ids('displayName pr'), self.all)
        self.assertEqual(self.ids('displayName eq null'), [])
        self.assertEqual(self.ids('displayName gt "beta-%s"' % t), [g])
        self.assertEqual(self.ids('displayName le "beta-%s"' % t), sorted([a, b]))
        self.assertEqual(self.ids('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "beta-%s"' % t), [b])
        # Characters LIKE would read as wildcards are literal.
        self.assertEqual(self.ids('displayName co "%"'), [])
        self.assertEqual(self.ids('displayName co "_"'), [])

    def test_external_id_and_id(self):
        a, b, g, t = self.a["id"], self.b["id"], self.g["id"], self.tag
        self.assertEqual(self.ids('externalId eq "A1-%s"' % t), [a])
        self.assertEqual(self.ids('externalId eq "a1-%s"' % t), [])
        self.assertEqual(self.ids('externalId sw "b2"'), [b])
        self.assertEqual(self.ids('externalId co "1-"'), [a])
        self.assertEqual(self.ids('externalId ew "%s"' % t), sorted([a, b]))
        self.assertEqual(self.ids('externalId pr'), sorted([a, b]))
        self.assertEqual(self.ids('externalId eq null'), [g])
        self.assertEqual(self.ids('externalId ne "A1-%s"' % t), sorted([b, g]))
        self.assertEqual(self.ids('id eq "%s"' % b), [b])
        self.assertEqual(self.ids('id eq "%s"' % b.upper()), [])
        self.assertEqual(self.ids('id ne "%s"' % b), sorted([a, g]))
        self.assertEqual(self.ids('id eq "not-an-id"'), [])

    def test_members(self):
        a, b = self.a["id"], self.b["id"]
        self.assertEqual(self.ids('members.value eq "%s"' % self.u2), [b])
        self.assertEqual(self.ids('members eq "%s"' % self.u1), sorted([a, b]))
        self.assertEqual(self.ids('members[value eq "%s"]' % self.u1), sorted([a, b]))
        self.assertEqual(self.ids('members eq "%s"' % self.u3), [])
        self.assertEqual(self.ids('members eq "%s"' % h.uuid7()), [])
        self.assertEqual(self.ids('not (members eq "%s")' % self.u1), [self.g["id"]])
        self.assertEqual(self.ids('members eq "%s" and members eq "%s"' % (self.u1, self.u2)), [b])
        self.assertEqual(self.ids('members eq "%s" or members eq "%s"' % (self.u2, self.u3)), [b])
        # Entra ID's and Okta's "is this user in a group" lookup, with members excluded.
        r = self.find('id eq "%s" and members eq "%s"' % (b, self.u2), excludedAttributes="members")
        self.assertEqual(r["totalResults"], 1)
        self.assertNotIn("members", r["Resources"][0])

    def test_times(self):
        a, b, g = self.a["id"], self.b["id"], self.g["id"]
        self.assertEqual(self.ids('meta.created gt "2000-01-01T00:00:00Z"'), self.all)
        self.assertEqual(self.ids('meta.created lt "2000-01-01T00:00:00Z"'), [])
        self.assertEqual(self.ids('meta.lastModified ge "2000-01-01T00:00:00Z" and meta.lastModified le "2999-01-01T00:00:00Z"'), self.all)
        self.assertEqual(self.ids('meta.created ne "2000-01-01T00:00:00Z"'), self.all)
        # A member change moves lastModified (and the version).
        before = self.get_group(g)
        self.patched(g, [{"op": "add", "path": "members", "value": [{"value": self.u3}]}])
        after = self.get_group(g)
        self.assertNotEqual(after["meta"]["version"], before["meta"]["version"])
        self.assertGreaterEqual(after["meta"]["lastModified"], before["meta"]["lastModified"])
        self.assertEqual(self.ids('meta.lastModified ge "%s"' % after["meta"]["lastModified"]
                                  + ' and members eq "%s"' % self.u3), [g])
        ts.scim_error(self, self.c.get(BASE + "/Groups", params={"filter": 'meta.created co "2026"'}), 400, "invalidFilter")
        ts.scim_error(self, self.c.get(BASE + "/Groups", params={"filter": 'meta.created gt "yesterday"'}), 400, "invalidFilter")
        del a, b

    def test_user_ordering_operators(self):
        """gt/ge/lt/le reach the store as themselves (they were read as pr, ge, ... once)."""
        t = self.tag

        def users(flt):
            r = h.expect(self.c.get(BASE + "/Users", params={"filter": flt}), 200).json
            return sorted(u["userName"] for u in r["Resources"])
        self.assertEqual(users('userName gt "f2-%s" and userName lt "g"' % t), ["f3-" + t])
        self.assertEqual(users('userName ge "f2-%s" and userName le "f3-%s"' % (t, t)), ["f2-" + t, "f3-" + t])
        self.assertEqual(users('userName lt "f2-%s" and userName sw "f"' % t), ["f1-" + t])
        self.assertEqual(users('meta.created lt "2000-01-01T00:00:00Z"'), [])

    def test_logic(self):
        a, b, g, t = self.a["id"], self.b["id"], self.g["id"], self.tag
        self.assertEqual(self.ids('displayName sw "alpha" or externalId eq "b2-%s"' % t), sorted([a, b]))
        self.assertEqual(self.ids('displayName ew "-%s" and not (externalId pr)' % t), [g])
        self.assertEqual(self.ids('(displayName sw "a" or displayName sw "g") and not (members eq "%s")' % self.u1), [g])
        self.assertEqual(self.ids('not (not (id eq "%s"))' % a), [a])
        self.assertEqual(self.ids('meta.resourceType eq "Group" and displayName sw "gamma"'), [g])
        self.assertEqual(self.ids('meta.resourceType eq "User"'), [])

    def test_unsupported_is_invalid_filter(self):
        for flt, named in (('members.display eq "x"', "members.display"),
                           ('members pr', "members"),
                           ('members ne "%s"' % self.u1, "members"),
                           ('members.type eq "User"', "members.type"),
                           ('title eq "x"', "title"),
                           ('userName eq "x"', "username"),
                           ('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"', None),
                           ('displayName eq 1', "displayname"),
                           ('meta.resourceType co "G"', "meta.resourceType")):
            r = self.c.get(BASE + "/Groups", params={"filter": flt})
            j = ts.scim_error(self, r, 400, "invalidFilter")
            if named:
                self.assertIn(named.lower(), j["detail"].lower(), flt)
        ts.scim_error(self, self.c.get(BASE + "/Groups", params={"filter": 'displayName eq'}), 400, "invalidFilter")

    def test_sort_and_paging(self):
        t = self.tag
        mine = 'displayName ew "-%s"' % t
        names = lambda r: [x["displayName"].split("-")[0] for x in r["Resources"]]  # noqa: E731
        self.assertEqual(names(self.find(mine, sortBy="displayName")), ["Alpha", "Beta", "Gamma"])
        self.assertEqual(names(self.find(mine, sortBy="displayName", sortOrder="descending")), ["Gamma", "Beta", "Alpha"])
        self.assertEqual(names(self.find(mine, sortBy="meta.created", sortOrder="descending")), ["Gamma", "Beta", "Alpha"])
        self.assertEqual(names(self.find(mine, sortBy="meta.lastModified")), ["Alpha", "Beta", "Gamma"])
        self.assertEqual(names(self.find(mine, sortBy="externalId")), ["Gamma", "Alpha", "Beta"])
        self.assertEqual(names(self.find(mine)), ["Alpha", "Beta", "Gamma"])  # creation order
        r = self.find(mine, sortBy="displayName", startIndex=2, count=1)
        self.assertEqual((r["totalResults"], r["startIndex"], r["itemsPerPage"]), (3, 2, 1))
        self.assertEqual(names(r), ["Beta"])
        r = self.find(mine, count=0)
        self.assertEqual((r["totalResults"], r["itemsPerPage"], r["Resources"]), (3, 0, []))
        r = self.find(mine, startIndex=9)
        self.assertEqual((r["totalResults"], r["Resources"]), (3, []))
        ts.scim_error(self, self.c.get(BASE + "/Groups", params={"sortBy": "members"}), 400, "invalidValue")
        ts.scim_error(self, self.c.get(BASE + "/Groups", params={"sortBy": "displayName", "sortOrder": "up"}), 400, "invalidValue")

    def test_groups_search(self):
        t = self.tag
        r = self.c.post(BASE + "/Groups/.search", content_type=CT, json={
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
            "filter": 'displayName ew "-%s"' % t, "sortBy": "displayName", "sortOrder": "descending",
            "startIndex": 1, "count": 2, "attributes": ["displayName"]})
        h.expect(r, 200)
        self.assertEqual(r.json["totalResults"], 3)
        self.assertEqual([x["displayName"] for x in r.json["Resources"]], ["Gamma-" + t, "Beta-" + t])
        self.assertNotIn("members", r.json["Resources"][0])
        self.assertEqual(set(r.json["Resources"][0]), {"id", "schemas", "displayName"})
        ts.scim_error(self, self.c.post(BASE + "/Groups/.search", json={"filter": "title pr"}), 400, "invalidFilter")
        ts.scim_error(self, self.c.post(BASE + "/Groups/.search", json={"count": "x"}), 400, "invalidValue")

    def test_root_search(self):
        t = self.tag
        ext = "shared-" + t
        u = ts.new_user(self.c, "rs-" + t, externalId=ext)
        g = self.new_group("Shared-" + t, externalId=ext)

        def search(body):
            r = self.c.post(BASE + "/.search", content_type=CT, json=body)
            h.expect(r, 200)
            self.assertEqual(r.json["schemas"], [LIST])
            return r.json

        r = search({"filter": 'externalId eq "%s"' % ext})
        self.assertEqual(r["totalResults"], 2)
        got = [(x["meta"]["resourceType"], x["id"], x["schemas"][0]) for x in r["Resources"]]
        self.assertEqual(got, [("User", u["id"], USER), ("Group", g["id"], GROUP)])
        # Paging runs across the concatenation: users first, then groups.
        r = search({"filter": 'externalId eq "%s"' % ext, "startIndex": 2, "count": 1})
        self.assertEqual((r["totalResults"], r["itemsPerPage"]), (2, 1))
        self.assertEqual(r["Resources"][0]["id"], g["id"])
        r = search({"filter": 'externalId eq "%s"' % ext, "count": 1})
        self.assertEqual([x["id"] for x in r["Resources"]], [u["id"]])
        # An attribute only groups define is absent on users: they contribute nothing.
        r = search({"filter": 'members eq "%s"' % self.u1})
        self.assertEqual(sorted(x["id"] for x in r["Resources"]), sorted([self.a["id"], self.b["id"]]))
        # ... and "not" of it holds for every user.
        r = search({"filter": 'not (members eq "%s") and externalId eq "%s"' % (self.u1, ext)})
        self.assertEqual(r["totalResults"], 2)
        # userName is a User attribute: groups contribute nothing.
        r = search({"filter": 'userName eq "rs-%s"' % t})
        self.assertEqual([x["id"] for x in r["Resources"]], [u["id"]])
        r = search({"filter": 'meta.resourceType eq "Group" and displayName sw "shared-%s"' % t})
        self.assertEqual([x["id"] for x in r["Resources"]], [g["id"]])
        r = search({"filter": 'meta.resourceType eq "User" and externalId eq "%s"' % ext, "attributes": ["userName"]})
        self.assertEqual([x["id"] for x in r["Resources"]], [u["id"]])
        self.assertEqual(set(r["Resources"][0]), {"id", "schemas", "userName"})
        r = search({"count": 0})
        self.assertGreaterEqual(r["totalResults"], 4 + 4)  # 4 users (3 + the provisioner + rs) and 4 groups
        # displayName is defined by both types, and users cannot filter on theirs.
        ts.scim_error(self, self.c.post(BASE + "/.search", json={"filter": 'displayName eq "x"'}), 400, "invalidFilter")
        ts.scim_error(self, self.c.post(BASE + "/.search", json={"sortBy": "meta.created"}), 400, "invalidValue")
        ts.scim_error(self, self.c.post(BASE + "/.search", json={"filter": "x eq"}), 400, "invalidFilter")
        r = ts.S.client().post(BASE + "/.search", json={})
        self.assertEqual(r.status, 401, r.describe())


class AtomicTest(GroupsBase):
    def setUp(self):
        super().setUp()
        tag = h.uid()
        self.u1 = ts.new_user(self.c, "a1-" + tag)["id"]
        self.u2 = ts.new_user(self.c, "a2-" + tag)["id"]
        self.u3 = ts.new_user(self.c, "a3-" + tag)["id"]
        other = h.new_tenant(self.root)
        self.foreign = h.make_user(self.root, other, "foreign-" + tag)["id"]
        self.grp = self.new_group("Atomic-" + tag, [self.u1], externalId="atom-" + tag)

    def audit(self):
        return [e["id"] for e in h.audit_events(self.root, self.t, target=self.grp["id"])]

    def assert_unchanged(self):
        g = self.get_group(self.grp["id"])
        self.assertEqual(g["displayName"], self.grp["displayName"])
        self.assertEqual(g["externalId"], self.grp["externalId"])
        self.assertEqual(self.members(g), [self.u1])
        self.assertEqual(g["meta"]["version"], self.grp["meta"]["version"])
        rm = h.expect(self.root.get(h.tpath(self.t, "groups", self.grp["id"], "members")), 200).json
        self.assertEqual([m["id"] for m in rm["items"]], [self.u1])

    def test_patch_with_a_bad_member_changes_nothing(self):
        before = self.audit()
        gid = self.grp["id"]
        for bad in (h.uuid7(), self.foreign, "not-a-uuid"):
            j = ts.scim_error(self, self.patch(gid, [
                {"op": "replace", "path": "displayName", "value": "Renamed-" + h.uid()},
                {"op": "replace", "path": "externalId", "value": "other"},
                {"op": "remove", "path": 'members[value eq "%s"]' % self.u1},
                {"op": "add", "path": "members", "value": [{"value": self.u2}, {"value": bad}, {"value": self.u3}]}]),
                400, "invalidValue")
            self.assertIn(bad, j["detail"])
            self.assert_unchanged()
        self.assertEqual(self.audit(), before)

    def test_put_with_a_bad_member_changes_nothing(self):
        before = self.audit()
        ts.scim_error(self, self.c.put(BASE + "/Groups/" + self.grp["id"], content_type=CT, json={
            "schemas": [GROUP], "displayName": "Put-" + h.uid(), "externalId": "p",
            "members": [{"value": self.u2}, {"value": self.foreign}]}), 400, "invalidValue")
        self.assert_unchanged()
        self.assertEqual(self.audit(), before)

    def test_rename_conflict_changes_nothing(self):
        other = self.new_group("Taken-" + h.uid())
        ts.scim_error(self, self.patch(self.grp["id"], [
            {"op": "add", "path": "members", "value": [{"value": self.u2}]},
            {"op": "replace", "path": "displayName", "value": other["displayName"].upper()}]), 409, "uniqueness")
        self.assert_unchanged()

    def test_if_match(self):
        gid = self.grp["id"]
        r = self.patched(gid, [{"op": "add", "path": "members", "value": [{"value": self.u2}]}],
                                headers={"If-Match": self.grp["meta"]["version"]})
        self.assertNotEqual(r.etag, self.grp["meta"]["version"])
        ts.scim_error(self, self.patch(gid, [{"op": "add", "path": "members", "value": [{"value": self.u3}]}],
                                       headers={"If-Match": self.grp["meta"]["version"]}), 412)
        ts.scim_error(self, self.c.put(BASE + "/Groups/" + gid, content_type=CT, json={
            "displayName": "x-" + h.uid()}, headers={"If-Match": self.grp["meta"]["version"]}), 412)
        g = self.get_group(gid)
        self.assertEqual(self.members(g), sorted([self.u1, self.u2]))
        r = h.expect(self.c.put(BASE + "/Groups/" + gid, content_type=CT, json={
            "displayName": g["displayName"], "members": [{"value": self.u3}]}, headers={"If-Match": r.etag}), 200)
        self.assertEqual(self.members(r.json), [self.u3])

    def test_success_is_one_change_audited_per_member(self):
        gid = self.grp["id"]
        before = set(self.audit())
        r = self.patched(gid, [
            {"op": "replace", "path": "displayName", "value": "Done-" + h.uid()},
            {"op": "add", "path": "members", "value": [{"value": self.u2}, {"value": self.u3}, {"value": self.u2}]},
            {"op": "remove", "path": 'members[value eq "%s"]' % self.u1}]).json
        self.assertEqual(self.members(r), sorted([self.u2, self.u3]))
        new = [e for e in h.audit_events(self.root, self.t, target=gid) if e["id"] not in before]
        self.assertEqual(sorted(e["action"] for e in new),
                         ["group.member_add", "group.member_add", "group.member_remove", "group.update"])
        self.assertEqual({e["actor"]["id"] for e in new}, {self.prov_user["id"]})
        # A PATCH that changes nothing changes nothing.
        r2 = self.patched(gid, [{"op": "add", "path": "members", "value": [{"value": self.u2}]}]).json
        self.assertEqual(r2["meta"]["version"], r["meta"]["version"])

    def test_post_with_a_bad_member_leaves_nothing(self):
        name = "Half-" + h.uid()
        ts.scim_error(self, self.c.post(BASE + "/Groups", content_type=CT, json={
            "displayName": name, "members": [{"value": self.u2}, {"value": self.foreign}]}), 400, "invalidValue")
        r = self.find('displayName eq "%s"' % name)
        self.assertEqual(r["totalResults"], 0)
        self.assertFalse([e for e in h.audit_events(self.root, self.t, action="group.create")
                          if name in str(e.get("changes"))])
        g = self.new_group(name, [self.u2, self.u3])
        self.assertEqual(self.members(g), sorted([self.u2, self.u3]))

    def test_audit_verify(self):
        self.test_patch_with_a_bad_member_changes_nothing()
        self.test_success_is_one_change_audited_per_member()
        code, out, err = h.run_roster("audit", "verify", "--db", ts.S.db_path)
        self.assertEqual(code, 0, out + err)


if __name__ == "__main__":
    unittest.main()
