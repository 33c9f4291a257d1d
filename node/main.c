/* q53d: the quorum53 node. The main thread is the control thread and the
 * only writer of the serving view; the DNS workers (node/dns/workers.c says
 * why they are threads) only read it. Two modes:
 *
 * - static (no --data-dir): load the zone files, publish, start the
 *   workers, run one libuv loop for SIGHUP (reload every zone) and
 *   SIGTERM/SIGINT (clean shutdown);
 * - cluster (--data-dir DIR): run the replicated control plane
 *   (node/runtime/cluster_node.h: raft over NNG, client API) on the loop;
 *   the workers start once the node first publishes a view (at once, or
 *   after catching up when joining); --zone files seed the cluster on
 *   first boot through the log; --anycast announces an address while the
 *   node answers and is in contact with a quorum (node/anycast/). */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include "node/anycast/announcer.h"
#include "node/common/errcode.h"
#include "node/control/latency_table.h"
#include "node/control/zone_store.h"
#include "node/runtime/cluster_node.h"
#include "node/dns/query.h"
#include "node/dns/dns_stats.h"
#include "node/dns/workers.h"
#include "node/runtime/query_log.h"
#include "node/zone/node.h"
#include "node/geo/geo.h"
#include "node/zone/view.h"
#include "node/zone/zone.h"

#define Q53D_EXIT_USAGE	     2
#define Q53D_WORKERS_MAX     1024
#define Q53D_TCP_CLIENTS_MAX (1u << 20)

struct q53d_zone {
	char *origin;	   /* owned copy (argv stays intact for ps) */
	const char *path;  /* points into argv */
	struct zone *zone; /* one reference, owned */
};

/* Cluster mode (--data-dir): the options and the running node. */
struct q53d_cluster {
	const char *data_dir; /* NULL: static mode */
	unsigned long long id;
	const char *raft;
	const char *api;
	const char *http;      /* Route 53 REST API HOST:PORT */
	const char *http_keys; /* its access keys file */
	const char *http_tls_cert;
	const char *http_tls_key;
	bool http_insecure;
	struct http_server_limits http_limits;
	unsigned http_max_buffered_mib;
	bool zone_record_limit_set;
	unsigned zone_record_limit;
	const char *peer_tls_ca;
	const char *peer_tls_cert;
	const char *peer_tls_key;
	bool peer_insecure;
	unsigned peer_max_connections;
	unsigned peer_idle_ms;
	const char *join;
	const char *name;
	const char *nameservers; /* "a,b" */
	unsigned snapshot_threshold;
	unsigned election_timeout_ms;
	unsigned heartbeat_ms;
	char **ns; /* split nameservers */
	size_t n_ns;
	struct zone_seed_entry *seeds;
	struct cluster_node *node;
	/* --anycast */
	const char *anycast;
	const char *anycast_check; /* NULL: the first --zone origin */
	const char *anycast_state;
	unsigned anycast_interval_ms;
	unsigned anycast_drain_ms;
	bool anycast_drain_set;
	struct anycast_announcer *announcer;
	uv_timer_t drain; /* withdrawn, then the node closes */
	bool stopping;
	int exit_code;
};

struct q53d {
	struct q53d_cluster cl;
	struct q53d_zone *zones;
	size_t nzones;
	struct sockaddr_storage *addrs;
	size_t naddrs;
	struct dns_workers_config wcfg;
	struct dns_workers *workers;
	struct dns_stats *dns_stats;  /* the workers' counters (/metrics) */
	bool no_dns_stats;	      /* --no-dns-stats */
	const char *query_log_dir;    /* --query-log-dir DIR, NULL: none */
	unsigned query_log_ring;      /* --query-log-ring N (power of two) */
	const char **query_log_zones; /* static mode: --query-log-zone */
	size_t n_query_log_zones;
	struct query_log *query_log;
	const char *alarm_exec; /* --alarm-exec CMD */
	const char *geoip;	/* --geoip FILE */
	char site[40];		/* --site NAME[:REGION], "" = none */
	char site_region[40];
	struct geo_db *geo;
	uv_loop_t loop;
	uv_signal_t sighup, sigterm, sigint;
	uv_timer_t rrl_timer; /* logs the RRL counters when they move */
	struct dns_rrl_stats rrl_logged;
};

