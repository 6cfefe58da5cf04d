"""isergw_fuzzer: one LLVMFuzzerTestOneInput, a libFuzzer binary and a corpus test."""

def isergw_fuzzer(name, srcs, deps = [], **kwargs):
    """Declares <name> (libFuzzer under --config=fuzz) and <name>_corpus_test.

    The seed corpus lives in corpus/<name>/ beside the BUILD file; it must not
    be empty.

    Args:
      name: the fuzzer's name, ending in _fuzzer.
      srcs: sources defining LLVMFuzzerTestOneInput.
      deps: libraries under test.
      **kwargs: passed to both rules.
    """
    corpus = "corpus/" + name
    corpus_files = native.glob([corpus + "/**"])
    native.cc_binary(
        name = name,
        srcs = srcs,
        deps = deps + select({
            "//tools/fuzz:libfuzzer": [],
            "//conditions:default": ["//tools/fuzz:replay_main"],
        }),
        linkopts = select({
            "//tools/fuzz:libfuzzer": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        data = corpus_files,
        tags = ["fuzzer"],
        **kwargs
    )
    native.cc_test(
        name = name + "_corpus_test",
        size = "small",
        srcs = srcs,
        deps = deps + ["//tools/fuzz:replay_main"],
        data = corpus_files,
        args = ["%s/%s" % (native.package_name(), corpus)],
        **kwargs
    )
