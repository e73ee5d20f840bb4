#!/usr/bin/env bash
# The images critest and the walkthrough ask for, made from Debian's
# packages (no registry): one OCI image-layout archive for `ctr images import`.
#   busybox   Debian's busybox (the dynamic build, whose shell execs what
#             PATH finds as the real image's does; busybox-static's runs
#             applets inside itself, so masking /bin/ls would not show),
#             every applet hard-linked, util-linux's ipcs (busybox has
#             none; the host-IPC cases run it), a pgrep over pidof (none
#             either), their libraries, the root/www-data/nobody users:
#             critest's default test image
#   nginx     busybox + a stand-in /usr/sbin/nginx (a script, so its
#             process is named nginx) that writes /var/run/nginx.pid and
#             serves "Welcome to nginx!" with busybox httpd on $NGINX_PORT
#             (80; 12003 for critest's hostnet-nginx image)
#   httpd     busybox + httpd-foreground: logs "httpd", serves "It works!"
#   nonewprivs busybox + nnp.c installed setuid root: prints its effective uid
#   pause     the static pause stand-in of pause.c: the sandbox image
#
# usage: tests/cri/mkimages.sh OUTDIR   (writes OUTDIR/images.tar)
set -euo pipefail
CRI_CACHE=${CRI_CACHE:-/var/tmp/casco-cri}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: mkimages.sh OUTDIR}
arch=$(dpkg --print-architecture)
goarch=$(go env GOARCH 2>/dev/null || echo amd64)
oci=$out/oci
rm -rf "$out" && mkdir -p "$oci/blobs/sha256"