static void q53d_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: q53d --dns ADDR:PORT [--dns ...] --zone ORIGIN=FILE "
	    "[--zone ...] [options]\n"
	    "       q53d --dns ADDR:PORT --data-dir DIR [--id N] [--raft "
	    "HOST:PORT]\n"
	    "            [--api HOST:PORT] [--join HOST:PORT] [--zone "
	    "ORIGIN=FILE ...] [options]\n"
	    "\n"
	    "Static mode (no --data-dir) serves zone files. Cluster mode "
	    "keeps zones in a\nreplicated Raft log in DIR and serves the "
	    "HTTP API (the q53 CLI, Route 53 tools;\nSigV4-signed).\n"
	    "\n"
	    "  --dns ADDR:PORT            serve DNS (UDP and TCP) on "
	    "127.0.0.1:5353 or [::1]:5353\n"
	    "  --zone ORIGIN=FILE         serve the RFC 1035 zone file for "
	    "ORIGIN\n"
	    "  --workers N                worker threads (default: online "
	    "CPUs)\n"
	    "  --edns-size N              EDNS UDP payload, 512..4096 "
	    "(default %d)\n"
	    "  --tcp-idle-timeout MS      close idle TCP connections "
	    "(default 10000)\n"
	    "  --tcp-max-clients N        TCP connections in total "
	    "(default 1024)\n"
	    "  --tcp-max-per-client N     TCP connections per client IP "
	    "(default 64)\n"
	    "  --geoip FILE               MaxMind DB for geolocation routing "
	    "(client locations)\n"
	    "  --rrl-rate N               UDP responses per second to one "
	    "/24 (IPv4) or /56\n"
	    "                             (IPv6) per class of answer; 0: "
	    "no rate limiting\n"
	    "                             (default %d)\n"
	    "  --rrl-slip N               every Nth limited response goes "
	    "out truncated (TC=1)\n"
	    "                             so real clients retry over TCP; "
	    "0: drop all (default %d)\n"
	    "  --rrl-whitelist CIDR       never rate limit this network "
	    "(repeatable; 127.0.0.1\n"
	    "                             and ::1 always are)\n"
	    "  --rrl-table-size N         rate limiting buckets per UDP "
	    "thread (default %d)\n"
	    "  --identity TEXT            answer CH TXT hostname.bind and "
	    "id.server with TEXT\n"
	    "                             (default: REFUSED)\n"
	    "  --server-version TEXT      answer CH TXT version.bind and "
	    "version.server with\n"
	    "                             TEXT (default: REFUSED)\n"
	    "  --site NAME[:REGION]       this node's site and its region "
	    "(default NAME),\n"
	    "                             for latency routing "
	    "([a-z0-9-], 1 to 32 characters)\n"
	    "  --no-dns-stats             do not count queries (/metrics "
	    "shows no q53_dns_*)\n"
	    "  --query-log-dir DIR        query logging: JSON lines in "
	    "DIR/queries.log for the\n"
	    "                             zones with a query logging config "
	    "(q53 query-logging)\n"
	    "  --query-log-ring N         records per worker thread's ring "
	    "(power of two,\n"
	    "                             default 4096; a full ring drops, "
	    "counted in /metrics)\n"
	    "  --query-log-zone ORIGIN    static mode: log this zone's "
	    "queries (repeatable)\n"
	    "  --help, --version\n"
	    "\n"
	    "Cluster mode:\n"
	    "  --data-dir DIR             Raft log and snapshots (created if "
	    "missing); an empty\n"
	    "                             DIR without --join bootstraps a "
	    "one-node cluster\n"
	    "  --id N                     this node's Raft ID, >= 1 "
	    "(default 1)\n"
	    "  --raft HOST:PORT           Raft peer address (default "
	    "127.0.0.1:7053)\n"
	    "  --api HOST:PORT            NNG API between nodes: forwarded "
	    "writes, --join\n"
	    "                             (default 127.0.0.1:8053; client use "
	    "deprecated)\n"
	    "  --http HOST:PORT           the HTTP API (SigV4): the q53 CLI's "
	    "POST /q53/api and\n"
	    "                             Route 53's REST API (2013-04-01) for "
	    "the AWS CLI,\n"
	    "                             boto3 and other Route 53 tools "
	    "(default\n"
	    "                             127.0.0.1:9053)\n"
	    "  --http-keys FILE           its access keys: lines "
	    "'ACCESS_KEY_ID SECRET',\n"
	    "                             mode 0600 (the same file on every "
	    "node)\n"
	    "  --http-tls-cert FILE, --http-tls-key FILE\n"
	    "                             serve it over HTTPS (PEM; the key "
	    "mode 0600)\n"
	    "  --http-insecure            allow plain HTTP on a non-loopback "
	    "address\n"
	    "  --http-max-connections N   HTTP connections served at once; "
	    "more get 503\n"
	    "                             (default 256)\n"
	    "  --http-idle-timeout S      close an HTTP connection idle for S "
	    "seconds\n"
	    "                             (default 30)\n"
	    "  --http-body-timeout S      close a request whose body is not "
	    "in after S\n"
	    "                             seconds (default 60)\n"
	    "  --http-max-buffered MIB    request bodies held at once, all "
	    "connections;\n"
	    "                             past it 503 (default 128)\n"
	    "  --zone-record-limit N      record sets a zone created here may "
	    "hold\n"
	    "                             (MAX_RRSETS_BY_ZONE; default 10000, "
	    "0 none)\n"
	    "  --peer-tls-ca FILE, --peer-tls-cert FILE, --peer-tls-key FILE\n"
	    "                             mutual TLS between members (Raft "
	    "and the NNG API\n"
	    "                             over tls+tcp://): the cluster CA, "
	    "this node's\n"
	    "                             certificate and key (PEM; "
	    "deploy/peer-tls-certs.sh)\n"
	    "  --peer-insecure            allow plain TCP between members on "
	    "a non-loopback\n"
	    "                             raft address (q53 status: "
	    "INSECURE)\n"
	    "  --peer-max-connections N   connections each of the Raft and "
	    "NNG API listeners\n"
	    "                             takes at most (default 1024)\n"
	    "  --peer-idle-timeout MS     over half that, close a connection "
	    "that sent no\n"
	    "                             message within MS of connecting "
	    "(default 10000)\n"
	    "  --join HOST:PORT           ask the member with this API "
	    "address to add this\n"
	    "                             node; DNS is served once caught "
	    "up\n"
	    "  --name NAME                node name (default node<ID>)\n"
	    "  --nameservers A,B          apex NS of new zones (default "
	    "ns1.q53.invalid.,\n"
	    "                             ns2.q53.invalid.)\n"
	    "  --zone ORIGIN=FILE         create the zone from FILE on first "
	    "boot only\n"
	    "  --alarm-exec CMD           the leader runs CMD (/bin/sh -c) "
	    "once "
	    "per decided\n"
	    "                             health transition, Q53_* in its "
	    "environment\n"
	    "  --snapshot-threshold N     entries between Raft snapshots "
	    "(default 1024)\n"
	    "  --election-timeout MS      Raft election timeout (default "
	    "1000)\n"
	    "  --heartbeat MS             Raft heartbeat (default 100)\n"
	    "  --anycast ADDR/PREFIX[@IFACE]\n"
	    "                             put the address on IFACE (default "
	    "lo) while the\n"
	    "                             responder answers and the node is "
	    "in contact with\n"
	    "                             a quorum (BIRD exports it); needs "
	    "CAP_NET_ADMIN\n"
	    "  --anycast-check NAME       the zone whose SOA the check asks "
	    "(default: the\n"
	    "                             first --zone origin; none: any "
	    "answer counts)\n"
	    "  --anycast-state FILE       write \"announced ...\" / "
	    "\"withdrawn ...: why\" there\n"
	    "  --anycast-interval MS      check period (default 500)\n"
	    "  --anycast-drain MS         on stop: withdraw, wait, then stop "
	    "(default 500)\n"
	    "\n"
	    "A TCP connection beyond a limit is accepted and closed at once.\n"
	    "Signals: SIGHUP reloads every zone file (a file that fails "
	    "keeps its previous\nversion; static mode), SIGTERM/SIGINT "
	    "stop.\n",
	    DNS_UDP_PAYLOAD_DEFAULT, DNS_RRL_RATE_DEFAULT, DNS_RRL_SLIP_DEFAULT,
	    DNS_RRL_TABLE_DEFAULT);
}

/* Reports a bad command line in one line; returns -1. */
__attribute__((format(printf, 1, 2))) static int
q53d_usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "q53d: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see q53d --help)\n");
	return -1;
}

/* --site NAME[:REGION]: the region defaults to NAME. */
static int q53d_parse_site(const char *arg, struct q53d *d)
{
	const char *colon = strchr(arg, ':');
	size_t n = colon != NULL ? (size_t)(colon - arg) : strlen(arg);
	if (n >= sizeof(d->site)) {
		fprintf(stderr, "q53d: --site: the name is too long\n");
		return -1;
	}
	memcpy(d->site, arg, n);
	d->site[n] = '\0';
	snprintf(d->site_region, sizeof(d->site_region), "%s",
		 colon != NULL ? colon + 1 : d->site);
	if (!latency_name_valid(d->site) ||
	    !latency_name_valid(d->site_region)) {
		fprintf(stderr,
			"q53d: --site NAME[:REGION]: names of [a-z0-9-], 1 "
			"to %d characters\n",
			LATENCY_NAME_MAX);
		return -1;
	}
	return 0;
}

static int q53d_parse_uint(const char *opt, const char *arg, unsigned long min,
			   unsigned long max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (arg[0] == '\0' || arg[0] == '-' || arg[0] == '+' || *end != '\0' ||
	    errno != 0 || v < min || v > max)
		return q53d_usage_error(
		    "%s '%s': expected a whole number from %lu to %lu", opt,
		    arg, min, max);
	*out = (unsigned)v;
	return 0;
}

