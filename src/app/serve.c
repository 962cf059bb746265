/* roster serve: config -> key -> store (migrated) -> core -> bootstrap -> HTTP, then waits for
 * SIGTERM/SIGINT and shuts down in the reverse order: stop accepting, finish the requests in
 * flight, drain the store's writer, close. */
#include <curl/curl.h>
#include <malloc.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "api/rest/rest.h"
#include "api/scim/scim_api.h"
#include "core/core.h"
#include "delivery/delivery.h"
#include "app/app.h"
#include "app/config.h"
#include "http/http.h"
#include "store/store.h"
#include "crypto/crypto.h"
#include "util/log.h"
#include "util/timeutil.h"

#define SHUTDOWN_GRACE_S 30

static atomic_bool serve_ready;

static bool ready_hook(void *app)
{
	struct app *a = app;

	return atomic_load(&serve_ready) && core_ready(a->core);
}

static size_t metrics_hook(void *app, char *buf, size_t cap)
{
	struct app *a = app;
	int n = snprintf(buf, cap,
			 "# HELP roster_store_errors_total Store operations that failed (busy, "
			 "unavailable or internal).\n"
			 "# TYPE roster_store_errors_total counter\n"
			 "roster_store_errors_total %llu\n",
			 (unsigned long long)core_store_errors(a->core));

	return n < 0 ? 0 : ((size_t)n >= cap ? cap - 1 : (size_t)n);
}

int app_serve(int argc, char **argv)
{
	int64_t t0 = time_mono_ns();
	struct config cfg;
	struct app app;
	struct http_router *router = NULL;
	struct http_server *srv = NULL;
	struct http_server_config hc = {0};
	struct http_hooks hooks = {ready_hook, metrics_hook, &app};
	struct rs_err err = {0};
	struct delivery *delivery = NULL;
	bool curl_ready = false;
	sigset_t set;
	char url[200], ms[32];
	int sig = 0, rc;
	enum rs_status st_delivery;

	/* Block the shutdown signals before any thread starts, so every thread inherits the mask
	 * and only sigwait() below ever receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* glibc gives each busy thread its own malloc arena and rarely returns their memory; with
	 * a pool of 32 workers that alone costs tens of MB of RSS for no throughput. */
	mallopt(M_ARENA_MAX, 2);
	/* A page of a thousand users needs a few MB for the length of a request. With glibc's
	 * sliding thresholds those came from mmap or were trimmed away after every request, and
	 * each next request faulted them in again; fixed thresholds keep up to 8 MB per arena. */
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
	rc = app_open(&cfg, argc, argv, true, &app);
	if (rc)
		return rc;
	rc = app_bootstrap(&app, cfg.db);
	if (rc)
		goto out;
	/* libcurl's global set-up is not thread-safe: done here, before any thread of ours. */
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fprintf(stderr, "roster: libcurl: cannot initialise\n");
		rc = 1;
		goto out;
	}
	curl_ready = true;
	{
		struct delivery_config dc = {.smtp_url = cfg.smtp_url,
					     .smtp_from = cfg.smtp_from,
					     .smtp_user = cfg.smtp_user,
					     .smtp_password = cfg.smtp_password,
					     .smtp_tls = (enum smtp_tls)cfg.smtp_starttls,
					     .max_attempts = cfg.delivery_max_attempts,
					     .backoff_ms = cfg.delivery_backoff_ms,
					     .timeout_ms = cfg.delivery_timeout_ms};

		/* Job kinds must be known before the runner starts (jobs_start below). */
		st_delivery = delivery_start(app.core, &dc, &delivery, &err);
		crypto_wipe(cfg.smtp_password, sizeof(cfg.smtp_password));
		if (st_delivery != RS_OK) {
			fprintf(stderr, "roster: delivery: %s\n", err.msg);
			rc = 1;
			goto out;
		}
	}
	router = http_router_new();
	if (!router || rest_routes_register(router, app.core, &err) != RS_OK ||
	    scim_routes_register(router, app.core, &err) != RS_OK) {
		fprintf(stderr, "roster: routes: %s\n", router ? err.msg : "out of memory");
		rc = 1;
		goto out;
	}
	hc.listen = cfg.listen;
	hc.threads = cfg.threads;
	hc.body_max = cfg.body_max;
	hc.conn_timeout_s = 60;
	if (http_server_start(&hc, router, &hooks, &srv, &err) != RS_OK) {
		fprintf(stderr, "roster: listen on %s: %s\n", cfg.listen, err.msg);
		rc = 1;
		goto out;
	}
	{
		/* The node id names this process as a job lease owner in the shared store. */
		char host[64] = "node", node[160];
		struct jobs_config jc = {node, cfg.job_lease_ms, cfg.job_poll_ms,
					 cfg.purge_every_s * 1000};

		(void)gethostname(host, sizeof(host) - 1);
		snprintf(node, sizeof(node), "%s/%ld", host, (long)getpid());
		if (cfg.jobs && jobs_start(app.core, &jc, &err) != RS_OK) {
			fprintf(stderr, "roster: jobs: %s\n", err.msg);
			rc = 1;
			goto out;
		}
	}
	atomic_store(&serve_ready, true);
	{
		/* Print the address clients should use: the wildcard is reachable on loopback. */
		const char *host = cfg.listen;
		const char *colon = strrchr(cfg.listen, ':');
		int hl = colon ? (int)(colon - host) : (int)strlen(host);

		if ((hl == 7 && strncmp(host, "0.0.0.0", 7) == 0) ||
		    (hl == 4 && strncmp(host, "[::]", 4) == 0)) {
			host = "127.0.0.1";
			hl = 9;
		}
		snprintf(url, sizeof(url), "http://%.*s:%u", hl, host, http_server_port(srv));
	}
	log_kv(LOG_INFO, "ready", "url", url, "db", cfg.db, "engine", store_engine(app.store),
	       "startup_ms", log_num(ms, (time_mono_ns() - t0) / 1000000), NULL);
	printf("{\"msg\":\"listening\",\"url\":\"%s\"}\n", url);
	fflush(stdout);
	while (sigwait(&set, &sig) != 0)
		;
	log_kv(LOG_INFO, "shutting down", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT", NULL);
	atomic_store(&serve_ready, false);
	http_server_stop(srv, SHUTDOWN_GRACE_S);
	srv = NULL;
	jobs_stop(app.core); /* a job in progress is handed back for another node */
out:
	http_server_stop(srv, 0);
	jobs_stop(app.core); /* a no-op unless start-up failed after jobs_start */
	delivery_free(delivery);
	if (curl_ready)
		curl_global_cleanup();
	http_router_free(router);
	app_close(&app);
	if (rc == 0)
		log_kv(LOG_INFO, "stopped", NULL);
	return rc;
}
