// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * xtc daemon: the reconciler, run again whenever the host changes.
 *
 * It loads FILE once (and on SIGHUP) and keeps the bytes it read: a change
 * of links, addresses or routes, or the periodic resync, loads that same
 * copy again against the host as it is now (patterns match the interfaces
 * there are, optional ones appear) and reconciles.  A file with errors at
 * SIGHUP is refused and the running state stays.  SIGTERM and SIGINT leave
 * the datapath as it is (--unload-on-exit unloads).
 */
#define _GNU_SOURCE		/* accept4 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include "cli.h"
#include "config.h"
#include "daemon_lock.h"
#include "daemon_metrics.h"
#include "log.h"
#include "mem.h"
#include "nlwatch.h"
#include "notify.h"
#include "reconcile.h"
#include "set_elems.h"
#include "state.h"
#include "tables.h"

/* Events come in bursts (a veth brings a link, addresses, routes): one look after. */
#define SETTLE_NS (10 * 1000 * 1000LL)

struct daemon {
	const struct xtc_opts *opts;
	struct xtc_config_snapshot snap;	/* the file as last loaded */
	long long resync_ns;		/* [global] resync_interval */
	int sig_fd, nl_fd, timer_fd, lock_fd, dog_fd, trim_fd;
	bool settling;			/* events seen; a look is due at the timer */
	/*
	 * The file as last loaded against the host.  Only interfaces change
	 * what it says about the host (patterns, optional ones, targets):
	 * addresses and routes are observed apart, so a look after those alone
	 * reuses it rather than parsing the file again.
	 */
	struct xtc_model *model;
	bool links_changed;		/* a link event (or lost messages) since it was loaded */
	/*
	 * The last compile of model's rules, and the rules a patch changed
	 * since: the next reconcile copies the rest rather than compiling it.
	 */
	struct xtc_tss_memo memo;
	struct xtc_config_patched patched;
	char metrics_file[4096];	/* [global] metrics_file, or "" */
	struct xtc_daemon_metrics met;	/* for xtc status and the metrics (met.lock) */
};


/*
 * The file from disk (from_disk, with pending) or as last loaded.  From
 * disk, the shadowed-rules check may still run when this returns: it only
 * warns, so the reconcile goes ahead and finish_load() says the warnings.
 * The copy's warnings were said when it was loaded: it skips that check,
 * and only errors are said.
 */
static int load(struct daemon *d, bool from_disk, struct xtc_model **m,
		struct xtc_diag *diag, struct xtc_config_pending **pending)
{
	struct xtc_config_snapshot next = {};
	struct xtc_config_opts o = { .daemon = true, .no_shadow = !from_disk };
	int err;

	if (from_disk)
		o.capture = &next;
	else
		o.replay = &d->snap;
	err = from_disk ? xtc_config_load_opts_async(d->opts->config, &o, m, diag, pending) :
			  xtc_config_load_opts(d->opts->config, &o, m, diag);
	if (!from_disk || err) {
		if (err)
			xtc_diag_print(diag);
		xtc_diag_free(diag);
	}
	if (err) {
		xtc_config_snapshot_free(&next);
		return err;
	}
	if (from_disk) {
		xtc_config_snapshot_free(&d->snap);
		d->snap = next;
		snprintf(d->met.bpffs, sizeof(d->met.bpffs), "%s", (*m)->bpffs);
		snprintf(d->metrics_file, sizeof(d->metrics_file), "%s", (*m)->metrics_file);
		d->resync_ns = (long long)(*m)->resync_ms * 1000000LL;
	}
	return 0;
}

/* The warnings of a load from disk, once its last check is done; d->model NULL if it failed. */
static void finish_load(struct daemon *d, struct xtc_diag *diag, struct xtc_config_pending *p)
{
	if (xtc_config_wait(p, &d->model, diag))
		pr_warn("daemon: the shadowed-rules check of %s failed; the next look reads it "
			"again\n", d->opts->config);
	xtc_diag_print(diag);
	xtc_diag_free(diag);
}

/*
 * A daemon lives on: once it has been quiet for a while, what its reconciles
 * took (huge pages of the tuned heap included) goes back.  Not after every
 * reconcile: a burst of events would pay the page faults again each time.
 */
