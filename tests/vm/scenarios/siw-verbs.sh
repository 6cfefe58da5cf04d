# shellcheck shell=bash
# Soft-iWARP (siw.ko, built out of tree on the host) works at the verbs
# level between siw0 and siw1.
# tier: ci
# needs: siw
# limit: 360

step rdma 60 rdma_use siw
step rping 150 rping_check
step ib-write-bw 150 write_bw_check siw1 siw0
