/* DESIGN: no thread is created here. libcurl's threaded resolver may start
 * one per name lookup; it only hands the answer back to libcurl, which is
 * driven from the loop thread. See curl_loop.h. */
#include "node/common/curl_loop.h"

#include <stdbool.h>
#include <stdlib.h>

#include "node/common/errcode.h"

/* One socket libcurl asked us to watch. */
struct curl_loop_socket {
	uv_poll_t poll;
	curl_socket_t fd;
	struct curl_loop *l;
	struct curl_loop_socket *prev, *next;
};

struct curl_loop {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct curl_loop_socket *sockets;
	curl_loop_done_cb done;
	void *data;
	unsigned open; /* sockets not closed + the timer */
	bool closing;
	void (*close_cb)(void *data);
	void *close_data;
};

static void curl_loop_maybe_free(struct curl_loop *l)
{
	void (*cb)(void *data) = l->close_cb;
	void *data = l->close_data;

	if (!l->closing || l->open != 0)
		return;
	free(l);
	curl_global_cleanup();
	if (cb != NULL)
		cb(data);
}

static void curl_loop_info(struct curl_loop *l)
{
	CURLMsg *msg;
	int left;

	/* done may close the loop: then the multi is gone. */
	while (!l->closing &&
	       (msg = curl_multi_info_read(l->multi, &left)) != NULL) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		l->done(l->data, msg->easy_handle, msg->data.result);
	}
}

static void curl_loop_on_poll(uv_poll_t *h, int status, int events)
{
	struct curl_loop_socket *s = h->data;
	struct curl_loop *l = s->l;
	int flags = 0;
	int running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(l->multi, s->fd, flags, &running);
	curl_loop_info(l);
}

static void curl_loop_on_socket_closed(uv_handle_t *h)
{
	struct curl_loop_socket *s = h->data;
	struct curl_loop *l = s->l;

	free(s);
	l->open--;
	curl_loop_maybe_free(l);
}

/* uv_close stops the poll synchronously, so libcurl may close the fd and
 * reuse its number right after this. */
static void curl_loop_socket_close(struct curl_loop_socket *s)
{
	struct curl_loop *l = s->l;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		l->sockets = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	uv_close((uv_handle_t *)&s->poll, curl_loop_on_socket_closed);
}

static int curl_loop_on_socket(CURL *easy, curl_socket_t fd, int what,
			       void *userp, void *socketp)
{
	struct curl_loop *l = userp;
	struct curl_loop_socket *s = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (s != NULL) {
			curl_multi_assign(l->multi, fd, NULL);
			curl_loop_socket_close(s);
		}
		return 0;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		if (uv_poll_init_socket(l->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->fd = fd;
		s->l = l;
		s->poll.data = s;
		s->next = l->sockets;
		if (l->sockets != NULL)
			l->sockets->prev = s;
		l->sockets = s;
		l->open++;
		curl_multi_assign(l->multi, fd, s);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	if (uv_poll_start(&s->poll, events, curl_loop_on_poll) != 0)
		return -1;
	return 0;
}

static void curl_loop_on_timeout(uv_timer_t *t)
{
	struct curl_loop *l = t->data;
	int running;

	curl_multi_socket_action(l->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	curl_loop_info(l);
}

static int curl_loop_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct curl_loop *l = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(&l->timer);
	else
		uv_timer_start(&l->timer, curl_loop_on_timeout,
			       (uint64_t)timeout_ms, 0);
	return 0;
}

int curl_loop_init(struct curl_loop **out, uv_loop_t *loop,
		   curl_loop_done_cb done, void *data)
{
	struct curl_loop *l;

	*out = NULL;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return Q53_ENOMEM;
	l = calloc(1, sizeof(*l));
	if (l == NULL)
		goto err_after_global;
	l->loop = loop;
	l->done = done;
	l->data = data;
	l->multi = curl_multi_init();
	if (l->multi == NULL)
		goto err_after_alloc;
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETFUNCTION,
			  curl_loop_on_socket);
	curl_multi_setopt(l->multi, CURLMOPT_SOCKETDATA, l);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERFUNCTION, curl_loop_on_timer);
	curl_multi_setopt(l->multi, CURLMOPT_TIMERDATA, l);
	if (uv_timer_init(loop, &l->timer) != 0)
		goto err_after_multi;
	l->timer.data = l;
	l->open = 1;
	*out = l;
	return 0;
err_after_multi:
	curl_multi_cleanup(l->multi);
err_after_alloc:
	free(l);
err_after_global:
	curl_global_cleanup();
	return Q53_ENOMEM;
}

int curl_loop_add(struct curl_loop *l, CURL *easy)
{
	if (l->closing || curl_multi_add_handle(l->multi, easy) != CURLM_OK)
		return Q53_EINVAL;
	return 0;
}

void curl_loop_remove(struct curl_loop *l, CURL *easy)
{
	if (l->multi != NULL)
		curl_multi_remove_handle(l->multi, easy);
}

static void curl_loop_on_timer_closed(uv_handle_t *h)
{
	struct curl_loop *l = h->data;

	l->open--;
	curl_loop_maybe_free(l);
}

void curl_loop_close(struct curl_loop *l, void (*cb)(void *data), void *data)
{
	if (l->closing)
		return;
	l->closing = true;
	l->close_cb = cb;
	l->close_data = data;
	l->open++; /* this function's own reference */
	/* Every easy handle is out; the multi may still close sockets. */
	curl_multi_cleanup(l->multi);
	l->multi = NULL;
	while (l->sockets != NULL)
		curl_loop_socket_close(l->sockets);
	uv_close((uv_handle_t *)&l->timer, curl_loop_on_timer_closed);
	l->open--;
	curl_loop_maybe_free(l);
}
