/* Server key file handling. */
#include "app/keyfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/crypto.h"

static enum rs_status read_all(int fd, unsigned char *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, buf + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return RS_E_INTERNAL;
		got += (size_t)r;
	}
	return RS_OK;
}

enum rs_status keyfile_load(const char *path, bool create, unsigned char key[CORE_KEY_LEN],
			    struct rs_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0 && errno == ENOENT && create) {
		unsigned char fresh[CORE_KEY_LEN];
		ssize_t w;

		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return rs_fail(err, RS_E_INTERNAL, "key.create", NULL,
				       "can't create key file '%s': %s", path, strerror(errno));
		if (!crypto_random(fresh, sizeof(fresh))) {
			close(fd);
			return rs_fail(err, RS_E_INTERNAL, "internal.random", NULL,
				       "no randomness");
		}
		w = write(fd, fresh, sizeof(fresh));
		if (w != (ssize_t)sizeof(fresh) || fsync(fd) != 0) {
			close(fd);
			unlink(path);
			crypto_wipe(fresh, sizeof(fresh));
			return rs_fail(err, RS_E_INTERNAL, "key.create", NULL,
				       "can't write key file '%s'", path);
		}
		close(fd);
		memcpy(key, fresh, CORE_KEY_LEN);
		crypto_wipe(fresh, sizeof(fresh));
		return RS_OK;
	}
	if (fd < 0)
		return rs_fail(err, RS_E_INTERNAL, "key.open", NULL, "can't open key file '%s': %s",
			       path, strerror(errno));
	if (fstat(fd, &st) != 0 || st.st_size != CORE_KEY_LEN || read_all(fd, key, CORE_KEY_LEN)) {
		close(fd);
		return rs_fail(err, RS_E_INTERNAL, "key.invalid", NULL,
			       "key file '%s' must hold exactly %d bytes", path, CORE_KEY_LEN);
	}
	close(fd);
	if (st.st_mode & 077)
		return rs_fail(err, RS_E_INTERNAL, "key.permissions", NULL,
			       "key file '%s' is readable by others: chmod 600 it", path);
	return RS_OK;
}

enum rs_status dir_ensure_for(const char *path, struct rs_err *err)
{
	char dir[1024];
	char *slash;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return rs_fail(err, RS_E_INVALID, "config.path", NULL, "path too long");
	slash = strrchr(dir, '/');
	if (!slash)
		return RS_OK;
	*slash = '\0';
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(dir, 0700) != 0 && errno != EEXIST)
			return rs_fail(err, RS_E_INTERNAL, "config.mkdir", NULL,
				       "can't create '%s': %s", dir, strerror(errno));
		*p = '/';
	}
	if (dir[0] && mkdir(dir, 0700) != 0 && errno != EEXIST)
		return rs_fail(err, RS_E_INTERNAL, "config.mkdir", NULL, "can't create '%s': %s",
			       dir, strerror(errno));
	return RS_OK;
}
