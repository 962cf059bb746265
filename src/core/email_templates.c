/* E-mail templates: the built-in texts of every lifecycle message, the tenant's overrides of
 * them, and {{variable}} rendering. Rendering is plain substitution, no logic: values are
 * HTML-escaped in the HTML part and lose CR/LF in the subject (no header injection). A
 * template may only name the variables its message defines, so a typo is refused when the
 * override is saved instead of rendering empty in every e-mail. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdlib.h>

#define COMMON_VARS                                                                                \
	"tenant_name", "tenant_slug", "public_url", "first_name", "last_name", "username", "email"

struct builtin {
	const char *name, *subject, *text, *html;
	const char *vars[EMAIL_TEMPLATE_VARS_MAX];
};

#define HTML_HEAD "<!DOCTYPE html><html><body style=\"font-family:sans-serif\">"
#define HTML_TAIL                                                                                  \
	"<p style=\"color:#777\">{{tenant_name}} &middot; sent by roster</p></body></html>"

static const struct builtin builtins[] = {
    {"invitation",
     "You are invited to {{tenant_name}}",
     "Hello {{first_name}},\n\nYou have been invited to join {{tenant_name}}.\n\n{{message}}\n\n"
     "Accept the invitation here (the link expires {{expires}}):\n{{link}}\n",
     HTML_HEAD "<p>Hello {{first_name}},</p><p>You have been invited to join "
	       "<b>{{tenant_name}}</b>.</p><p>{{message}}</p><p><a href=\"{{link}}\">Accept "
	       "the invitation</a> (the link expires {{expires}}).</p>" HTML_TAIL,
     {COMMON_VARS, "link", "expires", "message", "inviter"}},
    {"invitation_resent",
     "Your invitation to {{tenant_name}} (resent)",
     "Hello {{first_name}},\n\nHere is a new link to join {{tenant_name}}; earlier links no "
     "longer work.\n\n{{message}}\n\nAccept the invitation here (the link expires "
     "{{expires}}):\n{{link}}\n",
     HTML_HEAD "<p>Hello {{first_name}},</p><p>Here is a new link to join "
	       "<b>{{tenant_name}}</b>; earlier links no longer work.</p><p>{{message}}</p>"
	       "<p><a href=\"{{link}}\">Accept the invitation</a> (the link expires "
	       "{{expires}}).</p>" HTML_TAIL,
     {COMMON_VARS, "link", "expires", "message", "inviter"}},
    {"suspension",
     "Your {{tenant_name}} account is suspended",
     "Hello {{first_name}},\n\nYour account {{username}} at {{tenant_name}} is suspended "
     "until {{until}}.\n\nReason: {{reason}}\n",
     HTML_HEAD
     "<p>Hello {{first_name}},</p><p>Your account <b>{{username}}</b> at "
     "{{tenant_name}} is suspended until {{until}}.</p><p>Reason: {{reason}}</p>" HTML_TAIL,
     {COMMON_VARS, "reason", "until"}},
    {"resumption",
     "Your {{tenant_name}} account is active again",
     "Hello {{first_name}},\n\nYour account {{username}} at {{tenant_name}} is active "
     "again.\n\n{{link}}\n",
     HTML_HEAD
     "<p>Hello {{first_name}},</p><p>Your account <b>{{username}}</b> at "
     "{{tenant_name}} is active again.</p><p><a href=\"{{link}}\">{{link}}</a></p>" HTML_TAIL,
     {COMMON_VARS, "link"}},
    {"deactivation",
     "Your {{tenant_name}} account is deactivated",
     "Hello {{first_name}},\n\nYour account {{username}} at {{tenant_name}} is "
     "deactivated.\n\nReason: {{reason}}\n",
     HTML_HEAD "<p>Hello {{first_name}},</p><p>Your account <b>{{username}}</b> at "
	       "{{tenant_name}} is deactivated.</p><p>Reason: {{reason}}</p>" HTML_TAIL,
     {COMMON_VARS, "reason"}},
    {"reactivation",
     "Your {{tenant_name}} account is reactivated",
     "Hello {{first_name}},\n\nYour account {{username}} at {{tenant_name}} is active "
     "again.\n\n{{link}}\n",
     HTML_HEAD
     "<p>Hello {{first_name}},</p><p>Your account <b>{{username}}</b> at "
     "{{tenant_name}} is active again.</p><p><a href=\"{{link}}\">{{link}}</a></p>" HTML_TAIL,
     {COMMON_VARS, "link"}},
    {"deletion",
     "Your {{tenant_name}} account is deleted",
     "Hello {{first_name}},\n\nYour account {{username}} at {{tenant_name}} has been "
     "deleted.\n\n{{reason}}\n",
     HTML_HEAD "<p>Hello {{first_name}},</p><p>Your account <b>{{username}}</b> at "
	       "{{tenant_name}} has been deleted.</p><p>{{reason}}</p>" HTML_TAIL,
     {COMMON_VARS, "reason"}},
    {"role_change",
     "Your roles at {{tenant_name}} changed",
     "Hello {{first_name}},\n\nYour roles at {{tenant_name}} are now: {{roles}}.\n",
     HTML_HEAD "<p>Hello {{first_name}},</p><p>Your roles at {{tenant_name}} are now: "
	       "<b>{{roles}}</b>.</p>" HTML_TAIL,
     {COMMON_VARS, "roles"}},
};

static const struct builtin *builtin_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(builtins) / sizeof(builtins[0]); i++) {
		if (strcmp(builtins[i].name, name) == 0)
			return &builtins[i];
	}
	return NULL;
}

static void from_builtin(const struct builtin *b, struct email_template *out)
{
	memset(out, 0, sizeof(*out));
	out->name = b->name;
	out->subject = b->subject;
	out->text = b->text;
	out->html = b->html;
	for (int i = 0; i < EMAIL_TEMPLATE_VARS_MAX && b->vars[i]; i++)
		out->vars[out->nvars++] = b->vars[i];
}

/* ---- rendering --------------------------------------------------------------------------------
 */