#define TRIM_AFTER_S 2

/*
 * Past this many rules the heap stays: a reload of such a file takes about
 * as much again, and faulting it in anew (huge pages cleared one by one)
 * costs more than the parse.  Smaller files give it back when quiet.
 */
#define KEEP_HEAP_RULES 20000

static bool keep_heap(const struct daemon *d)
{
	return d->model && d->model->n_rules > KEEP_HEAP_RULES;
}

static void arm_trim(struct daemon *d)
{
	struct itimerspec t = { .it_value = { .tv_sec = TRIM_AFTER_S } };

	if (d->trim_fd >= 0)
		timerfd_settime(d->trim_fd, 0, &t, NULL);
}

/* The model as last loaded is being replaced: what was kept of its compile goes. */
static void set_model(struct daemon *d, struct xtc_model *m)
{
	if (d->model != m)
		xtc_model_free(d->model);
	d->model = m;
	xtc_tss_memo_free(&d->memo);
	d->patched.n = 0;
}

/* One pass of the engine, as `xtc apply` does it. */
static int reconcile(struct daemon *d, struct xtc_model *m)
{
	struct xtc_tss_carry carry = {
		.memo = &d->memo, .n = d->patched.n, .idx = d->patched.idx, .was = d->patched.was,
	};
	struct xtc_state st;
	struct xtc_run run = {};
	double t0;
	int err;

	xtc_state_init(&st);
	pthread_mutex_lock(&d->met.lock);
	d->met.info.reconciles++;
	d->met.managed = m->n_ifaces;
	pthread_mutex_unlock(&d->met.lock);
	t0 = xtc_now();
	err = xtc_state_check_bpffs(m->bpffs) ? -ENOENT : xtc_state_open(&st, m->bpffs, true);
	if (!err)
		err = xtc_reconcile_plan(m, &st, m == d->model ? &carry : NULL, true, &run);
	if (!err && !xtc_plan_empty(&run.plan)) {
		/* After the first, every pass that has something to do repairs or follows. */
		pthread_mutex_lock(&d->met.lock);
		d->met.info.repairs += d->met.info.reconciles > 1;
		pthread_mutex_unlock(&d->met.lock);
		xtc_plan_print(&run.plan, false);
		err = xtc_reconcile_apply(m, &st, &run, false);
		if (!err && xtc_tables_stamp(&st.maps))
			pr_debug("cannot record the time of this apply\n");
	}
	if (!err)
		xtc_set_elems_sync(&st.maps, m);
	/* The kernel holds this compile now (or err: nothing is sure). */
	d->patched.n = 0;
	if (err || m != d->model ||
	    xtc_tss_memo_keep(&d->memo, &run.plan.tss, m->rules, m->n_rules))
		xtc_tss_memo_free(&d->memo);
	fflush(stdout);
	pthread_mutex_lock(&d->met.lock);
	xtc_daemon_metrics_observe(&d->met, xtc_now() - t0);
	if (err) {
		d->met.info.failures++;
		snprintf(d->met.info.last_error, sizeof(d->met.info.last_error), "reconcile: %s",
			 strerror(-err));
		pr_warn("daemon: reconcile failed (%s); trying again at the next event or resync\n",
			strerror(-err));
	} else {
		d->met.info.last_error[0] = 0;
	}
	pthread_mutex_unlock(&d->met.lock);
	if (d->metrics_file[0])
		xtc_daemon_metrics_write(&d->met, d->metrics_file);
	xtc_notify("STATUS=%s; %llu reconciles, %llu repairs, %llu failures", err ?
		   d->met.info.last_error : "converged", d->met.info.reconciles, d->met.info.repairs,
		   d->met.info.failures);
	xtc_run_free(&run);
	xtc_state_close(&st);
	arm_trim(d);
	return err;
}

/*
 * A patched reload writes the rules first, from a look at the rule tables
 * alone: the map holds the edit within milliseconds, whatever the number of
 * interfaces.  The full reconcile that follows looks at everything else.
 * Nothing here when the state needs more than the tables (the full pass).
 */
