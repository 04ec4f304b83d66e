/*
 * reply.h - which response of its own wsproxy sends for a status: the
 * one errorfile or errorloc configured (the backend's once one is
 * chosen, else the frontend's), or a built-in one in HAProxy 2.6's
 * stream-level form (the monitor's 200 and 503).
 */
#ifndef WSPROXY_REPLY_H
#define WSPROXY_REPLY_H

#include "config.h"

/* be may be NULL (no backend chosen yet); NULL when neither has one. */
const struct reply *reply_find(const struct proxy *be,
    const struct proxy *fe, int status);

/* A built-in page as 2.6 sends it from the stream (monitor-uri, deny,
 * tarpit, auth): 200, 401, 403, 404, 429, 500, 503... */
const struct reply *reply_builtin(int status);

#endif