/* "127.0.0.1:5353" or "[::1]:5353". */
static int q53d_parse_addr(const char *arg, struct sockaddr_storage *out)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text;
	const char *colon;
	size_t hostlen;
	unsigned port;

	memset(out, 0, sizeof(*out));
	if (arg[0] == '[') {
		const char *close = strchr(arg, ']');
		if (close == NULL || close[1] != ':')
			goto bad;
		hostlen = (size_t)(close - arg - 1);
		if (hostlen == 0 || hostlen >= sizeof(host))
			goto bad;
		memcpy(host, arg + 1, hostlen);
		host[hostlen] = '\0';
		port_text = close + 2;
	} else {
		colon = strrchr(arg, ':');
		if (colon == NULL)
			goto bad;
		if (memchr(arg, ':', (size_t)(colon - arg)) != NULL)
			return q53d_usage_error(
			    "--dns '%s': put an IPv6 address in brackets, "
			    "as in [::1]:5353",
			    arg);
		hostlen = (size_t)(colon - arg);
		if (hostlen == 0 || hostlen >= sizeof(host))
			goto bad;
		memcpy(host, arg, hostlen);
		host[hostlen] = '\0';
		port_text = colon + 1;
	}
	if (port_text[0] == '\0' || strlen(port_text) > 5 ||
	    strspn(port_text, "0123456789") != strlen(port_text) ||
	    (port = (unsigned)atoi(port_text)) == 0 || port > 65535)
		return q53d_usage_error(
		    "--dns '%s': the port must be 1 to 65535", arg);
	if (arg[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return q53d_usage_error(
			    "--dns '%s': not an IPv6 address", arg);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)out;
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return q53d_usage_error(
			    "--dns '%s': not an IPv4 address (names are "
			    "not resolved)",
			    arg);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
	}
	return 0;
bad:
	return q53d_usage_error("--dns '%s': expected ADDR:PORT such as "
				"127.0.0.1:5353 or [::1]:5353",
				arg);
}

enum {
	OPT_DNS = 256,
	OPT_ZONE,
	OPT_WORKERS,
	OPT_EDNS_SIZE,
	OPT_TCP_IDLE,
	OPT_TCP_MAX,
	OPT_TCP_MAX_PER,
	OPT_GEOIP,
	OPT_SITE,
	OPT_RRL_RATE,
	OPT_RRL_SLIP,
	OPT_RRL_WHITELIST,
	OPT_RRL_TABLE,
	OPT_IDENTITY,
	OPT_SERVER_VERSION,
	OPT_HELP,
	OPT_VERSION,
	OPT_DATA_DIR,
	OPT_ID,
	OPT_RAFT,
	OPT_API,
	OPT_HTTP,
	OPT_HTTP_KEYS,
	OPT_HTTP_TLS_CERT,
	OPT_HTTP_TLS_KEY,
	OPT_HTTP_INSECURE,
	OPT_HTTP_MAX_CONNECTIONS,
	OPT_HTTP_IDLE_TIMEOUT,
	OPT_HTTP_BODY_TIMEOUT,
	OPT_HTTP_MAX_BUFFERED,
	OPT_ZONE_RECORD_LIMIT,
	OPT_PEER_TLS_CA,
	OPT_PEER_TLS_CERT,
	OPT_PEER_TLS_KEY,
	OPT_PEER_INSECURE,
	OPT_PEER_MAX_CONNECTIONS,
	OPT_PEER_IDLE_TIMEOUT,
	OPT_JOIN,
	OPT_NAME,
	OPT_NAMESERVERS,
	OPT_SNAPSHOT,
	OPT_ELECTION,
	OPT_HEARTBEAT,
	OPT_ANYCAST,
	OPT_ANYCAST_CHECK,
	OPT_ANYCAST_STATE,
	OPT_ANYCAST_INTERVAL,
	OPT_ANYCAST_DRAIN,
	OPT_NO_DNS_STATS,
	OPT_QUERY_LOG_DIR,
	OPT_QUERY_LOG_RING,
	OPT_QUERY_LOG_ZONE,
	OPT_ALARM_EXEC,
};

/* Returns 0 to run, 1 when --help/--version was handled, -1 on a usage
 * error (already reported). Paths point into argv. */
