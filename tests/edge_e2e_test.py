#!/usr/bin/env python3
"""End-to-end tests of the edge: `tempo edge-config` run by Debian's nginx in front of
real `tempo serve` instances, one per tenant group, all on 127.0.0.1.

usage: edge_e2e_test.py TEMPO_BINARY SHARED_DIR [EdgeTest]   (run by ctest)

Two instances serve the golden data, started with `--groups groups.yaml --tenant-group
TG1|TG2` (TG1: WM_GLASS, TG2: every other tenant). Two nginx run in front of them:
`narrow` from a file whose TG2 lists only ACME and Globex (no "*" group, so other tenants
are refused at the edge) and `wide` from the instances' own file. Whether a request
reached an instance is read from the instance's own counters (admin /metrics).
"""
import http.client
import http.server
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_test  # noqa: E402  (the Server helper and run())

NGINX = "/usr/sbin/nginx"
START_TIMEOUT_S = 30
REQUEST_TIMEOUT_S = 10

API = "/api/v2/tempo/layouts"
QUERY = "channel=web&pageType=homepage"

GROUPS = "tenant_groups:\n  TG1: [WM_GLASS]\n  TG2: [\"*\"]\n"
NARROW_GROUPS = "tenant_groups:\n  TG1: [WM_GLASS]\n  TG2: [ACME, Globex]\n"

NOT_FOUND = b'{"error":{"code":"not_found","message":"No such path."}}'
METHOD_NOT_ALLOWED = b'{"error":{"code":"method_not_allowed","message":"Only GET is allowed here."}}'
UNKNOWN_TENANT = b'{"error":{"code":"unknown_tenant","message":"No content exists for this tenant."}}'
URI_TOO_LONG = b'{"error":{"code":"uri_too_long","message":"The request target is longer than 8192 bytes."}}'


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port, method, target, headers=None, body=None, tls_context=None):
    """One request on a fresh connection: (status, headers with lower-case names, body)."""
    if tls_context is not None:
        c = http.client.HTTPSConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S,
                                        context=tls_context)
    else:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        c.request(method, target, body=body, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def raw_request(port, data):
    """Sends bytes as they are (http.client would normalise them): (status, body)."""
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT_S) as s:
        s.sendall(data)
        out = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    head, _, body = out.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def responses_total(server):
    """The instance's count of answers on its public listener, all codes together."""
    status, text = server.admin("/metrics")
    assert status == 200, text
    return sum(int(float(v)) for k, v in
               (line.rsplit(" ", 1) for line in text.splitlines()
                if line.startswith("tempo_responses_total")))


def accepted_total(server):
    status, text = server.admin("/metrics")
    m = re.search(r"^tempo_http_connections_accepted_total (\d+)", text, re.M)
    return int(m.group(1)) if m else None


