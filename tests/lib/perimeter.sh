# shellcheck shell=bash
# The perimeter topology of tests/packets/perimeter.sh: clients, a gateway that
# routes and DNATs, a mail server behind it and a Docker-style container.
#
#  +---------- client -----------+      +------------------------ gw ------------------------+
#  | cl0 198.51.100.10 (relay)   |      | gw0 198.51.100.1      203.0.113.1 (admin DNAT      |
#  |     198.51.100.20 (denied)  | veth |     2001:db8:c::1        -> 192.0.2.25:25)        |
#  |     198.51.100.30 (internet |------|                       203.0.113.2 (Docker DNAT     |
#  |      host: smtp-sink :25)   |      |                          -> 192.0.2.130:25)       |
#  |     2001:db8:c::10 (relay)  |      |                       2001:db8:e::1 (DNAT ->      |
#  |     2001:db8:c::20 (denied) |      |                          [2001:db8:5::25]:25)     |
#  |     2001:db8:c::30 (internet)|     | gw1 192.0.2.1/26  2001:db8:5::1/64  (to srv)        |
#  +-----------------------------+      | docker0 bridge 192.0.2.129/25 (to ctr)             |
#                                       | smtp-sink on 198.51.100.1:25 (the gateway's own)  |
#                                       +--------+------------------------------+-----------+
#                                            veth|                         veth |(bridged)
#  +---------- srv ------------------------------+-+    +------------ ctr ------+-----------+
#  | sv0 192.0.2.25/26  2001:db8:5::25/64            |    | eth0 192.0.2.130/25                |
#  | smtp-sink on :25; default route via the gw      |    | smtp-sink on :25; default via .129 |
#  +-------------------------------------------------+    +------------------------------------+
#
# Only documentation addresses and loopback. The gateway forwards, has an admin
# nat table (table ip adminnat / ip6 adminnat) and Docker's own shapes: table ip
# nat with chains PREROUTING -> DOCKER (DNAT) and POSTROUTING (MASQUERADE of
# the container network), table ip filter with FORWARD -> DOCKER-USER,
# DOCKER-FORWARD. Everything is accepted before mxfence is loaded.

PERIM_SRV4=192.0.2.25
PERIM_SRV6=2001:db8:5::25
PERIM_CTR4=192.0.2.130
PERIM_PUB_ADMIN=203.0.113.1
PERIM_PUB_DOCKER=203.0.113.2
PERIM_PUB6=2001:db8:e::1
PERIM_GW4=198.51.100.1
PERIM_NET4=198.51.100.30
PERIM_NET6=2001:db8:c::30

# perim_setup LOGDIR: builds the namespaces client, gw, srv, ctr and starts the
# SMTP servers. Needs tests/lib/netns.sh (ns_init done).
perim_setup() {
	local d=$1
	ns_add client && ns_add gw && ns_add srv && ns_add ctr || return 1
	ns_veth gw gw0 client cl0 && ns_veth gw gw1 srv sv0 && ns_veth gw vctr ctr eth0 || return 1
	ns_addr client cl0 198.51.100.10/24 198.51.100.20/24 $PERIM_NET4/24 \
		2001:db8:c::10/64 2001:db8:c::20/64 $PERIM_NET6/64 || return 1
	ns_addr gw gw0 $PERIM_GW4/24 $PERIM_PUB_ADMIN/32 $PERIM_PUB_DOCKER/32 2001:db8:c::1/64 \
		$PERIM_PUB6/128 || return 1
	ns_addr gw gw1 192.0.2.1/26 2001:db8:5::1/64 || return 1
	ns_addr srv sv0 $PERIM_SRV4/26 $PERIM_SRV6/64 || return 1
	ns_exec gw ip link add docker0 type bridge &&
		ns_exec gw ip link set docker0 up &&
		ns_exec gw ip link set vctr master docker0 &&
		ns_addr gw docker0 192.0.2.129/25 &&
		ns_addr ctr eth0 $PERIM_CTR4/25 || return 1
	# The client's side: the public addresses are reached through the gateway.
	ns_exec client ip route add 203.0.113.0/24 via $PERIM_GW4 &&
		ns_exec client ip route add 192.0.2.0/24 via $PERIM_GW4 &&
		ns_exec client ip -6 route add 2001:db8:5::/64 via 2001:db8:c::1 &&
		ns_exec client ip -6 route add 2001:db8:e::/64 via 2001:db8:c::1 || return 1
	ns_exec srv ip route add default via 192.0.2.1 &&
		ns_exec srv ip -6 route add default via 2001:db8:5::1 &&
		ns_exec ctr ip route add default via 192.0.2.129 || return 1
	ns_exec gw sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 || return 1
	# The administrator's nat table, and Docker's (as iptables-nft writes it).
	ns_exec gw nft -f - <<EOF || return 1
table ip adminnat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr $PERIM_PUB_ADMIN tcp dport 25 dnat to $PERIM_SRV4:25
	}
}
table ip6 adminnat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		ip6 daddr $PERIM_PUB6 tcp dport 25 dnat to [$PERIM_SRV6]:25
	}
}
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter jump DOCKER
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		oifname != "docker0" ip saddr 192.0.2.128/25 counter masquerade
	}
	chain DOCKER {
		iifname "docker0" counter return
		ip daddr $PERIM_PUB_DOCKER iifname != "docker0" tcp dport 25 counter dnat to $PERIM_CTR4:25
	}
}
table ip filter {
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
		counter jump DOCKER-FORWARD
		counter accept
	}
	chain DOCKER-USER {
		counter return
	}
	chain DOCKER-FORWARD {
		oifname "docker0" ct state related,established counter accept
		oifname "docker0" ip daddr $PERIM_CTR4 tcp dport 25 counter accept
		iifname "docker0" counter accept
	}
}
EOF
	local a
	ns_spawn client "$d/sink-net4.log" smtp-sink -u nobody "$PERIM_NET4:25" 64
	ns_spawn client "$d/sink-net6.log" smtp-sink -u nobody "[$PERIM_NET6]:25" 64
	ns_spawn gw "$d/sink-gw.log" smtp-sink -u nobody "$PERIM_GW4:25" 64
	for a in $PERIM_SRV4 "[$PERIM_SRV6]"; do
		ns_spawn srv "$d/sink-srv-${a//[^0-9a-f.]/}.log" smtp-sink -u nobody "$a:25" 64
	done
	ns_spawn ctr "$d/sink-ctr.log" smtp-sink -u nobody "$PERIM_CTR4:25" 64
	ns_wait_listen client tcp $PERIM_NET4 25 && ns_wait_listen client tcp $PERIM_NET6 25 &&
		ns_wait_listen gw tcp $PERIM_GW4 25 && ns_wait_listen srv tcp $PERIM_SRV4 25 &&
		ns_wait_listen srv tcp $PERIM_SRV6 25 && ns_wait_listen ctr tcp $PERIM_CTR4 25
}