static void reconcile_rules(struct daemon *d)
{
	struct xtc_tss_carry carry = {
		.memo = &d->memo, .n = d->patched.n, .idx = d->patched.idx, .was = d->patched.was,
	};
	struct xtc_model *m = d->model;
	struct xtc_run run = {};
	struct xtc_state st;
	int err;

	xtc_state_init(&st);
	err = xtc_state_check_bpffs(m->bpffs) ? -ENOENT : xtc_state_open(&st, m->bpffs, true);
	if (!err)
		err = xtc_reconcile_plan_rules(m, &st, &carry, &run);
	if (err) {
		pr_debug("daemon: the rules alone first: %s; the full pass does it\n",
			 strerror(-err));
		goto out;
	}
	if (!xtc_plan_empty(&run.plan)) {
		xtc_plan_print(&run.plan, false);
		err = xtc_reconcile_apply(m, &st, &run, false);
		if (!err && xtc_tables_stamp(&st.maps))
			pr_debug("cannot record the time of this apply\n");
	}
	/* Kept for the full pass: the kernel holds this compile now (else it compiles). */
	d->patched.n = 0;
	if (err || xtc_tss_memo_keep(&d->memo, &run.plan.tss, m->rules, m->n_rules))
		xtc_tss_memo_free(&d->memo);
	fflush(stdout);
out:
	xtc_run_free(&run);
	xtc_state_close(&st);
}

static void arm(struct daemon *d, long long ns)
{
	struct itimerspec t = {
		.it_value = { .tv_sec = ns / 1000000000LL, .tv_nsec = ns % 1000000000LL },
	};

	timerfd_settime(d->timer_fd, 0, &t, NULL);
}

/* A look at the host with the file as last loaded; then the next resync is due. */
/*
 * After a reload: a look that events made due still comes after the settle
 * time, not at the next resync (later events do not arm the timer again).
 */
static void arm_next(struct daemon *d)
{
	arm(d, d->settling ? SETTLE_NS : d->resync_ns);
}

static void look(struct daemon *d)
{
	struct xtc_model *m = NULL;

	d->settling = false;
	if (!d->model || d->links_changed) {
		if (load(d, false, &m, &(struct xtc_diag){}, NULL)) {
			arm(d, d->resync_ns);
			return;
		}
		set_model(d, m);
		d->links_changed = false;
	}
	reconcile(d, d->model);
	arm(d, d->resync_ns);
}

/*
 * An edit inside [rule] sections patches the model as last loaded.  Whether
 * it took, and how many rules changed, is in the log.
 */
static bool patch(struct daemon *d)
{
	double t0 = xtc_now();
	int err;

	if (!d->model)
		return false;
	err = xtc_config_patch(d->model, &d->snap, &d->patched);
	pr_debug("timing: config patch %.3f s\n", xtc_now() - t0);
	if (err) {
		pr_info("daemon: %s: edits outside what a patch takes: reading it whole\n",
			d->opts->config);
		return false;
	}
	pthread_mutex_lock(&d->met.lock);
	d->met.info.last_reload_ok = true;
	pthread_mutex_unlock(&d->met.lock);
	pr_info("daemon: %s: %d rule(s) changed in place\n", d->opts->config, d->patched.n);
	return true;
}

static void reload(struct daemon *d)
{
	struct xtc_config_pending *pending = NULL;
	struct xtc_model *m = NULL;
	struct xtc_diag diag = {};

	pr_info("daemon: SIGHUP: reading %s again\n", d->opts->config);
	xtc_notify("RELOADING=1");
	pthread_mutex_lock(&d->met.lock);
	d->met.info.last_reload = (unsigned long long)time(NULL);
	d->met.info.last_reload_ok = false;
	pthread_mutex_unlock(&d->met.lock);
	if (patch(d)) {
		reconcile_rules(d);
		/* Only warnings: after the rules, beside the full pass, not in their way. */
		if (xtc_config_shadow_async(d->model, &pending))
			pr_warn("daemon: cannot check %s for shadowed rules now\n", d->opts->config);
		if (d->links_changed) {
			/*
			 * The host changed since the model was loaded (a pod came or
			 * went): the rules are written; the full pass reads the
			 * patched copy again against the host as it is now.
			 */
			finish_load(d, &diag, pending);
			look(d);
		} else {
			reconcile(d, d->model);
			finish_load(d, &diag, pending);
			arm_next(d);
		}
		xtc_notify("READY=1");
		return;
	}
	if (load(d, true, &m, &diag, &pending)) {
		pthread_mutex_lock(&d->met.lock);
		snprintf(d->met.info.last_error, sizeof(d->met.info.last_error), "%s has errors: kept "
			 "what runs now", d->opts->config);
		pthread_mutex_unlock(&d->met.lock);
		pr_warn("daemon: %s\n", d->met.info.last_error);
		xtc_notify("READY=1\nSTATUS=%s", d->met.info.last_error);
		return;
	}
	pthread_mutex_lock(&d->met.lock);
	d->met.info.last_reload_ok = true;
	pthread_mutex_unlock(&d->met.lock);
	set_model(d, m);
	d->links_changed = false;
	reconcile(d, m);
	finish_load(d, &diag, pending);
	xtc_notify("READY=1");
	arm_next(d);
}

