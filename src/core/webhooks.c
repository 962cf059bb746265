/* Webhook subscriptions of a tenant, their signing secrets and their delivery log. The
 * secret must be usable for signing, so it is kept encrypted (AES-256-GCM under a key
 * derived from the server key, bound to the tenant and subscription ids), never hashed; it is
 * shown once, at creation, and never logged nor audited. Only webhooks.manage reaches these. */
#include "core/core_int.h"

#include <ctype.h>

#include "crypto/aead.h"
#include "crypto/crypto.h"

#define SECRET_PREFIX "whsec_"
#define SECRET_BYTES 32
#define SECRET_MAX 128
#define HKDF_INFO "roster webhook secrets"

/* ---- the secret ---------------------------------------------------------------------------------
 */

static bool secret_key(const struct core *c, unsigned char key[CRYPTO_AEAD_KEY_LEN])
{
	return crypto_hkdf_sha256(c->key, CORE_KEY_LEN, HKDF_INFO, key, CRYPTO_AEAD_KEY_LEN);
}

enum rs_status webhook_secret_seal(const struct core *c, const char *tenant_id, const char *id,
				   const char *secret, struct arena *a, char **out,
				   struct rs_err *err)
{
	unsigned char key[CRYPTO_AEAD_KEY_LEN], sealed[SECRET_MAX + CRYPTO_AEAD_OVERHEAD];
	size_t n = strlen(secret);
	char *aad = arena_printf(a, "%s/%s", tenant_id, id);
	bool ok;

	if (n > SECRET_MAX || !aad)
		return rs_fail(err, RS_E_INTERNAL, "webhook.secret", NULL,
			       "cannot seal the secret");
	ok = secret_key(c, key) && crypto_aead_seal(key, aad, strlen(aad), secret, n, sealed);
	crypto_wipe(key, sizeof(key));
	*out = ok ? arena_alloc(a, 2 * (n + CRYPTO_AEAD_OVERHEAD) + 1) : NULL;
	if (!*out)
		return rs_fail(err, RS_E_INTERNAL, "webhook.secret", NULL,
			       "cannot seal the secret");
	crypto_hex(sealed, n + CRYPTO_AEAD_OVERHEAD, *out);
	return RS_OK;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

enum rs_status webhook_secret_open(const struct core *c, const char *tenant_id, const char *id,
				   const char *sealed, struct arena *a, char **out,
				   struct rs_err *err)
{
	unsigned char key[CRYPTO_AEAD_KEY_LEN], raw[SECRET_MAX + CRYPTO_AEAD_OVERHEAD];
	size_t hl = sealed ? strlen(sealed) : 0, n = hl / 2;
	char *aad = arena_printf(a, "%s/%s", tenant_id, id);
	bool ok;

	if (hl % 2 || n < CRYPTO_AEAD_OVERHEAD || n > sizeof(raw) || !aad)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(sealed[2 * i]), lo = hexval(sealed[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		raw[i] = (unsigned char)(hi << 4 | lo);
	}
	*out = arena_alloc(a, n - CRYPTO_AEAD_OVERHEAD + 1);
	if (!*out)
		return core_oom(err);
	ok = secret_key(c, key) &&
	     crypto_aead_open(key, aad, strlen(aad), raw, n, (unsigned char *)*out);
	crypto_wipe(key, sizeof(key));
	if (!ok)
		goto bad;
	(*out)[n - CRYPTO_AEAD_OVERHEAD] = '\0';
	return RS_OK;
bad:
	/* Altered in the database, or sealed under another server key. */
	return rs_fail(err, RS_E_INTERNAL, "webhook.secret_unreadable", NULL,
		       "the webhook's secret can't be decrypted with this server key");
}

/* ---- validation ---------------------------------------------------------------------------------
 */

static enum rs_status check_url(const char *url, struct rs_err *err)
{
	const char *host;

	if (!url || !*url)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "url",
			       "'url' is required");
	if (strlen(url) > RS_WEBHOOK_URL_MAX || !str_valid_text(url) || strpbrk(url, " \t"))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "url",
			       "'url' must be an http or https URL of at most %d bytes",
			       RS_WEBHOOK_URL_MAX);
	if (strncasecmp(url, "https://", 8) == 0)
		host = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		host = url + 7;
	else
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "url",
			       "'url' must start with http:// or https://");
	if (!*host || *host == '/' || *host == ':' || *host == '?' || *host == '#')
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "url",
			       "'url' must name a host");
	return RS_OK;
}

