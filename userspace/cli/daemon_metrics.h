/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The daemon's own metrics, beside every counter of `xtc stats`: reconcile
 * durations as a histogram, events by kind, reconciles, repairs, failures and
 * managed interfaces.  Written to [global] metrics_file after every
 * reconcile, and served on [global] metrics_listen at /metrics.
 */
#ifndef XTC_DAEMON_METRICS_H
#define XTC_DAEMON_METRICS_H

#include <pthread.h>
#include <stdio.h>
#include "daemon_lock.h"

#define XTC_HIST_BUCKETS 10

struct xtc_daemon_metrics {
	pthread_mutex_t lock;		/* the HTTP thread reads what the loop writes */
	struct xtc_daemon_info info;
	unsigned long long hist[XTC_HIST_BUCKETS + 1];	/* per bucket, the last +Inf */
	double sum_s;
	int managed;			/* interfaces of the last model */
	char bpffs[4096];
	void *http;			/* struct MHD_Daemon, when listening */
};

void xtc_daemon_metrics_init(struct xtc_daemon_metrics *dm);
/* Counts one reconcile that took seconds. */
void xtc_daemon_metrics_observe(struct xtc_daemon_metrics *dm, double seconds);
/* The daemon's samples, Prometheus text (an extra for xtc_stats_write()). */
void xtc_daemon_metrics_print(FILE *f, void *dm);
/* Every sample, stats included, to path atomically; 0 or -errno (said). */
int xtc_daemon_metrics_write(struct xtc_daemon_metrics *dm, const char *path);
/* Serves GET /metrics on listen (ADDRESS:PORT) from a thread of its own. */
int xtc_daemon_metrics_listen(struct xtc_daemon_metrics *dm, const char *listen);
void xtc_daemon_metrics_stop(struct xtc_daemon_metrics *dm);

#endif
