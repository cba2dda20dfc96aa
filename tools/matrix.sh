#!/usr/bin/env bash
# The ansible-core matrix (tests/matrix.txt): one venv per line under .build/matrix/<line>, and on each
# line ansible-test sanity, the unit tests and the per-line smoke; on `full` lines every integration test.
#
#   tools/matrix.sh                 # every line, two at a time; a summary at the end
#   tools/matrix.sh 2.16 2.20       # only these lines
#   tools/matrix.sh --venv-only     # only build (or refresh) the venvs
#   tools/matrix.sh --except-newest # every line but the newest (`make test` runs that one in .venv)
#
# Each line logs to .build/matrix/<line>.log; its venv is rebuilt only when its requirements changed.
# Environment: MATRIX_SCOPE=smoke runs every line as a smoke line whatever tests/matrix.txt says (`make test`
# and CI do, to stay within their time; `make matrix` runs the full lines in full),
# MATRIX_JOBS (lines run at once, default 2), PYTEST_TIMEOUT (default 300),
# MATRIX_PYTEST_WORKERS (pytest-xdist workers of a line's test run; default 2 for `full` lines and 1 for
# `smoke` lines, so that two lines at once keep both CPUs busy without crowding them).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
MATRIX_DIR="$ROOT/.build/matrix"
COLLECTIONS="$ROOT/.build/collections"
JOBS="${MATRIX_JOBS:-2}"
PYTEST_TIMEOUT="${PYTEST_TIMEOUT:-300}"

# line -> "ansible-core python scope", from tests/matrix.txt
declare -A CORE PY SCOPE
ALL_LINES=()
while read -r line core python scope; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    CORE[$line]="$core"; PY[$line]="$python"; SCOPE[$line]="$scope"
    ALL_LINES+=("$line")
done < tests/matrix.txt

scope_of() {  # what runs on a line: its scope in tests/matrix.txt, or MATRIX_SCOPE when set
    echo "${MATRIX_SCOPE:-${SCOPE[$1]}}"
}

requirements_of() {  # the requirement lines of a matrix line, as pip reads them
    local line="$1"
    echo "ansible-core==${CORE[$line]}"
    if [[ "$(scope_of "$line")" == full ]]; then
        grep -v -E '^ansible-core([<>=!~ ]|$)' tests/requirements.txt
        cat requirements.txt
    else
        echo "-r $ROOT/tests/requirements-smoke.txt"
    fi
}

build_venv() {
    local line="$1" venv="$MATRIX_DIR/$1" python wanted
    mkdir -p "$MATRIX_DIR"
    wanted="$(requirements_of "$line"; cat tests/requirements-smoke.txt)"
    if [[ -f "$venv/.requirements" && "$(cat "$venv/.requirements")" == "$wanted" ]]; then
        echo "matrix $line: venv up to date ($venv)"
        return 0
    fi
    python="$(tools/find_python.sh "${PY[$line]}")"
    echo "matrix $line: venv with ansible-core ${CORE[$line]} on $python"
    rm -rf "$venv"
    "$python" -m venv "$venv"
    requirements_of "$line" > "$venv/requirements.txt"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$venv/requirements.txt"
    printf '%s' "$wanted" > "$venv/.requirements"
}

run_line() {
    local line="$1" venv="$MATRIX_DIR/$1" status=0 workers
    workers="${MATRIX_PYTEST_WORKERS:-$([[ "$(scope_of "$line")" == full ]] && echo 2 || echo 1)}"
    local env=(env "PATH=$venv/bin:$PATH" "PYTHONPATH=$COLLECTIONS" "ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS")
    echo "matrix $line: $("$venv/bin/ansible" --version | sed -n 1p), $("$venv/bin/python" --version)"
    # Sanity on the line's own ansible-test, with its ignore file (tests/sanity/ignore-<line>.txt).
    VENV="$venv" SANITY_PYTHON="${PY[$line]}" tools/sanity.sh || status=$?
    local tests=(tests/unit tests/integration/test_core_lines.py)
    if [[ "$(scope_of "$line")" == full ]]; then
        tests=(tests/unit tests/sandbox tests/integration tests/v2)
    fi
    local parallel=()
    if [[ "$workers" -gt 1 ]]; then
        parallel=(-n "$workers" --dist loadfile)
    fi
    "${env[@]}" "$venv/bin/python" -m pytest -q -p no:cacheprovider --timeout="$PYTEST_TIMEOUT" "${parallel[@]}" \
        "${tests[@]}" || status=$?
    echo "matrix $line: exit status $status"
    return "$status"
}

