# shellcheck shell=bash disable=SC2034 # the variables set here are for the tests that source it
# Local web servers for the fetch tests: nginx over HTTP and HTTPS with a
# throwaway CA, and a server that accepts and then stalls.
#
#   . tests/lib/httpd.sh
#   httpd_start DOCROOT      nginx serving DOCROOT (the test's own folder; never removed)
#                            sets HTTPD_PORT HTTPD_URL     plain HTTP
#                                 HTTPS_PORT HTTPS_URL     HTTPS, certificate of the test CA
#                                 HTTPS_BADCA_PORT HTTPS_BADCA_URL
#                                                          HTTPS, certificate of an unrelated CA
#                                 HTTPD_CA                 test CA certificate (PEM) to trust
#                                 HTTPD_BADCA              the unrelated CA (never to be trusted)
#                                 HTTPD_LOG                access log, one line per request
#   httpd_count PATH [STATUS]         requests for PATH in the whole log
#   httpd_log_mark                    remember the end of the log now
#   httpd_count_since PATH [STATUS]   requests for PATH after the last mark
#   httpd_wait_count PATH N [SECS]    wait until the log holds N requests for PATH
#   stall_start              sets STALL_URL       accepts, reads, never answers a byte
#                                 STALL_BODY_URL  answers headers and part of the body, then stalls
#                                 STALL_DRIP_URL  answers headers, then one body byte a second
#                                 STALL_LOG       one line per accepted connection: "MODE PORT"
#   stall_count [MODE]       connections accepted (by mode: silent, body, drip)
#   httpd_stop               stops everything started, removes the scratch folder; idempotent
#   HTTPD_TMP                scratch folder (config, keys, logs)
#
# Cleanup: the first start function arms it. With tests/lib/netns.sh already
# initialised (ns_init called first) it is one of ns_cleanup's hooks; otherwise
# it is this file's EXIT trap, and INT and TERM exit through it. A watchdog
# process also stops the servers and removes the scratch folder when the test's
# shell dies without running its traps (SIGKILL). Start the servers from the
# test's main shell, not inside $(...) or ( ): the trap belongs to that shell.
# Only processes started here are ever signalled: their recorded pids, and only
# while their command line still names this run's scratch folder.
#
# Addresses: 127.0.0.1 only, on free ports picked at start.
#
# Paths in the log: the request target without its query string, as sent by
# the client (not decoded). httpd_count /a/b.json counts "GET /a/b.json?x=1"
# too. nginx writes a log line once the response has been handed to the
# kernel; httpd_count gives it a moment, httpd_wait_count waits for a number.
#
# Log line (space separated, quoted fields cannot contain a double quote):
#   TIME PORT STATUS BYTES "REQUEST LINE" "If-None-Match" "If-Modified-Since" "User-Agent"
#
# Locations on every listener, besides the files of DOCROOT (ETag and
# Last-Modified on, If-Modified-Since compared "before": any date not older
# than the file's gives 304):
#   /status/NNN       NNN in 403 404 429 500 502 503: that status, a small HTML body
#                     (429 and 503 with Retry-After: 1)
#   /html200          DOCROOT/html200 if it exists, else a built-in HTML error page; 200
#   /empty            DOCROOT/empty if it exists, else an empty body; 200
#   /redirect/P       302 to /P on the same listener
#   /redirect-http/P  302 to $HTTPD_URL/P (plain HTTP, for downgrade tests)
#   /slow/P           DOCROOT/P sent at 16 KiB/s
# Content types by extension: .txt text/plain, .json application/json,
# .html text/html, .csv text/csv, .xml application/xml, else
# application/octet-stream.

HTTPD_TMP=""
HTTPD_PORT="" HTTPD_URL="" HTTPS_PORT="" HTTPS_URL="" HTTPS_BADCA_PORT="" HTTPS_BADCA_URL=""
HTTPD_CA="" HTTPD_BADCA="" HTTPD_LOG="" HTTPD_MARK=0
STALL_URL="" STALL_BODY_URL="" STALL_DRIP_URL="" STALL_LOG=""
HTTPD_NGINX=${HTTPD_NGINX:-/usr/sbin/nginx}
HTTPD_PIDS=()
HTTPD_WATCHDOG=""