static bool pattern_ok(const char *p)
{
	size_t n = strlen(p);

	if (strcmp(p, "*") == 0)
		return true;
	if (n == 0 || n > RS_EVENT_TYPE_MAX || p[0] == '.' || p[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		if (ch == '*') {
			if (i != n - 1 || i == 0 || p[i - 1] != '.')
				return false; /* only a trailing ".*" */
		} else if (ch == '.') {
			if (p[i + 1] == '.')
				return false;
		} else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_')) {
			return false;
		}
	}
	return true;
}

/* The patterns as stored: joined by single spaces. */
static enum rs_status check_events(const char *const *ev, int n, struct arena *a, char **out,
				   struct rs_err *err)
{
	size_t len = 1;
	char *p;

	if (n < 1 || n > WEBHOOK_EVENTS_MAX)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", "events",
			       "'events' must list 1-%d event types or patterns",
			       WEBHOOK_EVENTS_MAX);
	for (int i = 0; i < n; i++) {
		if (!ev[i] || !pattern_ok(ev[i]))
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", "events",
				       "'events' holds '%.64s': use an event type (user.created), "
				       "a prefix (user.*) or *",
				       ev[i] ? ev[i] : "null");
		len += strlen(ev[i]) + 1;
	}
	*out = p = arena_alloc(a, len);
	if (!p)
		return core_oom(err);
	for (int i = 0; i < n; i++) {
		size_t l = strlen(ev[i]);

		if (i)
			*p++ = ' ';
		memcpy(p, ev[i], l);
		p += l;
	}
	*p = '\0';
	return RS_OK;
}

static void split_events(const char *events, struct arena *a, struct webhook *w)
{
	const char *p = events;

	w->nevents = 0;
	while (p && *p && w->nevents < WEBHOOK_EVENTS_MAX) {
		const char *end = strchr(p, ' ');
		size_t n = end ? (size_t)(end - p) : strlen(p);

		if (n)
			w->events[w->nevents++] = arena_strndup(a, p, n);
		p = end ? end + 1 : NULL;
	}
}

static void row_webhook(struct store_rows *r, struct arena *a, struct webhook *w)
{
	memset(w, 0, sizeof(*w));
	w->tenant_id = col_str(r, WC_TENANT, a);
	w->id = col_str(r, WC_ID, a);
	w->url = col_str(r, WC_URL, a);
	split_events(store_col_text(r, WC_EVENTS), a, w);
	w->description = col_str(r, WC_DESC, a);
	w->active = store_col_int(r, WC_ACTIVE) != 0;
	w->created_at = store_col_int(r, WC_CREATED);
	w->updated_at = store_col_int(r, WC_UPDATED);
	w->version = store_col_int(r, WC_VERSION);
}

/* Loads a webhook; *sealed (optional) gets its encrypted secret. */
static enum rs_status webhook_find(struct store_tx *tx, const char *tenant_id, const char *id,
				   struct arena *a, struct webhook *out, const char **sealed,
				   struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!id || !uuid_valid(id))
		goto missing;
	st = Q_QUERY(tx, Q_WEBHOOK_GET, &r, err, SV_S(tenant_id), SV_S(id));
	if (st == RS_OK && (st = store_rows_next(r, &has, err)) == RS_OK && has) {
		row_webhook(r, a, out);
		if (sealed)
			*sealed = col_str(r, WC_SECRET, a);
	}
	store_rows_close(r);
	if (st != RS_OK || has)
		return st;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "webhook.not_found", NULL, "no such webhook");
}

static char *events_json(const struct webhook *w, struct arena *a)
{
	char *s = arena_strdup(a, "[");

	for (int i = 0; s && i < w->nevents; i++)
		s = arena_printf(a, "%s%s\"%s\"", s, i ? "," : "", w->events[i]);
	return s ? arena_printf(a, "%s]", s) : NULL;
}

/* ---- the API
 * ------------------------------------------------------------------------------------- */

struct ctx {
	struct core *c;
	const struct actor *who;
	const char *tenant, *id;
	const struct webhook_fields *f;
	const struct page *pg;
	struct arena *a;
	struct webhook *out;
	struct webhook_list *list;
	struct webhook_delivery_list *deliveries;
	const char **secret;
	struct job *job;
};

