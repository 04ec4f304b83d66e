/*
 * keeper.c - the tunnel keepers (keeper.h): the parent's side (starting
 * them, hearing which tunnels ended), a connection child's handover,
 * and the keeper itself, an epoll relay of many tunnels.
 *
 * The channel to a keeper is an AF_UNIX SOCK_SEQPACKET pair: a child
 * sends one message per tunnel, its record with both sockets attached,
 * and the message arrives whole or not at all. The parent keeps the
 * sending end so that every child it forks inherits it; the keeper sees
 * its end close once the parent retired it and the children that held
 * it are gone. Every keeper writes the tunnels it ended to one pipe the
 * parent reads.
 *
 * The record is the child's struct session, copied as it is: the keeper
 * is forked from the same parent with the same configuration, so the
 * pointers into the configuration, the scoreboard and the stick tables
 * (shared mappings made before either fork) mean the same there. What
 * the child allocated itself (buffers, the header tables, the captured
 * values) is not sent, except the captures, flattened behind it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "capture.h"
#include "exchange.h"
#include "keeper.h"
#include "log.h"
#include "net.h"
#include "scoreboard.h"
#include "sessionstate.h"

#define KEEPERS_MAX 64
#define RETIRED_MAX 256         /* earlier generations' keepers, live */
#define KEEPER_REC_MAX ((size_t)64 * 1024)
#define KEEPER_MAGIC 0x6b707231u        /* "kpr1" */

/*
 * A keeper reads at most this much at a time from a side; what the
 * other side does not take at once waits in a buffer of that size, and
 * the side is not read again until it is written out: the most a
 * tunnel holds in the keeper, per direction, whatever its peers do.
 */
#define KEEPER_CHUNK ((size_t)64 * 1024)

/* Timeouts are checked when the earliest one is due, at least this
 * often (a tunnel's deadline only moves later, but new ones come). */
#define KEEPER_SCAN_MAX_MS 1000

#define KEEPER_EVENTS 256

/* The channel's send buffer: some 15 handovers of a couple of KiB. */
#define KEEPER_QUEUE (32 * 1024)

struct keeper {
	pid_t pid;              /* 0: not running */
	int tx;                 /* the children's end; -1: none */
	int slot;               /* its flag in keeper_full */
};

/* The parent's current set (a child's copy: the ones it may use). */
static struct keeper keepers[KEEPERS_MAX];
static int nkeepers;
/* Earlier configurations' keepers still running (the parent's). */
static struct keeper retired[RETIRED_MAX];
/* The parent's: which flags of keeper_full a live keeper has. */
#define FLAG_SLOTS (KEEPERS_MAX + RETIRED_MAX)
static char slot_used[FLAG_SLOTS];
/*
 * Per keeper, in a shared page made before any keeper is forked: set
 * while the keeper is near its descriptor limit, so that children keep
 * their tunnels rather than queue them where they would wait unrelayed.
 */
static atomic_int *keeper_full;
/* The keepers write each ended tunnel here; the parent reads. */
static int done_pipe[2] = { -1, -1 };

/* What a keeper tells the parent when a tunnel ends. */
struct keeper_done {
	struct sb_holder *holder;
};

/* What a child sends: this, then the captures (see rec_captures). */
struct keeper_rec {
	uint32_t magic;
	uint32_t len;           /* the whole record */
	struct sb_holder *holder;
	struct session s;
};

/* ---- the record ---- */

/* Appends each captured value of c as its length and bytes. */
static size_t
rec_put_captures(char *out, size_t room, const struct captured *c)
{
	size_t used = 0;

	for (int i = 0; i < c->n; i++) {
		uint32_t len = (uint32_t)c->len[i];
		if (used + sizeof(len) + len > room)
			return (size_t)-1;
		memcpy(out + used, &len, sizeof(len));
		memcpy(out + used + sizeof(len), c->data + c->off[i], len);
		used += sizeof(len) + len;
	}
	return used;
}

