#!/usr/bin/env bash
# Runs every Go fuzz target (func Fuzz* in any package) for FUZZTIME each
# (first argument, default 10s), from the module root.
#
# Go 1.26's fuzz coordinator can fail a target with a bare "context
# deadline exceeded" at the -fuzztime boundary, on a loaded machine, with
# no failing input (golang/go#75804, fixed in Go 1.27). Such a run is
# retried once, and if it happens again the target's corpus is replayed
# instead. Any run that writes a failing input, or fails any other way,
# fails at once.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-10s}
go=${GO:-go}

for dir in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go | sed 's/^func //'); do
		for attempt in 1 2; do
			echo "fuzz $dir $target ($fuzztime)"
			out=$("$go" test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" "$dir" 2>&1)
			rc=$?
			printf '%s\n' "$out"
			if [ "$rc" -eq 0 ]; then
				break
			fi
			if grep -q 'Failing input written to' <<<"$out" || ! grep -q 'context deadline exceeded' <<<"$out"; then
				echo "fuzz: $target failed"
				exit 1
			fi
			if [ "$attempt" -eq 1 ]; then
				echo "fuzz: $target stopped on Go's -fuzztime deadline race (golang/go#75804), no failing input; once more"
				continue
			fi
			echo "fuzz: $target hit the deadline race twice; replaying its corpus"
			"$go" test -count=1 -run "^${target}\$" "$dir" || exit 1
		done
	done
done
