/* SPDX-License-Identifier: MIT */
/* The local key-file provider: extras beyond the kms.h interface. */
#ifndef BYOKFS_KMS_LOCAL_H
#define BYOKFS_KMS_LOCAL_H

#include "kms/kms.h"

/*
 * Creates a new key file at path: 32 random bytes, mode 0600, created with
 * O_EXCL|O_NOFOLLOW (never overwrites), fsync'd. Creates missing parent
 * directories with mode 0700. Returns KMS_OK or a class with err set.
 */
enum kms_status kms_local_keygen(const char *path, struct kms_err *err);

#endif
