#!/usr/bin/env python3
"""The Debian package (issue 16 §1), made by cpack from this build tree in a temporary
directory, then taken apart with dpkg-deb: its name, control fields and computed
dependencies; the binary, both systemd units, the example configuration (as conffiles) and
the docs at their paths; the maintainer scripts. The units pass `systemd-analyze verify`
(with ExecStart pointed at the packaged binary, as the real path is not installed here) and
a broken unit does not; their hardening scores `OK` in `systemd-analyze security`. The
packaged binary runs, and `tempo sync` and `tempo serve` start with the packaged example
configuration (their paths moved to a temporary directory on the command line, which wins
over the file) and answer `tempo probe`; `tempo serve --check-config` accepts the file as
shipped.

usage: package_test.py BUILD_DIR SOURCE_DIR   (run by ctest)
"""
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import unittest

BUILD = None
SOURCE = None
CPACK_TIMEOUT_S = 240
TOOL_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30
# Lines a starting process may print before it names its admin port.
MAX_START_LINES = 100
# `systemd-analyze security` rates exposure from 0 (locked down) to 10; "OK" is below 4.
MAX_EXPOSURE = 2.0

HARDENING = ["NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes", "PrivateTmp=yes",
             "PrivateDevices=yes", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
             "ProtectKernelLogs=yes", "ProtectControlGroups=yes",
             "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces=yes",
             "LockPersonality=yes", "MemoryDenyWriteExecute=yes", "RestrictRealtime=yes",
             "SystemCallArchitectures=native", "SystemCallFilter=@system-service",
             "CapabilityBoundingSet=", "UMask=0077", "User=tempo", "Group=tempo",
             "StateDirectory=tempo", "Restart=on-failure", "Type=notify"]


def tool(*args, check=True, cwd=None):
    p = subprocess.run(list(args), capture_output=True, text=True, timeout=TOOL_TIMEOUT_S,
                       cwd=cwd)
    if check and p.returncode != 0:
        raise AssertionError(f"{args} exited {p.returncode}: {p.stderr[-2000:]}")
    return p


def project_version():
    with open(os.path.join(SOURCE, "CMakeLists.txt")) as f:
        return re.search(r"project\(tempo VERSION (\S+)", f.read()).group(1)


class PackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="tempo-package-")
        try:
            p = subprocess.run(["cpack", "-G", "DEB", "--config",
                                os.path.join(BUILD, "CPackConfig.cmake"), "-B", cls.tmp],
                               capture_output=True, text=True, timeout=CPACK_TIMEOUT_S)
            if p.returncode != 0:
                raise AssertionError(f"cpack exited {p.returncode}: {p.stdout[-3000:]}"
                                     f"{p.stderr[-3000:]}")
            cls.version = project_version()
            cls.arch = tool("dpkg", "--print-architecture").stdout.strip()
            cls.deb = os.path.join(cls.tmp, f"tempo-runtime_{cls.version}_{cls.arch}.deb")
            if not os.path.exists(cls.deb):
                raise AssertionError(f"no {os.path.basename(cls.deb)} in {os.listdir(cls.tmp)}")
            cls.root = os.path.join(cls.tmp, "root")  # the package's files
            cls.control = os.path.join(cls.tmp, "control")  # its control archive
            tool("dpkg-deb", "-x", cls.deb, cls.root)
            tool("dpkg-deb", "-e", cls.deb, cls.control)
        except BaseException:
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def field(self, name):
        return tool("dpkg-deb", "-f", self.deb, name).stdout.strip()

    def packaged(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def test_name_version_architecture_and_dependencies(self):
        self.assertEqual(self.field("Package"), "tempo-runtime")
        self.assertEqual(self.field("Version"), self.version)
        self.assertEqual(self.field("Architecture"), self.arch)
        self.assertTrue(self.field("Maintainer"))
        depends = [d.strip().split()[0] for d in self.field("Depends").split(",")]
        # useradd for postinst, and the shared libraries' packages (dpkg-shlibdeps).
        for package in ("passwd", "libc6", "libstdc++6", "libpq5", "libssl3", "librdkafka1"):
            self.assertIn(package, depends, depends)

    def test_files_at_their_paths(self):
        listing = tool("dpkg-deb", "-c", self.deb).stdout
        entries = {}
        for line in listing.splitlines():
            mode, path = line.split()[0], line.split()[-1]
            entries[path] = mode
        expected = {"./usr/bin/tempo": "-rwxr-xr-x",
                    "./usr/lib/systemd/system/tempo-serve.service": "-rw-r--r--",
                    "./usr/lib/systemd/system/tempo-sync.service": "-rw-r--r--",
                    "./etc/tempo/serve.yaml": "-rw-r--r--",
                    "./etc/tempo/sync.yaml": "-rw-r--r--",
                    "./usr/share/doc/tempo-runtime/deploy.md": "-rw-r--r--",
                    "./usr/share/doc/tempo-runtime/CHANGELOG.md": "-rw-r--r--"}
        for path, mode in expected.items():
            self.assertEqual(entries.get(path), mode, path)
        for path in entries:  # nothing of the build's own prefix or tree
            self.assertTrue(path.startswith(("./usr/", "./etc/")) or path == "./", path)
            self.assertNotIn("/usr/local", path)
        for name in ("tempo-serve.service", "tempo-sync.service", "serve.yaml", "sync.yaml"):
            installed = self.packaged("/usr/lib/systemd/system/" + name) if name.endswith(
                ".service") else self.packaged("/etc/tempo/" + name)
            with open(installed) as a, open(os.path.join(SOURCE, "packaging", name)) as b:
                self.assertEqual(a.read(), b.read(), name)

    def test_conffiles_and_maintainer_scripts(self):
        with open(os.path.join(self.control, "conffiles")) as f:
            self.assertEqual(f.read().split(), ["/etc/tempo/serve.yaml", "/etc/tempo/sync.yaml"])
        for script in ("postinst", "prerm", "postrm"):
            path = os.path.join(self.control, script)
            self.assertTrue(os.stat(path).st_mode & stat.S_IXUSR, script)
            with open(path) as a, open(os.path.join(SOURCE, "packaging", script)) as b:
                self.assertEqual(a.read(), b.read(), script)
            tool("sh", "-n", path)
        with open(os.path.join(self.control, "postinst")) as f:
            postinst = f.read()
        self.assertRegex(postinst, r"useradd --system --gid tempo --no-create-home")
        self.assertIn("--shell /usr/sbin/nologin", postinst)
        self.assertIn("systemctl daemon-reload", postinst)
        with open(os.path.join(self.control, "prerm")) as f:
            self.assertIn("systemctl stop tempo-serve.service tempo-sync.service", f.read())
        with open(os.path.join(self.control, "postrm")) as f:
            self.assertIn("purge)", f.read())

    def test_units_are_hardened_notify_services(self):
        for name, command in (("tempo-serve.service", "serve"), ("tempo-sync.service", "sync")):
            with open(self.packaged("/usr/lib/systemd/system/" + name)) as f:
                lines = [line.strip() for line in f]
            self.assertIn(f"ExecStart=/usr/bin/tempo {command} --config /etc/tempo/{command}.yaml",
                          lines, name)
            for setting in HARDENING:
                self.assertIn(setting, lines, f"{name}: {setting}")
            self.assertTrue(any(line.startswith("LimitNOFILE=") for line in lines), name)
            self.assertTrue(any(line.startswith("TimeoutStopSec=") for line in lines), name)
            self.assertTrue(any(line.startswith("#WatchdogSec=") for line in lines), name)
        for name in ("tempo-serve.service", "tempo-sync.service"):
            with open(self.packaged("/usr/lib/systemd/system/" + name)) as f:
                self.assertIn("ExecReload=/bin/kill -HUP $MAINPID\n", f.read(), name)

    def unit_copy(self, name, replace=None):
        """A copy of the packaged unit whose ExecStart runs the packaged binary, as
        systemd-analyze verify checks that the command exists; `replace` edits it more."""
        with open(self.packaged("/usr/lib/systemd/system/" + name)) as f:
            text = f.read().replace("ExecStart=/usr/bin/tempo",
                                    "ExecStart=" + self.packaged("/usr/bin/tempo"))
        if replace:
            text = text.replace(*replace)
        d = tempfile.mkdtemp(dir=self.tmp)
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def verify(self, unit):
        """(exit code, everything systemd-analyze verify said)."""
        p = tool("systemd-analyze", "verify", "--man=no", unit, check=False)
        return p.returncode, (p.stdout + p.stderr).strip()

    def test_units_pass_systemd_analyze_verify(self):
        for name in ("tempo-serve.service", "tempo-sync.service"):
            code, said = self.verify(self.unit_copy(name))
            self.assertEqual((code, said), (0, ""), name)
            p = tool("systemd-analyze", "security", "--offline=true", self.unit_copy(name))
            m = re.search(r"Overall exposure level for \S+: ([0-9.]+)", p.stdout)
            self.assertIsNotNone(m, p.stdout[-2000:])
            self.assertLessEqual(float(m.group(1)), MAX_EXPOSURE, p.stdout[-3000:])
        # And it would catch a broken unit: a missing binary, an unknown setting, a bad value.
        code, said = self.verify(self.unit_copy(
            "tempo-serve.service", ("ExecStart=" + self.packaged("/usr/bin/tempo"),
                                    "ExecStart=/nonexistent/tempo")))
        self.assertNotEqual(code, 0, said)
        for broken in (("ProtectSystem=strict", "ProtectSytem=strict"),
                       ("Type=notify", "Type=notifyy")):
            code, said = self.verify(self.unit_copy("tempo-serve.service", broken))
            self.assertNotEqual(said, "", broken)

    def test_the_packaged_binary_runs_the_example_configuration(self):
        tempo = self.packaged("/usr/bin/tempo")
        p = tool(tempo, "--version")
        self.assertRegex(p.stdout, rf"^tempo {re.escape(self.version)} \(([0-9a-f]+|unknown)\)\n$")
        # The file as shipped, every setting checked (without binding or opening anything).
        p = tool(tempo, "serve", "--config", self.packaged("/etc/tempo/serve.yaml"),
                 "--check-config", check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("store: /var/lib/tempo/store", p.stdout)
        state = tempfile.mkdtemp(dir=self.tmp)
        paths = ["--store", os.path.join(state, "store"), "--log", os.path.join(state, "log"),
                 "--admin-listen", "127.0.0.1:0"]
        processes = []
        try:
            # sync names its admin port on stderr, serve on its second stdout line.
            port = self.start(processes, "stderr", tempo, "sync", "--config",
                              self.packaged("/etc/tempo/sync.yaml"), *paths)
            p = tool(tempo, "probe", "live", "--admin", "127.0.0.1:" + port, check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            port = self.start(processes, "stdout", tempo, "serve", "--config",
                              self.packaged("/etc/tempo/serve.yaml"), *paths,
                              "--listen", "127.0.0.1:0")
            p = tool(tempo, "probe", "ready", "--admin", "127.0.0.1:" + port, check=False)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        finally:
            for proc in reversed(processes):
                self.stop(proc)
        for proc in processes:
            self.assertEqual(proc.returncode, 0, proc.args)

    def start(self, processes, stream, *args):
        """Starts `args` and returns the admin port it announces on `stream` (it does once it
        runs, or exits)."""
        proc = subprocess.Popen(list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        processes.append(proc)
        lines = []
        for _ in range(MAX_START_LINES):
            line = getattr(proc, stream).readline()  # bounded: it prints or exits
            m = re.search(r"admin on port (\d+)", line)
            if m:
                return m.group(1)
            lines.append(line)
            if not line:
                break
        self.stop(proc)
        raise AssertionError(f"{args[1]} did not start: {''.join(lines)[-2000:]}")

    def stop(self, proc):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()
        proc.stderr.close()


if __name__ == "__main__":
    BUILD, SOURCE = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v"] + sys.argv[3:])
