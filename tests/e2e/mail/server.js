// A loopback SMTP server for roster's e2e tests (tests/e2e/test_outbox.py).
//
//   node server.js OUT_DIR [PORT]
//
// Listens on 127.0.0.1 (PORT, default 0 = any free port), prints {"port": N} on stdout once it
// listens, and writes every message it accepts to OUT_DIR/<n>.json: the envelope, the headers,
// the text and HTML parts (parsed by mailparser). Plain SMTP, STARTTLS not offered, any
// credentials accepted. Exits on SIGTERM or when its stdin closes (the test died).
"use strict";

const fs = require("fs");
const path = require("path");
const { SMTPServer } = require("smtp-server");
const { simpleParser } = require("mailparser");

const outDir = process.argv[2];
const port = Number(process.argv[3] || 0);
if (!outDir) {
  console.error("usage: node server.js OUT_DIR [PORT]");
  process.exit(2);
}
fs.mkdirSync(outDir, { recursive: true });
let seq = 0;

const server = new SMTPServer({
  secure: false,
  disabledCommands: ["STARTTLS"],
  authOptional: true,
  logger: false,
  onAuth(auth, session, cb) {
    cb(null, { user: auth.username });
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("error", (e) => cb(e));
    stream.on("end", () => {
      const raw = Buffer.concat(chunks);
      simpleParser(raw)
      .then((mail) => {
        const headers = {};
        for (const [k, v] of mail.headers) {
          headers[k] = typeof v === "string" ? v : (v && v.text) || (v && v.value) || JSON.stringify(v);
        }
        const msg = {
          envelope: {
            from: session.envelope.mailFrom && session.envelope.mailFrom.address,
            to: session.envelope.rcptTo.map((r) => r.address),
          },
          user: session.user || null,
          headers,
          message_id: mail.messageId || null,
          subject: mail.subject || null,
          from: mail.from ? mail.from.text : null,
          to: mail.to ? mail.to.text : null,
          date: mail.date ? mail.date.toISOString() : null,
          text: mail.text || null,
          html: typeof mail.html === "string" ? mail.html : null,
          content_type: mail.headers.get("content-type") ? mail.headers.get("content-type").value : null,
          raw: raw.toString("latin1"),
        };
        const name = String(++seq).padStart(6, "0") + ".json";
        const tmp = path.join(outDir, "." + name);
        fs.writeFileSync(tmp, JSON.stringify(msg, null, 1));
        fs.renameSync(tmp, path.join(outDir, name)); // readers never see half a file
        cb();
      })
      .catch((e) => cb(e));
    });
  },
});

server.listen(port, "127.0.0.1", () => {
  process.stdout.write(JSON.stringify({ port: server.server.address().port }) + "\n");
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
