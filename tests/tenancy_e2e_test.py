#!/usr/bin/env python3
"""End-to-end tests of tenant groups and per-tenant limits (issue 15 §1, §4).

usage: tenancy_e2e_test.py TEMPO_BINARY SHARED_DIR [SUITE...]   (run by ctest)
GroupTest runs two real `tempo serve` processes over the golden data (tenants
ACME, Globex, WM_GLASS, initech), one per tenant group, and checks which
tenants each answers, the 421 and its header, the header on every answer,
the metrics, and that bad group files refuse to start with file:line:key.
LimitTest checks --tenant-rate/--tenant-burst (429 with Retry-After, other
tenants unaffected) and the YAML's tenant_limits overrides. Servers listen on
127.0.0.1 port 0; every wait is bounded.
"""
import json
import os
import socket
import subprocess
import sys
import unittest

import e2e_test

GROUPS = """\
# tenant groups of the test
tenant_groups:
  TG1: [WM_GLASS]
  TG2: ["*"]
"""

PAGE = "/api/v2/tempo/layouts?tenant={}&channel=web&pageType=homepage"
HEADER = "x-tempo-tenant-group"


def samples(metrics):
    return dict(line.rsplit(" ", 1) for line in metrics.splitlines()
                if line and not line.startswith("#"))


class Base(e2e_test.Base):
    def setUp(self):
        super().setUp()
        self.golden, _ = self.golden_store()

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def refused(self, *flags):
        """Runs `tempo serve` with flags that must not start: (exit code, stderr)."""
        p = subprocess.run(
            [e2e_test.TEMPO, "serve", "--store", self.golden, "--listen", "127.0.0.1:0",
             "--admin-listen", "127.0.0.1:0", *flags],
            capture_output=True, text=True, timeout=60)
        return p.returncode, p.stderr

    def metrics(self, server):
        status, body = server.admin("/metrics")
        self.assertEqual(status, 200)
        return samples(body)


class GroupTest(Base):
    def setUp(self):
        super().setUp()
        self.groups = self.write("groups.yaml", GROUPS)

    def test_each_instance_serves_its_group_and_names_the_other(self):
        tg1 = self.serve(self.golden, "--groups", self.groups, "--tenant-group", "TG1")
        tg2 = self.serve(self.golden, "--groups", self.groups, "--tenant-group", "TG2")
        plain = self.serve(self.golden)
        for server, own, others in ((tg1, "TG1", ["ACME", "Globex", "initech"]),
                                    (tg2, "TG2", ["WM_GLASS"])):
            mine = ["WM_GLASS"] if own == "TG1" else ["ACME", "Globex", "initech"]
            for tenant in mine:
                status, headers, body = server.get(PAGE.format(tenant))
                self.assertEqual(status, 200, body[:300])
                self.assertEqual(headers[HEADER], own)
                self.assertEqual(body, plain.get(PAGE.format(tenant))[2])  # byte-identical
                self.assertNotIn(HEADER, plain.get(PAGE.format(tenant))[1])
            for tenant in others:
                group = "TG1" if tenant == "WM_GLASS" else "TG2"
                status, headers, body = server.get(PAGE.format(tenant))
                self.assertEqual(status, 421, body[:300])
                self.assertEqual(headers[HEADER], group)
                self.assertEqual(headers["content-type"], "application/json")
                self.assertEqual(json.loads(body), {"error": {
                    "code": "wrong_tenant_group",
                    "message": f"Tenant '{tenant}' is served by tenant group '{group}'."}})

    def test_every_answer_carries_the_own_group(self):
        tg2 = self.serve(self.golden, "--groups", self.groups, "--tenant-group", "TG2")
        status, headers, _ = tg2.get(PAGE.format("ACME"))
        self.assertEqual(status, 200)
        etag = headers["etag"]
        answers = [
            tg2.get(PAGE.format("ACME"), headers={"If-None-Match": etag}),  # 304
            tg2.get("/healthz"),
            tg2.get("/nope"),  # 404
            tg2.get(PAGE.format("ACME"), method="HEAD"),  # 405
            tg2.get("/api/v2/tempo/layouts?tenant=ACME&channel=web"),  # 400
            tg2.get(PAGE.format("nobody")),  # 404 unknown_tenant (the "*" group's)
        ]
        self.assertEqual([a[0] for a in answers], [304, 200, 404, 405, 400, 404])
        for status, headers, body in answers:
            self.assertEqual(headers.get(HEADER), "TG2", (status, body[:200]))
        # The listener's own answer to a request it cannot parse names it too.
        with socket.create_connection(("127.0.0.1", tg2.port), timeout=10) as sock:
            sock.sendall(b"NOT HTTP\r\n\r\n")
            head = sock.recv(4096).decode(errors="replace")
        self.assertTrue(head.startswith("HTTP/1.1 400"), head)
        self.assertIn(f"{HEADER}: TG2\r\n".lower(), head.lower())

    def test_validation_comes_before_the_group_check(self):
        tg2 = self.serve(self.golden, "--groups", self.groups, "--tenant-group", "TG2")
        status, headers, body = tg2.get(
            "/api/v2/tempo/layouts?tenant=WM_GLASS&channel=WEB&pageType=homepage")
        self.assertEqual(status, 400, body)
        self.assertEqual(json.loads(body)["error"]["code"], "invalid_parameter")
        self.assertEqual(headers[HEADER], "TG2")

    def test_other_groups_tenants_cost_no_cache_or_store_read(self):
        tg1 = self.serve(self.golden, "--groups", self.groups, "--tenant-group", "TG1")
        before = self.metrics(tg1)
        for i in range(50):
            self.assertEqual(tg1.get(PAGE.format("ACME") + f"&pageId=p{i}")[0], 421)
        after = self.metrics(tg1)
        self.assertEqual(after['tempo_tenant_group_info{group="TG1"}'], "1")
        self.assertEqual(int(after["tempo_wrong_tenant_group_total"]), 50)
        for key in ('tempo_cache_misses_total{cache="slices"}',
                    'tempo_cache_misses_total{cache="tenants"}',
                    'tempo_cache_entries{cache="slices"}',
                    "tempo_waiting_requests_total"):
            self.assertEqual(after[key], before[key], key)

    def test_groups_from_the_config_file(self):
        config = self.write("serve.yaml", GROUPS + "tenant-group: TG1\n")
        tg1 = self.serve(self.golden, "--config", config)
        self.assertEqual(tg1.get(PAGE.format("WM_GLASS"))[1][HEADER], "TG1")
        self.assertEqual(tg1.get(PAGE.format("Globex"))[0], 421)

    def test_bad_groups_refuse_to_start_naming_file_line_and_key(self):
        cases = [
            ("tenant_groups:\n  TG1: [A, B]\n  TG2: [B]\n", ":3: tenant_groups.TG2: tenant B is "
             "already in group TG1 (line 2)"),
            ("tenant_groups:\n  TG1: []\n", ":2: tenant_groups.TG1: an empty group serves nobody"),
            ("tenant_groups:\n  TG1: [\"*\"]\n  TG2: [\"*\"]\n",
             ":3: tenant_groups.TG2: \"*\" is already the group TG1"),
            ("tenant_groups:\n  TG1: [A]\n", ":2: tenant_groups: has no group TG9 (--tenant-group)"),
        ]
        for i, (text, message) in enumerate(cases):
            path = self.write(f"bad{i}.yaml", text)
            for flags in (["--groups", path], ["--config", path]):
                code, err = self.refused(*flags, "--tenant-group", "TG9")
                self.assertEqual(code, 2, (flags, err))
                self.assertIn(path + message, err)
        code, err = self.refused("--tenant-group", "TG1")
        self.assertEqual(code, 2)
        self.assertIn("--tenant-group TG1 needs tenant groups", err)
        both = self.write("both.yaml", GROUPS)
        code, err = self.refused("--config", both, "--groups", self.groups, "--tenant-group", "TG1")
        self.assertEqual(code, 2)
        self.assertIn("tenant groups given twice", err)


