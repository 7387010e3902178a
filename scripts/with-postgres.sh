#!/usr/bin/env bash
# with-postgres.sh CMD [ARGS...]
#
# Runs CMD against a throwaway PostgreSQL cluster with pgvector:
#   - starts a private cluster (trust auth, loopback only, unix socket in a temp
#     dir, durability switched off because the data is thrown away, unless
#     BATON_PG_DURABLE=1),
#   - exports BATON_TEST_DATABASE_URL and BATON_REQUIRE_POSTGRES=1,
#   - runs CMD, then always stops the cluster and removes its files (also on
#     failure or interrupt) and exits with CMD's status.
#
# When the pgvector extension is missing it is built from Debian's source
# package (root on Debian only; anywhere else the script says what to install).
#
# Environment:
#   BATON_PG_MAJOR   PostgreSQL major version to use (default 15)
#   BATON_PG_KEEP=1  keep the cluster's log and data dir on exit (debugging)
#   BATON_PG_DURABLE=1
#                    run the cluster as production does (fsync, synchronous_commit
#                    and full_page_writes on): throughput figures are measured
#                    on it, never on the fast throwaway settings
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARGS...]" >&2
	exit 2
fi

PG_MAJOR=${BATON_PG_MAJOR:-15}
DB_NAME=baton_test
ME=with-postgres

tmp=""
setup_log=""
bindir=""
started=0

