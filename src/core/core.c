/* struct core, access checks, row mapping, cursors and validation shared by core/ modules. */
#include "core/core_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "crypto/crypto.h"
#include "util/timeutil.h"

static int64_t wall_clock(void *ctx)
{
	(void)ctx;
	return time_now_ms();
}

static void core_on_signal(unsigned sigs, void *ctx)
{
	if (sigs & STORE_SIG_AUTH)
		core_auth_changed(ctx);
	if (sigs & STORE_SIG_KEYS)
		keys_changed(ctx);
}

static void core_caches_free(struct core *c)
{
	auth_cache_free(c->cache);
	session_cache_free(c->sessions);
	throttle_free(c->throttle);
	keys_cache_free(c->keys);
	api_cache_free(c->api);
	jwt_cache_free(c->jwts);
	list_cache_free(c->lists);
}

enum rs_status core_new(const struct core_config *cfg, struct core **out, struct rs_err *err)
{
	struct core *c = calloc(1, sizeof(*c));

	if (!c)
		return core_oom(err);
	c->store = cfg->store;
	memcpy(c->key, cfg->key, CORE_KEY_LEN);
	c->now_ms = cfg->now_ms ? cfg->now_ms : wall_clock;
	c->clock_ctx = cfg->clock_ctx;
	if (cfg->public_url) {
		/* Links are built as public_url + "/path": no trailing slash. */
		size_t n = strlen(cfg->public_url);

		while (n > 0 && cfg->public_url[n - 1] == '/')
			n--;
		if (n < sizeof(c->public_url)) {
			memcpy(c->public_url, cfg->public_url, n);
			c->public_url[n] = '\0';
		}
	}
	atomic_init(&c->auth_epoch, 1);
	atomic_init(&c->store_errors, 0);
	atomic_init(&c->ready_checked_ms, 0);
	atomic_init(&c->ready, false);
	atomic_init(&c->signed_purged_ms, 0);
	c->access_token_ttl_ms =
	    (cfg->access_token_ttl_s > 0 ? cfg->access_token_ttl_s : ACCESS_TOKEN_TTL_DEFAULT_S) *
	    1000;
	c->cache = auth_cache_new();
	c->sessions = session_cache_new();
	c->throttle = throttle_new(cfg->login_per_minute);
	c->keys = keys_cache_new();
	c->api = api_cache_new();
	c->jwts = jwt_cache_new();
	c->lists = list_cache_new();
	if (!c->cache || !c->sessions || !c->throttle || !c->keys || !c->api || !c->jwts ||
	    !c->lists) {
		core_caches_free(c);
		free(c);
		return core_oom(err);
	}
	/* Every node's cached actors die with any revocation committed by any node. */
	if (c->store && store_watch(c->store, core_on_signal, c, err) != RS_OK) {
		core_caches_free(c);
		free(c);
		return RS_E_INTERNAL;
	}
	*out = c;
	return RS_OK;
}

void core_free(struct core *c)
{
	if (!c)
		return;
	jobs_stop(c);
	if (c->store)
		(void)store_watch(c->store, NULL, NULL, NULL); /* the store may outlive us */
	core_caches_free(c);
	crypto_wipe(c->key, sizeof(c->key));
	free(c);
}

int64_t core_now(const struct core *c)
{
	return c->now_ms(c->clock_ctx);
}

static enum rs_status ready_tx(struct store_tx *tx, void *arg, struct rs_err *err)
{
	struct arena *a = arg;
	struct tenant t;

	return tenant_load(tx, "system", a, &t, err);
}

bool core_ready(struct core *c)
{
	int64_t now = time_now_ms();
	int64_t last = atomic_load(&c->ready_checked_ms);

	/* One prober per second; the others read the last answer. */
	if (now - last >= 1000 &&
	    atomic_compare_exchange_strong(&c->ready_checked_ms, &last, now)) {
		struct arena a;
		struct rs_err err;

		arena_init(&a, 0);
		atomic_store(&c->ready, store_read(c->store, ready_tx, &a, &err) == RS_OK);
		arena_release(&a);
	}
	return atomic_load(&c->ready);
}