static int setup(struct daemon *d)
{
	const char *rcvbuf;
	uint64_t usec;
	sigset_t set;
	char dir[4200];
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	d->trim_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	/* A test aid (xtc(8)): a small buffer overflows on purpose. */
	rcvbuf = getenv("XTC_NETLINK_RCVBUF");
	d->nl_fd = xtc_nlwatch_open(rcvbuf ? atoi(rcvbuf) : 0);
	if (d->sig_fd < 0 || d->timer_fd < 0 || d->nl_fd < 0 || d->trim_fd < 0) {
		pr_warn("daemon: cannot set up signals, timers or netlink: %s\n",
			strerror(d->nl_fd < 0 ? -d->nl_fd : errno));
		return -EIO;
	}
	snprintf(dir, sizeof(dir), "%s/xtc", d->met.bpffs);
	/* WatchdogSec=: a ping at half the interval, from the loop that does the work. */
	usec = xtc_notify_watchdog_usec();
	if (usec) {
		struct itimerspec t = {
			.it_value = { .tv_sec = usec / 2000000, .tv_nsec = usec / 2 % 1000000 * 1000 },
		};

		t.it_interval = t.it_value;
		d->dog_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (d->dog_fd < 0 || timerfd_settime(d->dog_fd, 0, &t, NULL))
			return -errno;
	}
	d->lock_fd = xtc_daemon_lock(dir);
	if (d->lock_fd == -EADDRINUSE) {
		pid = xtc_daemon_pid(dir);
		pr_warn("daemon: another xtc daemon (pid %d) manages %s; one per state "
			"directory\n", (int)pid, dir);
		return -EBUSY;
	}
	if (d->lock_fd < 0) {
		pr_warn("daemon: cannot take the daemon socket of %s: %s\n", dir,
			strerror(-d->lock_fd));
		return d->lock_fd;
	}
	return 0;
}

/* Someone asked who runs (apply, unload, status): what the daemon knows, then goodbye. */
static void answer(struct daemon *d)
{
	char buf[4096];
	int fd, n;

	while ((fd = accept4(d->lock_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
		pthread_mutex_lock(&d->met.lock);
		n = xtc_daemon_info_format(&d->met.info, buf, sizeof(buf));
		pthread_mutex_unlock(&d->met.lock);
		/* MSG_NOSIGNAL: a reader that only wanted the pid has gone already. */
		if (n > 0 && send(fd, buf, (size_t)n, MSG_NOSIGNAL) < 0)
			pr_debug("daemon: a status reader went away\n");
		close(fd);
	}
}

static bool on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			reload(d);
			continue;
		}
		pr_info("daemon: %s: stopping\n", strsignal((int)si.ssi_signo));
		return false;
	}
	return true;
}

static void on_netlink(struct daemon *d)
{
	unsigned long long links;
	int n;

	pthread_mutex_lock(&d->met.lock);
	links = d->met.info.events[XTC_NL_LINK] + d->met.info.events[XTC_NL_OVERFLOW];
	n = xtc_nlwatch_drain(d->nl_fd, d->met.info.events);
	d->links_changed |= d->met.info.events[XTC_NL_LINK] +
			    d->met.info.events[XTC_NL_OVERFLOW] != links;
	pthread_mutex_unlock(&d->met.lock);

	if (n < 0) {
		pr_warn("daemon: netlink: %s\n", strerror(-n));
		return;
	}
	if (n && !d->settling) {
		d->settling = true;
		arm(d, SETTLE_NS);
	}
}

