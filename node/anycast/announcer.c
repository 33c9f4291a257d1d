/* The anycast announcer (see announcer.h): one uv_timer, one UDP probe of
 * the responder per period, rtnetlink to add or remove the address. The
 * netlink calls are synchronous (the kernel answers at once; a 1 s
 * receive timeout bounds them). */
#include "node/anycast/announcer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "node/anycast/anycast_decision.h"
#include "node/common/errcode.h"

#define ANYCAST_DEFAULT_INTERVAL_MS 500
#define ANYCAST_DEFAULT_WITHDRAW    2
#define ANYCAST_QUERY_MAX	    300

#define an_log(a, ...)                                                         \
	do {                                                                   \
		fprintf(stderr, "q53d[%llu]: anycast: ",                       \
			(unsigned long long)(a)->node_id);                     \
		fprintf(stderr, __VA_ARGS__);                                  \
		fputc('\n', stderr);                                           \
	} while (0)

struct anycast_announcer {
	uv_loop_t *loop;
	uint64_t node_id;
	char spec[INET6_ADDRSTRLEN + 8 + IF_NAMESIZE];
	int family;
	uint8_t addr[16];
	unsigned prefix;
	char ifname[IF_NAMESIZE];
	unsigned ifindex;
	int nl; /* rtnetlink socket */
	uint32_t nl_seq;
	char *state_file;
	unsigned interval_ms;
	bool (*quorum_contact)(void *data);
	void *data;

	struct anycast_decision decision;
	bool on_iface;	/* the address is on the interface (we put it) */
	int last_error; /* of the last failed add, logged once */

	uv_timer_t timer;
	uv_udp_t udp;
	struct sockaddr_storage responder;
	uint8_t query[ANYCAST_QUERY_MAX];
	size_t query_len;
	uint16_t query_id;
	bool probe_sent;
	bool probe_ok;
	bool check_records; /* a check name given: NOERROR with answers */
	char recv_buf[512];

	unsigned open;
	void (*close_cb)(void *data);
	void *close_data;
};

/* --- rtnetlink --- */

static int an_netlink(struct anycast_announcer *a, bool add)
{
	struct {
		struct nlmsghdr nh;
		struct ifaddrmsg ifa;
		char attrs[64];
	} req;
	char buf[1024];
	struct rtattr *rta;
	size_t alen = a->family == AF_INET ? 4 : 16;
	ssize_t n;

	memset(&req, 0, sizeof(req));
	req.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
	req.nh.nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR;
	req.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (add)
		req.nh.nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	req.nh.nlmsg_seq = ++a->nl_seq;
	req.ifa.ifa_family = (unsigned char)a->family;
	req.ifa.ifa_prefixlen = (unsigned char)a->prefix;
	req.ifa.ifa_scope = RT_SCOPE_UNIVERSE;
	req.ifa.ifa_index = a->ifindex;
	for (int i = 0; i < 2; i++) {
		rta = (struct rtattr *)((char *)&req +
					NLMSG_ALIGN(req.nh.nlmsg_len));
		rta->rta_type = i == 0 ? IFA_LOCAL : IFA_ADDRESS;
		rta->rta_len = (unsigned short)RTA_LENGTH(alen);
		memcpy(RTA_DATA(rta), a->addr, alen);
		req.nh.nlmsg_len =
		    NLMSG_ALIGN(req.nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
	}
	if (send(a->nl, &req, req.nh.nlmsg_len, 0) < 0)
		return -errno;
	for (int tries = 0; tries < 8; tries++) {
		struct nlmsghdr *h;
		n = recv(a->nl, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != a->nl_seq ||
			    h->nlmsg_type != NLMSG_ERROR)
				continue;
			return ((struct nlmsgerr *)NLMSG_DATA(h))->error;
		}
	}
	return -ETIMEDOUT;
}

/* --- the state --- */

static void an_state_write(struct anycast_announcer *a)
{
	char tmp[4096];
	FILE *f;

	if (a->state_file == NULL)
		return;
	snprintf(tmp, sizeof(tmp), "%s.tmp", a->state_file);
	f = fopen(tmp, "w");
	if (f == NULL)
		return;
	if (a->on_iface)
		fprintf(f, "announced %s dev %s\n", a->spec, a->ifname);
	else
		fprintf(f, "withdrawn %s: %s\n", a->spec,
			anycast_why_name(a->decision.why));
	if (fclose(f) == 0)
		rename(tmp, a->state_file);
}