class Nginx:
    """nginx running a configuration from `tempo edge-config`, in a prefix of its own."""

    def __init__(self, prefix, conf_text):
        os.makedirs(prefix)
        os.chmod(prefix, 0o755)  # workers run as another user when the test runs as root
        self.prefix = prefix
        self.conf = os.path.join(prefix, "nginx.conf")
        with open(self.conf, "w") as f:
            f.write(conf_text)
        t = subprocess.run([NGINX, "-t", "-q", "-e", "stderr", "-p", prefix, "-c", self.conf],
                           capture_output=True, text=True, timeout=60)
        if t.returncode != 0:
            raise AssertionError(f"nginx -t failed: {t.stderr}\n{conf_text}")
        self.proc = subprocess.Popen(
            [NGINX, "-e", "stderr", "-p", prefix, "-c", self.conf, "-g", "daemon off;"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.port = int(re.search(r"listen [^;]*:(\d+)", conf_text).group(1))
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise AssertionError(f"nginx did not start: {self.proc.stderr.read()}")
                time.sleep(0.05)

    def stop(self):
        try:
            with open(os.path.join(self.prefix, "error.log")) as f:
                log = f.read()
            if log:
                print(f"--- {self.prefix}/error.log:\n{log[-3000:]}", file=sys.stderr)
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stderr.close()


def edge_config(*args, check=True):
    p = subprocess.run([e2e_test.TEMPO, "edge-config", *args], capture_output=True, text=True,
                       timeout=60)
    if check and p.returncode != 0:
        raise AssertionError(f"tempo edge-config {args} exited {p.returncode}: {p.stderr}")
    return p


class EdgeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(NGINX, os.X_OK):
            raise unittest.SkipTest(f"{NGINX} is not installed")
        cls.tmp = tempfile.mkdtemp(prefix="tempo-edge-e2e-")
        cls.servers = []
        cls.nginxes = []
        try:
            cls._start()
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def _start(cls):
        groups = os.path.join(cls.tmp, "groups.yaml")
        with open(groups, "w") as f:
            f.write(GROUPS)
        narrow = os.path.join(cls.tmp, "narrow.yaml")
        with open(narrow, "w") as f:
            f.write(NARROW_GROUPS)
        data = os.path.join(e2e_test.SHARED, "golden", "data.ndjson")
        cls.group_server = {}
        for group in ("TG1", "TG2"):
            store = os.path.join(cls.tmp, "store-" + group)
            e2e_test.run(["import", "--store", store, data])
            extra = ["--groups", groups, "--tenant-group", group]
            server = e2e_test.Server(store, *extra)
            cls.servers.append(server)
            cls.group_server[group] = server
        upstreams = [f"--upstream=TG{i}=127.0.0.1:{cls.group_server['TG' + str(i)].port}"
                     for i in (1, 2)]
        for name, file in (("narrow", narrow), ("wide", groups)):
            port = free_port()
            conf = edge_config("--config", file, *upstreams,
                               "--listen", f"127.0.0.1:{port}").stdout
            nginx = Nginx(os.path.join(cls.tmp, "nginx-" + name), conf)
            cls.nginxes.append(nginx)
            setattr(cls, name, nginx.port)

    @classmethod
    def tearDownClass(cls):
        for n in cls.nginxes:
            n.stop()
        for s in cls.servers:
            s.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- helpers ---

    def counters(self):
        return {g: responses_total(s) for g, s in self.group_server.items()}

    def assert_same_as_direct(self, edge_port, group, method, target, headers=None):
        """Through the edge and straight to the group's instance: the same answer, and the
        request reached that instance and no other."""
        before = self.counters()
        via = request(edge_port, method, target, headers)
        after = self.counters()
        self.assertEqual({g: after[g] - before[g] for g in after},
                         {g: int(g == group) for g in after}, f"{method} {target}")
        direct = request(self.group_server[group].port, method, target, headers)
        self.assertEqual(via[0], direct[0], f"{target}: {via[2][:300]} vs {direct[2][:300]}")
        self.assertEqual(via[2], direct[2], target)
        for h in ("etag", "content-type", "cache-control", "allow", "x-tempo-tenant-group"):
            self.assertEqual(via[1].get(h), direct[1].get(h), f"{h} of {target}")
        if via[0] != 421:
            self.assertEqual(via[1].get("x-tempo-tenant-group"), group, target)
        return via

    def assert_refused_at_edge(self, port, method, target, status, body, headers=None,
                               payload=None):
        via = request(port, method, target, headers, body=payload)
        self.assertEqual(via[0], status, f"{method} {target[:80]}: {via[2][:200]}")
        if method != "HEAD":
            self.assertEqual(via[2], body, f"{method} {target[:80]}")
        self.assertEqual(via[1].get("content-type"), "application/json", target[:80])
        self.assertEqual(via[1].get("cache-control"), "no-store", target[:80])
        self.assertEqual(via[1].get("allow"), "GET, HEAD" if status == 405 else None, target)
        self.assertNotIn("x-tempo-tenant-group", via[1])
        return via

    # --- routing ---

    def test_each_tenant_reaches_its_group_and_answers_as_directly(self):
        for tenant, group in (("WM_GLASS", "TG1"), ("ACME", "TG2"), ("Globex", "TG2")):
            for path in ("/api/v1/tempo/layouts", "/api/v2/tempo/layouts"):
                via = self.assert_same_as_direct(self.narrow, group, "GET",
                                                 f"{path}?tenant={tenant}&{QUERY}")
                self.assertEqual(via[0], 200, via[2][:200])
                self.assertTrue(via[1].get("etag"))

    def test_if_none_match_passes(self):
        target = f"{API}?tenant=WM_GLASS&{QUERY}"
        etag = request(self.narrow, "GET", target)[1]["etag"]
        via = self.assert_same_as_direct(self.narrow, "TG1", "GET", target,
                                         {"If-None-Match": etag})
        self.assertEqual(via[0], 304)

    def test_the_tenant_is_read_as_the_api_reads_it(self):
        # Encoded values and names, the first non-empty parameter, other parameters around it,
        # the query string passed unchanged (the instance sees what the client sent).
        for query in ("tenant=WM%5FGLASS", "tenant=WM%5fGLASS", "tenant=%57%4D%5F%47%4C%41%53%53",
                      "%74enant=WM_GLASS", "tenant=&tenant=WM_GLASS", "tenant&tenant=WM_GLASS",
                      "t.tenant=ACME&tenant=WM_GLASS", "zone=hero&tenant=WM_GLASS&x=%2F..%2F"):
            self.assert_same_as_direct(self.narrow, "TG1", "GET", f"{API}?{query}&{QUERY}")
        self.assert_same_as_direct(self.narrow, "TG2", "GET", f"{API}?tenant=AC%4dE&{QUERY}")

    def test_requests_every_instance_refuses_reach_one_for_the_apis_400(self):
        for query in (QUERY, f"tenant=WM+GLASS&{QUERY}", f"tenant=WM_GLASS&tenant=ACME&{QUERY}",
                      f"tenant=ACME&tenant=ACME&{QUERY}", f"TENANT=WM_GLASS&{QUERY}",
                      f"tenant=%zz&{QUERY}", f"tenant={'A' * 65}&{QUERY}"):
            group = "TG2" if query.startswith("tenant=ACME&") else "TG1"  # the first tenant
            via = self.assert_same_as_direct(self.narrow, group, "GET", f"{API}?{query}")
            self.assertEqual(via[0], 400, query)

    def test_unlisted_tenants_are_refused_at_the_edge_without_a_wildcard_group(self):
        before = self.counters()
        for tenant in ("initech", "NoSuch", "wm_glass", "acme", "WM%5FGLAS", "GONE_TENANT"):
            target = f"{API}?tenant={tenant}&{QUERY}"
            self.assert_refused_at_edge(self.narrow, "GET", target, 404, UNKNOWN_TENANT)
        self.assertEqual(self.counters(), before)
        # The body is the API's own.
        direct = request(self.group_server["TG2"].port, "GET", f"{API}?tenant=NoSuch&{QUERY}")
        self.assertEqual((direct[0], direct[2]), (404, UNKNOWN_TENANT))

    def test_the_wildcard_group_takes_every_other_tenant(self):
        for tenant, group in (("initech", "TG2"), ("NoSuch", "TG2"), ("ACME", "TG2"),
                              ("WM_GLASS", "TG1"), ("wm_glass", "TG2")):
            self.assert_same_as_direct(self.wide, group, "GET", f"{API}?tenant={tenant}&{QUERY}")

    def test_head_passes(self):
        self.assert_same_as_direct(self.narrow, "TG1", "HEAD", f"{API}?tenant=WM_GLASS&{QUERY}")

    def test_longest_allowed_target_passes_and_a_longer_one_is_refused_at_the_edge(self):
        base = f"{API}?tenant=WM_GLASS&{QUERY}&x="
        longest = base + "a" * (8192 - len(base))
        self.assertEqual(len(longest), 8192)
        self.assert_same_as_direct(self.narrow, "TG1", "GET", longest)
        before = self.counters()
        self.assert_refused_at_edge(self.narrow, "GET", longest + "a", 400, URI_TOO_LONG)
        self.assertEqual(request(self.group_server["TG1"].port, "GET", longest + "a")[2],
                         URI_TOO_LONG)
        before["TG1"] += 1  # the direct request just made
        # Longer than nginx's request-line buffer: nginx's own 414, answered the same way.
        self.assert_refused_at_edge(self.narrow, "GET", longest + "a" * 20000, 400, URI_TOO_LONG)
        self.assertEqual(self.counters(), before)

    # --- what never reaches an instance ---

    def test_denied_paths_methods_and_spellings_never_reach_an_instance(self):
        q = f"?tenant=WM_GLASS&{QUERY}"
        paths = ["/", "/healthz", "/metrics", "/readyz", "/livez", "/admin/cache",
                 "/admin/cache/invalidate", "/admin/shadow", "/internal/shadow",
                 "/api/v2/tempo/%6cayouts" + q, "/api/v2/tempo/layouts/../layouts" + q,
                 "/api/v2/tempo/./layouts" + q, "//api/v2/tempo/layouts" + q,
                 "/api/v2/tempo//layouts" + q, "/api/v2/tempo/layouts/" + q,
                 "/API/V2/TEMPO/LAYOUTS" + q, "/api/v2/tempo/Layouts" + q,
                 "/api/v3/tempo/layouts" + q, "/api/v2/tempo/layouts%3F" + q,
                 "/api/v2/tempo/layouts;x" + q, "/api/v2/tempo/layouts.json" + q,
                 "/api/v2/tempo/layouts%2F" + q, "/api/v2/tempo%2Flayouts" + q,
                 "/x/../api/v2/tempo/layouts" + q, "/tempo_edge_error/bad_request",
                 "/tempo_edge_error/unavailable" + q]
        before = self.counters()
        accepted = {g: accepted_total(s) for g, s in self.group_server.items()}
        for port in (self.narrow, self.wide):
            for path in paths:
                for method in ("GET", "HEAD", "POST"):
                    self.assert_refused_at_edge(port, method, path, 404, NOT_FOUND)
            for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"):
                for path in ("/api/v1/tempo/layouts", "/api/v2/tempo/layouts" + q):
                    self.assert_refused_at_edge(port, method, path, 405, METHOD_NOT_ALLOWED)
            # A body larger than the edge takes, on a refused request: refused as such.
            self.assert_refused_at_edge(port, "POST", "/internal/shadow", 404, NOT_FOUND,
                                        payload=b"x" * 100000)
            self.assert_refused_at_edge(port, "POST", API + q, 405, METHOD_NOT_ALLOWED,
                                        payload=b"x" * 100000)
            # Paths nginx cannot decode: refused by nginx itself, still as JSON.
            self.assert_refused_at_edge(port, "GET", "/api/v2/tempo/layouts%00" + q, 400,
                                        b'{"error":{"code":"bad_request",'
                                        b'"message":"malformed HTTP request"}}')
            # Methods nginx refuses itself, still as JSON.
            self.assertEqual(raw_request(port, b"TRACE " + API.encode() + b" HTTP/1.1\r\n"
                                         b"Host: x\r\nConnection: close\r\n\r\n"),
                             (405, METHOD_NOT_ALLOWED))
            status, body = raw_request(port, b"get " + API.encode() + q.encode() +
                                       b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            self.assertIn(status, (400, 405))
            self.assertRegex(body, rb'^\{"error":\{"code":"(bad_request|method_not_allowed)"')
            # An absolute-form target is judged by its path, as the instance would.
            self.assertEqual(raw_request(port, b"GET http://x/metrics HTTP/1.1\r\nHost: x\r\n"
                                         b"Connection: close\r\n\r\n"), (404, NOT_FOUND))
        self.assertEqual(self.counters(), before)
        self.assertEqual({g: accepted_total(s) for g, s in self.group_server.items()}, accepted)
        # The same refusals straight from an instance carry the same bodies.
        tg1 = self.group_server["TG1"].port
        self.assertEqual(request(tg1, "GET", "/metrics")[2], NOT_FOUND)
        self.assertEqual(request(tg1, "GET", "/api/v2/tempo/%6cayouts" + q)[2], NOT_FOUND)
        self.assertEqual(request(tg1, "POST", API + q)[2], METHOD_NOT_ALLOWED)
        # And a passed request still counts: the counters above do count.
        self.assert_same_as_direct(self.narrow, "TG1", "GET", API + q)

    def test_oversized_headers_are_refused_at_the_edge(self):
        before = self.counters()
        status, _, body = request(self.narrow, "GET", f"{API}?tenant=WM_GLASS&{QUERY}",
                                  {"X-Big": "a" * 20000})
        self.assertEqual(status, 431)
        self.assertRegex(body, rb'^\{"error":\{"code":"header_too_large"')
        self.assertEqual(self.counters(), before)


class EdgeConfigCommandTest(unittest.TestCase):
    """The command's own checks: exit 2 and a message naming what is wrong."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="tempo-edge-cmd-")
        self.groups = os.path.join(self.tmp, "groups.yaml")
        with open(self.groups, "w") as f:
            f.write("store: /var/lib/tempo\n" + NARROW_GROUPS)  # other keys are ignored

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_every_group_needs_an_upstream_and_every_upstream_a_group(self):
        p = edge_config("--config", self.groups, "--upstream", "TG1=127.0.0.1:1", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("tenant group TG2 has no --upstream", p.stderr)
        p = edge_config("--config", self.groups, "--upstream", "TG1=127.0.0.1:1",
                        "--upstream", "TG2=127.0.0.1:2", "--upstream", "TG9=127.0.0.1:3",
                        check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn("no group TG9", p.stderr)
        p = edge_config("--config", self.groups, "--upstream", "TG1=nope", "--upstream",
                        "TG2=127.0.0.1:2", check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn('--upstream "TG1=nope"', p.stderr)

    def test_a_bad_groups_file_names_file_and_line(self):
        bad = os.path.join(self.tmp, "bad.yaml")
        with open(bad, "w") as f:
            f.write("tenant_groups:\n  TG1: [A]\n  TG2: [A]\n")
        p = edge_config("--groups", bad, "--upstream", "TG1=a:1", "--upstream", "TG2=b:2",
                        check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(bad + ":3:", p.stderr)

    def test_relative_tls_paths_become_absolute(self):
        p = subprocess.run([e2e_test.TEMPO, "edge-config", "--groups", self.groups,
                            "--upstream", "TG1=a:1", "--upstream", "TG2=b:2",
                            "--tls-cert", "edge.pem", "--tls-key", "edge.key", "--snippet"],
                           capture_output=True, text=True, cwd=self.tmp, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f'ssl_certificate "{self.tmp}/edge.pem";', p.stdout)
        self.assertNotIn("events {", p.stdout)


class EdgeTlsTest(unittest.TestCase):
    """TLS on the edge's listener, and mutual TLS from the edge to an instance (where
    `tempo serve` takes --tls-client-ca)."""

    def setUp(self):
        self.assertTrue(os.access(NGINX, os.X_OK), f"{NGINX} is not installed")
        self.tmp = tempfile.mkdtemp(prefix="tempo-edge-tls-")
        self.servers, self.nginxes = [], []
        self.groups = os.path.join(self.tmp, "groups.yaml")
        with open(self.groups, "w") as f:
            f.write("tenant_groups:\n  TG1: [\"*\"]\n")
        store = os.path.join(self.tmp, "store")
        e2e_test.run(["import", "--store", store,
                      os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        self.store = store
        # A CA, and certificates it signs for the edge, the instance and the edge as client.
        self.ca_key, self.ca = self.path("ca.key"), self.path("ca.pem")
        self.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-days", "2", "-subj", "/CN=tempo test CA", "-keyout", self.ca_key,
                     "-out", self.ca)
        for name in ("edge", "instance", "client"):
            self.issue(name)

    def tearDown(self):
        for n in self.nginxes:
            n.stop()
        for s in self.servers:
            s.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.tmp, name)

    def openssl(self, *args):
        p = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)

    def issue(self, name):
        ext = self.path(name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:localhost,DNS:tempo.test,IP:127.0.0.1\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        self.openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                     "-nodes", "-subj", f"/CN={name}", "-keyout", self.path(name + ".key"),
                     "-out", self.path(name + ".csr"))
        self.openssl("x509", "-req", "-in", self.path(name + ".csr"), "-CA", self.ca, "-CAkey",
                     self.ca_key, "-CAcreateserial", "-days", "2", "-extfile", ext,
                     "-out", self.path(name + ".pem"))

    def client_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = False
        return ctx

    def test_tls_listener(self):
        server = e2e_test.Server(self.store)
        self.servers.append(server)
        port = free_port()
        conf = edge_config("--groups", self.groups, "--upstream", f"TG1=127.0.0.1:{server.port}",
                           "--listen", f"127.0.0.1:{port}", "--tls-cert", self.path("edge.pem"),
                           "--tls-key", self.path("edge.key")).stdout
        self.nginxes.append(Nginx(self.path("nginx"), conf))
        target = f"{API}?tenant=ACME&{QUERY}"
        via = request(port, "GET", target, tls_context=self.client_context())
        direct = request(server.port, "GET", target)
        self.assertEqual((via[0], via[2], via[1].get("etag")),
                         (direct[0], direct[2], direct[1].get("etag")))
        # TLS 1.1 is refused.
        old = self.client_context()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            old.minimum_version = old.maximum_version = ssl.TLSVersion.TLSv1_1
        with self.assertRaises((ssl.SSLError, OSError)):
            request(port, "GET", target, tls_context=old)
        # Plain HTTP to the TLS port: refused, as JSON.
        status, body = raw_request(port, b"GET " + target.encode() +
                                   b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 400)
        self.assertRegex(body, rb'^\{"error":\{"code":"bad_request"')

    def test_mutual_tls_to_a_tls_upstream(self):
        """The generated proxy_ssl_* settings against a TLS server that demands a client
        certificate from the CA (a stand-in for an instance, whatever tempo serve takes)."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=self.ca)
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.path("instance.pem"), self.path("instance.key"))

        class Echo(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                peer = dict(x[0] for x in self.connection.getpeercert()["subject"])
                body = f"{self.path} {peer.get('commonName')}".encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class TlsServer(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, addr = super().get_request()
                return ctx.wrap_socket(sock, server_side=True), addr

        upstream = TlsServer(("127.0.0.1", 0), Echo)
        thread = threading.Thread(target=upstream.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(upstream.server_close)
        self.addCleanup(upstream.shutdown)
        target = f"{API}?tenant=ACME&x=%2F..%2F&{QUERY}"
        base = ["--groups", self.groups, "--upstream", f"TG1=127.0.0.1:{upstream.server_port}",
                "--upstream-ca", self.ca]
        client = ["--upstream-tls-cert", self.path("client.pem"),
                  "--upstream-tls-key", self.path("client.key")]
        for name, extra, status in (("good", client + ["--upstream-tls-name", "tempo.test"], 200),
                                    ("no-client-cert", ["--upstream-tls-name", "tempo.test"], 503),
                                    ("wrong-name", client + ["--upstream-tls-name", "other.test"],
                                     503)):
            port = free_port()
            conf = edge_config(*base, *extra, "--listen", f"127.0.0.1:{port}").stdout
            self.nginxes.append(Nginx(self.path("nginx-" + name), conf))
            got = request(port, "GET", target)
            self.assertEqual(got[0], status, f"{name}: {got[2]}")
            if status == 200:
                self.assertEqual(got[2], f"{target} client".encode())
            else:
                self.assertRegex(got[2], rb'^\{"error":\{"code":"unavailable"')

    def test_mutual_tls_to_the_instance(self):
        server = e2e_test.Server(self.store, "--tls-cert", self.path("instance.pem"),
                                 "--tls-key", self.path("instance.key"),
                                 "--tls-client-ca", self.ca)
        self.servers.append(server)
        port = free_port()
        conf = edge_config("--groups", self.groups, "--upstream", f"TG1=127.0.0.1:{server.port}",
                           "--listen", f"127.0.0.1:{port}", "--upstream-ca", self.ca,
                           "--upstream-tls-cert", self.path("client.pem"),
                           "--upstream-tls-key", self.path("client.key"),
                           "--upstream-tls-name", "tempo.test").stdout
        self.nginxes.append(Nginx(self.path("nginx"), conf))
        target = f"{API}?tenant=ACME&{QUERY}"
        via = request(port, "GET", target)
        ctx = self.client_context()
        ctx.load_cert_chain(self.path("client.pem"), self.path("client.key"))
        direct = request(server.port, "GET", target, tls_context=ctx)
        self.assertEqual((via[0], via[2], via[1].get("etag")),
                         (direct[0], direct[2], direct[1].get("etag")))
        self.assertEqual(via[0], 200)
        # Without the client certificate the edge cannot reach the instance: 503 as JSON.
        port2 = free_port()
        conf = edge_config("--groups", self.groups, "--upstream", f"TG1=127.0.0.1:{server.port}",
                           "--listen", f"127.0.0.1:{port2}", "--upstream-ca", self.ca,
                           "--upstream-tls-name", "tempo.test").stdout
        self.nginxes.append(Nginx(self.path("nginx2"), conf))
        status, _, body = request(port2, "GET", target)
        self.assertEqual(status, 503)
        self.assertRegex(body, rb'^\{"error":\{"code":"unavailable"')


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    suites = sys.argv[3:]
    # ctest names the suite EdgeTest: it runs every class here.
    if suites == ["EdgeTest"]:
        suites = ["EdgeTest", "EdgeConfigCommandTest", "EdgeTlsTest"]
    unittest.main(argv=[sys.argv[0], "-v"] + suites)
