#!/bin/sh
# The user suite (in the guest, as root): the tests run as "tester", whose
# `systemd --user` runs by lingering, with its user bus.
# usage: guest-user.sh casco|runc BINARY
rt=$1 bin=$2
uid=$(id -u tester)
export XDG_RUNTIME_DIR=/run/user/$uid DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/$uid/bus
n=0
until systemctl is-active -q user@$uid.service && [ -S /run/user/$uid/bus ]; do
  n=$((n + 1)); [ $n -gt 600 ] && { echo "user@$uid.service or its bus did not come up"; systemctl status user@$uid.service; exit 1; }
  sleep 0.1
done
echo "user manager cgroup: $(systemctl show -p ControlGroup user@$uid.service)"
echo "delegated controllers: $(cat /sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service/cgroup.controllers)"
rc=0
u() { runuser -u tester -- env XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR DBUS_SESSION_BUS_ADDRESS=$DBUS_SESSION_BUS_ADDRESS HOME=/home/tester TMPDIR=/tmp BUSYBOX=/job/busybox "$@" || rc=1; }
cd /tmp
[ "$rt" = casco ] && u /job/cgroups.test -test.v -test.run 'TestSystemdUserLive'
u env RUNTIME=$bin /job/systemd.test -test.v -test.run 'TestUserInstance'
exit $rc
