#!/usr/bin/env python3
"""End-to-end tests of `tempo probe` and `tempo --version` (issue 16 §1).

usage: probe_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
ProbeTest probes the admin listeners of real `tempo serve` processes (127.0.0.1, port 0):
ready and live answer 0; a port with nothing listening, a listener that never answers and a
serve whose PostgreSQL origin is stopped (503 not_ready) answer 1 with one line saying why;
TLS and mutual TLS with a CA and certificates openssl makes at test time; usage errors exit 2.
VersionTest: `tempo --version` names the project version and the commit.
Every wait is bounded; servers and PostgreSQL are stopped at the end of their test.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import unittest

import e2e_test
from e2e_test import Base, run
from sync_e2e_test import wait_for
from tiers_e2e_test import NEVER, PgCluster, url
from tls_e2e_test import make_pki

# Bounds a probe's process; the probe itself is bounded by --timeout-ms.
PROBE_PROCESS_TIMEOUT_S = 60


def probe(*args):
    """Runs `tempo probe ARGS`: (exit code, stdout, stderr)."""
    p = subprocess.run([e2e_test.TEMPO, "probe", *args], capture_output=True, text=True,
                       timeout=PROBE_PROCESS_TIMEOUT_S)
    return p.returncode, p.stdout, p.stderr


def closed_port():
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ProbeTest(Base):
    def admin(self, server):
        return f"127.0.0.1:{server.admin_port}"

    def test_ready_and_live_exit_0_with_the_answer(self):
        store, _ = self.golden_store()
        s = self.serve(store)
        code, out, err = probe("ready", "--admin", self.admin(s))
        self.assertEqual(code, 0, err)
        self.assertEqual(out, f"tempo probe: ready: http://{self.admin(s)}/readyz: 200 ready\n")
        code, out, err = probe("live", "--admin", self.admin(s), "--timeout-ms", "5000")
        self.assertEqual(code, 0, err)
        self.assertIn("/livez: 200 ok", out)

    def test_nothing_listening_exits_1(self):
        port = closed_port()
        for what in ("ready", "live"):
            code, out, err = probe(what, "--admin", f"127.0.0.1:{port}")
            self.assertEqual(code, 1, out + err)
            self.assertEqual(out, "")
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertIn("connecting", err)
            self.assertIn("refused", err.lower())

    def test_a_listener_that_never_answers_exits_1(self):
        # The kernel completes the handshake; nothing ever reads or answers.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            port = silent.getsockname()[1]
            code, out, err = probe("ready", "--admin", f"127.0.0.1:{port}", "--timeout-ms", "300")
        self.assertEqual(code, 1, out + err)
        self.assertIn("reading the answer: no answer within the time-out", err)

    def test_a_serve_whose_origin_is_down_is_not_ready(self):
        pg = PgCluster()
        self.addCleanup(pg.destroy)
        uri = pg.createdb("probe")
        run(["import", "--store", uri, os.path.join(e2e_test.SHARED, "golden", "data.ndjson")])
        s = self.serve(uri, "--ready-grace-ms", "0", "--deadline-ms", "2000")
        self.assertEqual(probe("ready", "--admin", self.admin(s))[0], 0)
        pg.stop_immediate()
        # A read that finds the origin unreachable turns /readyz 503 (grace 0).
        wait_for(lambda: s.get(url(*NEVER))[0] != 200 and s.admin("/readyz")[0] == 503,
                 "/readyz 503 with PostgreSQL stopped")
        code, out, err = probe("ready", "--admin", self.admin(s))
        self.assertEqual(code, 1, out + err)
        self.assertEqual(out, "")
        m = re.fullmatch(r"tempo probe: ready: http://[0-9.:]+/readyz: 503 (\{.*\})\n", err)
        self.assertIsNotNone(m, err)
        self.assertEqual(json.loads(m.group(1))["error"]["code"], "not_ready")
        # Alive all the same: a liveness probe must not restart it for its origin's outage.
        self.assertEqual(probe("live", "--admin", self.admin(s))[0], 0)

    def test_usage_errors_exit_2(self):
        admin = ["--admin", f"127.0.0.1:{closed_port()}"]
        for args in ([*admin],  # what to probe is required
                     ["started", *admin],
                     ["ready", "--admin", "127.0.0.1"],
                     ["ready", "--admin", "127.0.0.1:0"],
                     ["ready", *admin, "--timeout-ms", "0"],
                     ["ready", *admin, "--no-such-flag"],
                     ["ready", *admin, "--admin-cert", "c.pem", "--admin-key", "k.pem"],
                     ["ready", *admin, "--admin-ca", os.path.join(self.tmp, "missing.pem")]):
            code, out, err = probe(*args)
            self.assertEqual(code, 2, (args, out, err))
            self.assertTrue(err, args)

    def test_help_exits_0(self):
        code, out, _ = probe("--help")
        self.assertEqual(code, 0)
        self.assertIn("--admin-ca", out)


class ProbeTlsTest(Base):
    """An admin listener with TLS (--admin-tls-cert) and with mutual TLS (--admin-client-ca)."""

    @classmethod
    def setUpClass(cls):
        cls.pki = tempfile.mkdtemp(prefix="tempo-probe-pki-")
        make_pki(cls.pki)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)

    def pem(self, name):
        return os.path.join(self.pki, name + ".pem")

    def key(self, name):
        return os.path.join(self.pki, name + ".key")

    def serve_admin_tls(self, *extra):
        store, _ = self.golden_store()
        s = self.serve(store, "--admin-tls-cert", self.pem("server1"), "--admin-tls-key",
                       self.key("server1"), *extra)
        return f"127.0.0.1:{s.admin_port}"

    def test_tls_verifies_the_listener(self):
        admin = self.serve_admin_tls()
        code, out, err = probe("ready", "--admin", admin, "--admin-ca", self.pem("ca_a"))
        self.assertEqual(code, 0, err)
        self.assertEqual(out, f"tempo probe: ready: https://{admin}/readyz: 200 ready\n")
        # A CA that did not sign it, a name it does not carry, plain HTTP: 1, saying why.
        code, _, err = probe("ready", "--admin", admin, "--admin-ca", self.pem("ca_b"))
        self.assertEqual(code, 1, err)
        self.assertIn("TLS handshake", err)
        code, _, err = probe("ready", "--admin", admin, "--admin-ca", self.pem("ca_a"),
                             "--admin-tls-name", "admin.example")
        self.assertEqual(code, 1, err)
        self.assertIn("TLS handshake", err)
        code, _, err = probe("ready", "--admin", admin)
        self.assertEqual(code, 1, err)
        self.assertEqual(len(err.splitlines()), 1, err)

    def test_mutual_tls_needs_the_client_certificate(self):
        admin = self.serve_admin_tls("--admin-client-ca", self.pem("ca_a"))
        code, out, err = probe("ready", "--admin", admin, "--admin-ca", self.pem("ca_a"),
                               "--admin-cert", self.pem("client_a"),
                               "--admin-key", self.key("client_a"))
        self.assertEqual(code, 0, err)
        self.assertIn("200 ready", out)
        for client in ([], ["--admin-cert", self.pem("client_b"),
                            "--admin-key", self.key("client_b")]):  # signed by another CA
            code, out, err = probe("ready", "--admin", admin, "--admin-ca", self.pem("ca_a"),
                                   *client)
            self.assertEqual(code, 1, (client, out, err))
            self.assertEqual(out, "")


class VersionTest(unittest.TestCase):
    def test_version_names_the_release_and_the_commit(self):
        p = run(["--version"])
        out = p.stdout.decode()
        m = re.fullmatch(r"tempo (\d+\.\d+\.\d+) \(([0-9a-f]{12,40}|unknown)\)\n", out)
        self.assertIsNotNone(m, out)
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                               "CMakeLists.txt")) as f:
            project = re.search(r"project\(tempo VERSION (\S+)", f.read())
        self.assertEqual(m.group(1), project.group(1))


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
