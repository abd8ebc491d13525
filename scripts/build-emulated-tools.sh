#!/usr/bin/env bash
# Builds the emulated tools' process (emulator/src/tools/native) into dist/emulator-tools/bin, one link per tool.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/dist/emulator-tools"
mkdir -p "$out/bin"
"${CC:-cc}" -O2 -Wall -Wextra -Werror -o "$out/k0rdent-tool.tmp" "$root/emulator/src/tools/native/k0rdent-tool.c"
mv "$out/k0rdent-tool.tmp" "$out/k0rdent-tool"
for tool in wg wg-quick k0sctl helm kubectl az; do
  ln -sf ../k0rdent-tool "$out/bin/$tool"
done