# _httpd_init: scratch folder, cleanup arming, watchdog. Once per run.
_httpd_init() {
	[ -n "$HTTPD_TMP" ] && return 0
	HTTPD_TMP=$(mktemp -d /tmp/mxfhttpd.XXXXXX) || return 1
	mkdir -p "$HTTPD_TMP/tmp"
	if [ -n "${NS_RUN:-}" ] && declare -F ns_on_exit >/dev/null; then
		ns_on_exit httpd_stop
	else
		trap _httpd_on_exit EXIT
		trap 'exit 130' INT
		trap 'exit 143' TERM
	fi
	_httpd_watchdog
}

_httpd_on_exit() {
	local rc=$?
	trap - EXIT INT TERM
	httpd_stop
	exit $rc
}

# _httpd_ours PID: PID is alive and its command line names this run's scratch folder.
_httpd_ours() {
	local cmd
	[ -n "$HTTPD_TMP" ] && [ -r "/proc/$1/cmdline" ] || return 1
	cmd=$( { tr '\0' ' ' <"/proc/$1/cmdline"; } 2>/dev/null)
	case $cmd in *"$HTTPD_TMP"*) return 0 ;; esac
	return 1
}

# _httpd_alive PID: running, and not a zombie its parent has yet to reap. No fork.
_httpd_alive() {
	local stat
	read -r stat 2>/dev/null <"/proc/$1/stat" || return 1
	stat=${stat##*) }
	[ "${stat%% *}" != Z ]
}

# _httpd_watchdog: a shell that outlives a SIGKILLed test and then stops the
# servers. It forks nothing while it waits (read -t on a FIFO it holds open
# both ways), so stopping it leaves nothing behind.
_httpd_watchdog() {
	local owner=$$ dir=$HTTPD_TMP fifo=$HTTPD_TMP/watchdog.fifo
	mkfifo "$fifo" || return 1
	(
		exec </dev/null >/dev/null 2>&1 3<>"$fifo"
		trap - EXIT INT TERM
		while _httpd_alive "$owner"; do
			read -r -t 1 -u 3 _
		done
		for f in "$dir"/*.pid; do
			[ -r "$f" ] || continue
			read -r p <"$f" || continue
			case $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) in
			*"$dir"*) kill -KILL "$p" ;;
			esac
		done
		rm -rf "$dir"
	) &
	HTTPD_WATCHDOG=$!
}

# _httpd_free_ports N: N distinct unused TCP ports on 127.0.0.1, below the
# ephemeral range so outgoing connections do not take them meanwhile.
_httpd_free_ports() {
	local n=$1 picked=() p tries=0
	while [ ${#picked[@]} -lt "$n" ] && [ $tries -lt 200 ]; do
		tries=$((tries + 1))
		p=$((20000 + RANDOM % 12000))
		case " ${picked[*]} " in *" $p "*) continue ;; esac
		ss -ltnH "sport = :$p" 2>/dev/null | grep -q . && continue
		picked+=("$p")
	done
	[ ${#picked[@]} -eq "$n" ] || return 1
	echo "${picked[*]}"
}

# _httpd_listening PORT...: every PORT has a listener on 127.0.0.1.
_httpd_listening() {
	local p
	for p in "$@"; do
		ss -ltnH "src 127.0.0.1:$p" 2>/dev/null | grep -q . || return 1
	done
}

# _httpd_cert DIR NAME CA_NAME: a CA (DIR/CA_NAME.pem, .key) unless present,
# and a server certificate DIR/NAME.pem + .key it signs, valid for 127.0.0.1 and localhost.
_httpd_cert() {
	local d=$1 name=$2 ca=$3 log=$1/openssl.log
	if [ ! -s "$d/$ca.pem" ]; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
			-keyout "$d/$ca.key" -out "$d/$ca.pem" -days 7 \
			-subj "/O=mxfence tests/CN=mxfence $ca" \
			-addext "basicConstraints=critical,CA:TRUE" \
			-addext "keyUsage=critical,keyCertSign,cRLSign" >>"$log" 2>&1 || return 1
	fi
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-keyout "$d/$name.key" -out "$d/$name.csr" -subj "/O=mxfence tests/CN=127.0.0.1" >>"$log" 2>&1 || return 1
	cat >"$d/$name.ext" <<EXT
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1,DNS:localhost
EXT
	openssl x509 -req -in "$d/$name.csr" -CA "$d/$ca.pem" -CAkey "$d/$ca.key" -CAcreateserial \
		-days 7 -sha256 -extfile "$d/$name.ext" -out "$d/$name.pem" >>"$log" 2>&1
}

_httpd_conf() {
	local t=$HTTPD_TMP root=$1 http=$2 https=$3 bad=$4
	cat >"$t/locations.conf" <<LOC
location = /status/403 { default_type text/html; return 403 "<html><body><h1>403 Forbidden</h1></body></html>\n"; }
location = /status/404 { default_type text/html; return 404 "<html><body><h1>404 Not Found</h1></body></html>\n"; }
location = /status/429 {
	default_type text/html;
	add_header Retry-After 1 always;
	return 429 "<html><body><h1>429 Too Many Requests</h1></body></html>\n";
}
location = /status/500 { default_type text/html; return 500 "<html><body><h1>500 Internal Server Error</h1></body></html>\n"; }
location = /status/502 { default_type text/html; return 502 "<html><body><h1>502 Bad Gateway</h1></body></html>\n"; }
location = /status/503 {
	default_type text/html;
	add_header Retry-After 1 always;
	return 503 "<html><body><h1>503 Service Unavailable</h1></body></html>\n";
}
location = /html200 { default_type text/html; try_files \$uri @html200; }
location @html200 {
	default_type text/html;
	return 200 "<!DOCTYPE html>\n<html><head><title>Error</title></head><body><h1>Something went wrong</h1><p>Please try again later.</p></body></html>\n";
}
location = /empty { default_type text/plain; try_files \$uri @empty; }
location @empty { default_type text/plain; return 200 ""; }
location ~ ^/redirect(/.*)\$ { return 302 \$1\$is_args\$args; }
location ~ ^/redirect-http(/.*)\$ { return 302 http://127.0.0.1:$http\$1\$is_args\$args; }
location /slow/ { alias "$root/"; limit_rate 16k; }
LOC
	cat >"$t/nginx.conf" <<CONF
# mxfence test web server, generated by tests/lib/httpd.sh
daemon off;
master_process off;
pid "$t/nginx.pid";
error_log "$t/error.log" info;
events { worker_connections 256; }
http {
	types {
		text/plain txt;
		application/json json;
		text/html html htm;
		text/csv csv;
		application/xml xml;
	}
	default_type application/octet-stream;
	log_format mxfence '\$time_iso8601 \$server_port \$status \$body_bytes_sent "\$request" '
		'"\$http_if_none_match" "\$http_if_modified_since" "\$http_user_agent"';
	access_log "$t/access.log" mxfence;
	client_body_temp_path "$t/tmp/body";
	proxy_temp_path "$t/tmp/proxy";
	fastcgi_temp_path "$t/tmp/fastcgi";
	uwsgi_temp_path "$t/tmp/uwsgi";
	scgi_temp_path "$t/tmp/scgi";
	server_tokens off;
	sendfile on;
	etag on;
	if_modified_since before;
	keepalive_timeout 5s;
	ssl_protocols TLSv1.2 TLSv1.3;
	server {
		listen 127.0.0.1:$http;
		listen 127.0.0.1:$https ssl;
		ssl_certificate "$t/server.pem";
		ssl_certificate_key "$t/server.key";
		root "$root";
		include "$t/locations.conf";
	}
	server {
		listen 127.0.0.1:$bad ssl;
		ssl_certificate "$t/badserver.pem";
		ssl_certificate_key "$t/badserver.key";
		root "$root";
		include "$t/locations.conf";
	}
}
CONF
}

# httpd_start DOCROOT
httpd_start() {
	local root ports pid i http https bad
	if [ $# -ne 1 ] || [ ! -d "$1" ]; then
		echo "httpd_start: DOCROOT must be a folder" >&2
		return 1
	fi
	root=$(cd "$1" && pwd) || return 1
	case $root in *'"'* | *'$'* | *\\*) echo "httpd_start: unusable folder name: $root" >&2; return 1 ;; esac
	_httpd_init || return 1
	[ -n "$HTTPD_URL" ] && { echo "httpd_start: already running" >&2; return 1; }
	if [ ! -s "$HTTPD_TMP/server.pem" ]; then
		if ! _httpd_cert "$HTTPD_TMP" server ca || ! _httpd_cert "$HTTPD_TMP" badserver badca; then
			echo "httpd_start: openssl failed: $(tail -n 3 "$HTTPD_TMP/openssl.log")" >&2
			return 1
		fi
	fi
	for _ in 1 2 3 4 5; do
		ports=$(_httpd_free_ports 3) || continue
		read -r http https bad <<<"$ports"
		_httpd_conf "$root" "$http" "$https" "$bad"
		"$HTTPD_NGINX" -e "$HTTPD_TMP/error.log" -p "$HTTPD_TMP/" -c "$HTTPD_TMP/nginx.conf" \
			</dev/null >>"$HTTPD_TMP/nginx.out" 2>&1 &
		pid=$!
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			_httpd_listening "$http" "$https" "$bad" && break
			sleep 0.05
		done
		if kill -0 "$pid" 2>/dev/null && _httpd_listening "$http" "$https" "$bad"; then
			HTTPD_PIDS+=("$pid")
			echo "$pid" >"$HTTPD_TMP/httpd.pid"
			HTTPD_PORT=$http HTTPS_PORT=$https HTTPS_BADCA_PORT=$bad
			HTTPD_URL="http://127.0.0.1:$http"
			HTTPS_URL="https://127.0.0.1:$https"
			HTTPS_BADCA_URL="https://127.0.0.1:$bad"
			HTTPD_CA=$HTTPD_TMP/ca.pem
			HTTPD_BADCA=$HTTPD_TMP/badca.pem
			HTTPD_LOG=$HTTPD_TMP/access.log
			HTTPD_MARK=0
			: >>"$HTTPD_LOG"
			return 0
		fi
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# Port taken meanwhile: another try with other ports; anything else is final.
		grep -q 'Address already in use' "$HTTPD_TMP/error.log" "$HTTPD_TMP/nginx.out" 2>/dev/null || break
		: >"$HTTPD_TMP/error.log"
	done
	echo "httpd_start: nginx did not start: $(tail -n 3 "$HTTPD_TMP/error.log" "$HTTPD_TMP/nginx.out" 2>/dev/null)" >&2
	return 1
}

# _httpd_count SKIP PATH [STATUS]: requests for PATH among the log lines after the first SKIP.
_httpd_count() {
	local skip=$1 path=$2 status=${3:-}
	[ -r "$HTTPD_LOG" ] || { echo 0; return 1; }
	awk -F'"' -v skip="$skip" -v path="$path" -v status="$status" '
	NR <= skip { next }
	{
		split($2, req, " "); target = req[2]; sub(/\?.*/, "", target)
		split($1, head, " ")
		if (target == path && (status == "" || head[3] == status)) n++
	}
	END { print n + 0 }' "$HTTPD_LOG"
}