/* The keeper's side: slots of its own, filled from the record. */
static int
rec_get_captures(const char **in, const char *end, struct captured *c,
    const struct capture *defs, int n, size_t max)
{
	capture_init(c, defs, n, max);
	for (int i = 0; i < c->n; i++) {
		uint32_t len;
		if ((size_t)(end - *in) < sizeof(len))
			return -1;
		memcpy(&len, *in, sizeof(len));
		*in += sizeof(len);
		if (len > c->cap[i] || (size_t)(end - *in) < len)
			return -1;
		memcpy(c->data + c->off[i], *in, len);
		c->len[i] = len;
		*in += len;
	}
	return 0;
}

/* The child's pointers to what only it has are not sent. */
static void
rec_scrub(struct session *s)
{
	memset(&s->cbuf, 0, sizeof(s->cbuf));
	memset(&s->sbuf, 0, sizeof(s->sbuf));
	s->scratch = NULL;
	s->scratch_len = 0;
	s->req_hdrs = s->resp_hdrs = NULL;
	memset(&s->req_head, 0, sizeof(s->req_head));
	memset(&s->resp_head, 0, sizeof(s->resp_head));
	memset(&s->arena, 0, sizeof(s->arena));
	s->refusal = NULL;
	memset(s->caps, 0, sizeof(s->caps));
}

/* ---- a connection's child: the handover ---- */

int
keeper_available(void)
{
	return nkeepers > 0;
}

static size_t
rec_build(char *out, const struct session *s)
{
	struct keeper_rec *r = (struct keeper_rec *)(void *)out;
	size_t used = sizeof(*r);

	r->magic = KEEPER_MAGIC;
	r->holder = sb_holder_mine();
	r->s = *s;
	rec_scrub(&r->s);
	for (int d = 0; d < 2; d++) {
		size_t n = rec_put_captures(out + used, KEEPER_REC_MAX - used,
		    &s->caps[d]);
		if (n == (size_t)-1)
			return 0;
		used += n;
	}
	r->len = (uint32_t)used;
	return used;
}

enum keeper_refusal
keeper_hand_over(struct session *s)
{
	/* static (.bss): only the pages the record fills are touched */
	static char rec[KEEPER_REC_MAX] __attribute__((aligned(16)));
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov;
	struct msghdr msg;
	struct cmsghdr *cm;
	const struct keeper *k;
	int fds[2] = { s->client.rfd, s->server.rfd };
	size_t len;
	int full;

	if (nkeepers == 0 || s->client.rfd != s->client.wfd ||
	    (len = rec_build(rec, s)) == 0)
		return KEEPER_NEVER;
	k = &keepers[getpid() % nkeepers];
	if (k->tx < 0 || k->pid <= 0)
		return KEEPER_NEVER;
	if (atomic_load(&keeper_full[k->slot]))
		return KEEPER_LATER;
	iov = (struct iovec){ rec, len };
	memset(&msg, 0, sizeof(msg));
	memset(&ctl, 0, sizeof(ctl));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	/* The record names its keeper first: from the moment the message
	 * is queued, the parent must leave the record to that keeper. */
	sb_holder_hand_over(k->pid);
	if (sendmsg(k->tx, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) ==
	    (ssize_t)len)
		_exit(0);
	/* the tunnel stays here: for now if the queue is full, for good
	 * if the keeper is gone (EPIPE, ECONNREFUSED) */
	full = errno == EAGAIN || errno == ENOBUFS;
	sb_holder_hand_over(0);
	return full ? KEEPER_LATER : KEEPER_NEVER;
}

/* ---- the keeper: one tunnel ---- */

/* One direction: read from 'from', written to 'to' at once; what 'to'
 * does not take waits in pend, and 'from' is not read meanwhile. */
struct kflow {
	struct side *from, *to;
	char *pend;
	size_t pend_off, pend_len;
	int done;
};

struct tunnel;

/* What epoll reports: one side of one tunnel. */
struct kend {
	struct tunnel *t;
	struct side *side;
	uint32_t events;        /* registered */
};

struct tunnel {
	struct session s;
	struct sb_holder *holder;
	struct kflow up, down;
	struct kend ends[2];    /* client, server */
	int ended;
	struct tunnel *prev, *next;
};