static int run(struct daemon *d)
{
	struct pollfd p[6] = {
		{ .fd = d->sig_fd, .events = POLLIN }, { .fd = d->nl_fd, .events = POLLIN },
		{ .fd = d->timer_fd, .events = POLLIN }, { .fd = d->lock_fd, .events = POLLIN },
		{ .fd = d->dog_fd, .events = POLLIN }, { .fd = d->trim_fd, .events = POLLIN },
	};
	unsigned long long ticks;

	for (;;) {
		if (poll(p, 6, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if ((p[0].revents & POLLIN) && !on_signal(d))
			return 0;
		if (p[1].revents & POLLIN)
			on_netlink(d);
		if ((p[2].revents & POLLIN) && read(d->timer_fd, &ticks, sizeof(ticks)) > 0)
			look(d);
		if (p[3].revents & POLLIN)
			answer(d);
		if ((p[4].revents & POLLIN) && read(d->dog_fd, &ticks, sizeof(ticks)) > 0)
			xtc_notify("WATCHDOG=1");
		if ((p[5].revents & POLLIN) && read(d->trim_fd, &ticks, sizeof(ticks)) > 0 &&
		    !keep_heap(d))
			xtc_mem_trim();
	}
}

int cmd_daemon(const struct xtc_opts *opts)
{
	struct daemon d = { .opts = opts, .sig_fd = -1, .nl_fd = -1, .timer_fd = -1,
			    .lock_fd = -1, .dog_fd = -1, .trim_fd = -1 };
	struct xtc_model *m = NULL;
	struct xtc_diag diag = {};
	int err, rc = XTC_EXIT_RUNTIME;

	/* Its output is a log (journald, kubectl logs): each line as it happens. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	xtc_daemon_metrics_init(&d.met);
	d.met.info.pid = getpid();
	d.met.info.started = (unsigned long long)time(NULL);
	if (load(&d, true, &m, &diag, NULL))
		return XTC_EXIT_USAGE;
	xtc_diag_print(&diag);
	xtc_diag_free(&diag);
	err = setup(&d);
	/* Not followed at SIGHUP: where /metrics is served is fixed for the daemon's life. */
	if (!err && m->metrics_listen[0])
		err = xtc_daemon_metrics_listen(&d.met, m->metrics_listen);
	if (err)
		goto out;
	pr_info("daemon: pid %d, %s, state in %s/xtc\n", (int)getpid(), opts->config, d.met.bpffs);
	d.model = m;
	m = NULL;
	reconcile(&d, d.model);
	pr_info("daemon: ready\n");
	/* After the first converge, whatever it did: the loop retries what failed. */
	xtc_notify("READY=1");
	arm(&d, d.resync_ns);
	err = run(&d);
	xtc_notify("STOPPING=1");
	if (!err && opts->unload_on_exit) {
		struct xtc_opts u = *opts;

		u.all = true;
		u.n_args = 0;
		/* The socket goes first: unload refuses while a daemon holds it. */
		close(d.lock_fd);
		d.lock_fd = -1;
		err = cmd_unload(&u) ? -EIO : 0;
	}
	rc = err ? XTC_EXIT_RUNTIME : XTC_EXIT_OK;
out:
	xtc_daemon_metrics_stop(&d.met);
	xtc_model_free(d.model);
	xtc_model_free(m);
	xtc_tss_memo_free(&d.memo);
	xtc_config_snapshot_free(&d.snap);
	if (d.sig_fd >= 0)
		close(d.sig_fd);
	if (d.nl_fd >= 0)
		close(d.nl_fd);
	if (d.timer_fd >= 0)
		close(d.timer_fd);
	if (d.lock_fd >= 0)
		close(d.lock_fd);
	if (d.dog_fd >= 0)
		close(d.dog_fd);
	if (d.trim_fd >= 0)
		close(d.trim_fd);
	return rc;
}
