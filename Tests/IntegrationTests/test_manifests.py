"""The Kubernetes manifests of Scripts/router (kubectl apply -k Scripts/router), which cannot be run
here: every resource, and the ConfigMap kustomize would generate, valid against the Kubernetes API
schema (kubernetes-validate, strict), and the settings that must agree with kimi-serve's."""
import pathlib

import kubernetes_validate
import pytest
import yaml

from conftest import ROOT

ROUTER = ROOT / "Scripts" / "router"


def documents():
    kustomization = yaml.safe_load((ROUTER / "kustomization.yaml").read_text())
    docs = [doc for path in kustomization["resources"] for doc in yaml.safe_load_all((ROUTER / path).read_text())]
    for generator in kustomization["configMapGenerator"]:
        data = {}
        for entry in generator["files"]:
            key, _, path = entry.partition("=") if "=" in entry else (pathlib.Path(entry).name, "", entry)
            data[key] = (ROUTER / path).read_text()
        docs.append({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": generator["name"]}, "data": data})
    return docs


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_valid_against_the_kubernetes_schema(doc):
    kubernetes_validate.validate(doc, kubernetes_validate.latest_version(), strict=True)


def test_settings_agree_with_kimi_serve():
    docs = {(d["kind"], d["metadata"]["name"]): d for d in documents()}
    pod = docs[("StatefulSet", "kimi-serve")]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    args = dict(a[2:].split("=", 1) for a in container["args"] if a.startswith("--"))
    # The grace period covers the preStop sleep, the drain and the last events.
    drain = float(args["shutdown-timeout"])
    assert pod["terminationGracePeriodSeconds"] >= container["lifecycle"]["preStop"]["sleep"]["seconds"] + drain + 5
    port = int(args["port"])
    assert container["ports"][0]["containerPort"] == port
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["path"] == "/health"
    assert any(m["readOnly"] and args["model"].startswith(m["mountPath"]) for m in container["volumeMounts"])
    assert container["resources"]["requests"]["memory"] == container["resources"]["limits"]["memory"]
    # The router reaches the replicas on that port through the headless Service, with the
    # shipped nginx configuration mounted where nginx includes it.
    assert docs[("Service", "kimi-serve")]["spec"]["clusterIP"] == "None"
    upstream = docs[("ConfigMap", "kimi-router")]["data"]["kimi-replicas.upstream"]
    assert f"server kimi-serve.default.svc.cluster.local:{port} " in upstream
    assert "include conf.d/kimi-replicas.upstream;" in docs[("ConfigMap", "kimi-router")]["data"]["kimi-serve.nginx.conf"]
    router = docs[("Deployment", "kimi-router")]["spec"]["template"]["spec"]
    assert router["volumes"][0]["configMap"]["name"] == "kimi-router"
    assert router["containers"][0]["volumeMounts"][0]["mountPath"] == "/etc/nginx/conf.d"
