/* The HTTP listener's limits (node/api/http_server.c, issue 11): a body
 * announced over the request's cap is answered 413 and one that does not
 * fit the server's cap on buffered bytes 503, both before the body is sent;
 * connections past max_connections get 503; the bytes held are counted and
 * given back. A real listener on 127.0.0.1 driven by this thread's loop;
 * clients are plain sockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "node/api/http_server.h"

static void on_request(void *data, struct http_request *r)
{
	int *served = data;
	(*served)++;
	http_respond(r, 200, "text/plain", "ok\n", 3, NULL);
}

static int connect_to(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	return fd;
}

static void send_all(int fd, const char *s)
{
	size_t n = strlen(s);
	assert_int_equal(send(fd, s, n, 0), (ssize_t)n);
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + t.tv_nsec / 1e9;
}

/* Runs the loop until fd has an answer's status line (or 5 s): its
 * status, 0 for none. */
static int status_of(uv_loop_t *loop, int fd)
{
	char buf[512];
	size_t len = 0;
	double end = now_s() + 5;
	while (now_s() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		ssize_t n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0);
		if (n > 0) {
			len += (size_t)n;
			buf[len] = '\0';
			if (strstr(buf, "\r\n") != NULL) {
				int st = 0;
				sscanf(buf, "HTTP/1.1 %d", &st);
				return st;
			}
		} else if (n == 0) {
			return 0;
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			return 0;
		}
		usleep(1000); /* a poll of the loop and the socket */
	}
	return 0;
}

static void head(char *buf, size_t cap, size_t length)
{
	snprintf(buf, cap,
		 "POST /x HTTP/1.1\r\nHost: t\r\nContent-Length: %zu\r\n\r\n",
		 length);
}

/* Runs the loop until pred(s) or 5 s. */
static bool loop_until(uv_loop_t *loop, struct http_server *s,
		       bool (*pred)(struct http_server_stats *))
{
	double end = now_s() + 5;
	struct http_server_stats st;
	while (now_s() < end) {
		uv_run(loop, UV_RUN_NOWAIT);
		http_server_stats(s, &st);
		if (pred(&st))
			return true;
		usleep(1000);
	}
	return false;
}

static bool two_reserved(struct http_server_stats *st)
{
	return st->buffered >= 2 * 300000;
}

static bool nothing_held(struct http_server_stats *st)
{
	return st->buffered == 0;
}

static bool three_open(struct http_server_stats *st)
{
	return st->connections >= 3;
}

static void test_limits(void **state)
{
	(void)state;
	uv_loop_t loop;
	struct http_server *s;
	char err[256], h[256];
	int served = 0;

	assert_int_equal(uv_loop_init(&loop), 0);
	struct http_server_config cfg = {
	    .listen = "127.0.0.1:0",
	    .max_body = 500000,
	    .limits = {.max_connections = 3, .max_buffered = 700000},
	    .handler = on_request,
	    .data = &served,
	};
	assert_int_equal(http_server_start(&s, &loop, &cfg, err, sizeof(err)),
			 0);
	int port = http_server_port(s);

	/* Over the request's cap: 413 before the body. */
	int a = connect_to(port);
	head(h, sizeof(h), 600000);
	send_all(a, h);
	assert_int_equal(status_of(&loop, a), 413);
	close(a);

	/* Two bodies of 300 kB held open fit 700 kB; the third is 503. */
	int b1 = connect_to(port), b2 = connect_to(port);
	head(h, sizeof(h), 300000);
	send_all(b1, h);
	send_all(b2, h);
	assert_true(loop_until(&loop, s, two_reserved));
	int b3 = connect_to(port);
	send_all(b3, h);
	assert_int_equal(status_of(&loop, b3), 503);
	close(b3);
	struct http_server_stats st;
	http_server_stats(s, &st);
	assert_int_equal(st.refused_too_large, 1);
	assert_int_equal(st.refused_buffered, 1);
	/* Their connections gone, the reservations are given back. */
	close(b1);
	close(b2);
	assert_true(loop_until(&loop, s, nothing_held));

	/* A small request is served. */
	int c = connect_to(port);
	send_all(c, "GET /y HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(status_of(&loop, c), 200);
	close(c);
	assert_int_equal(served, 1);

	/* Past three connections: 503. */
	int idle[3];
	for (int i = 0; i < 3; i++)
		idle[i] = connect_to(port);
	assert_true(loop_until(&loop, s, three_open));
	int d = connect_to(port);
	send_all(d, "GET /y HTTP/1.1\r\nHost: t\r\n\r\n");
	assert_int_equal(status_of(&loop, d), 503);
	close(d);
	http_server_stats(s, &st);
	assert_int_equal(st.refused_connections, 1);
	for (int i = 0; i < 3; i++)
		close(idle[i]);

	http_server_close(s);
	for (int i = 0; i < 100 && uv_run(&loop, UV_RUN_NOWAIT) != 0; i++)
		;
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