/* A growing string capped at RS_EMAIL_PART_MAX; oom set once it can't grow. */
struct sb {
	char *p;
	size_t n, cap;
	bool oom;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

		while (cap < b->n + n + 1)
			cap *= 2;
		if (cap > (size_t)RS_EMAIL_PART_MAX * 4 || !(p = realloc(b->p, cap))) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

static void sb_value(struct sb *b, const char *v, bool html, bool header)
{
	for (const char *p = v; *p; p++) {
		const char *rep = NULL;

		if (header && (*p == '\r' || *p == '\n')) {
			sb_add(b, " ", 1);
			continue;
		}
		if (html) {
			switch (*p) {
			case '&':
				rep = "&amp;";
				break;
			case '<':
				rep = "&lt;";
				break;
			case '>':
				rep = "&gt;";
				break;
			case '"':
				rep = "&quot;";
				break;
			case '\'':
				rep = "&#39;";
				break;
			default:
				break;
			}
		}
		if (rep)
			sb_add(b, rep, strlen(rep));
		else
			sb_add(b, p, 1);
	}
}

static bool var_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* At s (just after "{{"): the variable name [*name, *name + *len) and the text after "}}".
 * NULL when this is not a well-formed reference. Blanks around the name are allowed. */
static const char *parse_ref(const char *s, const char **name, size_t *len)
{
	while (*s == ' ')
		s++;
	*name = s;
	while (var_char(*s))
		s++;
	*len = (size_t)(s - *name);
	while (*s == ' ')
		s++;
	if (*len == 0 || *len > 32 || s[0] != '}' || s[1] != '}')
		return NULL;
	return s + 2;
}

char *email_render(struct arena *a, const char *tmpl, const json_t *vars, bool html, bool header)
{
	struct sb b = {0};
	const char *p = tmpl;
	char *out;

	sb_add(&b, "", 0);
	while (*p) {
		const char *open = strstr(p, "{{"), *name, *after;
		size_t len;

		if (!open) {
			sb_add(&b, p, strlen(p));
			break;
		}
		sb_add(&b, p, (size_t)(open - p));
		after = parse_ref(open + 2, &name, &len);
		if (!after) {
			/* Not a reference (saved templates never hold one): kept as written. */
			sb_add(&b, "{{", 2);
			p = open + 2;
			continue;
		}
		{
			char key[40];
			json_t *v;

			memcpy(key, name, len);
			key[len] = '\0';
			v = json_object_get(vars, key);
			if (json_is_string(v))
				sb_value(&b, json_string_value(v), html, header);
		}
		p = after;
	}
	out = b.oom ? NULL : arena_strndup(a, b.p, b.n);
	free(b.p);
	return out;
}

/* UTF-8 text where only tab, CR and LF of the control characters may appear. */
static bool part_text_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		int extra;