uint64_t core_store_errors(const struct core *c)
{
	return atomic_load(&c->store_errors);
}

static enum rs_status count_store_error(struct core *c, enum rs_status st)
{
	if (st == RS_E_UNAVAILABLE || st == RS_E_INTERNAL)
		atomic_fetch_add(&c->store_errors, 1);
	return st;
}

enum rs_status core_read(struct core *c, store_fn fn, void *ctx, struct rs_err *err)
{
	return count_store_error(c, store_read(c->store, fn, ctx, err));
}

enum rs_status core_write(struct core *c, store_fn fn, void *ctx, struct rs_err *err)
{
	return count_store_error(c, store_write(c->store, fn, ctx, err));
}

enum rs_status core_write_scratch(struct core *c, store_fn fn, void *ctx, struct arena **slot,
				  struct rs_err *err)
{
	struct arena a;
	enum rs_status st;

	arena_init(&a, 0);
	*slot = &a;
	st = core_write(c, fn, ctx, err);
	*slot = NULL;
	arena_release(&a);
	return st;
}

void core_auth_changed(struct core *c)
{
	atomic_fetch_add(&c->auth_epoch, 1);
}

bool core_new_id(char out[UUID_STR_LEN])
{
	return uuid7_new(time_now_ms(), out);
}

enum rs_status core_oom(struct rs_err *err)
{
	return rs_fail(err, RS_E_INTERNAL, "internal.out_of_memory", NULL, "out of memory");
}

/* The depth bound is the store's own (select_sql.h): deeper trees are refused there, this
 * only keeps the recursion finite. */
static enum rs_status pred_compile(const struct pred *p, int depth, const int *attr_store,
				   size_t nattr, struct arena *a, const struct store_pred **out,
				   struct rs_err *err)
{
	struct store_pred *q;
	enum rs_status st;

	if (!p || depth > 128)
		return rs_fail(err, RS_E_INVALID, "request.invalid_filter", NULL,
			       "the filter is malformed or nested too deeply");
	if ((unsigned)p->op > PRED_NOT)
		return rs_fail(err, RS_E_INVALID, "request.invalid_filter", NULL,
			       "unknown filter operator");
	q = arena_alloc(a, sizeof(*q));
	if (!q)
		return core_oom(err);
	memset(q, 0, sizeof(*q));
	/* enum pred_op lists the operators in enum store_op's order. */
	q->op = (enum store_op)p->op;
	if (p->op == PRED_AND || p->op == PRED_OR || p->op == PRED_NOT) {
		st = pred_compile(p->a, depth + 1, attr_store, nattr, a, &q->a, err);
		if (st == RS_OK && p->op != PRED_NOT)
			st = pred_compile(p->b, depth + 1, attr_store, nattr, a, &q->b, err);
		if (st != RS_OK)
			return st;
	} else {
		if ((unsigned)p->attr >= nattr)
			return rs_fail(err, RS_E_INVALID, "request.invalid_filter", NULL,
				       "unknown filter attribute");
		q->attr = attr_store[p->attr];
		q->val = p->op == PRED_PR ? SV_NULLV : p->is_int ? SV_I(p->i) : SV_S(p->s);
	}
	*out = q;
	return RS_OK;
}

enum rs_status core_pred_compile(const struct pred *p, const int *attr_store, size_t nattr,
				 struct arena *a, const struct store_pred **out, struct rs_err *err)
{
	return pred_compile(p, 0, attr_store, nattr, a, out, err);
}

/* ---- access ------------------------------------------------------------------------------ */

enum rs_status require_perm(const struct actor *who, enum perm p, struct rs_err *err)
{
	if (who->restricted)
		return rs_fail(err, RS_E_FORBIDDEN, "session.restricted", NULL,
			       "this session can only complete the account's required actions "
			       "(GET /api/v1/me shows them)");
	if (who->perms & PERM_BIT(p))
		return RS_OK;
	return rs_fail(err, RS_E_FORBIDDEN, "auth.permission_denied", NULL,
		       "this action needs the permission '%s'", perm_name(p));
}