static int q53d_parse_args(struct q53d *d, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"dns", required_argument, NULL, OPT_DNS},
	    {"zone", required_argument, NULL, OPT_ZONE},
	    {"workers", required_argument, NULL, OPT_WORKERS},
	    {"edns-size", required_argument, NULL, OPT_EDNS_SIZE},
	    {"tcp-idle-timeout", required_argument, NULL, OPT_TCP_IDLE},
	    {"tcp-max-clients", required_argument, NULL, OPT_TCP_MAX},
	    {"tcp-max-per-client", required_argument, NULL, OPT_TCP_MAX_PER},
	    {"geoip", required_argument, NULL, OPT_GEOIP},
	    {"rrl-rate", required_argument, NULL, OPT_RRL_RATE},
	    {"rrl-slip", required_argument, NULL, OPT_RRL_SLIP},
	    {"rrl-whitelist", required_argument, NULL, OPT_RRL_WHITELIST},
	    {"rrl-table-size", required_argument, NULL, OPT_RRL_TABLE},
	    {"identity", required_argument, NULL, OPT_IDENTITY},
	    {"server-version", required_argument, NULL, OPT_SERVER_VERSION},
	    {"site", required_argument, NULL, OPT_SITE},
	    {"help", no_argument, NULL, OPT_HELP},
	    {"version", no_argument, NULL, OPT_VERSION},
	    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
	    {"id", required_argument, NULL, OPT_ID},
	    {"raft", required_argument, NULL, OPT_RAFT},
	    {"api", required_argument, NULL, OPT_API},
	    {"http", required_argument, NULL, OPT_HTTP},
	    {"http-keys", required_argument, NULL, OPT_HTTP_KEYS},
	    {"http-tls-cert", required_argument, NULL, OPT_HTTP_TLS_CERT},
	    {"peer-tls-ca", required_argument, NULL, OPT_PEER_TLS_CA},
	    {"peer-tls-cert", required_argument, NULL, OPT_PEER_TLS_CERT},
	    {"peer-tls-key", required_argument, NULL, OPT_PEER_TLS_KEY},
	    {"peer-insecure", no_argument, NULL, OPT_PEER_INSECURE},
	    {"peer-max-connections", required_argument, NULL,
	     OPT_PEER_MAX_CONNECTIONS},
	    {"peer-idle-timeout", required_argument, NULL,
	     OPT_PEER_IDLE_TIMEOUT},
	    {"http-tls-key", required_argument, NULL, OPT_HTTP_TLS_KEY},
	    {"http-insecure", no_argument, NULL, OPT_HTTP_INSECURE},
	    {"http-max-connections", required_argument, NULL,
	     OPT_HTTP_MAX_CONNECTIONS},
	    {"http-idle-timeout", required_argument, NULL,
	     OPT_HTTP_IDLE_TIMEOUT},
	    {"http-body-timeout", required_argument, NULL,
	     OPT_HTTP_BODY_TIMEOUT},
	    {"http-max-buffered", required_argument, NULL,
	     OPT_HTTP_MAX_BUFFERED},
	    {"zone-record-limit", required_argument, NULL,
	     OPT_ZONE_RECORD_LIMIT},
	    {"join", required_argument, NULL, OPT_JOIN},
	    {"name", required_argument, NULL, OPT_NAME},
	    {"nameservers", required_argument, NULL, OPT_NAMESERVERS},
	    {"snapshot-threshold", required_argument, NULL, OPT_SNAPSHOT},
	    {"election-timeout", required_argument, NULL, OPT_ELECTION},
	    {"heartbeat", required_argument, NULL, OPT_HEARTBEAT},
	    {"anycast", required_argument, NULL, OPT_ANYCAST},
	    {"anycast-check", required_argument, NULL, OPT_ANYCAST_CHECK},
	    {"anycast-state", required_argument, NULL, OPT_ANYCAST_STATE},
	    {"anycast-interval", required_argument, NULL, OPT_ANYCAST_INTERVAL},
	    {"anycast-drain", required_argument, NULL, OPT_ANYCAST_DRAIN},
	    {"no-dns-stats", no_argument, NULL, OPT_NO_DNS_STATS},
	    {"query-log-dir", required_argument, NULL, OPT_QUERY_LOG_DIR},
	    {"query-log-ring", required_argument, NULL, OPT_QUERY_LOG_RING},
	    {"query-log-zone", required_argument, NULL, OPT_QUERY_LOG_ZONE},
	    {"alarm-exec", required_argument, NULL, OPT_ALARM_EXEC},
	    {NULL, 0, NULL, 0},
	};
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned edns = DNS_UDP_PAYLOAD_DEFAULT;
	int c;

	d->wcfg.nworkers = ncpu < 1		     ? 1
			   : ncpu > Q53D_WORKERS_MAX ? Q53D_WORKERS_MAX
						     : (unsigned)ncpu;
	d->wcfg.tcp_idle_timeout_ms = 10000;
	d->wcfg.tcp_max_clients = 1024;
	d->wcfg.tcp_max_per_client = 64;
	dns_rrl_config_default(&d->wcfg.rrl);
	/* Room for every argument: nothing to grow later. */
	d->addrs = calloc((size_t)argc, sizeof(*d->addrs));
	d->zones = calloc((size_t)argc, sizeof(*d->zones));
	if (d->addrs == NULL || d->zones == NULL) {
		fprintf(stderr, "q53d: out of memory\n");
		return -1;
	}
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
		switch (c) {
		case OPT_DNS:
			if (q53d_parse_addr(optarg, &d->addrs[d->naddrs]) != 0)
				return -1;
			d->naddrs++;
			break;
		case OPT_ZONE: {
			char *eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg || eq[1] == '\0')
				return q53d_usage_error(
				    "--zone '%s': expected ORIGIN=FILE "
				    "such as "
				    "example.com=/etc/q53/example.com.zone",
				    optarg);
			d->zones[d->nzones].origin =
			    strndup(optarg, (size_t)(eq - optarg));
			if (d->zones[d->nzones].origin == NULL) {
				fprintf(stderr, "q53d: out of memory\n");
				return -1;
			}
			d->zones[d->nzones].path = eq + 1;
			d->nzones++;
			break;
		}
		case OPT_WORKERS:
			if (q53d_parse_uint("--workers", optarg, 1,
					    Q53D_WORKERS_MAX,
					    &d->wcfg.nworkers) != 0)
				return -1;
			break;
		case OPT_EDNS_SIZE:
			if (q53d_parse_uint("--edns-size", optarg, 512, 4096,
					    &edns) != 0)
				return -1;
			break;
		case OPT_TCP_IDLE:
			if (q53d_parse_uint("--tcp-idle-timeout", optarg, 1,
					    86400000,
					    &d->wcfg.tcp_idle_timeout_ms) != 0)
				return -1;
			break;
		case OPT_TCP_MAX:
			if (q53d_parse_uint("--tcp-max-clients", optarg, 1,
					    Q53D_TCP_CLIENTS_MAX,
					    &d->wcfg.tcp_max_clients) != 0)
				return -1;
			break;
		case OPT_TCP_MAX_PER:
			if (q53d_parse_uint("--tcp-max-per-client", optarg, 1,
					    Q53D_TCP_CLIENTS_MAX,
					    &d->wcfg.tcp_max_per_client) != 0)
				return -1;
			break;
		case OPT_GEOIP:
			d->geoip = optarg;
			break;
		case OPT_RRL_RATE:
			if (q53d_parse_uint("--rrl-rate", optarg, 0, 1u << 24,
					    &d->wcfg.rrl.rate) != 0)
				return -1;
			break;
		case OPT_RRL_SLIP:
			if (q53d_parse_uint("--rrl-slip", optarg, 0, 100,
					    &d->wcfg.rrl.slip) != 0)
				return -1;
			break;
		case OPT_RRL_TABLE: {
			unsigned n;
			if (q53d_parse_uint("--rrl-table-size", optarg, 64,
					    1u << 24, &n) != 0)
				return -1;
			d->wcfg.rrl.table_size = n;
			break;
		}
		case OPT_RRL_WHITELIST:
			if (d->wcfg.rrl.nwhitelist == DNS_RRL_WHITELIST_MAX)
				return q53d_usage_error(
				    "--rrl-whitelist: at most %d networks",
				    DNS_RRL_WHITELIST_MAX);
			if (dns_rrl_parse_net(
				optarg,
				&d->wcfg.rrl
				     .whitelist[d->wcfg.rrl.nwhitelist]) != 0)
				return q53d_usage_error(
				    "--rrl-whitelist '%s': expected a network "
				    "such as 192.0.2.0/24 or 2001:db8::/48",
				    optarg);
			d->wcfg.rrl.nwhitelist++;
			break;
		case OPT_IDENTITY:
		case OPT_SERVER_VERSION:
			if (strlen(optarg) > 255)
				return q53d_usage_error(
				    "%s: at most 255 bytes",
				    c == OPT_IDENTITY ? "--identity"
						      : "--server-version");
			if (c == OPT_IDENTITY)
				d->wcfg.identity = optarg;
			else
				d->wcfg.version = optarg;
			break;
		case OPT_NO_DNS_STATS:
			d->no_dns_stats = true;
			break;
		case OPT_QUERY_LOG_DIR:
			d->query_log_dir = optarg;
			break;
		case OPT_ALARM_EXEC:
			d->alarm_exec = optarg;
			break;
		case OPT_QUERY_LOG_RING:
			if (q53d_parse_uint("--query-log-ring", optarg, 2,
					    1u << 24, &d->query_log_ring) != 0)
				return -1;
			if ((d->query_log_ring & (d->query_log_ring - 1)) != 0)
				return q53d_usage_error(
				    "--query-log-ring %s: a power of two",
				    optarg);
			break;
		case OPT_QUERY_LOG_ZONE: {
			const char **z =
			    realloc(d->query_log_zones,
				    (d->n_query_log_zones + 1) * sizeof(*z));
			if (z == NULL)
				return q53d_usage_error("out of memory");
			d->query_log_zones = z;
			z[d->n_query_log_zones++] = optarg;
			break;
		}
		case OPT_SITE:
			if (q53d_parse_site(optarg, d) != 0)
				return -1;
			break;
		case OPT_DATA_DIR:
			d->cl.data_dir = optarg;
			break;
		case OPT_ID: {
			unsigned id;
			if (q53d_parse_uint("--id", optarg, 1, UINT_MAX, &id) !=
			    0)
				return -1;
			d->cl.id = id;
			break;
		}
		case OPT_RAFT:
			d->cl.raft = optarg;
			break;
		case OPT_API:
			d->cl.api = optarg;
			break;
		case OPT_HTTP:
			d->cl.http = optarg;
			break;
		case OPT_HTTP_KEYS:
			d->cl.http_keys = optarg;
			break;
		case OPT_HTTP_TLS_CERT:
			d->cl.http_tls_cert = optarg;
			break;
		case OPT_HTTP_TLS_KEY:
			d->cl.http_tls_key = optarg;
			break;
		case OPT_HTTP_INSECURE:
			d->cl.http_insecure = true;
			break;
		case OPT_HTTP_MAX_CONNECTIONS:
			if (q53d_parse_uint(
				"--http-max-connections", optarg, 1, 60000,
				&d->cl.http_limits.max_connections) != 0)
				return -1;
			break;
		case OPT_HTTP_IDLE_TIMEOUT:
			if (q53d_parse_uint(
				"--http-idle-timeout", optarg, 1, 3600,
				&d->cl.http_limits.idle_timeout_s) != 0)
				return -1;
			break;
		case OPT_HTTP_BODY_TIMEOUT:
			if (q53d_parse_uint(
				"--http-body-timeout", optarg, 1, 3600,
				&d->cl.http_limits.body_timeout_s) != 0)
				return -1;
			break;
		case OPT_HTTP_MAX_BUFFERED:
			if (q53d_parse_uint("--http-max-buffered", optarg, 1,
					    65536,
					    &d->cl.http_max_buffered_mib) != 0)
				return -1;
			d->cl.http_limits.max_buffered =
			    (size_t)d->cl.http_max_buffered_mib << 20;
			break;
		case OPT_ZONE_RECORD_LIMIT:
			if (q53d_parse_uint("--zone-record-limit", optarg, 0,
					    ZONE_STORE_MAX_RRSETS_LIMIT,
					    &d->cl.zone_record_limit) != 0)
				return -1;
			d->cl.zone_record_limit_set = true;
			break;
		case OPT_PEER_TLS_CA:
			d->cl.peer_tls_ca = optarg;
			break;
		case OPT_PEER_TLS_CERT:
			d->cl.peer_tls_cert = optarg;
			break;
		case OPT_PEER_TLS_KEY:
			d->cl.peer_tls_key = optarg;
			break;
		case OPT_PEER_INSECURE:
			d->cl.peer_insecure = true;
			break;
		case OPT_PEER_MAX_CONNECTIONS:
			if (q53d_parse_uint("--peer-max-connections", optarg, 4,
					    1u << 20,
					    &d->cl.peer_max_connections) != 0)
				return -1;
			break;
		case OPT_PEER_IDLE_TIMEOUT:
			if (q53d_parse_uint("--peer-idle-timeout", optarg, 100,
					    3600000, &d->cl.peer_idle_ms) != 0)
				return -1;
			break;
		case OPT_JOIN:
			d->cl.join = optarg;
			break;
		case OPT_NAME:
			d->cl.name = optarg;
			break;
		case OPT_NAMESERVERS:
			d->cl.nameservers = optarg;
			break;
		case OPT_SNAPSHOT:
			if (q53d_parse_uint("--snapshot-threshold", optarg, 2,
					    1u << 30,
					    &d->cl.snapshot_threshold) != 0)
				return -1;
			break;
		case OPT_ELECTION:
			if (q53d_parse_uint("--election-timeout", optarg, 50,
					    600000,
					    &d->cl.election_timeout_ms) != 0)
				return -1;
			break;
		case OPT_HEARTBEAT:
			if (q53d_parse_uint("--heartbeat", optarg, 5, 60000,
					    &d->cl.heartbeat_ms) != 0)
				return -1;
			break;
		case OPT_ANYCAST:
			d->cl.anycast = optarg;
			break;
		case OPT_ANYCAST_CHECK:
			d->cl.anycast_check = optarg;
			break;
		case OPT_ANYCAST_STATE:
			d->cl.anycast_state = optarg;
			break;
		case OPT_ANYCAST_INTERVAL:
			if (q53d_parse_uint("--anycast-interval", optarg, 10,
					    60000,
					    &d->cl.anycast_interval_ms) != 0)
				return -1;
			break;
		case OPT_ANYCAST_DRAIN:
			if (q53d_parse_uint("--anycast-drain", optarg, 0, 60000,
					    &d->cl.anycast_drain_ms) != 0)
				return -1;
			d->cl.anycast_drain_set = true;
			break;
		case OPT_HELP:
			q53d_usage(stdout);
			return 1;
		case OPT_VERSION:
			printf("q53d %s\n", Q53_VERSION);
			return 1;
		case ':':
			return q53d_usage_error("%s needs a value",
						argv[optind - 1]);
		default:
			return q53d_usage_error("unknown option '%s'",
						argv[optind - 1]);
		}
	}
	if (optind < argc)
		return q53d_usage_error("unexpected argument '%s'",
					argv[optind]);
	if (d->naddrs == 0)
		return q53d_usage_error("no --dns address given; add one such "
					"as --dns 127.0.0.1:5353");
	if (d->cl.data_dir == NULL &&
	    (d->cl.raft || d->cl.api || d->cl.http || d->cl.http_keys ||
	     d->cl.http_tls_cert || d->cl.http_tls_key || d->cl.http_insecure ||
	     d->cl.join || d->cl.name || d->cl.nameservers || d->cl.id ||
	     d->cl.snapshot_threshold))
		return q53d_usage_error("--id, --raft, --api, --http, "
					"--http-keys, --join, --name, "
					"--nameservers and "
					"--snapshot-threshold need "
					"--data-dir (cluster mode)");
	if (d->nzones == 0 && d->cl.data_dir == NULL)
		return q53d_usage_error(
		    "no --zone given; add one such as "
		    "--zone example.com=/etc/q53/example.com.zone");
	d->wcfg.addrs = d->addrs;
	d->wcfg.naddrs = d->naddrs;
	d->wcfg.udp_payload = (uint16_t)edns;
	return 0;
}

