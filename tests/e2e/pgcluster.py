"""Private PostgreSQL clusters for the multi-node and failover e2e tests: a primary, a streaming
standby made with pg_basebackup, a hard kill of the primary and the promotion of the standby.

Python 3 standard library only, plus Debian's PostgreSQL server binaries (initdb, pg_ctl,
pg_basebackup: the newest /usr/lib/postgresql/*/bin, or PG_BINDIR) and psql.  Every wait is
bounded.  Runs as a normal user or as root: initdb and the server refuse to run as root, so as
root the cluster directories are given to the `postgres` system user and every server-side
binary runs through `runuser -u postgres --`.  Clients (psql) connect over TCP on 127.0.0.1
with trust authentication as the superuser `postgres`.

    python3 pgcluster.py selftest     primary + synchronous standby, kill -9, promote, data there
"""

import atexit
import glob
import os
import pwd
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

PORT_RANGE = (57000, 57999)
DEFAULT_TIMEOUT = 30.0


class ClusterError(AssertionError):
    pass


_LIVE = []      # clusters started by this process and not cleaned up (stopped at exit)


@atexit.register
def _cleanup_leftovers():
    for c in list(_LIVE):
        try:
            c.cleanup(remove=not os.environ.get("ROSTER_E2E_KEEP"))
        except Exception as e:  # noqa: BLE001 - best effort at exit
            sys.stderr.write("pgcluster: cleanup of %s failed: %r\n" % (c.dir, e))


def exit_on_signals():
    """SIGTERM/SIGHUP (a test runner's timeout) exit through sys.exit, so atexit handlers
    stop the clusters instead of leaving servers behind."""
    def handler(signum, frame):
        sys.exit(128 + signum)
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)


def bindir():
    """The directory of initdb/pg_ctl/pg_basebackup (PG_BINDIR, else the newest installed)."""
    env = os.environ.get("PG_BINDIR")
    if env:
        if not os.access(os.path.join(env, "initdb"), os.X_OK):
            raise ClusterError("PG_BINDIR=%s has no initdb" % env)
        return env
    best, best_v = None, -1
    for d in glob.glob("/usr/lib/postgresql/*/bin"):
        v = os.path.basename(os.path.dirname(d))
        if v.isdigit() and int(v) > best_v and os.access(os.path.join(d, "initdb"), os.X_OK):
            best, best_v = d, int(v)
    if not best:
        raise ClusterError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin "
                           "(install Debian's postgresql package: scripts/deps)")
    return best


def psql_bin():
    p = shutil.which("psql")
    if p:
        return p
    p = os.path.join(bindir(), "psql")
    if os.access(p, os.X_OK):
        return p
    raise ClusterError("psql not found (install Debian's postgresql-client)")


def is_root():
    return os.geteuid() == 0