enum rs_status actor_require(const struct actor *who, enum perm p, struct rs_err *err)
{
	return require_perm(who, p, err);
}

enum rs_status rank_may_act_on(const struct actor *who, int target_rank, struct rs_err *err)
{
	/* DESIGN rule 2: equal ranks may act on each other (an Administrator edits another). */
	if (target_rank <= who->rank)
		return RS_OK;
	return rs_fail(err, RS_E_FORBIDDEN, "rank.outranked", NULL,
		       "the target user's role outranks yours (%d > %d)", target_rank, who->rank);
}

enum rs_status rank_may_grant(const struct actor *who, int role_rank, struct rs_err *err)
{
	if (role_rank <= who->rank)
		return RS_OK;
	return rs_fail(err, RS_E_FORBIDDEN, "rank.role_above_own", NULL,
		       "you can't grant a role ranked above your own (%d > %d)", role_rank,
		       who->rank);
}

enum rs_status tenant_load(struct store_tx *tx, const char *ref, struct arena *a,
			   struct tenant *out, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st;
	bool has = false;

	if (!ref || !*ref)
		goto missing;
	st = Q_QUERY(tx, uuid_valid(ref) ? Q_TENANT_GET_ID : Q_TENANT_GET_SLUG, &r, err, SV_S(ref));
	if (st != RS_OK)
		return st;
	st = store_rows_next(r, &has, err);
	if (st == RS_OK && has)
		row_tenant(r, a, out);
	store_rows_close(r);
	if (st != RS_OK)
		return st;
	if (has)
		return RS_OK;
missing:
	return rs_fail(err, RS_E_NOT_FOUND, "tenant.not_found", NULL, "no such tenant");
}

enum rs_status tenant_resolve(struct store_tx *tx, const struct actor *who, const char *ref,
			      struct arena *a, struct tenant *out, struct rs_err *err)
{
	enum rs_status st = tenant_load(tx, ref, a, out, err);

	if (st != RS_OK)
		return st;
	/* DESIGN rule 3: another tenant's id answers exactly like a missing one. */
	if (!who->platform && strcmp(out->id, who->tenant_id) != 0)
		return rs_fail(err, RS_E_NOT_FOUND, "tenant.not_found", NULL, "no such tenant");
	return RS_OK;
}

enum rs_status tenant_lock(struct store_tx *tx, const char *tenant_id, struct rs_err *err)
{
	struct store_rows *r = NULL;
	enum rs_status st = Q_QUERY(tx, Q_TENANT_LOCK, &r, err, SV_S(tenant_id));
	bool has;

	if (st == RS_OK)
		st = store_rows_next(r, &has, err);
	store_rows_close(r);
	return st;
}

enum rs_status tenant_resolve_write(struct store_tx *tx, const struct actor *who, const char *ref,
				    struct arena *a, struct tenant *out, struct rs_err *err)
{
	enum rs_status st = tenant_resolve(tx, who, ref, a, out, err);

	if (st != RS_OK)
		return st;
	st = tenant_lock(tx, out->id, err);
	if (st != RS_OK)
		return st;
	/* Re-read under the lock: the tenant may have been deleted meanwhile. */
	return tenant_resolve(tx, who, out->id, a, out, err);
}

/* ---- rows --------------------------------------------------------------------------------- */

const char *col_str(struct store_rows *r, int col, struct arena *a)
{
	const char *s = store_col_text(r, col);

	return s ? arena_strdup(a, s) : NULL;
}

