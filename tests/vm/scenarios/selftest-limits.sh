# shellcheck shell=bash
# Shows that the harness reports failures and enforces its time limits:
# every step but the first is meant to FAIL, and the scenario as a whole
# overruns its own limit. Run with TESTBED_BOOT_LIMIT=30 to see the host
# kill a guest that outlives its boot limit. In no CI tier.
# tier: selftest
# limit: 40

step passes 10 true
step fails 10 false
step times-out 5 sleep 30
step overruns-the-scenario 100 sleep 100
