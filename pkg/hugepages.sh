#!/bin/sh
# Reserves 1 GiB of 2 MiB hugepages for the dataplane if fewer are reserved (production only).
set -e
want=512
cur=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages)
[ "$cur" -ge "$want" ] || echo "$want" > /sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
mountpoint -q /dev/hugepages || mount -t hugetlbfs nodev /dev/hugepages