void row_tenant(struct store_rows *r, struct arena *a, struct tenant *out)
{
	/* Seat limits live in their own table (core/seats.c loads them); until then, none. */
	memset(out->seat_limits, 0, sizeof(out->seat_limits));
	out->id = col_str(r, TC_ID, a);
	out->slug = col_str(r, TC_SLUG, a);
	out->name = col_str(r, TC_NAME, a);
	out->template_name = col_str(r, TC_TEMPLATE, a);
	out->status = col_str(r, TC_STATUS, a);
	{
		const char *settings = store_col_text(r, TC_SETTINGS);
		json_t *o = settings ? json_loads(settings, 0, NULL) : NULL;
		json_t *tu = json_object_get(o, "default_transfer_user_id");

		tenant_settings_read(o, out->settings);
		out->default_transfer_user_id =
		    json_is_string(tu) ? arena_strdup(a, json_string_value(tu)) : NULL;
		password_settings_read(o, &out->password);
		json_decref(o);
	}
	out->created_at = store_col_int(r, TC_CREATED);
	out->updated_at = store_col_int(r, TC_UPDATED);
	out->version = store_col_int(r, TC_VERSION);
}

void row_role(struct store_rows *r, struct arena *a, struct role *out)
{
	out->tenant_id = col_str(r, RC_TENANT, a);
	out->id = col_str(r, RC_ID, a);
	out->name = col_str(r, RC_NAME, a);
	out->scope = col_str(r, RC_SCOPE, a);
	out->rank = (int)store_col_int(r, RC_RANK);
	out->perms = perm_set_parse(store_col_text(r, RC_PERMS));
	out->description = col_str(r, RC_DESC, a);
	out->builtin = store_col_int(r, RC_BUILTIN) != 0;
	out->is_default = store_col_int(r, RC_DEFAULT) != 0;
	out->created_at = store_col_int(r, RC_CREATED);
	out->updated_at = store_col_int(r, RC_UPDATED);
	out->version = store_col_int(r, RC_VERSION);
	out->department_id = col_str(r, RC_DEPT, a);
}

void row_group(struct store_rows *r, struct arena *a, struct group *out)
{
	out->tenant_id = col_str(r, GC_TENANT, a);
	out->id = col_str(r, GC_ID, a);
	out->name = col_str(r, GC_NAME, a);
	out->description = col_str(r, GC_DESC, a);
	out->created_at = store_col_int(r, GC_CREATED);
	out->updated_at = store_col_int(r, GC_UPDATED);
	out->version = store_col_int(r, GC_VERSION);
	out->member_count = store_col_int(r, GC_MEMBERS);
	out->external_id = col_str(r, GC_EXTERNAL_ID, a);
}

void row_token(struct store_rows *r, struct arena *a, struct token *out)
{
	out->tenant_id = col_str(r, KC_TENANT, a);
	out->id = col_str(r, KC_ID, a);
	out->user_id = col_str(r, KC_USER, a);
	out->name = col_str(r, KC_NAME, a);
	out->role.id = col_str(r, KC_ROLE, a);
	out->created_at = store_col_int(r, KC_CREATED);
	out->expires_at = store_col_null(r, KC_EXPIRES) ? 0 : store_col_int(r, KC_EXPIRES);
	out->last_used_at = store_col_null(r, KC_LASTUSED) ? 0 : store_col_int(r, KC_LASTUSED);
	out->revoked_at = store_col_null(r, KC_REVOKED) ? 0 : store_col_int(r, KC_REVOKED);
}

void row_audit(struct store_rows *r, struct arena *a, struct audit_event *out)
{
	out->tenant_id = col_str(r, AC_TENANT, a);
	out->seq = store_col_int(r, AC_SEQ);
	out->id = col_str(r, AC_ID, a);
	out->at = store_col_int(r, AC_AT);
	out->actor_type = col_str(r, AC_ACTOR_TYPE, a);
	out->actor_id = col_str(r, AC_ACTOR_ID, a);
	out->actor_name = col_str(r, AC_ACTOR_NAME, a);
	out->action = col_str(r, AC_ACTION, a);
	out->target_type = col_str(r, AC_TTYPE, a);
	out->target_id = col_str(r, AC_TID, a);
	out->changes = col_str(r, AC_CHANGES, a);
	out->request_id = col_str(r, AC_REQID, a);
	out->source_ip = col_str(r, AC_IP, a);
	out->prev_hash = col_str(r, AC_PREV, a);
	out->hash = col_str(r, AC_HASH, a);
}

