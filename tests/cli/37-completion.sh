#!/bin/bash
# 37-completion: the bash completion (contrib/bash-completion/queuectl)
# completes commands, subcommands and options as the binary's --help lists
# them, job ids read from the spool (found as queuectl finds it) in every
# state, STATE values and config keys; `make install` installs it with the
# man pages and the systemd units, and honours DESTDIR.
. "$(dirname "$0")/../lib.sh"

COMPLETION=$TOP/contrib/bash-completion/queuectl

# comp WORD...: what completing the last WORD of "queuectl WORD..." offers,
# sorted, on one line. Runs in a fresh bash, as an interactive shell would
# (the first word is the binary under test; COMP_* as bash sets them).
comp() {
	bash --norc --noprofile -c '
		. "$0" || exit 1
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"
		COMP_POINT=${#COMP_LINE}
		_queuectl "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}"' \
		"$COMPLETION" "${QBIN:-$QUEUECTL}" "$@" | sort | paste -sd' ' -
}

check "the script parses" bash -n "$COMPLETION"
like "$(bash --norc -c '. "$0"; complete -p queuectl' "$COMPLETION")" '^complete -F _queuectl queuectl$' \
	"sourcing it registers _queuectl for queuectl"

# --- commands, options, subcommands ---------------------------------------------
cmds=$(comp "")
for c in init enqueue worker status list show logs dlq config recover; do
	like " $cmds " " $c " "the commands include $c"
done
is "$cmds" "$("$QUEUECTL" --help | sed -n '/^commands:/,/^$/s/^  \([a-z]*\) .*/\1/p' | sort | paste -sd' ' -)" \
	"... and are exactly those of queuectl --help"
is "$(comp en)" "enqueue" "'en' completes to enqueue"
is "$(comp -)" "--help --spool --version -d" "global options"
mkdir -p "$TEST_DIR/work/spooldir" "$TEST_DIR/work/spoolfile.d"
is "$(comp -d spoolf)" "spoolfile.d" "-d completes a directory"
is "$(comp --spool = spoold)" "spooldir" "... so does --spool=DIR"
is "$(comp enqueue --pr)" "--priority" "an option of enqueue: --pr -> --priority"
opts=$(comp enqueue -)
for o in --id --priority --max-retries --timeout --run-at --delay --no-sync --batch --batch0; do
	like " $opts " " $o " "enqueue's options include $o"
done
is "$(comp enqueue --cwd spoolf)" "spoolfile.d" "enqueue --cwd completes a directory"
is "$(comp enqueue --priority "")" "" "nothing is offered for a number"
like " $(comp enqueue -- ech) " " echo " "enqueue -- ech completes a command name"
is "$(comp enqueue -- echo spoolf)" "spoolfile.d" "... and its arguments as files"
is "$(comp worker "")" "run start stop" "worker's subcommands"
is "$(comp worker start -)" "--count" "worker start's option"
is "$(comp worker stop -)" "--now" "worker stop's option"
is "$(comp dlq "")" "list retry" "dlq's subcommands"
is "$(comp dlq retry -)" "--all" "dlq retry's option"
is "$(comp logs x -)" "--attempt --stderr --stdout -f" "logs' options"

# --- derived from the help, not a list in the script ---------------------------
cat >"$TEST_DIR/fakeq" <<'EOF'
#!/bin/sh
case $1 in
--help) printf 'usage: queuectl [-x] COMMAND\n\ncommands:\n  frobnicate  a new one\n  init      create\n\nRun...\n' ;;
frobnicate) printf 'usage: queuectl frobnicate [--wibble COLOUR] [--quick]\n          [--level N] ID...\nfrobnicate jobs; see queuectl(1).\nCOLOUR is one of: red green\n' ;;
esac
EOF
chmod +x "$TEST_DIR/fakeq"
QBIN=$TEST_DIR/fakeq
is "$(comp "")" "frobnicate init" "a binary with other commands: they are offered"
is "$(comp frobnicate -)" "--level --quick --wibble" "... with the options of its help, continuation lines too"
is "$(comp frobnicate --wibble "")" "green red" "... and the values of its 'is one of' lines"
unset QBIN

