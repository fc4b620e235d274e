/*
 * cmd_top.c - queuectl top: a live view of the spool.
 *
 * A snapshot is gathered from the spool alone: job counts from the state
 * directories (no job file read), the workers from their lease records,
 * the last failures from the newest files of failed/ and dead/, the jobs
 * finished per 10-second interval from the journal. It is rendered as
 * lines of text (struct screen).
 *
 * On a terminal the lines are drawn with ncurses and redrawn when inotify
 * reports a change in the spool root, a state directory or the journal, at
 * most 10 times a second, and once a second for the elapsed times. Keys:
 * q quits, p pauses or resumes the spool, r retries every job of the DLQ
 * (after a y/n question). When standard output is not a terminal the
 * lines are printed once and top exits.
 */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <bsd/string.h>

#include "cli.h"
#include "control.h"
#include "journal.h"
#include "lease.h"
#include "util.h"

#define TOP_FAILS     5              /* last failures shown */
#define SPARK_N       60             /* sparkline columns */
#define SPARK_MS      10000          /* one column: 10 s */
#define REDRAW_MS     100            /* at most 10 redraws a second */
#define TICK_MS       1000           /* elapsed times move on */
#define SCREEN_LINES  128
#define SCREEN_COLS   256
#define KEYS          "keys: q quit, p pause/resume the spool, r retry the DLQ"

struct top_fail {
	char id[ID_MAX + 1];
	int state;
	int64_t when;                 /* the file's mtime, ms */
	char error[160];
};

struct top_snap {
	long counts[ST_NSTATES];
	int paused;
	struct lease_info *li;
	int nli;
	int64_t now;
	struct top_rates {    /* journal and failures: read at most every TICK_MS */
		long spark[SPARK_N];  /* jobs finished, oldest column first */
		long last_min, last_hour;
		struct top_fail fail[TOP_FAILS];  /* newest first */
		int nfail;
		int64_t at;           /* when read; 0: never */
	} r;
};

struct screen {
	char line[SCREEN_LINES][SCREEN_COLS];
	int n;
};

static volatile sig_atomic_t top_quit;

static void __attribute__((format(printf, 2, 3)))
put(struct screen *s, const char *fmt, ...)
{
	va_list ap;

	if (s->n == SCREEN_LINES)
		return;
	va_start(ap, fmt);
	vsnprintf(s->line[s->n++], SCREEN_COLS, fmt, ap);
	va_end(ap);
}

/* Keep the TOP_FAILS newest entries of fail[], newest first. */
static void
fail_insert(struct top_rates *t, const struct top_fail *f)
{
	int i = t->nfail < TOP_FAILS ? t->nfail++ : TOP_FAILS - 1;

	if (i == TOP_FAILS - 1 && t->nfail == TOP_FAILS &&
	    t->fail[i].when > f->when)
		return;
	while (i > 0 && t->fail[i - 1].when < f->when) {
		t->fail[i] = t->fail[i - 1];
		i--;
	}
	t->fail[i] = *f;
}

struct fail_arg {
	struct top_rates *t;
	int state;
};

static int
fail_one(int dirfd, const char *name, void *arg)
{
	struct fail_arg *fa = arg;
	struct top_fail f;
	struct stat st;

	memset(&f, 0, sizeof f);
	if (id_from_name(name, f.id) == -1 ||
	    fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == -1)
		return 0;
	f.state = fa->state;
	f.when = stat_mtime_ms(&st);
	fail_insert(fa->t, &f);
	return 0;
}

/* The last error of each failure shown (only those files are read). */
static void
fail_errors(struct spool *sp, struct top_rates *t)
{
	char err[256];
	struct job j;

	for (int i = 0; i < t->nfail; i++) {
		struct top_fail *f = &t->fail[i];
		const cJSON *e;

		if (spool_job_read(sp->dir[f->state], f->id, &j, err,
		    sizeof err) == -1) {
			strlcpy(f->error, errno == EINVAL ? err : "(gone)",
			    sizeof f->error);
			continue;
		}
		e = cJSON_GetObjectItemCaseSensitive(j.obj, "last_error");
		strlcpy(f->error, cJSON_IsString(e) ? e->valuestring : "-",
		    sizeof f->error);
		job_free(&j);
	}
}

