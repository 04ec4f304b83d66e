/*
 * version.h - wsproxy's version: -v, the start-up line, the runtime
 * socket's "show info", the stats page and the exporter's build_info.
 */
#ifndef WSPROXY_VERSION_H
#define WSPROXY_VERSION_H

#define WSPROXY_VERSION "0.2.0"
#define WSPROXY_RELEASE_DATE "2026/12/05"

#endif