static struct tunnel *tunnels;          /* the live ones */
static struct tunnel *dead;             /* ended in this batch of events */
static int ntunnels;
static int epfd = -1;
static int rx_fd = -1;
static int done_fd = -1;
static int64_t next_scan;
static char chunk[KEEPER_CHUNK];
static volatile sig_atomic_t kill_asked;
static rlim_t fd_limit;                 /* RLIMIT_NOFILE, raised */
static int keeper_slot;                 /* this keeper's, in keeper_full */
static int rx_paused;                   /* no room for more sockets */

static int
kflow_wants_read(const struct kflow *f)
{
	return !f->done && !f->from->eof && f->pend_len == 0;
}

static int
side_awaited(const struct tunnel *t, const struct side *s)
{
	const struct kflow *flows[2] = { &t->up, &t->down };

	for (int i = 0; i < 2; i++) {
		const struct kflow *f = flows[i];
		if ((f->from == s && kflow_wants_read(f)) ||
		    (f->to == s && f->pend_len > 0))
			return 1;
	}
	return 0;
}

/* As relay.c: a half-closed side's fin timeout replaces its timeout. */
static int
side_timeout(const struct side *s)
{
	if ((s->eof || s->fin_seen || s->wr_shut) && s->fin_timeout_ms > 0)
		return s->fin_timeout_ms;
	return s->timeout_ms;
}

/* The side whose idle timer expires first, or NULL. */
static struct side *
tunnel_deadline(struct tunnel *t, int64_t *deadline)
{
	struct side *sides[2] = { &t->s.client, &t->s.server };
	struct side *first = NULL;

	for (int i = 0; i < 2; i++) {
		int timeout_ms = side_timeout(sides[i]);
		int64_t d;
		if (timeout_ms <= 0 || !side_awaited(t, sides[i]))
			continue;
		d = sides[i]->last_ms + timeout_ms;
		if (first == NULL || d < *deadline) {
			first = sides[i];
			*deadline = d;
		}
	}
	return first;
}

static void
note_deadline(struct tunnel *t)
{
	int64_t d = 0;

	if (tunnel_deadline(t, &d) != NULL && d < next_scan)
		next_scan = d;
}

/*
 * Registers what each side waits for, when that changed. A side nobody
 * waits for leaves the epoll set, as it would leave a poll() set: epoll
 * reports a hang-up or an error whatever it is asked, and a side that
 * hung up while its reader is held back (its peer's buffer full) would
 * wake the keeper for nothing until then.
 */
static void
tunnel_events(struct tunnel *t)
{
	for (int i = 0; i < 2; i++) {
		struct kend *e = &t->ends[i];
		struct kflow *out = e->side == t->up.from ? &t->up : &t->down;
		struct kflow *in = out == &t->up ? &t->down : &t->up;
		uint32_t want = 0;
		struct epoll_event ev;
		int op;
		if (kflow_wants_read(out))
			want |= EPOLLIN | EPOLLRDHUP;
		if (in->pend_len > 0)
			want |= EPOLLOUT;
		if (want == e->events)
			continue;
		op = e->events == 0 ? EPOLL_CTL_ADD : want == 0 ?
		    EPOLL_CTL_DEL : EPOLL_CTL_MOD;
		ev = (struct epoll_event){ want, { .ptr = e } };
		if (epoll_ctl(epfd, op, e->side->rfd, &ev) < 0)
			log_warn("keeper: epoll_ctl");
		e->events = want;
	}
}

/* Its reader is done and nothing waits: the FIN goes on. */
static void
kflow_finish(struct kflow *f)
{
	if (f->from->eof && f->pend_len == 0 && !f->done) {
		side_shutdown(f->to);
		f->done = 1;
	}
}