static void
snap_failures(struct spool *sp, struct top_rates *t)
{
	static const int states[] = { ST_FAILED, ST_DEAD };

	t->nfail = 0;
	for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
		struct fail_arg fa = { t, states[i] };

		spool_each(sp->dir[states[i]], ".json", fail_one, &fa);
	}
	fail_errors(sp, t);
}

/* Count a finished job (done or dead) of the last hour into t. */
static int
rate_one(const struct journal_rec *r, void *arg)
{
	struct top_rates *tr = arg;
	int64_t age = tr->at - r->time;

	if (r->event != JE_DONE && r->event != JE_DEAD)
		return 0;
	if (age < 0)
		age = 0;
	tr->last_hour++;
	if (age < 60 * 1000)
		tr->last_min++;
	if (age < (int64_t)SPARK_N * SPARK_MS)
		tr->spark[SPARK_N - 1 - age / SPARK_MS]++;
	return 0;
}

/* Jobs finished per interval, from the journal's last hour, and the newest
 * failures (a stat of every entry of failed/ and dead/); read again only
 * when the last read is TICK_MS old: a busy journal is megabytes, a DLQ
 * may hold thousands of files. */
static int
snap_rates(struct spool *sp, struct top_snap *t)
{
	if (t->r.at != 0 && t->now - t->r.at < TICK_MS && t->now >= t->r.at)
		return 0;
	memset(&t->r, 0, sizeof t->r);
	t->r.at = t->now;
	snap_failures(sp, &t->r);
	return journal_read(sp, t->now - 3600 * 1000, rate_one, &t->r);
}

/* Fill t from the spool. Returns 0, or -1 if the spool cannot be read. */
static int
snap_take(struct spool *sp, struct top_snap *t)
{
	struct top_rates keep = t->r;

	free(t->li);
	memset(t, 0, sizeof *t);
	t->r = keep;
	t->now = now_ms();
	for (int s = 0; s < ST_NSTATES; s++)
		if ((t->counts[s] = spool_count(sp, s)) == -1)
			return -1;
	if ((t->nli = lease_list(sp, &t->li)) == -1) {
		t->nli = 0;
		return -1;
	}
	t->paused = control_paused(sp, NULL, 0);
	return snap_rates(sp, t);
}

/* The sparkline of t->spark into out: one character a column, its height
 * relative to the busiest column; blank for none. */
