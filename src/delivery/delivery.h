/* Delivery adapters: the job kinds that leave roster. "email" is sent over SMTP (smtp.c),
 * "webhook" is POSTed to the subscriber (webhook.c), both with libcurl, both registered with
 * the core's job runner (jobs_register), which owns retries, backoff and the dead letter.
 * These files may include util/, crypto/, core/core.h, libcurl and jansson; never store/ nor
 * core internals: everything they need is in the job's payload or behind core.h. */
#ifndef ROSTER_DELIVERY_DELIVERY_H
#define ROSTER_DELIVERY_DELIVERY_H

#include <stdint.h>

#include "core/core.h"

enum smtp_tls {
	SMTP_TLS_OFF,	  /* plain SMTP (smtp://), or implicit TLS when the URL is smtps:// */
	SMTP_TLS_TRY,	  /* STARTTLS when the relay offers it */
	SMTP_TLS_REQUIRE, /* STARTTLS or fail */
};

struct delivery_config {
	const char *smtp_url;	   /* smtp://host:port or smtps://host:port; "" = not configured */
	const char *smtp_from;	   /* "Roster <noreply@example.com>" or "noreply@example.com" */
	const char *smtp_user;	   /* "" = no authentication */
	const char *smtp_password; /* never logged */
	enum smtp_tls smtp_tls;
	int max_attempts;   /* per message; 0 = the runner's default (5) */
	int64_t backoff_ms; /* first retry delay, doubled per attempt; 0 = default */
	int64_t timeout_ms; /* one SMTP session or webhook call at most; 0 = 10 s */
};

struct delivery;

/* Copies cfg and registers the "email" and "webhook" job kinds with c. Call before
 * jobs_start(), after curl_global_init(). *out is freed with delivery_free() after
 * jobs_stop(). */
enum rs_status delivery_start(struct core *c, const struct delivery_config *cfg,
			      struct delivery **out, struct rs_err *err);
/* NULL is a no-op. Wipes the SMTP password. */
void delivery_free(struct delivery *d);

#endif
