"""bench/hotpath --topology prod: it runs deploy/'s own nginx configuration, and behind that
nginx each of the bench's new readers is still a client network of its own. The bench is
not part of the product, so it is loaded from bench/ by path."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

from masthead.access.client_ip import client_ip

BENCH = Path(__file__).resolve().parents[2] / "bench"


def load_hotpath():
    sys.path.insert(0, str(BENCH))  # hotpath imports harness and servers beside it
    try:
        spec = importlib.util.spec_from_file_location("bench_hotpath", BENCH / "hotpath.py")
        module = importlib.util.module_from_spec(spec)
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
