#!/usr/bin/env python3
"""The roster CLI's department commands against a running server: list (all, --roots,
--parent, paging), get (path, managers, counts), create, update (rename, describe, move with
--parent or --root, --if-match), delete (with and without --move-to), manager add and remove,
and user list --department [--direct]. Error paths: the server's problem and the CLI's exit
code (404 -> 6, 409 department.cycle and department.not_empty -> 7, 412 -> 7, 400 -> 8,
403 -> 5), and what the client refuses itself (exit 2) without sending anything: every such
case runs against a closed port, where a request would be exit 3."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness as h  # noqa: E402

S = None
UNKNOWN_ID = "01900000-0000-7000-8000-000000000000"


def setUpModule():
    global S
    S = h.Server().start()


def tearDownModule():
    if S is not None:
        S.stop()


def roster(*args, input=None):
    # ROSTER_TOKEN etc. from the caller's environment must not leak into these runs.
    e = {"ROSTER_TOKEN": "", "ROSTER_TENANT": "", "ROSTER_URL": ""}
    return h.run_roster(*args, env=e, timeout=60,
                        input=input.encode() if isinstance(input, str) else input)


def closed_url():
    return "http://127.0.0.1:%d" % h.free_port()


def field(out, key):
    """The value of "key: value" in a key: value block."""
    m = re.search(r"^%s:\s+(.*)$" % re.escape(key), out, re.M)
    assert m, "no %r in %r" % (key, out)
    return m.group(1)


class Base(unittest.TestCase):
    def setUp(self):
        self.root = S.root()
        self.t = h.new_tenant(self.root)
        self.admin_user = h.make_user(self.root, self.t, "adm-" + h.uid(), system_role="Administrator")
        self.admin_token = h.token_for(self.root, self.t, self.admin_user["id"])
        self.admin = S.client(self.admin_token)

    def cli(self, *args, token=None, url=None, **kw):
        """roster ARGS as the administrator, in the test's tenant."""
        return roster(*args, "--server", url or S.base_url, "--token", token or self.admin_token,
                      "--tenant", self.t["slug"], **kw)

    def ok(self, res):
        code, out, err = res
        self.assertEqual(code, 0, "exit %d\nstdout: %s\nstderr: %s" % (code, out, err))
        return out

    def fails(self, res, code, text=None):
        c, out, err = res
        self.assertEqual(c, code, "exit %d, wanted %d\nstdout: %s\nstderr: %s" % (c, code, out, err))
        if text is not None:
            self.assertIn(text, err)
        return out, err

    def create(self, name, *extra):
        """A department made with the CLI (--json)."""
        return json.loads(self.ok(self.cli("department", "create", "--name", name, "--json", *extra)))

    def get(self, d, status=200):
        return h.expect(self.admin.get(h.tpath(self.t, "departments", d["id"])), status).json

    def user(self, name, dept=None):
        extra = {"department_id": dept["id"]} if dept is not None else {}
        return h.make_user(self.root, self.t, name + "-" + h.uid(), **extra)

    def uget(self, u):
        return h.expect(self.root.get(h.tpath(self.t, "users", u["id"])), 200).json


