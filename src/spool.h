/*
 * spool.h - the spool directory: opening it, atomic writes, moving jobs
 * between state directories, finding, listing, quarantine and enqueue.
 *
 * The protocol is spool-layout/README.md; spool.c's header comment states the
 * order of operations of each transition. All functions return -1 with errno
 * set on failure and never print or exit.
 */
#ifndef QUEUECTL_SPOOL_H
#define QUEUECTL_SPOOL_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "config.h"
#include "job.h"

#define WORKER_ID_MAX 96

struct spool {
	char path[PATH_MAX];
	int root;                 /* SPOOL/ */
	int tmp;                  /* SPOOL/tmp/ */
	int cancel;               /* SPOOL/cancel/: cancel requests */
	int dir[ST_NSTATES];      /* the state directories (hold/ for held) */
	struct config cfg;        /* as last loaded */
	struct timespec cfg_mtime;
	ino_t cfg_ino;
	int nosync;               /* 1: skip fsync whatever cfg.sync says */
	int noexchange;           /* 1: renameat2 RENAME_EXCHANGE refused */
	char cfg_error[256];      /* why SPOOL/config was not loaded, or "" */
	int journal;              /* SPOOL/journal/, -1 until used (journal.c) */
	int jfd;                  /* this process's open journal segment, or -1 */
	int64_t jhour;            /* the hour of jfd's segment */
};

/* One entry found by spool_find. */
struct spool_loc {
	int state;                      /* enum job_state */
	int dirfd;                      /* borrowed (state dirs) or owned lease fd */
	int owned;                      /* dirfd must be closed by spool_loc_free */
	char dir[16 + WORKER_ID_MAX];   /* "done", "processing/host-123" */
	char other[ID_MAX + 1];         /* enqueue: the dependency refused */
};

/*
 * Resolve the spool path from the option (may be NULL), $QUEUECTL_SPOOL,
 * $XDG_STATE_HOME/queuectl or ~/.local/state/queuectl into buf.
 */
int spool_path(const char *opt, char *buf, size_t n);

/*
 * Open the spool at path, creating it and its directories (0700) when
 * missing. Refuses (EPERM) a root, directory or config writable by group
 * or others and (EACCES) one owned by another user, with a sentence in err
 * saying how to fix it. Loads the config; a bad config file leaves the
 * defaults in force and its error in sp->cfg_error.
 */
int spool_open(struct spool *sp, const char *path, char *err, size_t errsz);

/* Close every descriptor of sp. */
void spool_close(struct spool *sp);

/* Is fsync on? (config sync = 1 and not nosync) */
int spool_sync(const struct spool *sp);

/*
 * Re-read SPOOL/config if it changed since the last load (stat first).
 * Returns 0 (sp->cfg current), or -1 with a message in err; on error the
 * previous config stays in force.
 */
int spool_config_reload(struct spool *sp, char *err, size_t errsz);

/* Replace SPOOL/config with text atomically. */
int spool_config_store(struct spool *sp, const char *text, size_t len);

/*
 * Write buf to a new file in tmp/ (O_CREAT|O_EXCL, 0600), fsync'ed when
 * sync is on; its name goes to name (n bytes).
 */
int spool_write_tmp(struct spool *sp, const char *buf, size_t len, char *name,
    size_t n);

/* Atomically replace dirfd/name with buf (tmp/ file + rename). */
int spool_replace(struct spool *sp, int dirfd, const char *name,
    const char *buf, size_t len);

/* Atomically create dirfd/name with buf, unless it exists (EEXIST): a
 * tmp/ file renamed with RENAME_NOREPLACE. */
int spool_create(struct spool *sp, int dirfd, const char *name,
    const char *buf, size_t len);

/* Serialize job and replace dirfd/<id>.json with it (updated_at set). */
int spool_job_write(struct spool *sp, int dirfd, struct job *job);

/*
 * Read and validate dirfd/<id>.json. On a bad file returns -1 with errno
 * EINVAL and the reason in err; ENOENT when the file is not there, or was
 * moved away while it was being opened (which a network filesystem may
 * report as ESTALE); other errno values are I/O errors.
 */
int spool_job_read(int dirfd, const char *id, struct job *job, char *err,
    size_t errsz);

/* A job file as spool_job_read_keep read it: its text (len bytes), what
 * fstat said of it, and the descriptor read, left open. */
struct job_text {
	char *text;
	size_t len;
	struct stat st;
	int fd;
};

/* spool_job_read that, on success, leaves the file's text in *kt (the
 * caller frees kt->text and closes kt->fd). */
int spool_job_read_keep(int dirfd, const char *id, struct job *job,
    char *err, size_t errsz, struct job_text *kt);

