#!/usr/bin/env bash
# Regenerates the ServiceHash golden values from the docker compose CLI.
#
# For each shape directory here (one compose.yaml each), this brings the
# stack up with the real `docker compose` CLI plugin on the local engine
# (unique project name), reads the com.docker.compose.config-hash label the
# CLI wrote on each service's container, writes them to <shape>/hashes.golden
# and takes the stack down again (`down -v`, also on failure).
#
# Needs the CLI release ServiceHash follows (compose.ComposeVersion) and the
# stand-in images dockhand.test/busybox:1 and dockhand.test/redis:7.
# Run from anywhere:  compose/testdata/hash/generate.sh
# The golden test (TestServiceHashMatchesComposeCLIGolden) is pure: it
# needs no engine.
set -euo pipefail
cd "$(dirname "$0")"

want=2.40.3
have=$(docker compose version --short)
if [ "$have" != "$want" ]; then
	echo "docker compose $have found, want $want (compose.ComposeVersion)" >&2
	exit 1
fi
# The process environment takes part in interpolation: keep it out.
unset COMPOSE_PROJECT_NAME COMPOSE_FILE COMPOSE_PROFILES COMPOSE_ENV_FILES

project=
cleanup() {
	if [ -n "$project" ]; then
		docker compose -p "$project" down -v --remove-orphans >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

for dir in */; do
	shape=${dir%/}
	[ -f "$shape/compose.yaml" ] || continue
	project="dhhash-$shape-$$"
	(cd "$shape" && docker compose --progress quiet -p "$project" up -d)
	out=$(docker ps -a --filter "label=com.docker.compose.project=$project" \
		--format '{{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.config-hash"}}' | sort -u)
	engine=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')
	{
		echo "# Produced by compose/testdata/hash/generate.sh: the com.docker.compose.config-hash"
		echo "# label docker compose v$have wrote on each service's container after"
		echo "# \`docker compose up -d\` of compose.yaml on Docker Engine $engine."
		echo "# service config-hash"
		echo "$out"
	} >"$shape/hashes.golden"
	echo "$shape:"
	echo "$out" | sed 's/^/  /'
	docker compose -p "$project" down -v --remove-orphans >/dev/null 2>&1
	project=
done
