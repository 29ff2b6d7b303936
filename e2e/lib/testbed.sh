# SPDX-License-Identifier: Apache-2.0
# shellcheck shell=bash
#
# The e2e testbed: a Debian 13 machine (systemd 257, Podman 5.4 with Quadlet) booted under
# systemd-nspawn on a host that has neither systemd as PID 1 nor a recent Podman.
#
#   $TB_DIR/trixie          the cached rootfs (debootstrap); never modified by a run
#   $TB_DIR/trixie.stamp    the package list the rootfs was verified to contain
#   $TB_DIR/images/         cached image tarballs (tools/build-test-images, tools/build-sidecar-image)
#   $TB_DIR/run/            one run: overlayfs view of the rootfs (upper/work/root), Podman storage and
#                           /home on the real file system (overlay on overlay does not work), nspawn pid
#
# A run mounts a throw-away overlay of the rootfs, installs the openshell build into it, boots it once
# (tb_up), and tb_down powers it off and removes everything the run created. The machine has a private
# network namespace: containers, networks, nftables rules and veths all die with it, and no packet can
# leave the host. Source this file; functions are prefixed tb_.

TB_DIR=${OPENSHELL_TESTBED:-/var/tmp/openshell-testbed}
TB_ROOTFS=$TB_DIR/trixie
TB_STAMP=$TB_DIR/trixie.stamp
TB_IMAGES=$TB_DIR/images
TB_RUN=$TB_DIR/run
TB_MACHINE=openshell-e2e
TB_MIRROR=${OPENSHELL_DEBIAN_MIRROR:-http://deb.debian.org/debian}
TB_SUITE=trixie
TB_USER=sbx
TB_UID=1000
# Where the source tree and the image tarballs appear inside the machine (read-only).
TB_SRC_IN=/usr/src/openshell
TB_IMAGES_IN=/srv/openshell-images

# The rootfs: what the testbed itself needs (debootstrap --include) ...
TB_BASE_PKGS="systemd systemd-sysv dbus podman crun conmon netavark aardvark-dns iptables iproute2
busybox-static nftables libpam-systemd dbus-user-session uidmap passt procps curl ca-certificates"
# ... plus the runtime libraries our binaries load (tb_check_libs names any that is missing) and the
# tools of the test "internet" (dnsmasq-base: its DNS server) and slirp4netns, the rootless network
# e2e/test-gateway-slirp4netns.sh runs under instead of pasta.
TB_EXTRA_PKGS="libcjson1 libnl-3-200 libnl-route-3-200 libcurl4t64 libyaml-0-2 libssl3t64 dnsmasq-base slirp4netns"

# The "internet" of the e2e tests: a network namespace osinet inside the machine.
TB_INET_HOST=198.18.0.1
TB_INET_SERVER=198.18.0.10
TB_INET_NAME=testserver.openshell.test
TB_HOSTSRV_PORT=18080

tb_log() { printf 'testbed: %s\n' "$*" >&2; }
tb_die() { tb_log "$*"; return 1; }

tb_pkg_list() { printf '%s\n' $TB_BASE_PKGS $TB_EXTRA_PKGS | sort -u; }

# ---- host ------------------------------------------------------------------------------------------

# One-time fixes this host kind needs (Debian 12, PID 1 not systemd, cgroup v1 hybrid).
tb_host_prep() {
        local c
        command -v iptables >/dev/null || tb_die "iptables missing: run tools/install-deps" || return
        command -v systemd-nspawn >/dev/null || tb_die "systemd-nspawn missing: run tools/install-deps" || return
        # crun refuses hybrid mode while any controller sits on cgroup2: move them to v1 hierarchies.
        for c in $(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null); do
                mkdir -p "/sys/fs/cgroup/$c"
                mountpoint -q "/sys/fs/cgroup/$c" || mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" ||
                        return
        done
        # Rootless networking (pasta) and fuse need these world-accessible.
        chmod 666 /dev/net/tun /dev/fuse 2>/dev/null || true
        mkdir -p "$TB_DIR" "$TB_IMAGES"
}

# ---- rootfs ----------------------------------------------------------------------------------------

tb_chroot_apt() {
        local root=$1; shift
        local r=0
        mount -t proc proc "$root/proc" || return
        cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
        chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin DEBIAN_FRONTEND=noninteractive \
                apt-get -q -y -o Dpkg::Use-Pty=0 "$@" </dev/null || r=$?
        umount "$root/proc"
        return $r
}

# Packages of the list that are not installed in the rootfs, one per line.
tb_rootfs_missing() {
        local p
        for p in $(tb_pkg_list); do
                chroot "$TB_ROOTFS" dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null |
                        grep -q 'install ok installed' || echo "$p"
        done
}

tb_rootfs_build() {
        local tmp=$TB_ROOTFS.new
        rm -rf "$tmp"
        tb_log "debootstrap $TB_SUITE into $tmp (2-3 minutes, cached afterwards)"
        debootstrap --variant=minbase --include="$(echo $TB_BASE_PKGS | tr ' ' ,)" \
                "$TB_SUITE" "$tmp" "$TB_MIRROR" >"$TB_DIR/debootstrap.log" 2>&1 ||
                tb_die "debootstrap failed: see $TB_DIR/debootstrap.log" || return
        rm -rf "$TB_ROOTFS"
        mv "$tmp" "$TB_ROOTFS"
}

# Make sure the cached rootfs holds exactly what the package list says, honestly: the stamp is the list
# the rootfs was last verified against. Added packages are installed in place; a removed package or a
# missing/corrupt rootfs means a rebuild from scratch.
tb_rootfs_ensure() {
        local want have missing
        want=$(tb_pkg_list)
        have=$(cat "$TB_STAMP" 2>/dev/null || true)
        [ -n "$have" ] && [ "$have" = "$want" ] && [ -x "$TB_ROOTFS/usr/libexec/podman/quadlet" ] && return 0

        if [ ! -x "$TB_ROOTFS/usr/libexec/podman/quadlet" ] ||
           { [ -n "$have" ] && [ -n "$(comm -23 <(echo "$have") <(echo "$want"))" ]; }; then
                rm -f "$TB_STAMP"
                tb_rootfs_build || return
        fi
        missing=$(tb_rootfs_missing)
        if [ -n "$missing" ]; then
                tb_log "installing into the cached rootfs: $(echo $missing)"
                { tb_chroot_apt "$TB_ROOTFS" update && tb_chroot_apt "$TB_ROOTFS" install --no-install-recommends $missing &&
                  tb_chroot_apt "$TB_ROOTFS" clean; } >"$TB_DIR/rootfs-apt.log" 2>&1 ||
                        tb_die "apt-get in the rootfs failed: see $TB_DIR/rootfs-apt.log" || return
                rm -rf "$TB_ROOTFS"/var/lib/apt/lists/*
        fi
        missing=$(tb_rootfs_missing)
        [ -z "$missing" ] || tb_die "rootfs still lacks: $(echo $missing)" || return
        echo "$want" >"$TB_STAMP"
}

# ---- one run ---------------------------------------------------------------------------------------

tb_pid() { cat "$TB_RUN/nspawn.pid" 2>/dev/null; }

# PID of the machine's systemd (PID 1 inside), empty when the machine is not running.
tb_leader() {
        local p
        p=$(tb_pid) || return 1
        [ -n "$p" ] && kill -0 "$p" 2>/dev/null || return 1
        pgrep -P "$p" -x systemd | head -n1
}

tb_booted() { [ -n "$(tb_leader 2>/dev/null)" ]; }

# Run a command inside the machine as a transient unit (a proper cgroup: nested `podman exec` needs it).
# stdin/stdout/stderr are passed through and the exit status is the command's.
tb_exec() {
        local l
        l=$(tb_leader) && [ -n "$l" ] || { echo "testbed: machine not running" >&2; return 125; }
        nsenter -t "$l" -a /usr/bin/systemd-run --quiet --pipe --wait --collect --service-type=exec \
                -p StandardInput=null -- "$@"
}

# Same with stdin passed through (for `tb_exec_in sh -c '...' <file`).
tb_exec_in() {
        local l
        l=$(tb_leader) && [ -n "$l" ] || { echo "testbed: machine not running" >&2; return 125; }
        nsenter -t "$l" -a /usr/bin/systemd-run --quiet --pipe --wait --collect --service-type=exec -- "$@"
}

# Plain nsenter: for systemctl/journalctl and before PID 1 is fully up.
tb_raw() {
        local l
        l=$(tb_leader) && [ -n "$l" ] || { echo "testbed: machine not running" >&2; return 125; }
        nsenter -t "$l" -a env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                HOME=/root "$@" </dev/null
}

# As the lingering rootless user, with its user manager's environment.
tb_user() {
        tb_exec runuser -u "$TB_USER" -- env HOME="/home/$TB_USER" USER="$TB_USER" \
                XDG_RUNTIME_DIR="/run/user/$TB_UID" \
                DBUS_SESSION_BUS_ADDRESS="unix:path=/run/user/$TB_UID/bus" "$@"
}

# Write the machine configuration into the run's view of the rootfs (never into the cached rootfs).
tb_prep_root() {
        local root=$1 src=$2
        echo "$TB_MACHINE" >"$root/etc/hostname"
        # libkmod cannot load modules in a container: the unit would only fail.
        ln -sf /dev/null "$root/etc/systemd/system/systemd-modules-load.service"
        mkdir -p "$root/etc/containers" "$root/var/lib/containers" "$root/home" \
                "$root/$TB_SRC_IN" "$root/$TB_IMAGES_IN"
        cat >"$root/etc/containers/containers.conf" <<-'EOC'
	[containers]
	# the host lacks CAP_SYS_RESOURCE: stay within the inherited hard limits
	default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
	# the machine's cgroup2 has no controllers (they are bound to the host's v1 hierarchies)
	pids_limit = 0
	[network]
	default_rootless_network_cmd = "pasta"
	EOC
        # DNS: a resolver inside the machine's "internet" (osinet), never a real one.
        rm -f "$root/etc/resolv.conf"
        echo "nameserver $TB_INET_SERVER" >"$root/etc/resolv.conf"
        tb_prep_user "$root" || return
        tb_prep_units "$root" "$src"
}

tb_prep_user() {
        local root=$1
        if ! chroot "$root" getent passwd "$TB_USER" >/dev/null; then
                chroot "$root" useradd -u "$TB_UID" -U -M -d "/home/$TB_USER" -s /bin/sh "$TB_USER" || return
        fi
        echo "$TB_USER:100000:65536" >"$root/etc/subuid"
        echo "$TB_USER:100000:65536" >"$root/etc/subgid"
        mkdir -p "$root/var/lib/systemd/linger"
        : >"$root/var/lib/systemd/linger/$TB_USER"
        # /home is bind-mounted from the real fs (rootless Podman storage must not sit on overlayfs)
        mkdir -p "$TB_RUN/home/$TB_USER/.config" "$TB_RUN/home/$TB_USER/.local/share/containers"
        chown -R "$TB_UID:$TB_UID" "$TB_RUN/home/$TB_USER"
}

# The test "internet" (osinet netns with an HTTP server and a DNS server) and a host service.
tb_prep_units() {
        local root=$1 src=$2 u
        u=$root/etc/systemd/system
        install -D -m 0644 "$src/e2e/testbed/osinet.service" "$u/osinet.service"
        install -D -m 0644 "$src/e2e/testbed/hostsrv.service" "$u/hostsrv.service"
        install -D -m 0755 "$src/e2e/testbed/osinet-setup" "$root/usr/local/libexec/osinet-setup"
        mkdir -p "$u/multi-user.target.wants"
        ln -sf ../osinet.service "$u/multi-user.target.wants/osinet.service"
        ln -sf ../hostsrv.service "$u/multi-user.target.wants/hostsrv.service"
        mkdir -p "$root/srv/osinet/www" "$root/srv/hostsrv/www"
        echo "hello-from-testserver" >"$root/srv/osinet/www/index.html"
        echo "hello-from-host-service" >"$root/srv/hostsrv/www/index.html"
}

# Fail, naming the library, when an installed binary needs a shared library the rootfs lacks.
tb_check_libs() {
        local root=$1 f out bad=0
        for f in $(tb_openshell_binaries "$root"); do
                out=$(chroot "$root" /usr/bin/ldd "${f#"$root"}" 2>&1 | grep 'not found') || continue
                tb_log "${f#"$root"} needs a library the rootfs lacks (add its package to TB_EXTRA_PKGS): $out"
                bad=1
        done
        return $bad
}

# Every openshell executable installed under ROOT (full host paths).
tb_openshell_binaries() {
        find "$1/usr/bin" "$1/usr/libexec" "$1/usr/lib/systemd" -type f -name 'openshell*' -perm -u+x \
                2>/dev/null | sort
}

tb_mounts_under() { awk -v p="$1" '$2 == p || index($2, p "/") == 1 { print $2 }' /proc/self/mounts; }

# Wait until the machine's systemd reports running (or degraded: print what failed).
tb_wait_running() {
        local i s=
        for i in $(seq 1 240); do
                s=$(tb_raw systemctl is-system-running 2>/dev/null) || true
                case $s in running|degraded) break ;; esac
                sleep 0.25
        done
        case $s in
        running) return 0 ;;
        degraded) tb_log "machine is degraded:"; tb_raw systemctl --failed --no-pager >&2; return 0 ;;
        *) tb_die "machine did not boot (state '$s'), see $TB_RUN/nspawn.log" ;;
        esac
}

tb_boot() {
        local src=$1
        SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1 setsid systemd-nspawn -b -q -D "$TB_RUN/root" -M "$TB_MACHINE" \
                --register=no --keep-unit --private-network --resolv-conf=off --timezone=off \
                --capability=all --console=pipe \
                `# nspawn's default filter refuses Landlock (EPERM): the supervisor tests need it` \
                --system-call-filter="@keyring bpf landlock_create_ruleset landlock_add_rule landlock_restrict_self" \
                --bind="$TB_RUN/storage:/var/lib/containers" --bind="$TB_RUN/home:/home" \
                --bind-ro="$src:$TB_SRC_IN" --bind-ro="$TB_IMAGES:$TB_IMAGES_IN" \
                </dev/null >"$TB_RUN/nspawn.log" 2>&1 &
        echo $! >"$TB_RUN/nspawn.pid"
        local i
        for i in $(seq 1 100); do
                tb_booted && break
                kill -0 "$(tb_pid)" 2>/dev/null || tb_die "systemd-nspawn exited: $(tail -5 "$TB_RUN/nspawn.log")" || return
                sleep 0.1
        done
        tb_wait_running
}

# Import the test images and build the sidecar image from the installed binaries, in the machine's
# rootful and rootless storage (both in parallel), as docs/install.md tells users to.
tb_import_images() {
        local t=$TB_SRC_IN/tools d=$TB_IMAGES_IN r1=0 r2=0 p1 p2 bins sc
        bins=$(tb_openshell_binaries "$TB_RUN/root" | grep -E '/openshell-(proxy|sandbox)$' |
                sed "s|^$TB_RUN/root||" | tr '\n' ' ')
        sc=/usr/libexec/openshell/openshell-build-sidecar-image
        [ -x "$TB_RUN/root$sc" ] || sc=$t/build-sidecar-image
        [ -n "$bins" ] || tb_log "WARNING: the build installs no openshell-proxy/openshell-sandbox: no sidecar image"
        local script="set -e; cd /tmp; $t/build-test-images --dir $d --import-only >/dev/null
                if [ -n '$bins' ]; then $sc $bins >/dev/null; fi"
        tb_exec sh -c "$script" & p1=$!
        tb_user sh -c "$script" & p2=$!
        wait $p1 || r1=$?
        wait $p2 || r2=$?
        [ $r1 = 0 ] || tb_die "importing images (rootful) failed" || return
        [ $r2 = 0 ] || tb_die "importing images (rootless) failed"
}

# Wait for the lingering user's manager (systemctl --user needs it).
tb_wait_user() {
        local i
        for i in $(seq 1 120); do
                [ "$(tb_raw systemctl is-active "user@$TB_UID.service" 2>/dev/null)" = active ] &&
                        tb_raw test -S "/run/user/$TB_UID/bus" && return 0
                sleep 0.25
        done
        tb_die "user@$TB_UID.service did not start"
}

# tb_up SRCDIR BUILDDIR: prepare, install BUILDDIR (configured with --prefix=/usr --sysconfdir=/etc
# --localstatedir=/var) into a fresh view of the rootfs, build the images, boot once.
# Install the meson build BUILD into the run's root (the overlay view the machine runs on).
tb_install_build() {
        DESTDIR= meson install -C "$1" --destdir "$TB_RUN/root" --no-rebuild --quiet >"$TB_RUN/install.log" 2>&1 ||
                tb_die "meson install failed: $(tail -5 "$TB_RUN/install.log")"
}

tb_up() {
        local src=$1 build=$2
        [ "$(id -u)" = 0 ] || tb_die "the testbed needs root" || return
        tb_booted && tb_die "a testbed run is already booted ($TB_RUN); tools/testbed down first" && return 1
        tb_down >/dev/null 2>&1 || true
        tb_host_prep || return
        tb_rootfs_ensure || return
        mkdir -p "$TB_RUN"/{upper,work,root,storage,home} || return
        mount -t overlay overlay -o "lowerdir=$TB_ROOTFS,upperdir=$TB_RUN/upper,workdir=$TB_RUN/work" \
                "$TB_RUN/root" || tb_die "cannot mount the overlay view of $TB_ROOTFS" || return
        tb_prep_root "$TB_RUN/root" "$src" || return
        tb_install_build "$build" || return
        tb_check_libs "$TB_RUN/root" || return
        "$src/tools/build-test-images" --dir "$TB_IMAGES" >/dev/null || return
        tb_boot "$src" || return
        tb_wait_user || return
        # The machine's network is static (set up before boot) and nothing pulls in network-online.target,
        # while Quadlet's user units wait for it (podman-user-wait-network-online.service, up to 90 s):
        # reach it once, as a host's wait-online service does at boot (docs/troubleshooting.md).
        tb_raw systemctl start network-online.target || return
        tb_import_images
}

# Install BUILD into the booted machine again (through the overlay view it runs on), reload both
# managers and rebuild the images: a development loop without a reboot. Running sandboxes keep their
# old binaries until restarted.
tb_reinstall() {
        local src=$1 build=$2
        tb_booted || tb_die "no testbed run is booted" || return
        tb_install_build "$build" || return
        tb_raw systemctl daemon-reload || return
        tb_user systemctl --user daemon-reload || return
        tb_import_images
}

# Power the machine off and remove everything the run created. Safe to call when nothing runs.
tb_down() {
        local p i m
        p=$(tb_pid) || true
        if [ -n "$p" ] && kill -0 "$p" 2>/dev/null; then
                if tb_booted; then
                        tb_raw journalctl -b --no-pager -o short-monotonic >"$TB_DIR/last-journal.log" 2>&1 || true
                        tb_raw systemctl poweroff >/dev/null 2>&1 || true
                fi
                for i in $(seq 1 300); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
                kill -0 "$p" 2>/dev/null && { tb_log "poweroff timed out, killing nspawn"; kill -KILL "$p"; sleep 1; }
        fi
        [ -f "$TB_RUN/nspawn.log" ] && cp "$TB_RUN/nspawn.log" "$TB_DIR/last-nspawn.log"
        for m in $(tb_mounts_under "$TB_RUN" | sort -r); do
                umount "$m" 2>/dev/null || umount -l "$m"
        done
        [ -z "$(tb_mounts_under "$TB_RUN")" ] || tb_die "mounts left under $TB_RUN, not removing it" || return
        rm -rf "$TB_RUN"
}
