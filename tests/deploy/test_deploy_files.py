"""The deployment files (deploy/, .env.example, .dockerignore) against the project itself.

No container engine runs here: the files are checked statically (they parse, every command
they run exists, every variable is documented) and by running the same commands directly
(gunicorn with deploy/gunicorn.conf.py, the entry point's dispatch, the production guard).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from fnmatch import fnmatch
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from cryptography.fernet import Fernet

from tests.packages import PACKAGES

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
BIN = Path(sys.executable).parent
ENTRYPOINT = DEPLOY / "docker-entrypoint.sh"
IMAGE_APP_DIR = "/app"  # WORKDIR of deploy/Dockerfile: the repository root inside the image
OUR_IMAGE = "wechat-tag-service"
PROBE_PATHS = {"/healthz": "healthz", "/readyz": "readyz"}


# ---- loading -------------------------------------------------------------------------


def load_compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def load_manifests() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(K8S.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                docs.append((path.name, doc))
    return docs


def manifests_of(kind: str) -> list[tuple[str, dict]]:
    return [(name, doc) for name, doc in load_manifests() if doc["kind"] == kind]


def workload(name: str) -> dict:
    [doc] = [
        doc
        for _, doc in load_manifests()
        if doc["kind"] in {"Deployment", "Job"} and doc["metadata"]["name"] == name
    ]
    return doc


def pod_spec(doc: dict) -> dict:
    return doc["spec"]["template"]["spec"]


def app_services(compose: dict) -> dict[str, dict]:
    """The compose services that run this project's image (not postgres/redis)."""
    return {
        name: svc
        for name, svc in compose["services"].items()
        if "build" in svc or OUR_IMAGE in str(svc.get("image", ""))
    }


def image_cmd() -> list[str]:
    """The Dockerfile's CMD: what a container runs when compose/k8s give no command."""
    [line] = [ln for ln in dockerfile_lines() if ln.startswith("CMD ")]
    return json.loads(line[len("CMD ") :])