static enum rs_status create_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	const struct webhook_fields *f = x->f;
	unsigned char raw[SECRET_BYTES];
	char id[UUID_STR_LEN], b64[4 * ((SECRET_BYTES + 2) / 3) + 1], *events = NULL,
								      *sealed = NULL;
	char *secret;
	struct changes *ch;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_WEBHOOKS_MANAGE, err);
	if (st == RS_OK)
		st = check_url(f->url.v, err);
	if (st == RS_OK)
		st = check_events(f->events, f->events_set ? f->nevents : 0, x->a, &events, err);
	if (st == RS_OK)
		st = check_text("description", f->description.v, RS_TEXT_MAX, false, err);
	if (st != RS_OK)
		return st;
	if (!core_new_id(id) || !crypto_random(raw, sizeof(raw)))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	crypto_b64url(raw, sizeof(raw), b64);
	crypto_wipe(raw, sizeof(raw));
	secret = arena_printf(x->a, SECRET_PREFIX "%s", b64);
	crypto_wipe(b64, sizeof(b64));
	if (!secret)
		return core_oom(err);
	st = webhook_secret_seal(x->c, t.id, id, secret, x->a, &sealed, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_WEBHOOK_INSERT, NULL, err, SV_S(t.id), SV_S(id), SV_S(f->url.v),
			    SV_S(events), SV_S(f->description.v ? f->description.v : ""),
			    SV_S(sealed), SV_I(core_now(x->c)));
	if (st == RS_OK)
		st = webhook_find(tx, t.id, id, x->a, x->out, NULL, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	if (!ch)
		return core_oom(err);
	changes_str(ch, "url", NULL, x->out->url);
	changes_json(ch, "events", NULL, events_json(x->out, x->a));
	changes_str(ch, "description", NULL, x->out->description);
	st = audit_append(tx, x->c, x->who, t.id, "webhook.create", "webhook", id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	*x->secret = secret;
	return st;
}

enum rs_status webhooks_create(struct core *c, const struct actor *who, const char *tenant,
			       const struct webhook_fields *f, struct arena *a, struct webhook *out,
			       const char **secret, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .f = f, .a = a, .out = out, .secret = secret};

	*secret = NULL;
	return core_write(c, create_tx, &x, err);
}

static enum rs_status read_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct store_rows *r = NULL;
	struct tenant t;
	struct webhook w;
	const char *after = NULL;
	int limit = page_limit(x->pg);
	enum rs_status st;
	bool has;

	st = tenant_resolve(tx, x->who, x->tenant, x->a, &t, err);
	if (st == RS_OK)
		st = require_perm(x->who, PERM_WEBHOOKS_MANAGE, err);
	if (st != RS_OK)
		return st;
	if (x->out)
		return webhook_find(tx, t.id, x->id, x->a, x->out, NULL, err);
	if (x->pg && x->pg->cursor) {
		const char *sv;

		st = cursor_decode(x->c, x->a, x->pg->cursor, &sv, &after, err);
		if (st != RS_OK)
			return st;
	}
	if (x->list) {
		struct webhook_list *l = x->list;

		l->n = 0;
		l->next_cursor = NULL;
		l->items = arena_alloc(x->a, sizeof(*l->items) * (size_t)(limit + 1));
		if (!l->items)
			return core_oom(err);
		st = Q_QUERY(tx, Q_WEBHOOK_LIST, &r, err, SV_S(t.id), SV_S(after), SV_I(limit + 1));
		if (st != RS_OK)
			return st;
		while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
			if (l->n == limit) {
				l->next_cursor =
				    cursor_encode(x->c, x->a, "", l->items[limit - 1].id);
				break;
			}
			row_webhook(r, x->a, &l->items[l->n++]);
		}
		store_rows_close(r);
		return st;
	}
	st = webhook_find(tx, t.id, x->id, x->a, &w, NULL, err);
	if (st != RS_OK)
		return st;
	{
		struct webhook_delivery_list *l = x->deliveries;

		l->n = 0;
		l->next_cursor = NULL;
		l->items = arena_alloc(x->a, sizeof(*l->items) * (size_t)(limit + 1));
		if (!l->items)
			return core_oom(err);
		st = Q_QUERY(tx, Q_DELIVERY_LIST, &r, err, SV_S(t.id), SV_S(w.id), SV_S(after),
			     SV_I(limit + 1));
		if (st != RS_OK)
			return st;
		while ((st = store_rows_next(r, &has, err)) == RS_OK && has) {
			struct webhook_delivery *d;

			if (l->n == limit) {
				l->next_cursor =
				    cursor_encode(x->c, x->a, "", l->items[limit - 1].id);
				break;
			}
			d = &l->items[l->n++];
			d->webhook_id = col_str(r, DC_WEBHOOK, x->a);
			d->id = col_str(r, DC_ID, x->a);
			d->job_id = col_str(r, DC_JOB, x->a);
			d->event_id = col_str(r, DC_EVENT_ID, x->a);
			d->event_type = col_str(r, DC_EVENT_TYPE, x->a);
			d->attempt = store_col_int(r, DC_ATTEMPT);
			d->status_code =
			    store_col_null(r, DC_STATUS) ? 0 : store_col_int(r, DC_STATUS);
			d->duration_ms = store_col_int(r, DC_DURATION);
			d->error = col_str(r, DC_ERROR, x->a);
			d->at = store_col_int(r, DC_AT);
		}
		store_rows_close(r);
	}
	return st;
}

