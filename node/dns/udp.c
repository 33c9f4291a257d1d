#include "node/dns/udp.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "node/common/errcode.h"
#include "node/dns/xfr_out.h"
#include "node/dns/dns_stats.h"
#include "node/zone/view.h"

int dns_udp_open(const struct sockaddr *addr, socklen_t addrlen,
		 const char **what)
{
	int fd;
	int one = 1;
	int rcvbuf = 1 << 20;
	int err;

	fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		*what = "socket";
		return -errno;
	}
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0) {
		*what = "setsockopt(SO_REUSEPORT)";
		goto err_after_socket;
	}
	/* v6 only, unless the address itself is IPv4-mapped. */
	if (addr->sa_family == AF_INET6 &&
	    !IN6_IS_ADDR_V4MAPPED(
		&((const struct sockaddr_in6 *)addr)->sin6_addr) &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) != 0) {
		*what = "setsockopt(IPV6_V6ONLY)";
		goto err_after_socket;
	}
	/* Best effort: room for bursts while the worker is busy. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, addr, addrlen) != 0) {
		*what = "bind";
		goto err_after_socket;
	}
	return fd;

err_after_socket:
	err = -errno;
	close(fd);
	return err;
}

int dns_udp_batch_init(struct dns_udp_batch *b, uint16_t udp_payload)
{
	memset(b, 0, sizeof(*b));
	if (udp_payload < 512)
		return Q53_EINVAL;
	b->params.udp_payload = udp_payload;
	b->params.tcp = false;
	b->in = malloc((size_t)DNS_UDP_BATCH * DNS_UDP_QUERY_MAX);
	if (b->in == NULL)
		goto err;
	b->out = malloc((size_t)DNS_UDP_BATCH * udp_payload);
	if (b->out == NULL)
		goto err_after_in;
	for (size_t i = 0; i < DNS_UDP_BATCH; i++) {
		b->rx_iov[i].iov_base = b->in + i * DNS_UDP_QUERY_MAX;
		b->rx_iov[i].iov_len = DNS_UDP_QUERY_MAX;
		b->rx[i].msg_hdr.msg_iov = &b->rx_iov[i];
		b->rx[i].msg_hdr.msg_iovlen = 1;
		b->rx[i].msg_hdr.msg_name = &b->peer[i];
		b->rx[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		b->tx[i].msg_hdr.msg_iov = &b->tx_iov[i];
		b->tx[i].msg_hdr.msg_iovlen = 1;
	}
	return 0;

err_after_in:
	free(b->in);
	b->in = NULL;
err:
	return Q53_ENOMEM;
}

int dns_udp_batch_rrl(struct dns_udp_batch *b, const struct dns_rrl_config *cfg,
		      unsigned nshares)
{
	int rc = dns_rrl_init(&b->rrl_table, cfg, nshares);
	if (rc == 0)
		b->rrl = &b->rrl_table;
	return rc;
}

void dns_udp_batch_free(struct dns_udp_batch *b)
{
	if (b->rrl != NULL)
		dns_rrl_free(b->rrl);
	b->rrl = NULL;
	free(b->out);
	free(b->in);
	b->out = NULL;
	b->in = NULL;
}

static void dns_udp_send_all(int fd, struct mmsghdr *tx, unsigned n)
{
	unsigned off = 0;

	while (off < n) {
		int r = sendmmsg(fd, tx + off, n - off, MSG_DONTWAIT);
		if (r > 0) {
			off += (unsigned)r;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && (errno == EAGAIN || errno == ENOBUFS)) {
			return; /* socket buffer full: drop the rest */
		} else {
			off++; /* this peer is unreachable: skip it */
		}
	}
}

int dns_udp_recv(struct dns_udp_batch *b, int fd, int flags)
{
	int n;

	/* recvmmsg rewrites only the headers it fills: reset those. */
	for (unsigned i = 0; i < b->used; i++) {
		b->rx[i].msg_hdr.msg_namelen = sizeof(b->peer[i]);
		b->rx[i].msg_hdr.msg_flags = 0;
	}
	b->used = 0;
	n = recvmmsg(fd, b->rx, DNS_UDP_BATCH, flags, NULL);
	if (n < 0)
		return -errno;
	b->used = (unsigned)n;
	return n;
}

void dns_udp_reply(struct dns_udp_batch *b, int fd, int n,
		   const struct serving_view *view)
{
	unsigned ntx = 0;
	uint32_t now_s = 0;
	struct dns_stats_shard *st = b->stats;
	uint64_t t0 = st != NULL ? dns_stats_now_ns() : 0;

	if (b->rrl != NULL) {
		/* One clock read per batch (vDSO, no system call). */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
		now_s = (uint32_t)ts.tv_sec;
	}
	for (int i = 0; i < n; i++) {
		struct msghdr *rh = &b->rx[i].msg_hdr;
		uint8_t *out = b->out + (size_t)i * b->params.udp_payload;
		size_t len;

		if (rh->msg_flags & MSG_TRUNC) {
			if (st != NULL)
				dns_stats_add(
				    &st->dropped[DNS_STATS_DROP_OVERSIZE], 1);
			continue;
		}
		/* A TSIG-signed query is answered by xfr_out's handler. */
		if (dns_xfr_take(fd, rh->msg_name, rh->msg_iov->iov_base,
				 b->rx[i].msg_len, false))
			continue;
		struct dns_client client;
		struct dns_answer_info info;
		dns_client_from_sockaddr(&client, rh->msg_name);
		len = dns_query_answer_info(
		    view, &b->params, &client, rh->msg_iov->iov_base,
		    b->rx[i].msg_len, out, b->params.udp_payload, &info);
		if (st != NULL)
			dns_stats_count(st, DNS_STATS_UDP, &client, out, len);
		if (len == 0)
			continue;
		if (b->rrl != NULL) {
			switch (dns_rrl_check(b->rrl, &client, &info, out, len,
					      now_s)) {
			case DNS_RRL_PASS:
				break;
			case DNS_RRL_DROP:
				continue;
			case DNS_RRL_SLIP:
				len =
				    dns_query_truncate(&b->params, &info, out);
				break;
			}
		}
		b->tx_iov[ntx].iov_base = out;
		b->tx_iov[ntx].iov_len = len;
		b->tx[ntx].msg_hdr.msg_name = rh->msg_name;
		b->tx[ntx].msg_hdr.msg_namelen = rh->msg_namelen;
		b->tx[ntx].msg_hdr.msg_iov = &b->tx_iov[ntx];
		b->tx[ntx].msg_hdr.msg_iovlen = 1;
		ntx++;
	}
	dns_udp_send_all(fd, b->tx, ntx);
	if (st != NULL) {
		dns_stats_add(&st->udp_received, (uint64_t)n);
		dns_stats_latency(st, DNS_STATS_UDP, dns_stats_now_ns() - t0,
				  ntx);
	}
}
