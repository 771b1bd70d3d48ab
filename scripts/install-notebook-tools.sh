#!/usr/bin/env bash
# Installs what executing the notebooks in notebooks/ needs, and does nothing that is already done:
#
# 1. Jupyter's command-line tools, from Debian/Ubuntu packages when they are missing:
#    - jupyter-nbconvert: `jupyter nbconvert`, which executes a notebook headless (it pulls in nbclient,
#      jupyter-client, nbformat and jupyter-core as python3-* packages);
#    - jupyter-client: `jupyter kernelspec`, used here to check the kernel registration.
#    No Python kernel (ipykernel) is needed: the notebooks run on Deno's kernel.
# 2. The Jupyter kernel "candlecraft-deno" ("Deno (candlecraft)"): Deno's built-in Jupyter kernel run by the project's
#    own deno binary, installed from the npm registry into .tools/deno (see below). `deno jupyter
#    --install` writes the kernelspec to the user's Jupyter data folder (~/.local/share/jupyter/kernels/), where
#    VS Code and `jupyter notebook` find it; it is rewritten only when it is missing or points to another binary (e.g.
#    another checkout of the project). A copy goes to the checkout's own .tools/jupyter/kernels/, which
#    scripts/run-notebooks.sh puts first on JUPYTER_PATH: each checkout runs its notebooks on its own deno, even after
#    another checkout registered the user's kernel (and was deleted).
#
# Usage: bash scripts/install-notebook-tools.sh        (root, or a user with sudo, for the apt step)
set -euo pipefail
cd "$(dirname "$0")/.."

KERNEL_NAME=candlecraft-deno
KERNEL_DISPLAY='Deno (candlecraft)'

say() { printf 'install-notebook-tools: %s\n' "$*"; }
fail() { printf 'install-notebook-tools: error: %s\n' "$*" >&2; exit 1; }

# --- 1. Jupyter tools ----------------------------------------------------------------------------------------------
missing=()
command -v jupyter-nbconvert >/dev/null 2>&1 || missing+=(jupyter-nbconvert)
command -v jupyter-kernelspec >/dev/null 2>&1 || missing+=(jupyter-client)
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 ||
    fail "missing ${missing[*]} and no apt-get here; install nbconvert and jupyter_client another way" \
      "(e.g. pip install nbconvert jupyter_client) and run this script again"
  if [ "$(id -u)" -eq 0 ]; then sudo=(); elif command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    fail "installing ${missing[*]} needs root: run this script as root or install sudo"
  fi
  apt=(${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600)
  say "installing ${missing[*]} with apt-get"
  if ! "${apt[@]}" install -y --no-install-recommends "${missing[@]}"; then
    say 'apt-get install failed; updating the package lists and trying again'
    "${apt[@]}" update
    "${apt[@]}" install -y --no-install-recommends "${missing[@]}"
  fi
else
  say 'jupyter-nbconvert and jupyter-client are installed'
fi

# --- 2. The Deno kernel --------------------------------------------------------------------------------------------
# Deno comes from the npm registry (package `deno`, whose platform package @deno/linux-x64-glibc, @deno/darwin-arm64, …
# holds the binary), installed into its own prefix .tools/deno: as a devDependency of the project it would break
# `npm ci`, because npm 11 leaves the other platforms' optional packages out of the lockfile.
DENO_VERSION=2.9.6
find_deno() {
  for candidate in .tools/deno/node_modules/@deno/*/deno .tools/deno/node_modules/deno/deno; do
    if [ -x "$candidate" ] && "$candidate" --version 2>/dev/null | grep -q "deno $DENO_VERSION"; then
      echo "$(cd "$(dirname "$candidate")" && pwd)/deno"
      return
    fi
  done
}
deno="$(find_deno)"
if [ -z "$deno" ]; then
  say "installing deno $DENO_VERSION from the npm registry into .tools/deno"
  npm install --prefix .tools/deno --no-save --no-package-lock --no-audit --no-fund "deno@$DENO_VERSION" >/dev/null 2>&1 ||
    fail "npm could not install deno@$DENO_VERSION into .tools/deno"
  deno="$(find_deno)"
fi
[ -n "$deno" ] || fail "no working deno $DENO_VERSION binary in .tools/deno"

# The kernel's deno binary (argv[0]) or folder (resource_dir) as Jupyter resolves it, or nothing when not registered.
registered() {
  jupyter kernelspec list --json 2>/dev/null | node -e '
    let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
      const spec = JSON.parse(text).kernelspecs[process.argv[1]];
      process.stdout.write(spec ? String(process.argv[2] === "dir" ? spec.resource_dir : spec.spec.argv[0]) : "");
    });' "$KERNEL_NAME" "$1"
}

if [ "$(registered binary)" = "$deno" ]; then
  say "kernel $KERNEL_NAME already registered with $deno"
else
  say "registering kernel $KERNEL_NAME with $deno"
  # (deno prints that "deno jupyter" is unstable; the registration is checked below instead of trusting its exit code)
  "$deno" jupyter --install --force --name "$KERNEL_NAME" --display "$KERNEL_DISPLAY" 2>&1 | grep -v 'unstable' || true
  [ "$(registered binary)" = "$deno" ] ||
    fail "kernel $KERNEL_NAME is not registered with $deno after deno jupyter --install" \
      "(see jupyter kernelspec list)"
fi

own_kernel=".tools/jupyter/kernels/$KERNEL_NAME"
own_binary() {
  node -e 'try { process.stdout.write(String(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).argv[0])); } catch {}' \
    "$own_kernel/kernel.json"
}
if [ "$(own_binary)" != "$deno" ]; then
  say "copying the kernelspec into $own_kernel"
  rm -rf "$own_kernel"
  mkdir -p "$(dirname "$own_kernel")"
  cp -R "$(registered dir)" "$own_kernel"
  [ "$(own_binary)" = "$deno" ] || fail "the kernelspec copied into $own_kernel does not run $deno"
fi
say "done: $("$deno" --version | head -1), nbconvert $(jupyter nbconvert --version 2>/dev/null)"