# blob FILE: store FILE as a blob, print "digest size"
blob() {
	local d s
	d=$(sha256sum <"$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	cp "$1" "$oci/blobs/sha256/$d"
	echo "$d $s"
}

# layer DIR: a layer blob of DIR's tree, print "digest size" (the tar is
# uncompressed, so the digest is the diff id too)
layer() {
	tar --numeric-owner --sort=name --mtime=@0 -C "$1" -cf "$out/layer.tar" .
	blob "$out/layer.tar"
	rm -f "$out/layer.tar"
}

# image CONFIG LAYER...: CONFIG is the image's "config" object, each LAYER a
# "digest size" pair; print the manifest's "digest size"
image() {
	local conf=$1 l d s diffs= layers= cd cs
	shift
	for l in "$@"; do
		read -r d s <<<"$l"
		diffs+=${diffs:+,}\"sha256:$d\"
		layers+=${layers:+,}'{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:'$d'","size":'$s'}'
	done
	printf '{"architecture":"%s","os":"linux","config":%s,"rootfs":{"type":"layers","diff_ids":[%s]}}' \
		"$arch" "$conf" "$diffs" >"$out/config.json"
	read -r cd cs < <(blob "$out/config.json")
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' \
		"$cd" "$cs" "$layers" >"$out/manifest.json"
	blob "$out/manifest.json"
	rm -f "$out/config.json" "$out/manifest.json"
}

index=()   # index.json entries
tag() { # "digest size" NAME...
	local d s n
	read -r d s <<<"$1"
	shift
	for n; do
		index+=('{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:'$d'","size":'$s',"annotations":{"io.containerd.image.name":"'$n'"}}')
	done
}
PATHENV='"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"'

# busybox: every applet hard-linked, ipcs and pgrep, the libraries, the
# users critest's cases name
bb=$out/busybox
mkdir -p "$bb"/{bin,dev,etc,proc,root,sys,tmp,usr/bin,var/run,var/www} && chmod 1777 "$bb/tmp"
# the busybox package is only unpacked into the image (busybox-static,
# which the other suites use, conflicts with installing it)
debs=$CRI_CACHE/debs
mkdir -p "$debs"
if ! ls "$debs"/busybox_*.deb >/dev/null 2>&1; then
	(cd "$debs" && { apt-get download busybox >/dev/null 2>&1 ||
		{ apt-get -o DPkg::Lock::Timeout=900 update -q >/dev/null && apt-get download busybox >/dev/null 2>&1; }; }) ||
		{ echo "mkimages: apt-get download busybox failed" >&2; exit 1; }
fi
mkdir -p "$out/deb" && dpkg-deb -x "$(ls "$debs"/busybox_*.deb | tail -n 1)" "$out/deb"
cp "$out/deb/bin/busybox" "$bb/bin/busybox" && rm -rf "$out/deb"
for a in $("$bb/bin/busybox" --list); do [[ -e $bb/bin/$a ]] || ln "$bb/bin/busybox" "$bb/bin/$a"; done
cat >"$bb/bin/pgrep" <<'SH'
#!/bin/sh
# pgrep NAME: Debian's busybox has no pgrep; pidof does the matching
p=$(pidof "$1") || exit 1
for i in $p; do echo "$i"; done
SH
chmod 755 "$bb/bin/pgrep"
cp /usr/bin/ipcs "$bb/usr/bin/ipcs"
for lib in $(ldd /usr/bin/ipcs "$bb/bin/busybox" | awk '/=> \// {print $3} /^\t\// {print $1}' | sort -u); do
	mkdir -p "$bb$(dirname "$lib")" && cp -L "$lib" "$bb$lib"
done
printf '%s\n' root:x:0:0:root:/root:/bin/sh www-data:x:33:33:www-data:/var/www:/bin/false \
	nobody:x:65534:65534:nobody:/nonexistent:/bin/false >"$bb/etc/passwd"
printf '%s\n' root:x:0: www-data:x:33: nogroup:x:65534: >"$bb/etc/group"
bbl=$(layer "$bb")
tag "$(image '{"Env":['"$PATHENV"'],"Cmd":["sh"]}' "$bbl")" \
	registry.k8s.io/e2e-test-images/busybox:1.29-2 localhost/casco-cri/busybox:1

# nginx stand-in
ng=$out/nginx
mkdir -p "$ng/usr/sbin" "$ng/usr/share/nginx/html"
cat >"$ng/usr/sbin/nginx" <<'SH'
#!/bin/sh
# nginx stand-in: busybox httpd, under a process named nginx with nginx's pid file
echo $$ >/var/run/nginx.pid
httpd -f -p "${NGINX_PORT:-80}" -h /usr/share/nginx/html &
trap 'kill $!; exit 0' TERM INT
wait
SH
chmod 755 "$ng/usr/sbin/nginx"
echo '<html><body><h1>Welcome to nginx!</h1></body></html>' >"$ng/usr/share/nginx/html/index.html"
ngl=$(layer "$ng")
# the arguments put "master process" in /proc/1/cmdline, where critest's
# PID namespace cases look for nginx's master
NGX='"Entrypoint":["/usr/sbin/nginx","-g","daemon off; master process"]'
tag "$(image '{"Env":['"$PATHENV"'],'"$NGX"'}' "$bbl" "$ngl")" \
	registry.k8s.io/e2e-test-images/nginx:1.14-2
tag "$(image '{"Env":['"$PATHENV"',"NGINX_PORT=12003"],'"$NGX"'}' "$bbl" "$ngl")" \
	gcr.io/k8s-staging-cri-tools/hostnet-nginx-"$goarch":latest

# httpd stand-in
hd=$out/httpd
mkdir -p "$hd/usr/local/bin" "$hd/usr/local/apache2/htdocs"
cat >"$hd/usr/local/bin/httpd-foreground" <<'SH'
#!/bin/sh
echo "httpd stand-in: busybox httpd on port 80"
exec httpd -f -v -p 80 -h /usr/local/apache2/htdocs
SH
chmod 755 "$hd/usr/local/bin/httpd-foreground"
echo '<html><body><h1>It works!</h1></body></html>' >"$hd/usr/local/apache2/htdocs/index.html"
hdl=$(layer "$hd")
tag "$(image '{"Env":['"$PATHENV"'],"Cmd":["httpd-foreground"]}' "$bbl" "$hdl")" \
	registry.k8s.io/e2e-test-images/httpd:2.4.39-4

# nonewprivs stand-in: nnp setuid root
np=$out/nnp
mkdir -p "$np/usr/local/bin"
musl-gcc -static -Os -s -Wall -Werror -o "$np/usr/local/bin/nnp" "$here/nnp.c"
chown 0:0 "$np/usr/local/bin/nnp" && chmod 4755 "$np/usr/local/bin/nnp"
tag "$(image '{"Env":['"$PATHENV"'],"Entrypoint":["/usr/local/bin/nnp"]}' "$bbl" "$(layer "$np")")" \
	registry.k8s.io/e2e-test-images/nonewprivs:1.3

# pause: one static binary
pz=$out/pause
mkdir -p "$pz"
musl-gcc -static -Os -s -Wall -Werror -o "$pz/pause" "$here/pause.c"
tag "$(image '{"Entrypoint":["/pause"],"User":"65535:65535"}' "$(layer "$pz")")" localhost/casco-cri/pause:1

(IFS=,; printf '{"schemaVersion":2,"manifests":[%s]}' "${index[*]}") >"$oci/index.json"
printf '{"imageLayoutVersion":"1.0.0"}' >"$oci/oci-layout"
tar -C "$oci" -cf "$out/images.tar" .
rm -rf "$oci" "$bb" "$ng" "$hd" "$np" "$pz"
