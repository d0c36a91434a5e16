#!/usr/bin/env bash
# Regenerates the ServiceHash golden values from the docker compose CLIs.
#
# For each shape directory here (one compose.yaml each) and each CLI release
# (v2.40.3 as the `docker compose` plugin, v5.6.0 as docker-compose-v5; both
# installed by scripts/install-compose-cli), this brings the stack up with
# that CLI on the local engine (unique project name), reads the
# com.docker.compose.config-hash label the CLI wrote on each service's
# container, writes them to <shape>/hashes-v<version>.golden and takes the
# stack down again (`down -v`, also on failure).
#
# Needs the stand-in images dockhand.test/busybox:1 and dockhand.test/redis:7.
# Run from anywhere:  compose/testdata/hash/generate.sh
# The golden test (TestServiceHashMatchesComposeCLIGolden) is pure: it
# needs no engine. ServiceHash must equal the v5 goldens (the hash Up
# writes); the v2.40 ones are accepted as unchanged.
set -euo pipefail
cd "$(dirname "$0")"

V5_BIN=${COMPOSE_V5_BIN:-$(command -v docker-compose-v5 || echo /usr/local/bin/docker-compose-v5)}
# The process environment takes part in interpolation: keep it out.
unset COMPOSE_PROJECT_NAME COMPOSE_FILE COMPOSE_PROFILES COMPOSE_ENV_FILES

cli=()
project=
cleanup() {
	if [ -n "$project" ]; then
		"${cli[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1 || true
	fi
}
trap cleanup EXIT

# generate WANT_VERSION CLI...
generate() {
	local want=$1 have shape dir out engine
	shift
	cli=("$@")
	have=$("${cli[@]}" version --short)
	if [ "${have#v}" != "$want" ]; then
		echo "${cli[*]} reports $have, want $want" >&2
		exit 1
	fi
	for dir in */; do
		shape=${dir%/}
		[ -f "$shape/compose.yaml" ] || continue
		project="dhhash-$shape-$$"
		(cd "$shape" && "${cli[@]}" --progress quiet -p "$project" up -d)
		out=$(docker ps -a --filter "label=com.docker.compose.project=$project" \
			--format '{{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.config-hash"}}' | sort -u)
		engine=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')
		{
			echo "# Produced by compose/testdata/hash/generate.sh: the com.docker.compose.config-hash"
			echo "# label docker compose v$want wrote on each service's container after"
			echo "# \`up -d\` of compose.yaml on Docker Engine $engine."
			echo "# service config-hash"
			echo "$out"
		} >"$shape/hashes-v$want.golden"
		echo "v$want $shape:"
		echo "$out" | sed 's/^/  /'
		"${cli[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1
		project=
	done
}

generate 2.40.3 docker compose
generate 5.6.0 "$V5_BIN"