class CliDepartmentTest(Base):
    def test_create_get_and_list(self):
        sec = self.create("Security", "--description", "the SOC and friends")
        self.assertEqual((sec["parent_id"], sec["path"], sec["description"]),
                         (None, ["Security"], "the SOC and friends"))
        # the plain output: a key: value block with the path joined
        out = self.ok(self.cli("department", "create", "--name", "SOC", "--parent", sec["id"]))
        soc_id = field(out, "id")
        self.assertEqual(field(out, "path"), "Security / SOC")
        self.assertEqual(field(out, "parent_id"), sec["id"])
        self.assertEqual(field(out, "managers"), "-")
        tier = self.create("Tier 1", "--parent", soc_id)
        self.assertEqual(tier["path"], ["Security", "SOC", "Tier 1"])
        self.user("analyst", tier)
        self.user("lead", {"id": soc_id})

        out = self.ok(self.cli("department", "get", soc_id))
        self.assertEqual((field(out, "name"), field(out, "path")), ("SOC", "Security / SOC"))
        self.assertEqual((field(out, "user_count"), field(out, "child_count")), ("1", "1"))
        self.assertEqual(json.loads(self.ok(self.cli("department", "get", soc_id, "--json"))),
                         self.get({"id": soc_id}))

        # list: all, roots, children of one
        ids = lambda out: [x["id"] for x in json.loads(out)["items"]]  # noqa: E731
        self.assertEqual(set(ids(self.ok(self.cli("department", "list", "--json")))),
                         {sec["id"], soc_id, tier["id"]})
        other = self.create("Finance")
        self.assertEqual(set(ids(self.ok(self.cli("department", "list", "--roots", "--json")))),
                         {sec["id"], other["id"]})
        self.assertEqual(ids(self.ok(self.cli("department", "list", "--parent", soc_id, "--json"))),
                         [tier["id"]])
        self.assertEqual(ids(self.ok(self.cli("department", "list", "--parent", tier["id"], "--json"))), [])
        out = self.ok(self.cli("department", "list"))
        self.assertRegex(out.splitlines()[0], r"^ID\s+NAME\s+PATH\s+USERS\s+CHILDREN\s+MANAGERS$")
        row = [line for line in out.splitlines() if line.startswith(tier["id"])]
        self.assertEqual(len(row), 1, out)
        self.assertRegex(row[0], r"Tier 1\s+Security / SOC / Tier 1\s+1\s+0\s+-$")

        # paging: one page and its cursor, or --all
        code, out, err = self.cli("department", "list", "--limit", "1")
        self.assertEqual(code, 0, err)
        self.assertEqual(len(out.splitlines()), 2)
        m = re.search(r"add --cursor (\S+), or --all", err)
        self.assertTrue(m, err)
        page2 = json.loads(self.ok(self.cli("department", "list", "--limit", "1", "--cursor", m.group(1),
                                            "--json")))
        self.assertEqual(len(page2["items"]), 1)
        self.assertNotIn(page2["items"][0]["id"], out)
        everything = json.loads(self.ok(self.cli("department", "list", "--limit", "1", "--all", "--json")))
        self.assertEqual(len(everything["items"]), 4)
        self.assertIsNone(everything["next_cursor"])

    def test_update_and_move(self):
        a = self.create("A")
        b = self.create("B")
        a1 = self.create("A1", "--parent", a["id"])
        a11 = self.create("A11", "--parent", a1["id"])
        out = self.ok(self.cli("department", "update", a1["id"], "--name", "Alpha one",
                               "--description", "renamed"))
        self.assertEqual((field(out, "name"), field(out, "path"), field(out, "description")),
                         ("Alpha one", "A / Alpha one", "renamed"))
        # a move is an update of the parent: under another department, then to the top
        moved = json.loads(self.ok(self.cli("department", "update", a1["id"], "--parent", b["id"], "--json")))
        self.assertEqual((moved["parent_id"], moved["path"]), (b["id"], ["B", "Alpha one"]))
        self.assertEqual(self.get(a11)["path"], ["B", "Alpha one", "A11"])
        moved = json.loads(self.ok(self.cli("department", "update", a1["id"], "--root", "--json")))
        self.assertEqual((moved["parent_id"], moved["path"]), (None, ["Alpha one"]))
        # --if-match: the current version passes, a stale one is 412 -> 7
        v = self.get(a1)["version"]
        self.fails(self.cli("department", "update", a1["id"], "--name", "X", "--if-match", str(v - 1)),
                   7, "request.precondition_failed")
        self.assertEqual(self.get(a1)["name"], "Alpha one")
        out = json.loads(self.ok(self.cli("department", "update", a1["id"], "--name", "A1",
                                          "--if-match", str(v), "--json")))
        self.assertEqual((out["name"], out["version"]), ("A1", v + 1))

    def test_cycle_and_tree_refusals(self):
        a = self.create("A")
        a1 = self.create("A1", "--parent", a["id"])
        a11 = self.create("A11", "--parent", a1["id"])
        for target in (a, a1, a11):
            self.fails(self.cli("department", "update", a["id"], "--parent", target["id"]), 7,
                       "department.cycle")
        out, _ = self.fails(self.cli("department", "update", a["id"], "--parent", a11["id"], "--json"), 7)
        self.assertEqual(json.loads(out)["code"], "department.cycle")
        self.assertEqual(self.get(a)["parent_id"], None)
        # sibling names are unique: 409 -> 7; the server's validation: 400 -> 8
        self.fails(self.cli("department", "create", "--name", "a1", "--parent", a["id"]), 7,
                   "department.name_taken")
        self.fails(self.cli("department", "create", "--name", "Z", "--parent", UNKNOWN_ID), 8,
                   "request.invalid_field")
        self.fails(self.cli("department", "create", "--name", ""), 8, "request.invalid_field")

    def test_delete(self):
        a = self.create("A")
        a1 = self.create("A1", "--parent", a["id"])
        x = self.create("X")
        u = self.user("member", a1)
        out, err = self.fails(self.cli("department", "delete", a1["id"]), 7, "department.not_empty")
        self.assertRegex(err, r"\(request [A-Za-z0-9._-]+\)")
        self.fails(self.cli("department", "delete", a["id"], "--move-to", a1["id"]), 7,
                   "department.move_into_subtree")
        self.fails(self.cli("department", "delete", a1["id"], "--move-to", UNKNOWN_ID), 8,
                   "request.invalid_parameter")
        self.assertEqual(self.get(a1)["user_count"], 1)
        # a stale version is refused before anything moves
        self.fails(self.cli("department", "delete", a1["id"], "--move-to", x["id"], "--if-match", "999"),
                   7, "request.precondition_failed")
        out = self.ok(self.cli("department", "delete", a1["id"], "--move-to", x["id"],
                               "--if-match", str(self.get(a1)["version"])))
        self.assertEqual(out.strip(), "department %s deleted; its users and children moved to %s"
                         % (a1["id"], x["id"]))
        self.get(a1, 404)
        self.assertEqual(self.uget(u)["department"]["id"], x["id"])
        out = self.ok(self.cli("department", "delete", a["id"]))
        self.assertEqual(out.strip(), "department %s deleted" % a["id"])
        self.assertEqual(self.ok(self.cli("department", "delete", self.create("Y")["id"], "--json")), "")
        self.fails(self.cli("department", "delete", a["id"]), 6, "department.not_found")

    def test_managers(self):
        a = self.create("A")
        boss = self.user("boss")
        out = self.ok(self.cli("department", "manager", "add", a["id"], boss["id"]))
        self.assertEqual(out.strip(), "user %s is a manager of department %s" % (boss["id"], a["id"]))
        self.ok(self.cli("department", "manager", "add", a["id"], boss["id"]))     # idempotent
        self.assertEqual(self.get(a)["managers"], [{"id": boss["id"], "username": boss["username"]}])
        out = self.ok(self.cli("department", "get", a["id"]))
        self.assertEqual(field(out, "managers"), "%s (%s)" % (boss["username"], boss["id"]))
        out = self.ok(self.cli("department", "list"))
        self.assertRegex(out, r"(?m)^%s .*\s%s$" % (a["id"], re.escape(boss["username"])))
        self.fails(self.cli("department", "manager", "add", a["id"], UNKNOWN_ID), 6, "user.not_found")
        self.fails(self.cli("department", "manager", "add", UNKNOWN_ID, boss["id"]), 6,
                   "department.not_found")
        out = self.ok(self.cli("department", "manager", "remove", a["id"], boss["id"]))
        self.assertEqual(out.strip(), "user %s is no longer a manager of department %s" % (boss["id"], a["id"]))
        self.assertEqual(self.get(a)["managers"], [])
        self.fails(self.cli("department", "manager", "remove", a["id"], boss["id"]), 6,
                   "department.not_manager")

    def test_user_list_by_department(self):
        a = self.create("A")
        a1 = self.create("A1", "--parent", a["id"])
        b = self.create("B")
        users = {k: self.user(k, d) for k, d in (("ua", a), ("ua1", a1), ("ub", b))}
        self.user("none")

        def listed(*args):
            out = self.ok(self.cli("user", "list", "--all", "--json", *args))
            return {x["username"].split("-")[0] for x in json.loads(out)["items"]}
        self.assertEqual(listed("--department", a["id"]), {"ua", "ua1"})
        self.assertEqual(listed("--department", a["id"], "--direct"), {"ua"})
        self.assertEqual(listed("--department", b["id"]), {"ub"})
        self.assertEqual(listed("--department", UNKNOWN_ID), set())
        out = self.ok(self.cli("user", "list", "--department", a1["id"]))
        self.assertIn(users["ua1"]["username"], out)
        self.assertNotIn(users["ua"]["username"], out)

    def test_unknown_ids_are_the_servers_404(self):
        a = self.create("A")
        for args in (["get", UNKNOWN_ID], ["update", UNKNOWN_ID, "--name", "x"],
                     ["update", a["id"], "--parent", UNKNOWN_ID], ["delete", UNKNOWN_ID],
                     ["manager", "remove", UNKNOWN_ID, self.admin_user["id"]]):
            code, out, err = self.cli("department", *args)
            if args[:2] == ["update", a["id"]]:
                # an unknown parent is a bad field of the body, not a missing resource
                self.assertEqual(code, 8, out + err)
                continue
            self.assertEqual(code, 6, "%r: %s%s" % (args, out, err))
            self.assertIn("department.not_found", err)
            self.assertRegex(err, r"\(request [A-Za-z0-9._-]+\)")
            out, _ = self.fails(self.cli("department", "--json", *args), 6)
            self.assertEqual(json.loads(out)["code"], "department.not_found")
        # another tenant's department is just as unknown
        other = h.new_tenant(self.root)
        self.fails(roster("department", "get", a["id"], "--server", S.base_url, "--token", S.root_token,
                          "--tenant", other["slug"]), 6, "department.not_found")

    def test_permission(self):
        plain = h.make_user(self.root, self.t, "plain-" + h.uid(), system_role="User")
        tok = h.token_for(self.root, self.t, plain["id"])
        self.fails(self.cli("department", "create", "--name", "Nope", token=tok), 5, "auth.permission_denied")
        self.fails(self.cli("department", "list", token=h.make_token_string()), 4)

    def test_usage_errors_send_nothing(self):
        url = closed_url()
        a = self.create("A")
        before = self.admin.list_all(h.tpath(self.t, "departments"))
        slug = ["--tenant", self.t["slug"]]
        cases = [
            (["department", "create", *slug], "'--name' is required"),
            (["department", "create", "--name", "X"], "needs --tenant"),
            (["department", "list", "--parent", a["id"], "--roots", *slug], "exclude each other"),
            (["department", "list", "--limit", "0", *slug], "--limit"),
            (["department", "get", *slug], "missing argument"),
            (["department", "get", "a", "b", *slug], "unexpected argument"),
            (["department", "update", a["id"], *slug], "nothing to change"),
            (["department", "update", a["id"], "--parent", a["id"], "--root", *slug], "exclude each other"),
            (["department", "update", "--name", "X", *slug], "missing argument"),
            (["department", "update", a["id"], "--name", "X", "--if-match", "", *slug], "if-match"),
            (["department", "delete", *slug], "missing argument"),
            (["department", "manager", "add", a["id"], *slug], "missing argument"),
            (["department", "manager", "remove", a["id"], "u", "v", *slug], "unexpected argument"),
            (["department", "manager", *slug], "unknown command 'department manager'"),
            (["department", "manager", "frob", *slug], "unknown command 'department manager'"),
            (["department", "frobnicate"], "unknown command"),
            (["department"], "missing department command"),
            (["department", "create", "--name", "X", "--set", "a=b", *slug], "unknown option '--set'"),
            (["user", "list", "--direct", *slug], "--direct needs --department"),
        ]
        for args, text in cases:
            code, out, err = roster(*args, "--server", url, "--token", self.admin_token)
            self.assertEqual(code, 2, "%r: exit %d\n%s%s" % (args, code, out, err))
            if text is not None:
                self.assertIn(text, err, args)
            self.assertIn("Usage: roster %s" % args[0], err, args)
        self.assertEqual(self.admin.list_all(h.tpath(self.t, "departments")), before)

    def test_help(self):
        code, out, err = roster("help", "department")
        self.assertEqual(code, 0, err)
        for c in ("list", "get", "create", "update", "delete", "manager add", "manager remove"):
            self.assertRegex(out, r"(?m)^  %s\s" % c)
        code, out, err = roster("help", "department", "manager", "add")
        self.assertEqual(code, 0, err)
        self.assertIn("Usage: roster department manager add ID USER_ID", out)
        code, out, err = roster("department", "update", "--help")
        self.assertEqual(code, 0, err)
        self.assertIn("[--parent ID | --root]", out)
        code, out, err = roster("help")
        self.assertRegex(out, r"(?m)^  department\s")
        self.fails(roster("help", "department", "manager"), 2, "no help for unknown command 'department manager'")


if __name__ == "__main__":
    h.main()
