#!/usr/bin/env python3
"""A traffic command for durable-rollouts' `command` provider that steers a real HAProxy.

It is an example of the command protocol, small enough to read in one go and to adapt to another
load balancer; for HAProxy itself the built-in `haproxy` provider does more (several servers per
version, header routes, a versions map the metrics provider can count by). Python's standard
library only.

    traffic:
      provider: command
      command: /usr/local/bin/haproxy-traffic-command.py
      args: [--runtime-api, unix:/run/haproxy/admin.sock, --backend, app,
             --state, /var/lib/durable-rollouts/haproxy-app.json]

and each version's `routes` name its one server in that backend, e.g. stable routes [blue],
canary routes [green].

Protocol (see src/providers/traffic/command.ts). The request comes as one JSON object on stdin:

    {"action": "set", "service": "checkout",
     "split": {"stable": {"version": "v1", "routes": ["blue"], "targets": [...]},
               "canary": {"version": "v2", "routes": ["green"], "targets": [...]} | null,
               "canaryWeight": 25}}
    {"action": "get", "service": "checkout"}

Both print the split HAProxy applies now, read back from HAProxy, as one JSON object on stdout:

    {"stable": {"version": "v1", "routes": ["blue"], "targets": [...]} | null,
     "canary": ... | null, "weights": {"stable": 75, "canary": 25}, "match": null,
     "readBack": "haproxy app: blue ready weight 75 (v1), green ready weight 25 (v2)"}

Exit status: 0 done; 2 refused, retrying will not help (malformed input, an unknown backend or
server, a header route); 1 anything that may pass (HAProxy unreachable, a read-back that does not
show the split yet). The message is on stderr, and the worker quotes it.

What it does:
  * set: the stable server gets weight 100 - w and the canary server weight w (HAProxy's weights
    go from 0 to 256; one server per version, so weight = percent and the shares are exact). A
    server with no share, and every other server of the backend, goes to `maint` rather than to
    weight 0: weight 0 still takes users whose affinity cookie names the server, maint does not.
    The servers that get a share are made `ready` and weighted first, the others are put in maint
    after, so that the backend always has a live server. Then it reads the split back and checks
    that the canary's share rounds to w.
  * get: the weights and maint/drain states come from HAProxy itself (`show servers state
    <backend>`). HAProxy has no labels for servers unless the config looks them up in a map, so
    which version each server carries, and each version's targets, come from the --state file
    that `set` writes (atomically, under a lock on <state>.lock). A share is the server's weight over the sum of
    the weights of all the backend's servers that are neither in maint nor draining.
  * Header routes (`match`) are refused: this example does not do them. Use the built-in haproxy
    provider, whose config (docs/haproxy.cfg) has the map and `use-server` lines they need.
  * Health is the rollout's checks' business, not this command's: a server that HAProxy's own
    checks hold DOWN keeps its weight, and the read-back only says "DOWN" next to it.

Every name is checked against ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$ before it goes into a Runtime
API command, so nothing in the input can add a command (the Runtime API splits on ";" and
newlines).
"""

import argparse
import errno
import fcntl
import json
import math
import os
import re
import socket
import sys
import tempfile

EXIT_TRANSIENT = 1
EXIT_PERMANENT = 2

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
RUNTIME_API = re.compile(r"tcp://(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):(?P<port>[0-9]{1,5})|unix:(?P<path>/.*)")
MAX_TARGETS = 16
MAX_TARGET_LENGTH = 2048
MAX_READ_BACK = 500
SOCKET_TIMEOUT = 3.0

# srv_admin_state bits (HAProxy's SRV_ADMF_*): forced, inherited or resolution maintenance; drain.
ADMIN_MAINT = 0x01 | 0x02 | 0x20
ADMIN_DRAIN = 0x08 | 0x10
OP_STOPPED = 0


class Refused(Exception):
    """Retrying will not help: exit 2."""


class Transient(Exception):
    """May pass on a retry: exit 1."""


def checked_name(value, what):
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise Refused(f"{what} {json.dumps(value)} is not a HAProxy name "
                      "(letters, digits, '.', '_', ':' and '-', at most 64 characters)")
    return value


# --- The Runtime API -------------------------------------------------------------------------

