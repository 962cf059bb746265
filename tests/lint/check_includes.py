#!/usr/bin/env python3
"""Checks the dependency rules of STYLE.md section 1 (and docs/architecture.md) on src/:

  util/          includes nothing of roster outside util/
  crypto/        only util/ (and itself)
  core/          only util/, crypto/, store/store.h, store/queries.h and core/; never
                 microhttpd.h, sqlite3.h, libpq-fe.h or curl/curl.h
  store/ engines (store/sqlite/, store/pg/, store/mem/) and store/ itself: only util/ and
                 store/ headers; never core/
  http/, api/, cli/: never store/ nor core internals (core/core_int.h)
  api/scim/      only util/, core/core.h (+ core/perms.h), http/http.h, scim/ and api/scim/
                 (jansson is a system header): the SCIM adapter reaches the store only
                 through the core
  scim/          only util/ and scim/ (pure SCIM parsers and PATCH engine; jansson is a system
                 header)
  delivery/      only util/, crypto/, core/core.h (+ core/perms.h) and delivery/ (libcurl and
                 jansson are system headers): never store/ nor core internals

Usage: check_includes.py SRC_DIR. Prints one line per violation, "file:line: rule", and
exits 1 if there is any. Standard library only.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')
MODULES = ('util', 'crypto', 'core', 'store', 'http', 'api', 'cli', 'app', 'delivery', 'scim')
# System headers that belong to an adapter or an engine, never to the domain core.
CORE_BANNED_SYSTEM = {'microhttpd.h', 'sqlite3.h', 'libpq-fe.h', 'curl/curl.h', 'curl.h'}
ENGINES = ('sqlite', 'pg', 'mem')


def layer_of(rel):
    """The layer of a file given its path relative to src/: 'util', 'crypto', 'core',
    'store', 'engine', 'http', 'api', 'cli', 'app' or None (main.c)."""
    parts = rel.split('/')
    if len(parts) < 2:
        return None
    if parts[0] == 'store' and len(parts) > 2 and parts[1] in ENGINES:
        return 'engine'
    return parts[0] if parts[0] in MODULES else None


def resolve(rel, target):
    """Path (relative to src/) that a quoted include names, or None when it is not roster's.
    "util/str.h" is rooted at src/ (include_directories: inc); a bare or relative name is
    looked up next to the including file first."""
    here = os.path.dirname(rel)
    local = os.path.normpath(os.path.join(here, target))
    first = target.split('/')[0]
    if first in MODULES:
        return os.path.normpath(target)
    if not local.startswith('..'):
        return local
    return None


def check_one(layer, rel, inc):
    """Returns the rule violated by including inc (resolved, relative to src/), or None."""
    top = inc.split('/')[0]
    if layer == 'util':
        if top != 'util':
            return 'util/ includes nothing of roster outside util/ (includes %s)' % inc
    elif layer == 'crypto':
        if top not in ('util', 'crypto'):
            return 'crypto/ includes only util/ (includes %s)' % inc
    elif layer == 'core':
        if top in ('util', 'crypto', 'core'):
            return None
        if inc in ('store/store.h', 'store/queries.h'):
            return None
        return ('core/ includes only util/, crypto/, store/store.h, store/queries.h and core/ '
                '(includes %s)' % inc)
    elif layer in ('engine', 'store'):
        if top == 'util':
            return None
        if top == 'store':
            return None
        if top == 'core':
            return 'store engines never include core/ (includes %s)' % inc
        return 'store engines include only util/ and store/ headers (includes %s)' % inc
    elif layer == 'scim':
        if top not in ('util', 'scim'):
            return 'scim/ includes only util/ and scim/ (includes %s)' % inc
    elif layer == 'delivery':
        if top in ('util', 'crypto', 'delivery') or inc in ('core/core.h', 'core/perms.h'):
            return None
        return ('delivery/ includes only util/, crypto/, core/core.h and delivery/ '
                '(includes %s)' % inc)
    elif layer == 'api' and rel.startswith('api/scim/'):
        if top in ('util', 'scim') or inc.startswith('api/scim/') or inc in (
                'core/core.h', 'core/perms.h', 'http/http.h'):
            return None
        return ('api/scim/ includes only util/, core/core.h, http/http.h, scim/ and '
                'api/scim/ (includes %s)' % inc)
    elif layer in ('http', 'api', 'cli'):
        if top == 'store':
            return '%s/ never includes store/ (includes %s)' % (layer, inc)
        if inc == 'core/core_int.h':
            return '%s/ never includes core internals (includes %s)' % (layer, inc)
    return None


def check_tree(src):
    violations = []
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(('.c', '.h')):
                continue
            path = os.path.join(root, name)
            rel = os.path.relpath(path, src).replace(os.sep, '/')
            layer = layer_of(rel)
            if layer is None or layer == 'app':
                continue
            try:
                with open(path, encoding='utf-8', errors='replace') as fh:
                    lines = fh.readlines()
            except OSError as e:
                violations.append('%s:0: unreadable: %s' % (path, e))
                continue
            for no, line in enumerate(lines, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                rule = None
                if layer == 'core' and target in CORE_BANNED_SYSTEM:
                    rule = 'core/ never includes %s' % target
                elif kind == '"':
                    inc = resolve(rel, target)
                    if inc is not None:
                        rule = check_one(layer, rel, inc)
                if rule:
                    violations.append('%s:%d: %s' % (path, no, rule))
    return violations


def self_test():
    """The checker's own table: (file, include, violates?)."""
    cases = [
        ('util/str.c', 'util/str.h', False),
        ('util/str.c', 'crypto/crypto.h', True),
        ('util/str.c', 'str.h', False),
        ('crypto/jwt.c', 'util/arena.h', False),
        ('crypto/jwt.c', 'core/core.h', True),
        ('api/scim/users.c', 'scim/patch.h', False),
        ('api/scim/users.c', 'core/core.h', False),
        ('api/scim/users.c', 'core/core_int.h', True),
        ('api/scim/users.c', 'store/store.h', True),
        ('api/scim/users.c', 'api/rest/rest_int.h', True),
        ('core/users.c', 'store/store.h', False),
        ('core/users.c', 'store/queries.h', False),
        ('core/users.c', 'store/store_int.h', True),
        ('core/users.c', 'store/sqlite/sqlite_int.h', True),
        ('core/users.c', 'http/http.h', True),
        ('core/users.c', 'core_int.h', False),
        ('store/sqlite/queries.c', 'store/store.h', False),
        ('store/sqlite/queries.c', 'sqlite_int.h', False),
        ('store/sqlite/queries.c', 'core/core_int.h', True),
        ('store/sqlite/queries.c', 'core/core.h', True),
        ('http/server.c', 'store/store.h', True),
        ('api/rest/users.c', 'core/core.h', False),
        ('api/rest/users.c', 'core/core_int.h', True),
        ('api/rest/users.c', 'rest_int.h', False),
        ('cli/cli.c', 'store/store.h', True),
        ('app/serve.c', 'store/store.h', False),
        ('scim/patch.c', 'util/arena.h', False),
        ('scim/patch.c', 'scim_int.h', False),
        ('scim/patch.c', 'core/core.h', True),
        ('scim/filter.c', 'http/http.h', True),
        ('delivery/smtp.c', 'core/core.h', False),
        ('delivery/smtp.c', 'crypto/crypto.h', False),
        ('delivery/smtp.c', 'delivery_int.h', False),
        ('delivery/smtp.c', 'core/core_int.h', True),
        ('delivery/smtp.c', 'store/store.h', True),
        ('delivery/smtp.c', 'http/http.h', True),
    ]
    bad = 0
    for rel, target, want in cases:
        inc = resolve(rel, target)
        got = inc is not None and check_one(layer_of(rel), rel, inc) is not None
        if got != want:
            print('self-test: %s including %s: violation=%s, want %s' % (rel, target, got, want))
            bad += 1
    return bad


def main(argv):
    if len(argv) != 2 or not os.path.isdir(argv[1]):
        print('usage: check_includes.py SRC_DIR', file=sys.stderr)
        return 2
    if self_test():
        return 1
    violations = check_tree(argv[1])
    for v in violations:
        print(v)
    if violations:
        print('%d include rule violation(s)' % len(violations))
        return 1
    print('include rules hold')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
