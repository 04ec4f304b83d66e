/*
 * inetd.h - serving one connection on fds 0/1 (wsproxy -i).
 */
#ifndef WSPROXY_INETD_H
#define WSPROXY_INETD_H

#include "config.h"

/*
 * Serves the connection on fds 0/1 with the frontend named fe_name (the
 * first frontend when NULL), then exits: 0, or EXIT_CONFIG when there is
 * no such frontend. Nothing is ever written to fd 2.
 */
void inetd_serve(struct config *cfg, const char *fe_name)
    __attribute__((noreturn));

#endif