char *perms_to_text(uint64_t perms, struct arena *a)
{
	char buf[1024];
	size_t len = 0;

	buf[0] = '\0';
	for (int i = 0; i < PERM__COUNT; i++) {
		if (!(perms & PERM_BIT(i)))
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", len ? " " : "",
					perm_name((enum perm)i));
	}
	return arena_strdup(a, buf);
}

/* ---- validation ---------------------------------------------------------------------------- */

enum rs_status check_text(const char *field, const char *v, size_t max, bool required,
			  struct rs_err *err)
{
	if (!v || !*v) {
		if (required)
			return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
				       "'%s' is required", field);
		return RS_OK;
	}
	if (strlen(v) > max)
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
			       "'%s' is longer than %zu bytes", field, max);
	if (!str_valid_text(v))
		return rs_fail(err, RS_E_INVALID, "request.invalid_field", field,
			       "'%s' must be UTF-8 text without control characters", field);
	return RS_OK;
}

/* ---- cursors -------------------------------------------------------------------------------- */

/* A cursor is base64url("<sortval>\n<id>") + "." + base64url(HMAC(key, that)[0..12]). */
char *cursor_encode(struct core *c, struct arena *a, const char *sortval, const char *id)
{
	char *plain = arena_printf(a, "%s\n%s", sortval ? sortval : "", id ? id : "");
	unsigned char mac[CRYPTO_SHA256_LEN];
	char *out;
	size_t n, m;

	if (!plain)
		return NULL;
	n = strlen(plain);
	out = arena_alloc(a, 4 * ((n + 2) / 3) + 1 + 24);
	if (!out)
		return NULL;
	crypto_hmac_sha256(c->key, sizeof(c->key), plain, n, mac);
	m = crypto_b64url((const unsigned char *)plain, n, out);
	out[m++] = '.';
	crypto_b64url(mac, 12, out + m);
	return out;
}

static int b64url_val(char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '-')
		return 62;
	if (ch == '_')
		return 63;
	return -1;
}

enum rs_status cursor_decode(struct core *c, struct arena *a, const char *cursor,
			     const char **sortval, const char **id, struct rs_err *err)
{
	const char *dot = strchr(cursor, '.');
	size_t n = dot ? (size_t)(dot - cursor) : 0;
	unsigned char *plain;
	size_t len = 0;
	unsigned acc = 0;
	int bits = 0;
	char *nl;

	if (!dot || n == 0 || n > 2048)
		goto bad;
	plain = arena_alloc(a, n + 1);
	if (!plain)
		return core_oom(err);
	for (size_t i = 0; i < n; i++) {
		int v = b64url_val(cursor[i]);

		if (v < 0)
			goto bad;
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			plain[len++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	plain[len] = '\0';
	if (bits >= 6 || acc != 0 || memchr(plain, '\0', len))
		goto bad; /* canonical base64url only: no stray padding bits, no NUL */
	{
		unsigned char mac[CRYPTO_SHA256_LEN];
		char tag[24];

		crypto_hmac_sha256(c->key, sizeof(c->key), plain, len, mac);
		crypto_b64url(mac, 12, tag);
		if (strlen(dot + 1) != strlen(tag) || !crypto_equal(dot + 1, tag, strlen(tag)))
			goto bad;
	}
	nl = strrchr((char *)plain, '\n'); /* ids never hold '\n'; a sort value may */
	if (!nl)
		goto bad;
	*nl = '\0';
	*sortval = (const char *)plain;
	*id = nl + 1;
	return RS_OK;
bad:
	return rs_fail(err, RS_E_INVALID, "request.invalid_cursor", "cursor",
		       "the cursor is not one this server issued");
}

int page_limit(const struct page *pg)
{
	if (!pg || pg->limit <= 0)
		return RS_LIST_LIMIT_DEFAULT;
	return pg->limit > RS_LIST_LIMIT_MAX ? RS_LIST_LIMIT_MAX : pg->limit;
}

char *core_json_dump(json_t *v, struct arena *a)
{
	char *s = v ? json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	char *out = s ? arena_strdup(a, s) : NULL;

	free(s);
	json_decref(v);
	return out;
}
