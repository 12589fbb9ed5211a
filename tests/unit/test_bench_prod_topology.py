"""bench/hotpath --topology prod: it runs deploy/'s own nginx configuration, and behind that
nginx each of the bench's new readers is still a client network of its own. The bench is
not part of the product, so it is loaded from bench/ by path."""

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

from masthead.access.client_ip import client_ip

BENCH = Path(__file__).resolve().parents[2] / "bench"
RENDER = BENCH.parent / "deploy" / "nginx" / "render.sh"


def load_hotpath():
    sys.path.insert(0, str(BENCH))  # hotpath imports harness and servers beside it
    try:
        spec = importlib.util.spec_from_file_location("bench_hotpath", BENCH / "hotpath.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up there
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(BENCH))
    return module


hotpath = load_hotpath()


def test_deploys_nginx_template_is_filled_in_for_the_bench(tmp_path):
    # given as many app servers as deploy/'s nginx has upstreams
    ports = [18000 + n for n in range(hotpath.prod_app_servers())]

    # when
    hotpath.prod_nginx_conf(tmp_path, ports)

    # then no placeholder is left and each app server is an upstream
    conf = (tmp_path / "nginx.conf").read_text()
    assert ports and not re.findall(r"@[A-Z0-9_]+@", conf)
    for port in ports:
        assert f"server 127.0.0.1:{port} " in conf
    assert "include snippets/masthead-locations.conf;" in conf
    assert (tmp_path / "snippets" / "masthead-proxy.conf").exists()
    if Path(hotpath.NGINX).exists():
        test = [hotpath.NGINX, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")]
        result = subprocess.run(
            [*test, "-e", str(tmp_path / "error.log")], capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr


def render(conf_dir, *ports, modules_dir):
    env = {**os.environ, "NGINX_MODULES_DIR": str(modules_dir)}
    command = [RENDER, conf_dir, "/srv/nginx", "/srv/var", "8080", *map(str, ports)]
    return subprocess.run(command, env=env, capture_output=True, text=True)


def test_render_loads_brotli_only_where_its_modules_are(tmp_path):
    # given one machine with nginx's brotli modules and one without
    with_brotli, without = tmp_path / "with", tmp_path / "without"
    with_brotli.mkdir()
    without.mkdir()
    for name in ("brotli_filter", "brotli_static"):
        (with_brotli / f"ngx_http_{name}_module.so").touch()

    # when deploy/prod.sh's configuration is rendered on each
    assert render(tmp_path / "a", 8001, 8002, modules_dir=with_brotli).returncode == 0
    assert render(tmp_path / "b", 8001, 8002, modules_dir=without).returncode == 0

    # then both modules are loaded and included only where they exist
    conf = (tmp_path / "a" / "nginx.conf").read_text()
    assert f"load_module {with_brotli}/ngx_http_brotli_static_module.so;" in conf
    assert "include snippets/masthead-brotli.conf;" in conf
    plain = (tmp_path / "b" / "nginx.conf").read_text()
    assert "load_module" not in plain and "masthead-brotli" not in plain
    assert "pid /srv/nginx/nginx.pid;" in plain and "server 127.0.0.1:8002 " in plain


def test_render_refuses_an_upstream_left_without_a_port(tmp_path):
    # when deploy/'s two upstreams are given one port
    result = render(tmp_path / "conf", 8001, modules_dir=tmp_path)

    # then nothing is written and the missing placeholder is named
    assert result.returncode == 1
    assert "@APP_PORT_2@" in result.stderr
    assert not (tmp_path / "conf" / "nginx.conf").exists()


def test_behind_deploys_nginx_each_bench_reader_is_a_network_of_its_own():
    # given nginx appends its peer, wrk on 127.0.0.1, to what wrk sent
    proxy = (BENCH.parent / "deploy" / "nginx" / "snippets" / "masthead-proxy.conf").read_text()
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in proxy
    hops = int(hotpath.PROD_ENV["MASTHEAD_TRUSTED_PROXY_HOPS"])

    # when two readers' requests reach the app
    seen = [
        client_ip("127.0.0.1", f"{reader}, 127.0.0.1", hops) for reader in ("10.0.0.1", "10.0.0.2")
    ]

    # then each is the address wrk sent, not nginx's peer (deploy/'s one hop would give
    # 127.0.0.1 for both: one network, past the cookieless bounds after 20 readers)
    assert seen == ["10.0.0.1", "10.0.0.2"]
    assert client_ip("127.0.0.1", "10.0.0.1, 127.0.0.1", 1) == "127.0.0.1"
