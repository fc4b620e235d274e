/*
 * test_multihost.c - the pure parts of running one spool on several
 * hosts: fs_classify (src/fsinfo.h), the keys poll_interval, lease_check,
 * lease_timeout and lock_failover, config_timing and
 * config_timing_warnings (src/config.h).
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fsinfo.h"
#include "tap.h"

static char err[512];

static void test_classify(void)
{
	static const struct {
		unsigned long magic;
		const char *name;
		int network;
	} cases[] = {
		{ 0xEF53, "ext4", 0 }, { 0x58465342, "xfs", 0 },
		{ 0x9123683E, "btrfs", 0 }, { 0x01021994, "tmpfs", 0 },
		{ 0x65735546, "fuse", 1 }, { 0x6969, "nfs", 1 },
		{ 0xFF534D42, "cifs", 1 }, { 0xFE534D42, "smb2", 1 },
		{ 0x517B, "smb", 1 }, { 0x00C36400, "ceph", 1 },
		{ 0x01021997, "9p", 1 }, { 0x7461636F, "ocfs2", 1 },
		{ 0x01161970, "gfs2", 1 }, { 0x0BD00BD0, "lustre", 1 },
		{ 0x12345678, "other", 0 },
	};
	const char *name;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		name = NULL;
		is_int(fs_classify(cases[i].magic, &name), cases[i].network,
		    "fs_classify(%#lx) is %s", cases[i].magic,
		    cases[i].network ? "network" : "local");
		is_str(name, cases[i].name, "fs_classify(%#lx) names it",
		    cases[i].magic);
	}
	/* f_type is a signed long on some ABIs: the high bits do not count */
	is_int(fs_classify(0xFFFFFFFF00000000UL | 0xFF534D42UL, NULL), 1,
	    "a sign-extended cifs magic is still cifs");
}

static void test_keys(void)
{
	struct config c;
	char buf[64];

	config_defaults(&c);
	ok(c.poll_interval == CONFIG_AUTO && c.lease_check == CONFIG_AUTO &&
	    c.lease_timeout == CONFIG_AUTO, "poll_interval, lease_check, "
	    "lease_timeout default to auto");
	is_dbl(c.lock_failover, 42, "lock_failover defaults to 42 s");
	ok(config_get_value(&c, "poll-interval", buf, sizeof buf) == 0 &&
	    strcmp(buf, "auto") == 0, "poll_interval reads auto");
	ok(config_set_value(&c, "poll-interval", "0.5", err, sizeof err) == 0,
	    "poll-interval 0.5 accepted");
	ok(config_get_value(&c, "poll_interval", buf, sizeof buf) == 0 &&
	    strcmp(buf, "0.5") == 0, "and reads back 0.5");
	ok(config_set_value(&c, "poll_interval", "0", err, sizeof err) == 0 &&
	    c.poll_interval == 0, "poll_interval 0 (off) accepted");
	ok(config_set_value(&c, "poll_interval", "auto", err, sizeof err) == 0 &&
	    c.poll_interval == CONFIG_AUTO, "poll_interval auto accepted");
	ok(config_set_value(&c, "poll_interval", "3601", err, sizeof err) == -1 &&
	    strstr(err, "poll_interval") != NULL && strstr(err, "3600") != NULL,
	    "poll_interval over 3600 refused, naming key and range: %s", err);
	ok(config_set_value(&c, "lease_check", "0.05", err, sizeof err) == -1 &&
	    strstr(err, "0.1 to 3600") != NULL, "lease_check under 0.1 refused");
	ok(config_set_value(&c, "lease_timeout", "-1", err, sizeof err) == -1,
	    "a negative lease_timeout refused");
	ok(config_set_value(&c, "lease_timeout", "5", err, sizeof err) == 0 &&
	    c.lease_timeout == 5, "lease_timeout 5 accepted");
	ok(config_set_value(&c, "lock_failover", "auto", err, sizeof err) == -1 &&
	    strstr(err, "lock_failover") != NULL, "lock_failover is never auto");
	ok(config_set_value(&c, "lock-failover", "5", err, sizeof err) == 0 &&
	    c.lock_failover == 5, "lock-failover 5 accepted");
	const char *text = "lease_check = auto\nlease-timeout = 2.5\n";

	ok(config_parse(&c, text, strlen(text), err, sizeof err) == 0 &&
	    c.lease_check == CONFIG_AUTO &&
	    c.lease_timeout == 2.5, "a config file sets them");
}

