/* Group-commit micro-bench: small inserts through store_write() on synchronous=FULL, from 1
 * thread and from 16, and the throughput ratio. Built, not run as a test:
 *   bench_group_commit [threads=16] [writes_per_thread=2000]
 * The database lives under $TH_DIR (default /tmp): point it at the disk you care about. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "store/sqlite/sqlite_int.h"
#include "util/str.h"
#include "util/timeutil.h"

struct bench_thread {
	struct store *s;
	int n, writes, errors;
};

struct bench_ins {
	const char *id;
};

static enum rs_status bench_fn(struct store_tx *tx, void *ctx, struct rs_err *err)
{
	struct bench_ins *b = ctx;
	struct store_val a[] = {SV_S("t1"), SV_S(b->id), SV_S(b->id), SV_S(b->id),
				SV_NULLV,   SV_I(1),	 SV_NULLV};

	return store_exec(tx, Q_GROUP_INSERT, a, 7, NULL, err);
}

static void *bench_main(void *arg)
{
	struct bench_thread *t = arg;

	for (int i = 0; i < t->writes; i++) {
		char id[32];
		struct bench_ins b = {id};
		struct rs_err err;

		snprintf(id, sizeof(id), "g-%02d-%06d", t->n, i);
		if (store_write(t->s, bench_fn, &b, &err) != RS_OK)
			t->errors++;
	}
	return NULL;
}

static double bench_run(int nthreads, int writes, struct sqlite_stats *st)
{
	char path[512];
	struct store *s;
	pthread_t th[256];
	struct bench_thread t[256];
	int64_t t0, t1;
	int errors = 0;

	th_path(path, sizeof(path), "bench.db");
	s = th_open(path, STORE_SYNC_FULL);
	if (!s || th_tenant(s, "t1", "bench") != RS_OK)
		exit(1);
	t0 = time_mono_ns();
	for (int i = 0; i < nthreads; i++) {
		t[i] = (struct bench_thread){.s = s, .n = i, .writes = writes};
		if (pthread_create(&th[i], NULL, bench_main, &t[i]) != 0)
			exit(1);
	}
	for (int i = 0; i < nthreads; i++) {
		pthread_join(th[i], NULL);
		errors += t[i].errors;
	}
	t1 = time_mono_ns();
	sqlite_store_stats(s, st);
	store_free(s);
	if (errors)
		fprintf(stderr, "%d writes failed\n", errors);
	return (double)nthreads * writes / ((double)(t1 - t0) / 1e9);
}

int main(int argc, char **argv)
{
	long long nthreads = 16, writes = 2000;
	struct sqlite_stats s1, sn;
	double w1, wn;

	if ((argc > 1 && !str_to_ll(argv[1], 1, 256, &nthreads)) ||
	    (argc > 2 && !str_to_ll(argv[2], 1, 1000000, &writes))) {
		fprintf(stderr, "usage: %s [threads] [writes_per_thread]\n", argv[0]);
		return 2;
	}
	w1 = bench_run(1, (int)writes, &s1);
	printf("1 thread:    %8.0f writes/s  (%llu batches, max batch %d)\n", w1,
	       (unsigned long long)s1.batches, s1.max_batch);
	wn = bench_run((int)nthreads, (int)writes, &sn);
	printf("%lld threads:  %8.0f writes/s  (%llu batches, avg batch %.1f, max batch %d)\n",
	       nthreads, wn, (unsigned long long)sn.batches,
	       (double)sn.jobs / (double)(sn.batches ? sn.batches : 1), sn.max_batch);
	printf("ratio:       %8.2fx\n", wn / w1);
	return 0;
}