httpd_count() {
	sleep 0.05
	_httpd_count 0 "$@"
}

httpd_log_mark() {
	HTTPD_MARK=$(wc -l <"$HTTPD_LOG")
}

httpd_count_since() {
	sleep 0.05
	_httpd_count "$HTTPD_MARK" "$@"
}

# httpd_wait_count PATH N [SECS]: until the whole log holds at least N requests
# for PATH (default 5 s); prints the count, fails on timeout.
httpd_wait_count() {
	local path=$1 want=$2 secs=${3:-5} n i
	for ((i = 0; i <= secs * 20; i++)); do
		n=$(_httpd_count 0 "$path")
		[ "$n" -ge "$want" ] && { echo "$n"; return 0; }
		sleep 0.05
	done
	echo "$n"
	return 1
}

_httpd_stall_py() {
	cat <<'PY'
# mxfence test server that accepts connections and stalls (tests/lib/httpd.sh).
import os, selectors, socket, sys, threading, time

scratch = sys.argv[1]
log = open(os.path.join(scratch, "stall.log"), "a", buffering=1)
lock = threading.Lock()

def read_head(c):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = c.recv(4096)
        if not chunk:
            return False
        data += chunk
    return True

def hold(c):
    # Keep the connection open until the client goes away.
    while c.recv(4096):
        pass

def serve(c, mode):
    try:
        if mode == "silent":
            hold(c)
            return
        if not read_head(c):
            return
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1048576\r\n\r\n"
        if mode == "body":
            c.sendall(head + b"192.0.2.0/24\n" * 64)
            hold(c)
        else:
            c.sendall(head)
            while True:
                c.sendall(b"#")
                time.sleep(1)
    except OSError:
        pass
    finally:
        c.close()

sel = selectors.DefaultSelector()
ports = []
for mode in ("silent", "body", "drip"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(64)
    sel.register(s, selectors.EVENT_READ, mode)
    ports.append(str(s.getsockname()[1]))
tmp = os.path.join(scratch, "stall.ports.tmp")
with open(tmp, "w") as f:
    f.write(" ".join(ports) + "\n")
os.rename(tmp, os.path.join(scratch, "stall.ports"))
while True:
    for key, _ in sel.select():
        c, _ = key.fileobj.accept()
        with lock:
            log.write("%s %d\n" % (key.data, key.fileobj.getsockname()[1]))
        threading.Thread(target=serve, args=(c, key.data), daemon=True).start()
PY
}

# stall_start: the stalling server, three listeners (see the header).
stall_start() {
	local pid i silent body drip
	_httpd_init || return 1
	[ -n "$STALL_URL" ] && { echo "stall_start: already running" >&2; return 1; }
	_httpd_stall_py >"$HTTPD_TMP/stall.py"
	rm -f "$HTTPD_TMP/stall.ports"
	python3 "$HTTPD_TMP/stall.py" "$HTTPD_TMP" </dev/null >>"$HTTPD_TMP/stall.out" 2>&1 &
	pid=$!
	HTTPD_PIDS+=("$pid")
	echo "$pid" >"$HTTPD_TMP/stall.pid"
	for ((i = 0; i < 200; i++)); do
		[ -s "$HTTPD_TMP/stall.ports" ] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if ! read -r silent body drip <"$HTTPD_TMP/stall.ports" 2>/dev/null || [ -z "$drip" ]; then
		echo "stall_start: server did not start: $(tail -n 3 "$HTTPD_TMP/stall.out")" >&2
		return 1
	fi
	STALL_URL="http://127.0.0.1:$silent/"
	STALL_BODY_URL="http://127.0.0.1:$body/"
	STALL_DRIP_URL="http://127.0.0.1:$drip/"
	STALL_LOG=$HTTPD_TMP/stall.log
	: >>"$STALL_LOG"
}

# stall_count [MODE]
stall_count() {
	if [ -n "${1:-}" ]; then
		awk -v m="$1" '$1 == m { n++ } END { print n + 0 }' "$STALL_LOG"
	else
		awk 'END { print NR }' "$STALL_LOG"
	fi
}

httpd_stop() {
	local p
	for p in "${HTTPD_PIDS[@]}"; do
		_httpd_ours "$p" && kill -TERM "$p" 2>/dev/null
	done
	for p in "${HTTPD_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
			_httpd_ours "$p" || break
			sleep 0.05
		done
		_httpd_ours "$p" && kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	HTTPD_PIDS=()
	if [ -n "$HTTPD_WATCHDOG" ]; then
		kill -KILL "$HTTPD_WATCHDOG" 2>/dev/null
		wait "$HTTPD_WATCHDOG" 2>/dev/null
		HTTPD_WATCHDOG=""
	fi
	[ -n "$HTTPD_TMP" ] && rm -rf "$HTTPD_TMP"
	HTTPD_TMP=""
	HTTPD_PORT="" HTTPD_URL="" HTTPS_PORT="" HTTPS_URL="" HTTPS_BADCA_PORT="" HTTPS_BADCA_URL=""
	STALL_URL="" STALL_BODY_URL="" STALL_DRIP_URL=""
	return 0
}