/*
 * Move job id (its json and logs) from fromfd to tofd. The json moves with
 * RENAME_NOREPLACE: ENOENT if it is gone (another worker won), EEXIST if
 * the target has that id already. Logs are linked first and unlinked after.
 */
int spool_job_move(struct spool *sp, int fromfd, int tofd, const char *id);

/*
 * Move job id from fromfd into the caller's own lease directory: the same
 * as spool_job_move, but a plain rename, which needs no RENAME_NOREPLACE
 * (no other process creates files in a live lease), and no fsync (the
 * caller's rewrite of the job, counting the attempt, fsyncs the lease
 * before the job runs). ENOENT: lost the race.
 */
int spool_job_claim(struct spool *sp, int fromfd, int leasefd, const char *id);

/*
 * Decide where a finished attempt goes and put it there: done/ if success,
 * else failed/ with next_run_at (backoff) while 1 + max_retries attempts are
 * not spent, else dead/. The job (in fromfd) is rewritten then moved. Uses
 * sp->cfg for fields the job does not set. Once the job is moved, one
 * line goes to the metrics journal (journal_outcome; its failure is
 * ignored). Returns the new state, or -1.
 */
int spool_job_settle(struct spool *sp, int fromfd, struct job *job,
    int success);

/*
 * Put job (in fromfd) in dead/ whatever its attempts (one never started: a
 * failed dependency, a cancel; or a cancelled attempt): rewritten with
 * state dead, last_error why and finished_at now, then moved (a duplicate
 * id in dead/ is quarantined). 0, or -1.
 */
int spool_job_doom(struct spool *sp, int fromfd, struct job *job,
    const char *why);

/*
 * Find job id anywhere in the spool. Fills loc and returns 0; -1 with ENOENT
 * if it is nowhere. The scan order (pending, processing, failed, hold, done,
 * dead) follows the usual direction of moves.
 */
int spool_find(struct spool *sp, const char *id, struct spool_loc *loc);
void spool_loc_free(struct spool_loc *loc);

/*
 * Move the entry name (any file type; NULL means "<hint>.json") from fromfd
 * to dead/ as not-a-job: dead/<qid>.invalid plus dead/<qid>.reason saying
 * name, reason and time. qid is hint when that is a valid id unused in
 * dead/, else a generated id. The bytes are not changed. ENOENT if the
 * entry vanished.
 */
int spool_quarantine(struct spool *sp, int fromfd, const char *name,
    const char *hint, const char *reason);

/*
 * Is less than config min_free percent of the spool's filesystem free? Then
 * enqueue refuses new jobs, as mail spools do, so that running jobs can still
 * record their results.
 */
int spool_below_floor(struct spool *sp);

/*
 * Enqueue job: fill id (generated if empty), created_at, state; write it to
 * tmp/, then under SPOOL/lock check that the id is nowhere in the spool (a
 * generated id skips both) and rename it into pending/, then fsync
 * pending/ (sync = 1). A job whose state is ST_HELD (enqueue --hold, or
 * "state": "held" in its JSON) goes to hold/ instead, with state held. Returns 0; 1
 * when the job is queued but that last fsync failed (errno set: it may not
 * survive a power loss); -1 when it is not queued, EEXIST (with where in
 * loc) if the id exists.
 * A job with dependencies (job->after) is checked under the lock whatever
 * its id (deps_admit): -1 with ESRCH (no such job) or ELOOP (a cycle), the
 * dependency named in loc->other.
 * A unique job (job->unique) is checked under the lock whatever its id:
 * if a job in failed/, pending/ or a lease has the same command, nothing is
 * queued, job's id becomes that job's, loc says where, and the return is 2
 * (JOB_UNIQUE_REUSE) or -1 with EALREADY (JOB_UNIQUE_STRICT).
 * A job whose file would be refused by job_parse is not written: -1 with
 * EFBIG (larger than JOB_ENQUEUE_MAX: room is kept for the fields workers
 * add) or EILSEQ (a string not valid UTF-8).
 */
int spool_enqueue(struct spool *sp, struct job *job, struct spool_loc *loc);

/*
 * A group of jobs enqueued one after another and made durable together
 * (enqueue --batch): spool_group_add writes and renames each job as
 * spool_enqueue does, but without an fsync of its own; spool_group_end
 * makes the whole group durable with one syncfs(2) (sync = 1). A caller
 * acknowledges the group's jobs only after spool_group_end.
 * SPOOL/lock is taken at the first job that needs spool_enqueue's look-ups
 * (an id of its own, "after", unique) and held to the group's end, so a
 * caller ends a group before it waits for more jobs.
 */
