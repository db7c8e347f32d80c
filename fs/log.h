/* SPDX-License-Identifier: MIT */
/*
 * Logging for the mount daemon: stderr in the foreground, syslog once
 * daemonised. Messages name the function (like OpenSSH's error_f) and never
 * contain keys or file contents.
 */
#ifndef BYOKFS_FS_LOG_H
#define BYOKFS_FS_LOG_H

#include <syslog.h>

/* 0 = errors and warnings, 1 = info, 2 = debug. */
void log_set_level(int level);
int log_get_level(void);
/* Switches from stderr to syslog (ident "byokfs"). */
void log_use_syslog(void);
void log_msg(int prio, const char *func, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(...) log_msg(LOG_ERR, __func__, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARNING, __func__, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __func__, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __func__, __VA_ARGS__)

#endif