enum rs_status webhooks_list(struct core *c, const struct actor *who, const char *tenant,
			     const struct page *pg, struct arena *a, struct webhook_list *out,
			     struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .pg = pg, .a = a, .list = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

enum rs_status webhooks_get(struct core *c, const struct actor *who, const char *tenant,
			    const char *id, struct arena *a, struct webhook *out,
			    struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .out = out};

	return core_read(c, read_tx, &x, err);
}

enum rs_status webhooks_deliveries(struct core *c, const struct actor *who, const char *tenant,
				   const char *id, const struct page *pg, struct arena *a,
				   struct webhook_delivery_list *out, struct rs_err *err)
{
	struct ctx x = {
	    .c = c, .who = who, .tenant = tenant, .id = id, .pg = pg, .a = a, .deliveries = out};

	memset(out, 0, sizeof(*out));
	return core_read(c, read_tx, &x, err);
}

static enum rs_status update_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	const struct webhook_fields *f = x->f;
	struct tenant t;
	struct webhook before;
	char *events = NULL;
	const char *url, *desc;
	bool active;
	struct changes *ch;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_WEBHOOKS_MANAGE, err);
	if (st == RS_OK)
		st = webhook_find(tx, t.id, x->id, x->a, &before, NULL, err);
	if (st != RS_OK)
		return st;
	url = f->url.set ? f->url.v : before.url;
	desc = f->description.set ? (f->description.v ? f->description.v : "") : before.description;
	active = f->active_set ? f->active : before.active;
	st = check_url(url, err);
	if (st == RS_OK && f->events_set)
		st = check_events(f->events, f->nevents, x->a, &events, err);
	else if (st == RS_OK)
		st = check_events(before.events, before.nevents, x->a, &events, err);
	if (st == RS_OK)
		st = check_text("description", desc, RS_TEXT_MAX, false, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_WEBHOOK_UPDATE, NULL, err, SV_S(t.id), SV_S(before.id), SV_S(url),
			    SV_S(events), SV_S(desc), SV_I(active ? 1 : 0), SV_I(core_now(x->c)));
	if (st == RS_OK)
		st = webhook_find(tx, t.id, before.id, x->a, x->out, NULL, err);
	if (st != RS_OK)
		return st;
	ch = changes_new();
	if (!ch)
		return core_oom(err);
	changes_str(ch, "url", before.url, x->out->url);
	{
		const char *b = events_json(&before, x->a), *a2 = events_json(x->out, x->a);

		if (b && a2 && strcmp(b, a2) != 0)
			changes_json(ch, "events", b, a2);
	}
	changes_str(ch, "description", before.description, x->out->description);
	changes_str(ch, "active", before.active ? "true" : "false",
		    x->out->active ? "true" : "false");
	st = audit_append(tx, x->c, x->who, t.id, "webhook.update", "webhook", before.id,
			  changes_dump(ch, x->a), err);
	changes_free(ch);
	return st;
}

enum rs_status webhooks_update(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, const struct webhook_fields *f, struct arena *a,
			       struct webhook *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .f = f, .a = a, .out = out};

	return core_write(c, update_tx, &x, err);
}

