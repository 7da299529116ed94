"""What e2e/bench/scale and e2e/bench/programming-latency share: the local cluster (through
e2e/local-cluster), a small kube-apiserver client (the admin certificate of the cluster's
kubeconfig, keep-alive HTTPS, one connection per thread, list and watch), the ServicePaths they
create, and RSS readings from /proc. Python standard library only.
"""

import base64
import http.client
import json
import os
import queue
import re
import signal
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
ISOLATED = os.path.join(ROOT, "e2e", "bin", "isolated")
LOCAL_CLUSTER = os.path.join(ROOT, "e2e", "local-cluster")
GROUP = "/apis/servicepath.io/v1alpha1"
GROUP_NAME = "servicepath.io"


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure_isolated():
    """Re-runs this command, unless it already is, under e2e/bin/isolated (a network namespace of
    its own: the local cluster never meets the host's network or another run's) and in a PID
    namespace of its own. The cluster's processes detach (setsid) and would outlive an interrupted
    run; in a PID namespace they cannot: when its first process ends, the kernel kills every
    other one, and with them the cluster's network namespaces go away."""
    if is_isolated() and os.getpid() == 1:
        return
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, iptables): run it as e2e/bin/isolated " + " ".join(sys.argv))
    command = ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", sys.executable] + sys.argv
    if not is_isolated():
        command = [ISOLATED] + command
    os.execvp(command[0], command)


def is_isolated():
    with open("/proc/self/mountinfo") as f:
        return any(" servicepath-netns " in line for line in f)  # the tmpfs isolated mounts on /run/netns


def run_as_init(main):
    """Runs main() in a child process while this one, the PID namespace's first, reaps the
    orphans the cluster leaves (pid files must not point at zombies) and passes SIGINT, SIGTERM
    and SIGHUP on to main, which then takes the cluster down. Returns main's exit code; once
    this process exits, nothing started inside the namespace survives."""
    child = os.fork()
    if child == 0:
        for sig in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, _interrupted)
        try:
            code = main()
        except KeyboardInterrupt:
            log("interrupted")
            code = 130
        sys.stdout.flush()
        os._exit(code or 0)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda s, _frame: os.kill(child, signal.SIGINT if s == signal.SIGINT else s))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 1
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


def _interrupted(signum, _frame):
    raise KeyboardInterrupt(f"signal {signum}")


def ignore_interrupts():
    """For the clean-up: a second Ctrl-C must not cut 'local-cluster down' short."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_IGN)


class LocalCluster:
    """e2e/local-cluster with its own state directory (under e2e/target)."""

    def __init__(self, name):
        self.state = os.path.join(ROOT, "e2e", "target", f"{name}-{time.strftime('%Y%m%d-%H%M%S')}")
        os.makedirs(self.state, exist_ok=True)
        self.env = dict(os.environ, SP_STATE_DIR=self.state)

    def run(self, *args, check=True):
        result = subprocess.run([LOCAL_CLUSTER, *args], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if check and result.returncode != 0:
            raise RuntimeError(f"local-cluster {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout

    @property
    def kubeconfig(self):
        return os.path.join(self.state, "kubeconfig")

    def pid(self, name):
        """The pid of a process the script started (controller, agent-sp-node-1, ...)."""
        with open(os.path.join(self.state, "run", name + ".pid")) as f:
            return int(f.read().split()[0])

    def wait_ready(self, kube, nodes, timeout=300):
        """Waits until the controller answers /readyz and every agent has written its
        ServicePathNode, so that a benchmark does not time the JVMs' start."""
        port = int(os.environ.get("SP_CONTROLLER_HTTP_PORT", "18080"))
        deadline = time.monotonic() + timeout
        pending = ["controller"] + [f"sp-node-{k}" for k in range(1, nodes + 1)]
        while pending:
            if time.monotonic() > deadline:
                raise RuntimeError(f"not ready after {timeout} s: {', '.join(pending)}")
            if pending[0] == "controller":
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/readyz")
                    if conn.getresponse().status == 200:
                        pending.pop(0)
                except OSError:
                    pass
            elif kube.get_or_none(f"{GROUP}/servicepathnodes/{pending[0]}") is not None:
                pending.pop(0)
            if pending:
                time.sleep(0.5)

    def log_lines(self, name, pattern):
        path = os.path.join(self.state, "logs", name + ".log")
        try:
            with open(path, errors="replace") as f:
                return [line.rstrip() for line in f if re.search(pattern, line)]
        except FileNotFoundError:
            return []