static void an_apply(struct anycast_announcer *a, bool announce)
{
	int rv;

	if (announce == a->on_iface)
		return;
	rv = an_netlink(a, announce);
	if (announce && rv != 0 && rv != -EEXIST) {
		if (rv != a->last_error)
			an_log(a, "cannot add %s to %s: %s", a->spec, a->ifname,
			       strerror(-rv));
		a->last_error = rv;
		return;
	}
	a->last_error = 0;
	if (!announce && rv != 0 && rv != -EADDRNOTAVAIL)
		an_log(a, "cannot remove %s from %s: %s", a->spec, a->ifname,
		       strerror(-rv));
	a->on_iface = announce;
	if (announce)
		an_log(a, "announce %s on %s (%s)", a->spec, a->ifname,
		       anycast_why_name(a->decision.why));
	else
		an_log(a, "withdraw %s from %s: %s", a->spec, a->ifname,
		       anycast_why_name(a->decision.why));
	an_state_write(a);
}

/* --- the responder probe --- */

static size_t an_encode_query(uint8_t *out, size_t cap, uint16_t id,
			      const char *name)
{
	size_t o = 12;
	const char *p = name;

	if (cap < 12 + 255 + 4)
		return 0;
	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = 0x00; /* no RD: an authoritative question */
	out[5] = 1;    /* QDCOUNT */
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t len = dot != NULL ? (size_t)(dot - p) : strlen(p);
		if (len == 0 || len > 63 || o + len + 1 > 12 + 254)
			return 0;
		out[o++] = (uint8_t)len;
		memcpy(out + o, p, len);
		o += len;
		p += len;
		if (*p == '.')
			p++;
	}
	out[o++] = 0;
	out[o++] = 0;
	out[o++] = 6; /* SOA */
	out[o++] = 0;
	out[o++] = 1; /* IN */
	return o;
}

static void an_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct anycast_announcer *a = h->data;

	(void)suggested;
	buf->base = a->recv_buf;
	buf->len = sizeof(a->recv_buf);
}

static void an_on_recv(uv_udp_t *h, ssize_t nread, const uv_buf_t *buf,
		       const struct sockaddr *from, unsigned flags)
{
	struct anycast_announcer *a = h->data;
	const uint8_t *m = (const uint8_t *)buf->base;

	(void)from;
	(void)flags;
	if (nread < 12 || !a->probe_sent)
		return;
	if (((uint16_t)(m[0] << 8 | m[1])) != a->query_id || !(m[2] & 0x80))
		return;
	if (a->check_records && ((m[3] & 0x0f) != 0 || (m[6] | m[7]) == 0))
		return; /* answered, but not the zone: as if not answered */
	a->probe_ok = true;
}

static void an_on_sent(uv_udp_send_t *req, int status)
{
	(void)status;
	free(req);
}

static void an_probe(struct anycast_announcer *a)
{
	uv_udp_send_t *req = malloc(sizeof(*req));
	uv_buf_t b;

	a->probe_sent = false;
	a->probe_ok = false;
	if (req == NULL)
		return;
	a->query_id++;
	a->query[0] = (uint8_t)(a->query_id >> 8);
	a->query[1] = (uint8_t)a->query_id;
	b = uv_buf_init((char *)a->query, (unsigned)a->query_len);
	if (uv_udp_send(req, &a->udp, &b, 1,
			(const struct sockaddr *)&a->responder,
			an_on_sent) != 0) {
		free(req);
		return;
	}
	a->probe_sent = true;
}

/* Each period: the last probe's outcome and quorum contact decide, then
 * the next probe goes out. */
static void an_on_timer(uv_timer_t *t)
{
	struct anycast_announcer *a = t->data;
	bool quorum = a->quorum_contact(a->data);

	an_apply(a, anycast_decision_step(&a->decision, a->probe_ok, quorum));
	an_probe(a);
}

/* --- lifecycle --- */

static int an_parse(struct anycast_announcer *a, const char *spec, char *err,
		    size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(spec, '/');
	const char *at = strchr(spec, '@');
	char *end;
	unsigned long prefix;
	size_t hl;

	snprintf(a->spec, sizeof(a->spec), "%.*s",
		 (int)(at != NULL ? (size_t)(at - spec) : strlen(spec)), spec);
	if (slash == NULL || (at != NULL && at < slash) ||
	    (hl = (size_t)(slash - spec)) == 0 || hl >= sizeof(host))
		goto bad;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (inet_pton(AF_INET, host, a->addr) == 1)
		a->family = AF_INET;
	else if (inet_pton(AF_INET6, host, a->addr) == 1)
		a->family = AF_INET6;
	else
		goto bad;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (errno != 0 || end == slash + 1 || (*end != '\0' && end != at) ||
	    prefix > (a->family == AF_INET ? 32u : 128u))
		goto bad;
	a->prefix = (unsigned)prefix;
	snprintf(a->ifname, sizeof(a->ifname), "%s",
		 at != NULL && at[1] != '\0' ? at + 1 : "lo");
	if (at != NULL && strlen(at + 1) >= IF_NAMESIZE)
		goto bad;
	a->ifindex = if_nametoindex(a->ifname);
	if (a->ifindex == 0) {
		snprintf(err, errlen, "--anycast %s: no interface '%s'", spec,
			 a->ifname);
		return Q53_EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen,
		 "--anycast '%s': expected ADDR/PREFIX[@IFACE] "
		 "(e.g. 10.53.53.53/32@lo)",
		 spec);
	return Q53_EINVAL;
}