/* Builds a view over zones[] and publishes it (the old view is freed after
 * a grace period). */
static int q53d_publish(struct zone *const *zones, size_t n)
{
	struct serving_view *v;
	int rc;

	rc = serving_view_build(&v, zones, n);
	if (rc != 0)
		return rc;
	serving_view_publish(v);
	return 0;
}

static int q53d_load_all(struct q53d *d)
{
	char err[512];
	struct zone **zs;
	int rc;

	for (size_t i = 0; i < d->nzones; i++) {
		struct q53d_zone *qz = &d->zones[i];
		rc = zone_load_file(&qz->zone, qz->origin, qz->path, err,
				    sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "q53d: cannot load zone %s: %s\n",
				qz->origin, err);
			return rc;
		}
		fprintf(stderr, "q53d: zone %s: %zu records from %s\n",
			qz->origin, zone_record_count(qz->zone), qz->path);
	}
	zs = calloc(d->nzones, sizeof(*zs));
	if (zs == NULL) {
		fprintf(stderr, "q53d: out of memory\n");
		return Q53_ENOMEM;
	}
	for (size_t i = 0; i < d->nzones; i++)
		zs[i] = d->zones[i].zone;
	rc = q53d_publish(zs, d->nzones);
	free(zs);
	if (rc != 0)
		fprintf(stderr, "q53d: cannot build the serving view: %s\n",
			q53_strerror(rc));
	return rc;
}

/* SIGHUP: reload every zone file; one that fails keeps its previous
 * version, so the node goes on serving every zone it had. */