as_pg() {
	# PostgreSQL refuses to run as root: run its tools as the postgres user then.
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

cleanup() {
	local status=$?
	trap - EXIT INT TERM
	if [[ $started -eq 1 ]]; then
		as_pg "$bindir/pg_ctl" -D "$tmp/data" -m immediate -w stop >>"$setup_log" 2>&1 || true
	fi
	if [[ -n $tmp && -d $tmp ]]; then
		if [[ ${BATON_PG_KEEP:-} == 1 ]]; then
			echo "$ME: kept $tmp" >&2
		else
			rm -rf "$tmp"
		fi
	fi
	exit "$status"
}

fail() {
	echo "$ME: $*" >&2
	if [[ -n $setup_log && -s $setup_log ]]; then
		echo "$ME: --- setup log ($setup_log) ---" >&2
		tail -n 80 "$setup_log" >&2
		echo "$ME: --- end of setup log ---" >&2
	fi
	exit 1
}

find_bindir() {
	local c
	for c in "/usr/lib/postgresql/$PG_MAJOR/bin" "$(pg_config --bindir 2>/dev/null || true)"; do
		[[ -n $c && -x $c/initdb && -x $c/pg_ctl && -x $c/postgres ]] || continue
		if "$c/postgres" --version 2>/dev/null | grep -Eq "\\) $PG_MAJOR\\."; then
			bindir=$c
			return 0
		fi
	done
	fail "PostgreSQL $PG_MAJOR server binaries not found (looked in /usr/lib/postgresql/$PG_MAJOR/bin and \$(pg_config --bindir)).
  Debian/Ubuntu: apt-get install postgresql-$PG_MAJOR
  other systems: install the PostgreSQL $PG_MAJOR server and put its bin directory on PATH"
}

pg_config_bin() {
	if [[ -x $bindir/pg_config ]]; then
		echo "$bindir/pg_config"
	else
		command -v pg_config
	fi
}

install_pgvector() {
	local pgc=$1
	local how="install pgvector for PostgreSQL $PG_MAJOR:
  Debian/Ubuntu with the PGDG repository: apt-get install postgresql-$PG_MAJOR-pgvector
  from source: git clone https://github.com/pgvector/pgvector && cd pgvector && make PG_CONFIG=$pgc && sudo make install PG_CONFIG=$pgc"
	if [[ $(id -u) -ne 0 ]]; then
		fail "the vector extension is missing and building it needs root; $how"
	fi
	if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null; then
		fail "the vector extension is missing and this is not a Debian system; $how"
	fi
	local src=/etc/apt/sources.list.d/debian.sources
	[[ -f $src ]] || fail "the vector extension is missing and $src (needed to add Debian's source packages) does not exist; $how"

	# Serialise concurrent runs: the second one waits and finds it installed.
	exec 9>/var/lock/baton-pgvector.lock
	flock 9
	if [[ -f $($pgc --sharedir)/extension/vector.control ]]; then
		exec 9>&-
		return 0
	fi
	echo "$ME: pgvector missing, building it from Debian's source package (once per machine)..." >&2

	local list=/etc/apt/sources.list.d/trixie-src.sources
	local uris signed
	uris=$(sed -n 's/^URIs:[[:space:]]*//p' "$src" | head -n 1)
	signed=$(sed -n 's/^Signed-By:[[:space:]]*//p' "$src" | head -n 1)
	[[ -n $uris && -n $signed ]] || fail "could not read URIs and Signed-By from $src; $how"
	printf 'Types: deb-src\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: %s\n' "$uris" "$signed" >"$list"
	{
		apt-get update &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "postgresql-server-dev-$PG_MAJOR" build-essential
	} >>"$setup_log" 2>&1 || fail "installing postgresql-server-dev-$PG_MAJOR failed; $how"

	local build
	build=$(mktemp -d /tmp/baton-pgvector.XXXXXX)
	(
		cd "$build" &&
			apt-get source --download-only pgvector &&
			tar -xzf pgvector_*.orig.tar.gz &&
			cd pgvector-*/ &&
			make PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config" &&
			make install PG_CONFIG="/usr/lib/postgresql/$PG_MAJOR/bin/pg_config"
	) >>"$setup_log" 2>&1 || {
		rm -rf "$build"
		fail "building pgvector from source failed; $how"
	}
	rm -rf "$build"
	[[ -f $($pgc --sharedir)/extension/vector.control ]] || fail "pgvector was built but vector.control is not in $($pgc --sharedir)/extension; $how"
	exec 9>&-
}

port_in_use() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

child=""
on_signal() {
	if [[ -n $child ]]; then
		kill "-$1" "$child" 2>/dev/null || true
		wait "$child" 2>/dev/null || true
	fi
	exit "$2"
}
trap cleanup EXIT
trap 'on_signal INT 130' INT
trap 'on_signal TERM 143' TERM

tmp=$(mktemp -d /tmp/baton-pg.XXXXXX)
setup_log=$tmp/setup.log
: >"$setup_log"
chmod 755 "$tmp"
if [[ $(id -u) -eq 0 ]]; then
	id postgres >/dev/null 2>&1 || fail "running as root but there is no postgres user to run the server as (useradd --system postgres)"
	chown postgres: "$tmp" "$setup_log"
fi

find_bindir
pgc=$(pg_config_bin) || fail "pg_config not found; install postgresql-server-dev-$PG_MAJOR (or your system's PostgreSQL development package)"
if [[ ! -f $($pgc --sharedir)/extension/vector.control ]]; then
	install_pgvector "$pgc"
fi

# A UTF-8 character type makes lower() and the text search parsers fold
# non-ASCII letters (Cyrillic, Turkish, accents); the C locale would not.
locale_opt=--no-locale
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
	locale_opt=--locale=C.UTF-8
fi
as_pg "$bindir/initdb" -D "$tmp/data" -U postgres -E UTF8 "$locale_opt" \
	--auth-local=trust --auth-host=trust --no-sync >>"$setup_log" 2>&1 ||
	fail "initdb failed"
mkdir -p "$tmp/sock"
[[ $(id -u) -eq 0 ]] && chown postgres: "$tmp/sock"

durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [[ ${BATON_PG_DURABLE:-} == 1 ]]; then
	durability="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
fi

port=""
for _ in 1 2 3 4 5 6 7 8; do
	p=$((20000 + RANDOM % 40000))
	port_in_use "$p" && continue
	if as_pg "$bindir/pg_ctl" -D "$tmp/data" -l "$tmp/postgres.log" -w -t 60 -o \
		"-c listen_addresses=127.0.0.1 -p $p -k $tmp/sock $durability -c max_connections=300 -c shared_buffers=128MB -c max_locks_per_transaction=256" \
		start >>"$setup_log" 2>&1; then
		port=$p
		started=1
		break
	fi
	cat "$tmp/postgres.log" >>"$setup_log" 2>/dev/null || true
done
[[ -n $port ]] || fail "could not start PostgreSQL on a free port"

psql_admin() {
	as_pg "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$tmp/sock" -p "$port" -U postgres "$@"
}
psql_admin -d postgres -c "CREATE DATABASE $DB_NAME" >>"$setup_log" 2>&1 || fail "could not create database $DB_NAME"
versions=$(psql_admin -d "$DB_NAME" -At -c "CREATE EXTENSION IF NOT EXISTS vector" \
	-c "SELECT split_part(current_setting('server_version'), ' ', 1) || '|' || extversion FROM pg_extension WHERE extname = 'vector'" 2>>"$setup_log") ||
	fail "could not create the vector extension"
IFS='|' read -r server_version vector_version <<<"$versions"

export BATON_TEST_DATABASE_URL="postgres://postgres@127.0.0.1:$port/$DB_NAME?sslmode=disable"
export BATON_REQUIRE_POSTGRES=1
durable=off
[[ ${BATON_PG_DURABLE:-} == 1 ]] && durable=on
echo "$ME: PostgreSQL $server_version on 127.0.0.1:$port, pgvector $vector_version, durable $durable" >&2

# The command runs in the background so that a TERM/INT sent to this script
# interrupts the wait at once (a trap on a foreground child only runs after the
# child exits); the signal is passed on and the cluster removed after.
set +e
"$@" <&0 &
child=$!
wait "$child"
status=$?
child=""
set -e
exit "$status"
