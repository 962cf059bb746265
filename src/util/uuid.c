/* UUIDv7 with a monotonic 12-bit counter in rand_a (RFC 9562 §6.2 method 1), so ids made in the
 * same millisecond by this process stay ordered. */
#include "util/uuid.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

static pthread_mutex_t uuid_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t uuid_last_ms;
static unsigned uuid_counter;

bool uuid7_new(int64_t ms, char out[UUID_STR_LEN])
{
	unsigned char b[16];
	unsigned counter;

	if (getrandom(b + 8, 8, 0) != 8)
		return false;
	pthread_mutex_lock(&uuid_lock);
	if (ms <= uuid_last_ms) {
		ms = uuid_last_ms;
		if (++uuid_counter > 0xfff) {
			/* Counter exhausted in this millisecond: borrow the next one. */
			ms = ++uuid_last_ms;
			uuid_counter = 0;
		}
	} else {
		uuid_last_ms = ms;
		uuid_counter = 0;
	}
	counter = uuid_counter;
	pthread_mutex_unlock(&uuid_lock);
	for (int i = 0; i < 6; i++)
		b[i] = (unsigned char)((uint64_t)ms >> (40 - 8 * i));
	b[6] = (unsigned char)(0x70 | ((counter >> 8) & 0x0f));
	b[7] = (unsigned char)(counter & 0xff);
	b[8] = (unsigned char)(0x80 | (b[8] & 0x3f));
	snprintf(out, UUID_STR_LEN,
		 "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
		 b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
		 b[15]);
	return true;
}

bool uuid_valid(const char *s)
{
	for (int i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return s[36] == '\0';
}