venv_only=0
lines=()
for arg in "$@"; do
    case "$arg" in
        --venv-only) venv_only=1 ;;
        --except-newest) lines+=("${ALL_LINES[@]:0:${#ALL_LINES[@]}-1}") ;;
        *) [[ -n "${CORE[$arg]:-}" ]] || { echo "matrix: no line $arg in tests/matrix.txt" >&2; exit 2; }
           lines+=("$arg") ;;
    esac
done
[[ ${#lines[@]} -gt 0 ]] || lines=("${ALL_LINES[@]}")
mkdir -p "$MATRIX_DIR" "$COLLECTIONS/ansible_collections/wasmcloud"
ln -sfn ../../../.. "$COLLECTIONS/ansible_collections/wasmcloud/lattice"

if [[ "$venv_only" == 1 ]]; then
    for line in "${lines[@]}"; do build_venv "$line"; done
    exit 0
fi

# Lines run $JOBS at a time, each in its own process group with its log; SIGTERM/SIGINT stop them all.
declare -A PIDS
# shellcheck disable=SC2317  # invoked by the trap below
stop_all() {
    for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    exit 143
}
trap stop_all TERM INT

start=$SECONDS
declare -A RESULT
running=()
wait_one() {
    local pid line
    wait -n "${running[@]}" 2>/dev/null || true
    local still=()
    for line in "${!PIDS[@]}"; do
        pid="${PIDS[$line]}"
        if kill -0 "$pid" 2>/dev/null; then still+=("$pid"); continue; fi
        wait "$pid" && RESULT[$line]=0 || RESULT[$line]=$?
        echo "matrix $line: $( [[ ${RESULT[$line]} == 0 ]] && echo passed || echo "FAILED (${RESULT[$line]})" ) after $((SECONDS - start)) s; log: .build/matrix/$line.log"
        unset "PIDS[$line]"
    done
    running=("${still[@]}")
}
for line in "${lines[@]}"; do
    while [[ ${#running[@]} -ge $JOBS ]]; do wait_one; done
    echo "matrix $line: started at t+$((SECONDS - start)) s (ansible-core ${CORE[$line]}, Python ${PY[$line]}, $(scope_of "$line"))"
    set -m
    ( build_venv "$line" && run_line "$line" ) >"$MATRIX_DIR/$line.log" 2>&1 &
    set +m
    PIDS[$line]=$!
    running+=("$!")
done
while [[ ${#running[@]} -gt 0 ]]; do wait_one; done

failed=0
echo
echo "matrix summary ($((SECONDS - start)) s):"
for line in "${lines[@]}"; do
    tail_line="$(grep -E '(passed|failed).* in [0-9.]+s' "$MATRIX_DIR/$line.log" | tail -n1 || true)"
    if [[ "${RESULT[$line]}" == 0 ]]; then
        echo "  $line (ansible-core ${CORE[$line]}): passed  $tail_line"
    else
        echo "  $line (ansible-core ${CORE[$line]}): FAILED  $tail_line"
        failed=1
    fi
done
if [[ "$failed" == 1 ]]; then
    for line in "${lines[@]}"; do
        if [[ "${RESULT[$line]}" != 0 ]]; then
            echo; echo "======== last lines of .build/matrix/$line.log ========"
            tail -n 60 "$MATRIX_DIR/$line.log"
        fi
    done
fi
exit "$failed"
