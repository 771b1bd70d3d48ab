#!/usr/bin/env bash
# Executes the notebooks in notebooks/ headless on the Deno kernel ("candlecraft-deno") and writes the executed copies,
# with their outputs, to an output folder. Exits 1 when a cell of any notebook fails, 2 when the tools are missing.
#
# Usage: bash scripts/run-notebooks.sh [--output-dir <dir>] [notebooks/<name>.ipynb ...]
#   --output-dir <dir>  where the executed notebooks go (default .tmp/notebooks); the sources are never changed
#   NOTEBOOK_RUNS       where backtest-analysis.ipynb looks for and writes backtest runs; by default a temporary
#                       folder removed at the end, so that runs/ is neither read nor filled
#
# Each notebook runs `jupyter nbconvert --to notebook --ExecutePreprocessor.timeout=600 --output-dir <dir>` with
# notebooks/execute_config.py, which executes it like `--execute` but also keeps the outputs Deno's kernel sometimes
# publishes just after reporting a cell done (see that file).
set -uo pipefail
cd "$(dirname "$0")/.."

out=.tmp/notebooks
notebooks=()
while [ $# -gt 0 ]; do
  case "$1" in
    --output-dir)
      [ $# -ge 2 ] || { echo 'run-notebooks: error: --output-dir needs a folder' >&2; exit 2; }
      out="$2"
      shift 2
      ;;
    -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) notebooks+=("$1"); shift ;;
  esac
done
[ "${#notebooks[@]}" -gt 0 ] || notebooks=(notebooks/*.ipynb)

missing() {
  echo "run-notebooks: error: $1; install the notebook tools with: bash scripts/install-notebook-tools.sh" >&2
  exit 2
}
command -v jupyter-nbconvert >/dev/null 2>&1 || missing 'jupyter nbconvert is not installed'
# The checkout's own kernelspec first (scripts/install-notebook-tools.sh copies it there): this checkout's deno, whatever
# another checkout registered for the user since.
export JUPYTER_PATH="$PWD/.tools/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
kernel="$(jupyter kernelspec list --json 2>/dev/null | node -e '
  let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
    const spec = JSON.parse(text || "{}").kernelspecs?.["candlecraft-deno"];
    process.stdout.write(spec ? String(spec.spec.argv[0]) : "");
  });')"
[ -n "$kernel" ] || missing 'the Jupyter kernel candlecraft-deno is not registered'
[ -x "$kernel" ] || missing "the kernel candlecraft-deno points to $kernel, which does not exist"

temporary_runs=''
if [ -z "${NOTEBOOK_RUNS:-}" ]; then
  NOTEBOOK_RUNS="$(mktemp -d "${TMPDIR:-/tmp}/notebook-runs.XXXXXX")"
  temporary_runs="$NOTEBOOK_RUNS"
fi
export NOTEBOOK_RUNS
log="$(mktemp "${TMPDIR:-/tmp}/run-notebooks-log.XXXXXX")"
trap 'rm -f "$log"; [ -z "$temporary_runs" ] || rm -rf "$temporary_runs"' EXIT
mkdir -p "$out"

failed=0
for notebook in "${notebooks[@]}"; do
  started=$SECONDS
  if jupyter nbconvert --to notebook --config "$PWD/notebooks/execute_config.py" \
    --ExecutePreprocessor.timeout=600 --output-dir "$out" "$notebook" >"$log" 2>&1; then
    echo "ok    $notebook ($((SECONDS - started)) s) -> $out/$(basename "$notebook")"
  else
    failed=$((failed + 1))
    echo "FAIL  $notebook ($((SECONDS - started)) s):"
    # A failing cell: from nbclient's "An error occurred while executing the following cell" on; anything else: all.
    if grep -q 'An error occurred while executing' "$log"; then
      sed -n '/An error occurred while executing/,$p' "$log"
    else
      grep -v 'is unstable and might change' "$log"
    fi | sed 's/^/      /'
  fi
done
echo "${#notebooks[@]} notebook(s) executed, $failed failed"
[ "$failed" -eq 0 ]
