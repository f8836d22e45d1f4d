#!/usr/bin/env python3
"""End-to-end tests of the client side of issue 15 §3: the real `tempo` binary against a
throw-away PostgreSQL that accepts only TLS (a test CA and certificates made with `openssl`
here, client certificates required), and Kafka client properties (`--kafka-property`,
`--kafka-property-file`, `${env:NAME}`, the YAML `kafka:` map) against librdkafka's mock
cluster (`tempo dev-kafka`).

usage: client_tls_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE]   (run by ctest)
Every wait is bounded.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import e2e_test
from e2e_test import Base, run
from sync_e2e_test import Process
from tiers_e2e_test import PgCluster

SECRET = "Kafka-S3cret-never-printed"
PG_PASSWORD = "Pg-S3cret-never-printed"
PAGE = "/api/v2/tempo/layouts?tenant=ACME&channel=web&pageType=homepage&pageId=home-b"


def openssl(cwd, *args):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d):
    """A CA, a second CA that signs nothing, a server certificate for 127.0.0.1/localhost and
    a client certificate for the user tempo."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "other-ca"):
        openssl(d, "req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.crt", "-days",
                "2", "-subj", f"/CN=Tempo e2e {ca}", "-addext",
                "basicConstraints=critical,CA:TRUE", "-addext",
                "keyUsage=critical,keyCertSign,cRLSign")
    for name, subject, ext in (
            ("server", "/CN=127.0.0.1", "subjectAltName=IP:127.0.0.1,DNS:localhost\n"),
            ("client", "/CN=tempo", "extendedKeyUsage=clientAuth\n")):
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\n" + ext)
        openssl(d, "req", "-new", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", subject)
        openssl(d, "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-set_serial", str(abs(hash(name)) % 100000 + 2), "-days", "2", "-out",
                f"{name}.crt", "-extfile", f"{name}.ext")
    os.chmod(os.path.join(d, "client.key"), 0o600)  # libpq refuses a key others can read


class TlsPostgres(PgCluster):
    """PostgreSQL with ssl=on that refuses plain TCP; the database `postgres` trusts any TLS
    client (for createdb), every other one wants a client certificate (`cert`)."""

    def __init__(self, certs):
        self.certs = certs
        super().__init__()
        try:
            self.createdb("tempo")
        except BaseException:
            self.destroy()
            raise

    def tool_env(self):
        # The tools use TLS without a client certificate (libpq's default one is under $HOME).
        return dict(os.environ, PGSSLMODE="require",
                    PGSSLCERT=os.path.join(self.dir, "none.crt"),
                    PGSSLKEY=os.path.join(self.dir, "none.key"))

    def configure(self):
        for name in ("server.crt", "server.key", "ca.crt"):
            dst = os.path.join(self.data, name)
            shutil.copy(os.path.join(self.certs, name), dst)
            os.chmod(dst, 0o600)
            if self.as_user:
                os.chown(dst, self.as_user["user"], self.as_user["group"])
        with open(os.path.join(self.data, "pg_hba.conf"), "w") as f:
            f.write("hostnossl all all 0.0.0.0/0 reject\n"
                    "hostssl postgres all 127.0.0.1/32 trust\n"
                    "hostssl all all 127.0.0.1/32 cert\n")

    def settings(self):
        return ["-c", "ssl=on", "-c", "ssl_cert_file=server.crt", "-c", "ssl_key_file=server.key",
                "-c", "ssl_ca_file=ca.crt"]

    def uri(self, ca="ca.crt", client_cert=True, password=None):
        user = self.USER + (":" + password if password else "")
        u = (f"postgres://{user}@127.0.0.1:{self.port}/tempo?sslmode=verify-full"
             f"&sslrootcert={os.path.join(self.certs, ca)}")
        if client_cert:
            u += (f"&sslcert={os.path.join(self.certs, 'client.crt')}"
                  f"&sslkey={os.path.join(self.certs, 'client.key')}")
        return u


class ClientTlsTest(Base):
    @classmethod
    def setUpClass(cls):
        cls.certs = tempfile.mkdtemp(prefix="tempo-tls-certs-")
        make_certs(cls.certs)
        cls.pg = TlsPostgres(cls.certs)
        cls.golden = os.path.join(e2e_test.SHARED, "golden", "data.ndjson")
        run(["import", "--store", cls.pg.uri(), cls.golden])

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()
        shutil.rmtree(cls.certs, ignore_errors=True)

    def setUp(self):
        super().setUp()
        self.procs = []

    def tearDown(self):
        for p in reversed(self.procs):
            p.stop()
        super().tearDown()

    def start(self, args):
        p = Process(args)
        self.procs.append(p)
        return p

    # ---- PostgreSQL over TLS ------------------------------------------------------------

    def test_every_store_command_takes_the_tls_uri(self):
        uri = self.pg.uri()
        run(["migrate", "--store", uri])
        exported = run(["export", "--store", uri]).stdout
        local = self.store("rocks")
        run(["import", "--store", local, self.golden])
        self.assertEqual(exported, run(["export", "--store", local]).stdout)
        p = run(["reconcile", "--a", uri, "--b", local], check=False)
        self.assertEqual(p.returncode, 0, p.stdout.decode() + p.stderr.decode())

    def test_serve_reads_over_tls_and_answers_as_from_rocksdb(self):
        local = self.store("rocks")
        run(["import", "--store", local, self.golden])
        over_tls = self.serve(self.pg.uri(), "--deadline-ms", "2000")
        direct = self.serve(local, "--deadline-ms", "2000")
        status, _, body = over_tls.get(PAGE)
        self.assertEqual(status, 200, body)
        self.assertEqual((status, body), direct.get(PAGE)[::2])

    def test_wrong_ca_fails_clearly_and_shows_no_password(self):
        uri = self.pg.uri(ca="other-ca.crt", password=PG_PASSWORD)
        for args in (["import", "--store", uri, self.golden], ["export", "--store", uri]):
            p = run(args, check=False)
            err = p.stderr.decode()
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("certificate verify failed", err)
            self.assertNotIn(PG_PASSWORD, err + p.stdout.decode())
        p = subprocess.run([e2e_test.TEMPO, "serve", "--store", uri, "--listen", "127.0.0.1:0",
                            "--admin-listen", "off"], capture_output=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"certificate verify failed", p.stderr)
        self.assertNotIn(PG_PASSWORD.encode(), p.stdout + p.stderr)

    def test_a_client_certificate_is_required(self):
        p = run(["export", "--store", self.pg.uri(client_cert=False)], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"certificate", p.stderr)
        plain = f"postgres://tempo@127.0.0.1:{self.pg.port}/tempo?sslmode=disable"
        p = run(["export", "--store", plain], check=False)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn(b"no encryption", p.stderr)

    # ---- Kafka properties ---------------------------------------------------------------

    def kafka(self):
        brokers = self.start(["dev-kafka"]).first_line().strip()
        self.assertRegex(brokers, r"^[0-9.:,]+$")
        return brokers

    def events(self):
        path = os.path.join(self.tmp, "events.ndjson")
        run(["gen", "--seed", "3", "--tenants", "2", "--modules", "20", "--out", path])
        return path

    def test_properties_from_flags_file_and_environment_reach_the_client(self):
        brokers = self.kafka()
        props = os.path.join(self.tmp, "kafka.properties")
        with open(props, "w") as f:
            f.write("# secrets\nsasl.username = tempo\nsasl.password=${env:TEMPO_E2E_SECRET}\n"
                    "linger.ms=2\n")
        os.chmod(props, 0o600)
        env = dict(os.environ, TEMPO_E2E_SECRET=SECRET)
        # Plain Kafka: the properties are accepted and used; client.id names the client.
        p = subprocess.run([e2e_test.TEMPO, "publish", "--brokers", brokers,
                            "--kafka-property-file", props, "--kafka-property", "client.id=shop-42",
                            "--kafka-property", "debug=generic", self.events()],
                           capture_output=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        self.assertRegex(p.stdout, rb"^sent [1-9]")
        self.assertIn(b"shop-42#producer", p.stderr)  # librdkafka's own log names the client
        self.assertNotIn(SECRET.encode(), p.stdout + p.stderr)
        # SASL from the file and the flag: the client tries to log in (the mock cluster speaks
        # no SASL, so delivery fails), and no message shows the password.
        p = subprocess.run([e2e_test.TEMPO, "publish", "--brokers", brokers,
                            "--kafka-property-file", props,
                            "--kafka-property", "security.protocol=SASL_PLAINTEXT",
                            "--kafka-property", "sasl.mechanism=PLAIN",
                            "--kafka-property", "message.timeout.ms=3000", self.events()],
                           capture_output=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 1, p.stderr.decode()[-2000:])
        self.assertIn(b"SASL", p.stderr)
        self.assertNotIn(SECRET.encode(), p.stdout + p.stderr)

    def test_bad_properties_are_startup_errors_naming_the_key(self):
        brokers = self.kafka()
        events = self.events()
        store = self.store()
        run(["import", "--store", store, events])
        env = dict(os.environ)
        env.pop("TEMPO_E2E_UNSET", None)
        cases = [
            (["--kafka-property", "no.such.property=1"], "no.such.property"),
            (["--kafka-property", "security.protocol=carrier-pigeon"], "security.protocol"),
            (["--kafka-property", "acks=0"], "acks"),
            (["--kafka-property", "sasl.password"], "KEY=VALUE"),
            (["--kafka-property", "sasl.password=${env:TEMPO_E2E_UNSET}"],
             "TEMPO_E2E_UNSET is not set"),
            (["--kafka-property", "client.id=a", "--kafka-property", "client.id=b"],
             "client.id given twice"),
            (["--kafka-property-file", os.path.join(self.tmp, "missing.properties")],
             "missing.properties"),
        ]
        for extra, expected in cases:
            for args in (["publish", "--brokers", brokers, *extra, events],
                         ["sync", "--brokers", brokers, "--store", store, *extra],
                         ["serve", "--store", store, "--brokers", brokers, "--listen",
                          "127.0.0.1:0", "--admin-listen", "off", *extra]):
                p = subprocess.run([e2e_test.TEMPO, *args], capture_output=True, timeout=60,
                                   env=env)
                self.assertEqual(p.returncode, 2, f"{args}: {p.stderr.decode()[-2000:]}")
                self.assertIn(expected, p.stderr.decode(), args)
        p = run(["publish", "--log", self.store("log"), "--kafka-property", "client.id=x",
                 events], check=False)
        self.assertEqual(p.returncode, 2)
        self.assertIn(b"need --brokers", p.stderr)

    def test_yaml_kafka_map(self):
        brokers = self.kafka()
        store = self.store()
        run(["import", "--store", store, self.golden])
        config = os.path.join(self.tmp, "sync.yaml")
        with open(config, "w") as f:
            f.write(f"brokers: {brokers}\nstore: {store}\nkafka:\n"
                    "  client.id: tempo-sync-eu\n"
                    "  socket.timeout.ms: 20000\n"
                    "  sasl.password: ${env:TEMPO_E2E_SECRET}\n"
                    "  no.such.property: 1\n")
        env = dict(os.environ, TEMPO_E2E_SECRET=SECRET)
        p = subprocess.run([e2e_test.TEMPO, "sync", "--config", config, "--drain"],
                           capture_output=True, timeout=60, env=env)
        self.assertEqual(p.returncode, 2, p.stderr.decode())
        self.assertIn(f"{config}:7: kafka: no.such.property:".encode(), p.stderr)
        with open(config, "w") as f:
            f.write(f"brokers: {brokers}\nstore: {store}\nkafka:\n"
                    "  client.id: tempo-sync-eu\n  socket.timeout.ms: 20000\n"
                    "  sasl.username: tempo\n  sasl.password: ${env:TEMPO_E2E_SECRET}\n")
        p = subprocess.run([e2e_test.TEMPO, "sync", "--config", config, "--drain",
                            "--stats-every-ms", "0"], capture_output=True, timeout=120, env=env)
        self.assertEqual(p.returncode, 0, p.stderr.decode()[-2000:])
        self.assertNotIn(SECRET.encode(), p.stdout + p.stderr)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