		if (*p < 0x80) {
			if ((*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') || *p == 0x7f)
				return false;
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0 && *p >= 0xc2)
			extra = 1;
		else if ((*p & 0xf0) == 0xe0)
			extra = 2;
		else if ((*p & 0xf8) == 0xf0 && *p <= 0xf4)
			extra = 3;
		else
			return false;
		p++;
		for (int i = 0; i < extra; i++, p++) {
			if ((*p & 0xc0) != 0x80)
				return false;
		}
	}
	return true;
}

enum rs_status email_template_check(const struct email_template *t, const char *field,
				    const char *tmpl, struct rs_err *err)
{
	const char *p = tmpl;

	if (!tmpl || !*tmpl)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
			       "'%s' is required", field);
	if (strlen(tmpl) > RS_EMAIL_PART_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
			       "'%s' is longer than %d bytes", field, RS_EMAIL_PART_MAX);
	if (!part_text_ok(tmpl) || (strcmp(field, "subject") == 0 && strpbrk(tmpl, "\r\n")))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
			       "'%s' must be UTF-8 text%s", field,
			       strcmp(field, "subject") == 0 ? " on one line" : "");
	while ((p = strstr(p, "{{")) != NULL) {
		const char *name, *after;
		size_t len = 0;
		bool known = false;

		after = parse_ref(p + 2, &name, &len);
		if (!after)
			return rs_fail(err, RS_E_INVALID, "template.syntax", field,
				       "'%s': '{{' must start a reference like {{first_name}}",
				       field);
		for (int i = 0; i < t->nvars && !known; i++)
			known = strlen(t->vars[i]) == len && memcmp(t->vars[i], name, len) == 0;
		if (!known)
			return rs_fail(err, RS_E_INVALID, "template.unknown_variable", field,
				       "'%s' uses {{%.*s}}, which template '%s' does not define",
				       field, (int)len, name, t->name);
		p = after;
	}
	return RS_OK;
}

/* ---- storage ----------------------------------------------------------------------------------
 */

enum rs_status email_template_load(struct store_tx *tx, const char *tenant_id, const char *name,
				   struct arena *a, struct email_template *out, struct rs_err *err)
{
	const struct builtin *b = builtin_find(name);
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!b)
		return rs_fail(err, RS_E_NOT_FOUND, "template.not_found", NULL,
			       "no such e-mail template");
	from_builtin(b, out);
	st = Q_QUERY(tx, Q_EMAIL_TEMPLATE_GET, &r, err, SV_S(tenant_id), SV_S(b->name));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		out->subject = col_str(r, 0, a);
		out->text = col_str(r, 1, a);
		out->html = col_str(r, 2, a);
		out->updated_at = store_col_int(r, 3);
		out->overridden = true;
	}
	store_rows_close(r);
	return st;
}

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *name, *to;
	const struct email_template_req *req;
	struct arena *a;
	struct email_template *out;
	struct job *job;
};

static enum rs_status get_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	enum rs_status st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_TENANT_SETTINGS, err);
	return st == RS_OK ? email_template_load(tx, t.id, x->name, x->a, x->out, err) : st;
}

enum rs_status email_templates_get(struct core *c, const struct actor *who, const char *tenant,
				   const char *name, struct arena *a, struct email_template *out,
				   struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .name = name, .a = a, .out = out};

	return core_read(c, get_tx, &x, err);
}