class RuntimeApi:
    """One command per connection: HAProxy answers and closes (non-interactive mode)."""

    def __init__(self, address):
        match = RUNTIME_API.fullmatch(address)
        if not match:
            raise Refused(f"--runtime-api {json.dumps(address)}: want tcp://HOST:PORT or unix:/path")
        self.address = address
        if match.group("path"):
            self.family, self.target = socket.AF_UNIX, match.group("path")
        else:
            host = match.group("host").strip("[]")
            port = int(match.group("port"))
            if not 0 < port < 65536:
                raise Refused(f"--runtime-api {address}: port out of range")
            self.family = socket.AF_INET6 if ":" in host else socket.AF_INET
            self.target = (host, port)

    def command(self, line):
        if "\n" in line or ";" in line:
            raise Refused(f"not one Runtime API command: {json.dumps(line)}")
        try:
            with socket.socket(self.family, socket.SOCK_STREAM) as sock:
                sock.settimeout(SOCKET_TIMEOUT)
                sock.connect(self.target)
                sock.sendall(line.encode("ascii") + b"\n")
                chunks = []
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
        except OSError as err:
            # Refused, reset, timed out, no such socket: HAProxy may be restarting.
            reason = err.strerror or str(err) or type(err).__name__
            raise Transient(f"haproxy runtime API {self.address} ({line.split()[0]} ...): {reason}")
        return b"".join(chunks).decode("utf-8", "replace")

    def change(self, line):
        """A `set ...` command: HAProxy answers an empty line when it applied it."""
        answer = self.command(line).strip()
        if answer:
            raise Refused(f"haproxy refused `{line}`: {answer}")

    def servers(self, backend):
        """{server: {"admin": int, "op": int, "weight": int}} from `show servers state <backend>`."""
        answer = self.command(f"show servers state {backend}")
        lines = [l for l in answer.splitlines() if l.strip()]
        if len(lines) < 2 or not lines[1].startswith("# "):
            text = answer.strip()
            if text == "Can't find backend.":
                raise Refused(f"haproxy has no backend {backend}")
            raise Transient(f"unexpected answer to show servers state {backend}: {text[:200]}")
        columns = lines[1][2:].split()
        try:
            name, admin, op, weight = (columns.index(c) for c in
                                       ("srv_name", "srv_admin_state", "srv_op_state", "srv_uweight"))
            servers = {}
            for row in lines[2:]:
                fields = row.split()
                servers[fields[name]] = {"admin": int(fields[admin]), "op": int(fields[op]),
                                         "weight": int(fields[weight])}
        except (ValueError, IndexError) as err:
            raise Transient(f"cannot read show servers state {backend}: {err}")
        return servers


# --- The state file: which version each server carries ----------------------------------------

def read_state(path):
    try:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
    except FileNotFoundError:
        return {"stable": None, "canary": None}
    except (OSError, ValueError) as err:
        raise Refused(f"state file {path} is unreadable: {err}")
    if not isinstance(state, dict):
        raise Refused(f"state file {path} does not hold a JSON object")
    return state