# --- job ids from the spool --------------------------------------------------------
q init >/dev/null
q config set backoff_base 1000 >/dev/null
N=${MARK//./}
q enqueue --id ok1 true >/dev/null
q enqueue --id bad1 --max-retries 0 false >/dev/null
q enqueue --id fl1 --max-retries 3 false >/dev/null
q enqueue --id pend1 --delay 3600 true >/dev/null
q enqueue --id held1 --delay 3600 true >/dev/null
q hold held1 >/dev/null
printf 'not json' >"$SPOOL/pending/garbage.json"
fg_worker
wait_for 20 "ok1 is done" in_state ok1 done
wait_for 20 "bad1 is dead" in_state bad1 dead
wait_for 20 "fl1 waits in failed/" in_state fl1 failed
wait_for 20 "the garbage file is quarantined" exists "$SPOOL/dead/garbage.invalid"
q enqueue --id run1 "sleep 300$N" >/dev/null
wait_for 20 "run1 runs" in_state run1 processing
check "held1 is in hold/" exists "$SPOOL/hold/held1.json"

all="bad1 fl1 held1 ok1 pend1 run1"
is "$(comp show "")" "$all" "show: the ids of pending/, processing/*/, done/, failed/, dead/ and hold/"
is "$(comp show p)" "pend1" "... those that start with the word"
is "$(comp dlq retry "")" "$all" "dlq retry: ids"
is "$(comp logs "")" "$all" "logs: ids"
is "$(comp logs ok1 "")" "" "logs takes one id"
is "$(comp config set "")" "$("$QUEUECTL" config --help | sed -n 's/^KEY is one of: //p' | tr ' ' '\n' | sort | paste -sd' ' -)" \
	"config set: the keys queuectl config --help lists"
keys=$(comp config set "")
for k in max_retries backoff_base backoff_max timeout kill_grace log_max_bytes sync; do
	like " $keys " " $k " "... which include $k"
done
like "$(comp config get k)" "^(keep_dead keep_done )?kill_grace$" "config get k: the keys that start with k"
is "$(comp config set timeout "")" "" "nothing for a value"
states=$(comp list --state "")
for s in pending processing done failed dead; do
	like " $states " " $s " "list --state: $s"
done
is "$(comp list --state = d)" "dead done" "list --state=d: dead done"
is "$(comp purge --state "")" "dead done" "purge --state: the values its usage names"

# the spool: -d / --spool, $QUEUECTL_SPOOL, $XDG_STATE_HOME, ~/.local/state
mkdir -p "$TEST_DIR/other/pending" "$TEST_DIR/xdg/queuectl/done" \
	"$TEST_DIR/home/.local/state/queuectl/processing/h-1"
touch "$TEST_DIR/other/pending/oth1.json" "$TEST_DIR/xdg/queuectl/done/xdg1.json" \
	"$TEST_DIR/home/.local/state/queuectl/processing/h-1/home1.json"
is "$(comp -d "$TEST_DIR/other" show "")" "oth1" "-d DIR: ids of that spool"
is "$(comp --spool = "$TEST_DIR/other" show "")" "oth1" "--spool=DIR: the same"
is "$(QUEUECTL_SPOOL=$TEST_DIR/other comp show "")" "oth1" "\$QUEUECTL_SPOOL"
is "$(env -u QUEUECTL_SPOOL XDG_STATE_HOME="$TEST_DIR/xdg" bash -c "$(declare -f comp); COMPLETION='$COMPLETION' QUEUECTL='$QUEUECTL' comp show ''")" \
	"xdg1" "\$XDG_STATE_HOME/queuectl without \$QUEUECTL_SPOOL"
is "$(env -u QUEUECTL_SPOOL -u XDG_STATE_HOME HOME="$TEST_DIR/home" bash -c "$(declare -f comp); COMPLETION='$COMPLETION' QUEUECTL='$QUEUECTL' comp show ''")" \
	"home1" "~/.local/state/queuectl without either"

kill "$(jq -r .pgid "$(lease_of "$FG_PID")/lease")" 2>/dev/null

# --- make install --------------------------------------------------------------------
R=$TEST_DIR/root
run make -s -C "$TOP" -o queuectl install DESTDIR="$R" PREFIX=/usr
rc_is 0 "make install DESTDIR=\$R PREFIX=/usr"
is "$(cd "$R" && find . -type f | sort | paste -sd' ' -)" \
	"./usr/bin/queuectl ./usr/lib/systemd/system/queuectl-worker@.service ./usr/lib/systemd/user/queuectl-worker@.service ./usr/share/bash-completion/completions/queuectl ./usr/share/man/man1/queuectl.1 ./usr/share/man/man5/queuectl-spool.5" \
	"it installs the binary, the units, the completion and the man pages under DESTDIR"
check "the completion is the script" cmp "$COMPLETION" "$R/usr/share/bash-completion/completions/queuectl"
is "$(grep -h '^ExecStart=' "$R"/usr/lib/systemd/{system,user}/queuectl-worker@.service | paste -sd' ' -)" \
	"ExecStart=/usr/bin/queuectl worker run ExecStart=/usr/bin/queuectl worker run" "the units run /usr/bin/queuectl"
is "$(stat -c %a "$R/usr/share/bash-completion/completions/queuectl" "$R/usr/lib/systemd/system/queuectl-worker@.service" | paste -sd' ' -)" \
	"644 644" "mode 644"
run make -s -C "$TOP" uninstall DESTDIR="$R" PREFIX=/usr
rc_is 0 "make uninstall DESTDIR=\$R PREFIX=/usr"
is "$(cd "$R" && find . -type f)" "" "... removes them all"

done_testing