class LimitTest(Base):
    def test_over_its_rate_a_tenant_gets_429_others_do_not(self):
        s = self.serve(self.golden, "--tenant-rate", "1", "--tenant-burst", "3")
        answers = [s.get(PAGE.format("ACME")) for _ in range(10)]
        statuses = [a[0] for a in answers]
        self.assertEqual(statuses[:3], [200, 200, 200])  # the burst
        self.assertIn(429, statuses)  # 10 requests take well under 7 s
        status, headers, body = answers[statuses.index(429)]
        self.assertEqual(json.loads(body)["error"]["code"], "rate_limited")
        self.assertGreaterEqual(int(headers["retry-after"]), 1)
        self.assertEqual(headers["content-type"], "application/json")
        # Another tenant has a bucket of its own.
        self.assertEqual(s.get(PAGE.format("Globex"))[0], 200)
        m = self.metrics(s)
        self.assertEqual(int(m["tempo_rate_limited_total"]), statuses.count(429))

    def test_yaml_overrides_per_tenant(self):
        config = self.write("serve.yaml", "tenant-rate: 1\ntenant_limits:\n"
                                          "  Globex: {rate: 1000000, burst: 1000000}\n"
                                          "  initech: {rate: 1, burst: 1}\n")
        s = self.serve(self.golden, "--config", config)
        self.assertEqual([s.get(PAGE.format("Globex"))[0] for _ in range(20)], [200] * 20)
        self.assertEqual([s.get(PAGE.format("initech"))[0] for _ in range(2)][0], 200)
        statuses = [s.get(PAGE.format("initech"))[0] for _ in range(5)]
        self.assertIn(429, statuses)

    def test_bad_limits_refuse_to_start(self):
        path = self.write("bad.yaml", "tenant_limits:\n  ACME: {rate: 10}\n  Globex: {rate: x}\n")
        code, err = self.refused("--config", path)
        self.assertEqual(code, 2)
        self.assertIn(path + ":3: tenant_limits.Globex.rate: expected an integer", err)
        # Flags the command line checks (CLI11's own exit codes, never 0).
        for flags, message in ((["--tenant-burst", "5"], "--tenant-burst requires --tenant-rate"),
                               (["--tenant-rate", "0"], "--tenant-rate"),
                               (["--origin-tenant-share", "1.5"], "--origin-tenant-share")):
            code, err = self.refused(*flags)
            self.assertNotEqual(code, 0, flags)
            self.assertIn(message, err)
        # The same rule between a file's setting and the command line.
        path = self.write("burst.yaml", "tenant-burst: 5\n")
        code, err = self.refused("--config", path)
        self.assertEqual(code, 2, err)
        self.assertIn(path + ":1: tenant-burst: needs tenant-rate", err)


if __name__ == "__main__":
    e2e_test.TEMPO, e2e_test.SHARED = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