static enum rs_status put_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct email_template before;
	struct changes *ch;
	char *doc;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_TENANT_SETTINGS, err);
	if (st == RS_OK)
		st = email_template_load(tx, t.id, x->name, x->a, &before, err);
	if (st == RS_OK)
		st = email_template_check(&before, "subject", x->req->subject, err);
	if (st == RS_OK)
		st = email_template_check(&before, "text", x->req->text, err);
	if (st == RS_OK)
		st = email_template_check(&before, "html", x->req->html, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_EMAIL_TEMPLATE_PUT, NULL, err, SV_S(t.id), SV_S(before.name),
			    SV_S(x->req->subject), SV_S(x->req->text), SV_S(x->req->html),
			    SV_I(core_now(x->c)));
	if (st != RS_OK)
		return st;
	ch = changes_new();
	if (!ch)
		return core_oom(err);
	changes_str(ch, "subject", before.subject, x->req->subject);
	changes_str(ch, "text", before.text, x->req->text);
	changes_str(ch, "html", before.html, x->req->html);
	doc = changes_dump(ch, x->a);
	changes_free(ch);
	st = audit_append(tx, x->c, x->who, t.id, "email_template.update", "email_template",
			  before.name, doc, err);
	return st == RS_OK ? email_template_load(tx, t.id, x->name, x->a, x->out, err) : st;
}

enum rs_status email_templates_put(struct core *c, const struct actor *who, const char *tenant,
				   const char *name, const struct email_template_req *req,
				   struct arena *a, struct email_template *out, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .name = name, .req = req, .a = a, .out = out};

	return core_write(c, put_tx, &x, err);
}

static enum rs_status delete_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct email_template cur;
	int64_t changed = 0;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_TENANT_SETTINGS, err);
	if (st == RS_OK)
		st = email_template_load(tx, t.id, x->name, x->a, &cur, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_EMAIL_TEMPLATE_DELETE, &changed, err, SV_S(t.id), SV_S(cur.name));
	if (st != RS_OK || changed == 0)
		return st; /* no override: nothing changed, nothing to audit */
	return audit_append(tx, x->c, x->who, t.id, "email_template.delete", "email_template",
			    cur.name, NULL, err);
}

enum rs_status email_templates_delete(struct core *c, const struct actor *who, const char *tenant,
				      const char *name, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .name = name};

	return core_write_scratch(c, delete_tx, &x, &x.a, err);
}

static enum rs_status test_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct email_template cur;
	char id[UUID_STR_LEN];
	json_t *vars;
	char *vars_text, *doc;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_TENANT_SETTINGS, err);
	if (st == RS_OK)
		st = email_template_load(tx, t.id, x->name, x->a, &cur, err);
	if (st != RS_OK)
		return st;
	/* Sample values for every variable a template can name. */
	vars = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s}", "first_name", "Ada",
			 "last_name", "Lovelace", "username", "ada.sample", "link",
			 arena_printf(x->a, "%s/accept?token=sample-token", core_public_url(x->c)),
			 "expires", "in 7 days", "message", "This is a test of the template.",
			 "inviter", "An administrator", "reason", "A sample reason", "until",
			 "2026-12-31T00:00:00Z", "roles", "Admin, Member");
	vars_text = vars ? json_dumps(vars, JSON_COMPACT) : NULL;
	json_decref(vars);
	if (!vars_text)
		return core_oom(err);
	doc = arena_strdup(x->a, vars_text);
	free(vars_text);
	st = outbox_email_id(tx, x->c, t.id, cur.name, x->to, doc, id, err);
	if (st == RS_OK)
		st = audit_append(
		    tx, x->c, x->who, t.id, "email_template.test", "email_template", cur.name,
		    arena_printf(x->a, "{\"job\":{\"before\":null,\"after\":\"%s\"}}", id), err);
	return st == RS_OK ? outbox_job_load(tx, t.id, id, x->a, x->job, err) : st;
}

enum rs_status email_templates_test(struct core *c, const struct actor *who, const char *tenant,
				    const char *name, const char *to, struct arena *a,
				    struct job *out, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .name = name, .to = to, .a = a, .job = out};

	return core_write(c, test_tx, &x, err);
}
