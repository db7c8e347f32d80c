/* SPDX-License-Identifier: MIT */
/*
 * The "local" provider: the master key is a 32-byte file on this host.
 *
 * The key file is read on every unwrap (mount, lease renewal), so removing
 * or replacing it is noticed at the next renewal; an inotify descriptor on
 * the file and its directory lets the mount notice at once. A file that is
 * a symlink, not owned by us or root, readable or writable by group or
 * others, or not exactly 32 bytes is refused, as OpenSSH refuses loose
 * private keys.
 *
 * Wrapped volume key: XChaCha20-Poly1305 (crypto/seal.h) under the master
 * key, AD = "byokfs-local-v1:" || context.
 */
#include "kms/local.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/seal.h"
#include "crypto/secmem.h"

#define AD_PREFIX "byokfs-local-v1:"

struct local_key {
	pthread_mutex_t lock;
	char path[PATH_MAX];
	int inotify_fd;
	uint8_t *master; /* KMS_KEY_BYTES of secure memory; filled per call, then wiped */
};

/* Reads the key file into lk->master. Caller holds lk->lock. */
static enum kms_status read_key(struct local_key *lk, struct kms_err *err)
{
	struct stat st;
	size_t got = 0;
	int fd = open(lk->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;
		if (e == ENOENT)
			return kms_fail(err, KMS_DENIED, "key file '%s' is missing", lk->path);
		if (e == ELOOP)
			return kms_fail(err, KMS_DENIED, "key file '%s' is a symlink: refused", lk->path);
		if (e == EACCES || e == EPERM)
			return kms_fail(err, KMS_DENIED, "cannot read key file '%s': %s", lk->path,
					strerror(e));
		return kms_fail(err, KMS_TRANSIENT, "cannot open key file '%s': %s", lk->path,
				strerror(e));
	}
	if (fstat(fd, &st) < 0) {
		close(fd);
		return kms_fail(err, KMS_TRANSIENT, "cannot stat key file '%s': %s", lk->path,
				strerror(errno));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return kms_fail(err, KMS_DENIED, "key file '%s' is not a regular file", lk->path);
	}
	if (st.st_mode & 077) {
		close(fd);
		return kms_fail(err, KMS_DENIED,
				"key file '%s' is accessible by group or others (mode %04o): refused; run chmod 600 on it",
				lk->path, (unsigned)(st.st_mode & 07777));
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		close(fd);
		return kms_fail(err, KMS_DENIED, "key file '%s' is owned by uid %u, not by us: refused",
				lk->path, (unsigned)st.st_uid);
	}
	if (st.st_size != KMS_KEY_BYTES) {
		close(fd);
		return kms_fail(err, KMS_DENIED, "key file '%s' is %lld bytes, not %d: not a byokfs key",
				lk->path, (long long)st.st_size, KMS_KEY_BYTES);
	}
	while (got < KMS_KEY_BYTES) {
		ssize_t n = read(fd, lk->master + got, KMS_KEY_BYTES - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int e = n < 0 ? errno : EIO;
			close(fd);
			sodium_memzero(lk->master, KMS_KEY_BYTES);
			return kms_fail(err, KMS_TRANSIENT, "cannot read key file '%s': %s", lk->path,
					strerror(e));
		}
		got += (size_t)n;
	}
	close(fd);
	return KMS_OK;
}

static enum kms_status local_open(const char *id, void **state, struct kms_err *err)
{
	struct local_key *lk;
	char cwd[PATH_MAX];

	if (strlen(id) >= PATH_MAX - 1)
		return kms_fail(err, KMS_INVALID, "key file path too long");
	lk = secmem_alloc(sizeof(*lk));
	if (!lk)
		return kms_fail(err, KMS_TRANSIENT, "out of secure memory");
	lk->master = secmem_alloc(KMS_KEY_BYTES);
	if (!lk->master) {
		secmem_free(lk);
		return kms_fail(err, KMS_TRANSIENT, "out of secure memory");
	}
	pthread_mutex_init(&lk->lock, NULL);
	lk->inotify_fd = -1;
	if (id[0] == '/') {
		snprintf(lk->path, sizeof(lk->path), "%s", id);
	} else if (getcwd(cwd, sizeof(cwd)) &&
		   (size_t)snprintf(lk->path, sizeof(lk->path), "%s/%s", cwd, id) < sizeof(lk->path)) {
		/* relative to the current directory */
	} else {
		secmem_free(lk->master);
		secmem_free(lk);
		return kms_fail(err, KMS_INVALID, "cannot resolve key file path '%s'", id);
	}
	*state = lk;
	return KMS_OK;
}

static void make_ad(const char *context, char *ad, size_t cap)
{
	snprintf(ad, cap, "%s%s", AD_PREFIX, context);
}

static enum kms_status local_wrap(void *state, const char *context,
				  const uint8_t key[KMS_KEY_BYTES], uint8_t *blob, size_t *bloblen,
				  struct kms_err *err)
{
	struct local_key *lk = state;
	char ad[256];
	enum kms_status s;

