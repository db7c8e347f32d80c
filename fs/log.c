/* SPDX-License-Identifier: MIT */
/* Daemon logging (see log.h). */
#include "fs/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_int level = 0;
static atomic_int use_syslog = 0;

void log_set_level(int l)
{
	atomic_store(&level, l);
}

int log_get_level(void)
{
	return atomic_load(&level);
}

void log_use_syslog(void)
{
	openlog("byokfs", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	atomic_store(&use_syslog, 1);
}

void log_msg(int prio, const char *func, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int l = atomic_load(&level);

	if ((prio == LOG_INFO && l < 1) || (prio == LOG_DEBUG && l < 2))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (atomic_load(&use_syslog))
		syslog(prio, "%s: %s", func, msg);
	else
		fprintf(stderr, "byokfs: %s: %s\n", func, msg);
}