class Kube:
    """A kube-apiserver client with the kubeconfig's admin certificate; thread-safe."""

    def __init__(self, kubeconfig):
        with open(kubeconfig) as f:
            text = f.read()

        def field(name):
            return re.search(rf"{name}:\s*(\S+)", text).group(1)

        url = urllib.parse.urlparse(field("server"))
        self.host, self.port = url.hostname, url.port or 443
        self.tmp = tempfile.mkdtemp(prefix="sp-bench-")
        files = {}
        for name in ("certificate-authority-data", "client-certificate-data", "client-key-data"):
            files[name] = os.path.join(self.tmp, name)
            with open(files[name], "wb") as f:
                f.write(base64.b64decode(field(name)))
        self.ctx = ssl.create_default_context(cafile=files["certificate-authority-data"])
        self.ctx.load_cert_chain(files["client-certificate-data"], files["client-key-data"])
        self.local = threading.local()

    def _conn(self, fresh=False):
        if fresh or getattr(self.local, "conn", None) is None:
            self.local.conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=60)
        return self.local.conn

    def request(self, method, path, body=None, content_type="application/json", ok=(200, 201)):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Accept": "application/json"}
        if data is not None:
            headers["Content-Type"] = content_type
        for attempt in range(3):
            conn = self._conn(fresh=attempt > 0)
            try:
                conn.request(method, path, body=data, headers=headers)
                response = conn.getresponse()
                payload = response.read()
                break
            except (http.client.HTTPException, OSError):
                if attempt == 2:
                    raise
                time.sleep(0.2)
        if response.status == 429 or response.status >= 500:
            time.sleep(0.5)
            return self.request(method, path, body, content_type, ok)
        if response.status not in ok:
            raise RuntimeError(f"{method} {path}: {response.status} {payload[:300]!r}")
        return json.loads(payload) if payload else None

    def text(self, path):
        """GET {path} as text (e.g. /metrics)."""
        conn = self._conn(fresh=True)
        conn.request("GET", path, headers={"Accept": "text/plain"})
        response = conn.getresponse()
        payload = response.read().decode()
        if response.status != 200:
            raise RuntimeError(f"GET {path}: {response.status} {payload[:300]!r}")
        return payload

    def get_or_none(self, path):
        try:
            return self.request("GET", path, ok=(200,))
        except RuntimeError as e:
            if ": 404 " in str(e):
                return None
            raise

    def watch(self, path, on_event, stop):
        """Lists {path}, then watches it until {stop} is set; every object goes to
        on_event(type, obj), the list's as ADDED. The server ends each watch after a minute and it
        is resumed from the last version seen; on any error, or when that version has expired,
        everything is listed again (objects are replaced whole, so a repeat does no harm)."""
        version = None
        while not stop.is_set():
            try:
                if version is None:
                    listed = self.request("GET", path)
                    for item in listed["items"]:
                        on_event("ADDED", item)
                    version = listed["metadata"]["resourceVersion"]
                version = self._watch_once(path, version, on_event, stop)
            except Exception as e:  # a broken stream or an API server too busy to answer
                log(f"watch of {path} failed ({e!r}); listing again")
                version = None
                time.sleep(0.5)

    def _watch_once(self, path, version, on_event, stop):
        """One watch request; returns the version to resume from, None to list again."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.ctx, timeout=120)
        sep = "&" if "?" in path else "?"
        try:
            conn.request("GET", f"{path}{sep}watch=1&allowWatchBookmarks=true&timeoutSeconds=60"
                         f"&resourceVersion={version}", headers={"Accept": "application/json"})
            response = conn.getresponse()
            if response.status != 200:
                return None
            while not stop.is_set():
                line = response.readline()
                if not line:
                    return version  # the server ended this watch
                event = json.loads(line)
                if event["type"] == "ERROR":
                    return None  # typically 410 Gone: the version expired
                obj = event["object"]
                version = obj["metadata"].get("resourceVersion", version)
                if event["type"] != "BOOKMARK":
                    on_event(event["type"], obj)
            return version
        finally:
            conn.close()


def create_all(kube, path, objects, threads=8):
    """POSTs every object, {threads} requests in flight; returns the seconds it took."""
    work = queue.Queue()
    for obj in objects:
        work.put(obj)
    errors = []

    def worker():
        while True:
            try:
                obj = work.get_nowait()
            except queue.Empty:
                return
            try:
                kube.request("POST", path, obj)
            except Exception as e:  # the first error ends the run, after the others finish
                errors.append(e)
                return

    started = time.monotonic()
    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    if errors:
        raise errors[0]
    return time.monotonic() - started


REQUEST_TOTAL = re.compile(r'^apiserver_request_total\{([^}]*)\} ([0-9.e+]+)$', re.M)
WRITE_VERBS = ("POST", "PUT", "PATCH", "APPLY", "DELETE")


def api_writes(kube, group=GROUP_NAME):
    """The API server's count of write requests so far to {group}'s resources, by (verb, resource,
    subresource), from its apiserver_request_total metric; whoever sent them."""
    counts = {}
    for labels, value in REQUEST_TOTAL.findall(kube.text("/metrics")):
        fields = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        if fields.get("group") != group or fields.get("verb") not in WRITE_VERBS:
            continue
        key = (fields["verb"], fields.get("resource", ""), fields.get("subresource", ""))
        counts[key] = counts.get(key, 0) + int(float(value))
    return counts


def service_path(namespace, name, selector, mode):
    """A ClusterIP ServicePath with one port (the node port range and LB pool hold far fewer than
    10,000 addresses)."""
    return {
        "apiVersion": "servicepath.io/v1alpha1",
        "kind": "ServicePath",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "type": "ClusterIP",
            "mode": mode,
            "selector": selector,
            "ports": [{"name": "http", "protocol": "TCP", "port": 80, "targetPort": 80}],
        },
    }


def condition(obj, kind):
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status") == "True"
    return False


class PathWatch:
    """Which ServicePaths of a namespace are Allocated, Programmed and Ready, from a watch."""

    def __init__(self, kube, namespace):
        self.lock = threading.Condition()
        self.state = {}  # name -> (allocated, programmed, ready)
        self.objects = {}
        self.stop = threading.Event()
        path = f"{GROUP}/namespaces/{namespace}/servicepaths"
        self.thread = threading.Thread(target=kube.watch, args=(path, self._event, self.stop), daemon=True)
        self.thread.start()

    def _event(self, kind, obj):
        name = obj["metadata"]["name"]
        with self.lock:
            if kind == "DELETED":
                self.state.pop(name, None)
                self.objects.pop(name, None)
            else:
                self.state[name] = (condition(obj, "Allocated"), condition(obj, "Programmed"), condition(obj, "Ready"))
                self.objects[name] = obj
            self.lock.notify_all()

    def counts(self):
        with self.lock:
            values = list(self.state.values())
        return (len(values), sum(v[0] for v in values), sum(v[1] for v in values), sum(v[2] for v in values))

    def get(self, name):
        with self.lock:
            return self.objects.get(name)

    def wait_for(self, predicate, timeout):
        """Waits until predicate(self) holds; True if it did within timeout seconds."""
        deadline = time.monotonic() + timeout
        with self.lock:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.lock.wait(min(left, 1.0))
            return True

    def close(self):
        self.stop.set()


def rss_mib(pid):
    """VmRSS of a process, MiB (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except FileNotFoundError:
        return None
    return None


def cpu_seconds(pid):
    """User + system CPU time a process has used, seconds (None when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except FileNotFoundError:
        return None


def open_files_limit(pid):
    """The soft limit on open files of a process (a Userspace path holds a listening socket)."""
    try:
        with open(f"/proc/{pid}/limits") as f:
            for line in f:
                if line.startswith("Max open files"):
                    return line.split()[3]
    except FileNotFoundError:
        return None
    return None


def jcmd(pid, *command):
    result = subprocess.run(["jcmd", str(pid), *command], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, timeout=60)
    return result.stdout


def heap_used_mib(pid):
    """Used Java heap, MiB, from jcmd GC.heap_info: G1 prints one "total ..K, used ..K" line, the
    serial and parallel collectors one per generation (None if it cannot be read)."""
    used = re.findall(r"total \d+K, used (\d+)K", jcmd(pid, "GC.heap_info"))
    return sum(int(u) for u in used) / 1024 if used else None


def percentile(values, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]