static void q53d_reload(struct q53d *d)
{
	char err[512];
	struct zone **next;
	size_t failed = 0;
	int rc;

	next = calloc(d->nzones, sizeof(*next));
	if (next == NULL) {
		fprintf(stderr, "q53d: reload: out of memory; nothing "
				"changed\n");
		return;
	}
	for (size_t i = 0; i < d->nzones; i++) {
		struct q53d_zone *qz = &d->zones[i];
		rc = zone_load_file(&next[i], qz->origin, qz->path, err,
				    sizeof(err));
		if (rc != 0) {
			fprintf(stderr,
				"q53d: reload: zone %s: %s (still serving "
				"the previous version)\n",
				qz->origin, err);
			zone_retain(qz->zone);
			next[i] = qz->zone;
			failed++;
		}
	}
	/* Nothing new loaded: the current view already is the answer. */
	rc = failed == d->nzones ? 0 : q53d_publish(next, d->nzones);
	if (rc != 0) {
		fprintf(stderr,
			"q53d: reload: cannot build the serving view: %s; "
			"nothing changed\n",
			q53_strerror(rc));
		for (size_t i = 0; i < d->nzones; i++)
			zone_release(next[i]);
		free(next);
		return;
	}
	for (size_t i = 0; i < d->nzones; i++) {
		zone_release(d->zones[i].zone);
		d->zones[i].zone = next[i];
	}
	free(next);
	fprintf(stderr, "q53d: reloaded %zu of %zu zones\n", d->nzones - failed,
		d->nzones);
}

static void q53d_on_sighup(uv_signal_t *h, int signum)
{
	(void)signum;
	q53d_reload(h->data);
}

static void q53d_on_stop(uv_signal_t *h, int signum)
{
	struct q53d *d = h->data;

	fprintf(stderr, "q53d: %s: stopping\n", strsignal(signum));
	/* With every handle closed the loop returns and main cleans up. */
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
}