static enum rs_status delete_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct webhook before;
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_WEBHOOKS_MANAGE, err);
	if (st == RS_OK)
		st = webhook_find(tx, t.id, x->id, x->a, &before, NULL, err);
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_WEBHOOK_DELETE, NULL, err, SV_S(t.id), SV_S(before.id));
	/* Its log goes with it; queued deliveries find it gone and fail at their next attempt. */
	if (st == RS_OK)
		st = Q_EXEC(tx, Q_WEBHOOK_DELIVERIES_CLEAR, NULL, err, SV_S(t.id), SV_S(before.id));
	if (st == RS_OK)
		st = audit_append(
		    tx, x->c, x->who, t.id, "webhook.delete", "webhook", before.id,
		    arena_printf(x->a, "{\"url\":{\"before\":\"%s\",\"after\":null}}", before.url),
		    err);
	return st;
}

enum rs_status webhooks_delete(struct core *c, const struct actor *who, const char *tenant,
			       const char *id, int64_t if_match, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id};

	(void)if_match; /* subscriptions carry no ETag: a delete is unconditional */
	return core_write_scratch(c, delete_tx, &x, &x.a, err);
}

static enum rs_status ping_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct ctx *x = arg;
	struct tenant t;
	struct webhook w;
	char job[UUID_STR_LEN];
	enum rs_status st = tenant_resolve_write(tx, x->who, x->tenant, x->a, &t, err);

	if (st == RS_OK)
		st = require_perm(x->who, PERM_WEBHOOKS_MANAGE, err);
	if (st == RS_OK)
		st = webhook_find(tx, t.id, x->id, x->a, &w, NULL, err);
	if (st == RS_OK)
		st =
		    outbox_event_one(tx, x->c, t.id, w.id, "webhook.ping",
				     arena_printf(x->a, "{\"webhook_id\":\"%s\"}", w.id), job, err);
	return st == RS_OK ? outbox_job_load(tx, t.id, job, x->a, x->job, err) : st;
}

enum rs_status webhooks_ping(struct core *c, const struct actor *who, const char *tenant,
			     const char *id, struct arena *a, struct job *out, struct rs_err *err)
{
	struct ctx x = {.c = c, .who = who, .tenant = tenant, .id = id, .a = a, .job = out};

	return core_write(c, ping_tx, &x, err);
}

/* ---- for the delivery adapter -------------------------------------------------------------------
 */

struct target_ctx {
	const struct core *c;
	const char *tenant_id, *id;
	struct arena *a;
	const char **url;
	char **secret;
};

static enum rs_status target_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct target_ctx *x = arg;
	struct webhook w;
	const char *sealed = NULL;
	enum rs_status st = webhook_find(tx, x->tenant_id, x->id, x->a, &w, &sealed, err);

	if (st == RS_OK && !w.active)
		st = rs_fail(err, RS_E_NOT_FOUND, "webhook.inactive", NULL,
			     "the subscription is deactivated");
	if (st == RS_OK)
		st = webhook_secret_open(x->c, x->tenant_id, w.id, sealed, x->a, x->secret, err);
	if (st == RS_OK)
		*x->url = w.url;
	return st;
}

enum rs_status webhooks_target(struct core *c, const char *tenant_id, const char *webhook_id,
			       struct arena *a, const char **url, char **secret, struct rs_err *err)
{
	struct target_ctx x = {c, tenant_id, webhook_id, a, url, secret};

	*url = NULL;
	*secret = NULL;
	return core_read(c, target_tx, &x, err);
}

struct log_ctx {
	struct core *c;
	const char *tenant_id;
	const struct webhook_delivery *d;
};

static enum rs_status log_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct log_ctx *x = arg;
	const struct webhook_delivery *d = x->d;
	char id[UUID_STR_LEN];

	if (!core_new_id(id))
		return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL, "no randomness");
	return Q_EXEC(tx, Q_DELIVERY_INSERT, NULL, err, SV_S(x->tenant_id), SV_S(d->webhook_id),
		      SV_S(id), SV_S(d->job_id), SV_S(d->event_id), SV_S(d->event_type),
		      SV_I(d->attempt), d->status_code > 0 ? SV_I(d->status_code) : SV_NULLV,
		      SV_I(d->duration_ms), SV_S(d->error), SV_I(core_now(x->c)));
}

enum rs_status webhooks_log_delivery(struct core *c, const char *tenant_id,
				     const struct webhook_delivery *d, struct rs_err *err)
{
	struct log_ctx x = {c, tenant_id, d};

	return core_write(c, log_tx, &x, err);
}
