# shellcheck shell=bash
# The project's RDMA layer (rdma/) against the kernel's soft devices: its
# device tests, then a connection between two CM ids across the veth pair
# moving an iSER-shaped command (Send, RDMA Read, RDMA Write, Send) with DPDK
# pool buffers registered once per PD; over soft-RoCE, then soft-iWARP.
# tier: ci
# needs: siw
# limit: 420

step rdma-rxe 60 rdma_use rxe
step unit-rxe 60 rdma_unit_tests rxe
step loopback-rxe 90 rdma_loopback rxe
step rdma-siw 60 rdma_use siw
step unit-siw 60 rdma_unit_tests siw
step loopback-siw 90 rdma_loopback siw