def dockerfile_lines() -> list[str]:
    """Dockerfile instructions with continuation lines joined."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]


def container_commands() -> list[tuple[str, list[str]]]:
    """(where, argv given to the image's entry point) for every container compose/k8s run."""
    found = []
    for name, svc in app_services(load_compose()).items():
        cmd = svc.get("command", image_cmd())
        found.append((f"compose {name}", shlex.split(cmd) if isinstance(cmd, str) else cmd))
    for file, doc in load_manifests():
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        for container in pod_spec(doc)["containers"]:
            assert "command" not in container, f"{file}: keep the image's entry point"
            found.append((f"{file} {container['name']}", container.get("args", image_cmd())))
    return found


def probe_commands() -> list[tuple[str, list[str]]]:
    """(where, argv) of exec probes and compose health checks (run as is, no entry point)."""
    found = []
    for name, svc in app_services(load_compose()).items():
        test = svc.get("healthcheck", {}).get("test")
        if test:
            if test[0] == "CMD-SHELL":
                found.append((f"compose {name}", shlex.split(test[1].replace("$$", "$"))))
            else:
                found.append((f"compose {name}", test[1:]))
    for file, doc in load_manifests():
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        for container in pod_spec(doc)["containers"]:
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                argv = container.get(probe, {}).get("exec", {}).get("command")
                if argv:
                    if argv[:2] == ["sh", "-c"]:
                        argv = shlex.split(argv[2])
                    found.append((f"{file} {container['name']} {probe}", argv))
    return found


# ---- the entry point's dispatch, run for real with stub programs -------------------------


@pytest.fixture(scope="module")
def resolve_entrypoint(tmp_path_factory):
    """argv given to the image -> argv the entry point finally execs."""
    stubs = tmp_path_factory.mktemp("stubs")
    for program in ("gunicorn", "celery", "python"):
        stub = stubs / program
        stub.write_text('#!/bin/sh\nprintf "%s\\0" "$(basename "$0")" "$@"\n')
        stub.chmod(0o755)

    def resolve(argv: list[str]) -> list[str]:
        out = subprocess.run(
            [str(ENTRYPOINT), *argv],
            env={"PATH": f"{stubs}:/usr/bin:/bin"},
            capture_output=True,
            check=True,
            timeout=10,
        ).stdout.decode()
        final = out.split("\0")[:-1]
        # paths of the image are the repository's paths here
        return [a.replace(str(REPO), IMAGE_APP_DIR) for a in final]

    return resolve


def test_entrypoint_is_an_executable_shell_script():
    assert os.access(ENTRYPOINT, os.X_OK), "deploy/docker-entrypoint.sh must be executable"
    assert ENTRYPOINT.read_text().startswith("#!/bin/sh")
    subprocess.run(["sh", "-n", str(ENTRYPOINT)], check=True)


def test_entrypoint_dispatch(resolve_entrypoint):
    conf = f"{IMAGE_APP_DIR}/deploy/gunicorn.conf.py"
    assert resolve_entrypoint([]) == [
        "gunicorn", "--config", conf, "platform_app.wsgi:application",
    ]  # fmt: skip
    assert resolve_entrypoint(["web"])[0] == "gunicorn"
    assert resolve_entrypoint(["migrate"]) == [
        "python", f"{IMAGE_APP_DIR}/manage.py", "migrate", "--noinput",
    ]  # fmt: skip
    assert resolve_entrypoint(["worker", "-c", "2"])[:4] == [
        "celery",
        "-A",
        "platform_app",
        "worker",
    ]
    beat = resolve_entrypoint(["beat"])
    assert beat[:4] == ["celery", "-A", "platform_app", "beat"]
    assert beat[beat.index("--schedule") + 1].startswith("/tmp/"), "beat needs a writable file"
    assert resolve_entrypoint(["manage", "check"])[2:] == ["check"]
    assert resolve_entrypoint(["celery", "--version"]) == ["celery", "--version"]


# ---- every command run exists in the project -------------------------------------------


def image_path(path: str) -> Path:
    assert path.startswith(IMAGE_APP_DIR + "/"), f"{path}: not under the image's {IMAGE_APP_DIR}"
    return REPO / path[len(IMAGE_APP_DIR) + 1 :]


def check_gunicorn(where: str, argv: list[str]) -> None:
    conf = image_path(argv[argv.index("--config") + 1])
    assert conf == DEPLOY / "gunicorn.conf.py" and conf.is_file(), where
    [app] = [a for a in argv[1:] if not a.startswith("-") and a != argv[argv.index("--config") + 1]]
    module, _, attr = app.partition(":")
    assert module == "platform_app.wsgi" and attr == "application", where
    # The module itself is imported by test_gunicorn_serves_with_the_deploy_config.
    assert (REPO / "platform_app" / "wsgi.py").is_file()


def check_celery(where: str, argv: list[str]) -> None:
    assert argv[1:3] == ["-A", "platform_app"], f"{where}: {argv}"
    assert argv[3] in {"worker", "beat", "inspect"}, f"{where}: {argv}"
    # click rejects unknown subcommands and options before --help is handled; -A imports
    # the app (settings included).
    result = subprocess.run(
        [str(BIN / "celery"), *argv[1:], "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, f"{where}: {argv}\n{result.stderr}"


def check_manage(where: str, argv: list[str]) -> None:
    from django.core.management import get_commands, load_command_class

    assert image_path(argv[1]) == REPO / "manage.py" and (REPO / "manage.py").is_file()
    name, options = argv[2], argv[3:]
    commands = get_commands()
    assert name in commands, f"{where}: manage.py has no command {name!r}"
    command = load_command_class(commands[name], name)
    command.create_parser("manage.py", name).parse_args(options)  # exits on unknown options


def check_command(where: str, argv: list[str]) -> None:
    program = argv[0]
    if program == "gunicorn":
        check_gunicorn(where, argv)
    elif program == "celery":
        check_celery(where, argv)
    elif program == "python" and argv[1:2] != ["-c"]:
        check_manage(where, argv)
    elif program == "python":
        compile(argv[2], where, "exec")
    else:
        raise AssertionError(f"{where}: unexpected program {argv}")


def test_every_container_command_exists(resolve_entrypoint):
    commands = container_commands()
    assert len(commands) >= 4 + 4  # compose: migrate web worker beat; k8s: the same
    for where, argv in commands:
        check_command(where, resolve_entrypoint(argv))


def test_every_probe_command_exists():
    commands = probe_commands()
    assert any("worker" in where for where, _ in commands), "workers need a liveness check"
    for where, argv in commands:
        check_command(where, argv)


def test_celery_app_is_importable_as_minus_a():
    from platform_app.celery import app

    assert app.main == "platform_app"


def test_migrate_runs_before_the_rest_in_compose():
    services = load_compose()["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("web", "worker", "beat"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }, name
    assert {"postgres", "redis"} <= services.keys()
    assert services["postgres"]["image"] == "postgres:15"
    assert services["redis"]["image"] == "redis:7"


def test_dockerfile_builds_a_multi_stage_non_root_image():
    lines = dockerfile_lines()
    froms = [ln for ln in lines if ln.startswith("FROM ")]
    assert len(froms) >= 2, "builder + runtime stages"
    assert re.search(r"python:3\.11-slim", (DEPLOY / "Dockerfile").read_text())
    users = [ln.split()[1] for ln in lines if ln.startswith("USER ")]
    assert users and users[-1].split(":")[0] not in {"root", "0"}
    assert any("collectstatic" in ln for ln in lines if ln.startswith("RUN "))
    [entry] = [ln for ln in lines if ln.startswith("ENTRYPOINT ")]
    assert json.loads(entry[len("ENTRYPOINT ") :]) == [
        f"{IMAGE_APP_DIR}/deploy/docker-entrypoint.sh"
    ]
    ignored = [
        ln.strip()
        for ln in (REPO / ".dockerignore").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert {".env", ".git", ".venv", "var"} <= set(ignored)
    for line in lines:
        if not line.startswith("COPY ") or "--from=" in line:
            continue
        for src in line.split()[1:-1]:
            assert (REPO / src).exists(), f"Dockerfile copies missing {src}"
            hit = [p for p in ignored if not p.startswith("!") and fnmatch(src, p)]
            assert not hit, f".dockerignore drops {src}, which the Dockerfile copies"


def test_the_wheel_ships_every_file_of_the_packages(tmp_path):
    """The image installs the project's wheel: templates missing from it would only show up
    as TemplateDoesNotExist in production."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "pyproject.toml").write_text((REPO / "pyproject.toml").read_text())
    packages = PACKAGES
    expected = set()
    for package in packages:
        for path in (REPO / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                rel = path.relative_to(REPO)
                expected.add(rel.as_posix())
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                (src / rel).write_bytes(path.read_bytes())
    result = subprocess.run(
        [str(BIN / "pip"), "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path), "."],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=240,
    )
    if result.returncode != 0 and re.search(r"connection|resolve|network", result.stderr, re.I):
        pytest.skip(f"no package index to build the wheel: {result.stderr[-300:]}")
    assert result.returncode == 0, result.stderr
    [wheel] = tmp_path.glob("*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(expected - shipped)
    assert not missing, f"not in the wheel (pyproject [tool.setuptools.package-data]): {missing}"


# ---- variables -----------------------------------------------------------------------

VAR_LINE = re.compile(r"^(#\s?)?([A-Z][A-Z0-9_]*)=(.*)$")
INTERPOLATION = re.compile(r"\$\{([A-Z][A-Z0-9_]*)(?:[:?\-+][^}]*)?\}")


def env_example() -> dict[str, dict]:
    """NAME -> {value, set (uncommented), required (marked [required in production])}."""
    found: dict[str, dict] = {}
    required = False
    for line in (REPO / ".env.example").read_text().splitlines():
        if not line.strip():
            required = False
            continue
        match = VAR_LINE.match(line)
        if match:
            commented, name, value = match.groups()
            assert name not in found, f".env.example lists {name} twice"
            found[name] = {"value": value, "set": not commented, "required": required}
            required = False  # each required variable carries its own marker
        elif "[required in production]" in line:
            required = True
    return found


def settings_reads() -> set[str]:
    """Every variable platform_app/settings reads through django-environ."""
    names = set()
    for path in (REPO / "platform_app" / "settings").glob("*.py"):
        names |= set(re.findall(r"\benv\.\w+\(\s*\"([A-Z][A-Z0-9_]*)\"", path.read_text()))
    assert {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS", "DATABASE_URL"} <= names
    return names


def os_environ_reads() -> set[str]:
    """Variables project code reads straight from os.environ (e.g. PROMETHEUS_MULTIPROC_DIR)."""
    names = set()
    pattern = re.compile(r"os\.environ(?:\.get\(|\[)\s*\"([A-Z][A-Z0-9_]*)\"")
    for package in PACKAGES:
        for path in (REPO / package).rglob("*.py"):
            names |= set(pattern.findall(path.read_text()))
    return names


def gunicorn_reads() -> set[str]:
    text = (DEPLOY / "gunicorn.conf.py").read_text()
    return set(
        re.findall(r"(?:_env_int\(|os\.environ\.(?:get|setdefault)\()\s*\"([A-Z0-9_]+)\"", text)
    )


def compose_references() -> set[str]:
    compose = load_compose()
    names = set(INTERPOLATION.findall((DEPLOY / "docker-compose.yml").read_text()))
    for svc in app_services(compose).values():
        names |= set(svc.get("environment", {}))
    return names


def k8s_references() -> set[str]:
    names = set()
    for _, doc in load_manifests():
        if doc["kind"] == "ConfigMap":
            names |= set(doc["data"])
        elif doc["kind"] == "Secret":
            names |= set(doc.get("stringData", {})) | set(doc.get("data", {}))
        elif doc["kind"] in {"Deployment", "Job"}:
            for container in pod_spec(doc)["containers"]:
                names |= {e["name"] for e in container.get("env", [])}
    return names


SPEC_SECTION_3 = {
    "DJANGO_SECRET_KEY", "DJANGO_DEBUG", "DJANGO_ALLOWED_HOSTS", "PUBLIC_BASE_URL",
    "DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "WECHAT_COMPONENT_APPID",
    "WECHAT_COMPONENT_APPSECRET", "WECHAT_COMPONENT_TOKEN", "WECHAT_COMPONENT_ENCODING_AES_KEY",
    "WECHAT_API_BASE", "WECHAT_MP_BASE", "FIELD_ENCRYPTION_KEYS",
}  # fmt: skip


def test_env_example_lists_spec_and_every_setting():
    documented = set(env_example())
    assert not SPEC_SECTION_3 - documented, "SPEC section 3 variables missing"
    missing = settings_reads() - documented
    assert not missing, f"read by platform_app/settings but not in .env.example: {missing}"


def test_every_variable_compose_k8s_and_gunicorn_use_is_documented():
    documented = set(env_example())
    for source, names in {
        "docker-compose.yml": compose_references(),
        "k8s/": k8s_references(),
        "gunicorn.conf.py": gunicorn_reads(),
    }.items():
        undocumented = names - documented
        assert not undocumented, (
            f"{source} uses variables .env.example does not list: {undocumented}"
        )


def test_every_documented_variable_is_read_by_something():
    used = (
        settings_reads()
        | os_environ_reads()
        | gunicorn_reads()
        | compose_references()
        | k8s_references()
    )
    unused = set(env_example()) - used
    assert not unused, f".env.example lists variables nothing reads: {unused}"


def test_production_required_variables_are_marked_and_configured_in_k8s():
    documented = env_example()
    required = {name for name, v in documented.items() if v["required"]}
    assert {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"} <= required
    assert {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"} <= required
    missing = required - k8s_references()
    assert not missing, f"required in production but absent from the k8s config: {missing}"
    [(_, secret)] = manifests_of("Secret")
    assert {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"} <= set(secret["stringData"])
    [(_, config)] = manifests_of("ConfigMap")
    assert not {"DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"} & set(config["data"])


# ---- manifests -----------------------------------------------------------------------


def test_manifests_parse_and_are_namespace_free():
    docs = load_manifests()
    kinds = {doc["kind"] for _, doc in docs}
    assert {"ConfigMap", "Secret", "Deployment", "Service", "Job"} <= kinds
    for file, doc in docs:
        assert doc.get("apiVersion") and doc["metadata"].get("name"), file
        assert "namespace" not in doc["metadata"], f"{file}: leave the namespace to kubectl -n"
    names = {doc["metadata"]["name"] for _, doc in manifests_of("Deployment")}
    assert names == {
        "wechat-tag-service-web",
        "wechat-tag-service-worker",
        "wechat-tag-service-beat",
    }


def test_web_probes_target_healthz_and_readyz():
    from django.urls import resolve

    [container] = pod_spec(workload("wechat-tag-service-web"))["containers"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    paths = [
        container[probe]["httpGet"]["path"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe")
        if probe in container
    ]
    compose_test = " ".join(load_compose()["services"]["web"]["healthcheck"]["test"])
    paths += re.findall(r"/(?:healthz|readyz)\b", compose_test)
    for path in paths:
        assert resolve(path).url_name == PROBE_PATHS[path], path
    port = container["readinessProbe"]["httpGet"]["port"]
    assert port in {p["name"] for p in container["ports"]}
    [(_, service)] = manifests_of("Service")
    assert (
        service["spec"]["selector"]
        == workload("wechat-tag-service-web")["spec"]["selector"]["matchLabels"]
    )
    assert service["spec"]["ports"][0]["targetPort"] == port


@pytest.mark.django_db
def test_probe_requests_pass_the_production_host_and_https_guards(client, settings):
    """Django would answer the kubelet's plain-HTTP, pod-IP request with 400 or 301: the
    probes send the headers that get them to the views."""
    [(_, config)] = manifests_of("ConfigMap")
    settings.ALLOWED_HOSTS = config["data"]["DJANGO_ALLOWED_HOSTS"].split(",")
    settings.SECURE_SSL_REDIRECT = True
    [container] = pod_spec(workload("wechat-tag-service-web"))["containers"]
    for probe in ("livenessProbe", "readinessProbe"):
        get = container[probe]["httpGet"]
        headers = {h["name"]: h["value"] for h in get["httpHeaders"]}
        response = client.get(
            get["path"],
            headers={k: v for k, v in headers.items() if k != "Host"},
            HTTP_HOST=headers["Host"],
        )
        # readyz may say 503 if a service is down here; what matters is the view answered
        assert response.status_code in {200, 503}, (probe, response.status_code)
        assert response["Content-Type"] == "application/json"
    assert response.status_code == 200 or "checks" in response.json()


def test_the_public_ingress_routes_the_product_but_never_metrics_or_probes():
    """/metrics (and the probes) answer any Host, before Django's host check: Prometheus'
    convention is a scrape on the pods' internal address, so the ingress must not route
    them, while every path of the product stays reachable."""
    from django.urls import get_resolver

    [(_, ingress)] = manifests_of("Ingress")
    assert "defaultBackend" not in ingress["spec"]
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    [(_, service)] = manifests_of("Service")
    for path in paths:
        assert path["pathType"] in {"Prefix", "Exact"}, path
        backend = path["backend"]["service"]
        assert backend["name"] == service["metadata"]["name"]
        assert backend["port"]["name"] == service["spec"]["ports"][0]["name"]

    def routed(url: str) -> bool:
        for path in paths:
            prefix = path["path"].rstrip("/")
            if url == path["path"] or (
                path["pathType"] == "Prefix" and (url == prefix or url.startswith(prefix + "/"))
            ):
                return True
        return False

    # The token center lends tokens to the provider's own services: inside the cluster only;
    # the demo's webhook inbox answers 404 unless DJANGO_DEBUG.
    internal_only = {
        **PROBE_PATHS,
        "/metrics": "metrics",
        "/internal/": "token center",
        "/demo/webhook-inbox/": "make run's demo",
    }
    for internal in internal_only:
        assert not routed(internal), internal
    product = [
        "/" + str(p.pattern)
        for p in get_resolver().url_patterns
        if "/" + str(p.pattern) not in internal_only
    ]
    for url in [*product, "/static/admin/css/base.css", "/api/v1/authorizers/"]:
        assert routed(url), url


def test_the_production_checklist_names_the_metrics_token():
    readme = (REPO / "README.md").read_text()
    checklist = readme.split("### Mandatory settings", 1)[1].split("\n### ", 1)[0]
    assert "METRICS_BEARER_TOKEN" in checklist
    assert "deploy/k8s/ingress.yaml" in checklist


def test_beat_runs_exactly_once():
    beat = workload("wechat-tag-service-beat")
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"]["type"] == "Recreate"
    for _, hpa in manifests_of("HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] != "wechat-tag-service-beat"
    compose_beat = load_compose()["services"]["beat"]
    assert compose_beat.get("deploy", {}).get("replicas", 1) == 1
    assert compose_beat.get("scale", 1) == 1
    beats = [argv for _, argv in container_commands() if "beat" in argv]
    assert len(beats) == 2  # one in compose, one in k8s


def test_containers_run_non_root_on_a_read_only_root():
    for file, doc in load_manifests():
        if doc["kind"] not in {"Deployment", "Job"}:
            continue
        spec = pod_spec(doc)
        assert spec["securityContext"]["runAsNonRoot"] is True, file
        assert spec["securityContext"]["runAsUser"] != 0, file
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for container in spec["containers"]:
            ctx = container["securityContext"]
            assert ctx["readOnlyRootFilesystem"] is True, file
            assert ctx["allowPrivilegeEscalation"] is False, file
            assert ctx.get("runAsUser", 1) != 0, file
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], file
            assert container["resources"]["requests"] and container["resources"]["limits"], file
    [web] = pod_spec(workload("wechat-tag-service-web"))["containers"]
    env = {e["name"]: e.get("value") for e in web.get("env", [])}
    mounts = {m["mountPath"] for m in web["volumeMounts"]}
    assert env["PROMETHEUS_MULTIPROC_DIR"] in mounts, "the metrics directory must be writable"
    for name, svc in app_services(load_compose()).items():
        assert svc.get("user", "10001") not in {"root", "0"}, name


def test_worker_scales_and_shuts_down_warm():
    worker = workload("wechat-tag-service-worker")
    spec = pod_spec(worker)
    assert spec["terminationGracePeriodSeconds"] > 90  # CELERY_TASK_TIME_LIMIT default
    [container] = spec["containers"]
    probe = " ".join(container["livenessProbe"]["exec"]["command"])
    assert "inspect ping" in probe and "$HOSTNAME" in probe
    assert any(
        hpa["spec"]["scaleTargetRef"]["name"] == "wechat-tag-service-worker"
        for _, hpa in manifests_of("HorizontalPodAutoscaler")
    )


# ---- gunicorn, for real --------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def production_env(**extra: str) -> dict[str, str]:
    """This process's environment minus every documented variable, plus production values."""
    documented = set(env_example())
    # DJANGO_ALLOW_ASYNC_UNSAFE is the browser tests' (in-process live server), not production's.
    skipped = documented | {"DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in skipped}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        # the platform's own WeChat credentials: the production guard refuses the demo ones
        WECHAT_COMPONENT_APPID="wx" + secrets.token_hex(8),
        WECHAT_COMPONENT_APPSECRET=secrets.token_hex(16),
        WECHAT_COMPONENT_TOKEN=secrets.token_hex(8),
        WECHAT_COMPONENT_ENCODING_AES_KEY=secrets.token_urlsafe(33)[:43],
    )
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL", "TEST_DATABASE_NAME"):
        if key in os.environ:
            env[key] = os.environ[key]
    if env.get("DATABASE_URL", "sqlite").startswith("sqlite"):
        env["ALLOW_SQLITE_IN_PRODUCTION"] = "1"  # this machine has no PostgreSQL running
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def test_gunicorn_serves_with_the_deploy_config(tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_99999999.db").write_bytes(b"stale from a previous run")
    port = free_port()
    env = production_env(
        PORT=str(port),
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="2",
        PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
        DJANGO_ALLOWED_HOSTS="localhost,127.0.0.1",
    )
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "--config",
                str(DEPLOY / "gunicorn.conf.py"),
                "platform_app.wsgi:application",
            ],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        assert not (metrics_dir / "counter_99999999.db").exists(), "stale metrics not cleared"
        for _ in range(6):
            urllib.request.urlopen(f"{base}/healthz?token=SECRET-IN-QUERY", timeout=5)
        body = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
        counted = re.findall(r'http_requests_total\{[^}]*route="healthz"[^}]*\} (\S+)', body)
        assert counted and sum(float(v) for v in counted) >= 7, body[:2000]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    text = log.read_text()
    assert server.returncode == 0, text
    assert "SECRET-IN-QUERY" not in text, "access log must not contain query strings"
    access = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
    access = [rec for rec in access if rec.get("logger") == "gunicorn.access"]
    assert {rec["path"] for rec in access} >= {"/healthz", "/metrics"}
    assert all(rec["status"] == 200 and rec["request_id"] for rec in access), access


def test_gunicorn_child_exit_drops_the_dead_workers_live_gauges(tmp_path, monkeypatch):
    import runpy

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    conf = runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))
    assert conf["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "gauge_livesum_4343.db").write_bytes(b"")
    conf["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gauge_livesum_4343.db"]
    assert conf["workers"] >= 1 and conf["worker_class"] == "gthread"
    assert conf["graceful_timeout"] < conf["timeout"]
    assert conf["control_socket_disable"] is True  # its default lives under the read-only $HOME
    web = pod_spec(workload("wechat-tag-service-web"))
    assert web["terminationGracePeriodSeconds"] > conf["graceful_timeout"] + 5


# ---- the production guard and `check --deploy` -----------------------------------------


def run_python(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "missing",
    [
        ["DJANGO_SECRET_KEY"],
        ["FIELD_ENCRYPTION_KEYS"],
        ["DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"],
    ],
)
def test_production_refuses_development_secrets(missing):
    env = production_env()
    for key in missing:
        del env[key]
    result = run_python(["-c", "import platform_app.wsgi"], env)
    assert result.returncode != 0
    assert "Refusing to start" in result.stderr, result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr and "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_production_starts_with_real_secrets():
    result = run_python(["-c", "import platform_app.wsgi"], production_env())
    assert result.returncode == 0, result.stderr
    assert "RuntimeWarning" not in result.stderr, result.stderr


def documented_production_values() -> dict[str, str]:
    return {name: v["value"] for name, v in env_example().items() if v["set"]}


def k8s_production_values() -> dict[str, str]:
    [(_, config)] = manifests_of("ConfigMap")
    return dict(config["data"])


@pytest.mark.parametrize("source", [documented_production_values, k8s_production_values])
def test_check_deploy_is_clean_with_the_documented_production_values(source):
    values = source()
    for secret in ("DJANGO_SECRET_KEY", "FIELD_ENCRYPTION_KEYS"):
        values.pop(secret, None)  # placeholders: production_env() supplies real ones
    # the data stores of this machine (check --deploy does not connect, but settings parse them)
    for key in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"):
        values.pop(key, None)
    env = production_env(**values)
    result = run_python(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout, result.stdout + result.stderr
