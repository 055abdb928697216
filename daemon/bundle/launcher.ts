/**
 * `ferry/bin/ferry` in a bundle: a POSIX sh script that runs ferry on the
 * bundled node. It finds the bundle's folder from `$0` by parameter expansion
 * alone, since the machine it is made for may have nothing on PATH: a
 * relative `$0` is taken against `$PWD`, and the two last path components
 * (`bin/ferry`) are cut off. A symbolic link to the script (say
 * /usr/local/bin/ferry) is followed with `readlink`, the one external
 * command, needed only in that case (without it, the script says so).
 */
export const LAUNCHER = `#!/bin/sh
# ferry, bundled with the Node.js it runs on: needs nothing on PATH.
case $0 in
  /*) self=$0 ;;
  *) self=$PWD/$0 ;;
esac
n=0
while [ -h "$self" ] && [ "$n" -lt 40 ] && command -v readlink >/dev/null 2>&1; do
  link=$(readlink "$self")
  case $link in
    /*) self=$link ;;
    *) self=\${self%/*}/$link ;;
  esac
  n=$((n + 1))
done
bin=\${self%/*}
root=\${bin%/*}
if [ ! -x "$root/node/bin/node" ]; then
  echo "ferry: no $root/node/bin/node: run ferry/bin/ferry of the unpacked bundle by its path (a link to it needs readlink on PATH)" >&2
  exit 127
fi
exec "$root/node/bin/node" "$root/lib/dist/cli/main.js" "$@"
`