	if (*bloblen < KMS_KEY_BYTES + SEAL_OVERHEAD)
		return kms_fail(err, KMS_INVALID, "wrap buffer too small");
	make_ad(context, ad, sizeof(ad));
	pthread_mutex_lock(&lk->lock);
	s = read_key(lk, err);
	if (s == KMS_OK) {
		seal(lk->master, (const uint8_t *)ad, strlen(ad), key, KMS_KEY_BYTES, blob);
		*bloblen = KMS_KEY_BYTES + SEAL_OVERHEAD;
	}
	sodium_memzero(lk->master, KMS_KEY_BYTES);
	pthread_mutex_unlock(&lk->lock);
	return s;
}

static enum kms_status local_unwrap(void *state, const char *context, const uint8_t *blob,
				    size_t bloblen, uint8_t key[KMS_KEY_BYTES], struct kms_err *err)
{
	struct local_key *lk = state;
	char ad[256];
	enum kms_status s;

	make_ad(context, ad, sizeof(ad));
	if (bloblen != KMS_KEY_BYTES + SEAL_OVERHEAD)
		return kms_fail(err, KMS_INVALID,
				"wrapped key is %zu bytes, not %d: the key slot is damaged", bloblen,
				KMS_KEY_BYTES + SEAL_OVERHEAD);
	pthread_mutex_lock(&lk->lock);
	s = read_key(lk, err);
	if (s == KMS_OK &&
	    unseal(lk->master, (const uint8_t *)ad, strlen(ad), blob, bloblen, key) != KMS_KEY_BYTES) {
		sodium_memzero(key, KMS_KEY_BYTES);
		s = kms_fail(err, KMS_DENIED, "key file '%s' does not open this volume (wrong key)",
			     lk->path);
	}
	sodium_memzero(lk->master, KMS_KEY_BYTES);
	pthread_mutex_unlock(&lk->lock);
	return s;
}

static int local_watch_fd(void *state)
{
	struct local_key *lk = state;
	char dir[PATH_MAX];

	pthread_mutex_lock(&lk->lock);
	if (lk->inotify_fd < 0) {
		lk->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (lk->inotify_fd >= 0) {
			snprintf(dir, sizeof(dir), "%s", lk->path);
			/* the directory sees rm, mv and replacement; the file sees chmod and writes */
			inotify_add_watch(lk->inotify_fd, dirname(dir),
					  IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CREATE |
						  IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF |
						  IN_MOVE_SELF);
			inotify_add_watch(lk->inotify_fd, lk->path,
					  IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF);
		}
	}
	pthread_mutex_unlock(&lk->lock);
	return lk->inotify_fd;
}

static void local_watch_drain(void *state)
{
	struct local_key *lk = state;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (lk->inotify_fd < 0)
		return;
	while (read(lk->inotify_fd, buf, sizeof(buf)) > 0)
		;
	/* the file may have been replaced: watch the new one */
	inotify_add_watch(lk->inotify_fd, lk->path,
			  IN_ATTRIB | IN_MODIFY | IN_DELETE_SELF | IN_MOVE_SELF);
}

static const char *local_key_id(void *state)
{
	return ((struct local_key *)state)->path;
}

static void local_close(void *state)
{
	struct local_key *lk = state;

	if (lk->inotify_fd >= 0)
		close(lk->inotify_fd);
	pthread_mutex_destroy(&lk->lock);
	secmem_free(lk->master);
	secmem_free(lk);
}

const struct kms_provider kms_local = {
	.name = "local",
	.open = local_open,
	.wrap = local_wrap,
	.unwrap = local_unwrap,
	.watch_fd = local_watch_fd,
	.watch_drain = local_watch_drain,
	.key_id = local_key_id,
	.close = local_close,
};

static int mkdir_parents(const char *path)
{
	char buf[PATH_MAX];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return 0;
}

enum kms_status kms_local_keygen(const char *path, struct kms_err *err)
{
	uint8_t *key;
	int fd, r;
	size_t off = 0;

	if (mkdir_parents(path) < 0)
		return kms_fail(err, KMS_INVALID, "cannot create the directory of '%s': %s", path,
				strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return kms_fail(err, KMS_INVALID, "cannot create key file '%s': %s", path,
				strerror(errno));
	key = secmem_alloc(KMS_KEY_BYTES);
	if (!key) {
		close(fd);
		unlink(path);
		return kms_fail(err, KMS_TRANSIENT, "out of secure memory");
	}
	randombytes_buf(key, KMS_KEY_BYTES);
	while (off < KMS_KEY_BYTES) {
		ssize_t n = write(fd, key + off, KMS_KEY_BYTES - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	secmem_free(key);
	r = (off == KMS_KEY_BYTES && fsync(fd) == 0) ? 0 : -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		unlink(path);
		return kms_fail(err, KMS_TRANSIENT, "cannot write key file '%s': %s", path,
				strerror(-r ? -r : EIO));
	}
	return KMS_OK;
}