static void
sparkline(const struct top_snap *t, int utf8, char *out, size_t n, long *max)
{
	static const char *const blocks[] = { " ", "\u2581", "\u2582",
	    "\u2583", "\u2584", "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = " .:-=+*#@";

	*max = 0;
	for (int i = 0; i < SPARK_N; i++)
		if (t->r.spark[i] > *max)
			*max = t->r.spark[i];
	out[0] = '\0';
	for (int i = 0; i < SPARK_N; i++) {
		int lv = *max == 0 || t->r.spark[i] == 0 ? 0 :
		    (int)((t->r.spark[i] * 8 + *max - 1) / *max);
		char c[2] = { ascii[lv], '\0' };

		strlcat(out, utf8 ? blocks[lv] : c, n);
	}
}

static void
render_jobs(struct screen *s, const struct top_snap *t, int utf8)
{
	char line[SCREEN_COLS], spark[SPARK_N * 4 + 1];
	size_t k = 0;
	long max;

	for (int st = 0; st < ST_NSTATES && k < sizeof line; st++)
		k += (size_t)snprintf(line + k, sizeof line - k, "%s%s %ld",
		    st ? "  " : "", state_name(st), t->counts[st]);
	put(s, "jobs: %s", line);
	put(s, "finished: %ld in the last minute, %ld in the last hour",
	    t->r.last_min, t->r.last_hour);
	sparkline(t, utf8, spark, sizeof spark, &max);
	put(s, "per 10 s, last 10 min: [%s] max %ld", spark, max);
}

static void
render_workers(struct screen *s, const struct top_snap *t)
{
	int alive = 0, dead = 0;

	for (int i = 0; i < t->nli; i++)
		t->li[i].alive ? alive++ : dead++;
	put(s, "workers: %d%s", alive, t->paused ? " (spool paused: they "
	    "claim nothing new)" : "");
	for (int i = 0; i < t->nli; i++) {
		const struct lease_info *l = &t->li[i];

		if (!l->alive)
			continue;
		if (l->job[0] != '\0')
			put(s, "  %-24s pid %-7ld running %s for %.1f s", l->id,
			    (long)l->pid, l->job,
			    (double)(t->now - l->job_started_at) / 1000);
		else
			put(s, "  %-24s pid %-7ld idle", l->id, (long)l->pid);
	}
	if (dead > 0)
		put(s, "  dead leases: %d (reclaimed by the next worker or "
		    "'queuectl recover')", dead);
}

static void
render_failures(struct screen *s, const struct top_snap *t)
{
	char when[TIME_BUFSZ];

	put(s, "last failures:");
	if (t->r.nfail == 0)
		put(s, "  none");
	for (int i = 0; i < t->r.nfail; i++) {
		const struct top_fail *f = &t->r.fail[i];

		time_format(f->when, when);
		when[19] = '\0';
		put(s, "  %s  %-6s  %s  %s", when + 11, state_name(f->state),
		    f->id, f->error);
	}
}

/* The whole view, one line an entry of s. */
static void
render(struct screen *s, const struct spool *sp, const struct top_snap *t,
    int utf8, const char *msg)
{
	char when[TIME_BUFSZ];

	s->n = 0;
	time_format(t->now, when);
	when[19] = '\0';
	put(s, "queuectl top  %s%s  %s UTC", sp->path,
	    t->paused ? "  [PAUSED]" : "", when + 11);
	render_jobs(s, t, utf8);
	put(s, "%s", "");
	render_workers(s, t);
	put(s, "%s", "");
	render_failures(s, t);
	if (msg != NULL) {
		put(s, "%s", "");
		put(s, "%s", msg);
	}
}

/* Control characters of job ids or errors would move the cursor. */
static void
screen_sanitize(struct screen *s)
{
	for (int i = 0; i < s->n; i++)
		for (unsigned char *p = (unsigned char *)s->line[i]; *p; p++)
			if (*p < 0x20 || *p == 0x7f)
				*p = '?';
}

/* Write the first cols columns of line (UTF-8: a column a character). */
static void
put_cols(FILE *f, const char *line, int cols)
{
	int col = 0;

	for (const unsigned char *p = (const unsigned char *)line; *p; p++) {
		if ((*p & 0xc0) != 0x80 && col++ == cols)
			break;
		putc(*p, f);
	}
}

/* Draw s over the whole terminal: home, each line, clear the rest. */
static void
draw(const struct screen *s)
{
	struct winsize ws;
	int rows = 24, cols = 80;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 &&
	    ws.ws_col > 0) {
		rows = ws.ws_row;
		cols = ws.ws_col;
	}
	fputs("\033[H", stdout);
	for (int i = 0; i < s->n && i < rows; i++) {
		if (i > 0)
			fputs("\r\n", stdout);
		fputs(i == 0 ? "\033[7m" : "", stdout);
		put_cols(stdout, s->line[i], cols);
		fputs("\033[K\033[0m", stdout);
	}
	fputs("\033[J", stdout);
	fflush(stdout);
}

/* Retry every job of dead/ (ids collected first: a retry rewrites the
 * file in dead/ before it moves it); the outcome in msg. */