/* Writes what waits; RELAY_DONE, or RELAY_WRITE_ERROR. */
static enum relay_status
kflow_flush(struct kflow *f, int64_t now)
{
	ssize_t n;

	if (f->pend_len == 0)
		return RELAY_DONE;
	n = write(f->to->wfd, f->pend + f->pend_off, f->pend_len);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? RELAY_DONE :
		    RELAY_WRITE_ERROR;
	f->to->last_ms = now;
	f->to->bytes_out += (unsigned long long)n;
	f->pend_off += (size_t)n;
	f->pend_len -= (size_t)n;
	if (f->pend_len == 0) {
		free(f->pend);
		f->pend = NULL;
		f->pend_off = 0;
		kflow_finish(f);
	}
	return RELAY_DONE;
}

/* Reads once and passes it on at once; RELAY_DONE or a write error. */
static enum relay_status
kflow_read(struct kflow *f, int64_t now)
{
	ssize_t n = read(f->from->rfd, chunk, sizeof(chunk)), sent;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return RELAY_DONE;
	f->from->last_ms = now;
	if (n <= 0) {
		/* EOF, or a reset: the direction is over either way */
		f->from->eof = 1;
		kflow_finish(f);
		return RELAY_DONE;
	}
	f->from->bytes_in += (unsigned long long)n;
	sent = write(f->to->wfd, chunk, (size_t)n);
	if (sent < 0 && errno != EAGAIN && errno != EINTR)
		return RELAY_WRITE_ERROR;
	if (sent < 0)
		sent = 0;
	if (sent > 0) {
		f->to->last_ms = now;
		f->to->bytes_out += (unsigned long long)sent;
	}
	if (sent < n) {
		f->pend_len = (size_t)(n - sent);
		if ((f->pend = malloc(f->pend_len)) == NULL)
			return RELAY_WRITE_ERROR;       /* logged at the end */
		memcpy(f->pend, chunk + sent, f->pend_len);
	}
	return RELAY_DONE;
}

static void
tell_parent(struct sb_holder *h)
{
	struct keeper_done d = { h };

	/* one small write: atomic on a pipe; blocking, since the parent
	 * must hear it (it reads at every wake-up) */
	while (write(done_fd, &d, sizeof(d)) < 0)
		if (errno != EINTR) {
			log_warn("keeper: telling the parent");
			return;
		}
}

/* Logs and closes the tunnel as its child would have; the memory goes
 * once the current batch of events is through. */
static void
tunnel_end(struct tunnel *t, enum relay_status st, struct side *culprit)
{
	if (t->ended)
		return;
	t->ended = 1;
	if (t->prev != NULL)
		t->prev->next = t->next;
	else
		tunnels = t->next;
	if (t->next != NULL)
		t->next->prev = t->prev;
	t->next = dead;
	dead = t;
	ntunnels--;
	/* Out of the epoll set first: closing our descriptors does not
	 * take a socket out while another process (the child, before its
	 * exit) still holds it, and its events would name freed memory. */
	for (int i = 0; i < 2; i++)
		if (t->ends[i].events != 0 && epoll_ctl(epfd, EPOLL_CTL_DEL,
		    t->ends[i].side->rfd, NULL) < 0)
			log_warn("keeper: epoll_ctl");
	/* what the session gives back goes through the tunnel's record */
	sb_holder_enter(t->holder);
	exchange_tunnel_over(&t->s, st, culprit);
	session_after_tunnel(&t->s);    /* closes both sockets */
	sb_holder_enter(NULL);
	tell_parent(t->holder);
}

static void
free_dead(void)
{
	while (dead != NULL) {
		struct tunnel *t = dead;
		dead = t->next;
		free(t->up.pend);
		free(t->down.pend);
		free(t);
	}
}

static void
tunnel_event(struct kend *e, uint32_t revents)
{
	struct tunnel *t = e->t;
	struct kflow *out = e->side == t->up.from ? &t->up : &t->down;
	struct kflow *in = out == &t->up ? &t->down : &t->up;
	int64_t now = now_ms();

	if (t->ended)
		return;
	if ((revents & (EPOLLOUT | EPOLLERR | EPOLLHUP)) &&
	    kflow_flush(in, now) != RELAY_DONE) {
		tunnel_end(t, RELAY_WRITE_ERROR, e->side);
		return;
	}
	if ((revents & (EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP)) &&
	    kflow_wants_read(out) && kflow_read(out, now) != RELAY_DONE) {
		tunnel_end(t, RELAY_WRITE_ERROR, out->to);
		return;
	}
	if (t->up.done && t->down.done) {
		tunnel_end(t, RELAY_DONE, NULL);
		return;
	}
	tunnel_events(t);
	note_deadline(t);
}

