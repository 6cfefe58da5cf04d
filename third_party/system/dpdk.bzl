"""Wraps the system DPDK as @dpdk, with flags taken from `pkg-config libdpdk`.

A cc_library cannot pass copts to its dependents, yet every file that includes
an rte_*.h needs `-include rte_config.h` and a -march with SSSE3. The generated
repository therefore also exports DPDK_COPTS from @dpdk//:defs.bzl.
"""

def _split(text):
    return [flag for flag in text.strip().split(" ") if flag]

def _dpdk_repository_impl(ctx):
    cflags = ctx.execute(["pkg-config", "--cflags", "libdpdk"])
    libs = ctx.execute(["pkg-config", "--libs", "libdpdk"])
    if cflags.return_code != 0 or libs.return_code != 0:
        fail("pkg-config libdpdk failed; run tools/install-deps.sh: " + cflags.stderr + libs.stderr)

    # With --as-needed the linker drops DPDK libraries whose only use is a
    # constructor (the mempool ring driver), and librte_* then fail to resolve
    # ibv_* symbols at run time.
    linkopts = [flag for flag in _split(libs.stdout) if flag != "-Wl,--as-needed"]
    linkopts.append("-lrte_mempool_ring")
    copts = [flag for flag in _split(cflags.stdout) if not flag.startswith("-I")]
    # pkg-config also lists libnl3 and D-Bus paths for DPDK's own drivers;
    # the public rte_*.h headers need only the DPDK directories.
    includes = [flag[2:] for flag in _split(cflags.stdout) if flag.startswith("-I") and "dpdk" in flag]
    isystem = []
    for path in includes:
        isystem += ["-isystem", path]

    ctx.file("WORKSPACE", 'workspace(name = "%s")\n' % ctx.name)
    ctx.file("defs.bzl", "DPDK_COPTS = %s\n" % repr(isystem + copts))
    ctx.file("BUILD", """
cc_library(
    name = "dpdk",
    linkopts = %s,
    visibility = ["//visibility:public"],
)
""" % repr(linkopts))

dpdk_repository = repository_rule(
    implementation = _dpdk_repository_impl,
    configure = True,
    local = True,
)