static void
retry_dlq(struct spool *sp, char *msg, size_t n)
{
	struct idlist ids = { NULL, 0, 0 };
	char err[256];
	long ok = 0, bad = 0;

	if (idlist_of_dir(sp->dir[ST_DEAD], &ids) != 0) {
		snprintf(msg, n, "cannot read dead/: %s",
		    strerror(errno));
		free(ids.v);
		return;
	}
	for (size_t i = 0; i < ids.n; i++)
		spool_dlq_retry(sp, ids.v[i], err, sizeof err) == 0 ? ok++ :
		    bad++;
	snprintf(msg, n, "retried %ld dead job%s%s", ok, ok == 1 ? "" : "s",
	    bad ? " (some could not be: see 'queuectl dlq list')" : "");
	free(ids.v);
}

/* Watch what changes the view. Returns the inotify fd, or -1. */
static int
top_watch(struct spool *sp)
{
	static const char *const dirs[] = { "", "/pending", "/processing",
	    "/done", "/failed", "/dead", "/hold", "/journal" };
	const uint32_t mask = IN_CREATE | IN_DELETE | IN_MOVED_FROM |
	    IN_MOVED_TO | IN_CLOSE_WRITE | IN_ONLYDIR;
	char path[PATH_MAX + 16];
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC), n = 0;

	if (ifd == -1)
		return -1;
	for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++)
		if (fmt_checked(path, sizeof path, "%s%s", sp->path,
		    dirs[i]) == 0 && inotify_add_watch(ifd, path, mask) != -1)
			n++;
	if (n == 0) {
		close(ifd);
		return -1;
	}
	return ifd;
}

struct top_ui {
	struct spool sp_store;
	struct spool *sp;
	struct top_snap t;
	struct screen scr;
	int utf8;
	int confirm;             /* 'r' asked: waiting for y/n */
	int dirty;
	char msg[256];
};

/* p: pause the spool, or resume it when paused; the outcome in msg. */
static void
toggle_pause(struct spool *sp, char *msg, size_t n)
{
	int paused = control_paused(sp, NULL, 0);

	if ((paused ? control_resume(sp) : control_pause(sp)) == -1)
		snprintf(msg, n, "cannot %s the spool: %s",
		    paused ? "resume" : "pause", strerror(errno));
	else
		snprintf(msg, n, paused ? "resumed: workers claim jobs again" :
		    "paused: workers finish their job and claim nothing new");
}

/* One key. Returns 1 to quit. */
static int
on_key(struct top_ui *u, int ch)
{
	if (u->confirm) {
		u->confirm = 0;
		if (ch == 'y' || ch == 'Y')
			retry_dlq(u->sp, u->msg, sizeof u->msg);
		else
			strlcpy(u->msg, "DLQ not retried", sizeof u->msg);
		return 0;
	}
	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case 'p':
	case 'P':
		toggle_pause(u->sp, u->msg, sizeof u->msg);
		break;
	case 'r':
	case 'R':
		snprintf(u->msg, sizeof u->msg, "retry the %ld job%s of the "
		    "DLQ? y/n", u->t.counts[ST_DEAD],
		    u->t.counts[ST_DEAD] == 1 ? "" : "s");
		u->confirm = 1;
		break;
	default:
		strlcpy(u->msg, KEYS, sizeof u->msg);
	}
	return 0;
}

static void
top_redraw(struct top_ui *u)
{
	if (snap_take(u->sp, &u->t) == -1)
		snprintf(u->msg, sizeof u->msg, "cannot read the spool: %s",
		    strerror(errno));
	render(&u->scr, u->sp, &u->t, u->utf8, u->msg[0] ? u->msg : KEYS);
	screen_sanitize(&u->scr);
	draw(&u->scr);
}

static volatile sig_atomic_t top_resized;

/* Sleep until a key, a spool change, a signal or the next redraw is due.
 * Returns 1 when a key asks to quit. */