/* The timeouts due, and when to look again. */
static void
scan_timeouts(int64_t now)
{
	struct tunnel *t = tunnels;

	next_scan = now + KEEPER_SCAN_MAX_MS;
	while (t != NULL) {
		struct tunnel *next = t->next;
		int64_t d = 0;
		struct side *late = tunnel_deadline(t, &d);
		if (late != NULL && d <= now)
			tunnel_end(t, RELAY_TIMEOUT, late);
		else if (late != NULL && d < next_scan)
			next_scan = d;
		t = next;
	}
}

/* "shutdown sessions server": the tunnels whose record was marked. */
static void
kill_marked(void)
{
	struct tunnel *t = tunnels;

	while (t != NULL) {
		struct tunnel *next = t->next;
		if (sb_holder_killed(t->holder))
			tunnel_end(t, RELAY_KILLED, &t->s.client);
		t = next;
	}
}

/* ---- the keeper: taking tunnels in ---- */

static int
tunnel_register(struct tunnel *t)
{
	for (int i = 0; i < 2; i++) {
		struct kend *e = &t->ends[i];
		struct epoll_event ev;
		e->t = t;
		e->side = i == 0 ? &t->s.client : &t->s.server;
		ev = (struct epoll_event){ EPOLLIN | EPOLLRDHUP, { .ptr = e } };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, e->side->rfd, &ev) < 0) {
			log_warn("keeper: epoll_ctl");
			return -1;
		}
		e->events = ev.events;
	}
	return 0;
}

/* A record as a child built it, with its two sockets: a tunnel. */
static struct tunnel *
tunnel_new(const char *rec, size_t len, const int *fds)
{
	const struct keeper_rec *r = (const void *)rec;
	const char *in = rec + sizeof(*r), *end = rec + len;
	struct tunnel *t;

	if (len < sizeof(*r) || r->magic != KEEPER_MAGIC || r->len != len)
		return NULL;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->s = r->s;
	t->holder = r->holder;
	for (int d = 0; d < 2; d++)
		if (rec_get_captures(&in, end, &t->s.caps[d],
		    t->s.fe->caps[d], t->s.fe->ncaps[d],
		    (size_t)t->s.cfg->bufsize) < 0) {
			capture_free(&t->s.caps[0]);
			capture_free(&t->s.caps[1]);
			free(t);
			return NULL;
		}
	t->s.client.rfd = t->s.client.wfd = fds[0];
	t->s.server.rfd = t->s.server.wfd = fds[1];
	t->up = (struct kflow){ .from = &t->s.client, .to = &t->s.server };
	t->down = (struct kflow){ .from = &t->s.server, .to = &t->s.client };
	return t;
}

/* The fds a message carried (at most 2), into fds; how many. */
static int
received_fds(struct msghdr *msg, int *fds)
{
	int n = 0;

	for (struct cmsghdr *cm = CMSG_FIRSTHDR(msg); cm != NULL;
	    cm = CMSG_NXTHDR(msg, cm)) {
		size_t bytes;
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		bytes = cm->cmsg_len - CMSG_LEN(0);
		for (size_t i = 0; i < bytes / sizeof(int); i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(fd));
			if (n < 2)
				fds[n++] = fd;
			else
				close(fd);
		}
	}
	return n;
}

static void
rx_close(void)
{
	if (!rx_paused)
		(void)epoll_ctl(epfd, EPOLL_CTL_DEL, rx_fd, NULL);
	close(rx_fd);
	rx_fd = -1;
}

