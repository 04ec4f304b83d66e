/*
 * relay.c - the poll() loop that moves bytes between client and server.
 *
 * Each direction is a flow with its own buffer (buf.c). A flow forwards
 * only the bytes its framing says belong to the current message
 * ("ready"); bytes past the end stay in the buffer, where the next
 * request starts. Each side has an idle timeout that runs only while
 * that side is expected to do something, so that the client timer is
 * suspended while the server prepares its response.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "relay.h"

/*
 * Splicing: a tunnel read that fills the whole buffer means bulk is
 * flowing; from then on the flow moves bytes socket -> pipe -> socket
 * with splice(), so they are never copied through user space. A splice
 * that brings in less than SPLICE_BULK_MIN ends it (small messages are
 * cheaper with one read and one write). Build with -DRELAY_NO_SPLICE to
 * compare.
 */
#define SPLICE_BULK_MIN 16384
#define SPLICE_ASK (1 << 20)            /* as much as the pipe takes */
#define SPLICE_PIPE_BYTES (256 * 1024)  /* F_SETPIPE_SZ, best effort */

/*
 * A tunnel that has been quiet this long gives its buffers' pages back
 * (madvise), so that thousands of idle WebSocket connections cost little
 * memory; the next message faults a zeroed page in again.
 */
#define TRIM_IDLE_MS 500

void
side_shutdown(struct side *s)
{
	if (s->wr_shut || s->wfd < 0)
		return;
	s->wr_shut = 1;
	s->last_ms = now_ms();  /* its half-closed timeout starts now */
	if (shutdown(s->wfd, SHUT_WR) == 0 || errno != ENOTSOCK)
		return;
	/* A pipe (inetd mode): closing it is how the reader sees EOF. */
	if (s->wfd != s->rfd) {
		close(s->wfd);
		s->wfd = -1;
	}
}

void
flow_start(struct flow *f, enum flow_mode mode, enum http_body body,
    unsigned long long length)
{
	f->mode = mode;
	f->ready = 0;
	f->done = mode == FLOW_IDLE;
	f->wr_blocked = 0;
	http_framing_init(&f->fr, body, length);
}

/* Marks buffered bytes ready for writing as far as the framing allows. */
static void
flow_frame(struct flow *f)
{
	if (f->mode == FLOW_TUNNEL) {
		f->ready = f->buf->len;
	} else if (f->mode == FLOW_BODY && f->ready < f->buf->len) {
		f->ready += http_framing_feed(&f->fr,
		    f->buf->data + f->buf->start + f->ready,
		    f->buf->len - f->ready);
	}
}

/* Does the next read go into the pipe? Never while buf holds bytes. */
static int
flow_uses_pipe(const struct flow *f)
{
	return f->piped > 0 || (f->bulk && f->pre_len == 0 && f->buf->len == 0);
}

static int
flow_wants_write(const struct flow *f)
{
	return !f->done && (f->pre_len > 0 || f->ready > 0 || f->piped > 0) &&
	    f->to->wfd >= 0;
}

static int
flow_wants_read(struct flow *f)
{
	if (f->done || f->from->eof || f->mode == FLOW_IDLE)
		return 0;
	if (f->mode == FLOW_BODY && (f->fr.done || f->fr.error))
		return 0;
	/* One pipeful at a time: a full pipe would look readable forever. */
	if (flow_uses_pipe(f))
		return f->piped == 0;
	return buf_room(f->buf) > 0;
}

/* A flow is done when its message (or the tunnel direction) is through. */
static void
flow_check_done(struct flow *f)
{
	if (f->done || f->pre_len > 0 || f->ready > 0 || f->piped > 0)
		return;
	if (f->mode == FLOW_BODY && f->fr.done) {
		f->done = 1;
	} else if (f->mode == FLOW_TUNNEL && f->from->eof) {
		side_shutdown(f->to);
		f->done = 1;
	}
}

#ifndef RELAY_NO_SPLICE
/*
 * splice() needs sockets or pipes: in inetd mode fd 1 may be a file
 * (opened O_APPEND, splice refuses it once bytes are in the pipe).
 */
static int
splice_capable(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 && (S_ISSOCK(st.st_mode) ||
	    S_ISFIFO(st.st_mode));
}
#endif

/* Bulk on a tunnel flow: open the pipe (if we can; else stay as we are). */
static void
flow_bulk_start(struct flow *f)
{
#ifndef RELAY_NO_SPLICE
	if (f->mode != FLOW_TUNNEL)
		return;
	if (!f->has_pipe) {
		if (!splice_capable(f->from->rfd) ||
		    !splice_capable(f->to->wfd))
			return;
		if (pipe2(f->pipe_fd, O_NONBLOCK | O_CLOEXEC) < 0)
			return;
		/* Bigger than the default 64 KiB: fewer splices per message;
		 * refused above /proc/sys/fs/pipe-max-size, which is fine. */
		(void)fcntl(f->pipe_fd[1], F_SETPIPE_SZ, SPLICE_PIPE_BYTES);
		f->has_pipe = 1;
	}
	f->bulk = 1;
#else
	(void)f;
#endif
}

