#!/usr/bin/env bash
# Builds the release files into dist/: static binaries (CGO_ENABLED=0) for
# linux/amd64, linux/arm64 and darwin/arm64, stamped with their version,
# commit and commit date; a .deb for each Linux architecture (the binary,
# the man pages and the shell completions); and SHA256SUMS of them all.
#
# VERSION defaults to git describe over v* tags ("-dirty" for a tree with
# uncommitted changes). Builds are reproducible: -trimpath, no build ID
# from the machine, file dates from the commit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH=$PATH:/usr/local/go/bin
GO=${GO:-go}
version=${VERSION:-$(git describe --tags --match 'v[0-9]*' --always --dirty)}
commit=$(git rev-parse HEAD)
date=$(git log -1 --format=%cI)
export SOURCE_DATE_EPOCH=$(git log -1 --format=%ct)
pkg=github.com/hoofbeat/hoofbeat/internal/cli
ldflags="-s -w -buildid= -X $pkg.Version=$version -X $pkg.Commit=$commit -X $pkg.Date=$date"

# A Debian version starts with a digit: v1.2.3 is 1.2.3; a bare commit is
# 0.0~git<date>.<commit>, which sorts below any release.
case $version in
v[0-9]*) debversion=${version#v} ;;
*) debversion=0.0~git$(git log -1 --format=%cd --date=format:%Y%m%d).${version} ;;
esac
debversion=${debversion//-/+}

rm -rf dist
mkdir -p dist
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for target in linux/amd64 linux/arm64 darwin/arm64; do
	os=${target%/*} arch=${target#*/}
	out=dist/hoofbeat-$version-$os-$arch
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch $GO build -trimpath -ldflags "$ldflags" -o "$out" ./cmd/hoofbeat
done

# The man pages and completions come from a binary for this machine, the
# same code as the packaged ones.
CGO_ENABLED=0 $GO build -trimpath -ldflags "$ldflags" -o "$work/hoofbeat" ./cmd/hoofbeat
"$work/hoofbeat" man "$work/man" 2>/dev/null
gzip -9n "$work"/man/*.1
for shell in bash zsh fish; do
	"$work/hoofbeat" completion $shell >"$work/completion.$shell"
done

for arch in amd64 arm64; do
	root=$work/deb-$arch
	install -D -m 0755 "dist/hoofbeat-$version-linux-$arch" "$root/usr/bin/hoofbeat"
	install -d -m 0755 "$root/usr/share/man/man1"
	install -m 0644 "$work"/man/*.1.gz "$root/usr/share/man/man1/"
	install -D -m 0644 "$work/completion.bash" "$root/usr/share/bash-completion/completions/hoofbeat"
	install -D -m 0644 "$work/completion.zsh" "$root/usr/share/zsh/vendor-completions/_hoofbeat"
	install -D -m 0644 "$work/completion.fish" "$root/usr/share/fish/vendor_completions.d/hoofbeat.fish"
	mkdir -p "$root/DEBIAN"
	cat >"$root/DEBIAN/control" <<CONTROL
Package: hoofbeat
Version: $debversion
Architecture: $arch
Maintainer: hoofbeat developers <hoofbeat@users.noreply.github.com>
Section: admin
Priority: optional
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Homepage: https://github.com/hoofbeat/hoofbeat
Description: find out why an OpenStack instance does not answer
 hoofbeat walks from an instance outward (port, security groups, subnet,
 network, agents, router, floating IP) through the Nova and Neutron APIs,
 and on request the hosts serving it, and reports what is wrong, ranked,
 with the evidence and the command that fixes it. It only reads.
CONTROL
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
	dpkg-deb --root-owner-group --build "$root" "dist/hoofbeat_${debversion}_$arch.deb" >/dev/null
done

# What was built is what was meant: the stamped version, a package
# holding the binary and the pages.
native=dist/hoofbeat-$version-linux-$($GO env GOARCH)
if [ "$($GO env GOOS)" = linux ] && [ "$("$native" --version | head -1)" != "hoofbeat $version" ]; then
	echo "dist: $native does not say it is $version" >&2
	exit 1
fi
for deb in dist/*.deb; do
	contents=$(dpkg-deb --contents "$deb")
	for f in ./usr/bin/hoofbeat ./usr/share/man/man1/hoofbeat.1.gz ./usr/share/man/man1/hoofbeat-diagnose.1.gz; do
		grep -q " $f\$" <<<"$contents" || { echo "dist: $deb lacks $f" >&2; exit 1; }
	done
done

(cd dist && sha256sum hoofbeat-* hoofbeat_*.deb >SHA256SUMS)
ls -l dist
