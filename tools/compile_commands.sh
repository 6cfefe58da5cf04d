#!/usr/bin/env bash
# Writes compile_commands.json at the repository root for clangd and
# clang-tidy, from the compile actions Bazel would run.
set -euo pipefail
cd "$(dirname "$0")/.."
bazel build --noshow_progress //... >/dev/null
execroot="$(bazel info execution_root 2>/dev/null)"
bazel aquery --noshow_progress --output=jsonproto 'mnemonic("CppCompile", //...)' 2>/dev/null |
  python3 -c '
import json, sys
execroot = sys.argv[1]
# gcc-only flags that clang (and so clangd) rejects or warns about.
drop = {"-fno-canonical-system-headers", "-Wunused-but-set-parameter", "-Wno-free-nonheap-object"}
entries = []
for action in json.load(sys.stdin).get("actions", []):
    args = [a for a in action["arguments"] if a not in drop]
    source = next((args[i + 1] for i, a in enumerate(args) if a == "-c"), None)
    if source and not source.startswith("external/"):
        entries.append({"directory": execroot, "file": source, "arguments": args})
json.dump(entries, sys.stdout, indent=1)
' "$execroot" >compile_commands.json
echo "compile_commands.json: $(grep -c '"file"' compile_commands.json) files"
