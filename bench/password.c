/* Password hashing bench (docs/bench.md, "Password hashing"): in one run,
 *   1. argon2id hashes per second (PW_PARAMS_DEFAULT) with 1 thread and with N threads
 *      (N = online CPUs), and their ratio: hashing holds no global lock, so it should be ~N;
 *   2. RSS for a burst of 16 concurrent verifications, twice in a row: with roster's pool and
 *      mmap allocator (crypto_password_check) vs. the plain argon2id_verify (malloc, no pool),
 *      each in a fresh child process: peak RSS during the bursts and RSS after them.
 * Prints a Markdown report on stdout. Usage: build/bench/password_bench [--seconds S] */
#include <argon2.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/password.h"

#define PW "correct horse battery staple"
#define BURST 16

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* VmRSS or VmHWM of this process, KiB. */
static long status_kib(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long v = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, key, strlen(key)) == 0) {
			v = strtol(line + strlen(key) + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return v;
}

/* ---- throughput ---------------------------------------------------------------------------- */

static atomic_long done;
static double deadline;

static void *hasher(void *arg)
{
	struct pw_params pp = PW_PARAMS_DEFAULT;
	char out[128];

	(void)arg;
	while (now_s() < deadline) {
		if (!crypto_password_hash2(PW, &pp, out, sizeof(out))) {
			fprintf(stderr, "hash failed\n");
			exit(1);
		}
		atomic_fetch_add(&done, 1);
	}
	return NULL;
}

static double rate(int threads, double seconds)
{
	pthread_t th[256];
	double t0 = now_s();

	atomic_store(&done, 0);
	deadline = t0 + seconds;
	for (int i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, hasher, NULL) != 0)
			exit(1);
	for (int i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	return (double)atomic_load(&done) / (now_s() - t0);
}

/* ---- RSS ----------------------------------------------------------------------------------- */

static char stored[128];
static int plain;

static void *verifier(void *arg)
{
	struct pw_params pp = PW_PARAMS_DEFAULT;
	int ok;

	(void)arg;
	if (plain)
		ok = argon2id_verify(stored, PW, strlen(PW)) == ARGON2_OK;
	else
		ok = crypto_password_check(stored, PW, &pp) == PW_MATCH;
	if (!ok) {
		fprintf(stderr, "verify failed\n");
		exit(1);
	}
	return NULL;
}

/* In a child: two bursts of BURST concurrent verifications; writes "before peak after". */
static void burst_child(int fd)
{
	pthread_t th[BURST];
	long before, peak, after;
	char line[128];
	int n;

	before = status_kib("VmRSS:");
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < BURST; i++)
			if (pthread_create(&th[i], NULL, verifier, NULL) != 0)
				exit(1);
		for (int i = 0; i < BURST; i++)
			pthread_join(th[i], NULL);
	}
	usleep(200000); /* what a server would see a moment after the burst */
	peak = status_kib("VmHWM:");
	after = status_kib("VmRSS:");
	n = snprintf(line, sizeof(line), "%ld %ld %ld\n", before, peak, after);
	if (write(fd, line, (size_t)n) != n)
		exit(1);
	exit(0);
}

static int burst(int use_plain, long out[3])
{
	int fds[2], status;
	char buf[128] = {0};
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		close(fds[0]);
		plain = use_plain;
		burst_child(fds[1]);
	}
	close(fds[1]);
	if (read(fds[0], buf, sizeof(buf) - 1) <= 0)
		return -1;
	close(fds[0]);
	waitpid(pid, &status, 0);
	return sscanf(buf, "%ld %ld %ld", &out[0], &out[1], &out[2]) == 3 ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct pw_params pp = PW_PARAMS_DEFAULT;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN), pool[3], raw[3];
	double seconds = 5, r1, rn;
	char cpu[256] = "?";
	FILE *f;

	if (argc == 3 && strcmp(argv[1], "--seconds") == 0)
		seconds = atof(argv[2]);
	if (ncpu < 1 || ncpu > 256)
		ncpu = 1;
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		char line[256];

		while (fgets(line, sizeof(line), f))
			if (strncmp(line, "model name", 10) == 0) {
				snprintf(cpu, sizeof(cpu), "%s", strchr(line, ':') + 2);
				cpu[strcspn(cpu, "\n")] = '\0';
				break;
			}
		fclose(f);
	}
	/* The stored hash for the bursts, made before any thread exists (fork-safe). */
	if (!crypto_password_hash2(PW, &pp, stored, sizeof(stored)))
		return 1;
	if (burst(0, pool) != 0 || burst(1, raw) != 0)
		return 1;
	r1 = rate(1, seconds);
	rn = rate((int)ncpu, seconds);

	printf("### argon2id m = %u KiB, t = %u, p = %u\n\n", pp.m_kib, pp.t, pp.p);
	printf("Machine: %ld online CPUs, %s.\n\n", ncpu, cpu);
	printf("| hashing threads | hashes/s |\n| --- | --- |\n");
	printf("| 1 | %.1f |\n| %ld | %.1f |\n", r1, ncpu, rn);
	printf("| ratio %ld ÷ 1 | **%.2f** |\n\n", ncpu, rn / r1);
	printf("Burst of %d concurrent verifications, twice, in a fresh process each "
	       "(KiB):\n\n",
	       BURST);
	printf("| | RSS before | peak RSS | RSS after |\n| --- | --- | --- | --- |\n");
	printf("| roster (pool of %ld, mmap) | %ld | %ld | %ld |\n", ncpu, pool[0], pool[1],
	       pool[2]);
	printf("| plain argon2id_verify (malloc) | %ld | %ld | %ld |\n", raw[0], raw[1], raw[2]);
	printf("| ratio plain ÷ roster | | **%.2f** | **%.2f** |\n",
	       (double)raw[1] / (double)pool[1], (double)raw[2] / (double)pool[2]);
	return 0;
}