struct spool_group {
	int lockfd;             /* SPOOL/lock, or -1 */
	size_t n;               /* jobs queued in the group */
};

/* Start an empty group. */
void spool_group_begin(struct spool_group *g);

/*
 * Enqueue job as part of g: 0 (queued; counted in g->n), 2 (a unique job
 * whose command was found: job's id and loc name that job, nothing queued)
 * or -1 with errno and loc as spool_enqueue (nothing queued). The job may be
 * freed as soon as this returns.
 */
int spool_group_add(struct spool *sp, struct spool_group *g, struct job *job,
    struct spool_loc *loc);

/*
 * End g: release the lock, then (sync = 1, and a job was queued) syncfs(2).
 * Returns 0, or -1 with errno if that sync failed: the group's jobs are
 * queued but may not survive a power loss. g may be begun again.
 */
int spool_group_end(struct spool *sp, struct spool_group *g);

/*
 * Rename fromfd/from to tofd/to unless to exists (EEXIST then):
 * renameat2(RENAME_NOREPLACE), or where the filesystem refuses that flag
 * (FUSE, old NFS: EINVAL), a link and an unlink for a file, and for a
 * directory (which cannot be linked) a plain rename once to is found free.
 * 0, or -1 with errno set.
 */
int spool_rename_noreplace(int fromfd, const char *from, int tofd,
    const char *to);

/*
 * Open the lock file dirfd/name for flock(2): read-write (NFS wants it for
 * an exclusive lock), never following a symlink, never blocking on a FIFO,
 * created 0600 when create is set. EINVAL if it is not a regular file.
 */
int spool_open_lock(int dirfd, const char *name, int create);

/*
 * Take SPOOL/lock exclusively (blocking): it serialises enqueue's duplicate
 * check and config changes. Returns the fd; close it to unlock.
 */
int spool_lock(struct spool *sp);
/* The same without waiting: -1 with EWOULDBLOCK when another holds it. */
int spool_trylock(struct spool *sp);

/*
 * Call fn for each name in dirfd ending in suffix (not starting with '.').
 * Stops early when fn returns non-zero and returns that value; 0 at the end;
 * -1 if the directory cannot be read.
 */
int spool_each(int dirfd, const char *suffix,
    int (*fn)(int dirfd, const char *name, void *arg), void *arg);

/*
 * The names of a directory (those spool_each would give), sorted by inode
 * number: a directory of files written one after another is then visited
 * about in the order of its inodes on disk, not in the directory's (on ext4
 * a hash) order. name(l, i) is the i-th; free with spool_names_free.
 */
struct spool_names {
	struct spool_name {
		ino_t ino;
		size_t off;
		unsigned char type;     /* d_type: DT_REG, DT_UNKNOWN, ... */
	} *e;
	size_t n, cap;
	char *buf;              /* the names, NUL-terminated, one after another */
	size_t len, room;
};
#define spool_name_at(l, i) ((l)->buf + (l)->e[(i)].off)

/* Fill l (zeroed by the caller) from dirfd. 0, or -1 (errno set: the
 * directory cannot be read, or ENOMEM); l is to be freed in both cases. */
int spool_names_by_inode(int dirfd, const char *suffix,
    struct spool_names *l);
void spool_names_free(struct spool_names *l);

/*
 * Call fn for each <id>.json in every lease directory, with the lease's
 * directory fd and its name (the worker id). Same return as spool_each; a
 * lease removed meanwhile (or an entry that is not a directory) is skipped,
 * one that cannot be read (EMFILE, EIO...) is -1.
 */
int spool_each_leased(struct spool *sp,
    int (*fn)(int dirfd, const char *name, const char *lease, void *arg),
    void *arg);

/*
 * Put dead/<id>.json back in pending/ for a fresh start (attempts 0; no
 * last_error, exit_code or next_run_at), under SPOOL/lock, so that of two
 * retries of one id the second finds it gone. Returns 0, or -1: ENOENT if
 * dead/ has no such job, EINVAL if the id or the file is not valid (the
 * reason in err), another errno for an I/O error.
 */
int spool_dlq_retry(struct spool *sp, const char *id, char *err,
    size_t errsz);
/*
 * How many jobs (<id>.json entries) the state directory holds; for
 * ST_PROCESSING, every lease's together. Reads directories only, never a
 * job file. Returns the count, or -1 if the directory cannot be read.
 */
long spool_count(struct spool *sp, int state);
/*
 * Remove what is stale in tmp/: entries older than max_age_ms, and at once
 * the files (and half-built lease directories) that a queuectl process on
 * this host left there when it died. Returns how many.
 */
int spool_sweep_tmp(struct spool *sp, int64_t max_age_ms);

#endif