def _port_free(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_TAKEN = set()   # ports handed out by this process (a cluster may not have bound yet)


def free_port(lo=PORT_RANGE[0], hi=PORT_RANGE[1]):
    """A port in [lo, hi] that nothing listens on and this process has not handed out."""
    candidates = list(range(lo, hi + 1))
    random.shuffle(candidates)
    for p in candidates:
        if p not in _TAKEN and _port_free(p):
            _TAKEN.add(p)
            return p
    raise ClusterError("no free port in %d-%d" % (lo, hi))


def _owner_ids():
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def _chown_tree(path):
    """As root: gives path (and everything in it) to the postgres user."""
    if not is_root():
        return
    uid, gid = _owner_ids()
    os.chown(path, uid, gid)
    for root, dirs, files in os.walk(path):
        for n in dirs + files:
            try:
                os.chown(os.path.join(root, n), uid, gid, follow_symlinks=False)
            except FileNotFoundError:
                pass


def _as_owner(argv):
    return (["runuser", "-u", "postgres", "--"] + argv) if is_root() else argv


def run_owner(argv, cwd, timeout=DEFAULT_TIMEOUT, check=True):
    """Runs a server-side PostgreSQL binary as the cluster owner; returns CompletedProcess."""
    try:
        p = subprocess.run(_as_owner(argv), cwd=cwd, capture_output=True, timeout=timeout,
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        raise ClusterError("%s did not finish within %.0fs:\n%s%s" % (
            " ".join(argv), timeout, (e.stdout or b"").decode("utf-8", "replace"),
            (e.stderr or b"").decode("utf-8", "replace")))
    if check and p.returncode != 0:
        raise ClusterError("%s failed (exit %d):\n%s%s" % (
            " ".join(argv), p.returncode, p.stdout.decode("utf-8", "replace"),
            p.stderr.decode("utf-8", "replace")))
    return p


def _pids_with_parent(ppid):
    """Pids of the live processes whose parent is ppid (from /proc)."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d, "rb") as f:
                stat = f.read().decode("ascii", "replace")
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
        rest = stat[stat.rfind(")") + 2:].split()
        if len(rest) >= 2 and rest[1] == str(ppid):
            out.append(int(d))
    return out


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return False
    state = stat[stat.rfind(")") + 2:].split()[0]
    return state not in ("Z", "X")


class Cluster:
    """One PostgreSQL server in its own directory: DIR/data (PGDATA), DIR/server.log, its unix
    socket in DIR, TCP on 127.0.0.1:port."""

    def __init__(self, directory, port, name="pg"):
        self.dir = directory
        self.data = os.path.join(directory, "data")
        self.log = os.path.join(directory, "server.log")
        self.port = port
        self.name = name
        self.bindir = bindir()
        self.postmaster_pid = None
        self._killed_pids = []   # the processes a kill() sent SIGKILL to (reaped in cleanup)

    # ---- layout
    @staticmethod
    def make_dir(parent, name):
        d = os.path.join(parent, name)
        os.makedirs(d, exist_ok=True)
        if is_root():
            # The parent (a mkdtemp, mode 0700) must be traversable by postgres.
            os.chmod(parent, 0o755)
            _chown_tree(d)
        return d

    def bin(self, name):
        return os.path.join(self.bindir, name)

    def uri(self, db="postgres"):
        return "postgresql://postgres@127.0.0.1:%d/%s" % (self.port, db)

    # ---- creation
    def initdb(self, conf=None, hba_replication=True):
        """initdb -A trust (superuser postgres, UTF8, C locale) and writes the settings."""
        run_owner([self.bin("initdb"), "-D", self.data, "-U", "postgres", "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"], cwd=self.dir, timeout=120)
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": "'%s'" % self.dir,
            "max_connections": "100",
            "fsync": "on",
            "wal_level": "replica",
            "max_wal_senders": "10",
            "max_replication_slots": "10",
            "wal_keep_size": "'64MB'",
            "hot_standby": "on",
            "logging_collector": "off",
            "log_line_prefix": "'%m [%p] %a '",
            "log_connections": "off",
        }
        settings.update(conf or {})
        self.write_conf(settings)
        hba = ["local all all trust",
               "host all all 127.0.0.1/32 trust"]
        if hba_replication:
            hba += ["local replication all trust",
                    "host replication all 127.0.0.1/32 trust"]
        self._write_owned(os.path.join(self.data, "pg_hba.conf"), "\n".join(hba) + "\n")
        return self

    def write_conf(self, settings):
        """Appends settings to postgresql.conf (the last occurrence of a name wins)."""
        path = os.path.join(self.data, "postgresql.conf")
        with open(path, "a") as f:
            f.write("\n# pgcluster.py\n")
            for k, v in settings.items():
                f.write("%s = %s\n" % (k, v))
        _chown_tree(path)

    def _write_owned(self, path, text):
        with open(path, "w") as f:
            f.write(text)
        _chown_tree(path)

    @classmethod
    def standby_of(cls, primary, directory, port, name="standby", conf=None, timeout=120):
        """pg_basebackup -R -X stream from primary into directory/data, with its own port and
        socket directory. Not started."""
        st = cls(directory, port, name)
        run_owner([st.bin("pg_basebackup"), "-D", st.data, "-h", "127.0.0.1",
                   "-p", str(primary.port), "-U", "postgres", "-R", "-X", "stream",
                   "-c", "fast", "--no-sync"], cwd=directory, timeout=timeout)
        settings = {"port": str(port), "unix_socket_directories": "'%s'" % directory}
        settings.update(conf or {})
        st.write_conf(settings)
        # postmaster.pid / opts are not copied by pg_basebackup; nothing else to reset.
        return st

    # ---- running
    def start(self, timeout=60):
        if self not in _LIVE:
            _LIVE.append(self)
        run_owner([self.bin("pg_ctl"), "start", "-w", "-t", str(int(timeout)), "-D", self.data,
                   "-l", self.log], cwd=self.dir, timeout=timeout + 10)
        self.postmaster_pid = self.read_pid()
        self.wait_accepting(timeout)
        return self

    def read_pid(self):
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline().strip())
        except (OSError, ValueError):
            return None

    def running(self):
        pid = self.read_pid()
        return pid is not None and _alive(pid)

    def wait_accepting(self, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            p = subprocess.run([self.bin("pg_isready"), "-h", "127.0.0.1", "-p", str(self.port),
                                "-U", "postgres", "-t", "2"], capture_output=True)
            if p.returncode == 0:
                return
            last = p.stdout.decode("utf-8", "replace").strip()
            time.sleep(0.1)
        raise ClusterError("%s on port %d not accepting after %.0fs (%s)\n%s"
                           % (self.name, self.port, timeout, last, self.log_tail()))

    def stop(self, mode="fast", timeout=60):
        if not self.running():
            return
        run_owner([self.bin("pg_ctl"), "stop", "-w", "-t", str(int(timeout)), "-m", mode,
                   "-D", self.data], cwd=self.dir, timeout=timeout + 10, check=False)

    def kill(self, children=True):
        """SIGKILL of the postmaster (read from DATA/postmaster.pid), as a crash would: and,
        with children, of every backend, walsender and helper it had, at the same instant, so
        that nothing of the old server lingers on (a host dying)."""
        pid = self.read_pid() or self.postmaster_pid
        if pid is None or not _alive(pid):
            raise ClusterError("%s: no running postmaster to kill" % self.name)
        victims = [pid] + (_pids_with_parent(pid) if children else [])
        for v in victims:
            try:
                os.kill(v, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._killed_pids.extend(victims)
        # The postmaster is our child's child (pg_ctl forked it and exited): init reaps it.
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(v) for v in victims):
            time.sleep(0.02)
        return victims

    def promote(self, timeout=60):
        run_owner([self.bin("pg_ctl"), "promote", "-w", "-t", str(int(timeout)), "-D", self.data],
                  cwd=self.dir, timeout=timeout + 10)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.sql("SELECT pg_is_in_recovery()").strip() == "f":
                return
            time.sleep(0.1)
        raise ClusterError("%s still in recovery %.0fs after promote\n%s"
                           % (self.name, timeout, self.log_tail()))

    def cleanup(self, remove=True):
        """Stops the server whatever its state (immediate, then SIGKILL of what is left)."""
        try:
            if self.running():
                self.stop(mode="immediate", timeout=20)
        except ClusterError:
            pass
        pid = self.read_pid()
        if pid is not None and _alive(pid):
            try:
                self.kill()
            except ClusterError:
                pass
        for v in self._killed_pids:
            if _alive(v):
                try:
                    os.kill(v, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self in _LIVE:
            _LIVE.remove(self)
        if remove:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- SQL
    def sql(self, script, db="postgres", timeout=DEFAULT_TIMEOUT, check=True):
        """Runs script with psql (-At, ON_ERROR_STOP) on 127.0.0.1:port; returns stdout."""
        try:
            p = subprocess.run([psql_bin(), "-X", "-At", "-v", "ON_ERROR_STOP=1",
                                "-d", self.uri(db), "-f", "-"], input=script.encode(),
                               capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ClusterError("psql on %s (port %d) did not finish within %.0fs: %s"
                               % (self.name, self.port, timeout, script))
        if check and p.returncode != 0:
            raise ClusterError("psql on %s (port %d) failed (exit %d): %s\nscript: %s"
                               % (self.name, self.port, p.returncode,
                                  p.stderr.decode("utf-8", "replace").strip(), script))
        return p.stdout.decode("utf-8", "replace")

    def wait_sync_standby(self, count=1, timeout=60):
        """Waits until pg_stat_replication on this primary shows count standbys streaming
        with sync_state 'sync' (or 'quorum')."""
        deadline = time.monotonic() + timeout
        rows = ""
        while time.monotonic() < deadline:
            rows = self.sql("SELECT application_name, state, sync_state FROM pg_stat_replication",
                            check=False)
            ok = [r for r in rows.splitlines()
                  if r.split("|")[1:] in (["streaming", "sync"], ["streaming", "quorum"])]
            if len(ok) >= count:
                return rows
            time.sleep(0.1)
        raise ClusterError("no synchronous streaming standby on %s after %.0fs; "
                           "pg_stat_replication: %r\n%s" % (self.name, timeout, rows, self.log_tail()))

    def log_tail(self, lines=40):
        try:
            with open(self.log, "rb") as f:
                data = f.read().decode("utf-8", "replace").splitlines()
        except OSError as e:
            return "<no log %s: %s>" % (self.log, e)
        return "---- %s log (%s) ----\n%s" % (self.name, self.log, "\n".join(data[-lines:]))


class ReplicatedPair:
    """A primary and a synchronous streaming standby on loopback, in one temp directory.

        pair = ReplicatedPair().start()   # both up, standby streaming and 'sync'
        pair.primary.kill(); pair.standby.promote()
        pair.cleanup()

    synchronous_commit=on with synchronous_standby_names='*': a commit on the primary returns
    only once the standby has flushed it. The standby's own synchronous_standby_names is empty,
    so once promoted it commits alone (it has no standby of its own)."""

    def __init__(self, parent=None):
        self.tmp = tempfile.mkdtemp(prefix="roster-pgpair-", dir=parent)
        self.primary = None
        self.standby = None

    def start(self, timeout=90):
        p_dir = Cluster.make_dir(self.tmp, "primary")
        s_dir = Cluster.make_dir(self.tmp, "standby")
        self.primary = Cluster(p_dir, free_port(), "primary")
        self.primary.initdb({"synchronous_commit": "on",
                             "synchronous_standby_names": "'*'"})
        self.primary.start()
        self.standby = Cluster.standby_of(self.primary, s_dir, free_port(), "standby",
                                          conf={"synchronous_standby_names": "''",
                                                "primary_slot_name": "''"})
        self.standby.start()
        self.primary.wait_sync_standby(1, timeout)
        return self

    def hosts(self):
        return "127.0.0.1:%d,127.0.0.1:%d" % (self.primary.port, self.standby.port)

    def multi_host_uri(self, db):
        return ("postgresql://postgres@%s/%s?target_session_attrs=read-write"
                % (self.hosts(), db))

    def cleanup(self, keep=False):
        for c in (self.primary, self.standby):
            if c is not None:
                c.cleanup(remove=False)
        if keep:
            sys.stderr.write("pgcluster: kept %s\n" % self.tmp)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def selftest():
    """Primary + sync standby, a table written on the primary, kill -9, promote: every row
    committed before the kill is on the promoted standby, which takes writes."""
    pair = ReplicatedPair()
    t0 = time.monotonic()
    try:
        pair.start()
        print("primary :%d, standby :%d streaming sync after %.1fs"
              % (pair.primary.port, pair.standby.port, time.monotonic() - t0))
        print(pair.primary.sql("SELECT application_name, state, sync_state FROM pg_stat_replication"))
        pair.primary.sql("CREATE DATABASE roster")
        pair.primary.sql("CREATE TABLE t (n int PRIMARY KEY); "
                         "INSERT INTO t SELECT generate_series(1, 1000)", db="roster")
        assert pair.standby.sql("SELECT pg_is_in_recovery()").strip() == "t"
        assert pair.standby.sql("SELECT count(*) FROM t", db="roster").strip() == "1000"
        victims = pair.primary.kill()
        print("killed primary: pids %s" % victims)
        assert not pair.primary.running()
        t1 = time.monotonic()
        pair.standby.promote()
        print("promoted in %.2fs" % (time.monotonic() - t1))
        assert pair.standby.sql("SELECT count(*) FROM t", db="roster").strip() == "1000"
        pair.standby.sql("INSERT INTO t VALUES (1001)", db="roster", timeout=10)
        assert pair.standby.sql("SELECT count(*) FROM t", db="roster").strip() == "1001"
        # libpq's multi-host string finds the read-write one
        out = subprocess.run([psql_bin(), "-X", "-At", "-d", pair.multi_host_uri("roster"), "-c",
                              "SELECT inet_server_port()"], capture_output=True, timeout=20)
        assert out.stdout.decode().strip() == str(pair.standby.port), out
        print("selftest ok in %.1fs" % (time.monotonic() - t0))
        return 0
    finally:
        pair.cleanup(keep=bool(os.environ.get("ROSTER_E2E_KEEP")))


if __name__ == "__main__":
    if sys.argv[1:] == ["selftest"]:
        sys.exit(selftest())
    sys.stderr.write("usage: pgcluster.py selftest\n")
    sys.exit(2)
