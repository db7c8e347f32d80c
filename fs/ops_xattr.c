/* SPDX-License-Identifier: MIT */
/*
 * Extended attributes: only the user.* namespace, names and values
 * encrypted. "user.NAME" is stored as backing attribute "user.b." + the
 * name encryption of NAME (with a fixed directory id); the value is sealed
 * (crypto/seal.h) with AD = the backing attribute name, so values cannot
 * be swapped between attributes. Other namespaces: getxattr answers
 * ENODATA (the kernel asks for security.capability on every write),
 * setxattr EOPNOTSUPP.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "crypto/seal.h"
#include "fs/ops_int.h"

#define USER "user."
#define BACKING_PREFIX "user.b."
#define XATTR_VALUE_MAX 65536


/*
 * Backing attribute name of a plaintext "user.x", under the current keys or
 * (old) the previous keys of an unfinished rekey. Gate taken inside.
 */
static int xname(struct fsctx *c, const char *name, int old, char *out, size_t cap)
{
	char enc[NAME_ENC_MAX + 1];
	int r;

	if (strncmp(name, USER, strlen(USER)) != 0)
		return -EOPNOTSUPP;
	if ((r = vol_gate_enter(c->vol)) < 0)
		return r;
	if (old && !c->vol->has_old) {
		vol_gate_leave(c->vol);
		return -ENODATA;
	}
	r = name_encrypt(old ? &c->vol->old_nk : &c->vol->nk, xattr_dirid, name + strlen(USER),
			 strlen(name + strlen(USER)), enc);
	vol_gate_leave(c->vol);
	if (r == -ENAMETOOLONG)
		return -ERANGE;
	if (r < 0)
		return r;
	if (strlen(BACKING_PREFIX) + (size_t)r + 1 > cap || strlen(BACKING_PREFIX) + (size_t)r > 255)
		return -ERANGE;
	memcpy(out, BACKING_PREFIX, strlen(BACKING_PREFIX));
	memcpy(out + strlen(BACKING_PREFIX), enc, (size_t)r + 1);
	return 0;
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	char bname[300], proc[64];
	uint8_t *sealed = NULL;
	int r;

	if (size > XATTR_VALUE_MAX) {
		r = -E2BIG;
		goto out;
	}
	if ((r = xname(c, name, 0, bname, sizeof(bname))) < 0)
		goto out;
	sealed = malloc(size + SEAL_OVERHEAD);
	if (!sealed) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = vol_gate_enter(c->vol)) < 0)
		goto out;
	seal(c->vol->keys->xattr, (const uint8_t *)bname, strlen(bname), (const uint8_t *)value,
	     size, sealed);
	vol_gate_leave(c->vol);
	procpath(proc, in->fd);
	r = setxattr(proc, bname, sealed, size + SEAL_OVERHEAD, flags) < 0 ? -errno : 0;
	/* during an unfinished rekey: the attribute now lives under the
	 * current keys; drop its copy under the previous ones */
	if (r == 0 && c->vol->has_old && xname(c, name, 1, bname, sizeof(bname)) == 0)
		removexattr(proc, bname);
out:
	free(sealed);
	fuse_reply_err(req, -r);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	char bname[300], proc[64];
	uint8_t *sealed = NULL, *plain = NULL;
	ssize_t n;
	long len;
	int r;

	if (strncmp(name, USER, strlen(USER)) != 0) {
		r = -ENODATA;
		goto out;
	}
	sealed = malloc(XATTR_VALUE_MAX + SEAL_OVERHEAD);
	plain = malloc(XATTR_VALUE_MAX);
	if (!sealed || !plain) {
		r = -ENOMEM;
		goto out;
	}
	procpath(proc, in->fd);
	int old;
	for (old = 0; old <= 1; old++) {
		if ((r = xname(c, name, old, bname, sizeof(bname))) < 0)
			goto out;
		n = getxattr(proc, bname, sealed, XATTR_VALUE_MAX + SEAL_OVERHEAD);
		if (n >= 0)
			break;
		r = -errno;
		if (r != -ENODATA)
			goto out;
	}
	if (old > 1)
		goto out;
	if ((r = vol_gate_enter(c->vol)) < 0)
		goto out;
	len = unseal(old ? c->vol->old_keys->xattr : c->vol->keys->xattr, (const uint8_t *)bname,
		     strlen(bname), sealed, (size_t)n, plain);
	if (len < 0) {
		vol_gate_leave(c->vol);
		atomic_fetch_add(&c->vol->stats.auth_failures, 1);
		r = -EIO;
		goto out;
	}
	if (size == 0)
		fuse_reply_xattr(req, (size_t)len);
	else if ((size_t)len > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, (const char *)plain, (size_t)len);
	vol_gate_leave(c->vol);
	free(sealed);
	free(plain);
	return;
out:
	free(sealed);
	free(plain);
	fuse_reply_err(req, -r);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	char proc[64], *raw = NULL, *list = NULL, name[NAME_PLAIN_MAX + 1];
	ssize_t n;
	size_t used = 0;
	int r;

	procpath(proc, in->fd);
	n = listxattr(proc, NULL, 0);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	raw = malloc((size_t)n + 1);
	list = malloc((size_t)n + 1);
	if (!raw || !list) {
		r = -ENOMEM;
		goto out;
	}
	n = listxattr(proc, raw, (size_t)n);
	if (n < 0) {
		r = -errno;
		goto out;
	}
	if ((r = vol_gate_enter(c->vol)) < 0)
		goto out;
	for (char *p = raw; p < raw + n; p += strlen(p) + 1) {
		if (strncmp(p, BACKING_PREFIX, strlen(BACKING_PREFIX)) != 0)
			continue;
		const char *enc = p + strlen(BACKING_PREFIX);
		int len = bname_decrypt(c->vol, xattr_dirid, enc, strlen(enc), name);
		if (len < 0)
			continue;
		/* "user." + name + NUL never exceeds the encrypted form it came from */
		used += (size_t)snprintf(list + used, (size_t)n + 1 - used, "%s%s", USER, name) + 1;
	}
	if (size == 0)
		fuse_reply_xattr(req, used);
	else if (used > size)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, list, used);
	vol_gate_leave(c->vol);
	free(raw);
	free(list);
	return;
out:
	free(raw);
	free(list);
	fuse_reply_err(req, -r);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct fsctx *c = ctx_of(req);
	struct inode *in = ino_of(req, ino);
	char bname[300], proc[64];
	int r;

	procpath(proc, in->fd);
	for (int old = 0; old <= 1; old++) {
		if ((r = xname(c, name, old, bname, sizeof(bname))) < 0)
			break;
		r = removexattr(proc, bname) < 0 ? -errno : 0;
		if (r != -ENODATA)
			break;
	}
	if (r == -EOPNOTSUPP)
		r = -ENODATA;
	fuse_reply_err(req, -r);
}

void ops_xattr_register(struct fuse_lowlevel_ops *ops)
{
	ops->setxattr = op_setxattr;
	ops->getxattr = op_getxattr;
	ops->listxattr = op_listxattr;
	ops->removexattr = op_removexattr;
}
