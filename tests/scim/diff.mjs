// The npm side of the differential tests (tests/scim/diff.py): reads one case per line on stdin
// and prints one JSON line per case, as tests/scim/scim_cli does for roster.
//
//   node diff.mjs filter   each line a filter: {"ok":true,"ast":…} from scim2-parse-filter's
//                          parse(), or {"ok":false,"error":"…"}
//   node diff.mjs patch    each line {"resource":{…},"ops":[…]}: {"ok":true,"result":{…}} from
//                          scim-patch's scimPatch() (on a copy, treatMissingAsAdd as by default),
//                          or {"ok":false,"error":"…"}
import { createInterface } from 'node:readline';
import { parse } from 'scim2-parse-filter';
import { scimPatch } from 'scim-patch';

const mode = process.argv[2];
if (mode !== 'filter' && mode !== 'patch') {
  process.stderr.write('usage: node diff.mjs filter|patch < cases\n');
  process.exit(2);
}

function one(line) {
  try {
    if (mode === 'filter') return { ok: true, ast: parse(line) };
    const c = JSON.parse(line);
    const result = scimPatch(c.resource, c.ops, { mutateDocument: false, treatMissingAsAdd: true });
    return { ok: true, result };
  } catch (e) {
    return { ok: false, error: String(e && e.message ? e.message : e) };
  }
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) process.stdout.write(JSON.stringify(one(line)) + '\n');
