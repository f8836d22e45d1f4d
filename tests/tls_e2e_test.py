#!/usr/bin/env python3
"""End-to-end tests of TLS and mutual TLS on both listeners (issue 15 §3, server side).

usage: tls_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
TlsTest starts real `tempo serve` processes with --tls-cert/--tls-key
[--tls-client-ca] and --admin-tls-cert/--admin-tls-key [--admin-client-ca],
with a CA and certificates the openssl command makes at test time, and talks
to them with Python's ssl module: answers byte-identical to plain HTTP, mutual
TLS, TLS 1.2/1.3 only, plain HTTP to the TLS port, certificates re-read on
SIGHUP without dropping an open connection, and the rule that refuses an admin
listener off loopback without a client CA. Servers listen on 127.0.0.1 port 0
and are stopped at the end of their test; every wait is a bounded poll.
"""
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest

import e2e_test
from e2e_test import run

TARGET = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage"
POLL_S = 10


def openssl(args, cwd):
    subprocess.run(["openssl"] + args, cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d):
    """Two CAs (A, B); server-1 and server-2 for 127.0.0.1 from A; a client certificate from each."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca, cn in (("ca_a", "Test CA A"), ("ca_b", "Test CA B")):
        openssl(["req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2",
                 "-subj", "/CN=" + cn], d)
    for name, cn, ca, ext in (("server1", "server-1", "ca_a", "subjectAltName=IP:127.0.0.1"),
                              ("server2", "server-2", "ca_a", "subjectAltName=IP:127.0.0.1"),
                              ("client_a", "client-a", "ca_a", "extendedKeyUsage=clientAuth"),
                              ("client_b", "client-b", "ca_b", "extendedKeyUsage=clientAuth")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write(ext + "\n")
        openssl(["req", *ec, "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + cn],
                d)
        openssl(["x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey", ca + ".key",
                 "-CAcreateserial", "-days", "2", "-out", name + ".pem", "-extfile", name + ".ext"],
                d)


class TlsTest(e2e_test.Base):
    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="tempo-tls-pki-")
        make_pki(cls.pki)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()

    def pem(self, name):
        return os.path.join(self.pki, name + ".pem")

    def key(self, name):
        return os.path.join(self.pki, name + ".key")

    def serve_tls(self, *extra, server="server1", admin_listen="127.0.0.1:0"):
        s = e2e_test.Server(self.golden, "--tls-cert", self.pem(server), "--tls-key",
                            self.key(server), *extra, admin_listen=admin_listen)
        self.servers.append(s)
        return s

    def client_context(self, client=None, version=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(self.pem("ca_a"))
        if client:
            ctx.load_cert_chain(self.pem(client), self.key(client))
        if version is not None:
            if version < ssl.TLSVersion.TLSv1_2:
                ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # so that the old version is offered at all
            ctx.minimum_version = version
            ctx.maximum_version = version
        return ctx

    def https(self, port, ctx):
        return http.client.HTTPSConnection("127.0.0.1", port, context=ctx,
                                           timeout=e2e_test.REQUEST_TIMEOUT_S)

    def get(self, port, target, ctx):
        """(status, body) over a new TLS connection, or None when TLS refused it."""
        c = self.https(port, ctx)
        try:
            c.request("GET", target)
            r = c.getresponse()
            return r.status, r.read()
        except (ssl.SSLError, ConnectionError, http.client.RemoteDisconnected, OSError):
            return None
        finally:
            c.close()

    def peer_name(self, port, ctx):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                return dict(x[0] for x in s.getpeercert()["subject"])["commonName"]

    def metrics(self, server, ctx=None):
        if ctx is None:
            c = http.client.HTTPConnection("127.0.0.1", server.admin_port,
                                           timeout=e2e_test.REQUEST_TIMEOUT_S)
        else:
            c = self.https(server.admin_port, ctx)
        c.request("GET", "/metrics")
        r = c.getresponse()
        body = r.read().decode()
        c.close()
        return dict(line.rsplit(" ", 1) for line in body.splitlines()
                    if line and not line.startswith("#"))

    def test_answers_over_tls_are_identical_to_plain_http(self):
        plain = self.serve(self.golden)
        s = self.serve_tls()
        self.assertEqual(s.scheme, "https")
        status, _, expected = plain.get(TARGET)
        self.assertEqual(status, 200)
        # One keep-alive connection, several requests.
        c = self.https(s.port, self.client_context())
        for _ in range(3):
            c.request("GET", TARGET)
            r = c.getresponse()
            self.assertEqual((r.status, r.read()), (200, expected))
        self.assertEqual(c.sock.version(), "TLSv1.3")
        c.close()
        samples = self.metrics(s)
        self.assertEqual(samples["tempo_http_tls_handshakes_total"], "1")
        self.assertEqual(samples["tempo_http_tls_handshake_failures_total"], "0")
        self.assertEqual(s.stop(), 0)

    def test_only_tls12_and_tls13(self):
        s = self.serve_tls()
        for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
            self.assertEqual(self.get(s.port, TARGET, self.client_context(version=version))[0],
                             200, version)
        for version in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            try:
                ctx = self.client_context(version=version)
            except (ValueError, ssl.SSLError):
                continue  # this Python cannot even offer it
            self.assertIsNone(self.get(s.port, TARGET, ctx), version)

    def test_mutual_tls_on_the_public_listener(self):
        s = self.serve_tls("--tls-client-ca", self.pem("ca_a"))
        self.assertEqual(self.get(s.port, TARGET, self.client_context("client_a"))[0], 200)
        self.assertIsNone(self.get(s.port, TARGET, self.client_context()))
        self.assertIsNone(self.get(s.port, TARGET, self.client_context("client_b")))
        deadline = time.monotonic() + POLL_S
        while True:
            failures = int(self.metrics(s)["tempo_http_tls_handshake_failures_total"])
            if failures >= 2 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        self.assertEqual(failures, 2)

    def test_plain_http_to_the_tls_port_is_closed_unanswered(self):
        s = self.serve_tls()
        with socket.create_connection(("127.0.0.1", s.port), timeout=5) as raw:
            raw.sendall(f"GET {TARGET} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
            received = b""
            try:
                while True:
                    chunk = raw.recv(4096)
                    if not chunk:
                        break
                    received += chunk
            except ConnectionResetError:
                pass
        self.assertNotIn(b"HTTP/", received)
        self.assertEqual(self.get(s.port, TARGET, self.client_context())[0], 200)

    def test_sighup_reloads_certificates_without_dropping_connections(self):
        live_cert = os.path.join(self.tmp, "live.pem")
        live_key = os.path.join(self.tmp, "live.key")
        shutil.copy(self.pem("server1"), live_cert)
        shutil.copy(self.key("server1"), live_key)
        s = e2e_test.Server(self.golden, "--tls-cert", live_cert, "--tls-key", live_key)
        self.servers.append(s)
        ctx = self.client_context()
        old = self.https(s.port, ctx)
        old.request("GET", TARGET)
        self.assertEqual(old.getresponse().read()[:1], b"{")
        old_sock = old.sock
        self.assertEqual(self.peer_name(s.port, ctx), "server-1")

        shutil.copy(self.pem("server2"), live_cert)
        shutil.copy(self.key("server2"), live_key)
        s.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + POLL_S
        while self.peer_name(s.port, ctx) != "server-2" and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual(self.peer_name(s.port, ctx), "server-2")
        self.assertIsNone(s.proc.poll(), "SIGHUP must not stop the server")
        # The connection opened before the reload goes on, on the same socket.
        old.request("GET", TARGET)
        r = old.getresponse()
        self.assertEqual(r.status, 200)
        r.read()
        self.assertIs(old.sock, old_sock)
        old.close()

        # A bad file: the previous certificate stays, and the server says why.
        with open(live_cert, "w") as f:
            f.write("not a certificate\n")
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)  # nothing observable changes: give the reload its time
        self.assertIsNone(s.proc.poll())
        self.assertEqual(self.peer_name(s.port, ctx), "server-2")
        self.assertEqual(self.get(s.port, TARGET, ctx)[0], 200)
        self.assertEqual(s.stop(), 0)
        self.assertIn("TLS reload failed", s.err)
        self.assertIn(live_cert, s.err)

    def test_admin_listener_with_mutual_tls(self):
        s = self.serve_tls("--admin-tls-cert", self.pem("server1"),
                           "--admin-tls-key", self.key("server1"),
                           "--admin-client-ca", self.pem("ca_a"))
        self.assertEqual(self.get(s.admin_port, "/readyz", self.client_context("client_a")),
                         (200, b"ready\n"))
        self.assertIsNone(self.get(s.admin_port, "/readyz", self.client_context()))
        self.assertIsNone(self.get(s.admin_port, "/readyz", self.client_context("client_b")))
        with socket.create_connection(("127.0.0.1", s.admin_port), timeout=5) as raw:
            raw.sendall(b"GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
            try:
                self.assertNotIn(b"HTTP/", raw.recv(4096))
            except ConnectionResetError:
                pass
        # SIGHUP reloads the admin listener too, and stops nothing.
        s.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        self.assertEqual(self.get(s.admin_port, "/readyz", self.client_context("client_a"))[0],
                         200)
        self.assertEqual(s.stop(), 0)

    def test_admin_off_loopback_needs_a_client_ca_or_admin_insecure(self):
        # Refused before anything is bound: exit 2 with a message naming the way out.
        for admin in ("0.0.0.0:0", "[::]:0"):
            p = run(["serve", "--store", self.golden, "--listen", "127.0.0.1:0",
                     "--admin-listen", admin], check=False)
            self.assertEqual(p.returncode, 2, p.stderr)
            self.assertIn(b"--admin-client-ca", p.stderr)
            self.assertIn(b"--admin-insecure", p.stderr)
        # A server certificate alone is not enough.
        p = run(["serve", "--store", self.golden, "--listen", "127.0.0.1:0",
                 "--admin-listen", "0.0.0.0:0", "--admin-tls-cert", self.pem("server1"),
                 "--admin-tls-key", self.key("server1")], check=False)
        self.assertEqual(p.returncode, 2, p.stderr)
        # With --admin-insecure, or mutual TLS, the rule lets it through: an
        # address no interface holds (TEST-NET-1) then fails to bind (exit 1)
        # instead, so these tests never listen off loopback.
        for flags in (["--admin-insecure"],
                      ["--admin-tls-cert", self.pem("server1"), "--admin-tls-key",
                       self.key("server1"), "--admin-client-ca", self.pem("ca_a")]):
            p = run(["serve", "--store", self.golden, "--listen", "127.0.0.1:0",
                     "--admin-listen", "192.0.2.1:0", *flags], check=False)
            self.assertEqual(p.returncode, 1, p.stderr)
            self.assertNotIn(b"--admin-insecure", p.stderr)
        # Loopback needs nothing.
        s = self.serve(self.golden)
        self.assertEqual(s.admin("/readyz")[0], 200)

    def test_bad_tls_files_are_refused_at_start(self):
        base = ["serve", "--store", self.golden, "--listen", "127.0.0.1:0",
                "--admin-listen", "127.0.0.1:0"]
        # A flag without the one it needs: a usage error from the parser.
        for flags, message in ((["--tls-cert", self.pem("server1")], b"--tls-key"),
                               (["--tls-client-ca", self.pem("ca_a")], b"--tls-cert"),
                               (["--admin-client-ca", self.pem("ca_a")], b"--admin-tls-cert")):
            p = run(base + flags, check=False)
            self.assertNotIn(p.returncode, (0, 1), (flags, p.stderr))
            self.assertIn(message, p.stderr, flags)
        # Files that cannot be used: refused at start, exit 2, naming the file and why.
        cases = [
            (["--tls-cert", os.path.join(self.tmp, "missing.pem"), "--tls-key",
              self.key("server1")], b"missing.pem: No such file"),
            (["--tls-cert", self.pem("server1"), "--tls-key", self.key("server2")],
             b"does not match"),
            (["--tls-cert", self.key("server1"), "--tls-key", self.key("server1")], b"no PEM certificate"),
            (["--admin-tls-cert", self.pem("server1"), "--admin-tls-key", self.key("server2")],
             b"does not match"),
        ]
        for flags, message in cases:
            p = run(base + flags, check=False)
            self.assertEqual(p.returncode, 2, (flags, p.stderr))
            self.assertIn(message, p.stderr, flags)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