static int q53d_signals_start(struct q53d *d)
{
	struct {
		uv_signal_t *h;
		uv_signal_cb cb;
		int sig;
	} sigs[] = {
	    {&d->sighup, q53d_on_sighup, SIGHUP},
	    {&d->sigterm, q53d_on_stop, SIGTERM},
	    {&d->sigint, q53d_on_stop, SIGINT},
	};
	int rc;

	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		rc = uv_signal_init(&d->loop, sigs[i].h);
		if (rc == 0) {
			sigs[i].h->data = d;
			rc =
			    uv_signal_start(sigs[i].h, sigs[i].cb, sigs[i].sig);
		}
		if (rc != 0) {
			fprintf(stderr, "q53d: cannot watch signal %d: %s\n",
				sigs[i].sig, uv_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* "q53d: rrl: ..." when the counters moved since the last line (always
 * when final, if RRL is on). */
static void q53d_rrl_log(struct q53d *d, bool final)
{
	struct dns_rrl_stats st;

	if (d->workers == NULL || d->wcfg.rrl.rate == 0)
		return;
	dns_workers_rrl_stats(d->workers, &st);
	if (!final && st.limited == d->rrl_logged.limited)
		return;
	d->rrl_logged = st;
	fprintf(stderr,
		"q53d: rrl: %llu responses limited (%llu slipped, %llu "
		"dropped) since start%s\n",
		(unsigned long long)st.limited, (unsigned long long)st.slipped,
		(unsigned long long)st.dropped, final ? ", at exit" : "");
}

static void q53d_rrl_tick(uv_timer_t *t)
{
	q53d_rrl_log(t->data, false);
}

/* Every 10 s; unreferenced: it never keeps the loop alive. */
static void q53d_rrl_timer_start(struct q53d *d)
{
	if (d->wcfg.rrl.rate == 0) {
		fprintf(stderr, "q53d: rrl: off (--rrl-rate 0)\n");
		return;
	}
	fprintf(stderr,
		"q53d: rrl: %u responses/s per /24 or /56 and class, slip %u, "
		"%zu whitelisted network%s\n",
		d->wcfg.rrl.rate, d->wcfg.rrl.slip, d->wcfg.rrl.nwhitelist,
		d->wcfg.rrl.nwhitelist == 1 ? "" : "s");
	if (uv_timer_init(&d->loop, &d->rrl_timer) != 0)
		return;
	d->rrl_timer.data = d;
	uv_timer_start(&d->rrl_timer, q53d_rrl_tick, 10000, 10000);
	uv_unref((uv_handle_t *)&d->rrl_timer);
}

static void q53d_walk_close(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

/* Every worker holds sockets and connections: take the hard descriptor
 * limit so --tcp-max-clients is not capped by the soft one. */
static void q53d_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static void q53d_log_serving(const struct q53d *d)
{
	char line[1024];
	size_t off = 0;

	line[0] = '\0';
	for (size_t i = 0; i < d->naddrs && off < sizeof(line) - 64; i++) {
		char a[INET6_ADDRSTRLEN + 8];
		dns_workers_format_addr(&d->addrs[i], a, sizeof(a));
		off += (size_t)snprintf(line + off, sizeof(line) - off, "%s%s",
					i ? ", " : "", a);
	}
	fprintf(stderr, "q53d: serving %zu zone%s on %s (%u worker%s)\n",
		d->nzones, d->nzones == 1 ? "" : "s", line, d->wcfg.nworkers,
		d->wcfg.nworkers == 1 ? "" : "s");
}

/* --- cluster mode --------------------------------------------------------- */

static int q53d_split_nameservers(struct q53d_cluster *cl)
{
	const char *list = cl->nameservers != NULL
			       ? cl->nameservers
			       : "ns1.q53.invalid.,ns2.q53.invalid.";
	const char *p = list;

	cl->ns = calloc(strlen(list) + 1, sizeof(char *));
	if (cl->ns == NULL)
		return -1;
	while (*p != '\0') {
		size_t len = strcspn(p, ",");
		if (len > 0) {
			cl->ns[cl->n_ns] = strndup(p, len);
			if (cl->ns[cl->n_ns] == NULL)
				return -1;
			cl->n_ns++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (cl->n_ns == 0)
		return q53d_usage_error("--nameservers '%s': no name", list);
	return 0;
}

static void q53d_cluster_serving(void *data)
{
	struct q53d *d = data;
	char err[512];
	int rc;

	if (d->cl.stopping || d->workers != NULL)
		return;
	rc = dns_workers_start(&d->workers, &d->wcfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "q53d: %s\n", err);
		d->workers = NULL;
		d->cl.exit_code = 1;
		uv_kill(getpid(), SIGTERM);
		return;
	}
	dns_workers_format_addr(&d->addrs[0], err, sizeof(err));
	fprintf(stderr, "q53d: serving DNS on %s%s (%u worker%s)\n", err,
		d->naddrs > 1 ? " and more" : "", d->wcfg.nworkers,
		d->wcfg.nworkers == 1 ? "" : "s");
}

static void q53d_cluster_closed(void *data)
{
	struct q53d *d = data;

	d->cl.node = NULL;
}

static bool q53d_quorum_contact(void *data)
{
	struct q53d *d = data;
	struct cluster_raft_status st;

	if (d->cl.node == NULL || d->cl.stopping)
		return false;
	cluster_node_status(d->cl.node, &st);
	return st.quorum_contact;
}

static void q53d_drained(uv_timer_t *t)
{
	struct q53d *d = t->data;

	uv_close((uv_handle_t *)t, NULL);
	if (d->cl.node != NULL)
		cluster_node_close(d->cl.node, q53d_cluster_closed, d);
}

static void q53d_anycast_closed(void *data)
{
	struct q53d *d = data;

	d->cl.announcer = NULL;
}

static void q53d_cluster_on_stop(uv_signal_t *h, int signum)
{
	struct q53d *d = h->data;

	if (d->cl.stopping)
		return;
	d->cl.stopping = true;
	fprintf(stderr, "q53d: %s: stopping\n", strsignal(signum));
	uv_close((uv_handle_t *)&d->sighup, NULL);
	uv_close((uv_handle_t *)&d->sigterm, NULL);
	uv_close((uv_handle_t *)&d->sigint, NULL);
	if (d->cl.announcer != NULL) {
		/* Withdraw first and let the routers move the traffic, then
		 * stop: a graceful stop loses no query. */
		anycast_close(d->cl.announcer, q53d_anycast_closed, d);
		uv_timer_init(&d->loop, &d->cl.drain);
		d->cl.drain.data = d;
		uv_timer_start(&d->cl.drain, q53d_drained,
			       d->cl.anycast_drain_ms, 0);
		return;
	}
	if (d->cl.node != NULL)
		cluster_node_close(d->cl.node, q53d_cluster_closed, d);
}

static int q53d_anycast_start(struct q53d *d, const char *dns, char *err,
			      size_t errlen)
{
	struct q53d_cluster *cl = &d->cl;
	struct anycast_config ac = {0};
	int rc;

	ac.node_id = cl->id != 0 ? cl->id : 1;
	ac.spec = cl->anycast;
	ac.responder = dns;
	ac.check_name = cl->anycast_check != NULL ? cl->anycast_check
			: d->nzones > 0		  ? d->zones[0].origin
						  : NULL;
	ac.state_file = cl->anycast_state;
	ac.interval_ms = cl->anycast_interval_ms;
	ac.quorum_contact = q53d_quorum_contact;
	ac.data = d;
	rc = anycast_init(&cl->announcer, &d->loop, &ac, err, errlen);
	if (rc == 0)
		rc = anycast_start(cl->announcer);
	return rc;
}

static void q53d_cluster_on_sighup(uv_signal_t *h, int signum)
{
	(void)h;
	(void)signum;
	fprintf(stderr, "q53d: SIGHUP: zones come from the Raft log in "
			"cluster mode; nothing to reload\n");
}

static int q53d_cluster_main(struct q53d *d)
{
	struct q53d_cluster *cl = &d->cl;
	struct cluster_node_config cfg = {0};
	char err[512], dns[INET6_ADDRSTRLEN + 8];
	int rc;

	cl->exit_code = 1;
	if (q53d_split_nameservers(cl) != 0)
		return Q53D_EXIT_USAGE;
	if (mkdir(cl->data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "q53d: --data-dir %s: %s\n", cl->data_dir,
			strerror(errno));
		return 1;
	}
	cl->seeds = calloc(d->nzones + 1, sizeof(*cl->seeds));
	if (cl->seeds == NULL)
		return 1;
	for (size_t i = 0; i < d->nzones; i++) {
		cl->seeds[i].origin = d->zones[i].origin;
		cl->seeds[i].path = d->zones[i].path;
	}
	dns_workers_format_addr(&d->addrs[0], dns, sizeof(dns));

	rc = uv_loop_init(&d->loop);
	if (rc != 0) {
		fprintf(stderr, "q53d: uv_loop_init: %s\n", uv_strerror(rc));
		return 1;
	}
	struct {
		uv_signal_t *h;
		uv_signal_cb cb;
		int sig;
	} sigs[] = {
	    {&d->sighup, q53d_cluster_on_sighup, SIGHUP},
	    {&d->sigterm, q53d_cluster_on_stop, SIGTERM},
	    {&d->sigint, q53d_cluster_on_stop, SIGINT},
	};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		uv_signal_init(&d->loop, sigs[i].h);
		sigs[i].h->data = d;
		uv_signal_start(sigs[i].h, sigs[i].cb, sigs[i].sig);
	}
	q53d_rrl_timer_start(d);

	if (d->query_log_dir != NULL) {
		struct query_log_config qc = {
		    .dir = d->query_log_dir,
		    .node_name = cl->name,
		    .stats = d->dns_stats,
		};
		rc = query_log_start(&d->query_log, &d->loop, &qc, err,
				     sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "q53d: %s\n", err);
			uv_loop_close(&d->loop);
			return 1;
		}
	}
	cfg.id = cl->id != 0 ? cl->id : 1;
	cfg.data_dir = cl->data_dir;
	cfg.raft_address = cl->raft != NULL ? cl->raft : "127.0.0.1:7053";
	cfg.api_address = cl->api != NULL ? cl->api : "127.0.0.1:8053";
	cfg.dns_address = dns;
	/* Every node serves the HTTP API: the q53 CLI's and Route 53's. */
	cfg.http_address = cl->http != NULL ? cl->http : "127.0.0.1:9053";
	cfg.http_keys = cl->http_keys;
	cfg.http_tls_cert = cl->http_tls_cert;
	cfg.http_tls_key = cl->http_tls_key;
	cfg.http_insecure = cl->http_insecure;
	cfg.http_limits = cl->http_limits;
	cfg.zone_record_limit_set = cl->zone_record_limit_set;
	cfg.zone_record_limit = cl->zone_record_limit;
	cfg.peer_tls_ca = cl->peer_tls_ca;
	cfg.peer_tls_cert = cl->peer_tls_cert;
	cfg.peer_tls_key = cl->peer_tls_key;
	cfg.peer_insecure = cl->peer_insecure;
	cfg.peer_max_connections = cl->peer_max_connections;
	cfg.peer_idle_ms = cl->peer_idle_ms;
	cfg.join = cl->join;
	cfg.name = cl->name;
	cfg.geoip_sha256 = d->geo != NULL ? geo_sha256(d->geo) : NULL;
	cfg.dns_stats = d->dns_stats;
	cfg.query_log = d->query_log;
	cfg.alarm_exec = d->alarm_exec;
	cfg.geoip_path = d->geo != NULL ? d->geoip : NULL;
	cfg.site = d->site[0] != '\0' ? d->site : NULL;
	cfg.site_region = d->site_region[0] != '\0' ? d->site_region : NULL;
	cfg.geo = d->geo;
	cfg.nameservers = (const char *const *)cl->ns;
	cfg.n_nameservers = cl->n_ns;
	cfg.seeds = cl->seeds;
	cfg.n_seeds = d->nzones;
	cfg.snapshot_threshold = cl->snapshot_threshold;
	cfg.election_timeout_ms = cl->election_timeout_ms;
	cfg.heartbeat_ms = cl->heartbeat_ms;
	cfg.on_serving = q53d_cluster_serving;
	cfg.data = d;
	if (cl->anycast != NULL && cl->anycast_drain_ms == 0 &&
	    !cl->anycast_drain_set)
		cl->anycast_drain_ms = 500;
	rc = cluster_node_init(&cl->node, &d->loop, &cfg, err, sizeof(err));
	if (rc == 0)
		rc = cluster_node_start(cl->node, err, sizeof(err));
	if (rc == 0 && cl->anycast != NULL)
		rc = q53d_anycast_start(d, dns, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "q53d: %s\n", err);
		if (cl->http == NULL && strstr(err, "HTTP") != NULL)
			fprintf(stderr,
				"q53d: every node serves the HTTP API, by "
				"default on %s; give this one its own "
				"--http HOST:PORT\n",
				cfg.http_address);
		cl->stopping = true;
		uv_close((uv_handle_t *)&d->sighup, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		if (cl->announcer != NULL)
			anycast_close(cl->announcer, q53d_anycast_closed, d);
		if (cl->node != NULL)
			cluster_node_close(cl->node, q53d_cluster_closed, d);
	} else {
		cl->exit_code = 0;
	}

	uv_run(&d->loop, UV_RUN_DEFAULT);

	if (d->workers != NULL) {
		q53d_rrl_log(d, true);
		dns_workers_stop(d->workers);
		d->workers = NULL;
	}
	query_log_close(d->query_log);
	d->query_log = NULL;
	serving_view_publish(NULL);
	uv_walk(&d->loop, q53d_walk_close, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d->loop) != 0)
		fprintf(stderr, "q53d: libuv loop still busy\n");
	if (cl->exit_code == 0)
		fprintf(stderr, "q53d: stopped\n");
	return cl->exit_code;
}

/* Static mode's query log: the --query-log-zone zones (each a loaded
 * zone; its hosted zone id is its origin). 0 or -1 (reported). */
static int q53d_static_query_log(struct q53d *d)
{
	struct query_log_config qc = {
	    .dir = d->query_log_dir,
	    .node_name = "static",
	    .stats = d->dns_stats,
	};
	struct query_log_zone *z = calloc(d->n_query_log_zones + 1, sizeof(*z));
	char err[512];
	int rc = 0;

	if (z == NULL) {
		fprintf(stderr, "q53d: out of memory\n");
		return -1;
	}
	for (size_t i = 0; i < d->n_query_log_zones && rc == 0; i++) {
		const char *want = d->query_log_zones[i];
		size_t wl = strlen(want);
		if (wl > 1 && want[wl - 1] == '.')
			wl--;
		size_t j = 0;
		for (; j < d->nzones; j++) {
			const char *o = d->zones[j].origin;
			size_t ol = strlen(o);
			if (ol > 1 && o[ol - 1] == '.')
				ol--;
			if (ol == wl && strncasecmp(o, want, wl) == 0)
				break;
		}
		if (j == d->nzones || d->zones[j].zone == NULL) {
			fprintf(stderr,
				"q53d: --query-log-zone %s: no such --zone\n",
				want);
			rc = -1;
			break;
		}
		z[i].origin = d->zones[j].zone->origin;
		z[i].origin_len = d->zones[j].zone->origin_len;
		z[i].zone_id = d->zones[j].origin;
	}
	if (rc == 0 && query_log_start(&d->query_log, &d->loop, &qc, err,
				       sizeof(err)) != 0) {
		fprintf(stderr, "q53d: %s\n", err);
		rc = -1;
	}
	if (rc == 0 &&
	    query_log_set_zones(d->query_log, z, d->n_query_log_zones) != 0) {
		fprintf(stderr, "q53d: out of memory\n");
		rc = -1;
	}
	free(z);
	return rc;
}

static void q53d_cluster_free(struct q53d_cluster *cl)
{
	for (size_t i = 0; i < cl->n_ns; i++)
		free(cl->ns[i]);
	free(cl->ns);
	free(cl->seeds);
}

int main(int argc, char **argv)
{
	struct q53d d;
	char err[512];
	int exit_code = 1;
	int rc;

	memset(&d, 0, sizeof(d));
	/* Buffers of megabytes (zone imports, snapshots, their messages) come
	 * and go: from mmap, so that freeing one returns it to the system.
	 * glibc's dynamic threshold would put them in the heap after the
	 * first one is freed, where they stay as holes (~50 MB on a leader
	 * that sent two 1M-record snapshots; issue 8). Below: the slab's
	 * 1 MiB chunks and everything smaller stay on the heap. */
	mallopt(M_MMAP_THRESHOLD, 4 << 20);
	rc = q53d_parse_args(&d, argc, argv);
	if (rc != 0) {
		exit_code = rc > 0 ? 0 : Q53D_EXIT_USAGE;
		goto out;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	q53d_raise_nofile();
	if (d.query_log_dir != NULL && d.no_dns_stats) {
		fprintf(stderr, "q53d: --query-log-dir needs the DNS counters "
				"(drop --no-dns-stats)\n");
		exit_code = Q53D_EXIT_USAGE;
		goto out;
	}
	if (d.n_query_log_zones > 0 &&
	    (d.query_log_dir == NULL || d.cl.data_dir != NULL)) {
		fprintf(stderr, "q53d: --query-log-zone is for static mode, "
				"with --query-log-dir\n");
		exit_code = Q53D_EXIT_USAGE;
		goto out;
	}
	if (!d.no_dns_stats) {
		uint32_t ring = 0;
		if (d.query_log_dir != NULL)
			ring = d.query_log_ring ? d.query_log_ring
						: QUERY_LOG_RING_DEFAULT;
		if (dns_stats_new(&d.dns_stats, dns_workers_nshards(&d.wcfg),
				  ring) != 0) {
			fprintf(stderr, "q53d: out of memory\n");
			goto out;
		}
		d.wcfg.stats = d.dns_stats;
	}
	if (d.geoip != NULL) {
		rc = geo_open(d.geoip, &d.geo, err, sizeof(err));
		if (rc != 0) {
			fprintf(stderr, "q53d: %s\n", err);
			goto out;
		}
		d.wcfg.geo = d.geo;
		fprintf(stderr, "q53d: geoip %s sha256 %s\n", d.geoip,
			geo_sha256(d.geo));
	}
	if (d.cl.data_dir != NULL) {
		exit_code = q53d_cluster_main(&d);
		q53d_cluster_free(&d.cl);
		goto out;
	}

	rc = uv_loop_init(&d.loop);
	if (rc != 0) {
		fprintf(stderr, "q53d: uv_loop_init: %s\n", uv_strerror(rc));
		goto out_after_zones;
	}
	/* Before anything slow: a signal that arrives while zones load waits
	 * for the loop instead of killing the process. */
	if (q53d_signals_start(&d) != 0)
		goto out_after_loop;

	if (q53d_load_all(&d) != 0)
		goto out_after_loop;
	if (d.query_log_dir != NULL && q53d_static_query_log(&d) != 0)
		goto out_after_loop;

	rc = dns_workers_start(&d.workers, &d.wcfg, err, sizeof(err));
	if (rc != 0) {
		fprintf(stderr, "q53d: %s\n", err);
		goto out_after_loop;
	}
	q53d_log_serving(&d);
	q53d_rrl_timer_start(&d);

	uv_run(&d.loop, UV_RUN_DEFAULT);
	exit_code = 0;

	q53d_rrl_log(&d, true);
	dns_workers_stop(d.workers);
	d.workers = NULL;
out_after_loop:
	query_log_close(d.query_log);
	d.query_log = NULL;
	serving_view_publish(NULL);
	uv_walk(&d.loop, q53d_walk_close, NULL);
	uv_run(&d.loop, UV_RUN_DEFAULT);
	if (uv_loop_close(&d.loop) != 0)
		fprintf(stderr, "q53d: libuv loop still busy\n");
out_after_zones:
	for (size_t i = 0; i < d.nzones; i++)
		if (d.zones[i].zone != NULL)
			zone_release(d.zones[i].zone);
	if (exit_code == 0)
		fprintf(stderr, "q53d: stopped\n");
out:
	for (size_t i = 0; i < d.nzones; i++)
		free(d.zones[i].origin);
	free(d.zones);
	free(d.addrs);
	geo_close(d.geo);
	dns_stats_free(d.dns_stats);
	free(d.query_log_zones);
	return exit_code;
}
