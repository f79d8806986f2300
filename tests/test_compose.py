"""docker-compose.yml is valid against the Compose spec and every file it references exists.

No Docker engine runs here, so the file is checked statically (check-jsonschema's vendored
compose-spec schema) and by following its references.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"


def test_compose_matches_the_spec() -> None:
    exe = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run([str(exe), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_compose_references_exist() -> None:
    spec = yaml.safe_load(COMPOSE.read_text())
    named_volumes = set(spec.get("volumes", {}))
    for name, service in spec["services"].items():
        if "build" in service:
            context = REPO / (service["build"] if isinstance(service["build"], str)
                              else service["build"].get("context", "."))
            assert (context / "Dockerfile").is_file(), name
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (REPO / source).exists(), f"{name}: {source} missing"
            else:
                assert source in named_volumes, f"{name}: volume {source} not declared"
        for dep in service.get("depends_on", []):
            assert dep in spec["services"], f"{name} depends on unknown {dep}"


def test_dockerfile_copies_what_exists() -> None:
    for line in (REPO / "Dockerfile").read_text().splitlines():
        match = re.match(r"COPY (.+) \S+$", line)
        if match:
            for source in match.group(1).split():
                assert (REPO / source).exists(), source


def test_servers_listen_inside_containers_and_publish_on_host_loopback() -> None:
    """0.0.0.0 inside a container is explicit; the host publishes every port on 127.0.0.1."""
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    assert services["dashboard"]["environment"]["BILLOPS_BIND_ADDRESS"] == "0.0.0.0"
    assert services["airflow"]["environment"]["AIRFLOW__API__HOST"] == "0.0.0.0"
    for name, service in services.items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port} is published on all interfaces"
    # The shared settings still reach both services.
    assert services["dashboard"]["environment"]["BILLOPS_HOME"] == "/data"