static int an_responder(struct anycast_announcer *a, const char *hostport,
			char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 3];
	const char *colon = strrchr(hostport, ':');
	size_t hl;
	int port;

	if (colon == NULL || (hl = (size_t)(colon - hostport)) == 0 ||
	    hl >= sizeof(host))
		goto bad;
	memcpy(host, hostport, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	port = atoi(colon + 1);
	if (port <= 0 || port > 65535)
		goto bad;
	/* The wildcard: ask over loopback. */
	if (strcmp(host, "0.0.0.0") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	else if (strcmp(host, "::") == 0)
		snprintf(host, sizeof(host), "::1");
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)&a->responder) == 0 ||
	    uv_ip6_addr(host, port, (struct sockaddr_in6 *)&a->responder) == 0)
		return 0;
bad:
	snprintf(err, errlen, "anycast: cannot probe the responder at '%s'",
		 hostport);
	return Q53_EINVAL;
}

int anycast_init(struct anycast_announcer **out, uv_loop_t *loop,
		 const struct anycast_config *c, char *err, size_t errlen)
{
	struct anycast_announcer *a;
	struct timeval tv = {.tv_sec = 1};
	struct sockaddr_storage any;
	int rv;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return Q53_ENOMEM;
	a->loop = loop;
	a->node_id = c->node_id;
	a->nl = -1;
	a->interval_ms =
	    c->interval_ms ? c->interval_ms : ANYCAST_DEFAULT_INTERVAL_MS;
	a->quorum_contact = c->quorum_contact;
	a->data = c->data;
	anycast_decision_init(&a->decision, c->withdraw_after
						? c->withdraw_after
						: ANYCAST_DEFAULT_WITHDRAW);
	rv = an_parse(a, c->spec, err, errlen);
	if (rv == 0)
		rv = an_responder(a, c->responder, err, errlen);
	if (rv != 0)
		goto err_free;
	a->check_records = c->check_name != NULL && c->check_name[0] != '\0';
	a->query_len = an_encode_query(a->query, sizeof(a->query), 0,
				       a->check_records ? c->check_name : "");
	if (a->query_len == 0) {
		snprintf(err, errlen, "anycast: bad check name '%s'",
			 c->check_name);
		rv = Q53_EINVAL;
		goto err_free;
	}
	if (c->state_file != NULL &&
	    (a->state_file = strdup(c->state_file)) == NULL) {
		rv = Q53_ENOMEM;
		goto err_free;
	}
	a->nl = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (a->nl < 0 ||
	    setsockopt(a->nl, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) {
		snprintf(err, errlen, "anycast: netlink socket: %s",
			 strerror(errno));
		rv = Q53_EINVAL;
		goto err_free;
	}
	uv_timer_init(loop, &a->timer);
	a->timer.data = a;
	uv_udp_init(loop, &a->udp);
	a->udp.data = a;
	a->open = 2;
	memset(&any, 0, sizeof(any));
	if (a->responder.ss_family == AF_INET6)
		uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
	else
		uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
	if (uv_udp_bind(&a->udp, (const struct sockaddr *)&any, 0) != 0) {
		snprintf(err, errlen, "anycast: cannot bind a UDP socket");
		*out = a; /* handles are open: close it */
		return Q53_EINVAL;
	}
	*out = a;
	return 0;
err_free:
	if (a->nl >= 0)
		close(a->nl);
	free(a->state_file);
	free(a);
	return rv;
}

int anycast_start(struct anycast_announcer *a)
{
	/* A stale address (an earlier process died announcing) must not
	 * stay announced before this node is ready. */
	a->on_iface = true;
	an_apply(a, false);
	uv_udp_recv_start(&a->udp, an_alloc, an_on_recv);
	an_probe(a);
	uv_timer_start(&a->timer, an_on_timer, a->interval_ms, a->interval_ms);
	return 0;
}

static void an_closed(uv_handle_t *h)
{
	struct anycast_announcer *a = h->data;
	void (*cb)(void *data);
	void *data;

	if (--a->open > 0)
		return;
	cb = a->close_cb;
	data = a->close_data;
	close(a->nl);
	free(a->state_file);
	free(a);
	if (cb != NULL)
		cb(data);
}

void anycast_close(struct anycast_announcer *a, void (*cb)(void *data),
		   void *data)
{
	a->decision.why = ANYCAST_WHY_STOPPING;
	a->decision.announced = false;
	if (a->on_iface)
		an_apply(a, false);
	else
		an_state_write(a);
	a->close_cb = cb;
	a->close_data = data;
	uv_close((uv_handle_t *)&a->timer, an_closed);
	uv_close((uv_handle_t *)&a->udp, an_closed);
}
