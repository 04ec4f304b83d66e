/*
 * proxyproto.c - the PROXY protocol (placeholder until it lands).
 */
#define _GNU_SOURCE
#include <errno.h>

#include "proxyproto.h"

int
proxy_send(int fd, int version, const struct sockaddr_storage *src,
    const struct sockaddr_storage *dst, int timeout_ms)
{
	(void)fd;
	(void)version;
	(void)src;
	(void)dst;
	(void)timeout_ms;
	errno = ENOSYS;
	return -1;
}