def write_state(path, state):
    directory = os.path.dirname(path) or "."
    fd, temporary = tempfile.mkstemp(prefix=".haproxy-traffic-", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(state, f, indent=2)
            f.write("\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise


class Locked:
    """Holds an exclusive lock on <state>.lock: one set or get at a time per state file."""

    def __init__(self, state_path):
        self.path = state_path + ".lock"

    def __enter__(self):
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as err:
            raise Refused(f"cannot open lock file {self.path}: {err.strerror}")
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *_):
        os.close(self.fd)


# --- Requests ----------------------------------------------------------------------------------

def parse_version(value, role, known):
    """A desired version: {version, routes: [one server], targets?} -> (version, server, targets)."""
    if not isinstance(value, dict):
        raise Refused(f"split.{role} must be an object")
    version = value.get("version")
    if not isinstance(version, str) or not VERSION.fullmatch(version):
        raise Refused(f"split.{role}.version {json.dumps(version)} is not a version name")
    routes = value.get("routes")
    if not isinstance(routes, list) or len(routes) != 1:
        raise Refused(f"split.{role}.routes must name exactly one server of the backend: this "
                      "example gives each version one server (routes: [<server>])")
    server = checked_name(routes[0], f"split.{role}.routes[0]")
    if server not in known:
        raise Refused(f"split.{role}: no server {server} in the backend "
                      f"(it has: {', '.join(sorted(known)) or 'none'})")
    targets = value.get("targets", [])
    if (not isinstance(targets, list) or len(targets) > MAX_TARGETS
            or not all(isinstance(t, str) and len(t) <= MAX_TARGET_LENGTH for t in targets)):
        raise Refused(f"split.{role}.targets must be a list of at most {MAX_TARGETS} strings")
    return {"version": version, "server": server, "targets": targets}


def parse_set(split, known):
    if not isinstance(split, dict):
        raise Refused("split must be an object")
    if split.get("match") is not None:
        raise Refused("split.match: this example does not do header routes; use the built-in "
                      "haproxy provider (and docs/haproxy.cfg) for them")
    weight = split.get("canaryWeight")
    if type(weight) is not int or not 0 <= weight <= 100:
        raise Refused(f"split.canaryWeight {json.dumps(weight)} must be an integer from 0 to 100")
    stable = parse_version(split.get("stable"), "stable", known)
    canary = None
    if split.get("canary") is not None:
        canary = parse_version(split["canary"], "canary", known)
        if canary["server"] == stable["server"]:
            raise Refused(f"stable and canary are both on server {stable['server']}")
    elif weight != 0:
        raise Refused(f"split.canaryWeight is {weight} but there is no canary")
    return stable, canary, weight


def half_up(x):
    return math.floor(x + 0.5)


def applied_split(api, backend, state):
    """The split HAProxy applies now: weights from HAProxy, versions from the state file."""
    servers = api.servers(backend)

    def share_weight(server):
        s = servers.get(server)
        if not s or s["admin"] & (ADMIN_MAINT | ADMIN_DRAIN):
            return 0
        return s["weight"]

    total = sum(share_weight(name) for name in servers)
    roles = {}
    for role in ("stable", "canary"):
        entry = state.get(role)
        if isinstance(entry, dict) and entry.get("server") in servers:
            roles[role] = entry
    shares = {}
    for role in ("stable", "canary"):
        weight = share_weight(roles[role]["server"]) if role in roles else 0
        shares[role] = half_up(100 * weight / total) if total else 0
    if shares["stable"] + shares["canary"] > 100:
        shares["stable"] = 100 - shares["canary"]

    def describe(name):
        s = servers[name]
        if s["admin"] & ADMIN_MAINT:
            text = f"{name} maint"
        elif s["admin"] & ADMIN_DRAIN:
            text = f"{name} drain"
        else:
            text = f"{name} ready weight {s['weight']}"
        if s["op"] == OP_STOPPED and not s["admin"] & ADMIN_MAINT:  # maint reads as stopped too
            text += " DOWN"
        carried = [roles[r]["version"] for r in roles if roles[r]["server"] == name]
        return text + (f" ({carried[0]})" if carried else "")

    read_back = f"haproxy {backend}: " + ", ".join(describe(name) for name in servers)
    if len(read_back) > MAX_READ_BACK:
        read_back = read_back[: MAX_READ_BACK - 3] + "..."

    def reported(role):
        entry = roles.get(role)
        if not entry:
            return None
        return {"version": entry["version"], "routes": [entry["server"]],
                "targets": list(entry.get("targets", []))}

    return {"stable": reported("stable"), "canary": reported("canary"),
            "weights": shares, "match": None, "readBack": read_back}


def do_set(api, args, request):
    servers = api.servers(args.backend)
    for name in servers:
        checked_name(name, "server")
    stable, canary, weight = parse_set(request.get("split"), servers)
    # Which version each server carries is a fact of the deployment: recorded first, so that a
    # failure below leaves a state that a retry of the same set completes.
    write_state(args.state, {"backend": args.backend, "service": request.get("service"),
                             "stable": stable, "canary": canary})
    live = {}
    if 100 - weight > 0:
        live[stable["server"]] = 100 - weight
    if canary and weight > 0:
        live[canary["server"]] = weight
    for server, share in live.items():
        api.change(f"set server {args.backend}/{server} state ready")
        api.change(f"set weight {args.backend}/{server} {share}")
    for server in servers:
        if server not in live:
            api.change(f"set server {args.backend}/{server} state maint")
    split = applied_split(api, args.backend, read_state(args.state))
    if split["weights"]["canary"] != weight:
        raise Transient(f"haproxy reports the canary at {split['weights']['canary']}%, "
                        f"wanted {weight}%: {split['readBack']}")
    return split


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runtime-api", required=True, help="tcp://HOST:PORT or unix:/path")
    parser.add_argument("--backend", required=True, help="the HAProxy backend the versions' servers are in")
    parser.add_argument("--state", required=True, help="JSON file recording which version each server carries")
    args = parser.parse_args(argv)  # a usage error exits 2: retrying will not help
    try:
        checked_name(args.backend, "--backend")
        if not os.path.isabs(args.state):
            raise Refused(f"--state {args.state} must be an absolute path")
        api = RuntimeApi(args.runtime_api)
        try:
            request = json.loads(sys.stdin.read())
        except ValueError as err:
            raise Refused(f"stdin is not one JSON object: {err}")
        if not isinstance(request, dict):
            raise Refused("stdin is not one JSON object")
        action = request.get("action")
        if not isinstance(request.get("service", ""), str):
            raise Refused("service must be a string")
        with Locked(args.state):
            if action == "set":
                split = do_set(api, args, request)
            elif action == "get":
                split = applied_split(api, args.backend, read_state(args.state))
            else:
                raise Refused(f"action {json.dumps(action)}: want \"set\" or \"get\"")
    except Refused as err:
        print(f"haproxy-traffic-command: {err}", file=sys.stderr)
        return EXIT_PERMANENT
    except Transient as err:
        print(f"haproxy-traffic-command: {err}", file=sys.stderr)
        return EXIT_TRANSIENT
    except OSError as err:
        # The state file: a missing directory, no permission or a read-only file system will not
        # fix themselves (exit 2); a full disk or an I/O error may pass (exit 1).
        print(f"haproxy-traffic-command: {err}", file=sys.stderr)
        return EXIT_PERMANENT if err.errno in (errno.EACCES, errno.ENOENT, errno.EROFS) else EXIT_TRANSIENT
    json.dump(split, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
