#!/usr/bin/env bash
# Regenerates the config-hash golden values from the docker compose CLIs.
#
# For each shape directory here (one compose.yaml each) and each CLI release
# (v2.40.3 as the `docker compose` plugin, v5.6.0 as docker-compose-v5; both
# installed by scripts/install-compose-cli), this brings the stack up with
# that CLI on the local engine as project dhhash-<shape>, reads the
# com.docker.compose.config-hash label the CLI wrote
#   - on each service's container, into <shape>/hashes-v<version>.golden;
#   - on each network and volume of the project (docker network inspect,
#     docker volume inspect), into <shape>/resources-v<version>.golden, as
#     "network KEY HASH" and "volume KEY HASH" lines (KEY: the name in the
#     compose file);
# and takes the stack down again (`down -v`, also on failure).
#
# The project name is fixed because a network's or volume's hash covers its
# name, which is <project>_<key> unless the file names it: the golden tests
# load each shape as dhhash-<shape>. Two runs of this script at once on one
# engine would collide.
#
# Needs the stand-in images dockhand.test/busybox:1 and dockhand.test/redis:7.
# Run from anywhere:  compose/testdata/hash/generate.sh
# The golden tests (TestServiceHashMatchesComposeCLIGolden,
# TestResourceHashMatchesComposeCLIGolden) are pure: they need no engine.
# Our hashes must equal the v5 goldens (the hashes Up writes); the v2.40
# ones are accepted as unchanged.
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

# resources KIND PROJECT prints "KIND KEY HASH" for each network or volume
# (KIND) of the project, sorted; a resource without a hash label fails.
resources() {
	local kind=$1 project=$2 id line
	for id in $(docker "$kind" ls -q --filter "label=com.docker.compose.project=$project"); do
		line=$(docker "$kind" inspect --format \
			"$kind {{index .Labels \"com.docker.compose.$kind\"}} {{index .Labels \"com.docker.compose.config-hash\"}}" "$id")
		case $line in
		*" ") echo "$kind $id has no config-hash label: $line" >&2; return 1 ;;
		esac
		echo "$line"
	done | sort
}

# generate WANT_VERSION CLI...
generate() {
	local want=$1 have shape dir out nets vols res engine
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
		project="dhhash-$shape"
		(cd "$shape" && "${cli[@]}" --progress quiet -p "$project" up -d)
		out=$(docker ps -a --filter "label=com.docker.compose.project=$project" \
			--format '{{.Label "com.docker.compose.service"}} {{.Label "com.docker.compose.config-hash"}}' | sort -u)
		nets=$(resources network "$project")
		vols=$(resources volume "$project")
		res=$(printf '%s\n%s\n' "$nets" "$vols" | sed '/^$/d')
		engine=$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')
		{
			echo "# Produced by compose/testdata/hash/generate.sh: the com.docker.compose.config-hash"
			echo "# label docker compose v$want wrote on each service's container after"
			echo "# \`up -d\` of compose.yaml on Docker Engine $engine."
			echo "# service config-hash"
			echo "$out"
		} >"$shape/hashes-v$want.golden"
		{
			echo "# Produced by compose/testdata/hash/generate.sh: the com.docker.compose.config-hash"
			echo "# label docker compose v$want wrote on each network and volume of project"
			echo "# $project after \`up -d\` of compose.yaml on Docker Engine $engine."
			echo "# kind key config-hash"
			echo "$res"
		} >"$shape/resources-v$want.golden"
		echo "v$want $shape:"
		echo "$out" | sed 's/^/  /'
		echo "$res" | sed 's/^/  /'
		"${cli[@]}" -p "$project" down -v --remove-orphans >/dev/null 2>&1
		project=
	done
}

generate 2.40.3 docker compose
generate 5.6.0 "$V5_BIN"
