// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <bpf/libbpf.h>
#include <microhttpd.h>
#include "daemon_metrics.h"
#include "log.h"
#include "stats_out.h"

/* Seconds: a reconcile of a few rules takes milliseconds, of 100k about 0.2 s. */
static const double bounds[XTC_HIST_BUCKETS] = {
	0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

void xtc_daemon_metrics_init(struct xtc_daemon_metrics *dm)
{
	memset(dm, 0, sizeof(*dm));
	pthread_mutex_init(&dm->lock, NULL);
}

void xtc_daemon_metrics_observe(struct xtc_daemon_metrics *dm, double seconds)
{
	int i;

	for (i = 0; i < XTC_HIST_BUCKETS && seconds > bounds[i]; i++)
		;
	dm->hist[i]++;
	dm->sum_s += seconds;
}

static void counter(FILE *f, const char *name, const char *help, unsigned long long v)
{
	fprintf(f, "# HELP xtc_daemon_%s %s\n# TYPE xtc_daemon_%s counter\nxtc_daemon_%s %llu\n",
		name, help, name, name, v);
}

/* Called with dm->lock held by whoever writes (the loop, or the HTTP thread). */
void xtc_daemon_metrics_print(FILE *f, void *arg)
{
	const struct xtc_daemon_metrics *dm = arg;
	unsigned long long cum = 0;
	int i;

	fprintf(f, "# HELP xtc_daemon_reconcile_duration_seconds How long each reconcile took.\n"
		"# TYPE xtc_daemon_reconcile_duration_seconds histogram\n");
	for (i = 0; i <= XTC_HIST_BUCKETS; i++) {
		cum += dm->hist[i];
		if (i < XTC_HIST_BUCKETS)
			fprintf(f, "xtc_daemon_reconcile_duration_seconds_bucket{le=\"%g\"} %llu\n",
				bounds[i], cum);
		else
			fprintf(f, "xtc_daemon_reconcile_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
				cum);
	}
	fprintf(f, "xtc_daemon_reconcile_duration_seconds_sum %.6f\n"
		"xtc_daemon_reconcile_duration_seconds_count %llu\n", dm->sum_s, cum);
	fprintf(f, "# HELP xtc_daemon_events_total rtnetlink events seen, by kind (overflow: "
		"messages lost, answered by a full look).\n# TYPE xtc_daemon_events_total counter\n");
	for (i = 0; i < XTC_NL_N; i++)
		fprintf(f, "xtc_daemon_events_total{kind=\"%s\"} %llu\n", xtc_nl_event_names[i],
			dm->info.events[i]);
	counter(f, "reconciles_total", "Reconciles run.", dm->info.reconciles);
	counter(f, "repairs_total", "Reconciles after the first that changed something.",
		dm->info.repairs);
	counter(f, "failures_total", "Reconciles that failed.", dm->info.failures);
	fprintf(f, "# HELP xtc_daemon_managed_interfaces Interfaces the file manages now.\n"
		"# TYPE xtc_daemon_managed_interfaces gauge\nxtc_daemon_managed_interfaces %d\n"
		"# HELP xtc_daemon_start_time_seconds When the daemon started (unix time).\n"
		"# TYPE xtc_daemon_start_time_seconds gauge\nxtc_daemon_start_time_seconds %llu\n",
		dm->managed, dm->info.started);
}

int xtc_daemon_metrics_write(struct xtc_daemon_metrics *dm, const char *path)
{
	int ncpus = libbpf_num_possible_cpus(), err;
	struct xtc_state st;

	err = xtc_state_open(&st, dm->bpffs, false);
	if (!err) {
		pthread_mutex_lock(&dm->lock);
		err = xtc_stats_write(path, &st, ncpus, xtc_daemon_metrics_print, dm);
		pthread_mutex_unlock(&dm->lock);
	}
	xtc_state_close(&st);
	return err;
}

static enum MHD_Result respond(struct MHD_Connection *conn, unsigned int code,
			       const char *type, char *body, size_t len)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", type);
	ret = MHD_queue_response(conn, code, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
			     const char *method, const char *version, const char *upload,
			     size_t *upload_len, void **state)
{
	struct xtc_daemon_metrics *dm = cls;
	int ncpus = libbpf_num_possible_cpus();
	struct xtc_state st;
	struct xtc_out *o;
	char *body = NULL;
	size_t len = 0;
	FILE *f;

	(void)version;
	(void)upload;
	(void)upload_len;
	(void)state;
	if (strcmp(method, "GET") || strcmp(url, "/metrics"))
		return respond(conn, MHD_HTTP_NOT_FOUND, "text/plain", strdup("only GET /metrics\n"),
			       strlen("only GET /metrics\n"));
	f = open_memstream(&body, &len);
	if (!f)
		return MHD_NO;
	/* Without a state (not loaded, bpffs gone): xtc_up 0, as `xtc stats` says it. */
	if (xtc_state_open(&st, dm->bpffs, false))
		st.exists = false;
	o = xtc_out_new_to(XTC_OUT_PROM, f);
	if (o) {
		xtc_stats_print(o, &st, ncpus);
		xtc_out_free(o);
	}
	xtc_state_close(&st);
	pthread_mutex_lock(&dm->lock);
	xtc_daemon_metrics_print(f, dm);
	pthread_mutex_unlock(&dm->lock);
	if (fclose(f)) {
		free(body);
		return MHD_NO;
	}
	return respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4", body, len);
}

int xtc_daemon_metrics_listen(struct xtc_daemon_metrics *dm, const char *listen)
{
	struct sockaddr_storage ss = {};
	const char *colon = strrchr(listen, ':');
	char host[64];
	unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD;
	size_t hl = colon ? (size_t)(colon - listen) : 0;
	int port;

	if (!colon || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, hl);
	host[hl] = 0;
	port = atoi(colon + 1);
	if (host[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[hl - 1] = 0;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		flags |= MHD_USE_IPv6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return -EINVAL;
	}
	dm->http = MHD_start_daemon(flags, (unsigned short)port, NULL, NULL, serve, dm,
				    MHD_OPTION_SOCK_ADDR, &ss, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				    MHD_OPTION_END);
	if (!dm->http) {
		pr_warn("daemon: cannot serve /metrics on %s (in use?)\n", listen);
		return -EADDRINUSE;
	}
	return 0;
}

void xtc_daemon_metrics_stop(struct xtc_daemon_metrics *dm)
{
	if (dm->http)
		MHD_stop_daemon(dm->http);
	dm->http = NULL;
}
