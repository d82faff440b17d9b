#!/bin/bash
# Builds the ipa-hcc-ts RPMs (common, server, client, selinux) and the source RPM with
# rpmbuild, from rpm/ipa-hcc-ts.spec.
#
#   scripts/build-rpm.sh [--topdir DIR] [--release N] [--worktree] [--source-dir DIR] [--spec FILE]
#
#   --topdir DIR      rpmbuild's _topdir (default: .tmp/rpmbuild in the repository); the RPMs
#                     land in DIR/RPMS/noarch, the source RPM in DIR/SRPMS
#   --release N       Release of the packages (default: the spec's, 1)
#   --worktree        take the sources from the working tree (tracked files and untracked ones
#                     git does not ignore) instead of the HEAD commit
#   --source-dir DIR  the git checkout to package (default: this repository)
#   --spec FILE       another spec file (default: rpm/ipa-hcc-ts.spec of the source)
#
# It makes, in DIR/SOURCES:
#   ipa-hcc-ts-<version>.tar.gz               git archive of HEAD (or the working tree)
#   ipa-hcc-ts-<version>-node_modules.tar.gz  production npm dependencies
#                                             (npm ci --omit=dev --ignore-scripts, staged)
#   ipa-hcc-ts-<version>-build-tools.tar.gz   typescript and the @types packages tsc needs,
#                                             at the lockfile's versions, for %build only
#   ipa-hcc-ts.sysusers                       the sysusers file, read while the spec is parsed
# The npm dependencies are vendored because Fedora/COPR builds have no network: the source
# RPM holds everything needed to rebuild. The npm tarballs are reused while package.json and
# package-lock.json are unchanged.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
src=$repo
topdir=$repo/.tmp/rpmbuild
release=
worktree=0
spec=

die() {
  echo "build-rpm: ERROR: $1" >&2
  [ -z "${2:-}" ] || echo "build-rpm: $2" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case $1 in
    --topdir) topdir=$2; shift 2 ;;
    --release) release=$2; shift 2 ;;
    --worktree) worktree=1; shift ;;
    --source-dir) src=$2; shift 2 ;;
    --spec) spec=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1" "Run scripts/build-rpm.sh --help for the options." ;;
  esac
done

for tool in git node npm rpmbuild scdoc make bzip2 tar; do
  command -v "$tool" >/dev/null || die "$tool is not installed" \
    "On Debian: apt-get install rpm scdoc make bzip2 (and selinux-policy-dev for the SELinux module)."
done
[ -f /usr/share/selinux/devel/Makefile ] || die "/usr/share/selinux/devel/Makefile is missing" \
  "Install selinux-policy-dev (Debian) or selinux-policy-devel (Fedora) to compile the SELinux module."

src=$(cd "$src" && pwd)
topdir=$(mkdir -p "$topdir" && cd "$topdir" && pwd)
git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || die "$src is not a git checkout" \
  "The source tarball is made with git archive: run this in a clone of the repository."

# The files of the source, as the tarball will hold them.
if [ "$worktree" = 1 ]; then
  list_files() {
    git -C "$src" ls-files -z --cached --others --exclude-standard |
      while IFS= read -r -d '' f; do [ -e "$src/$f" ] && printf '%s\0' "$f"; done
  }
  read_file() { cat "$src/$1"; }
else
  list_files() { git -C "$src" ls-tree -r -z --name-only HEAD; }
  read_file() { git -C "$src" show "HEAD:$1"; }
fi
files=$(list_files | tr '\0' '\n')

# Written by other parts of the project; the packages cannot be built without them.
required=(
  package.json package-lock.json tsconfig.json tsconfig.build.json rpm/ipa-hcc-ts.spec
  systemd/ipa-hcc-tsd.service systemd/ipa-hcc-ts-enroll.service
  systemd/80-ipa-hcc-ts-client.preset systemd/ipa-hcc-ts.sysusers systemd/ipa-hcc-ts.tmpfiles
  systemd/ipa-hcc-ts.xml
  selinux/ipa_hcc_ts.te selinux/ipa_hcc_ts.fc selinux/ipa_hcc_ts.if
  man/ipa-hcc-ts.1.scd man/ipa-hcc-tsd.8.scd man/ipa-hcc-ts-enroll.8.scd
  man/ipa-hcc-ts.conf.5.scd man/ipa-hcc-ts-client.conf.5.scd
)
missing=()
for f in "${required[@]}"; do
  grep -qxF "$f" <<<"$files" || missing+=("$f")
done
if [ "${#missing[@]}" -gt 0 ]; then
  where="the HEAD commit of $src"
  [ "$worktree" = 1 ] && where="the working tree of $src"
  die "missing from $where: ${missing[*]}" \
    "The spec installs these files; add them (or, for files not committed yet, use --worktree)."
fi

version=$(read_file package.json | node -e \
  'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).version))')
