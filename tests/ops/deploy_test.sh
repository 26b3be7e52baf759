#!/usr/bin/env bash
# What can be checked of deploy/ on a machine with no container engine:
#  - the image's runtime packages, with their dependencies, provide every shared
#    library the two executables of this build link;
#  - the image's build packages are the build packages of ops/install-deps;
#  - the paths the Dockerfile copies exist, and the build it runs configures (tests
#    off, so Catch2 is not needed) and knows the targets it builds;
#  - compose.yaml and the Kubernetes manifest name the image's commands and the
#    variables the executables require.
set -euo pipefail
repo="${CLERK_MIRROR_SOURCE:?}"
bin="${CLERK_MIRROR_BIN:?}"
dockerfile="$repo/deploy/Dockerfile"
fail() { echo "FAIL: $*" >&2; exit 1; }

# apt-get install lines of the Dockerfile's stage N (0: build, 1: runtime).
stage_packages() {
  awk -v want="$1" '
    /^FROM / { stage++ }
    stage == want + 1 && /apt-get install/ { grab = 1; next }
    grab && /&&/ { grab = 0 }
    grab { for (i = 1; i <= NF; i++) if ($i != "\\") print $i }
  ' "$dockerfile" | sort -u
}
runtime="$(stage_packages 1)"
build="$(stage_packages 0)"
[ -n "$runtime" ] && [ -n "$build" ] || fail "no apt-get install list found in $dockerfile"

# 1. Every linked library comes from a runtime package or one of its dependencies.
installed="$( (printf '%s\n' $runtime; apt-cache depends --recurse --no-recommends --no-suggests \
  --no-conflicts --no-breaks --no-replaces --no-enhances $runtime 2>/dev/null |
  sed -n 's/^\([a-z0-9][^ <>]*\)$/\1/p; s/^ *\(Pre\)\{0,1\}Depends: \([^<>]*\)$/\2/p') |
  sed 's/:.*//' | sort -u)"
for exe in clerk-mirror clerk-mirror-ingress; do
  [ -x "$bin/$exe" ] || fail "$bin/$exe is not built"
  for lib in $(ldd "$bin/$exe" | awk '/=>/ {print $3}'); do
    package="$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || true)"
    package="${package%%:*}"
    [ -n "$package" ] || fail "$exe links $lib, which no Debian package provides"
    grep -qx "$package" <<<"$installed" ||
      fail "$exe links $lib from $package, which the image's runtime stage does not install"
  done
done

# 2. The build stage installs the build packages of ops/install-deps.
for package in $(sed -n '/^packages=(/,/^)/p' "$repo/ops/install-deps" | tr ' ' '\n' |
                 grep -E -- '-dev$|^(build-essential|cmake|ninja-build|pkg-config)$'); do
  grep -qx "$package" <<<"$build" || fail "the image's build stage lacks $package (ops/install-deps has it)"
done

# 3. What the build stage copies exists, and that build configures and has its targets.
for path in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$dockerfile"); do
  [ -e "$repo/$path" ] || fail "the Dockerfile copies $path, which does not exist"
done
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for path in $(sed -n 's/^COPY \([^-][^ ]*\) .*/\1/p' "$dockerfile"); do
  cp -r "$repo/$path" "$scratch/"
done
cmake -S "$scratch" -B "$scratch/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCLERK_MIRROR_TESTS=OFF >"$scratch/configure.log" 2>&1 ||
  { cat "$scratch/configure.log"; fail "the image's build does not configure"; }
targets="$(ninja -C "$scratch/build" -t targets all)"
for target in clerk-mirror clerk-mirror-ingress; do
  grep -q "^$target:" <<<"$targets" || fail "the image's build has no target $target"
done

# 4. compose and Kubernetes run the image's commands with the required variables.
for file in "$repo/deploy/compose.yaml" "$repo/deploy/kubernetes/clerk-mirror.yaml"; do
  for word in '"clerk-mirror-ingress"' '"clerk-mirror", "worker"' KAFKA_BROKERS DATABASE_URL \
              CLERK_WEBHOOK_SECRET ADMIN_TOKEN; do
    grep -qF -- "$word" "$file" || fail "$(basename "$file") does not mention $word"
  done
done
echo "deploy test passed"