/*
 * A handover that cannot be taken: its sockets did not arrive (the
 * kernel drops them when this process cannot take more descriptors), or
 * no memory. The child is gone: the tunnel is lost, but its record goes
 * back to the parent, so that its slots and counts come back.
 */
static void
handover_failed(const char *rec, size_t len, const int *fds, int nfds)
{
	const struct keeper_rec *r = (const void *)rec;

	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	if (len < sizeof(*r) || r->magic != KEEPER_MAGIC || r->len != len) {
		/* only a bug of ours could send this: nobody owns it */
		log_warnx("keeper: a malformed handover (%zu bytes, %d "
		    "sockets): closed", len, nfds);
		return;
	}
	log_warnx("keeper: a tunnel arrived without its sockets or could not "
	    "be set up (%d of 2 sockets): lost", nfds);
	tell_parent(r->holder);
}

/*
 * Descriptors: the keeper takes the hard limit. Near it, it says it is
 * full (children then keep their tunnels); what is already queued still
 * fits in the reserve (KEEPER_QUEUE holds far fewer handovers). Only at
 * the very end does it stop reading the channel: a tunnel whose sockets
 * the kernel could not give it would be lost.
 */
#define KEEPER_FD_RESERVE 64    /* descriptors: full below this room */
#define KEEPER_FD_LAST 8        /* ... and no more reading below this */

static void
fd_limit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0) {
		log_warn("keeper: getrlimit");
		return;
	}
	if (rl.rlim_cur < rl.rlim_max) {
		rlim_t old = rl.rlim_cur;
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			rl.rlim_cur = old;
	}
	fd_limit = rl.rlim_cur;
}

/* Room for n more descriptors beyond those of two more tunnels? */
static int
fd_room(int reserve)
{
	return fd_limit == RLIM_INFINITY || 2 * (rlim_t)ntunnels + 2 +
	    (rlim_t)reserve <= fd_limit;
}

/* Takes tunnels in only while there is room for their sockets. */
static void
rx_pace(void)
{
	struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };
	int full = !fd_room(KEEPER_FD_RESERVE);

	if (atomic_load(&keeper_full[keeper_slot]) != full)
		atomic_store(&keeper_full[keeper_slot], full);
	if (rx_fd < 0 || rx_paused == !fd_room(KEEPER_FD_LAST))
		return;
	rx_paused = !rx_paused;
	if (epoll_ctl(epfd, rx_paused ? EPOLL_CTL_DEL : EPOLL_CTL_ADD, rx_fd,
	    &ev) < 0)
		log_warn("keeper: epoll_ctl");
}

/* One tunnel from a child, or the end of the channel. */
static void
receive_tunnel(void)
{
	static char rec[KEEPER_REC_MAX] __attribute__((aligned(16)));
	union {
		char buf[CMSG_SPACE(2 * sizeof(int))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { rec, sizeof(rec) };
	struct msghdr msg;
	struct tunnel *t;
	int fds[2], nfds;
	ssize_t n;

	memset(&msg, 0, sizeof(msg));
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof(ctl.buf);
	n = recvmsg(rx_fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR) {
			log_warn("keeper: recvmsg");
			rx_close();
		}
		return;
	}
	if (n == 0) {
		rx_close();     /* retired, and its children are gone */
		return;
	}
	nfds = received_fds(&msg, fds);
	t = nfds == 2 && !(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) ?
	    tunnel_new(rec, (size_t)n, fds) : NULL;
	if (t == NULL) {
		handover_failed(rec, (size_t)n, fds, nfds);
		return;
	}
	t->next = tunnels;
	if (tunnels != NULL)
		tunnels->prev = t;
	tunnels = t;
	ntunnels++;
	if (tunnel_register(t) < 0) {
		tunnel_end(t, RELAY_WRITE_ERROR, &t->s.client);
		return;
	}
	/* marked while on its way: the signal came before it */
	if (sb_holder_killed(t->holder)) {
		tunnel_end(t, RELAY_KILLED, &t->s.client);
		return;
	}
	note_deadline(t);
}

static void
on_kill(int sig)
{
	(void)sig;
	kill_asked = 1;
}

/* SRV_SHUTDOWN_SIGNAL is blocked except while epoll waits. */
static void
keeper_signals(sigset_t *waiting)
{
	struct sigaction sa;
	sigset_t block;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_kill;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SRV_SHUTDOWN_SIGNAL, &sa, NULL) < 0)
		fatal("keeper: sigaction");
	sigemptyset(&block);
	sigaddset(&block, SRV_SHUTDOWN_SIGNAL);
	if (sigprocmask(SIG_BLOCK, &block, waiting) < 0)
		fatal("keeper: sigprocmask");
	sigdelset(waiting, SRV_SHUTDOWN_SIGNAL);
}

