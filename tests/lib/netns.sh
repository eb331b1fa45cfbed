# shellcheck shell=bash
# Throwaway network namespaces for the kernel and packet tests.
#
#   . tests/lib/netns.sh
#   ns_init                      once: run id, scratch folder $NS_TMP, trap cleanup EXIT
#   ns_add mx                    namespace "<run id>-mx", loopback up
#   ns_veth mx mx0 client cl0    veth pair mx0 (in mx) <-> cl0 (in client), both up
#   ns_addr client cl0 198.51.100.7/24 2001:db8:1::10/64
#   ns_exec mx nft -f FILE       run a command inside a namespace
#   ns_spawn mx LOG CMD...       start a background process inside a namespace
#   ns_on_exit FUNC              call FUNC first when cleaning up
#
# Names are unique per run ("mxf<pid>x<random>-<name>"), so parallel runs and
# leftovers of a killed run never clash. Only documentation addresses
# (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32) and loopback
# are ever configured; namespaces have no route to anything else.
# cleanup stops every process it started and every process still inside the
# run's namespaces, deletes the namespaces and the scratch folder.

NS_RUN=""
NS_TMP=""
NS_NAMES=()
NS_PIDS=()
NS_HOOKS=()

ns_init() {
	NS_RUN="mxf$$x$RANDOM"
	NS_TMP=$(mktemp -d "/tmp/$NS_RUN.XXXXXX") || exit 1
	trap ns_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

ns_on_exit() {
	NS_HOOKS+=("$1")
}

# The full name of a short namespace name.
ns_name() {
	printf '%s-%s\n' "$NS_RUN" "$1"
}

ns_add() {
	local full
	full=$(ns_name "$1")
	ip netns add "$full" || return 1
	NS_NAMES+=("$full")
	ip -n "$full" link set lo up
}

ns_exec() {
	local full
	full=$(ns_name "$1")
	shift
	ip netns exec "$full" "$@"
}

# ns_veth NS1 IF1 NS2 IF2: created inside NS1, so no name is ever taken in the
# namespace the tests were started from.
ns_veth() {
	local a b
	a=$(ns_name "$1")
	b=$(ns_name "$3")
	ip -n "$a" link add "$2" type veth peer name "$4" netns "$b" || return 1
	ip -n "$a" link set "$2" up && ip -n "$b" link set "$4" up
}

# ns_addr NS IF ADDR/LEN...: IPv6 without duplicate address detection, so the
# addresses are usable at once.
ns_addr() {
	local full dev a
	full=$(ns_name "$1")
	dev=$2
	shift 2
	for a in "$@"; do
		case $a in
		*:*) ip -n "$full" -6 addr add "$a" dev "$dev" nodad || return 1 ;;
		*) ip -n "$full" addr add "$a" dev "$dev" || return 1 ;;
		esac
	done
}

# ns_spawn NS LOG CMD...: `ip netns exec` execs CMD, so the recorded pid is CMD's.
ns_spawn() {
	local full log
	full=$(ns_name "$1")
	log=$2
	shift 2
	ip netns exec "$full" "$@" >"$log" 2>&1 </dev/null &
	NS_PIDS+=($!)
}

# ns_wait_listen NS PROTO ADDR PORT [TRIES]: wait until a socket listens there.
ns_wait_listen() {
	local full proto=$2 addr=$3 port=$4 tries=${5:-50} i flag=-ltnH
	full=$(ns_name "$1")
	[ "$proto" = udp ] && flag=-lunH
	case $addr in *:*) addr="[$addr]" ;; esac
	for ((i = 0; i < tries; i++)); do
		ip netns exec "$full" ss $flag "src $addr:$port" 2>/dev/null | grep -q . && return 0
		sleep 0.1
	done
	return 1
}

ns_cleanup() {
	local rc=$? h p ns left
	trap - EXIT INT TERM
	for h in "${NS_HOOKS[@]}"; do "$h" || true; done
	for p in "${NS_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${NS_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ns in "${NS_NAMES[@]}"; do
		left=$(ip netns pids "$ns" 2>/dev/null)
		if [ -n "$left" ]; then
			# shellcheck disable=SC2086
			kill $left 2>/dev/null
			sleep 0.2
			left=$(ip netns pids "$ns" 2>/dev/null)
			# shellcheck disable=SC2086
			[ -n "$left" ] && kill -KILL $left 2>/dev/null
		fi
		ip netns del "$ns" 2>/dev/null
	done
	[ -n "$NS_TMP" ] && rm -rf "$NS_TMP"
	exit $rc
}