static void test_timing(void)
{
	struct config c;
	struct config_timing t;

	config_defaults(&c);
	config_timing(&c, 0, &t);
	ok(t.poll_ms == 0 && t.timeout_ms == 60000 && t.check_ms == 10000,
	    "local disk: no polling, lease checked every 10 s, timeout 60 s "
	    "(%lld %lld %lld)", t.poll_ms, t.check_ms, t.timeout_ms);
	config_timing(&c, 1, &t);
	ok(t.poll_ms == 1000 && t.failover_ms == 42000 &&
	    t.timeout_ms == 31500 && t.check_ms == 7875,
	    "network: poll 1 s, timeout 3/4 of 42 s, check a quarter of it "
	    "(%lld %lld %lld)", t.poll_ms, t.check_ms, t.timeout_ms);
	c.lock_failover = 5;
	config_timing(&c, 1, &t);
	ok(t.timeout_ms == 3750 && t.check_ms == 937,
	    "lock_failover 5 s: timeout 3.75 s, check 0.937 s");
	c.lock_failover = 2;
	config_timing(&c, 1, &t);
	is_int(t.timeout_ms, 1000, "lock_failover 2 s: timeout 1 s (1 s margin)");
	c.poll_interval = 0.25;
	c.lease_check = 3;
	c.lease_timeout = 9;
	config_timing(&c, 0, &t);
	ok(t.poll_ms == 250 && t.check_ms == 3000 && t.timeout_ms == 9000,
	    "set values win on a local disk too (a testing knob for polling)");
}

static void test_warnings(void)
{
	struct config c;
	struct config_timing t;
	char warn[4][CONFIG_WARN_MAX];

	config_defaults(&c);
	config_timing(&c, 1, &t);
	is_int(config_timing_warnings(&t, 1, warn, 4), 0,
	    "the network defaults keep the rules");
	config_timing(&c, 0, &t);
	is_int(config_timing_warnings(&t, 0, warn, 4), 0,
	    "the local defaults keep the rules");
	c.lease_timeout = 41.5;
	config_timing(&c, 1, &t);
	if (is_int(config_timing_warnings(&t, 1, warn, 4), 1,
	    "lease_timeout 41.5 s with lock_failover 42 s: one warning"))
		ok(strstr(warn[0], "lock_failover (42 s)") != NULL &&
		    strstr(warn[0], "lease_timeout (41.5 s)") != NULL,
		    "it names both: %s", warn[0]);
	is_int(config_timing_warnings(&t, 0, warn, 4), 0,
	    "no failover rule on a local disk");
	c.lease_timeout = 41;
	config_timing(&c, 1, &t);
	is_int(config_timing_warnings(&t, 1, warn, 4), 0,
	    "lease_timeout 41 s + 1 s margin = 42 s keeps it");
	c.poll_interval = 0;
	c.lease_check = 30;
	config_timing(&c, 1, &t);
	if (is_int(config_timing_warnings(&t, 1, warn, 4), 2,
	    "poll_interval 0 and lease_check 30 s of 41 s: two warnings")) {
		ok(strstr(warn[0], "poll_interval is 0") != NULL, "%s", warn[0]);
		ok(strstr(warn[1], "more than half") != NULL, "%s", warn[1]);
	}
	is_int(config_timing_warnings(&t, 1, warn, 1), 1, "max is kept");
}

int main(void)
{
	test_classify();
	test_keys();
	test_timing();
	test_warnings();
	return done_testing();
}