name=ipa-hcc-ts
if [ -n "$spec" ]; then
  spec_text=$(cat "$spec")
else
  spec_text=$(read_file rpm/ipa-hcc-ts.spec)
fi
spec_version=$(sed -n 's/^Version:[[:space:]]*//p' <<<"$spec_text")
[ "$spec_version" = "$version" ] || die \
  "the spec's Version ($spec_version) differs from package.json's version ($version)" \
  "Set Version: $version in rpm/ipa-hcc-ts.spec."

mkdir -p "$topdir"/{SOURCES,SPECS,BUILD,RPMS,SRPMS}
sources=$topdir/SOURCES
printf '%s\n' "$spec_text" >"$topdir/SPECS/$name.spec"

# Source0: the tree.
echo "build-rpm: source tarball $name-$version.tar.gz" >&2
if [ "$worktree" = 1 ]; then
  list_files | tar -C "$src" --null -T - --owner=0 --group=0 --numeric-owner \
    --transform "s,^,$name-$version/," -czf "$sources/$name-$version.tar.gz"
else
  git -C "$src" archive --format=tar.gz --prefix="$name-$version/" \
    -o "$sources/$name-$version.tar.gz" HEAD
fi
read_file systemd/ipa-hcc-ts.sysusers >"$sources/$name.sysusers"

# Source1 and Source2: the npm dependencies, from the lockfile.
stamp=$( (read_file package.json; read_file package-lock.json) | sha256sum | cut -d' ' -f1)
nm_tar=$sources/$name-$version-node_modules.tar.gz
tools_tar=$sources/$name-$version-build-tools.tar.gz
if [ -f "$nm_tar" ] && [ -f "$tools_tar" ] && [ "$(cat "$sources/.npm-stamp" 2>/dev/null)" = "$stamp" ]; then
  echo "build-rpm: npm tarballs unchanged, reused" >&2
else
  stage=$(mktemp -d "${TMPDIR:-/tmp}/ipa-hcc-ts-npm.XXXXXX")
  trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/prod" "$stage/all"
  for d in prod all; do
    read_file package.json >"$stage/$d/package.json"
    read_file package-lock.json >"$stage/$d/package-lock.json"
  done
  echo "build-rpm: npm ci --omit=dev --ignore-scripts (production dependencies)" >&2
  (cd "$stage/prod" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund >&2)
  tar -C "$stage/prod" --owner=0 --group=0 --numeric-owner -czf "$nm_tar" node_modules

  echo "build-rpm: npm ci --ignore-scripts (for the build tools)" >&2
  (cd "$stage/all" && npm ci --ignore-scripts --no-audit --no-fund >&2)
  # typescript, every @types package the lockfile has, and what they depend on.
  (cd "$stage/all" && node -e '
    const lock = require("./package-lock.json").packages;
    const roots = Object.keys(lock).filter((p) =>
      p === "node_modules/typescript" || /^node_modules\/@types\/[^/]+$/.test(p));
    const seen = new Set();
    const visit = (p) => {
      if (seen.has(p)) return;
      seen.add(p);
      for (const dep of Object.keys(lock[p].dependencies ?? {})) {
        // Node resolution: the nearest node_modules up from the dependent package.
        let base = p;
        for (;;) {
          const candidate = `${base}/node_modules/${dep}`;
          if (lock[candidate]) { visit(candidate); break; }
          const i = base.lastIndexOf("/node_modules/");
          if (i < 0) { if (lock[`node_modules/${dep}`]) visit(`node_modules/${dep}`); break; }
          base = base.slice(0, i);
        }
      }
    };
    roots.forEach(visit);
    console.log([...seen].sort().join("\n"));
  ') >"$stage/tools.list"
  grep -qx node_modules/typescript "$stage/tools.list" || die "typescript is not in package-lock.json" \
    "The build compiles with the lockfile's typescript; add it to devDependencies."
  tar -C "$stage/all" --owner=0 --group=0 --numeric-owner -czf "$tools_tar" -T "$stage/tools.list"
  echo "$stamp" >"$sources/.npm-stamp"
fi

# Debian's rpm database knows none of the BuildRequires (they are Debian packages here), so
# rpmbuild's dependency check is skipped there; on Fedora/RHEL it stays on.
nodeps=()
if [ -f /etc/debian_version ]; then
  nodeps=(--nodeps)
fi
defines=(--define "_topdir $topdir")
[ -z "$release" ] || defines+=(--define "release_override $release")

echo "build-rpm: rpmbuild -ba $name.spec${release:+ (release $release)}" >&2
rpmbuild "${defines[@]}" "${nodeps[@]}" -ba "$topdir/SPECS/$name.spec" >&2

echo "build-rpm: built:" >&2
find "$topdir/RPMS" "$topdir/SRPMS" -name "$name-*$version-${release:-1}*.rpm" | sort