static void __attribute__((noreturn))
keeper_main(int rx)
{
	struct epoll_event evs[KEEPER_EVENTS];
	struct epoll_event ev = { EPOLLIN, { .ptr = NULL } };
	sigset_t waiting;

	keeper_signals(&waiting);
	fd_limit_raise();
	rx_fd = rx;
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
	    epoll_ctl(epfd, EPOLL_CTL_ADD, rx_fd, &ev) < 0)
		fatal("keeper: epoll");
	next_scan = now_ms() + KEEPER_SCAN_MAX_MS;
	for (;;) {
		int n, timeout = -1;
		int64_t now;

		if (rx_fd < 0 && ntunnels == 0)
			_exit(0);
		if (ntunnels > 0) {
			int64_t left = next_scan - now_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		n = epoll_pwait(epfd, evs, KEEPER_EVENTS, timeout, &waiting);
		if (n < 0 && errno != EINTR)
			fatal("keeper: epoll_wait");
		for (int i = 0; i < n; i++) {
			if (evs[i].data.ptr == NULL)
				receive_tunnel();
			else
				tunnel_event(evs[i].data.ptr, evs[i].events);
		}
		if (kill_asked) {
			kill_asked = 0;
			kill_marked();
		}
		now = now_ms();
		if (now >= next_scan)
			scan_timeouts(now);
		free_dead();
		rx_pace();
	}
}

/* ---- the parent ---- */

int
keepers_done_fd(void)
{
	return done_pipe[0];
}

static int
done_pipe_open(void)
{
	if (done_pipe[0] >= 0)
		return 0;
	if (pipe2(done_pipe, O_CLOEXEC) < 0) {
		log_warn("tunnel keepers: pipe");
		return -1;
	}
	/* the parent never waits on it; the keepers' writes block */
	if (net_set_nonblock(done_pipe[0]) < 0) {
		log_warn("tunnel keepers: pipe");
		return -1;
	}
	return 0;
}

static int
full_flags_map(void)
{
	void *map;

	if (keeper_full != NULL)
		return 0;
	map = mmap(NULL, FLAG_SLOTS * sizeof(*keeper_full),
	    PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (map == MAP_FAILED) {
		log_warn("tunnel keepers: mmap");
		return -1;
	}
	keeper_full = map;
	return 0;
}

static void
retire(struct keeper *k)
{
	if (k->tx >= 0)
		close(k->tx);
	k->tx = -1;
	for (int i = 0; i < RETIRED_MAX && k->pid > 0; i++)
		if (retired[i].pid == 0) {
			retired[i] = *k;
			k->pid = 0;
		}
	if (k->pid > 0)
		slot_used[k->slot] = 0; /* too many: logged as a child's */
	k->pid = 0;
}

/* A free flag for a new keeper; -1 if none (it is not started). */
static int
slot_take(void)
{
	for (int i = 0; i < FLAG_SLOTS; i++)
		if (!slot_used[i]) {
			slot_used[i] = 1;
			atomic_store(&keeper_full[i], 0);
			return i;
		}
	return -1;
}

/* In a new keeper: no channel but its own, nothing else of the parent. */
static void
keeper_child_setup(void)
{
	for (int i = 0; i < nkeepers; i++)
		if (keepers[i].tx >= 0)
			close(keepers[i].tx);
	close(done_pipe[0]);
	done_fd = done_pipe[1];
}

static void
keeper_spawn(int index, void (*child_init)(void *), void *arg)
{
	struct keeper *k = &keepers[index];
	int pair[2];
	pid_t pid;

	k->pid = 0;
	k->tx = -1;
	if ((k->slot = slot_take()) < 0) {
		log_warnx("tunnel keeper %d: too many keepers still running",
		    index);
		return;
	}
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) {
		log_warn("tunnel keeper %d: socketpair", index);
		slot_used[k->slot] = 0;
		return;
	}
	/* A short queue: a keeper that takes no tunnel for a while (at its
	 * descriptor limit) leaves few waiting unrelayed, and the children
	 * after them keep theirs. Best effort. */
	(void)setsockopt(pair[0], SOL_SOCKET, SO_SNDBUF, &(int){ KEEPER_QUEUE },
	    sizeof(int));
	pid = fork();
	if (pid == 0) {
		close(pair[0]);
		child_init(arg);
		keeper_child_setup();
		keeper_slot = k->slot;
		keeper_main(pair[1]);
	}
	close(pair[1]);
	if (pid < 0) {
		log_warn("tunnel keeper %d: fork", index);
		close(pair[0]);
		slot_used[k->slot] = 0;
		return;
	}
	k->pid = pid;
	k->tx = pair[0];
	log_notice("tunnel keeper %d started, pid %ld", index, (long)pid);
}

