/* Login throttling per source address: a token bucket per address in a fixed table, so that
 * one address guessing across many accounts is slowed down whatever the accounts' own
 * counters say. Per node: a deployment of N nodes lets an address N times the rate, which
 * docs/authentication.md states. A table slot shared by two addresses (a hash collision, or
 * more addresses than slots) makes them share a bucket: the table never grows, so a flood of
 * addresses can't exhaust memory, and the worst a collision does is slow an honest client. */
#include "core/core_int.h"

#include <stdlib.h>

#define THROTTLE_SLOTS 8192
#define THROTTLE_STRIPES 64

struct throttle_slot {
	char addr[64];
	int64_t tokens_ms; /* the bucket as "time worth of tokens": tokens * REFILL_MS */
	int64_t at;	   /* when tokens_ms was last brought up to date */
};

struct throttle {
	int64_t burst, refill_ms; /* burst attempts at once, then one per refill_ms */
	pthread_mutex_t locks[THROTTLE_STRIPES];
	struct throttle_slot slots[THROTTLE_SLOTS];
};

struct throttle *throttle_new(int64_t per_minute)
{
	struct throttle *t = calloc(1, sizeof(*t));

	if (t) {
		t->burst = per_minute;
		t->refill_ms = per_minute > 0 ? 60000 / per_minute : 0;
		if (per_minute > 0 && t->refill_ms == 0)
			t->refill_ms = 1;
	}
	for (int i = 0; t && i < THROTTLE_STRIPES; i++)
		pthread_mutex_init(&t->locks[i], NULL);
	return t;
}

void throttle_free(struct throttle *t)
{
	if (!t)
		return;
	for (int i = 0; i < THROTTLE_STRIPES; i++)
		pthread_mutex_destroy(&t->locks[i]);
	free(t);
}

static unsigned slot_of(const char *addr)
{
	return str_hash(addr) % THROTTLE_SLOTS;
}

int64_t throttle_take(struct throttle *t, const char *addr, int64_t now)
{
	int64_t full;
	unsigned i;
	struct throttle_slot *s;
	int64_t wait = 0;

	if (!t || t->burst <= 0 || !addr || !*addr)
		return 0;
	full = t->burst * t->refill_ms;
	i = slot_of(addr);
	s = &t->slots[i];
	pthread_mutex_lock(&t->locks[i % THROTTLE_STRIPES]);
	if (strcmp(s->addr, addr) != 0 || s->at == 0) {
		str_copy(s->addr, sizeof(s->addr), addr);
		s->tokens_ms = full;
		s->at = now;
	}
	s->tokens_ms += now - s->at;
	if (s->tokens_ms > full)
		s->tokens_ms = full;
	s->at = now;
	if (s->tokens_ms >= t->refill_ms)
		s->tokens_ms -= t->refill_ms;
	else
		wait = t->refill_ms - s->tokens_ms;
	pthread_mutex_unlock(&t->locks[i % THROTTLE_STRIPES]);
	return wait;
}
