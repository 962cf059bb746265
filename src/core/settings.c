/* The tenant settings table (core.h enum tenant_setting): bounds and defaults in one place. */
#include "core/core_int.h"

#include <jansson.h>

static const char *const limit_actions[] = {"evict_oldest", "refuse", NULL};
static const char *const provisioned_passwords[] = {"ignore", "set", NULL};

const struct tenant_setting_def tenant_settings[TS__COUNT] = {
    [TS_INVITATION_DAYS] = {"invitation_days", 1, INVITATION_DAYS_MAX, INVITATION_DAYS_DEFAULT,
			    NULL},
    [TS_SESSION_IDLE_MINUTES] = {"session_idle_minutes", 1, 10080, 30, NULL},
    [TS_SESSION_MAX_HOURS] = {"session_max_hours", 1, 720, 12, NULL},
    [TS_MAX_SESSIONS] = {"max_sessions", 0, 1000, 0, NULL},
    [TS_SESSION_LIMIT_ACTION] = {"session_limit_action", 0, 1, 0, limit_actions},
    [TS_LOCKOUT_THRESHOLD] = {"lockout_threshold", 0, 1000, 10, NULL},
    [TS_LOCKOUT_MINUTES] = {"lockout_minutes", 0, 10080, 15, NULL},
    [TS_REFRESH_TOKEN_DAYS] = {"refresh_token_days", 1, 365, 30, NULL},
    /* Off by default: Okta sends a placeholder password with every created user unless the
     * administrator turned password sync on at both ends. */
    [TS_PROVISIONED_PASSWORDS] = {"provisioned_passwords", 0, 1, 0, provisioned_passwords},
};

void tenant_settings_defaults(int64_t out[TS__COUNT])
{
	for (int i = 0; i < TS__COUNT; i++)
		out[i] = tenant_settings[i].def;
}

/* Reads the stored settings object; a value out of bounds (an older, looser version wrote
 * it) falls back to the default rather than failing every request of the tenant. */
void tenant_settings_read(json_t *o, int64_t out[TS__COUNT])
{
	tenant_settings_defaults(out);
	for (int i = 0; i < TS__COUNT; i++) {
		json_t *v = json_object_get(o, tenant_settings[i].name);

		if (json_is_integer(v) && json_integer_value(v) >= tenant_settings[i].min &&
		    json_integer_value(v) <= tenant_settings[i].max)
			out[i] = json_integer_value(v);
	}
}

static int name_index(const char *const *names, const char *v)
{
	for (int i = 0; v && names[i]; i++) {
		if (strcmp(names[i], v) == 0)
			return i;
	}
	return -1;
}

enum rs_status tenant_settings_apply(const struct tenant_patch *p, int64_t s[TS__COUNT],
				     struct rs_err *err)
{
	for (int i = 0; i < TS__COUNT; i++) {
		const struct tenant_setting_def *d = &tenant_settings[i];

		if (d->names && p->settings_name[i].set) {
			int k = name_index(d->names, p->settings_name[i].v);

			if (p->settings_name[i].v && k < 0)
				return rs_fail(err, RS_E_INVALID, "request.invalid_field", d->name,
					       "'%s' is one of %s, %s", d->name, d->names[0],
					       d->names[1]);
			s[i] = p->settings_name[i].v ? k : d->def;
		} else if (!d->names && p->settings[i].set) {
			if (!p->settings[i].null &&
			    (p->settings[i].v < d->min || p->settings[i].v > d->max))
				return rs_fail(err, RS_E_INVALID, "request.invalid_field", d->name,
					       "'%s' is a number from %lld to %lld, or null",
					       d->name, (long long)d->min, (long long)d->max);
			s[i] = p->settings[i].null ? d->def : p->settings[i].v;
		}
	}
	return RS_OK;
}

const char *tenant_setting_name(enum tenant_setting i, int64_t v)
{
	const struct tenant_setting_def *d = &tenant_settings[i];

	return d->names && v >= 0 && v <= d->max ? d->names[v] : NULL;
}