static int
top_wait(struct top_ui *u, int ifd, int64_t last)
{
	int64_t ms = (u->dirty ? REDRAW_MS : TICK_MS) - (mono_ms() - last);
	struct pollfd pfd[2] = {
		{ .fd = STDIN_FILENO, .events = POLLIN },
		{ .fd = ifd, .events = POLLIN },
	};
	unsigned char keys[64];
	ssize_t n;

	if (ms > 0 && poll(pfd, ifd == -1 ? 1 : 2, (int)ms) <= 0)
		return 0;
	if (ifd != -1 && (pfd[1].revents & POLLIN)) {
		fd_drain(ifd);
		u->dirty = u->dirty ? u->dirty : 1;
	}
	if (pfd[0].revents & (POLLHUP | POLLERR))
		return 1;
	if ((pfd[0].revents & POLLIN) &&
	    (n = read(STDIN_FILENO, keys, sizeof keys)) > 0) {
		/* an escape sequence (arrow keys ...) is not a key of ours */
		for (ssize_t i = 0; i < n && keys[0] != 033; i++)
			if (on_key(u, keys[i]))
				return 1;
		u->dirty = 2;
	}
	return 0;
}

static void
on_signal(int sig)
{
	if (sig == SIGWINCH)
		top_resized = 1;
	else
		top_quit = 1;
}

/* The terminal in and out of the dashboard: non-canonical input without
 * echo (signals still work), the alternate screen, no cursor. */
static int
term_enter(struct termios *saved)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGWINCH };
	struct termios raw;
	struct sigaction sa;

	if (tcgetattr(STDIN_FILENO, saved) == -1)
		return -1;
	raw = *saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &raw) == -1)
		return -1;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
	fputs("\033[?1049h\033[?25l", stdout);
	return 0;
}

static void
term_leave(const struct termios *saved)
{
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	tcsetattr(STDIN_FILENO, TCSAFLUSH, saved);
}

static void
top_loop(struct top_ui *u)
{
	int ifd = top_watch(u->sp);
	int64_t last = 0;

	u->dirty = 2;
	while (!top_quit) {
		int64_t since = mono_ms() - last;

		if (top_resized) {
			top_resized = 0;
			u->dirty = 2;
		}
		/* a key or a resize redraws at once; a spool change at most
		 * every REDRAW_MS; nothing, every TICK_MS */
		if (u->dirty == 2 || (u->dirty && since >= REDRAW_MS) ||
		    since >= TICK_MS) {
			top_redraw(u);
			last = mono_ms();
			u->dirty = 0;
		}
		if (top_wait(u, ifd, last))
			break;
	}
	if (ifd != -1)
		close(ifd);
}

/* Not on a terminal: the view once, as plain lines. */
static int
top_snapshot(struct top_ui *u)
{
	if (snap_take(u->sp, &u->t) == -1)
		err(EX_IOERR_, "%s", u->sp->path);
	render(&u->scr, u->sp, &u->t, u->utf8, NULL);
	screen_sanitize(&u->scr);
	for (int i = 0; i < u->scr.n; i++)
		puts(u->scr.line[i]);
	return fflush(stdout) == 0 ? 0 : EX_IOERR_;
}

static int
interactive(void)
{
	const char *term = getenv("TERM");

	return isatty(STDOUT_FILENO) && isatty(STDIN_FILENO) &&
	    term != NULL && term[0] != '\0' && strcmp(term, "dumb") != 0;
}

int
cmd_top(int argc, char **argv)
{
	const struct cmd *c = cli_find("top");
	struct termios saved;
	struct top_ui *u;
	int r = 0;

	if ((r = cli_help(c, argc, argv)) != -1)
		return r;
	if (argc != 1)
		return cli_usage_error(c);
	if ((u = calloc(1, sizeof *u)) == NULL)
		err(EX_OSERR_, "out of memory");
	cli_open(&u->sp_store);
	u->sp = &u->sp_store;
	setlocale(LC_CTYPE, "");
	u->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	r = 0;
	if (!interactive() || term_enter(&saved) == -1)
		r = top_snapshot(u);
	else {
		top_loop(u);
		term_leave(&saved);
	}
	free(u->t.li);
	spool_close(u->sp);
	free(u);
	return r;
}
