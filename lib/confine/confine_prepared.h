/* Shared between lib/confine.c (before the fork) and lib/confine_child.c. */
#ifndef SIGNGATE_CONFINE_INTERNAL_H
#define SIGNGATE_CONFINE_INTERNAL_H

#include "signgate/confine.h"

#include <linux/filter.h>
#include <sys/resource.h>

#define CONFINE_RLIMITS 5

struct sg_confine_prepared {
	char name[64];
	int ruleset_fd;                /* -1: no Landlock */
	int landlock_abi;              /* the ABI of the rules in ruleset_fd */
	int network;                   /* the spec allows the network */
	int forced;                    /* the caps were lowered */
	struct sock_fprog notify_prog; /* .filter NULL: none (no user notification) */
	struct sock_fprog kill_prog;   /* .filter NULL: no seccomp */
	int rlimit_res[CONFINE_RLIMITS];
	struct rlimit rlimit_val[CONFINE_RLIMITS];
	unsigned long long fsize;
	unsigned long cpu_sec;
};

#endif
