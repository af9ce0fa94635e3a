/*
 * Small helpers of signgate's socket protocols with its own processes (the
 * key helper, the timestamp fetcher): big-endian 32-bit words and a
 * monotonic clock in milliseconds for their deadlines.
 */
#ifndef SIGNGATE_WIRE_INTERNAL_H
#define SIGNGATE_WIRE_INTERNAL_H

#include <time.h>

static inline void sg_wire_put_u32(unsigned char *p, unsigned long v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (unsigned char)(v >> (24 - 8 * i));
}

static inline unsigned long sg_wire_get_u32(const unsigned char *p)
{
	return (unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 |
	       p[3];
}

static inline long long sg_wire_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
