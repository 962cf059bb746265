// An independent verifier of roster's access tokens: the npm package jose (not libjwt, not
// roster's code) checks a token against a JWKS, the way a platform that trusts roster would.
//
//   node verify.mjs --jwks FILE|URL --token FILE|JWT --issuer ISS [--at UNIX_SECONDS]
//
// --jwks: a JWKS document in a file, or the URL of one (http://…/.well-known/jwks.json).
// --token: a file holding the token, or the token itself. --issuer: the iss the token must
// carry. --at: the time to verify at (default now), for tokens minted on a pinned clock.
// Allowed: ES256 only, 30 s of clock tolerance (roster's own leeway).
//
// Prints one JSON line and exits 0 when the token verifies:
//   {"ok":true,"header":{…},"payload":{…}}
// or exits 1 when it does not (2 on a usage error):
//   {"ok":false,"code":"ERR_JWS_SIGNATURE_VERIFICATION_FAILED","message":"…"}
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify } from 'jose';

function usage(msg) {
  process.stderr.write(`verify.mjs: ${msg}\nusage: node verify.mjs --jwks FILE|URL ` +
    '--token FILE|JWT --issuer ISS [--at UNIX_SECONDS]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const out = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--(jwks|token|issuer|at)(?:=(.*))?$/.exec(argv[i]);
    if (!m) usage(`unexpected argument ${argv[i]}`);
    const v = m[2] !== undefined ? m[2] : argv[++i];
    if (v === undefined) usage(`--${m[1]} needs a value`);
    out[m[1]] = v;
  }
  for (const k of ['jwks', 'token', 'issuer']) if (!out[k]) usage(`--${k} is required`);
  return out;
}

function fileOr(value) {
  try {
    return readFileSync(value, 'utf8').trim();
  } catch {
    return value.trim();
  }
}

const args = parseArgs(process.argv.slice(2));
const keys = /^https?:\/\//.test(args.jwks)
  ? createRemoteJWKSet(new URL(args.jwks))
  : createLocalJWKSet(JSON.parse(readFileSync(args.jwks, 'utf8')));
const options = { issuer: args.issuer, algorithms: ['ES256'], clockTolerance: 30 };
if (args.at !== undefined) {
  if (!/^\d+$/.test(args.at)) usage('--at must be UNIX seconds');
  options.currentDate = new Date(Number(args.at) * 1000);
}

try {
  const { payload, protectedHeader } = await jwtVerify(fileOr(args.token), keys, options);
  process.stdout.write(JSON.stringify({ ok: true, header: protectedHeader, payload }) + '\n');
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e.code || e.name, message: e.message }) +
    '\n');
  process.exit(1);
}