static void
flow_pipe_close(struct flow *f)
{
	if (!f->has_pipe)
		return;
	close(f->pipe_fd[0]);
	close(f->pipe_fd[1]);
	f->has_pipe = f->bulk = 0;
	f->piped = 0;
}

static enum relay_status
flow_splice_in(struct flow *f, int64_t now)
{
	ssize_t n = splice(f->from->rfd, NULL, f->pipe_fd[1], NULL, SPLICE_ASK,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return RELAY_DONE;
	if (n < 0 && errno == EINVAL) {
		/* This pair of descriptors cannot splice: buffers it is. */
		f->bulk = 0;
		return RELAY_DONE;
	}
	if (n <= 0) {
		f->from->eof = 1;       /* a tunnel: EOF or reset ends it */
		return RELAY_DONE;
	}
	f->from->last_ms = now;
	f->from->bytes_in += (unsigned long long)n;
	f->piped = (size_t)n;
	if (n < SPLICE_BULK_MIN)
		f->bulk = 0;            /* the pipe drains, then buf again */
	return RELAY_DONE;
}

static enum relay_status
flow_splice_out(struct flow *f, int64_t now)
{
	ssize_t n = splice(f->pipe_fd[0], NULL, f->to->wfd, NULL, f->piped,
	    SPLICE_F_MOVE | SPLICE_F_NONBLOCK);

	if (n < 0) {
		f->wr_blocked = 1;
		return errno == EAGAIN || errno == EINTR ? RELAY_DONE :
		    RELAY_WRITE_ERROR;
	}
	f->to->last_ms = now;
	f->to->bytes_out += (unsigned long long)n;
	f->piped -= (size_t)n;
	f->wr_blocked = f->piped > 0;
	return RELAY_DONE;
}

static enum relay_status
flow_read(struct flow *f, int64_t now)
{
	struct buf *b = f->buf;
	size_t room;
	ssize_t n;

	if (flow_uses_pipe(f))
		return flow_splice_in(f, now);
	room = buf_room(b);
	b->touched = 1;
	n = read(f->from->rfd, b->data + b->start + b->len, room);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return RELAY_DONE;
	if (n <= 0) {
		/* EOF, or a reset: the direction is over either way. */
		f->from->eof = 1;
		f->from->last_ms = now;  /* its half-closed timeout starts */
		if (f->mode == FLOW_HEAD)
			return RELAY_EOF;
		if (f->mode == FLOW_BODY && !http_framing_eof(&f->fr))
			return RELAY_EOF;
		return RELAY_DONE;
	}
	f->from->last_ms = now;
	f->from->bytes_in += (unsigned long long)n;
	b->len += (size_t)n;
	if ((size_t)n == room)
		flow_bulk_start(f);
	if (f->mode == FLOW_HEAD) {
		if (http_head_end(b->data + b->start, b->len) > 0)
			return RELAY_HEAD;
		if (buf_room(b) == 0)
			return RELAY_HEAD_TOO_BIG;
		return RELAY_DONE;
	}
	flow_frame(f);
	return f->fr.error ? RELAY_BAD_BODY : RELAY_DONE;
}

static enum relay_status
flow_write(struct flow *f, int64_t now)
{
	struct iovec iov[2];
	int iovcnt = 0;
	ssize_t n;
	size_t pre_sent, want;

	if (f->pre_len == 0 && f->ready == 0)
		return flow_splice_out(f, now);
	if (f->pre_len > 0) {
		iov[iovcnt].iov_base = (void *)f->pre;
		iov[iovcnt++].iov_len = f->pre_len;
	}
	if (f->ready > 0) {
		iov[iovcnt].iov_base = f->buf->data + f->buf->start;
		iov[iovcnt++].iov_len = f->ready;
	}
	want = f->pre_len + f->ready;
	n = writev(f->to->wfd, iov, iovcnt);
	if (n < 0) {
		f->wr_blocked = 1;
		return errno == EAGAIN || errno == EINTR ? RELAY_DONE :
		    RELAY_WRITE_ERROR;
	}
	/* Short: the socket buffer is full, so wait for POLLOUT. */
	f->wr_blocked = (size_t)n < want;
	f->to->last_ms = now;
	f->to->bytes_out += (unsigned long long)n;
	pre_sent = (size_t)n < f->pre_len ? (size_t)n : f->pre_len;
	f->pre += pre_sent;
	f->pre_len -= pre_sent;
	n -= (ssize_t)pre_sent;
	buf_consume(f->buf, (size_t)n);
	f->ready -= (size_t)n;
	return RELAY_DONE;
}

/*
 * A side's idle timeout. Once it is half-closed, either way (it sent its
 * FIN, or we sent ours to it), client-fin or server-fin takes over when
 * set, as 2.6's half-closed timeout does for the client/server/tunnel
 * one. A side we only write to (a client whose request is read) may send
 * its FIN unread: relay_poll_set() asks for POLLRDHUP there.
 */
static int
side_timeout(const struct side *s)
{
	if ((s->eof || s->fin_seen || s->wr_shut) && s->fin_timeout_ms > 0)
		return s->fin_timeout_ms;
	return s->timeout_ms;
}

/* Is anybody waiting for this side to read or write? */
static int
side_awaited(struct flow **flows, int nflows, const struct side *s)
{
	for (int i = 0; i < nflows; i++) {
		struct flow *f = flows[i];
		if ((f->from == s && flow_wants_read(f)) ||
		    (f->to == s && flow_wants_write(f)))
			return 1;
	}
	return 0;
}

/* The side whose idle timer expires first among those awaited. */
static struct side *
next_deadline(struct flow **flows, int nflows, int64_t *deadline)
{
	struct side *first = NULL;

	for (int i = 0; i < nflows; i++) {
		struct side *sides[2] = { flows[i]->from, flows[i]->to };
		for (int j = 0; j < 2; j++) {
			struct side *s = sides[j];
			int64_t d;
			int timeout_ms = side_timeout(s);
			if (timeout_ms <= 0 ||
			    !side_awaited(flows, nflows, s))
				continue;
			d = s->last_ms + timeout_ms;
			if (first == NULL || d < *deadline) {
				first = s;
				*deadline = d;
			}
		}
	}
	return first;
}

static int
all_done(struct flow **flows, int nflows, int wait_for)
{
	if (wait_for >= 0)
		return flows[wait_for]->done;
	for (int i = 0; i < nflows; i++)
		if (!flows[i]->done)
			return 0;
	return 1;
}

/*
 * Writes what each flow has ready, without asking poll() first: the
 * socket is nearly always writable, and one read then costs one poll,
 * one read and one write. A short write marks the flow blocked until
 * poll() reports POLLOUT.
 */
static enum relay_status
relay_flush(struct flow **flows, int nflows, int64_t now,
    struct side **culprit)
{
	for (int i = 0; i < nflows; i++) {
		struct flow *f = flows[i];
		flow_frame(f);
		if (flow_wants_write(f) && !f->wr_blocked &&
		    flow_write(f, now) != RELAY_DONE) {
			*culprit = f->to;
			return RELAY_WRITE_ERROR;
		}
		flow_check_done(f);
	}
	return RELAY_DONE;
}

/* A flow polls at most two descriptors: its writer and its reader. */
#define POLLFDS_PER_FLOW 2

/*
 * The poll set: POLLOUT for blocked writers, POLLIN for readers; owner[]
 * says whose entry it is, is_write[] which way.
 */
static int
relay_poll_set(struct flow **flows, int nflows, struct pollfd *pfd,
    int *owner, int *is_write)
{
	int npfd = 0;

	for (int i = 0; i < nflows; i++) {
		struct flow *f = flows[i];
		if (flow_wants_write(f)) {
			short ev = POLLOUT;
			/* its FIN starts its fin timeout: know it unread */
			if (f->to->fin_timeout_ms > 0 && !f->to->eof &&
			    !f->to->fin_seen && f->to->wfd == f->to->rfd)
				ev |= POLLRDHUP;
			pfd[npfd] = (struct pollfd){ f->to->wfd, ev, 0 };
			owner[npfd] = i;
			is_write[npfd++] = 1;
		}
		if (flow_wants_read(f)) {
			pfd[npfd] = (struct pollfd){ f->from->rfd, POLLIN, 0 };
			owner[npfd] = i;
			is_write[npfd++] = 0;
		}
	}
	return npfd;
}

/* Tunnels only: can anything be trimmed once the connection is quiet? */
static int
relay_trimmable(struct flow **flows, int nflows)
{
	int any = 0;

	for (int i = 0; i < nflows; i++) {
		const struct flow *f = flows[i];
		if (f->mode != FLOW_TUNNEL || f->buf->len > 0)
			return 0;
		any |= f->buf->touched;
	}
	return any;
}

static void
relay_trim(struct flow **flows, int nflows)
{
	for (int i = 0; i < nflows; i++)
		buf_trim(flows[i]->buf);
}

/*
 * tunnel-keeper: the tunnel leaves this process only between two
 * messages: nothing buffered or piped either way, nothing half-closed,
 * so what the keeper takes over is two quiet sockets and a log record.
 * Returns when the next attempt is due (ms), or 0: not now.
 */
static int64_t
relay_handover_due(struct flow **flows, int nflows)
{
	for (int i = 0; i < nflows; i++) {
		const struct flow *f = flows[i];
		if (f->handover_at == 0 || f->mode != FLOW_TUNNEL || f->done ||
		    f->pre_len > 0 || f->buf->len > 0 || f->piped > 0 ||
		    f->from->eof || f->from->fin_seen || f->to->wr_shut)
			return 0;
	}
	return flows[0]->handover_at;
}

/* poll()'s timeout: the first of the idle deadline and a due handover. */
static int
relay_poll_timeout(struct flow **flows, int nflows, int64_t handover_at)
{
	int64_t deadline = 0, due = -1, left;

	if (next_deadline(flows, nflows, &deadline) != NULL)
		due = deadline;
	if (handover_at != 0 && (due < 0 || handover_at < due))
		due = handover_at;
	if (due < 0)
		return -1;
	left = due - now_ms();
	return left < 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

volatile sig_atomic_t relay_shutdown;

static enum relay_status
relay_loop(struct flow **flows, int nflows, int wait_for, int64_t now,
    struct side **culprit)
{
	struct pollfd pfd[POLLFDS_PER_FLOW * nflows];
	int owner[POLLFDS_PER_FLOW * nflows];
	int is_write[POLLFDS_PER_FLOW * nflows];

	for (;;) {
		int npfd, timeout, trim, rc;
		int64_t deadline = 0, handover_at;
		struct side *late;

		if (relay_shutdown) {
			*culprit = flows[0]->from;
			return RELAY_KILLED;
		}
		if (relay_flush(flows, nflows, now, culprit) != RELAY_DONE)
			return RELAY_WRITE_ERROR;
		if (all_done(flows, nflows, wait_for))
			return RELAY_DONE;
		handover_at = relay_handover_due(flows, nflows);
		if (handover_at != 0 && now >= handover_at)
			return RELAY_HANDOVER;
		npfd = relay_poll_set(flows, nflows, pfd, owner, is_write);
		if (npfd == 0) {
			/* Nothing can move: a flow waits on a closed side. */
			*culprit = flows[wait_for >= 0 ? wait_for : 0]->from;
			return RELAY_EOF;
		}
		timeout = relay_poll_timeout(flows, nflows, handover_at);
		trim = relay_trimmable(flows, nflows) &&
		    (timeout < 0 || timeout > TRIM_IDLE_MS);
		if (trim)
			timeout = TRIM_IDLE_MS;
		rc = poll(pfd, (nfds_t)npfd, timeout);
		if (rc < 0) {
			if (errno == EINTR) {
				now = now_ms();
				continue;
			}
			*culprit = flows[0]->from;
			return RELAY_WRITE_ERROR;
		}
		if (rc == 0 && trim)
			relay_trim(flows, nflows);
		now = now_ms();
		for (int i = 0; i < npfd; i++) {
			struct flow *f = flows[owner[i]];
			enum relay_status st;
			if (pfd[i].revents == 0)
				continue;
			if (is_write[i] && (pfd[i].revents & POLLRDHUP)) {
				f->to->fin_seen = 1;
				f->to->last_ms = now;
				if (!(pfd[i].revents & (POLLOUT | POLLERR |
				    POLLHUP)))
					continue;
			}
			if (is_write[i])
				f->wr_blocked = 0;
			st = is_write[i] ? flow_write(f, now) : flow_read(f, now);
			if (st != RELAY_DONE) {
				*culprit = is_write[i] ? f->to : f->from;
				return st;
			}
		}
		late = next_deadline(flows, nflows, &deadline);
		if (late != NULL && now >= deadline) {
			*culprit = late;
			return RELAY_TIMEOUT;
		}
	}
}

enum relay_status
relay_run(struct flow **flows, int nflows, int wait_for, int64_t start_ms,
    struct side **culprit)
{
	enum relay_status st = relay_loop(flows, nflows, wait_for, start_ms,
	    culprit);

	/* Pipes live only in tunnels, and a tunnel never outlives this. */
	for (int i = 0; i < nflows; i++)
		flow_pipe_close(flows[i]);
	return st;
}

int
relay_write_all(int fd, const char *data, size_t len, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n > 0) {
			data += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		struct pollfd pfd = { fd, POLLOUT, 0 };
		int left = timeout_ms > 0 ? (int)(deadline - now_ms()) : -1;
		if (timeout_ms > 0 && left <= 0)
			return -1;
		if (poll(&pfd, 1, left) < 0 && errno != EINTR)
			return -1;
	}
	return 0;
}
