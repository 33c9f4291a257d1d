#!/usr/bin/env bash
# Builds a local `debian:bookworm-slim` image for machines that cannot pull
# from a registry: a minimal Debian bookworm rootfs made with debootstrap
# (minbase variant) from a Debian mirror that apt on this machine can reach,
# slimmed like the official image, then `docker import`ed.
#
#   deploy/docker/build-base.sh            build it only if the image is absent
#   deploy/docker/build-base.sh --force    rebuild it
#
# Environment: Q53_DEBIAN_MIRROR (default http://deb.debian.org/debian),
# Q53_BASE_IMAGE (default debian:bookworm-slim). Run as root (debootstrap).
# Fallback when the mirror is unreachable but apt works (proxy / local
# repository): mmdebstrap, which downloads through the host's apt setup.
set -euo pipefail

image=${Q53_BASE_IMAGE:-debian:bookworm-slim}
mirror=${Q53_DEBIAN_MIRROR:-http://deb.debian.org/debian}
force=0
[ "${1:-}" = --force ] && force=1

if [ "$force" = 0 ] && docker image inspect "$image" >/dev/null 2>&1; then
  echo "build-base: $image already present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "build-base: need root for debootstrap (re-run with sudo)" >&2
  exit 1
fi

work=$(mktemp -d /var/tmp/q53-base.XXXXXX)
trap 'rm -rf --one-file-system "$work"' EXIT
root=$work/rootfs

need() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "build-base: installing $2"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

made=0
if curl -fsS --max-time 20 -o /dev/null "$mirror/dists/bookworm/Release" 2>/dev/null \
   || wget -q -T 20 -O /dev/null "$mirror/dists/bookworm/Release" 2>/dev/null; then
  need debootstrap debootstrap
  echo "build-base: debootstrap --variant=minbase bookworm from $mirror (a few minutes)"
  if debootstrap --variant=minbase --no-check-gpg bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1; then
    made=1
  else
    echo "build-base: debootstrap failed; last lines:" >&2
    tail -5 "$work/debootstrap.log" >&2
    rm -rf --one-file-system "$root"
  fi
else
  echo "build-base: $mirror unreachable directly"
fi
if [ "$made" = 0 ]; then
  need mmdebstrap mmdebstrap
  echo "build-base: mmdebstrap --variant=minbase bookworm through the host's apt setup"
  mmdebstrap --variant=minbase bookworm "$root" >"$work/mmdebstrap.log" 2>&1 || {
    echo "build-base: mmdebstrap failed too; last lines:" >&2
    tail -5 "$work/mmdebstrap.log" >&2
    exit 1
  }
fi

# Make it look like the official slim image: deb822 sources, no caches, no
# docs/man pages/locales, apt that keeps no package files.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'CONF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
CONF
cat >"$root/etc/apt/apt.conf.d/docker-no-languages" <<'CONF'
Acquire::Languages "none";
CONF
cat >"$root/etc/dpkg/dpkg.cfg.d/docker-excludes" <<'CONF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/lintian/*
CONF
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
       "$root"/var/cache/apt/archives/*.deb "$root"/var/log/*.log \
       "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/usr/share/locale/* \
       "$root"/tmp/* "$root"/dev/* 2>/dev/null || true
find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
: >"$root/etc/machine-id"
echo 'bookworm-slim-local' >"$root/etc/hostname"

echo "build-base: importing as $image"
tar --numeric-owner -C "$root" -c . \
  | docker import \
      --change 'CMD ["bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --message "quorum53 deploy/docker/build-base.sh: debootstrap minbase bookworm" \
      - "$image" >/dev/null
docker image ls "$image"