int
keepers_start(const struct config *cfg, void (*child_init)(void *),
    void *arg)
{
	int started = 0;

	/* first, so that no new keeper inherits an old channel */
	for (int i = 0; i < nkeepers; i++)
		retire(&keepers[i]);
	nkeepers = 0;
	if (cfg->tunnel_keepers == 0 || done_pipe_open() < 0 ||
	    full_flags_map() < 0)
		return 0;
	nkeepers = cfg->tunnel_keepers;
	for (int i = 0; i < nkeepers; i++)
		keepers[i] = (struct keeper){ 0, -1, -1 };
	for (int i = 0; i < nkeepers; i++) {
		keeper_spawn(i, child_init, arg);
		started += keepers[i].pid > 0;
	}
	return started;
}

void
keepers_restart(int index, void (*child_init)(void *), void *arg)
{
	if (index < 0 || index >= nkeepers)
		return;
	if (keepers[index].tx >= 0)
		close(keepers[index].tx);
	keeper_spawn(index, child_init, arg);
}

void
keepers_read_done(void (*fn)(const struct sb_holder *h, void *arg), void *arg)
{
	struct keeper_done d[64];
	ssize_t n;

	if (done_pipe[0] < 0)
		return;
	/* whole records: each was one write of less than PIPE_BUF */
	while ((n = read(done_pipe[0], d, sizeof(d))) > 0)
		for (size_t i = 0; i < (size_t)n / sizeof(d[0]); i++)
			fn(d[i].holder, arg);
}

int
keepers_reaped(pid_t pid)
{
	for (int i = 0; i < nkeepers; i++)
		if (keepers[i].pid == pid) {
			keepers[i].pid = 0;
			slot_used[keepers[i].slot] = 0;
			return i;
		}
	for (int i = 0; i < RETIRED_MAX; i++)
		if (retired[i].pid == pid) {
			retired[i].pid = 0;
			slot_used[retired[i].slot] = 0;
			return KEEPER_RETIRED;
		}
	return -1;
}

void
keepers_kill(void)
{
	for (int i = 0; i < nkeepers; i++)
		if (keepers[i].pid > 0)
			(void)kill(keepers[i].pid, SIGTERM);
	for (int i = 0; i < RETIRED_MAX; i++)
		if (retired[i].pid > 0)
			(void)kill(retired[i].pid, SIGTERM);
}

void
keepers_close_in_child(void)
{
	for (int i = 0; i < nkeepers; i++)
		if (keepers[i].tx >= 0)
			close(keepers[i].tx);
	nkeepers = 0;
	if (done_pipe[0] >= 0) {
		close(done_pipe[0]);
		close(done_pipe[1]);
		done_pipe[0] = done_pipe[1] = -1;
	}
}
